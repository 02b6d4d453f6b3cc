"""The pack bench screen: scan an order, scan its items into packages, close them, complete.

Every scan (from the scanner via the main window, or typed into "Type a code") goes to
:meth:`PackScreen.handle_scan`, which runs :meth:`PackBench.scan` on the database worker; the
:class:`BenchResult` comes back on the GUI thread and updates the lines model (only the cells
that changed), the banner, the sound and the instruction. Nothing here waits on the database.

An item scan whose outcome the open order already tells (:meth:`PackBench.predict`: the
product of a line with units to go) is shown at once, painted while it is committed; when
the commit's result comes back it is compared, and on the rare disagreement (the order changed
underneath, the database refused) the screen shows the committed truth and says so. Such a scan
is committed by the bench's own process when it runs (:mod:`ui.bench_process`), so the
commit's Python and the screen's run on two cores rather than taking turns; while that scan is
out, whatever the packer does next waits for its answer, so everything commits in the order it
was done.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import WaystationError
from app.ids import new_id
from app.services.bench import BenchResult, PackBench
from app.services.bench_host import HostScan
from app.services.packages import parse_weight
from app.services.views import CompletedOrder, OperatorView, OrderView
from ui import messages
from ui.bench_process import BenchProcess
from ui.feedback import LiveText, Sounds
from ui.models import format_int, format_kg
from ui.models.order_lines import OrderLinesModel
from ui.ops import DbOp, DbWorker
from ui.screens.pack_dialogs import LineQtyDialog
from ui.screens.pack_parts import LinesTable, OrderHeader
from ui.screens.packages_panel import PackagesPanel
from ui.screens.station_screen import StationScreen
from ui.theme import Colors

log = logging.getLogger(__name__)
MISSING_REASONS = ("Bin empty", "Item damaged", "Wrong item in the bin", "Not found")


@dataclass(slots=True)
class _Scan:
    """A scan sent to the worker: when it came, the order on screen then, and the outcome
    shown before its commit (None: the screen waits for the commit)."""

    started: float
    shown: OrderView | None
    guess: BenchResult | None = None
    scan_id: uuid.UUID | None = None  # sent to the bench process with this event id


class PackScreen(StationScreen):
    """Signals:
    search_requested(): the packer wants the order search screen.
    journal_requested(): the packer wants the print journal.
    sign_out_requested(): the packer is leaving the bench.
    order_completed(str): an order was packed; its number.
    scan_shown(): the result of a scan is on screen and committed (model and banner updated;
        shown before the commit when predicted, then confirmed or corrected).
    print_queued(): a scan queued a print job (a shipping label on the order's last scan).
    order_shown(object): the order on the bench changed or moved on (an OrderView, or None).
    """

    search_requested = Signal()
    journal_requested = Signal()
    sign_out_requested = Signal()
    order_completed = Signal(str)
    print_queued = Signal()
    order_shown = Signal(object)

    def __init__(
        self,
        worker: DbWorker,
        sounds: Sounds,
        bench_factory: Callable[[OperatorView], PackBench],
        colors: Colors,
        parent: QWidget | None = None,
        *,
        remote: BenchProcess | None = None,
    ) -> None:
        super().__init__(sounds, parent)
        self._worker = worker
        self._remote = remote  # commits predicted item scans in a process of its own
        self._held: list[Callable[[], None]] = []  # what waits for the bench process's answer
        self._bench_factory = bench_factory
        self._bench: PackBench | None = None
        self._order: OrderView | None = None
        self._in_flight = 0  # actions sent to the worker whose result has not come back
        # Scan → committed result on screen, the part of it spent in PackBench.scan, and
        # whether the outcome was on screen before the commit (benchmarks, tests).
        self.core_ms: list[float] = []
        self.predicted: list[bool] = []
        self.remote_scans = 0  # scans committed by the bench process
        self.corrections = 0  # predicted outcomes the commit did not confirm
        self.dialog: QDialog | None = None
        self.model = OrderLinesModel(colors, self)
        self._build()
        self._declare_shortcuts()
        self._show_order(None)

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        # New words (the order's last item packed) repaint in place; the page is laid out
        # again only when they need another number of lines (an order on hold).
        self.instruction = LiveText(self, wrap=True)
        self.instruction.setObjectName("instruction")
        self.search_button = self._button(self.tr("Search orders (F3)"), self.search_requested)
        self.journal_button = self._button(self.tr("Print jobs (F4)"), self.journal_requested)
        self.sign_out_button = self._button(self.tr("Sign out"), self.sign_out_requested)
        top = QHBoxLayout()
        top.addWidget(self.instruction, 1)
        top.addWidget(self.search_button)
        top.addWidget(self.journal_button)
        top.addWidget(self.sign_out_button)

        self.header = OrderHeader(self)

        self.table = LinesTable(self.model, self)

        self.hold_panel = self._build_hold_panel()
        left = QVBoxLayout()
        left.addWidget(self.header)
        left.addWidget(self.table, 1)
        left.addWidget(self.hold_panel)

        self.packages = PackagesPanel(self)
        self.packages.weight.returnPressed.connect(self.close_package)
        self.packages.close_button.clicked.connect(self.close_package)
        self.packages.new_button.clicked.connect(self.new_package)
        self.packages.move_button.clicked.connect(self.ask_move)
        # Names the tests and shortcuts use.
        self.box_type, self.weight = self.packages.box_type, self.packages.weight
        self.close_button = self.packages.close_button
        self.new_button = self.packages.new_button
        self.move_button = self.packages.move_button
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(self.packages)

        self.qty = QSpinBox(self)
        self.qty.setRange(1, 9999)
        self.qty.setPrefix(self.tr("× "))
        self.qty.setToolTip(self.tr("Units per scan, for lines with many units"))
        self.qty.setAccessibleName(self.tr("Quantity per scan"))
        self.undo_button = self._button(self.tr("Undo last scan"), self.undo_last_scan)
        self.missing_button = self._button(self.tr("Report missing item"), self.ask_missing)
        self.missing_button.setObjectName("danger")
        self.complete_button = self._button(self.tr("Complete order"), self.complete_order)
        self.complete_button.setObjectName("primary")
        self.complete_button.setMinimumWidth(220)
        bottom = QHBoxLayout()
        bottom.addWidget(self.code, 1)
        bottom.addWidget(self.qty)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(self.missing_button)
        bottom.addWidget(self.complete_button)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addLayout(body, 1)
        page.addLayout(bottom)

    def _build_hold_panel(self) -> QFrame:
        panel = QFrame(self)
        panel.setObjectName("holdPanel")
        self.hold_reason = QLabel(panel)
        self.hold_reason.setObjectName("sectionTitle")
        self.hold_reason.setWordWrap(True)
        self.ship_short = QRadioButton(self.tr("Ship without the missing items"), panel)
        self.items_found = QRadioButton(self.tr("The items were found — keep packing"), panel)
        self.ship_short.setChecked(True)
        hint = QLabel(self.tr("Supervisor: choose, then scan your badge."), panel)
        hint.setObjectName("hint")
        box = QVBoxLayout(panel)
        box.addWidget(self.hold_reason)
        row = QHBoxLayout()
        row.addWidget(self.ship_short)
        row.addWidget(self.items_found)
        row.addStretch(1)
        box.addLayout(row)
        box.addWidget(hint)
        return panel

    def _declare_shortcuts(self) -> None:
        for keys, slot in (
            ("F3", self.search_requested.emit),
            ("F4", self.journal_requested.emit),
            ("Ctrl+Z", self.undo_last_scan),
            ("Ctrl+Return", self.complete_order),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)

    # --- session ---------------------------------------------------------------------------

    def start_session(self, operator: OperatorView) -> None:
        self._bench = self._bench_factory(operator)
        if self._remote is not None:
            self._remote.start()  # in the background; scans use the worker until it is ready
        self._show_order(None)
        self.banner.show_message(
            "info", self.tr("Hello {name} — scan an order to start.").format(name=operator.name)
        )
        self.code.setFocus()

    def end_session(self) -> None:
        self._bench = None
        self._show_order(None)

    @property
    def order(self) -> OrderView | None:
        return self._order

    # --- scanning --------------------------------------------------------------------------

    def handle_scan(self, code: str) -> None:
        """A scan (or a typed code): what it means depends on where the packer is."""
        self._scan(code, time.perf_counter())

    def _scan(self, code: str, started: float) -> None:
        bench = self._bench
        if bench is None or self._held_back(lambda: self._scan(code, started)):
            return
        if self.dialog is not None and self.dialog.isVisible():
            # A scan means the packer moved on: the half-filled dialog is dropped, not sent.
            self.dialog.reject()
        if self._order is not None and self._order.status == "on_hold":
            self._release_hold(code)
            return
        qty = self.qty.value() if self.qty.value() > 1 else None
        if qty is not None:
            self.qty.setValue(1)  # (setting it when it is 1 already still repaints it)
        scan = _Scan(started, self._order)
        if scan.shown is not None and self._in_flight == 0:
            scan.guess = bench.predict(scan.shown, code, qty)
        self._in_flight += 1
        if scan.guess is None or not self._send(bench, code, qty, scan):
            DbOp(self._worker, lambda: bench.scan(code, qty)).success(
                lambda result: self._scanned(result, scan)
            ).failure(lambda error: self._scan_failed(error, scan)).run()
        # The commit is on its way; meanwhile show what it will most likely answer, painted
        # while it commits.
        if scan.guess is not None:
            self._show_result(scan.guess)

    def _send(self, bench: PackBench, code: str, qty: int | None, scan: _Scan) -> bool:
        """Hand a predicted scan to the bench process; False when it cannot take it."""
        remote = self._remote
        if remote is None or not remote.ready or scan.shown is None:
            return False
        scan.scan_id = new_id()
        request = HostScan(bench.operator, scan.shown, code, qty, scan.scan_id)
        return remote.submit(
            request,
            lambda result: self._remote_scanned(bench, result, scan),
            lambda why: self._remote_lost(bench, code, qty, scan, why),
        )

    def _remote_scanned(self, bench: PackBench, result: BenchResult, scan: _Scan) -> None:
        # Nothing of this bench's is on the worker while a scan is out (it is sent only when
        # nothing is in flight, and what comes after waits): its order can be set here.
        bench.order = result.order
        self.remote_scans += 1
        self._scanned(result, scan)
        self._release_held()

    def _remote_lost(
        self, bench: PackBench, code: str, qty: int | None, scan: _Scan, why: str
    ) -> None:
        """The bench process did not answer: the worker finds out whether the scan was
        committed, and commits it if not."""
        log.warning("a scan sent to the bench process was not answered (%s); settling it", why)
        scan_id = scan.scan_id
        assert scan_id is not None
        DbOp(self._worker, lambda: bench.settle(code, qty, scan_id)).success(
            lambda result: self._settled(result, scan)
        ).failure(lambda error: self._scan_failed(error, scan)).run()
        self._release_held()  # behind the settling, on the worker

    def _settled(self, result: BenchResult, scan: _Scan) -> None:
        guess = scan.guess
        if guess is not None and result.ok and result.order == guess.order:
            result = replace(result, message=guess.message, line_id=guess.line_id)
        self._scanned(result, scan)

    def _held_back(self, action: Callable[[], None]) -> bool:
        """While a scan is with the bench process, ``action`` waits for its answer."""
        if self._remote is None or not self._remote.busy:
            return False
        self._held.append(action)
        return True

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for action in held:
            action()

    def _scanned(self, result: BenchResult, scan: _Scan) -> None:
        self._in_flight -= 1
        guess = scan.guess
        if guess is None:
            self._show_result(result)
        elif guess.shows_as(result):
            if self._order is guess.order:  # still on screen (not signed out meanwhile)
                self._order = result.order  # equal to it: nothing to repaint
        else:
            self._correct(result)
        self.feedback_ms.append((time.perf_counter() - scan.started) * 1000)
        self.core_ms.append(result.elapsed_ms)
        self.predicted.append(guess is not None)
        self.scan_shown.emit()
        if result.queued_print:
            self.print_queued.emit()

    def _show_result(self, result: BenchResult) -> None:
        self._show_order(result.order)
        if result.line_id is not None:
            self.table.highlight(result.line_id)
        self._feedback("good" if result.ok else "bad", result.message)

    def _correct(self, result: BenchResult) -> None:
        """The commit did not do what the screen showed: show what it did, and say so."""
        self.corrections += 1
        log.warning("a scan shown before its commit came back otherwise: %s", result.message)
        self._show_order(result.order)
        if result.line_id is not None:
            self.table.highlight(result.line_id)
        if result.ok:
            words = self.tr("Corrected — {words}").format(words=result.message)
        else:
            words = self.tr("Not counted after all — {words}").format(words=result.message)
        self._feedback("good" if result.ok else "bad", words)

    def _scan_failed(self, error: BaseException, scan: _Scan) -> None:
        self._in_flight -= 1
        if scan.guess is not None:  # nothing was committed: the order is as it was before
            self.corrections += 1
            self._show_order(scan.shown)
        self._failed(error, "scan")

    def _failed(self, error: BaseException, action: str) -> None:
        self._feedback("bad", messages.describe(error, action=action))

    # --- actions ---------------------------------------------------------------------------

    def _run(self, fn: Callable[[PackBench], OrderView], words: str) -> None:
        bench = self._bench
        if bench is None or self._held_back(lambda: self._run(fn, words)):
            return

        def done(order: OrderView) -> None:
            self._in_flight -= 1
            self._show_order(order)
            self._feedback("good", words)

        def failed(error: BaseException) -> None:
            self._in_flight -= 1
            self._failed(error, "action")

        self._in_flight += 1
        DbOp(self._worker, lambda: fn(bench)).success(done).failure(failed).run()

    def undo_last_scan(self) -> None:
        self._run(lambda b: b.undo(), self.tr("Last scan undone — take that item out again."))

    def close_package(self) -> None:
        package = self.packages.to_close(self._order)
        if package is None:
            self._feedback("bad", self.tr("There is no open package to close."))
            return
        try:
            grams = parse_weight(self.weight.text())
        except WaystationError as e:
            self._feedback("bad", messages.describe(e, action="action"))
            return
        box = self.box_type.currentText()
        self.weight.clear()
        self._run(
            lambda b: b.close_package(package.seq, grams, box),
            self.tr("Package {n} closed: {box}, {kg}.").format(
                n=package.seq, box=box, kg=format_kg(grams)
            ),
        )

    def new_package(self) -> None:
        self._run(lambda b: b.add_package(), self.tr("New package open — scan items into it."))

    def ask_missing(self) -> None:
        if self._order is None:
            self._feedback("bad", self.tr("Scan an order first."))
            return
        dialog = LineQtyDialog(self._order, self.tr("Report a missing item"), self)
        dialog.reason.addItems([self.tr(r) for r in MISSING_REASONS])
        dialog.accepted.connect(
            lambda: self.report_missing(dialog.line_id(), dialog.qty.value(), dialog.reason_text())
        )
        self._open(dialog)

    def _open(self, dialog: QDialog) -> None:
        # The wedge filter watches the main window only: once the dialog is gone, give the
        # window (and the code field) the keyboard back so the next scan is caught.
        self.dialog = dialog
        dialog.finished.connect(self._dialog_closed)
        dialog.open()

    def _dialog_closed(self, _result: int) -> None:
        self.window().activateWindow()
        self.code.setFocus()

    def report_missing(self, line_id: uuid.UUID, qty: int, reason: str) -> None:
        self._run(
            lambda b: b.report_missing(line_id, qty, reason),
            self.tr("Reported missing — the order is on hold for a supervisor."),
        )

    def ask_move(self) -> None:
        if self._order is None or len(self._order.packages) < 2:
            self._feedback("bad", self.tr("Units can move once the order has two packages."))
            return
        dialog = LineQtyDialog(self._order, self.tr("Move units between packages"), self)
        dialog.add_packages([p.seq for p in self._order.packages])
        dialog.accepted.connect(
            lambda: self.move_units(
                dialog.line_id(), dialog.from_seq(), dialog.to_seq(), dialog.qty.value()
            )
        )
        self._open(dialog)

    def move_units(self, line_id: uuid.UUID, from_seq: int, to_seq: int, qty: int) -> None:
        self._run(
            lambda b: b.move_units(line_id, from_seq, to_seq, qty),
            self.tr("Moved {qty} from package {a} to package {b}.").format(
                qty=format_int(qty), a=from_seq, b=to_seq
            ),
        )

    def _release_hold(self, badge: str) -> None:
        ship_short = self.ship_short.isChecked()
        self._run(
            lambda b: b.release_hold(badge, ship_short),
            self.tr("Hold released by the supervisor — carry on."),
        )

    def complete_order(self) -> None:
        bench = self._bench
        if bench is None or self._held_back(self.complete_order):
            return
        if not self.complete_button.isEnabled():
            return

        def failed(error: BaseException) -> None:
            self._in_flight -= 1
            self._failed(error, "action")

        self._in_flight += 1
        DbOp(self._worker, bench.complete).success(self._completed).failure(failed).run()

    def _completed(self, done: CompletedOrder) -> None:
        self._in_flight -= 1
        # The slip is queued with the order in one transaction; the print worker sends it
        # (a printer that is off never holds up the bench — the status bar tells).
        number = done.order.number
        self._show_order(None)
        self._feedback(
            "good",
            self.tr("Order {n} packed — its packing slip is printing. Scan the next order.").format(
                n=number
            ),
        )
        self.order_completed.emit(number)

    # --- showing the order -----------------------------------------------------------------

    def _show_order(self, order: OrderView | None) -> None:
        """Show ``order``; each part touches only what changed (on a scan: the counts)."""
        self._order = order
        self.model.set_order(order)
        self.header.show_order(order)
        on_hold = order is not None and order.status == "on_hold"
        if on_hold != self.hold_panel.isVisibleTo(self):
            self.hold_panel.setVisible(on_hold)
        if on_hold and order is not None:
            self.hold_reason.setText(self.tr("On hold: {why}").format(why=order.hold_reason))
        self.packages.show_order(order)
        self.instruction.setText(self._instruction(order))
        packing = order is not None and order.status == "packing"
        for w in (self.undo_button, self.missing_button):
            w.setEnabled(packing)
        self.complete_button.setEnabled(
            packing
            and order is not None
            and order.all_packed
            and not any(not p.closed and p.units for p in order.packages)
        )
        self.order_shown.emit(order)

    def _instruction(self, order: OrderView | None) -> str:
        if order is None:
            return self.tr("Scan an order to start")
        if order.status == "on_hold":
            return self.tr("{n} is on hold — a supervisor scans their badge").format(n=order.number)
        if not order.all_packed:
            return self.tr("Scan the items of {n}").format(n=order.number)
        if any(not p.closed and p.units for p in order.packages):
            return self.tr("All items packed — close the package")
        return self.tr("All packed — press Complete order")
