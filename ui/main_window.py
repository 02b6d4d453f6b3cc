"""The station's main window: it only assembles the screens (sign-in, pack, pick, counter, search,
print jobs, scanner check, sync conflicts, exceptions), the status bar, the one database worker
and — with a central database — the sync worker, and routes scans to the screen that is active."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QWidget,
)

from app.bootstrap import StationContext
from app.domain.roles import Permission, Role, allows
from app.scanning.rules import StationCodes
from app.services import outbox, print_jobs, settings
from app.services.bench import PackBench
from app.services.counter.till import Till
from app.services.picking.session import PickSession
from app.services.picking.sorting import SortingBench
from app.services.picking.work import PickWork, PickWorkRequest, create_pick_work
from app.services.scan_check import CheckResult, check_scan
from app.services.views import OperatorView
from ui.camera_preview import CameraFeed, CameraPreview
from ui.feedback import Sounds
from ui.ops import DbOp, DbWorker
from ui.print_runner import PrintRunner
from ui.screens.conflicts import ConflictsScreen
from ui.screens.counter import CounterScreen
from ui.screens.exceptions import ExceptionsScreen
from ui.screens.new_rma import NewRmaScreen
from ui.screens.pack import PackScreen
from ui.screens.pick import PickScreen
from ui.screens.pick_work import PickWorkScreen
from ui.screens.print_journal import PrintJournalScreen
from ui.screens.printer_setup import PrinterSetupScreen
from ui.screens.returns import ReturnsScreen
from ui.screens.scanner_check import ScannerCheckScreen
from ui.screens.search import SearchScreen
from ui.screens.signin import SignInScreen
from ui.serial_input import SerialInput
from ui.status_bar import StationStatusBar
from ui.sync_runner import SyncRunner
from ui.theme import colors
from ui.widgets import ElidedLabel

log = logging.getLogger(__name__)
SOUNDS_AFTER_SHOW_MS = 300  # QtMultimedia loads after the first paint, not before
CHECKPOINT_IDLE_MS = 2000
WARM_UP_AFTER_SHOW_MS = 200
CHECKPOINT_AT_LEAST_S = 60.0


class MainWindow(QMainWindow):
    """Signals:
    ready(): the sign-in screen is on screen and a badge scan is accepted.
    """

    ready = Signal()

    def __init__(
        self,
        ctx: StationContext,
        *,
        print_due: Callable[[], int],
        recover_prints: Callable[[], int],
        sounds: Sounds | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        config = ctx.config
        self.setWindowTitle(self.tr("Waystation — {station}").format(station=ctx.station_name))
        self.worker = DbWorker(self)
        # SQLite's write-ahead log is folded into the database file when the bench has been
        # quiet for a moment, never inside a scan's commit.
        self._checkpoint = QTimer(self)
        self._checkpoint.setSingleShot(True)
        self._checkpoint.setInterval(CHECKPOINT_IDLE_MS)
        self._checkpoint.timeout.connect(self._fold_log)
        self._last_checkpoint = time.monotonic()
        self._folding = False
        self.worker.idle_changed.connect(self._worker_idle)
        self.sounds = sounds or Sounds(config.sounds, self)
        self._operator: OperatorView | None = None
        self._shown_once = False
        self.wedge: QObject | None = None
        self.camera: CameraFeed | None = None
        self.serial: SerialInput | None = None
        self.codes = StationCodes.from_config(config.codes)
        self._camera_dock: QDockWidget | None = None
        # With a central database: the sync worker (its own thread), started once on screen.
        self.sync = SyncRunner(config, self) if config.central is not None else None
        self._sync_counts: tuple[int, int, int] | None = None

        def uow() -> Any:  # a UnitOfWork (app.store stays out of ui)
            return ctx.uow(self._operator)

        def bench_for(operator: OperatorView) -> PackBench:
            conf = ctx.config
            label = conf.printers.get("shipping_label")
            # The pack bench, with batch totes from picking sorted to their orders.
            return SortingBench(
                ctx.uow,
                operator,
                conf.scanner.gs_replacement,
                conf.sscc_block,
                labels=label is not None,
                label_on_last_scan=label is not None and label.label_on_last_scan,
                codes=self.codes,
                claims=self.sync.claim if self.sync is not None else None,
            )

        def read_counts() -> tuple[int, list[print_jobs.WaitingSummary]]:
            with ctx.uow() as u:
                return outbox.count_pending(u), print_jobs.waiting_summary(u)

        self.signin = SignInScreen(
            uow,
            self.worker,
            self.sounds,
            station_name=ctx.station_name,
            badge_needs_pin=config.badge_needs_pin,
            parent=self,
        )
        self.pack = PackScreen(
            self.worker,
            self.sounds,
            bench_for,
            colors(config.theme),
            parent=self,
        )
        self.search = SearchScreen(
            uow, self.worker, videos=config.camera.video_folder(), parent=self
        )

        def till_for(operator: OperatorView) -> Till:
            return Till(ctx.uow, operator, ctx.config.scanner.gs_replacement)

        self.counter = CounterScreen(
            self.worker, self.sounds, till_for, colors(config.theme), parent=self
        )

        def pick_for(operator: OperatorView) -> PickSession:
            return PickSession(ctx.uow, operator, ctx.config.scanner.gs_replacement)

        self.pick = PickScreen(
            self.worker, self.sounds, pick_for, colors(config.theme), parent=self
        )
        self.returns = _returns_screen(ctx, self.worker, self.sounds, self)
        self.new_rma = _new_rma_screen(ctx, self.worker, self.sounds, self)

        def release(req: PickWorkRequest) -> PickWork:
            with ctx.uow(self._operator) as u:
                return create_pick_work(u, req)

        self.pick_work = PickWorkScreen(self.worker, release, parent=self)

        def render_pdf(job: print_jobs.JobView) -> bytes:
            from printing.queue import render_pdf as render

            return render(ctx, job)

        self.journal = PrintJournalScreen(uow, self.worker, render_pdf, parent=self)
        self.stack = QStackedWidget(self)
        self.printer = PrintRunner(print_due, recover_prints, self)
        self.printers = PrinterSetupScreen(self.printer.run, ctx.station_name, parent=self)

        def check(raw: str, trace: Any) -> CheckResult:
            with ctx.uow() as u:
                return check_scan(u, raw, trace, ctx.config.scanner, self.codes)

        self.scanner_check = ScannerCheckScreen(check, self.worker, self.sounds, parent=self)
        self._before_check: QWidget | None = None
        self.conflicts = ConflictsScreen(uow, self.worker, parent=self)
        self.exceptions = ExceptionsScreen(uow, self.worker, parent=self)
        for screen in (
            self.signin,
            self.pack,
            self.pick,
            self.pick_work,
            self.search,
            self.journal,
            self.printers,
            self.scanner_check,
            self.conflicts,
            self.exceptions,
            self.counter,
            self.returns,
            self.new_rma,
        ):
            self.stack.addWidget(screen)
        self.setCentralWidget(self.stack)
        # The window is as wide as the screen shown (and the camera), not as the widest
        # screen of the stack: a station's monitor may be 1366 px.
        self.stack.currentChanged.connect(self._page_changed)
        self._page_changed()
        self.status = StationStatusBar(
            self.worker,
            read_counts,
            station=ctx.station_name,
            database=ctx.database_label,
            printer=config.printer_for("packing_slip").describe(),
            parent=self,
        )
        self.setStatusBar(self.status)
        # The scanner check, from any screen (signed in or not): F9, or its button down here.
        self.check_button = QToolButton(self)
        self.check_button.setText(self.tr("Scanner check (F9)"))
        self.check_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.check_button.clicked.connect(self.show_scanner_check)
        self.status.addPermanentWidget(self.check_button)
        check_key = QShortcut(QKeySequence("F9"), self)
        check_key.setAutoRepeat(False)
        check_key.activated.connect(self.show_scanner_check)
        self.scanner_check.back_requested.connect(self._leave_scanner_check)

        self.signin.signed_in.connect(self._signed_in)
        self.pack.sign_out_requested.connect(self.sign_out)
        self.pick.sign_out_requested.connect(self.sign_out)
        self.pick.pack_requested.connect(self.show_pack)
        self.pick.work_requested.connect(self.show_pick_work)
        self.pick_work.back_requested.connect(self.show_pick)
        self.pick_work.released.connect(lambda _n: self.printer.kick())
        to_pick = QShortcut(QKeySequence("F2"), self)
        to_pick.setAutoRepeat(False)
        to_pick.activated.connect(self.show_pick)
        self.pack.search_requested.connect(self.show_search)
        self.printer.ran.connect(lambda _printed: self.status.refresh())
        self.pack.order_completed.connect(lambda _number: self.printer.kick())
        self.pack.print_queued.connect(self.printer.kick)
        self.search.back_requested.connect(self.show_pack)
        self.pack.journal_requested.connect(self.show_journal)
        self.journal.back_requested.connect(self.show_pack)
        self.journal.jobs_changed.connect(self.printer.kick)
        self.journal.printers_requested.connect(self.show_printers)
        self.printers.back_requested.connect(self.show_journal)
        self.printers.save_requested.connect(self._save_printers)
        self.printer.ran.connect(lambda _printed: self._journal_ran())
        self.status.conflicts_requested.connect(self.show_conflicts)
        self.status.exceptions_requested.connect(self.show_exceptions)
        for screen in (self.conflicts, self.exceptions):
            screen.back_requested.connect(self.show_pack)
        for keys, slot in (("F12", self.show_conflicts), ("Ctrl+F12", self.show_exceptions)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)
        if self.sync is not None:
            sync = self.sync
            sync.status_changed.connect(self._sync_changed)
            # Every action runs on the database worker: when it falls idle, push what it did.
            self.worker.idle_changed.connect(lambda idle: sync.wake() if idle else None)
            self.exceptions.resolved.connect(sync.wake)
            self.conflicts.acknowledged.connect(sync.wake)
        self.counter.sign_out_requested.connect(self.sign_out)
        self.counter.print_queued.connect(self.printer.kick)
        counter_key = QShortcut(QKeySequence("F11"), self)
        counter_key.setAutoRepeat(False)
        counter_key.activated.connect(self.show_counter)
        self.returns.sign_out_requested.connect(self.sign_out)
        self.returns.print_queued.connect(self.printer.kick)
        self.returns.new_rma_requested.connect(self.show_new_rma)
        self.new_rma.back_requested.connect(self.show_returns)
        self.new_rma.print_queued.connect(self.printer.kick)
        returns_key = QShortcut(QKeySequence("F1"), self)
        returns_key.setAutoRepeat(False)
        returns_key.activated.connect(self.show_returns)

    # --- scans -----------------------------------------------------------------------------

    def install_wedge(self, wedge: QObject, scanned: Any) -> None:
        """Put the wedge filter on the application; its ``scanned`` signal feeds handle_scan."""
        app = QApplication.instance()
        assert app is not None
        self.wedge = wedge
        app.installEventFilter(wedge)
        scanned.connect(self.handle_scan)
        self.scanner_check.watch(wedge)

    def install_serial(self, serial: SerialInput) -> None:
        """A serial scanner: its scans enter handle_scan like a wedge scan; whether it is
        there shows in the status bar; it starts once the window is on screen."""
        self.serial = serial
        self.serial_status = ElidedLabel(self, mode=Qt.TextElideMode.ElideMiddle)
        self.serial_status.setText(self.tr("Scanner {port}").format(port=serial.port))
        self.status.addPermanentWidget(self.serial_status)
        serial.scanned.connect(self.handle_scan)
        serial.status_changed.connect(self._serial_status)
        self.scanner_check.watch(serial)

    def _serial_status(self, connected: bool, words: str) -> None:
        self.serial_status.setToolTip(words)
        self.serial_status.setText(
            self.tr("Scanner {port} ✓").format(port=self.serial.port if self.serial else "")
            if connected
            else words
        )
        alert = "false" if connected else "true"
        self.serial_status.setProperty("alert", alert)
        self.serial_status.style().unpolish(self.serial_status)
        self.serial_status.style().polish(self.serial_status)

    def install_camera(self, feed: CameraFeed, preview: CameraPreview) -> None:
        """A camera that scans: its preview docked at the side; its scans enter handle_scan
        like a wedge scan; it starts once the window is on screen."""
        self.camera = feed
        dock = QDockWidget(self.tr("Camera"), self)
        dock.setObjectName("cameraDock")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setWidget(preview)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self._camera_dock = dock
        self._page_changed()  # the camera steps aside on screens that take no scans
        feed.scanned.connect(self.handle_scan)
        feed.film_failed.connect(lambda words: self.pack.banner.show_message("warn", words))
        self.pack.order_shown.connect(feed.follow_order)
        feed.follow_order(self.pack.order)
        self.returns.set_photo_source(
            lambda: p.frame if (p := feed.preview()) is not None else None, _photo_folder()
        )

    def _page_changed(self) -> None:
        current = self.stack.currentWidget()
        for i in range(self.stack.count()):
            page = self.stack.widget(i)
            policy = QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        if self._camera_dock is not None:
            self._camera_dock.setVisible(current in (self.signin, self.pack))

    def handle_scan(self, code: str) -> None:
        """Every scan enters here (from the wedge filter or the camera): the active workflow
        decides."""
        current = self.stack.currentWidget()
        if current is self.signin:
            self.signin.handle_scan(code)
            return
        if current is self.scanner_check:
            self.scanner_check.handle_scan(code)
            return
        if current is self.exceptions:
            self.exceptions.handle_scan(code)  # a supervisor's badge resolves the chosen one
            return
        if current is self.counter:
            self.counter.handle_scan(code)
            return
        if current is self.returns:
            self.returns.handle_scan(code)
            return
        if current is self.new_rma:
            self.new_rma.handle_scan(code)
            return
        if current in (self.pick, self.pick_work):
            if current is self.pick_work:
                self.show_pick()  # a scan means picking: the form is left as it is
            self.pick.handle_scan(code)
            return
        if current is not self.pack:
            self.show_pack()  # a scan on the search screen is meant for the bench
        self.pack.handle_scan(code)

    # --- navigation ------------------------------------------------------------------------

    def _signed_in(self, operator: OperatorView) -> None:
        self._operator = operator
        self.status.set_operator(operator.name)
        self.pack.start_session(operator)
        roles = {Role(r) for r in operator.roles}
        if allows(roles, Permission.PICK):
            self.pick.start_session(operator)
        if Role.COUNTER_CLERK in roles and not allows(roles, Permission.PACK):
            self.show_counter()  # a counter clerk's station is the till
            return
        if Role.RETURNS_CLERK in roles and not allows(roles, Permission.PACK):
            self.show_returns()  # a returns clerk's station is the returns desk
            return
        if allows(roles, Permission.PICK) and not allows(roles, Permission.PACK):
            self.show_pick()
            return
        self.stack.setCurrentWidget(self.pack)
        self.pack.code.setFocus()

    def show_counter(self) -> None:
        """The shop counter, for operators who may sell (F11 from any screen)."""
        operator = self._operator
        if operator is None or not allows([Role(r) for r in operator.roles], Permission.SELL):
            return
        if self.stack.currentWidget() is not self.counter:
            self.counter.start_session(operator)
        self.stack.setCurrentWidget(self.counter)
        self.counter.code.setFocus()

    def show_returns(self) -> None:
        """The returns desk, for operators who may receive returns (F1 from any screen)."""
        operator = self._operator
        if operator is None or not allows(
            [Role(r) for r in operator.roles], Permission.RECEIVE_RETURN
        ):
            return
        if self.stack.currentWidget() not in (self.returns, self.new_rma):
            self.returns.start_session(operator)  # back from New RMA: the parcel stays open
        self.stack.setCurrentWidget(self.returns)
        self.returns.code.setFocus()

    def show_new_rma(self) -> None:
        """Making an RMA for a customer, from the returns desk (F4 there)."""
        operator = self._operator
        if operator is None or not allows(
            [Role(r) for r in operator.roles], Permission.RECEIVE_RETURN
        ):
            return
        if self.stack.currentWidget() is not self.new_rma:
            self.new_rma.start_session(operator)
        self.stack.setCurrentWidget(self.new_rma)

    def sign_out(self) -> None:
        self._operator = None
        self.counter.end_session()
        self.returns.end_session()
        self.new_rma.end_session()
        self.pack.end_session()
        self.pick.end_session()
        self.status.set_operator(None)
        self.signin.reset()
        self.stack.setCurrentWidget(self.signin)

    def show_pick(self) -> None:
        if self._operator is None:
            return
        if not allows({Role(r) for r in self._operator.roles}, Permission.PICK):
            self.pack.banner.show_message(
                "bad", self.tr("{name} may not pick orders.").format(name=self._operator.name)
            )
            return
        self.stack.setCurrentWidget(self.pick)
        self.pick.code.setFocus()

    def show_pick_work(self) -> None:
        if self._operator is None:
            return
        self.stack.setCurrentWidget(self.pick_work)
        self.pick_work.activate()

    def show_search(self) -> None:
        if self._operator is None:
            return
        self.stack.setCurrentWidget(self.search)
        self.search.activate()

    def show_journal(self) -> None:
        if self._operator is None:
            return
        self.stack.setCurrentWidget(self.journal)
        self.journal.refresh()

    def show_printers(self) -> None:
        if self._operator is None:
            return
        self.stack.setCurrentWidget(self.printers)
        self.printers.load(self.ctx.config)

    def show_scanner_check(self) -> None:
        if self.stack.currentWidget() is self.scanner_check:
            return
        self._before_check = self.stack.currentWidget()
        self.stack.setCurrentWidget(self.scanner_check)
        self.scanner_check.activate()

    def _leave_scanner_check(self) -> None:
        back = self._before_check or self.signin
        if back is not self.signin and self._operator is None:
            back = self.signin  # signed out meanwhile
        self.stack.setCurrentWidget(back)
        if back is self.pack:
            self.pack.code.setFocus()

    def _save_printers(self, printers: dict[str, Any]) -> None:
        ctx, operator = self.ctx, self._operator

        def save() -> Any:
            with ctx.uow(operator) as u:
                return settings.save_printers(u, ctx.config, printers)

        def saved(config: Any) -> None:
            ctx.config = config
            self.status.set_printer(config.printer_for("packing_slip").describe())
            self.printers.saved()
            self.printer.kick()

        DbOp(self.worker, save).success(saved).failure(self.printers.failed).run()

    def show_conflicts(self) -> None:
        if self._operator is None:
            return
        self.stack.setCurrentWidget(self.conflicts)
        self.conflicts.refresh()

    def show_exceptions(self) -> None:
        if self._operator is None:
            return
        self.stack.setCurrentWidget(self.exceptions)
        self.exceptions.refresh()

    def _sync_changed(self) -> None:
        assert self.sync is not None
        status = self.sync.status
        before = self._sync_counts
        self._sync_counts = (status.conflicts, status.exceptions, status.cursor)
        self.status.set_sync(status)
        if before != self._sync_counts:  # new rows may have arrived: the open list re-reads
            current = self.stack.currentWidget()
            if current is self.conflicts:
                self.conflicts.refresh()
            elif current is self.exceptions:
                self.exceptions.refresh()

    def _journal_ran(self) -> None:
        if self.stack.currentWidget() is self.journal:
            self.journal.refresh()

    def show_pack(self) -> None:
        if self._operator is None:
            return
        self.stack.setCurrentWidget(self.pack)
        self.pack.code.setFocus()

    # --- life cycle ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self._became_ready)

    def _became_ready(self) -> None:
        self.signin.load_names()
        self.status.start()
        if self.sync is not None:
            self.sync.start()
        # After the first paint: the print worker starts while the person reaches for their
        # badge. (The GS1 tables load with the first scan, on the database worker.)
        QTimer.singleShot(WARM_UP_AFTER_SHOW_MS, self._warm_up)
        QTimer.singleShot(SOUNDS_AFTER_SHOW_MS, self.sounds.load)
        log.info("station %s ready", self.ctx.station_name)
        self.ready.emit()

    def _worker_idle(self, idle: bool) -> None:
        if not idle:
            self._checkpoint.stop()
        elif self._folding:
            self._folding = False  # the checkpoint itself finished: nothing new to fold
        elif time.monotonic() - self._last_checkpoint > CHECKPOINT_AT_LEAST_S:
            self._fold_log()  # a bench that is never quiet for long still gets its log folded
        else:
            self._checkpoint.start()

    def _fold_log(self) -> None:
        self._last_checkpoint = time.monotonic()
        self._folding = True
        DbOp(self.worker, self.ctx.checkpoint).run()

    def _warm_up(self) -> None:
        self.printer.start()
        if self.serial is not None:
            self.serial.start()
        if self.camera is not None:
            self.camera.start()

    def shutdown(self) -> None:
        """Stop timers and the database worker (finishing the job in hand)."""
        self.status.stop()
        app = QApplication.instance()
        if self.wedge is not None and app is not None:
            app.removeEventFilter(self.wedge)
            self.wedge = None
        self._checkpoint.stop()
        self.printer.stop()
        if self.serial is not None:
            self.serial.stop()
            self.serial = None
        if self.camera is not None:
            self.camera.stop()
            self.camera = None
        if self.sync is not None:
            self.sync.stop()
        self.worker.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)


def _returns_screen(
    ctx: StationContext, worker: DbWorker, sounds: Sounds, parent: QWidget
) -> ReturnsScreen:
    """The returns desk screen with its use cases bound to this station's database."""
    from app.services.returns import reports, resolution
    from app.services.returns.desk import ReturnDesk
    from ui.theme import colors as palette

    def desk_for(operator: OperatorView) -> ReturnDesk:
        return ReturnDesk(lambda: ctx.uow(operator))

    def resolve(operator: OperatorView, rma_id: Any, how: Any) -> Any:
        with ctx.uow(operator) as u:
            return resolution.resolve(u, rma_id, how)

    def report(operator: OperatorView) -> reports.ReturnsReport:
        with ctx.uow(operator) as u:
            return reports.report(u)

    return ReturnsScreen(
        worker, sounds, desk_for, resolve, report, palette(ctx.config.theme), parent=parent
    )


def _new_rma_screen(
    ctx: StationContext, worker: DbWorker, sounds: Sounds, parent: QWidget
) -> NewRmaScreen:
    """The New RMA screen with its use cases bound to this station's database."""
    from app.services.returns import rmas

    def find(operator: OperatorView, code: str) -> Any:
        with ctx.uow(operator) as u:
            return rmas.returnable_order(u, code)

    def create(operator: OperatorView, req: Any, badge: str | None, slip: bool) -> Any:
        with ctx.uow(operator) as u:
            return rmas.create_rma(u, req, badge, print_slip=slip)

    return NewRmaScreen(worker, sounds, find, create, parent=parent)


def _photo_folder() -> Any:
    from app.config import data_dir

    return data_dir()
