"""Booking a return in: the units that came back, graded, with what happens to each, in one
transaction with its stock movements, its print jobs and one ``returns.received`` operation.

Each disposition becomes ledger rows (reason in brackets): restock puts the unit in a bin
(``return``); refurbish and quarantine book it in apart from sellable stock, with no bin
(``refurbish``, ``quarantine``); scrap and return-to-vendor book it in and out again (``return``
then ``scrap`` / ``rtv``), so the ledger keeps both facts. A restocked unit gets a new product
label; any other a tag headed with where it goes (quarantine, refurbish, scrap, return to
vendor: the document ``quarantine_tag``), through the print queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.domain import returns as rules
from app.domain.errors import NotFoundError, ScanRejectedError, ValidationError
from app.domain.roles import Permission
from app.ids import new_id
from app.services import auth, print_jobs
from app.services.returns import rmas
from app.services.returns.views import ReceiptDone
from app.services.stock import movement_payload
from app.store.models import (
    Location,
    Product,
    ReturnUnit,
    Rma,
    RmaLine,
    ScanEvent,
    StockMovement,
)
from app.store.uow import UnitOfWork

RECEIVED = "returns.received"
WORKFLOW = "returns"  # the scan events' workflow
# Ledger reasons a receipt may write (the central applier accepts these and no others).
REASONS = frozenset({"return", "refurbish", "quarantine", "scrap", "rtv"})
_OUT = {rules.Disposition.SCRAP: "scrap", rules.Disposition.RETURN_TO_VENDOR: "rtv"}
_IN = {
    rules.Disposition.RESTOCK: "return",
    rules.Disposition.REFURBISH: "refurbish",
    rules.Disposition.QUARANTINE: "quarantine",
    rules.Disposition.SCRAP: "return",
    rules.Disposition.RETURN_TO_VENDOR: "return",
}
LABEL_DOC, TAG_DOC = "product_label", "quarantine_tag"


@dataclass(frozen=True, slots=True)
class UnitIn:
    """One unit as graded at the desk."""

    product_id: uuid.UUID
    condition: rules.Condition
    disposition: rules.Disposition
    rma_line_id: uuid.UUID | None = None  # None: not on the RMA, received as unexpected
    serial: str | None = None
    location_id: uuid.UUID | None = None  # restock: the bin (None: the product's home bin)
    photos: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ScanIn:
    """A scan the desk accepted for this return, kept as a scan event with the receipt."""

    raw: str
    at: datetime
    resolved_kind: str | None = None  # order / rma / product
    entity_id: uuid.UUID | None = None
    message: str = ""


class AlreadyReceivedError(ScanRejectedError):
    """The RMA was booked in before (or cancelled): a parcel for it is set aside for a
    supervisor."""


def when_received(at: datetime | None) -> str:
    """When a return was booked in, as the desk's words say it."""
    return f"{at:%d %b %Y %H:%M}" if at is not None else "earlier"


def not_open_words(number: str, status: str, received_at: datetime | None) -> str:
    """Why a parcel's RMA cannot be booked in: it was cancelled, or received already."""
    if status == rmas.CANCELLED:
        return (
            f"RMA {number} was cancelled — nothing was booked. Set the parcel aside for a "
            "supervisor."
        )
    when = when_received(received_at)
    resolved = " and resolved" if status == rmas.RESOLVED else ""
    return (
        f"RMA {number} was received{resolved} already ({when}) — nothing was booked. Set the "
        "parcel aside for a supervisor."
    )


