"""The pack bench's use cases: open an order, scan items into the box, undo, report a missing
item, and complete the order (stock moves out, the packing slip is queued to print).

Every function takes a unit of work whose actor is the signed-in packer; each is one local
transaction with its audit event and outbox operation. Scanning an item, the hot path, is in
:mod:`app.services.item_scan`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from app.clock import utcnow
from app.domain.errors import (
    InvalidTransitionError,
    MalformedScanError,
    ScanRejectedError,
    UnknownBarcodeError,
    ValidationError,
    WaystationError,
)
from app.domain.orders import OrderStatus, check_packable, check_transition
from app.domain.roles import Permission
from app.ids import new_id
from app.services import auth, print_jobs
from app.services.item_scan import WORKFLOW
from app.services.item_scan import ItemScan as ItemScan  # the item scan, by its old address
from app.services.item_scan import pack_resolved as pack_resolved
from app.services.item_scan import scan_item as scan_item
from app.services.orders import load_order, order_view
from app.services.packages import open_package_for
from app.services.resolve import Kind, Resolved, resolve
from app.services.views import CompletedOrder, OrderView, ScanOutcome
from app.store.models import (
    OrderLine,
    Package,
    PackageItem,
    PackedUnit,
    ScanEvent,
    StockMovement,
    Tote,
)
from app.store.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.scanning.normalize import Scan


def open_order(uow: UnitOfWork, raw: str, gs_replacement: str | None = None) -> OrderView:
    """Open the order a scan names (order number, pick-list barcode, or a tote carrying it)."""
    from app.scanning.normalize import normalize

    scan = normalize(raw, gs_replacement=gs_replacement)
    return open_resolved(uow, scan, resolve(uow.session, scan))


def open_resolved(uow: UnitOfWork, scan: Scan, found: Resolved | None) -> OrderView:
    return open_and_claim(uow, scan, found)[0]


def open_and_claim(
    uow: UnitOfWork, scan: Scan, found: Resolved | None
) -> tuple[OrderView, uuid.UUID]:
    """Open the order for packing; return it with the id of its ``order.pack_started``
    operation — the claim, which a station with a central database may wait on
    (:mod:`app.sync.claims`)."""
    auth.check(uow, Permission.PACK)
    s = uow.session
    if found is None:
        raise UnknownBarcodeError(
            f"{scan.text} is not an order, tote or pick list this station knows — "
            "check the number and scan it again, or search for the order."
        )
    order_id = _order_of(uow, found, scan)
    order = load_order(s, order_id)
    check_packable(order.number, OrderStatus(order.status))
    if order.status != OrderStatus.PACKING:
        order.status = OrderStatus.PACKING
        order.version += 1
    package = open_package_for(uow, order)
    claim = uow.record(
        "order.pack_started",
        {
            "order_id": str(order.id),
            "number": order.number,
            "package_id": str(package.id),
            "package": package.seq,
        },
        entity="order",
        entity_id=order.id,
    )
    s.flush()
    return order_view(s, order), claim


def _order_of(uow: UnitOfWork, found: Resolved, scan: Scan) -> uuid.UUID:
    if found.kind is Kind.ORDER:
        return found.entity_id
    if found.kind is Kind.TOTE:
        tote = uow.session.get(Tote, found.entity_id)
        if tote is None or tote.order_id is None:
            raise ScanRejectedError(
                f"Tote {scan.text} is empty — it carries no order. Scan the order number instead."
            )
        return tote.order_id
    raise ScanRejectedError(
        f"{scan.text} is a {found.kind.value}, not an order — scan the order number, "
        "the pick list's barcode or the tote."
    )


def _scan_event(
    uow: UnitOfWork,
    raw: str,
    order_id: uuid.UUID | None,
    found: Resolved | None,
    outcome: ScanOutcome,
    message: str,
) -> ScanEvent:
    event = ScanEvent(
        station_id=uow.actor.station_id,
        operator_id=uow.actor.operator_id,
        workflow=WORKFLOW,
        raw=raw[:300],
        resolved_kind=found.kind.value if found else None,
        entity_id=found.entity_id if found else None,
        order_id=order_id,
        outcome=outcome.value,
        message=message,
    )
    uow.session.add(event)
    return event


def outcome_of(error: WaystationError) -> ScanOutcome:
    if isinstance(error, MalformedScanError):
        return ScanOutcome.MALFORMED
    if isinstance(error, UnknownBarcodeError):
        return ScanOutcome.UNKNOWN
    return ScanOutcome.REJECTED


def record_rejected_scan(
    uow: UnitOfWork,
    raw: str,
    order_id: uuid.UUID | None,
    error: WaystationError,
    scan_id: uuid.UUID | None = None,
) -> None:
    """Keep a scan that counted nothing: every scan is a fact the supervisor can review."""
    outcome = outcome_of(error)
    event = _scan_event(uow, raw, order_id, None, outcome, error.message)
    event.id = scan_id or new_id()
    uow.record(
        "scan.rejected",
        {
            "workflow": WORKFLOW,
            "raw": raw[:300],
            "order_id": str(order_id) if order_id else None,
            "outcome": outcome.value,
            "reason": error.message,
            "scan_id": str(event.id),
        },
        entity="order" if order_id else "scan",
        entity_id=order_id,
    )


def undo_last_scan(uow: UnitOfWork, order_id: uuid.UUID) -> OrderView:
    auth.check(uow, Permission.PACK)
    s = uow.session
    order = load_order(s, order_id)
    if order.status != OrderStatus.PACKING:
        raise InvalidTransitionError(f"Order {order.number} is not being packed; nothing to undo.")
    last = s.scalar(
        select(PackedUnit)
        .where(PackedUnit.order_id == order_id, PackedUnit.undone.is_(False))
        .order_by(PackedUnit.at.desc(), PackedUnit.id.desc())
        .limit(1)
    )
    if last is None:
        raise ScanRejectedError(f"Nothing has been scanned into order {order.number} yet.")
    line = s.get(OrderLine, last.order_line_id)
    assert line is not None
    take_back(s, last, line)
    order.version += 1
    uow.record(
        "order.pack_undone",
        {
            "order_id": str(order.id),
            "line_id": str(line.id),
            "unit_id": str(last.id),
            "units": last.qty,
            "sku": line.product.sku,
        },
        entity="order",
        entity_id=order.id,
    )
    s.flush()
    return order_view(s, order)


def take_back(s: Session, last: PackedUnit, line: OrderLine) -> None:
    """Undo one accepted scan (the bench and the hub both): its units leave the boxes — from
    its own box first, then wherever they have since been moved — and the line counts less."""
    item = s.scalar(
        select(PackageItem).where(
            PackageItem.package_id == last.package_id,
            PackageItem.order_line_id == last.order_line_id,
        )
    )
    qty = last.qty
    items = [item] if item is not None else []
    items += list(
        s.scalars(
            select(PackageItem).where(
                PackageItem.order_line_id == line.id, PackageItem.package_id != last.package_id
            )
        )
    )
    for it in items:
        take = min(qty, it.qty)
        it.qty -= take
        qty -= take
        if it.qty == 0:
            s.delete(it)
    last.undone = True
    line.qty_packed -= last.qty


def report_missing(
    uow: UnitOfWork, order_id: uuid.UUID, line_id: uuid.UUID, qty: int, reason: str
) -> OrderView:
    """The item is not there: the order goes on hold, with the reason, for a supervisor."""
    auth.check(uow, Permission.PACK)
    s = uow.session
    order = load_order(s, order_id)
    line = next((ln for ln in order.lines if ln.id == line_id), None)
    if line is None:
        raise ValidationError("That line is not on this order — choose a line of the order.")
    remaining = line.qty_ordered - line.qty_packed - line.qty_missing
    if not 1 <= qty <= remaining:
        raise ValidationError(
            f"Line {line.line_no} has {remaining} units still to pack; "
            f"{qty} cannot be missing — type a number from 1 to {remaining}."
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError("Say why the item is missing (for example: bin empty, damaged).")
    check_transition(order.number, OrderStatus(order.status), OrderStatus.ON_HOLD)
    line.qty_missing += qty
    order.status_before_hold = order.status
    order.status = OrderStatus.ON_HOLD
    order.hold_reason = f"{qty} × {line.product.sku} missing: {reason}"
    order.version += 1
    uow.record(
        "order.item_missing",
        {
            "order_id": str(order.id),
            "line_id": str(line.id),
            "qty": qty,
            "reason": reason,
            "sku": line.product.sku,
        },
        entity="order",
        entity_id=order.id,
    )
    s.flush()
    return order_view(s, order)


def release_hold(
    uow: UnitOfWork, order_id: uuid.UUID, supervisor_badge: str, ship_short: bool
) -> OrderView:
    """A supervisor badge resolves a hold: ship without the missing units (backordered on the
    slip) or the units were found and the packer carries on scanning them."""
    s = uow.session
    supervisor = auth.authorize(s, supervisor_badge, Permission.OVERRIDE)
    order = load_order(s, order_id)
    if order.status != OrderStatus.ON_HOLD:
        raise InvalidTransitionError(f"Order {order.number} is not on hold.")
    if not ship_short:
        for line in order.lines:
            line.qty_missing = 0
    order.status = OrderStatus.PACKING
    order.status_before_hold = None
    decision = "ship short" if ship_short else "items found"
    order.hold_reason = ""
    order.version += 1
    uow.record(
        "order.hold_released",
        {
            "order_id": str(order.id),
            "decision": decision,
            "supervisor": supervisor.name,
            "supervisor_id": str(supervisor.id),
        },
        entity="order",
        entity_id=order.id,
    )
    s.flush()
    return order_view(s, order)


def complete_order(uow: UnitOfWork, order_id: uuid.UUID, labels: bool = False) -> CompletedOrder:
    """Mark the order packed: every line done, every package closed and weighed; stock moves
    out of the bins and the packing slip is queued to print (with each package's shipping
    label when ``labels``, unless one was already queued on the last scan)."""
    auth.check(uow, Permission.PACK)
    s = uow.session
    order = load_order(s, order_id)
    check_transition(order.number, OrderStatus(order.status), OrderStatus.PACKED)
    short = [ln for ln in order.lines if ln.qty_packed + ln.qty_missing < ln.qty_ordered]
    if short:
        first = short[0]
        left = first.qty_ordered - first.qty_packed - first.qty_missing
        raise ValidationError(
            f"Order {order.number} is not fully packed: {left} × {first.product.sku} still to "
            "scan. Scan the items, or report them missing."
        )
    packages = list(s.scalars(select(Package).where(Package.order_id == order.id)))
    units_in = _units_by_package(uow, [p.id for p in packages])
    for p in packages:
        if units_in.get(p.id, 0) == 0:
            s.delete(p)
        elif p.status != "closed":
            raise ValidationError(
                f"Package {p.seq} is still open — weigh it, type its weight and close it."
            )
    now = utcnow()
    movements: dict[uuid.UUID, uuid.UUID] = {}
    for line in order.lines:
        if line.qty_packed:
            movements[line.id] = new_id()
            s.add(
                StockMovement(
                    id=movements[line.id],
                    at=now,
                    product_id=line.product_id,
                    location_id=line.location_id,
                    qty=-line.qty_packed,
                    reason="pack",
                    ref=order.number,
                    station_id=uow.actor.station_id,
                )
            )
    order.status = OrderStatus.PACKED
    order.packed_at = now
    order.version += 1
    s.execute(update(Tote).where(Tote.order_id == order.id).values(order_id=None))
    job_id = print_jobs.queue_job(uow, "packing_slip", order.id, f"Packing slip {order.number}")
    if labels:
        shipped = [p for p in packages if units_in.get(p.id, 0)]
        for p in shipped:
            if not print_jobs.has_job(uow, "shipping_label", p.id):
                title = f"Label {order.number} {p.seq}/{len(shipped)}"
                print_jobs.queue_job(uow, "shipping_label", p.id, title)
    uow.record(
        "order.packed",
        {
            "order_id": str(order.id),
            "number": order.number,
            "packed_at": now.isoformat(),
            "lines": [
                {
                    "line_id": str(ln.id),
                    "packed": ln.qty_packed,
                    "missing": ln.qty_missing,
                    "movement_id": str(movements[ln.id]) if ln.id in movements else None,
                }
                for ln in order.lines
            ],
            "packages": [
                {
                    "package_id": str(p.id),
                    "seq": p.seq,
                    "weight_g": p.weight_g,
                    "box_type": p.box_type,
                }
                for p in packages
                if units_in.get(p.id, 0)
            ],
        },
        entity="order",
        entity_id=order.id,
    )
    s.flush()
    return CompletedOrder(order=order_view(s, order), print_job_id=job_id)


def _units_by_package(uow: UnitOfWork, package_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    from sqlalchemy import func

    if not package_ids:
        return {}
    rows = uow.session.execute(
        select(PackageItem.package_id, func.sum(PackageItem.qty))
        .where(PackageItem.package_id.in_(package_ids))
        .group_by(PackageItem.package_id)
    )
    return {pid: int(n or 0) for pid, n in rows}


def set_aside(uow: UnitOfWork, order_id: uuid.UUID) -> None:
    """Leave the order open at packing (to finish later, at this or another bench)."""
    auth.check(uow, Permission.PACK)
    order = load_order(uow.session, order_id)
    uow.record(
        "order.set_aside",
        {"order_id": str(order.id), "number": order.number},
        entity="order",
        entity_id=order.id,
    )
