"""The station's main window: it only assembles the screens (sign-in, pack, pick, counter, search,
print jobs, scanner check, sync conflicts, exceptions), the status bar, the one database worker
and — with a central database — the sync worker, and routes scans to the screen that is active.

Only the sign-in screen is built with the window; every other screen is built the first time it
is shown or asked for (``window.pack`` builds the pack screen), so neither its module nor the
use cases behind it load before the sign-in screen is on screen."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

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
from ui import screen_factories as screens
from ui.feedback import Sounds
from ui.ops import DbOp, DbWorker
from ui.print_runner import PrintRunner
from ui.screens.signin import SignInScreen
from ui.status_bar import StationStatusBar
from ui.widgets import ElidedLabel

if TYPE_CHECKING:
    from app.services.print_jobs import WaitingSummary
    from app.services.views import OperatorView
    from ui.bench_process import BenchProcess
    from ui.camera_preview import CameraFeed, CameraPreview
    from ui.main import Printing
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
    from ui.serial_input import SerialInput
    from ui.sync_runner import SyncRunner

log = logging.getLogger(__name__)
SOUNDS_AFTER_SHOW_MS = 300  # QtMultimedia loads after the first paint, not before
INPUTS_AFTER_SHOW_MS = 200  # the serial scanner and the camera start after it too
CHECKPOINT_IDLE_MS = 2000
CHECKPOINT_AT_LEAST_S = 60.0
_Screen = TypeVar("_Screen", bound=QWidget)
# Every screen but the sign-in, in the order the window asks for them (tests build them all).
SCREENS = (
    "pack",
    "pick",
    "pick_work",
    "search",
    "journal",
    "printers",
    "scanner_check",
    "conflicts",
    "exceptions",
    "counter",
    "returns",
    "new_rma",
)


class MainWindow(QMainWindow):
    """Signals:
    ready(): the sign-in screen is on screen and a badge scan is accepted.
    """

    ready = Signal()

    def __init__(
        self,
        ctx: StationContext,
        *,
        printing: Printing,
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
        self.sync: SyncRunner | None = None
        if config.central is not None:
            from ui.sync_runner import SyncRunner

            self.sync = SyncRunner(config, self)
        self._sync_counts: tuple[int, int, int] | None = None
        # The pack bench's item scans commit in a process of their own (made with the pack
        # screen, started at sign-in).
        self.bench_process: BenchProcess | None = None

        def read_counts() -> tuple[int, list[WaitingSummary]]:
            from app.services import outbox, print_jobs

            with ctx.uow() as u:
                return outbox.count_pending(u), print_jobs.waiting_summary(u)

        self.signin = SignInScreen(
            self._uow,
            self.worker,
            self.sounds,
            station_name=ctx.station_name,
            badge_needs_pin=config.badge_needs_pin,
            parent=self,
        )
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.signin)
        self._screens: dict[str, QWidget] = {"signin": self.signin}
        self._before_check: QWidget | None = None
        self.printer = PrintRunner(printing.print_due, printing.recover, self, close=printing.close)
        self.print_process = printing.process  # documents are made there, when there is one
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

        self.signin.signed_in.connect(self._signed_in)
        self.printer.ran.connect(lambda _printed: self.status.refresh_soon())
        self.printer.ran.connect(lambda _printed: self._journal_ran())
        self.status.conflicts_requested.connect(self.show_conflicts)
        self.status.exceptions_requested.connect(self.show_exceptions)
        if self.sync is not None:
            sync = self.sync
            sync.status_changed.connect(self._sync_changed)
            # Every action runs on the database worker: when it falls idle, push what it did.
            self.worker.idle_changed.connect(lambda idle: sync.wake() if idle else None)
        # The window's keys, from any screen; each builds its screen when first pressed.
        for keys, slot in (
            ("F9", self.show_scanner_check),
            ("F2", self.show_pick),
            ("F12", self.show_conflicts),
            ("Ctrl+F12", self.show_exceptions),
            ("F11", self.show_counter),
            ("F1", self.show_returns),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)

    def _uow(self) -> Any:  # a UnitOfWork for whoever is signed in (app.store stays out of ui)
        return self.ctx.uow(self._operator)

    # --- screens, each built the first time it is asked for ---------------------------------

    def _screen(self, name: str, build: Callable[[], _Screen]) -> _Screen:
        screen = self._screens.get(name)
        if screen is None:
            started = time.perf_counter()
            screen = build()
            self._screens[name] = screen
            ignored = QSizePolicy.Policy.Ignored  # not shown yet: takes no room (_page_changed)
            screen.setSizePolicy(ignored, ignored)
            self.stack.addWidget(screen)
            log.debug("built the %s screen in %.0f ms", name, (time.perf_counter() - started) * 1e3)
        return screen  # type: ignore[return-value]

    def _built(self, name: str) -> QWidget | None:
        """The screen when it has been built; None otherwise (and it is not built by asking)."""
        return self._screens.get(name)

    def _showing(self, *names: str) -> bool:
        current = self.stack.currentWidget()
        return any(self._screens.get(name) is current for name in names)

    def all_screens(self) -> list[QWidget]:
        """Every screen, the ones not built yet built now (for tests that check them all)."""
        for name in SCREENS:
            getattr(self, name)
        return self._pages()

    def _pages(self) -> list[QWidget]:
        """The pages of the stack: the screens built so far, in the order they were built."""
        pages = (self.stack.widget(i) for i in range(self.stack.count()))
        return [page for page in pages if page is not None]  # None only past the last page

    @property
    def pack(self) -> PackScreen:
        return self._screen("pack", self._build_pack)

    def _build_pack(self) -> PackScreen:
        claims = self.sync.claim if self.sync is not None else None
        if self.ctx.config.bench_process:
            from app.ipc import HostStart
            from ui.bench_process import BenchProcess

            ctx = self.ctx
            start = HostStart(ctx.config, ctx.url, ctx.station_id, ctx.station_name)
            self.bench_process = BenchProcess(start, self)
            self.bench_process.busy_changed.connect(self._bench_busy)
            if self.sync is not None:  # as for the worker: when it falls idle, push its scans
                sync = self.sync
                self.bench_process.busy_changed.connect(lambda busy: None if busy else sync.wake())
        pack = screens.pack_screen(
            self.ctx, self.worker, self.sounds, self.codes, claims, self, self.bench_process
        )
        pack.sign_out_requested.connect(self.sign_out)
        pack.search_requested.connect(self.show_search)
        pack.order_completed.connect(lambda _number: self.printer.kick())
        pack.print_queued.connect(self.printer.kick)
        pack.journal_requested.connect(self.show_journal)
        if self.camera is not None:
            pack.order_shown.connect(self.camera.follow_order)
        if self._operator is not None:
            pack.start_session(self._operator)  # as every operator's is at sign-in
        return pack

    @property
    def pick(self) -> PickScreen:
        return self._screen("pick", self._build_pick)

    def _build_pick(self) -> PickScreen:
        pick = screens.pick_screen(self.ctx, self.worker, self.sounds, self)
        pick.sign_out_requested.connect(self.sign_out)
        pick.pack_requested.connect(self.show_pack)
        pick.work_requested.connect(self.show_pick_work)
        operator = self._operator
        if operator is not None and allows({Role(r) for r in operator.roles}, Permission.PICK):
            pick.start_session(operator)  # as a picker's is at sign-in
        return pick

    @property
    def pick_work(self) -> PickWorkScreen:
        return self._screen("pick_work", self._build_pick_work)

    def _build_pick_work(self) -> PickWorkScreen:
        pick_work = screens.pick_work_screen(self.ctx, lambda: self._operator, self.worker, self)
        pick_work.back_requested.connect(self.show_pick)
        pick_work.released.connect(lambda _n: self.printer.kick())
        return pick_work

    @property
    def search(self) -> SearchScreen:
        return self._screen("search", self._build_search)

    def _build_search(self) -> SearchScreen:
        search = screens.search_screen(self.ctx, self._uow, self.worker, self)
        search.back_requested.connect(self.show_pack)
        return search

    @property
    def journal(self) -> PrintJournalScreen:
        return self._screen("journal", self._build_journal)

    def _build_journal(self) -> PrintJournalScreen:
        journal = screens.journal_screen(self.ctx, self._uow, self.worker, self)
        journal.back_requested.connect(self.show_pack)
        journal.jobs_changed.connect(self.printer.kick)
        journal.printers_requested.connect(self.show_printers)
        return journal

    @property
    def printers(self) -> PrinterSetupScreen:
        return self._screen("printers", self._build_printers)

    def _build_printers(self) -> PrinterSetupScreen:
        printers = screens.printers_screen(self.ctx, self.printer.run, self)
        printers.back_requested.connect(self.show_journal)
        printers.save_requested.connect(self._save_printers)
        return printers

    @property
    def scanner_check(self) -> ScannerCheckScreen:
        return self._screen("scanner_check", self._build_scanner_check)

    def _build_scanner_check(self) -> ScannerCheckScreen:
        check = screens.scanner_check_screen(self.ctx, self.codes, self.worker, self.sounds, self)
        check.back_requested.connect(self._leave_scanner_check)
        for source in (self.wedge, self.serial):
            if source is not None:
                check.watch(source)
        return check

    @property
    def conflicts(self) -> ConflictsScreen:
        return self._screen("conflicts", self._build_conflicts)

    def _build_conflicts(self) -> ConflictsScreen:
        conflicts = screens.conflicts_screen(self._uow, self.worker, self)
        conflicts.back_requested.connect(self.show_pack)
        if self.sync is not None:
            conflicts.acknowledged.connect(self.sync.wake)
        return conflicts

    @property
    def exceptions(self) -> ExceptionsScreen:
        return self._screen("exceptions", self._build_exceptions)

    def _build_exceptions(self) -> ExceptionsScreen:
        exceptions = screens.exceptions_screen(self._uow, self.worker, self)
        exceptions.back_requested.connect(self.show_pack)
        if self.sync is not None:
            exceptions.resolved.connect(self.sync.wake)
        return exceptions

    @property
    def counter(self) -> CounterScreen:
        return self._screen("counter", self._build_counter)

    def _build_counter(self) -> CounterScreen:
        counter = screens.counter_screen(self.ctx, self.worker, self.sounds, self)
        counter.sign_out_requested.connect(self.sign_out)
        counter.print_queued.connect(self.printer.kick)
        return counter

    @property
    def returns(self) -> ReturnsScreen:
        return self._screen("returns", self._build_returns)

    def _build_returns(self) -> ReturnsScreen:
        returns = screens.returns_screen(self.ctx, self.worker, self.sounds, self)
        returns.sign_out_requested.connect(self.sign_out)
        returns.print_queued.connect(self.printer.kick)
        returns.new_rma_requested.connect(self.show_new_rma)
        if self.camera is not None:
            _take_photos(returns, self.camera)
        return returns

    @property
    def new_rma(self) -> NewRmaScreen:
        return self._screen("new_rma", self._build_new_rma)

    def _build_new_rma(self) -> NewRmaScreen:
        new_rma = screens.new_rma_screen(self.ctx, self.worker, self.sounds, self)
        new_rma.back_requested.connect(self.show_returns)
        new_rma.print_queued.connect(self.printer.kick)
        return new_rma

    # --- scans -----------------------------------------------------------------------------

    def install_wedge(self, wedge: QObject, scanned: Any) -> None:
        """Put the wedge filter on the application; its ``scanned`` signal feeds handle_scan."""
        app = QApplication.instance()
        assert app is not None
        self.wedge = wedge
        app.installEventFilter(wedge)
        scanned.connect(self.handle_scan)
        if (check := self._built("scanner_check")) is not None:
            check.watch(wedge)  # type: ignore[attr-defined]

    def install_serial(self, serial: SerialInput) -> None:
        """A serial scanner: its scans enter handle_scan like a wedge scan; whether it is
        there shows in the status bar; it starts once the window is on screen."""
        self.serial = serial
        self.serial_status = ElidedLabel(self, mode=Qt.TextElideMode.ElideMiddle)
        self.serial_status.setText(self.tr("Scanner {port}").format(port=serial.port))
        self.status.addPermanentWidget(self.serial_status)
        serial.scanned.connect(self.handle_scan)
        serial.status_changed.connect(self._serial_status)
        if (check := self._built("scanner_check")) is not None:
            check.watch(serial)  # type: ignore[attr-defined]

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
        # Screens built later are connected as they are built.
        if (pack := self._built("pack")) is not None:
            pack.order_shown.connect(feed.follow_order)  # type: ignore[attr-defined]
            feed.follow_order(pack.order)  # type: ignore[attr-defined]
        else:
            feed.follow_order(None)  # no pack screen yet: no order open
        if (returns := self._built("returns")) is not None:
            _take_photos(returns, feed)  # type: ignore[arg-type]

    def _page_changed(self) -> None:
        current = self.stack.currentWidget()
        for page in self._pages():
            policy = QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        if self._camera_dock is not None:
            self._camera_dock.setVisible(self._showing("signin", "pack"))

    def handle_scan(self, code: str) -> None:
        """Every scan enters here (from the wedge filter or the camera): the active workflow
        decides."""
        if self._showing("signin"):
            self.signin.handle_scan(code)
            return
        if self._showing("scanner_check"):
            self.scanner_check.handle_scan(code)
            return
        if self._showing("exceptions"):
            self.exceptions.handle_scan(code)  # a supervisor's badge resolves the chosen one
            return
        if self._showing("counter"):
            self.counter.handle_scan(code)
            return
        if self._showing("returns"):
            self.returns.handle_scan(code)
            return
        if self._showing("new_rma"):
            self.new_rma.handle_scan(code)
            return
        if self._showing("pick", "pick_work"):
            if self._showing("pick_work"):
                self.show_pick()  # a scan means picking: the form is left as it is
            self.pick.handle_scan(code)
            return
        if not self._showing("pack"):
            self.show_pack()  # a scan on the search screen is meant for the bench
        self.pack.handle_scan(code)

    # --- navigation ------------------------------------------------------------------------

    def _signed_in(self, operator: OperatorView) -> None:
        self._operator = operator
        if not gc.get_freeze_count():
            # What the station built to get here (modules, mappings, widgets) lives as long as
            # it does: out of the collector's sight, a collection during a scan walks only what
            # scans made, not the whole heap (a full pass over it took 100-300 ms).
            gc.freeze()
        self.status.set_operator(operator.name)
        if self.print_process is not None:  # on the print thread, while the operator settles in
            self.printer.run(self.print_process.start, lambda _r: None, self._print_start_failed)
        # A screen not built yet starts this session when it is built.
        if self._built("pack") is not None:
            self.pack.start_session(operator)
        roles = {Role(r) for r in operator.roles}
        if allows(roles, Permission.PICK) and self._built("pick") is not None:
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

    @staticmethod
    def _print_start_failed(error: BaseException) -> None:
        log.error("the print process could not be started; printing in the station", exc_info=error)

    def show_counter(self) -> None:
        """The shop counter, for operators who may sell (F11 from any screen)."""
        operator = self._operator
        if operator is None or not allows([Role(r) for r in operator.roles], Permission.SELL):
            return
        if not self._showing("counter"):
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
        if not self._showing("returns", "new_rma"):
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
        if not self._showing("new_rma"):
            self.new_rma.start_session(operator)
        self.stack.setCurrentWidget(self.new_rma)

    def sign_out(self) -> None:
        self._operator = None
        for name in ("counter", "returns", "new_rma", "pack", "pick"):  # the ones built
            if (screen := self._built(name)) is not None:
                screen.end_session()  # type: ignore[attr-defined]
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
        if self._showing("scanner_check"):
            return
        self._before_check = self.stack.currentWidget()
        self.stack.setCurrentWidget(self.scanner_check)
        self.scanner_check.activate()

    def _leave_scanner_check(self) -> None:
        back = self._before_check or self.signin
        if back is not self.signin and self._operator is None:
            back = self.signin  # signed out meanwhile
        self.stack.setCurrentWidget(back)
        if self._showing("pack"):
            self.pack.code.setFocus()

    def _save_printers(self, printers: dict[str, Any]) -> None:
        ctx, operator = self.ctx, self._operator

        def save() -> Any:
            from app.services import settings

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
            if self._showing("conflicts"):
                self.conflicts.refresh()
            elif self._showing("exceptions"):
                self.exceptions.refresh()

    def _journal_ran(self) -> None:
        if self._showing("journal"):
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
        # While the person reaches for their badge: the ORM, the mappings and the print queue
        # load on the database worker, ahead of the operator names and any badge scan (which
        # wait behind it); then the print worker starts and the pack screen, where most
        # operators land, is built. (The GS1 tables load with the first scan, on the database
        # worker.)
        DbOp(self.worker, self._load_ahead).success(lambda _: self._loaded_ahead()).failure(
            self._load_ahead_failed
        ).run()
        self.signin.load_names()
        self.status.start()
        if self.sync is not None:
            self.sync.start()
        QTimer.singleShot(INPUTS_AFTER_SHOW_MS, self._start_inputs)
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

    def _bench_busy(self, busy: bool) -> None:
        # The bench process commits as the worker does: fold the log when both are quiet.
        if busy:
            self._checkpoint.stop()
        elif self.worker.pending == 0:
            if time.monotonic() - self._last_checkpoint > CHECKPOINT_AT_LEAST_S:
                self._fold_log()
            else:
                self._checkpoint.start()

    def _fold_log(self) -> None:
        if self.bench_process is not None and self.bench_process.busy:
            return  # folded once it has answered (_bench_busy)
        self._last_checkpoint = time.monotonic()
        self._folding = True
        DbOp(self.worker, self.ctx.checkpoint).run()

    def _load_ahead(self) -> None:
        # On the database worker.
        self.ctx.warm_up()
        import printing.queue  # noqa: F401  # here, not on the print thread while a scan is typed

    def _load_ahead_failed(self, error: BaseException) -> None:
        log.error("loading ahead failed; the first scan loads what it needs", exc_info=error)
        self._loaded_ahead()

    def _loaded_ahead(self) -> None:
        # Queued after the badge if one was scanned meanwhile: sign-in does not wait for it.
        DbOp(self.worker, _read_a_first_code).run()
        self.printer.start()
        self.pack  # noqa: B018  # built now, while the GUI waits for the badge, not after it

    def _start_inputs(self) -> None:
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
        if self.bench_process is not None:
            self.bench_process.stop()  # its scans committed; their answers are not waited for
        self.worker.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)


def _take_photos(returns: ReturnsScreen, feed: CameraFeed) -> None:
    """The returns desk photographs returned items from the camera's picture."""
    from app.config import data_dir

    returns.set_photo_source(
        lambda: p.frame if (p := feed.preview()) is not None else None, data_dir()
    )


def _read_a_first_code() -> None:
    # On the database worker, once the ORM is loaded: the GS1 parser, ahead of the first scan.
    from app.scanning.normalize import warm_up

    warm_up()
