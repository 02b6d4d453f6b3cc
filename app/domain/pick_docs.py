"""What a pick list and a return slip show, as plain data: the core fills these, printing/ lays
them out (:mod:`printing.pick_list`, :mod:`printing.return_slip`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.documents import Address


class PickKind(StrEnum):
    """How a pick list's stops relate to orders."""

    SINGLE = "single"  # one order
    BATCH = "batch"  # several orders picked together, sorted at the bench
    CLUSTER = "cluster"  # several orders picked together, each into its own tote slot


@dataclass(frozen=True, slots=True)
class PickStop:
    """One visit to a bin: take ``qty`` of ``sku`` for ``order_number``."""

    seq: int  # the stop's place in the walk, as printed
    bin_code: str  # printed as Code 128 too, so the picker can scan it from the paper
    sku: str
    gtin: str
    name: str
    qty: int
    order_number: str
    tote_slot: str | None = None  # cluster picks: the slot of the cart the item goes into
    lot: str | None = None  # the lot to take, when the product is lot-tracked


@dataclass(frozen=True, slots=True)
class PickList:
    """A pick list; ``stops`` are in pick-sequence order (the walk through the warehouse)."""

    number: str  # printed as Code 128: scanning it opens the list at a station
    created_at: datetime
    kind: PickKind
    stops: tuple[PickStop, ...]
    picker: str | None = None  # None: not assigned yet, the paper gets a line to write on

    @property
    def order_numbers(self) -> tuple[str, ...]:
        """The orders on the list, in the order their first stop comes up."""
        return tuple(dict.fromkeys(stop.order_number for stop in self.stops))

    @property
    def units(self) -> int:
        return sum(stop.qty for stop in self.stops)


@dataclass(frozen=True, slots=True)
class ReturnSlipLine:
    sku: str
    name: str
    qty: int
    reason: str  # in the customer's words or the reason code's text; may be empty


@dataclass(frozen=True, slots=True)
class ReturnSlip:
    """The slip a customer packs with a return; its RMA number is scanned at the returns desk."""

    rma_number: str  # printed as Code 128
    order_number: str
    customer: Address
    return_to: Address
    lines: tuple[ReturnSlipLine, ...]
    instructions: tuple[str, ...]  # steps, printed numbered
    return_url: str  # printed as a QR code (track the return, print a carrier label); may be ""
    created_at: datetime

    @property
    def units(self) -> int:
        return sum(line.qty for line in self.lines)
