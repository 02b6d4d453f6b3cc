"""What the counter screen does besides scanning and paying: changing the basket (void,
discounts, an item picked by name, the customer), suspending and voiding sales, returns, and the
till's cash (open, cash in and out, close with a count).

The flows are written against :class:`CounterBase`, which says what they need of the screen;
:class:`ui.screens.counter.CounterScreen` is built on them and provides it. Each method starts a
use case on the database worker through the screen's ``_run`` and shows the result with its
``_feedback``; nothing here touches the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QPushButton, QTableView

from app.domain.errors import WaystationError
from app.services.counter.till import Till
from app.services.counter.views import (
    Basket,
    ReturnDone,
    SaleForReturn,
    SessionClosed,
    SessionView,
)
from ui.models.basket import BasketModel, format_money
from ui.screens.counter_dialogs import (
    CashCountDialog,
    CashMoveDialog,
    DiscountDialog,
    NoReceiptReturnDialog,
    PickDialog,
    ReturnDialog,
)
from ui.screens.station_screen import StationScreen


class CounterBase(StationScreen):
    """What the flows need of the counter screen: its basket table, the till and the sale it
    shows, and running a use case and showing what comes back. The screen
    (:class:`ui.screens.counter.CounterScreen`) sets the attributes and implements the methods.

    Signals:
        print_queued(): something was queued to print (a receipt, a return, the cash report).
    """

    print_queued = Signal()

    table: QTableView
    model: BasketModel
    returns: list[ReturnDone]
    closed: SessionClosed | None
    _till: Till | None
    _basket: Basket | None
    _session: SessionView | None

    def _run(self, fn: Callable[[Till], Any], done: Callable[[Any], None]) -> None:
        """``fn`` with the till on the database worker; ``done`` gets its result."""
        raise NotImplementedError

    def _basket_action(self, fn: Callable[[Till], Basket], words: str) -> None:
        """``fn`` changes the basket; the basket it returns is shown with ``words``."""
        raise NotImplementedError

    def _open(self, dialog: QDialog) -> None:
        """Open ``dialog`` as the one that takes the scans while it is open."""
        raise NotImplementedError

    def _show(self, basket: Basket | None) -> None:
        """``basket`` on screen (None: no sale), and what the clerk does next."""
        raise NotImplementedError


class BasketActions(CounterBase):
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

    def ask_discount(self) -> None:
        """Money off the line chosen in the basket, or off the whole basket."""
        line_id = self.selected_line()
        dialog = DiscountDialog(self.tr("Discount"), line_id is not None, self)
        dialog.accepted.connect(
            lambda: self._discount(dialog, line_id if dialog.on_line() else None)
        )
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


class TillFlows(CounterBase):
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

        def without_receipt() -> None:
            dialog.reject()
            self.ask_no_receipt_return()

        def receipt_scanned(code: str) -> None:
            dialog.reject()
            self._start_return(code)

        no_receipt = QPushButton(self.tr("No receipt…"), dialog)
        no_receipt.clicked.connect(without_receipt)
        dialog.box.addWidget(no_receipt)
        dialog.accept_scan = receipt_scanned
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
