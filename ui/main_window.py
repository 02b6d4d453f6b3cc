"""The station's main window: it only assembles the screens (sign-in, pack, pick, search),
the status bar and the one database worker, and routes scans to the screen that is active."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QWidget

from app.bootstrap import StationContext
from app.domain.roles import Permission, Role, allows
from app.services import outbox, print_jobs, settings
from app.services.bench import PackBench
from app.services.picking.session import PickSession
from app.services.picking.sorting import SortingBench
from app.services.picking.work import PickWork, PickWorkRequest, create_pick_work
from app.services.views import OperatorView
from ui.feedback import Sounds
from ui.ops import DbOp, DbWorker
from ui.print_runner import PrintRunner
from ui.screens.pack import PackScreen
from ui.screens.pick import PickScreen
from ui.screens.pick_work import PickWorkScreen
from ui.screens.print_journal import PrintJournalScreen
from ui.screens.printer_setup import PrinterSetupScreen
from ui.screens.search import SearchScreen
from ui.screens.signin import SignInScreen
from ui.status_bar import StationStatusBar
from ui.theme import colors

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
        self.search = SearchScreen(uow, self.worker, parent=self)

        def pick_for(operator: OperatorView) -> PickSession:
            return PickSession(ctx.uow, operator, ctx.config.scanner.gs_replacement)

        self.pick = PickScreen(
            self.worker, self.sounds, pick_for, colors(config.theme), parent=self
        )

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
        for screen in (
            self.signin,
            self.pack,
            self.pick,
            self.pick_work,
            self.search,
            self.journal,
            self.printers,
        ):
            self.stack.addWidget(screen)
        self.setCentralWidget(self.stack)
        self.status = StationStatusBar(
            self.worker,
            read_counts,
            station=ctx.station_name,
            database=ctx.database_label,
            printer=config.printer_for("packing_slip").describe(),
            parent=self,
        )
        self.setStatusBar(self.status)

        self.signin.signed_in.connect(self._signed_in)
        self.pack.sign_out_requested.connect(self.sign_out)
        self.pick.sign_out_requested.connect(self.sign_out)
        self.pick.pack_requested.connect(self.show_pack)
        self.pick.work_requested.connect(self.show_pick_work)
        self.pick_work.back_requested.connect(self.show_pick)
        self.pick_work.released.connect(lambda _n: self.printer.kick())
        to_pick = QShortcut(QKeySequence("F9"), self)
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

    # --- scans -----------------------------------------------------------------------------

    def install_wedge(self, wedge: QObject, scanned: Any) -> None:
        """Put the wedge filter on the application; its ``scanned`` signal feeds handle_scan."""
        app = QApplication.instance()
        assert app is not None
        self.wedge = wedge
        app.installEventFilter(wedge)
        scanned.connect(self.handle_scan)

    def handle_scan(self, code: str) -> None:
        """Every scan enters here (from the wedge filter): the active workflow decides."""
        current = self.stack.currentWidget()
        if current is self.signin:
            self.signin.handle_scan(code)
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
        if allows(roles, Permission.PICK) and not allows(roles, Permission.PACK):
            self.show_pick()
            return
        self.stack.setCurrentWidget(self.pack)
        self.pack.code.setFocus()

    def sign_out(self) -> None:
        self._operator = None
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

    def shutdown(self) -> None:
        """Stop timers and the database worker (finishing the job in hand)."""
        self.status.stop()
        app = QApplication.instance()
        if self.wedge is not None and app is not None:
            app.removeEventFilter(self.wedge)
            self.wedge = None
        self._checkpoint.stop()
        self.printer.stop()
        self.worker.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
