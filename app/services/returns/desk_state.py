"""The returns desk's state and results: what a scan came to, the units on the desk, and the
frozen copies the screen shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from app.domain import returns as rules
from app.services.returns.views import Candidate, RmaLineView, ToResolve


class Outcome(StrEnum):
    OPENED = "opened"  # a return is open: scan its items
    COUNTED = "counted"  # a unit counted
    WANT_SERIAL = "want_serial"  # scan the item's serial number next
    CHOOSE = "choose"  # several orders fit: pick one
    REFUSED = "refused"  # nothing recorded; see offers
    DONE = "done"  # the return is booked in
    WAITING = "waiting"  # a return booked in earlier waits for its resolution here


class Offer(StrEnum):
    SET_ASIDE = "set_aside"
    RECEIVE_UNEXPECTED = "receive_unexpected"
    SUPERVISOR = "supervisor"


@dataclass
class Unit:
    key: int
    product_id: uuid.UUID
    sku: str
    name: str
    reason: rules.Reason
    rma_line_id: uuid.UUID | None
    serial: str | None = None
    condition: rules.Condition | None = None  # None: not graded yet
    disposition: rules.Disposition | None = None
    disposition_by: str | None = None  # a supervisor changed the default
    photos: tuple[str, ...] = ()
    bin_id: uuid.UUID | None = None  # restock: the bin scanned for it (None: its home bin)
    bin_code: str | None = None

    @property
    def unexpected(self) -> bool:
        return self.rma_line_id is None


@dataclass(frozen=True, slots=True)
class DeskResult:
    outcome: Outcome
    message: str
    offers: tuple[Offer, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    elapsed_ms: float = 0.0
    # A return booked in earlier and not resolved yet, scanned again: it waits for its
    # resolution (refund, store credit, exchange) at this desk.
    to_resolve: ToResolve | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.REFUSED


@dataclass(frozen=True, slots=True)
class UnitView:
    key: int
    sku: str
    name: str
    serial: str | None
    reason: rules.Reason
    condition: rules.Condition | None
    disposition: rules.Disposition | None
    unexpected: bool
    disposition_by: str | None
    photos: tuple[str, ...] = ()
    bin_code: str | None = None  # restock: the bin scanned for it


@dataclass(frozen=True, slots=True)
class DeskState:
    order_number: str | None  # None: no return open
    rma_number: str | None  # None with an order: an unannounced return
    expected: tuple[tuple[RmaLineView, int], ...]  # each line with the units scanned
    units: tuple[UnitView, ...]
    waiting_for_supervisor: bool
    wants_serial: bool


@dataclass
class OpenReturn:
    """The return on the desk: an RMA, or an order received without one."""

    order_id: uuid.UUID
    order_number: str
    rma_id: uuid.UUID | None  # None: an unannounced return
    rma_number: str | None
    lines: tuple[RmaLineView, ...]
    serials: dict[str, uuid.UUID]  # serial → product, of the units sold on the order
    returned: dict[str, str]  # serial → RMA number, of those that came back already
    late_approved_by: str | None = None
    units: list[Unit] = field(default_factory=list)
