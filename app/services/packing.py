"""The pack bench's use cases: open an order, scan items into the box, undo, report a missing
item, and complete the order (stock moves out, the packing slip is queued to print).

Every function takes a unit of work whose actor is the signed-in packer; each is one local
transaction with its audit event and outbox operation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import Table, bindparam, insert, select, update

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
from app.services.orders import load_order, order_view, read_order
from app.services.packages import open_package_for, open_package_ids
from app.services.resolve import Kind, Resolved, resolve
from app.services.views import (
    CompletedOrder,
    LineView,
    OrderView,
    PackageView,
    PackScanResult,
    ScanOutcome,
)
from app.store.fastexec import FastExecutor
from app.store.models import (
    Order,
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

WORKFLOW = "pack"
_LINE: Table = OrderLine.__table__  # type: ignore[assignment]
_ORDER: Table = Order.__table__  # type: ignore[assignment]
_ITEM: Table = PackageItem.__table__  # type: ignore[assignment]
_SCAN: Table = ScanEvent.__table__  # type: ignore[assignment]
_UNIT: Table = PackedUnit.__table__  # type: ignore[assignment]
# The scan path's writes, built once (the fast executor prepares each statement once).
_ADD_PACKED = (
    update(_LINE)
    .where(_LINE.c.id == bindparam("line_id"))
    .values(qty_packed=_LINE.c.qty_packed + bindparam("units"))
)
_BUMP_VERSION = (
    update(_ORDER).where(_ORDER.c.id == bindparam("order_id")).values(version=_ORDER.c.version + 1)
)
_ADD_TO_ITEM = (
    update(_ITEM)
    .where(
        _ITEM.c.package_id == bindparam("b_package_id"),
        _ITEM.c.order_line_id == bindparam("b_line_id"),
    )
    .values(qty=_ITEM.c.qty + bindparam("units"))
)
_INSERT_ITEM = insert(_ITEM)
_INSERT_SCAN = insert(_SCAN)
_INSERT_UNIT = insert(_UNIT)
MAX_TYPED_QTY = 9999


@dataclass(frozen=True, slots=True)
class ItemScan:
    order_id: uuid.UUID
    raw: str
    qty: int | None = None  # a typed quantity for lines with many units
    gs_replacement: str | None = None


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


def scan_item(uow: UnitOfWork, cmd: ItemScan) -> PackScanResult:
    """Count one scanned item (or a case, or a typed quantity) into the open package.

    A scan that does not fit raises a typed error and counts nothing; the caller records the
    rejected scan with :func:`record_rejected_scan` in a transaction of its own.
    """
    from app.scanning.normalize import normalize

    scan = normalize(cmd.raw, gs_replacement=cmd.gs_replacement)
    return pack_resolved(uow, cmd, scan, resolve(uow.session, scan))


def pack_resolved(
    uow: UnitOfWork, cmd: ItemScan, scan: Scan, found: Resolved | None
) -> PackScanResult:
    """The hot path of the bench: the order is read and written with Core statements on the
    session's connection (no ORM identity map or flush per scan)."""
    auth.check(uow, Permission.PACK)
    conn = uow.session.connection()
    order = read_order(conn, cmd.order_id)
    if order.status != OrderStatus.PACKING:
        check_packable(order.number, OrderStatus(order.status))
        raise InvalidTransitionError(
            f"Order {order.number} is not open for packing — scan the order number first."
        )
    if found is None:
        raise UnknownBarcodeError(
            f"{scan.text} is not a product this station knows — set the item aside "
            "and tell a supervisor."
        )
    if found.kind is not Kind.PRODUCT:
        raise ScanRejectedError(
            f"{scan.text} is a {found.kind.value} barcode, not an item — scan the item's barcode."
        )
    line = _line_for(order, found.entity_id, scan.text)
    units = _units(cmd, scan, found)
    if line.remaining <= 0:
        raise ScanRejectedError(
            f"Line {line.line_no} ({line.sku}) is already complete — "
            "set this item aside and scan the next one."
        )
    if units > line.remaining:
        raise ScanRejectedError(
            f"That is {units} units but line {line.line_no} ({line.sku}) needs only "
            f"{line.remaining} more — open the case and scan single items."
        )
    _check_tracking(line, scan)
    fx = FastExecutor(conn)
    filling = order.open_package
    if filling is not None:
        package_id, package_seq = filling.id, filling.seq
    else:
        package_id, package_seq = open_package_ids(conn, order.id)
    fx.run(_ADD_PACKED, {"line_id": line.id, "units": units})
    fx.run(_BUMP_VERSION, {"order_id": order.id})
    added = {"b_package_id": package_id, "b_line_id": line.id, "units": units}
    if fx.run(_ADD_TO_ITEM, added) == 0:
        fx.run(
            _INSERT_ITEM,
            {"id": new_id(), "package_id": package_id, "order_line_id": line.id, "qty": units},
        )
    event_id = new_id()
    now = utcnow()
    fx.run(
        _INSERT_SCAN,
        {
            "id": event_id,
            "at": now,
            "station_id": uow.actor.station_id,
            "operator_id": uow.actor.operator_id,
            "workflow": WORKFLOW,
            "raw": cmd.raw[:300],
            "resolved_kind": Kind.PRODUCT.value,
            "entity_id": found.entity_id,
            "order_id": order.id,
            "outcome": ScanOutcome.ACCEPTED.value,
            "message": "",
        },
    )
    unit_id = new_id()
    fx.run(
        _INSERT_UNIT,
        {
            "id": unit_id,
            "order_id": order.id,
            "order_line_id": line.id,
            "package_id": package_id,
            "qty": units,
            "lot": scan.lot,
            "serial": scan.serial,
            "expiry": scan.expiry.isoformat() if scan.expiry else None,
            "scan_event_id": event_id,
            "undone": False,
            "at": now,
        },
    )
    uow.record(
        "order.item_packed",
        {
            "order_id": str(order.id),
            "line_id": str(line.id),
            "sku": line.sku,
            "units": units,
            "package": package_seq,
            "package_id": str(package_id),
            "unit_id": str(unit_id),
            "lot": scan.lot,
            "serial": scan.serial,
            "expiry": scan.expiry.isoformat() if scan.expiry else None,
            "scan_id": str(event_id),
            "raw": cmd.raw,
        },
        entity="order",
        entity_id=order.id,
    )
    left = line.remaining - units
    words = f"{line.sku} ✓ {units} packed" if units > 1 else f"{line.sku} ✓"
    words += f" — {left} more of this item" if left else " — line complete"
    return PackScanResult(
        order=_with_packed(order, line, units, package_id, package_seq),
        line_id=line.id,
        units=units,
        message=words,
    )


