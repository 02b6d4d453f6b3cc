"""What the counter's use cases hand to the screen: plain frozen data, no Session inside."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.cash import DrawerBalance


@dataclass(frozen=True, slots=True)
class BasketLine:
    id: uuid.UUID
    line_no: int
    product_id: uuid.UUID
    sku: str
    name: str
    qty: int
    grams: int | None
    unit_price_minor: int  # per unit, or per kg; in the price list's basis
    tax_rate_bp: int
    discount_minor: int  # the line's own discount plus its share of the basket's
    amount_minor: int  # after discounts, in the list's basis
    gross_minor: int  # tax included
    voided: bool = False
    embedded_price: bool = False  # the price came from the scale's barcode


@dataclass(frozen=True, slots=True)
class Payment:
    kind: str  # cash / card / voucher
    amount_minor: int
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Basket:
    """A sale being rung up (or suspended, or just completed)."""

    id: uuid.UUID
    status: str  # open / suspended / completed / voided
    basis: str  # inclusive / exclusive
    currency: str
    lines: tuple[BasketLine, ...]  # voided lines included, shown struck through
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    payments: tuple[Payment, ...] = ()
    customer: str = ""
    customer_id: uuid.UUID | None = None
    number: str | None = None  # the receipt number once completed
    change_minor: int = 0
    basket_discount_bp: int = 0
    basket_discount_minor: int = 0

    @property
    def live_lines(self) -> tuple[BasketLine, ...]:
        return tuple(x for x in self.lines if not x.voided)

    @property
    def items(self) -> int:
        return sum(x.qty for x in self.live_lines)

    @property
    def paid_minor(self) -> int:
        return sum(p.amount_minor for p in self.payments)

    @property
    def due_minor(self) -> int:
        return max(0, self.total_minor - self.paid_minor)

    def line(self, line_id: uuid.UUID) -> BasketLine:
        return next(x for x in self.lines if x.id == line_id)


@dataclass(frozen=True, slots=True)
class ScanResult:
    ok: bool
    message: str
    basket: Basket | None
    line_id: uuid.UUID | None = None
    elapsed_ms: float = 0.0
    receipt: str | None = None  # the scan was a receipt's code: its number (for a return)


@dataclass(frozen=True, slots=True)
class Completed:
    basket: Basket
    number: str
    change_minor: int
    print_job_id: uuid.UUID
    opens_drawer: bool


@dataclass(frozen=True, slots=True)
class ProductHit:
    id: uuid.UUID
    sku: str
    name: str
    gtin: str
    price_minor: int
    tax_rate_bp: int
    on_hand: int | None = None  # from the last sync; None when not asked


@dataclass(frozen=True, slots=True)
class SuspendedSale:
    id: uuid.UUID
    note: str
    started_at: datetime
    items: int
    total_minor: int
    operator: str


@dataclass(frozen=True, slots=True)
class SessionView:
    id: uuid.UUID
    status: str
    currency: str
    opened_at: datetime
    operator: str
    opening_float_minor: int
    cash_sales_minor: int
    cash_refunds_minor: int
    paid_in_minor: int
    paid_out_minor: int
    sales: int
    closed_at: datetime | None = None
    counted_minor: int | None = None

    @property
    def drawer(self) -> DrawerBalance:
        return DrawerBalance(
            self.opening_float_minor,
            self.cash_sales_minor,
            self.cash_refunds_minor,
            self.paid_in_minor,
            self.paid_out_minor,
        )

    @property
    def expected_minor(self) -> int:
        return self.drawer.expected_minor

    @property
    def difference_minor(self) -> int | None:
        return None if self.counted_minor is None else self.drawer.difference(self.counted_minor)


@dataclass(frozen=True, slots=True)
class ReturnableLine:
    """A line of a completed sale and what of it can still come back."""

    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    name: str
    qty: int
    returned_qty: int
    gross_minor: int
    refunded_minor: int
    grams: int | None = None

    @property
    def returnable_qty(self) -> int:
        return self.qty - self.returned_qty


@dataclass(frozen=True, slots=True)
class SaleForReturn:
    id: uuid.UUID
    number: str
    completed_at: datetime
    total_minor: int
    refunded_minor: int
    currency: str
    lines: tuple[ReturnableLine, ...]
    tenders: tuple[Payment, ...] = field(default_factory=tuple)
    customer: str = ""

    @property
    def refundable_minor(self) -> int:
        return self.total_minor - self.refunded_minor


@dataclass(frozen=True, slots=True)
class ReturnDone:
    number: str
    refund_minor: int
    refunds: tuple[Payment, ...]  # positive amounts, what went back where
    store_credit: str | None  # the account credited, when refunded to store credit
    print_job_id: uuid.UUID
    opens_drawer: bool


@dataclass(frozen=True, slots=True)
class SessionClosed:
    session: SessionView
    report_job_id: uuid.UUID
