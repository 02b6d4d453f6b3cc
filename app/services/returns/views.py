"""What the returns desk's use cases hand to a screen: plain frozen data, no ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RmaLineView:
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    name: str
    gtin: str | None
    qty: int
    received: int
    reason: str
    unit_price_minor: int
    track_serial: bool
    order_line_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class RmaView:
    id: uuid.UUID
    number: str
    order_id: uuid.UUID
    order_number: str
    customer: str
    status: str
    requested: str
    unannounced: bool
    currency: str
    created_at: datetime
    received_at: datetime | None
    resolved_at: datetime | None
    lines: tuple[RmaLineView, ...]
    serials_sold: tuple[str, ...] = ()

    @property
    def units(self) -> int:
        return sum(ln.qty for ln in self.lines)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An order (and its open RMA, if any) a scanned code may belong to."""

    order_id: uuid.UUID
    order_number: str
    customer: str
    status: str
    placed_at: datetime
    matched_by: str  # rma / order / tracking / product / serial
    rma_id: uuid.UUID | None = None
    rma_number: str | None = None


@dataclass(frozen=True, slots=True)
class ReceivedUnitView:
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    name: str
    serial: str | None
    condition: str
    disposition: str
    unexpected: bool
    photos: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ReceiptDone:
    rma_id: uuid.UUID
    rma_number: str
    units: int
    op_id: uuid.UUID
    print_jobs: tuple[uuid.UUID, ...]
    missing: int = 0  # units the RMA expected that did not come (they may come back later)


@dataclass(frozen=True, slots=True)
class ToResolve:
    """A return booked in and not resolved yet: what the desk resolves next."""

    rma_id: uuid.UUID
    rma_number: str


@dataclass(frozen=True, slots=True)
class RefundQuote:
    """The most a received return may pay back now, and how the policy came to it."""

    rma_number: str
    currency: str
    most_minor: int
    breakdown: dict[str, int]


@dataclass(frozen=True, slots=True)
class ResolutionDone:
    rma_number: str
    resolution: str
    amount_minor: int
    currency: str
    breakdown: dict[str, int]
    store_credit_account: str | None = None
    exchange_order_number: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnableLine:
    """An order line as customer service sees it when making an RMA."""

    order_line_id: uuid.UUID
    sku: str
    name: str
    shipped: int
    returnable: int  # shipped less the units on other RMAs
    unit_price_minor: int


@dataclass(frozen=True, slots=True)
class ReturnableOrder:
    """A shipped order an RMA can be made for: its lines with the units that may come back."""

    order_id: uuid.UUID
    number: str
    customer: str
    status: str
    shipped_at: datetime
    currency: str
    late_by_days: int  # days past the policy's window; 0 inside it
    lines: tuple[ReturnableLine, ...]

    @property
    def returnable(self) -> int:
        return sum(ln.returnable for ln in self.lines)