def receive(
    uow: UnitOfWork,
    rma_id: uuid.UUID,
    units: Sequence[UnitIn],
    *,
    late_approved_by: str | None = None,
    scans: Sequence[ScanIn] = (),
) -> ReceiptDone:
    """Book the graded units of an authorised RMA in; one operation. ``scans`` are the desk's
    accepted scans of this parcel: scan events in the same transaction (and operation)."""
    auth.check(uow, Permission.RECEIVE_RETURN)
    s = uow.session
    rma = s.get(Rma, rma_id)
    if rma is None:
        raise NotFoundError("That return is not on this station — scan the RMA again.")
    if rma.status != rmas.AUTHORISED:
        raise AlreadyReceivedError(not_open_words(rma.number, rma.status, rma.received_at))
    if not units:
        raise ValidationError("Scan at least one item before completing the return.")
    lines = {ln.id: ln for ln in s.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id))}
    _check_serials(uow, rma, units)
    counted: dict[uuid.UUID, int] = {}
    rows: list[ReturnUnit] = []
    movements: list[StockMovement] = []
    jobs: list[uuid.UUID] = []
    for u in units:
        if u.rma_line_id is not None:
            line = lines.get(u.rma_line_id)
            if line is None or line.product_id != u.product_id:
                raise ValidationError(f"That item is not on RMA {rma.number}.")
            counted[line.id] = counted.get(line.id, 0) + 1
            if counted[line.id] > line.qty:
                raise ValidationError(
                    f"RMA {rma.number} expects {line.qty} of that item — receive the others "
                    "as unexpected."
                )
        product = s.get(Product, u.product_id)
        if product is None:
            raise NotFoundError("That product is not on this station.")
        unit = ReturnUnit(
            id=new_id(),
            rma_id=rma.id,
            warehouse_id=rma.warehouse_id,
            rma_line_id=u.rma_line_id,
            product_id=product.id,
            serial=u.serial,
            condition=u.condition.value,
            disposition=u.disposition.value,
            location_id=_bin(uow, product, u),
            photos={"paths": list(u.photos)},
            unexpected=u.rma_line_id is None,
            received_at=uow.now,
            station_id=uow.actor.station_id,
            operator=uow.actor.operator_name,
        )
        rows.append(unit)
        movements += _movements(uow, unit, rma.number)
    for line_id, n in counted.items():
        lines[line_id].qty_received += n
    rma.status = rmas.RECEIVED
    rma.received_at = uow.now
    rma.received_station = uow.actor.station_id
    rma.late_approved_by = rma.late_approved_by or late_approved_by
    rma.version += 1
    events = [_scan_event(uow, rma, scan) for scan in scans]
    s.add_all(rows)
    s.add_all(movements)
    s.add_all(events)
    s.flush()
    for unit in rows:
        doc = _document(rules.Disposition(unit.disposition))
        if doc:
            jobs.append(print_jobs.queue_job(uow, doc, unit.id, f"{rma.number} {doc}"))
    op_id = uow.record(
        RECEIVED,
        {
            "rma_id": str(rma.id),
            "number": rma.number,
            "received_at": uow.now.isoformat(),
            "operator_name": uow.actor.operator_name,
            "late_approved_by": rma.late_approved_by,
            "units": [unit_payload(u) for u in rows],
            "movements": [movement_payload(_columns(m)) for m in movements],
            "scans": [scan_payload(e) for e in events],
        },
        entity="rma",
        entity_id=rma.id,
    )
    rma.received_op = op_id
    s.flush()
    missing = sum(max(0, ln.qty - ln.qty_received) for ln in lines.values())
    return ReceiptDone(rma.id, rma.number, len(rows), op_id, tuple(jobs), missing)


def _check_serials(uow: UnitOfWork, rma: Rma, units: Sequence[UnitIn]) -> None:
    """A serial number comes back once: not twice in one parcel, nor on two RMAs."""
    serials = [u.serial.upper() for u in units if u.serial]
    if not serials:
        return
    twice = next((x for x in serials if serials.count(x) > 1), None)
    if twice is not None:
        raise ValidationError(
            f"Serial {twice} is in this return twice — set one item aside; nothing was booked."
        )
    found = uow.session.execute(
        select(ReturnUnit.serial, Rma.number)
        .join(Rma, Rma.id == ReturnUnit.rma_id)
        .where(Rma.order_id == rma.order_id, ReturnUnit.serial.in_(serials))
        .limit(1)
    ).first()
    if found is not None:
        raise ValidationError(
            f"Serial {found[0]} came back on RMA {found[1]} already — set the item aside for a "
            "supervisor; nothing was booked."
        )


