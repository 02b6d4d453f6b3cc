"""The shop counter screen: scan items into the basket, take payment, print the receipt.

Every scan (from the scanner via the main window, or typed into "Type a code") goes to
:meth:`CounterScreen.handle_scan`. What it means depends on where the clerk is: an item for the
basket; the approval code of a card payment or the code of a store credit when the screen asks
for one; a receipt's code starts a return of that sale; a dialog that takes scans (a
supervisor's badge) gets it. The use cases run on the database worker (:class:`Till`); results
come back on the GUI thread and update the basket model, the totals, the banner and the sound.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ValidationError
from app.domain.money import parse_money
from app.domain.receipts import TenderKind
from app.services.counter.till import Till
from app.services.counter.views import (
    Basket,
    Completed,
    ScanResult,
    SessionView,
)
from app.services.views import OperatorView
from ui import messages
from ui.feedback import Sounds
from ui.models.basket import ITEM, BasketModel, format_money
from ui.ops import DbOp, DbWorker
from ui.screens.counter_flows import BasketActions, TillFlows
from ui.screens.counter_panel import PayPanel
from ui.theme import Colors

log = logging.getLogger(__name__)


class CounterScreen(BasketActions, TillFlows):
    """Signals:
    sign_out_requested(): the clerk is leaving the till.
    sale_completed(str): a sale was paid in full; its receipt number (its receipt is queued).
    print_queued(): something was queued to print (a receipt, a return, the cash report).
    scan_shown(): the result of a scan is on screen (committed, model and banner updated).
    action_done(): a button's action has come back from the database (done or refused).
    """

    sign_out_requested = Signal()
    sale_completed = Signal(str)
    action_done = Signal()

    def __init__(
        self,
        worker: DbWorker,
        sounds: Sounds,
        till_factory: Callable[[OperatorView], Till],
        colors: Colors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(sounds, parent)
        self._worker = worker
        self._factory = till_factory
        # Declared with their types on CounterBase: the flows read them too.
        self._till = None
        self._basket = None
        self._session = None
        self._expect: TenderKind | None = None  # the next scan is this payment's code
        self._expect_amount: int | None = None
        self.dialog: QDialog | None = None
        self.core_ms: list[float] = []
        self.completed: list[Completed] = []
        self.returns = []
        self.closed = None
        self.model = BasketModel(colors, self)
        self._build()
        self._declare_shortcuts()
        self._show(None)

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.instruction = QLabel(self)
        self.instruction.setObjectName("instruction")
        self.instruction.setWordWrap(True)
        self.find_button = self._button(self.tr("Find item (F3)"), self.ask_find)
        self.return_button = self._button(self.tr("Return (F10)"), self.ask_return)
        self.suspended_button = self._button(self.tr("Suspended (F8)"), self.ask_resume)
        self.till_button = self._button(self.tr("Till"), lambda: None)
        self.till_menu = QMenu(self.till_button)
        self.move_action = self.till_menu.addAction(self.tr("Cash in or out…"), self.ask_move)
        self.reprint_action = self.till_menu.addAction(
            self.tr("Reprint the last receipt"), self.reprint_last
        )
        self.close_till_action = self.till_menu.addAction(
            self.tr("Close the till…"), self.ask_close
        )
        self.till_button.setMenu(self.till_menu)
        self.sign_out_button = self._button(self.tr("Sign out"), self.sign_out_requested)
        top = QHBoxLayout()
        top.addWidget(self.instruction, 1)
        for b in (
            self.find_button,
            self.return_button,
            self.suspended_button,
            self.till_button,
            self.sign_out_button,
        ):
            top.addWidget(b)

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(46)
        self.table.verticalHeader().setVisible(False)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        head.setSectionResizeMode(ITEM, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 90), (2, 130), (3, 120), (4, 130)):
            self.table.setColumnWidth(col, width)

        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        self.panel = PayPanel(self)
        self.panel.pay_requested.connect(lambda kind: self.pay(TenderKind(kind)))
        self.panel.open_requested.connect(self.ask_open)
        body.addWidget(self.panel)
        # Names the tests and shortcuts use.
        self.total, self.amount = self.panel.total, self.panel.amount
        self.cash_button, self.card_button = self.panel.cash_button, self.panel.card_button
        self.voucher_button, self.open_button = self.panel.voucher_button, self.panel.open_button

        self.qty = QSpinBox(self)
        self.qty.setRange(1, 999)
        self.qty.setPrefix(self.tr("× "))
        self.qty.setAccessibleName(self.tr("Quantity per scan"))
        self.void_button = self._button(self.tr("Void line"), self.void_selected)
        self.void_button.setObjectName("danger")
        self.discount_button = self._button(self.tr("Discount"), self.ask_discount)
        self.customer_button = self._button(self.tr("Customer"), self.ask_customer)
        self.suspend_button = self._button(self.tr("Suspend"), lambda: self.suspend())
        self.void_sale_button = self._button(self.tr("Void sale"), self.void_sale)
        self.void_sale_button.setObjectName("danger")
        bottom = QHBoxLayout()
        bottom.addWidget(self.code, 1)
        bottom.addWidget(self.qty)
        for b in (
            self.void_button,
            self.discount_button,
            self.customer_button,
            self.suspend_button,
            self.void_sale_button,
        ):
            bottom.addWidget(b)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addLayout(body, 1)
        page.addLayout(bottom)

    def _declare_shortcuts(self) -> None:
        for keys, slot in (
            ("F3", self.ask_find),
            ("F5", lambda: self.pay(TenderKind.CASH)),
            ("F6", lambda: self.pay(TenderKind.CARD)),
            ("F7", lambda: self.pay(TenderKind.VOUCHER)),
            ("F8", self.ask_resume),
            ("F10", self.ask_return),
            ("Escape", self.cancel_waiting),
            ("Delete", self.void_selected),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)

    # --- session ---------------------------------------------------------------------------

    def start_session(self, operator: OperatorView) -> None:
        till = self._factory(operator)
        self._till = till
        self._expect = None

        def started(state: tuple[SessionView | None, Basket | None]) -> None:
            self._session, basket = state
            self._show(basket)
            if self._session is None:
                self._feedback_info(
                    self.tr(
                        "Hello {name} — the till is closed: count the float and open it."
                    ).format(name=operator.name)
                )
            elif basket is not None:
                self._feedback_info(self.tr("The sale left open is back — carry on with it."))
            else:
                self._feedback_info(
                    self.tr("Hello {name} — scan the first item.").format(name=operator.name)
                )
            self.action_done.emit()

        DbOp(self._worker, till.start).success(started).failure(self._failed).run()
        self.code.setFocus()

    def end_session(self) -> None:
        self._till = None
        self._expect = None
        self._show(None)

    @property
    def basket(self) -> Basket | None:
        return self._basket

    @property
    def session(self) -> SessionView | None:
        return self._session

    # --- scanning --------------------------------------------------------------------------

    def handle_scan(self, code: str) -> None:
        """A scan (or a typed code): what it means depends on where the clerk is."""
        till = self._till
        if till is None:
            return
        started = time.perf_counter()
        dialog = self.dialog
        if dialog is not None and dialog.isVisible():
            accept = getattr(dialog, "accept_scan", None)
            if accept is not None:
                accept(code)
                return
            dialog.reject()  # the clerk moved on: the half-filled dialog is dropped
        if self._expect is not None:
            kind, self._expect = self._expect, None
            self._take(kind, code)
            return
        qty = self.qty.value() if self.qty.value() > 1 else None
        self.qty.setValue(1)
        DbOp(self._worker, lambda: till.scan(code, qty)).success(
            lambda result: self._scanned(result, started)
        ).failure(self._failed).run()

    def _scanned(self, result: ScanResult, started: float) -> None:
        if result.receipt is not None:
            self._feedback("good", result.message)
            self.scan_shown.emit()
            self._start_return(result.receipt)
        else:
            if result.basket is not None or result.ok:
                self._show(result.basket)
            if result.line_id is not None:
                self._highlight(result.line_id)
            self._feedback("good" if result.ok else "bad", result.message)
            self.scan_shown.emit()
        self.feedback_ms.append((time.perf_counter() - started) * 1000)
        self.core_ms.append(result.elapsed_ms)

    def _highlight(self, line_id: uuid.UUID) -> None:
        row = self.model.row_of(line_id)
        if row < 0:
            return
        index = self.model.index(row, 0)
        self.table.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    # --- feedback --------------------------------------------------------------------------

    def _feedback_info(self, words: str) -> None:
        self.banner.show_message("info", words)

    def _failed(self, error: BaseException) -> None:
        self._feedback("bad", messages.describe(error, action="action"))
        self.scan_shown.emit()
        self.action_done.emit()

    def _run(self, fn: Callable[[Till], Any], done: Callable[[Any], None]) -> None:
        till = self._till
        if till is None:
            return

        def ok(result: Any) -> None:
            done(result)
            self.action_done.emit()

        DbOp(self._worker, lambda: fn(till)).success(ok).failure(self._failed).run()

    def _basket_action(self, fn: Callable[[Till], Basket], words: str) -> None:
        def done(basket: Basket) -> None:
            self._show(basket)
            self._feedback("good", words)

        self._run(fn, done)

    # --- paying ----------------------------------------------------------------------------

    def pay(self, kind: TenderKind, amount_minor: int | None = None) -> None:
        """Take a payment: cash at once; a card or a balance once its code is typed or scanned."""
        basket = self._basket
        if basket is None or not basket.live_lines:
            self._feedback("bad", self.tr("The basket is empty — scan the first item."))
            return
        if amount_minor is None:
            typed = self.amount.text().strip()
            try:
                amount_minor = parse_money(typed, basket.currency) if typed else basket.due_minor
            except ValidationError as e:
                self._feedback("bad", e.message)
                return
        self.amount.clear()
        if kind is TenderKind.CASH:
            self._take(kind, "", amount_minor)
            return
        self._expect, self._expect_amount = kind, amount_minor
        self.instruction.setText(
            self.tr("Scan or type the approval code from the card terminal")
            if kind is TenderKind.CARD
            else self.tr("Scan the store credit or gift card")
        )
        self._feedback_info(
            self.tr(
                "Card payment of {amount}: run it on the terminal, then its approval code."
            ).format(amount=format_money(amount_minor, basket.currency))
            if kind is TenderKind.CARD
            else self.tr("Scan or type the code on the store credit slip or gift card.")
        )
        self.code.setFocus()

    def cancel_waiting(self) -> None:
        """Esc: the card or balance code the screen waits for is not coming (no payment)."""
        if self._expect is None:
            return
        self._expect = self._expect_amount = None
        self._show(self._basket)
        self._feedback_info(self.tr("No payment taken — choose how the customer pays."))

    def _take(self, kind: TenderKind, reference: str, amount: int | None = None) -> None:
        amount = self._expect_amount if amount is None else amount
        self._expect_amount = None
        basket = self._basket
        if basket is None or amount is None:
            return
        if kind is TenderKind.VOUCHER:
            due = amount

            def voucher(t: Till) -> Basket:
                held = t.balance(reference)
                return t.pay(kind, min(due, held) if held > 0 else due, reference)

            self._run(voucher, self._paid)
            return
        self._run(lambda t: t.pay(kind, amount, reference), self._paid)

    def _paid(self, basket: Basket) -> None:
        self._show(basket)
        if basket.due_minor > 0:
            self._feedback(
                "good",
                self.tr("Payment taken — {due} still to pay.").format(
                    due=format_money(basket.due_minor, basket.currency)
                ),
            )
            return
        self.complete()

    def complete(self) -> None:
        self._run(lambda t: t.complete(), self._completed)

    def _completed(self, done: Completed) -> None:
        self.completed.append(done)
        self._show(None)
        change = format_money(done.change_minor, done.basket.currency)
        words = (
            self.tr("Paid — give {change} change. Receipt {n} is printing.")
            if done.change_minor
            else self.tr("Paid. Receipt {n} is printing. Scan the next customer's first item.")
        )
        self._feedback("good", words.format(change=change, n=done.number))
        self.instruction.setText(
            self.tr("Change: {change}").format(change=change)
            if done.change_minor
            else self.tr("Scan the first item")
        )
        self.sale_completed.emit(done.number)
        self.print_queued.emit()

    def remove_payments(self) -> None:
        self._basket_action(lambda t: t.remove_payments(), self.tr("Payments taken off."))

    def reprint_last(self) -> None:
        def done(_job: Any) -> None:
            self._feedback("good", self.tr("The last receipt is printing again, marked COPY."))
            self.print_queued.emit()

        self._run(lambda t: t.reprint_last(), done)

    # --- dialogs ---------------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(self._dialog_closed)
        dialog.open()

    def _dialog_closed(self, _result: int) -> None:
        self.window().activateWindow()
        self.code.setFocus()

    # --- showing ---------------------------------------------------------------------------

    def _show(self, basket: Basket | None) -> None:
        self._basket = basket
        self.model.set_basket(basket)
        is_open = self._session is not None
        self.panel.show_basket(basket, till_open=is_open)
        selling = is_open and basket is not None and bool(basket.live_lines)
        for w in (
            self.void_button,
            self.discount_button,
            self.customer_button,
            self.suspend_button,
            self.void_sale_button,
        ):
            w.setEnabled(selling)
        for w in (self.void_button, self.void_sale_button):
            w.setVisible(selling)
        for control in (self.move_action, self.close_till_action, self.return_button):
            control.setEnabled(is_open)
        self.instruction.setText(self._instruction(basket))

    def _instruction(self, basket: Basket | None) -> str:
        if self._session is None:
            return self.tr("The till is closed — open it with the float")
        if basket is None or not basket.live_lines:
            return self.tr("Scan the first item")
        if basket.payments:
            return self.tr("Take the rest: {due}").format(
                due=format_money(basket.due_minor, basket.currency)
            )
        return self.tr("Scan the next item, or take payment")