def _with_packed(
    order: OrderView, line: LineView, units: int, package_id: uuid.UUID, package_seq: int
) -> OrderView:
    """The order as it stands after this scan's writes (saves reading it all back)."""
    lines = tuple(
        replace(ln, packed=ln.packed + units) if ln.id == line.id else ln for ln in order.lines
    )
    packages = list(order.packages)
    if not any(p.id == package_id for p in packages):
        packages.append(PackageView(package_id, package_seq, "", None, False, 0, ()))
    for i, p in enumerate(packages):
        if p.id == package_id:
            contents = dict(p.contents)
            contents[line.id] = contents.get(line.id, 0) + units
            packages[i] = replace(p, units=p.units + units, contents=tuple(contents.items()))
    return replace(order, version=order.version + 1, lines=lines, packages=tuple(packages))


def _line_for(order: OrderView, product_id: uuid.UUID, code: str) -> LineView:
    lines = [line for line in order.lines if line.product_id == product_id]
    if not lines:
        raise ScanRejectedError(
            f"{code} is not on order {order.number} — set it aside and scan the next item."
        )
    open_lines = [line for line in lines if line.remaining > 0]
    return open_lines[0] if open_lines else lines[0]


def _units(cmd: ItemScan, scan: Scan, found: Resolved) -> int:
    units = found.units * (scan.count or 1)
    if cmd.qty is not None:
        if not 1 <= cmd.qty <= MAX_TYPED_QTY:
            raise ValidationError(
                f"A quantity of {cmd.qty} is not possible — type a number from 1 to "
                f"{MAX_TYPED_QTY}."
            )
        units *= cmd.qty
    return units


def _check_tracking(line: LineView, scan: Scan) -> None:
    missing = []
    if line.needs_lot and not scan.lot:
        missing.append("lot number")
    if line.needs_serial and not scan.serial:
        missing.append("serial number")
    if line.needs_expiry and not scan.expiry:
        missing.append("expiry date")
    if missing:
        raise ScanRejectedError(
            f"{line.sku} needs its {' and '.join(missing)} — scan the GS1 barcode on the item "
            "that carries it (the long one), not the plain product barcode."
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
    uow: UnitOfWork, raw: str, order_id: uuid.UUID | None, error: WaystationError
) -> None:
    """Keep a scan that counted nothing: every scan is a fact the supervisor can review."""
    outcome = outcome_of(error)
    event = _scan_event(uow, raw, order_id, None, outcome, error.message)
    event.id = new_id()
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
