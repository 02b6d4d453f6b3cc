"""The counter as a workflow: one clerk at one till, the sale being rung up, and what a scan
means. The counter screen calls these methods on its database worker and shows the results.

A product scan adds to the basket (starting a sale when there is none); the code of a receipt
(its barcode, scanned at the counter) starts a return of that sale. Every scan is kept with its
outcome, accepted or not, as the pack bench does.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from app.domain.cash import CashMoveKind
from app.domain.errors import (
    MalformedScanError,
    NotFoundError,
    UnknownBarcodeError,
    ValidationError,
    WaystationError,
)
from app.domain.money import money
from app.domain.receipts import TenderKind
from app.services.counter import basket as bk
from app.services.counter import catalog, checkout, documents, lines, returns, sessions
from app.services.counter.views import (
    Basket,
    Completed,
    ProductHit,
    ReturnDone,
    SaleForReturn,
    ScanResult,
    SessionClosed,
    SessionView,
    SuspendedSale,
)
from app.services.views import OperatorView
from app.store.uow import UnitOfWork


class Till:
    """One clerk's session at one till. Not thread-safe: use it from the one database worker."""

    def __init__(
        self,
        uow_factory: Callable[[OperatorView | None], UnitOfWork],
        operator: OperatorView,
        gs_replacement: str | None = None,
    ) -> None:
        self._factory = uow_factory
        self.operator = operator
        self.gs_replacement = gs_replacement or None
        self.sale_id: uuid.UUID | None = None
        self.last_completed: uuid.UUID | None = None
        self._settings: catalog.CounterSettings | None = None

    def _uow(self) -> UnitOfWork:
        return self._factory(self.operator)

    def settings(self) -> catalog.CounterSettings:
        if self._settings is None:
            with self._uow() as uow:
                self._settings = catalog.settings(uow)
        return self._settings

    # ------------------------------------------------------------------ starting

    def start(self) -> tuple[SessionView | None, Basket | None]:
        """The till's state when the clerk signs in: the session, and a sale left open."""
        with self._uow() as uow:
            session = sessions.current(uow)
            self.sale_id = checkout.open_sale_id(uow)
            basket = bk.get_basket(uow, self.sale_id) if self.sale_id else None
        self.settings()
        return session, basket

    @property
    def currency(self) -> str:
        """The till's currency (known once :meth:`start` has run)."""
        return self._settings.currency if self._settings else "EUR"

    def session(self) -> SessionView | None:
        with self._uow() as uow:
            return sessions.current(uow)

    # ------------------------------------------------------------------ scanning

    def scan(self, raw: str, qty: int | None = None) -> ScanResult:
        started = time.perf_counter()
        try:
            with self._uow() as uow:
                result = self._scan(uow, raw, qty or 1)
        except WaystationError as e:
            outcome = (
                "malformed"
                if isinstance(e, MalformedScanError)
                else "unknown"
                if isinstance(e, UnknownBarcodeError)
                else "rejected"
            )
            receipt = self._receipt_code(raw) if outcome != "malformed" else None
            if receipt is not None:
                result = ScanResult(
                    True,
                    f"Receipt {receipt} — choose what comes back.",
                    self._basket(),
                    receipt=receipt,
                )
            else:
                with self._uow() as uow:
                    bk.record_rejected_scan(uow, raw, self.sale_id, outcome, e.message)
                result = ScanResult(False, e.message, self._basket())
        return replace(result, elapsed_ms=(time.perf_counter() - started) * 1000)

    def _scan(self, uow: UnitOfWork, raw: str, qty: int) -> ScanResult:
        from app.scanning.normalize import normalize  # biip loads on the first scan

        scan = normalize(raw, gs_replacement=self.gs_replacement)
        sale_id = self.sale_id or bk.start_sale(uow, self._settings)
        basket, line_id = bk.scan_item(uow, sale_id, scan, qty, self._settings)
        self.sale_id = sale_id
        line = basket.line(line_id)
        what = f"{line.qty} × {line.name}" if line.qty > 1 else line.name
        if line.grams is not None:
            what = f"{line.name}, {line.grams / 1000:.3f} kg"
        words = f"{what} — {money(line.gross_minor, basket.currency)}"
        return ScanResult(True, words, basket, line_id)

    def _receipt_code(self, raw: str) -> str | None:
        code = raw.strip().upper()
        if len(code) < 4:
            return None
        try:
            with self._uow() as uow:
                return returns.sale_for_return(uow, code).number
        except WaystationError:
            return None

    def _basket(self) -> Basket | None:
        if self.sale_id is None:
            return None
        with self._uow() as uow:
            return bk.get_basket(uow, self.sale_id)

    # ------------------------------------------------------------------ the basket

    def _current(self) -> uuid.UUID:
        if self.sale_id is None:
            raise ValidationError("No sale is open — scan the first item to start one.")
        return self.sale_id

    def _do(self, fn: Callable[[UnitOfWork, uuid.UUID], Basket]) -> Basket:
        sale_id = self._current()
        with self._uow() as uow:
            return fn(uow, sale_id)

    def add_product(self, product_id: uuid.UUID, qty: int = 1) -> Basket:
        with self._uow() as uow:
            sale_id = self.sale_id or bk.start_sale(uow, self._settings)
            basket, _ = bk.add_product(uow, sale_id, product_id, qty)
        self.sale_id = sale_id
        return basket

    def set_qty(self, line_id: uuid.UUID, qty: int) -> Basket:
        return self._do(lambda u, s: lines.set_qty(u, s, line_id, qty))

    def void_line(self, line_id: uuid.UUID) -> Basket:
        return self._do(lambda u, s: lines.void_line(u, s, line_id))

    def line_discount(
        self,
        line_id: uuid.UUID,
        *,
        percent_bp: int = 0,
        amount_minor: int = 0,
        approver_badge: str | None = None,
    ) -> Basket:
        return self._do(
            lambda u, s: lines.set_line_discount(
                u,
                s,
                line_id,
                percent_bp=percent_bp,
                amount_minor=amount_minor,
                approver_badge=approver_badge,
            )
        )

    def basket_discount(
        self, *, percent_bp: int = 0, amount_minor: int = 0, approver_badge: str | None = None
    ) -> Basket:
        return self._do(
            lambda u, s: lines.set_basket_discount(
                u,
                s,
                percent_bp=percent_bp,
                amount_minor=amount_minor,
                approver_badge=approver_badge,
            )
        )

    def set_customer(self, customer_id: uuid.UUID | None) -> Basket:
        return self._do(lambda u, s: lines.set_customer(u, s, customer_id))

    def find_customers(self, text: str) -> list[tuple[uuid.UUID, str]]:
        with self._uow() as uow:
            return lines.find_customers(uow, text)

    def search(self, text: str) -> list[ProductHit]:
        with self._uow() as uow:
            return catalog.search_products(uow, text)

    # ------------------------------------------------------------------ paying

    def pay(self, kind: TenderKind, amount_minor: int, reference: str = "") -> Basket:
        return self._do(lambda u, s: checkout.add_payment(u, s, kind, amount_minor, reference))

    def remove_payments(self) -> Basket:
        return self._do(checkout.remove_payments)

    def complete(self) -> Completed:
        sale_id = self._current()
        with self._uow() as uow:
            done = checkout.complete_sale(uow, sale_id)
        self.sale_id = None
        self.last_completed = sale_id
        return done

    def suspend(self, note: str = "") -> None:
        sale_id = self._current()
        with self._uow() as uow:
            checkout.suspend_sale(uow, sale_id, note)
        self.sale_id = None

    def suspended(self) -> list[SuspendedSale]:
        with self._uow() as uow:
            return checkout.suspended_sales(uow)

    def resume(self, sale_id: uuid.UUID) -> Basket:
        if self.sale_id is not None:
            raise ValidationError(
                "A sale is open — complete or suspend it before resuming another."
            )
        with self._uow() as uow:
            basket = checkout.resume_sale(uow, sale_id)
        self.sale_id = sale_id
        return basket

    def void(self, reason: str = "") -> None:
        sale_id = self._current()
        with self._uow() as uow:
            checkout.void_sale(uow, sale_id, reason)
        self.sale_id = None

    def reprint_last(self) -> uuid.UUID:
        if self.last_completed is None:
            raise NotFoundError("No sale was completed at this till since signing in.")
        sale_id = self.last_completed
        with self._uow() as uow:
            return documents.reprint_receipt(uow, sale_id)

    # ------------------------------------------------------------------ returns

    def sale_for_return(self, number: str) -> SaleForReturn:
        with self._uow() as uow:
            return returns.sale_for_return(uow, number)

    def search_sales(self, text: str) -> list[SaleForReturn]:
        with self._uow() as uow:
            return returns.search_sales(uow, text)

    def complete_return(
        self,
        items: list[returns.ReturnItem],
        *,
        sale_id: uuid.UUID | None,
        refund_to: returns.RefundTo,
        approver_badge: str | None = None,
    ) -> ReturnDone:
        with self._uow() as uow:
            return returns.complete_return(
                uow, items, sale_id=sale_id, refund_to=refund_to, approver_badge=approver_badge
            )

    # ------------------------------------------------------------------ cash

    def open_session(self, float_count: dict[int, int]) -> SessionView:
        with self._uow() as uow:
            return sessions.open_session(uow, float_count=float_count)

    def move_cash(self, kind: CashMoveKind, amount_minor: int, reason: str) -> SessionView:
        with self._uow() as uow:
            return sessions.move_cash(uow, kind, amount_minor, reason)

    def close_session(self, count: dict[int, int]) -> SessionClosed:
        if self.sale_id is not None:
            with self._uow() as uow:
                basket = bk.get_basket(uow, self.sale_id)
            if basket.live_lines:
                raise ValidationError(
                    "A sale is still open — complete, suspend or void it before closing the till."
                )
        with self._uow() as uow:
            return sessions.close_session(uow, count=count)

    def balance(self, code: str) -> int:
        """What a store credit or gift card still holds."""
        from app.services.counter import store_credit

        with self._uow() as uow:
            return store_credit.balance(uow, code)[0]
