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
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ValidationError, WaystationError
from app.domain.money import parse_money
from app.domain.receipts import TenderKind
from app.services.counter.till import Till
from app.services.counter.views import (
    Basket,
    Completed,
    ReturnDone,
    SaleForReturn,
    ScanResult,
    SessionClosed,
    SessionView,
)
from app.services.views import OperatorView
from ui import messages
from ui.feedback import Banner, Sounds
from ui.models.basket import ITEM, BasketModel, format_money
from ui.ops import DbOp, DbWorker
from ui.screens.counter_dialogs import (
    CashCountDialog,
    CashMoveDialog,
    DiscountDialog,
    NoReceiptReturnDialog,
    PickDialog,
    ReturnDialog,
)
from ui.theme import Colors

log = logging.getLogger(__name__)


class CounterScreen(QWidget):
    """Signals:
    sign_out_requested(): the clerk is leaving the till.
    sale_completed(str): a sale was paid in full; its receipt number (its receipt is queued).
    print_queued(): something was queued to print (a receipt, a return, the cash report).
    scan_shown(): the result of a scan is on screen (committed, model and banner updated).
    action_done(): a button's action has come back from the database (done or refused).
    """

    sign_out_requested = Signal()
    sale_completed = Signal(str)
    print_queued = Signal()
    scan_shown = Signal()
    action_done = Signal()

    def __init__(
        self,
        worker: DbWorker,
        sounds: Sounds,
        till_factory: Callable[[OperatorView], Till],
        colors: Colors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._sounds = sounds
        self._factory = till_factory
        self._till: Till | None = None
        self._basket: Basket | None = None
        self._session: SessionView | None = None
        self._expect: TenderKind | None = None  # the next scan is this payment's code
        self._expect_amount: int | None = None
        self.dialog: QDialog | None = None
        self.feedback_ms: list[float] = []
        self.core_ms: list[float] = []
        self.completed: list[Completed] = []
        self.returns: list[ReturnDone] = []
        self.closed: SessionClosed | None = None
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
        self.till_button = self._button(self.tr("Cash in/out"), self.ask_move)
        self.close_till_button = self._button(self.tr("Close till"), self.ask_close)
        self.sign_out_button = self._button(self.tr("Sign out"), self.sign_out_requested)
        top = QHBoxLayout()
        top.addWidget(self.instruction, 1)
        for b in (
            self.find_button,
            self.return_button,
            self.suspended_button,
            self.till_button,
            self.close_till_button,
            self.sign_out_button,
        ):
            top.addWidget(b)

        self.banner = Banner(self)

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
        body.addWidget(self._build_panel())

        self.code = QLineEdit(self)
        self.code.setObjectName("manualCode")
        self.code.setPlaceholderText(self.tr("Type a code and press Enter"))
        self.code.setAccessibleName(self.tr("Type a code"))
        self.code.returnPressed.connect(self._typed_code)
        self.qty = QSpinBox(self)
        self.qty.setRange(1, 999)
        self.qty.setPrefix(self.tr("× "))
        self.qty.setAccessibleName(self.tr("Quantity per scan"))
        self.void_button = self._button(self.tr("Void line"), self.void_selected)
        self.void_button.setObjectName("danger")
        self.discount_button = self._button(self.tr("Line discount"), self.ask_line_discount)
        self.basket_discount_button = self._button(
            self.tr("Basket discount"), self.ask_basket_discount
        )
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
            self.basket_discount_button,
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

    def _build_panel(self) -> QFrame:
        panel = QFrame(self)
        panel.setObjectName("panel")
        panel.setFixedWidth(380)
        self.customer = QLabel(panel)
        self.customer.setObjectName("hint")
        self.total_caption = QLabel(self.tr("TOTAL"), panel)
        self.total_caption.setObjectName("sectionTitle")
        self.total = QLabel(panel)
        self.total.setObjectName("counterTotal")
        big = QFont(self.total.font())
        big.setPixelSize(52)
        big.setBold(True)
        self.total.setFont(big)
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.breakdown = QLabel(panel)
        self.breakdown.setObjectName("hint")
        self.breakdown.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.due = QLabel(panel)
        self.due.setObjectName("orderNumber")
        self.due.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.stale = QLabel(self.tr("Prices and stock as of the last sync"), panel)
        self.stale.setObjectName("hint")

        self.pay_pages = QStackedWidget(panel)
        selling = QWidget(self.pay_pages)
        self.amount = QLineEdit(selling)
        self.amount.setPlaceholderText(self.tr("Amount given (empty: what is due)"))
        self.amount.setAccessibleName(self.tr("Amount given"))
        self.cash_button = self._button(self.tr("Cash (F5)"), lambda: self.pay(TenderKind.CASH))
        self.cash_button.setObjectName("primary")
        self.card_button = self._button(self.tr("Card (F6)"), lambda: self.pay(TenderKind.CARD))
        self.card_button.setObjectName("primary")
        self.voucher_button = self._button(
            self.tr("Store credit / gift card (F7)"), lambda: self.pay(TenderKind.VOUCHER)
        )
        self.reprint_button = self._button(self.tr("Reprint last receipt"), self.reprint_last)
        sell_box = QVBoxLayout(selling)
        sell_box.setContentsMargins(0, 0, 0, 0)
        sell_box.addWidget(self.amount)
        pay_row = QHBoxLayout()
        pay_row.addWidget(self.cash_button)
        pay_row.addWidget(self.card_button)
        sell_box.addLayout(pay_row)
        sell_box.addWidget(self.voucher_button)
        sell_box.addWidget(self.reprint_button)
        closed = QWidget(self.pay_pages)
        self.open_button = self._button(self.tr("Open till"), self.ask_open)
        self.open_button.setObjectName("primary")
        self.last_session = QLabel(closed)
        self.last_session.setObjectName("hint")
        self.last_session.setWordWrap(True)
        closed_box = QVBoxLayout(closed)
        closed_box.setContentsMargins(0, 0, 0, 0)
        closed_box.addWidget(self.open_button)
        closed_box.addWidget(self.last_session)
        closed_box.addStretch(1)
        self.pay_pages.addWidget(selling)
        self.pay_pages.addWidget(closed)

        box = QVBoxLayout(panel)
        box.addWidget(self.customer)
        box.addWidget(self.total_caption)
        box.addWidget(self.total)
        box.addWidget(self.breakdown)
        box.addWidget(self.due)
        box.addStretch(1)
        box.addWidget(self.pay_pages)
        box.addWidget(self.stale)
        return panel

    def _button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # scans and typing keep their field
        button.clicked.connect(slot)
        return button

    def _declare_shortcuts(self) -> None:
        for keys, slot in (
            ("F3", self.ask_find),
            ("F5", lambda: self.pay(TenderKind.CASH)),
            ("F6", lambda: self.pay(TenderKind.CARD)),
            ("F7", lambda: self.pay(TenderKind.VOUCHER)),
            ("F8", self.ask_resume),
            ("F10", self.ask_return),
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

    def _typed_code(self) -> None:
        text = self.code.text().strip()
        self.code.clear()
        if text:
            self.handle_scan(text)

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

    def _feedback(self, kind: str, words: str) -> None:
        self.banner.show_message(kind, words)
        self._sounds.play("good" if kind == "good" else "bad")

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

    # --- the basket ------------------------------------------------------------------------

    def selected_line(self) -> uuid.UUID | None:
        rows = self.table.selectionModel().selectedRows()
        line = self.model.line_at(rows[0].row()) if rows else None
        return None if line is None else line.id

    def void_selected(self) -> None:
        line_id = self.selected_line()
        if line_id is None:
            self._feedback("bad", self.tr("Choose the line to void first (touch it)."))
            return
        self._basket_action(lambda t: t.void_line(line_id), self.tr("Line voided."))

    def set_qty(self, line_id: uuid.UUID, qty: int) -> None:
        self._basket_action(lambda t: t.set_qty(line_id, qty), self.tr("Quantity changed."))

    def ask_line_discount(self) -> None:
        line_id = self.selected_line()
        if line_id is None:
            self._feedback("bad", self.tr("Choose the line for the discount first (touch it)."))
            return
        dialog = DiscountDialog(self.tr("Discount on this line"), self)
        dialog.accepted.connect(lambda: self._discount(dialog, line_id))
        self._open(dialog)

    def ask_basket_discount(self) -> None:
        dialog = DiscountDialog(self.tr("Discount on the whole basket"), self)
        dialog.accepted.connect(lambda: self._discount(dialog, None))
        self._open(dialog)

    def _discount(self, dialog: DiscountDialog, line_id: uuid.UUID | None) -> None:
        try:
            percent, amount = dialog.values()
        except WaystationError as e:
            self._feedback("bad", e.message)
            return
        self.give_discount(line_id, percent, amount, dialog.badge or None)

    def give_discount(
        self, line_id: uuid.UUID | None, percent_bp: int, amount_minor: int, badge: str | None
    ) -> None:
        if line_id is None:
            self._basket_action(
                lambda t: t.basket_discount(
                    percent_bp=percent_bp, amount_minor=amount_minor, approver_badge=badge
                ),
                self.tr("Discount given on the basket."),
            )
        else:
            self._basket_action(
                lambda t: t.line_discount(
                    line_id, percent_bp=percent_bp, amount_minor=amount_minor, approver_badge=badge
                ),
                self.tr("Discount given on the line."),
            )

    def ask_find(self) -> None:
        if self._till is None:
            return
        dialog = PickDialog(
            self.tr("Find an item"), self.tr("Name or SKU, then Enter"), self._search_items, self
        )
        dialog.accepted.connect(lambda: self.add_product(dialog.chosen()))
        self._open(dialog)
        dialog.field.setFocus()

    def _search_items(self, text: str, show: Callable[[list[tuple[Any, str]]], None]) -> None:
        def shown(hits: list[Any]) -> None:
            show(
                [
                    (
                        h.id,
                        f"{h.name} · {h.sku} · {format_money(h.price_minor)} · "
                        + self.tr("{n} in stock").format(n=h.on_hand),
                    )
                    for h in hits
                ]
            )

        self._run(lambda t: t.search(text), shown)

    def add_product(self, product_id: uuid.UUID | None) -> None:
        if product_id is None:
            return
        self._basket_action(lambda t: t.add_product(product_id), self.tr("Item added."))

    def ask_customer(self) -> None:
        dialog = PickDialog(
            self.tr("Customer for this sale"),
            self.tr("Name, e-mail or phone, then Enter"),
            lambda text, show: self._run(lambda t: t.find_customers(text), show),
            self,
        )
        dialog.accepted.connect(lambda: self.set_customer(dialog.chosen()))
        self._open(dialog)
        dialog.field.setFocus()

    def set_customer(self, customer_id: uuid.UUID | None) -> None:
        self._basket_action(lambda t: t.set_customer(customer_id), self.tr("Customer set."))

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

    # --- suspend / void --------------------------------------------------------------------

    def suspend(self, note: str = "") -> None:
        def done(_none: Any) -> None:
            self._show(None)
            self._feedback("good", self.tr("Sale suspended — resume it with Suspended (F8)."))

        self._run(lambda t: t.suspend(note), done)

    def ask_resume(self) -> None:
        def listed(sales: list[Any]) -> None:
            rows = [
                (
                    s.id,
                    f"{s.note} · {s.items} "
                    + self.tr("items")
                    + " · "
                    + format_money(s.total_minor)
                    + " · "
                    + s.operator,
                )
                for s in sales
            ]
            if not rows:
                self._feedback("bad", self.tr("No sale is suspended at this till."))
                return
            dialog = PickDialog(self.tr("Resume a suspended sale"), "", None, self, rows=rows)
            dialog.accepted.connect(lambda: self.resume(dialog.chosen()))
            self._open(dialog)

        self._run(lambda t: t.suspended(), listed)

    def resume(self, sale_id: uuid.UUID | None) -> None:
        if sale_id is None:
            return
        self._basket_action(lambda t: t.resume(sale_id), self.tr("Sale resumed — carry on."))

    def void_sale(self) -> None:
        def done(_none: Any) -> None:
            self._show(None)
            self._feedback("good", self.tr("Sale voided. Scan the next customer's first item."))

        self._run(lambda t: t.void(), done)

    # --- returns ---------------------------------------------------------------------------

    def ask_return(self) -> None:
        dialog = PickDialog(
            self.tr("Return: find the sale"),
            self.tr("Receipt number, customer or SKU — or scan the receipt"),
            self._search_sales,
            self,
        )
        no_receipt = QPushButton(self.tr("No receipt…"), dialog)
        no_receipt.clicked.connect(lambda: (dialog.reject(), self.ask_no_receipt_return()))
        dialog.layout().addWidget(no_receipt)
        dialog.accept_scan = lambda code: (dialog.reject(), self._start_return(code))  # type: ignore[attr-defined]
        dialog.accepted.connect(lambda: self._return_sale(dialog.chosen()))
        self._open(dialog)
        dialog.field.setFocus()

    def _search_sales(self, text: str, show: Callable[[list[tuple[Any, str]]], None]) -> None:
        def shown(sales: list[SaleForReturn]) -> None:
            show(
                [
                    (s, f"{s.number} · {format_money(s.total_minor, s.currency)} · {s.customer}")
                    for s in sales
                ]
            )

        self._run(lambda t: t.search_sales(text), shown)

    def _start_return(self, number: str) -> None:
        self._run(lambda t: t.sale_for_return(number), self._return_sale)

    def _return_sale(self, sale: SaleForReturn | None) -> None:
        if sale is None:
            return
        dialog = ReturnDialog(sale, self)
        dialog.accepted.connect(
            lambda: self.complete_return(dialog.items(), sale.id, dialog.refund_to(), None)
        )
        self._open(dialog)

    def ask_no_receipt_return(self) -> None:
        dialog = NoReceiptReturnDialog(self)

        def identify(code: str) -> None:
            def found(hits: list[Any]) -> None:
                if not hits:
                    dialog.item.setText(
                        self.tr("{code} is not an item of this shop.").format(code=code)
                    )
                    return
                h = hits[0]
                dialog.set_product(h.id, f"{h.name} · {format_money(h.price_minor)}")

            self._run(lambda t: t.search(code), found)

        dialog.identify = identify
        dialog.accepted.connect(
            lambda: self.complete_return(
                dialog.items(), None, dialog.refund_to(), dialog.badge or None
            )
        )
        self._open(dialog)

    def complete_return(
        self, items: list[Any], sale_id: uuid.UUID | None, refund_to: Any, badge: str | None
    ) -> None:
        def done(result: ReturnDone) -> None:
            self.returns.append(result)
            where = ", ".join(
                f"{format_money(p.amount_minor)} {self.tr(p.kind)} {p.reference}".strip()
                for p in result.refunds
            )
            self._feedback(
                "good",
                self.tr("Refunded {amount}: {where}. Receipt {n} is printing.").format(
                    amount=format_money(result.refund_minor), where=where, n=result.number
                ),
            )
            self.print_queued.emit()
            self._refresh_session()

        self._run(
            lambda t: t.complete_return(
                items, sale_id=sale_id, refund_to=refund_to, approver_badge=badge
            ),
            done,
        )

    # --- cash ------------------------------------------------------------------------------

    def ask_open(self) -> None:
        dialog = CashCountDialog(
            self._currency(),
            self.tr("Open the till"),
            self.tr("Count the float into the drawer."),
            self,
        )
        dialog.accepted.connect(lambda: self.open_till(dialog.count()))
        self._open(dialog)

    def open_till(self, count: dict[int, int]) -> None:
        def opened(session: SessionView) -> None:
            self._session = session
            self._show(self._basket)
            self._feedback(
                "good",
                self.tr("Till open with a float of {amount} — scan the first item.").format(
                    amount=format_money(session.opening_float_minor, session.currency)
                ),
            )

        self._run(lambda t: t.open_session(count), opened)

    def ask_move(self) -> None:
        dialog = CashMoveDialog(self)
        dialog.accepted.connect(lambda: self._move(dialog))
        self._open(dialog)

    def _move(self, dialog: CashMoveDialog) -> None:
        try:
            amount = dialog.amount_minor()
        except WaystationError as e:
            self._feedback("bad", e.message)
            return
        self.move_cash(dialog.kind(), amount, dialog.reason.currentText())

    def move_cash(self, kind: Any, amount_minor: int, reason: str) -> None:
        def moved(session: SessionView) -> None:
            self._session = session
            self._feedback(
                "good",
                self.tr("Recorded: {amount} {what} ({why}).").format(
                    amount=format_money(amount_minor, session.currency),
                    what=self.tr("in") if kind.value == "in" else self.tr("out"),
                    why=reason,
                ),
            )

        self._run(lambda t: t.move_cash(kind, amount_minor, reason), moved)

    def ask_close(self) -> None:
        dialog = CashCountDialog(
            self._currency(),
            self.tr("Close the till"),
            self.tr("Count every note and coin in the drawer."),
            self,
        )
        dialog.accepted.connect(lambda: self.close_till(dialog.count()))
        self._open(dialog)

    def close_till(self, count: dict[int, int]) -> None:
        def closed(result: SessionClosed) -> None:
            self.closed = result
            self._session = None
            s = result.session
            diff = s.difference_minor or 0
            word = (
                self.tr("balanced")
                if diff == 0
                else self.tr("over by {d}").format(d=format_money(diff, s.currency))
                if diff > 0
                else self.tr("short by {d}").format(d=format_money(-diff, s.currency))
            )
            self._show(None)
            self._feedback(
                "good" if diff == 0 else "warn",
                self.tr(
                    "Till closed: expected {e}, counted {c} — {word}. The cash report is printing."
                ).format(
                    e=format_money(s.expected_minor, s.currency),
                    c=format_money(s.counted_minor or 0, s.currency),
                    word=word,
                ),
            )
            self.print_queued.emit()

        self._run(lambda t: t.close_session(count), closed)

    def _currency(self) -> str:
        return self._till.currency if self._till is not None else "EUR"

    def _refresh_session(self) -> None:
        def got(session: SessionView | None) -> None:
            self._session = session

        self._run(lambda t: t.session(), got)

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
        currency = basket.currency if basket else "EUR"
        total = basket.total_minor if basket else 0
        self.total.setText(format_money(total, currency))
        if basket is not None and basket.live_lines:
            parts = [self.tr("{n} items").format(n=basket.items)]
            if basket.discount_minor:
                parts.append(
                    self.tr("discount {d}").format(d=format_money(-basket.discount_minor, currency))
                )
            parts.append(
                (
                    self.tr("VAT incl. {t}")
                    if basket.basis == "inclusive"
                    else self.tr("+ VAT {t}")
                ).format(t=format_money(basket.tax_minor, currency))
            )
            self.breakdown.setText(" · ".join(parts))
            self.due.setText(
                self.tr("Still to pay: {due}").format(due=format_money(basket.due_minor, currency))
                if basket.payments
                else ""
            )
        else:
            self.breakdown.setText("")
            self.due.setText("")
        self.customer.setText(
            self.tr("Customer: {name}").format(name=basket.customer)
            if basket and basket.customer
            else ""
        )
        is_open = self._session is not None
        self.pay_pages.setCurrentIndex(0 if is_open else 1)
        selling = is_open and basket is not None and bool(basket.live_lines)
        for w in (
            self.cash_button,
            self.card_button,
            self.voucher_button,
            self.void_button,
            self.discount_button,
            self.basket_discount_button,
            self.customer_button,
            self.suspend_button,
            self.void_sale_button,
        ):
            w.setEnabled(selling)
        for w in (self.till_button, self.close_till_button, self.return_button):
            w.setEnabled(is_open)
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
        return self.tr("Scan the next item, or take payment: {total}").format(
            total=format_money(basket.total_minor, basket.currency)
        )
