"""Read-only results that use cases hand to the screens: plain frozen data, no Session inside."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class OperatorView:
    id: uuid.UUID
    name: str
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class LineView:
    id: uuid.UUID
    line_no: int
    product_id: uuid.UUID
    sku: str
    gtin: str
    name: str
    bin: str
    ordered: int
    packed: int
    missing: int
    needs_lot: bool
    needs_serial: bool
    needs_expiry: bool = False

    @property
    def remaining(self) -> int:
        return self.ordered - self.packed - self.missing

    @property
    def complete(self) -> bool:
        return self.remaining <= 0


@dataclass(frozen=True, slots=True)
class PackageView:
    id: uuid.UUID
    seq: int
    box_type: str
    weight_g: int | None
    closed: bool
    units: int
    contents: tuple[tuple[uuid.UUID, int], ...]  # (order line id, units)
    sscc: str | None = None


@dataclass(frozen=True, slots=True)
class OrderView:
    id: uuid.UUID
    number: str
    status: str
    customer: str
    email: str
    channel: str
    placed_at: datetime
    hold_reason: str
    lines: tuple[LineView, ...]
    packages: tuple[PackageView, ...]
    version: int = 0

    @property
    def units_ordered(self) -> int:
        return sum(line.ordered for line in self.lines)

    @property
    def units_packed(self) -> int:
        return sum(line.packed for line in self.lines)

    @property
    def all_packed(self) -> bool:
        return all(line.complete for line in self.lines)

    @property
    def open_package(self) -> PackageView | None:
        opened = [p for p in self.packages if not p.closed]
        return opened[-1] if opened else None

    def line(self, line_id: uuid.UUID) -> LineView:
        return next(line for line in self.lines if line.id == line_id)


class ScanOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class PackScanResult:
    """What an accepted item scan did: which line, how many units, the order after it."""

    order: OrderView
    line_id: uuid.UUID
    units: int
    message: str


@dataclass(frozen=True, slots=True)
class OrderSummary:
    id: uuid.UUID
    number: str
    status: str
    customer: str
    email: str
    placed_at: datetime
    lines: int


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    what: str
    who: str
    detail: str
    video: str = ""  # a film of the packing to open (pack-bench video), if this entry is one


@dataclass(frozen=True, slots=True)
class CompletedOrder:
    order: OrderView
    print_job_id: uuid.UUID