def _scan_event(uow: UnitOfWork, rma: Rma, scan: ScanIn) -> ScanEvent:
    return ScanEvent(
        id=new_id(),
        at=scan.at,
        station_id=uow.actor.station_id,
        operator_id=uow.actor.operator_id,
        workflow=WORKFLOW,
        raw=scan.raw[:300],
        resolved_kind=scan.resolved_kind,
        entity_id=scan.entity_id,
        order_id=rma.order_id,
        outcome="accepted",
        message=scan.message,
    )


def scan_payload(e: ScanEvent) -> dict[str, object]:
    return {
        "id": str(e.id),
        "at": e.at.isoformat(),
        "raw": e.raw,
        "resolved_kind": e.resolved_kind,
        "entity_id": None if e.entity_id is None else str(e.entity_id),
        "message": e.message,
    }


def record_refused_scan(uow: UnitOfWork, raw: str, order_id: uuid.UUID | None, words: str) -> None:
    """A scan the desk refused: nothing is booked, but the scan is kept as a fact a supervisor
    can review (``scan.rejected``, as at the pack bench)."""
    event = ScanEvent(
        id=new_id(),
        at=uow.now,
        station_id=uow.actor.station_id,
        operator_id=uow.actor.operator_id,
        workflow=WORKFLOW,
        raw=raw[:300],
        order_id=order_id,
        outcome="rejected",
        message=words,
    )
    uow.session.add(event)
    uow.session.flush()
    uow.record(
        "scan.rejected",
        {
            "workflow": WORKFLOW,
            "raw": raw[:300],
            "order_id": None if order_id is None else str(order_id),
            "outcome": "rejected",
            "reason": words,
            "scan_id": str(event.id),
        },
        entity="order" if order_id else "scan",
        entity_id=order_id,
    )


def _bin(uow: UnitOfWork, product: Product, u: UnitIn) -> uuid.UUID | None:
    if u.disposition is not rules.Disposition.RESTOCK:
        return None
    location = u.location_id or product.home_location_id
    if location is None:
        raise ValidationError(
            f"{product.sku} has no home bin — scan the label of the bin it goes back to, or "
            "change where it goes (quarantine)."
        )
    if uow.session.get(Location, location) is None:
        raise NotFoundError("That bin is not on this station — scan the bin again.")
    return location


def _movements(uow: UnitOfWork, unit: ReturnUnit, ref: str) -> list[StockMovement]:
    disposition = rules.Disposition(unit.disposition)

    def move(qty: int, reason: str, location: uuid.UUID | None) -> StockMovement:
        return StockMovement(
            id=new_id(),
            at=uow.now,
            product_id=unit.product_id,
            location_id=location,
            qty=qty,
            reason=reason,
            ref=ref[:60],
            station_id=uow.actor.station_id,
        )

    rows = [move(1, _IN[disposition], unit.location_id)]
    if disposition in _OUT:
        rows.append(move(-1, _OUT[disposition], None))
    return rows


def _document(disposition: rules.Disposition) -> str:
    """A restocked unit gets a new product label; any other a tag saying where it goes."""
    return LABEL_DOC if disposition is rules.Disposition.RESTOCK else TAG_DOC


def _columns(m: StockMovement) -> dict[str, object]:
    return {
        "id": m.id,
        "product_id": m.product_id,
        "location_id": m.location_id,
        "qty": m.qty,
        "reason": m.reason,
        "ref": m.ref,
        "at": m.at,
    }


def unit_payload(u: ReturnUnit) -> dict[str, object]:
    return {
        "id": str(u.id),
        "rma_line_id": None if u.rma_line_id is None else str(u.rma_line_id),
        "product_id": str(u.product_id),
        "serial": u.serial,
        "condition": u.condition,
        "disposition": u.disposition,
        "location_id": None if u.location_id is None else str(u.location_id),
        "photos": list(u.photos.get("paths", [])),
        "unexpected": u.unexpected,
    }
