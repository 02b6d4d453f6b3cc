"""The returns desk screen: scan the parcel, scan each item, grade it, complete, resolve.

Every scan (from the scanner via the main window, or typed) goes to :meth:`ReturnsScreen.
handle_scan`; the desk (:class:`app.services.returns.desk.ReturnDesk`) runs on the database
worker and hands back its result and a frozen copy of what is on the desk. A refused scan shows
its words in red with the next steps as buttons (set aside, receive as unexpected); a late
return asks for a supervisor's badge, which the next scan is. Grading is one button (or
Ctrl+1…6) per condition for the unit chosen (the first one not graded). After completion
the return is resolved with F6 (refund), Shift+F6 (part of the refund: the clerk types how
much), F7 (store credit) or F8 (exchange). New RMA (F4) opens
the screen that makes an RMA for a customer (ui/screens/new_rma.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.returns import Condition, Disposition, Reason, Resolution
from app.services.returns.desk import ReturnDesk
from app.services.returns.desk_state import DeskResult, DeskState, Offer, Outcome
from app.services.returns.reports import ReturnsReport
from app.services.returns.views import ReceiptDone, RefundQuote, ResolutionDone, ToResolve
from app.services.views import OperatorView
from ui import messages
from ui.feedback import LiveText, Sounds
from ui.models.returns import KEY_ROLE, CandidatesModel, ExpectedModel, UnitsModel
from ui.ops import DbOp, DbWorker
from ui.screens.returns_parts import (
    CONDITION_KEYS,
    GradeBar,
    PartRefundDialog,
    desk_table,
    resolution_words,
)
from ui.screens.returns_report import ReportDialog
from ui.screens.station_screen import StationScreen
from ui.theme import Colors

# (operator, RMA, resolution, amount to pay back or None for all the policy gives)
log = logging.getLogger(__name__)

Resolver = Callable[[OperatorView, uuid.UUID, Resolution, int | None], ResolutionDone]
Quoter = Callable[[OperatorView, uuid.UUID], RefundQuote]
Reporter = Callable[[OperatorView], ReturnsReport]


class ReturnsScreen(StationScreen):
    """Signals:
    sign_out_requested(): the clerk is leaving the desk.
    print_queued(): labels or tags were queued to print.
    scan_shown(): the result of a scan is on screen.
    action_done(): a button's action has come back from the database (done or refused).
    return_received(str): a return was booked in; its RMA number.
    new_rma_requested(): the operator wants to make an RMA for a customer (F4).
    """

    sign_out_requested = Signal()
    print_queued = Signal()
    action_done = Signal()
    return_received = Signal(str)
    new_rma_requested = Signal()

    def __init__(
        self,
        worker: DbWorker,
        sounds: Sounds,
        desk_factory: Callable[[OperatorView], ReturnDesk],
        resolver: Resolver,
        quoter: Quoter,
        reporter: Reporter,
        colors: Colors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(sounds, parent)
        self._worker = worker
        self._factory = desk_factory
        self._resolver = resolver
        self._quoter = quoter
        self._reporter = reporter
        self._operator: OperatorView | None = None
        self._desk: ReturnDesk | None = None
        self._state: DeskState | None = None
        self._pending_disposition: tuple[int, Disposition] | None = None
        # The return to resolve: the last one booked in, or one booked in earlier and scanned
        # again.
        self.received: ToResolve | None = None
        self._photo_source: Callable[[], Any] | None = None  # the camera's newest picture
        self.photo_folder = Path(".")
        self.resolved: list[ResolutionDone] = []
        self.report_dialog: QDialog | None = None
        self.part_refund_dialog: PartRefundDialog | None = None
        self._quoting = False  # a part refund's quote is on its way
        self.expected = ExpectedModel(colors, self)
        self.units = UnitsModel(self)
        self.candidates = CandidatesModel(self)
        self._build()
        self._declare_shortcuts()
        self._show_state(None)

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        # Two lines, whatever the words: new ones repaint in place and never move everything
        # under them (a parcel's longer words laid the whole page out again, twice a parcel).
        self.instruction = LiveText(self, lines=2)
        self.instruction.setObjectName("instruction")
        self.new_rma_button = self._button(self.tr("New RMA (F4)"), self.new_rma_requested)
        self.report_button = self._button(self.tr("Report"), self.show_report)
        self.sign_out_button = self._button(self.tr("Sign out"), self.sign_out_requested)
        top = QHBoxLayout()
        top.addWidget(self.instruction, 1)
        top.addWidget(self.new_rma_button)
        top.addWidget(self.report_button)
        top.addWidget(self.sign_out_button)

        # The next steps a refused scan offers come and go in a row of their own height, so
        # they never move the tables under them.
        offers = QWidget(self)
        self.offers = QHBoxLayout(offers)
        self.offers.setContentsMargins(0, 0, 0, 0)
        self.aside_button = self._button(self.tr("Set aside"), self.set_aside)
        self.unexpected_button = self._button(
            self.tr("Receive as unexpected"), self.receive_unexpected
        )
        self.choose_button = self._button(self.tr("Open this order"), self.choose_selected)
        for b in (self.aside_button, self.unexpected_button, self.choose_button):
            self.offers.addWidget(b)
        self.offers.addStretch(1)
        self.grades = GradeBar(self)
        self.offers.addWidget(self.grades.reason_button)  # for the unit being graded
        offers.ensurePolished()
        offers.setFixedHeight(self.aside_button.sizeHint().height())

        self.expected_table = self._table(self.expected, stretch=0)
        self.units_table = self._table(self.units, stretch=0)
        self.candidates_table = self._table(self.candidates, stretch=1)
        self.candidates_table.doubleClicked.connect(lambda _i: self.choose_selected())
        tables = QHBoxLayout()
        tables.addWidget(self.expected_table, 1)
        tables.addWidget(self.units_table, 1)
        tables.addWidget(self.candidates_table, 1)

        self.grades.grade_requested.connect(self.grade)
        self.grades.disposition_requested.connect(self.change_disposition)
        self.grades.reason_requested.connect(self.set_reason)
        self.reason_button = self.grades.reason_button
        self.grades.photo_requested.connect(self.take_photo)
        self.grade_buttons = self.grades.grade_buttons
        self.disposition_button = self.grades.disposition_button
        self.photo_button = self.grades.photo_button

        self.complete_button = self._button(self.tr("Complete (F10)"), self.complete)
        self.cancel_button = self._button(self.tr("Cancel (Esc)"), self.cancel)
        self.refund_button = self._button(
            self.tr("Refund (F6)"), lambda: self.resolve(Resolution.REFUND)
        )
        self.part_refund_button = self._button(self.tr("Part (⇧F6)"), self.ask_part_refund)
        self.part_refund_button.setToolTip(self.tr("Refund part of what the policy gives"))
        self.credit_button = self._button(
            self.tr("Store credit (F7)"), lambda: self.resolve(Resolution.STORE_CREDIT)
        )
        self.exchange_button = self._button(
            self.tr("Exchange (F8)"), lambda: self.resolve(Resolution.EXCHANGE)
        )
        bottom = QHBoxLayout()
        bottom.addWidget(self.code, 1)
        self.code.setMinimumWidth(250)
        for b in (
            self.complete_button,
            self.cancel_button,
            self.refund_button,
            self.part_refund_button,
            self.credit_button,
            self.exchange_button,
        ):
            b.setProperty("compact", True)
            bottom.addWidget(b)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addWidget(offers)
        page.addLayout(tables, 1)
        page.addWidget(self.grades)
        page.addLayout(bottom)

    def _table(self, model: Any, stretch: int) -> QTableView:
        return desk_table(self, model, stretch)

    def _declare_shortcuts(self) -> None:
        # Ctrl+digit: a plain digit would go into the code field, which has the focus.
        keys: list[tuple[str, Any]] = [
            (f"Ctrl+{key}", lambda c=condition: self.grade(c)) for key, condition in CONDITION_KEYS
        ]
        keys += [
            ("F6", lambda: self.resolve(Resolution.REFUND)),
            ("Shift+F6", self.ask_part_refund),
            ("F7", lambda: self.resolve(Resolution.STORE_CREDIT)),
            ("F8", lambda: self.resolve(Resolution.EXCHANGE)),
            ("F10", self.complete),
            ("F4", self.new_rma_requested.emit),
            ("Escape", self.cancel),
        ]
        for sequence, slot in keys:
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)

    # --- session ---------------------------------------------------------------------------

    def start_session(self, operator: OperatorView) -> None:
        self._operator = operator
        self._desk = desk = self._factory(operator)
        DbOp(self._worker, desk.warm_up).failure(
            lambda error: log.warning("the desk's look-ups were not warmed up: %s", error)
        ).run()
        self.received = None
        self._show_state(None)
        self._feedback(
            "info",
            self.tr(
                "Hello {name} — scan the parcel: its RMA, order or tracking number, or an item."
            ).format(name=operator.name),
        )
        self.code.setFocus()

    def end_session(self) -> None:
        self._operator = None
        self._desk = None
        self._show_state(None)

    # --- scanning --------------------------------------------------------------------------

    def handle_scan(self, code: str) -> None:
        desk = self._desk
        if desk is None:
            return
        started = time.perf_counter()
        pending = self._pending_disposition
        if pending is not None:
            self._pending_disposition = None
            key, disposition = pending
            self._run(lambda: desk.set_disposition(key, disposition, code), started)
            return
        self._run(lambda: desk.scan(code), started)

    def _run(self, fn: Callable[[], DeskResult], started: float | None = None) -> None:
        desk = self._desk
        if desk is None:
            return

        def work() -> tuple[DeskResult, DeskState]:
            result = fn()
            return result, desk.state()

        DbOp(self._worker, work).success(lambda r: self._shown(*r, started)).failure(
            self._failed
        ).run()

    def _shown(self, result: DeskResult, state: DeskState, started: float | None) -> None:
        if result.to_resolve is not None:
            self.received = result.to_resolve
        self._show_state(state)
        self.candidates.set_rows(list(result.candidates))
        self.candidates_table.setVisible(bool(result.candidates))
        if result.candidates:
            self.candidates_table.selectRow(0)
        self.aside_button.setVisible(Offer.SET_ASIDE in result.offers)
        self.unexpected_button.setVisible(Offer.RECEIVE_UNEXPECTED in result.offers)
        self.choose_button.setVisible(bool(result.candidates))
        if result.outcome is Outcome.REFUSED:
            if Offer.SUPERVISOR in result.offers:
                self.instruction.setText(self.tr("Supervisor: scan your badge to let it in."))
            self._feedback("bad", result.message)
        elif result.outcome in (Outcome.CHOOSE, Outcome.WANT_SERIAL):
            self._feedback("warn", result.message)
        else:
            self._feedback("good", result.message)
        if started is not None:
            self.feedback_ms.append((time.perf_counter() - started) * 1000)
            self.scan_shown.emit()
        self.action_done.emit()

    def _show_state(self, state: DeskState | None) -> None:
        self._state = state
        is_open = state is not None and state.order_number is not None
        self.expected.set_rows(list(state.expected) if state else [])
        self.units.set_rows(list(state.units) if state else [])
        # The expected and booked tables stay on the screen (empty between parcels): showing
        # and hiding them laid the whole page out again on every parcel.
        self.candidates_table.setVisible(False)
        for b in (self.aside_button, self.unexpected_button, self.choose_button):
            b.setVisible(False)
        self.grades.set_enabled(
            bool(state and state.units),
            reasons=state is not None and state.rma_number is None,
        )
        self.complete_button.setEnabled(is_open)
        # Always there, to be pressed once a return is booked in: showing and hiding them laid
        # the page out again on the next parcel.
        done = self.received is not None and not is_open
        for b in (
            self.refund_button,
            self.part_refund_button,
            self.credit_button,
            self.exchange_button,
        ):
            b.setEnabled(done)
        if state is None or state.order_number is None:
            self.instruction.setText(
                self.tr("Resolve the return, or scan the next parcel.")
                if done
                else self.tr("Scan the parcel.")
            )
        elif state.wants_serial:
            self.instruction.setText(self.tr("Scan the item's serial number."))
        elif any(u.condition is None for u in state.units):
            self.instruction.setText(self.tr("Grade the item: touch its condition below."))
        else:
            what = state.rma_number or self.tr("{order} (no RMA)").format(order=state.order_number)
            self.instruction.setText(
                self.tr("{what}: scan the next item, or complete (F10).").format(what=what)
            )

    def _failed(self, error: BaseException) -> None:
        self._feedback("bad", messages.describe(error, action="action"))
        self.action_done.emit()

    # --- the clerk's choices ---------------------------------------------------------------

    def _target(self) -> int | None:
        """The unit a grade or disposition is for: the one chosen, else the first not graded,
        else the last one scanned."""
        state = self._state
        if state is None or not state.units:
            return None
        chosen = self.units_table.selectionModel().selectedRows()
        if chosen:
            return int(self.units.data(chosen[0], KEY_ROLE))
        ungraded = [u.key for u in state.units if u.condition is None]
        return ungraded[0] if ungraded else state.units[-1].key

    def grade(self, condition: Condition) -> None:
        desk, key = self._desk, self._target()
        if desk is None or key is None:
            return
        self._run(lambda: desk.grade(key, condition))

    def set_reason(self, reason: Reason) -> None:
        """Why an unannounced return's unit came back (the chosen one, else as grading)."""
        desk, key = self._desk, self._target()
        if desk is None or key is None:
            return
        self._run(lambda: desk.set_reason(key, reason))

    def change_disposition(self, disposition: Disposition) -> None:
        desk, key = self._desk, self._target()
        if desk is None or key is None:
            return

        def work() -> tuple[DeskResult, DeskState]:
            return desk.set_disposition(key, disposition), desk.state()

        def shown(r: tuple[DeskResult, DeskState]) -> None:
            if r[0].outcome is Outcome.REFUSED and Offer.SUPERVISOR in r[0].offers:
                self._pending_disposition = (key, disposition)  # the next scan is the badge
            self._shown(*r, None)

        DbOp(self._worker, work).success(shown).failure(self._failed).run()

    def set_aside(self) -> None:
        desk = self._desk
        if desk is not None:
            self._run(desk.set_aside)

    def receive_unexpected(self) -> None:
        desk = self._desk
        if desk is not None:
            self._run(desk.receive_unexpected)

    def choose_selected(self) -> None:
        desk = self._desk
        rows = self.candidates_table.selectionModel().selectedRows()
        if desk is None or not rows:
            return
        candidate = self.candidates.row(rows[0].row())
        self._run(lambda: desk.choose(candidate))

    def cancel(self) -> None:
        desk = self._desk
        if desk is None:
            return
        self._pending_disposition = None
        desk.cancel()
        self._show_state(desk.state())
        self._feedback("info", self.tr("Return put away unbooked — scan the next parcel."))

    def complete(self) -> None:
        desk = self._desk
        if desk is None or self._state is None or self._state.order_number is None:
            return

        def done(receipt: ReceiptDone) -> None:
            self.received = ToResolve(receipt.rma_id, receipt.rma_number)
            self._show_state(None)
            words = self.tr(
                "{rma}: {n} unit(s) booked in — resolve it (F6 refund, F7 store credit, "
                "F8 exchange)."
            ).format(rma=receipt.rma_number, n=receipt.units)
            if receipt.missing:
                words += " " + self.tr(
                    "{m} unit(s) the RMA expected did not come: they can come back later "
                    "(scan the order's number or label then)."
                ).format(m=receipt.missing)
            self._feedback("warn" if receipt.missing else "good", words)
            if receipt.print_jobs:
                self.print_queued.emit()
            self.return_received.emit(receipt.rma_number)
            self.action_done.emit()

        DbOp(self._worker, desk.complete).success(done).failure(self._failed).run()

    def resolve(
        self,
        resolution: Resolution,
        amount_minor: int | None = None,
        rma_id: uuid.UUID | None = None,
    ) -> None:
        """Resolve the return booked in; ``amount_minor``: a refund of that much, not all the
        policy gives, for the return ``rma_id`` it was quoted for."""
        receipt, operator = self.received, self._operator
        if receipt is None or operator is None or not self.refund_button.isEnabled():
            if rma_id is not None:  # a part refund typed for a return no longer waiting
                self._feedback("bad", self._not_waiting_words())
            return
        if rma_id is not None and rma_id != receipt.rma_id:
            self._feedback("bad", self._not_waiting_words())
            return
        resolver = self._resolver

        def done(r: ResolutionDone) -> None:
            self.resolved.append(r)
            self.received = None
            self._show_state(None)
            self._feedback("good", resolution_words(r))
            self.action_done.emit()

        DbOp(
            self._worker, lambda: resolver(operator, receipt.rma_id, resolution, amount_minor)
        ).success(done).failure(self._failed).run()

    def _not_waiting_words(self) -> str:
        return self.tr(
            "Nothing was refunded: the return that amount was for no longer waits here — scan "
            "its RMA to bring it back, then refund again."
        )

    def ask_part_refund(self) -> None:
        """Shift+F6: what the policy gives, and the clerk types how much of it goes back."""
        receipt, operator = self.received, self._operator
        if receipt is None or operator is None or not self.refund_button.isEnabled():
            return
        open_dialog = self.part_refund_dialog
        if self._quoting or (open_dialog is not None and open_dialog.isVisible()):
            return  # one quote, one dialog at a time
        self._quoting = True
        quoter = self._quoter

        def quoted(quote: RefundQuote) -> None:
            self._quoting = False
            if self.received != receipt or not self.refund_button.isEnabled():
                self.action_done.emit()
                return  # another parcel came meanwhile
            if quote.most_minor <= 0:
                self.resolve(Resolution.REFUND)  # the refusal says why nothing is paid back
                return
            dialog = PartRefundDialog(quote, self)
            dialog.accepted.connect(
                lambda: self.resolve(Resolution.REFUND, dialog.amount_minor, receipt.rma_id)
            )
            dialog.finished.connect(lambda _r: self.code.setFocus())
            self.part_refund_dialog = dialog
            dialog.open()
            self.action_done.emit()

        def failed(error: BaseException) -> None:
            self._quoting = False
            self._failed(error)

        DbOp(self._worker, lambda: quoter(operator, receipt.rma_id)).success(quoted).failure(
            failed
        ).run()

    def set_photo_source(self, source: Callable[[], Any], folder: Path) -> None:
        """The station camera: ``source()`` gives its newest picture (or None)."""
        self._photo_source = source
        self.photo_folder = folder
        self.photo_button.setVisible(True)

    def take_photo(self) -> None:
        """A photo of the unit chosen, saved as a JPEG and kept on the unit."""
        desk, key, source, state = self._desk, self._target(), self._photo_source, self._state
        if desk is None or key is None or source is None or state is None:
            return
        frame = source()
        if frame is None:
            self._feedback("bad", self.tr("The camera has no picture yet — try again."))
            return
        folder = self.photo_folder
        name = state.rma_number or state.order_number or "return"

        def work() -> DeskResult:
            from app.clock import utcnow
            from app.services.returns.photos import save_photo

            return desk.add_photo(key, save_photo(frame, folder, name, key, utcnow()))

        self._run(work)

    # --- reports ---------------------------------------------------------------------------

    def show_report(self) -> None:
        operator = self._operator
        if operator is None:
            return
        reporter = self._reporter

        def shown(report: ReturnsReport) -> None:
            dialog = ReportDialog(report, self._save_csv, self)
            self.report_dialog = dialog
            dialog.show()
            self.action_done.emit()

        DbOp(self._worker, lambda: reporter(operator)).success(shown).failure(self._failed).run()

    def _save_csv(self, text: str) -> Path | None:
        name, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export the returns report"), "returns.csv", "CSV (*.csv)"
        )
        if not name:
            return None
        path = Path(name)
        path.write_text(text, encoding="utf-8")
        return path
