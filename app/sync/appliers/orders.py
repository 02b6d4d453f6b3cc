"""Appliers of the pack bench's operations: the claim, packing facts, holds, completion.

They change the central order the way app/services/packing.py changed the station's copy, with
the same rules (app/domain/orders.py), and take the ids of rows the station made (packages,
packed units, stock movements) from the payload, so both ends hold the same rows.

The claim (``order.pack_started``) is a request and may be rejected; an item scanned into a box
is a fact and is always accepted — when it came from a bench that did not hold the order, a
``disputed_claim`` task tells a supervisor.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import lazyload

from app.clock import utcnow
from app.domain.errors import (
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ScanRejectedError,
    ValidationError,
)
from app.domain.orders import OrderStatus, check_packable, check_transition
from app.domain.roles import Permission, allows, parse_roles
from app.ids import new_id
from app.services.packing import take_back
from app.store.models import (
    ExceptionTask,
    Operator,
    Order,
    OrderLine,
    Package,
    PackageItem,
    PackedUnit,
    ScanEvent,
    Station,
    StockMovement,
    Tote,
)
from app.sync.appliers import ApplyContext, applier, stock
from app.sync.ops import Op


class ClaimedElsewhereError(InvalidTransitionError):
    """Another bench is packing the order."""


# ----------------------------------------------------------------------------- helpers


LOCKED = "waystation.locked_orders"  # Session.info key: orders this transaction has locked


def load(ctx: ApplyContext, op: Op) -> Order:
    """The operation's order, locked for this transaction (once: the next operations on the
    same order find it in the session; the hub forgets the locks when it rolls back)."""
    oid = op.id_of("order_id")
    # Held here, not only in the session's identity map (weak references: a clean object
    # may be gone by the next operation).
    locked: dict[uuid.UUID, Order] = ctx.session.info.setdefault(LOCKED, {})
    order = locked.get(oid)
    if order is None:
        order = ctx.session.scalar(
            select(Order)
            .where(Order.id == oid)
            .options(lazyload(Order.lines), lazyload(Order.customer), lazyload(Order.channel))
            .with_for_update(of=Order)
        )
    if order is None:
        raise NotFoundError(
            "That order does not exist in the central database — it may have been deleted "
            "there; ask a supervisor."
        )
    locked[oid] = order
    ctx.touch("order", order.id)
    return order


def _operator(ctx: ApplyContext, op: Op, key: str = "operator_id") -> Operator | None:
    oid = op.opt_id(key)
    return ctx.session.get(Operator, oid) if oid else None


def _station_name(ctx: ApplyContext, station_id: uuid.UUID | None) -> str:
    name = ctx.session.scalar(select(Station.name).where(Station.id == station_id))
    return name or "another bench"


def _line(order: Order, line_id: uuid.UUID) -> OrderLine:
    line = next((ln for ln in order.lines if ln.id == line_id), None)
    if line is None:
        raise ValidationError(f"Order {order.number} has no such line — scan the order again.")
    return line


def require_packing(order: Order) -> None:
    if order.status != OrderStatus.PACKING:
        raise InvalidTransitionError(
            f"Order {order.number} is not open for packing centrally (it is "
            f"{order.status.replace('_', ' ')}) — scan the order number again."
        )


def _when(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return default
    return when if when.tzinfo else default


def ensure_package(ctx: ApplyContext, order: Order, package_id: uuid.UUID, seq: int) -> Package:
    """The package the station made (same id); its number is kept unless another bench's
    package took it meanwhile."""
    s = ctx.session
    pkg = s.get(Package, package_id)
    if pkg is not None:
        if pkg.order_id != order.id:
            raise ValidationError(f"That package belongs to another order than {order.number}.")
        return pkg
    taken = s.scalar(select(Package.id).where(Package.order_id == order.id, Package.seq == seq))
    if taken is not None or seq < 1:
        seq = (s.scalar(select(func.max(Package.seq)).where(Package.order_id == order.id)) or 0) + 1
    pkg = Package(id=package_id, order_id=order.id, seq=seq, box_type="", status="open")
    s.add(pkg)
    s.flush()
    return pkg


def package_by_seq(ctx: ApplyContext, order: Order, seq: int) -> Package:
    pkg = ctx.session.scalar(
        select(Package).where(Package.order_id == order.id, Package.seq == seq)
    )
    if pkg is None:
        raise ValidationError(f"Order {order.number} has no package {seq} centrally.")
    return pkg


def package_of(ctx: ApplyContext, order: Order, op: Op) -> Package:
    """The package an operation names: by id when it carries one, else by number."""
    pid = op.opt_id("package_id")
    if pid is None:
        return package_by_seq(ctx, order, op.int_of("package"))
    pkg = ctx.session.get(Package, pid)
    if pkg is None or pkg.order_id != order.id:
        raise ValidationError(f"Order {order.number} has no such package centrally.")
    return pkg


def _release_claim(order: Order) -> None:
    order.claimed_by_station = None
    order.claimed_by_operator = None
    order.claimed_at = None


def dispute(ctx: ApplyContext, order: Order, op: Op, what: str) -> None:
    """A fact from a bench that did not hold the order: accepted, and a supervisor is told once
    per order and bench."""
    open_tasks = ctx.session.scalars(
        select(ExceptionTask).where(
            ExceptionTask.kind == "disputed_claim",
            ExceptionTask.entity_id == order.id,
            ExceptionTask.status == "open",
        )
    )
    if any(t.details.get("station_id") == str(ctx.station_id) for t in open_tasks):
        return
    holder = order.claimed_by_station
    ctx.raise_task(
        "disputed_claim",
        "order",
        order.id,
        {
            "number": order.number,
            "station_id": str(ctx.station_id),
            "station": _station_name(ctx, ctx.station_id),
            "holder_station_id": str(holder) if holder else None,
            "holder_station": _station_name(ctx, holder) if holder else None,
            "holder_operator": order.claimed_by_operator,
            "order_status": order.status,
            "what": what,
            "message": (
                f"Order {order.number} was packed at {_station_name(ctx, ctx.station_id)} "
                + (
                    f"while {_station_name(ctx, holder)} held it"
                    if holder
                    else f"while it was {order.status.replace('_', ' ')}"
                )
                + " — check both benches' boxes before it ships."
            ),
        },
        warehouse_id=order.warehouse_id,
    )


def _holds(ctx: ApplyContext, order: Order) -> bool:
    return order.status == OrderStatus.PACKING and order.claimed_by_station in (
        None,
        ctx.station_id,
    )


# ----------------------------------------------------------------------------- the claim


@applier("order.pack_started")
def pack_started(ctx: ApplyContext, op: Op) -> None:
    order = load(ctx, op)
    holder = order.claimed_by_station
    if order.status == OrderStatus.PACKING and holder not in (None, ctx.station_id):
        since = order.claimed_at.strftime("%H:%M UTC") if order.claimed_at else "earlier"
        who = f" by {order.claimed_by_operator}" if order.claimed_by_operator else ""
        raise ClaimedElsewhereError(
            f"Order {order.number} is being packed at {_station_name(ctx, holder)}{who} "
            f"since {since} — take another order, or ask a supervisor to free it if that "
            "bench has stopped."
        )
    check_packable(order.number, OrderStatus(order.status))
    operator = _operator(ctx, op)
    if op.has("operator_id"):
        if operator is None or not operator.active:
            raise PermissionDeniedError(
                "The operator who opened the order is not known or not active centrally — "
                "sign in again, or ask a supervisor to check the operator's account."
            )
        if not allows(parse_roles(operator.roles), Permission.PACK):
            raise PermissionDeniedError(
                f"{operator.name} may not pack orders — ask a supervisor for the packer role."
            )
    if order.status != OrderStatus.PACKING:
        order.status = OrderStatus.PACKING
        order.version += 1
    if holder != ctx.station_id or order.claimed_at is None:
        order.claimed_at = utcnow()
    order.claimed_by_station = ctx.station_id
    order.claimed_by_operator = operator.name if operator else None
    if op.has("package_id"):
        ensure_package(ctx, order, op.id_of("package_id"), op.opt_int("package") or 0)


@applier("order.claim_freed")
def claim_freed(ctx: ApplyContext, op: Op) -> None:
    """A supervisor frees an order a bench holds (that bench stopped, or its packer left):
    payload ``order_id`` and ``supervisor_id`` (a badge with the override permission)."""
    order = load(ctx, op)
    supervisor = _operator(ctx, op, "supervisor_id")
    if supervisor is None or not allows(parse_roles(supervisor.roles), Permission.OVERRIDE):
        raise PermissionDeniedError(
            "Only a supervisor's badge can free an order another bench holds — "
            "ask a supervisor to scan theirs."
        )
    _release_claim(order)


@applier("order.set_aside")
def set_aside(ctx: ApplyContext, op: Op) -> None:
    """The bench leaves the order open at packing for any bench to finish: the claim goes."""
    order = load(ctx, op)
    if order.claimed_by_station == ctx.station_id:
        _release_claim(order)


# ----------------------------------------------------------------------------- packing facts


@applier("order.item_packed")
def item_packed(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    order = load(ctx, op)
    if not _holds(ctx, order):
        dispute(ctx, order, op, "item packed")
    line = _line(order, op.id_of("line_id"))
    units = op.int_of("units")
    if units < 1:
        raise ValidationError(f"A scan of {units} units cannot be packed.")
    pid = op.opt_id("package_id")
    if pid is not None:
        pkg = ensure_package(ctx, order, pid, op.opt_int("package") or 0)
    else:
        pkg = package_of(ctx, order, op)
    line.qty_packed += units
    order.version += 1
    item = s.scalar(
        select(PackageItem).where(
            PackageItem.package_id == pkg.id, PackageItem.order_line_id == line.id
        )
    )
    if item is None:
        s.add(PackageItem(package_id=pkg.id, order_line_id=line.id, qty=units))
    else:
        item.qty += units
    scan_id = op.opt_id("scan_id")
    if scan_id is not None:
        s.add(
            ScanEvent(
                id=scan_id,
                at=op.created_at,
                station_id=ctx.station_id,
                operator_id=op.opt_id("operator_id"),
                workflow="pack",
                raw=op.str_of("raw", "")[:300],
                resolved_kind="product",
                entity_id=line.product_id,
                order_id=order.id,
                outcome="accepted",
                message="",
            )
        )
    s.add(
        PackedUnit(
            id=op.opt_id("unit_id") or new_id(),
            order_id=order.id,
            order_line_id=line.id,
            package_id=pkg.id,
            qty=units,
            lot=op.opt_str("lot"),
            serial=op.opt_str("serial"),
            expiry=op.opt_str("expiry"),
            scan_event_id=scan_id,
            undone=False,
            at=op.created_at,
        )
    )


@applier("order.pack_undone")
def pack_undone(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    order = load(ctx, op)
    require_packing(order)
    uid = op.opt_id("unit_id")
    if uid is not None:
        last = s.get(PackedUnit, uid)
        if last is not None and (last.order_id != order.id or last.undone):
            last = None
    else:
        last = s.scalar(
            select(PackedUnit)
            .where(PackedUnit.order_id == order.id, PackedUnit.undone.is_(False))
            .order_by(PackedUnit.at.desc(), PackedUnit.id.desc())
            .limit(1)
        )
    if last is None:
        raise ScanRejectedError(f"Nothing scanned into order {order.number} is left to undo.")
    take_back(s, last, _line(order, last.order_line_id))
    order.version += 1


@applier("order.item_missing")
def item_missing(ctx: ApplyContext, op: Op) -> None:
    order = load(ctx, op)
    line = _line(order, op.id_of("line_id"))
    qty = op.int_of("qty")
    remaining = line.qty_ordered - line.qty_packed - line.qty_missing
    if not 1 <= qty <= remaining:
        raise ValidationError(
            f"Line {line.line_no} of order {order.number} has {remaining} units still to pack "
            f"centrally; {qty} cannot be missing — count again and report the right number."
        )
    reason = op.str_of("reason").strip()
    check_transition(order.number, OrderStatus(order.status), OrderStatus.ON_HOLD)
    line.qty_missing += qty
    order.status_before_hold = order.status
    order.status = OrderStatus.ON_HOLD
    order.hold_reason = f"{qty} × {line.product.sku} missing: {reason}"
    order.version += 1


@applier("order.hold_released")
def hold_released(ctx: ApplyContext, op: Op) -> None:
    order = load(ctx, op)
    supervisor = _operator(ctx, op, "supervisor_id")
    if supervisor is None or not allows(parse_roles(supervisor.roles), Permission.OVERRIDE):
        raise PermissionDeniedError(
            "The badge that released the hold does not belong to a supervisor centrally — "
            "ask a supervisor to release it again."
        )
    if order.status != OrderStatus.ON_HOLD:
        raise InvalidTransitionError(f"Order {order.number} is not on hold centrally.")
    if op.str_of("decision") != "ship short":
        for line in order.lines:
            line.qty_missing = 0
    order.status = OrderStatus.PACKING
    order.status_before_hold = None
    order.hold_reason = ""
    order.version += 1


@applier("order.packed")
def packed(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    order = load(ctx, op)
    check_transition(order.number, OrderStatus(order.status), OrderStatus.PACKED)
    if not _holds(ctx, order):
        raise InvalidTransitionError(
            f"Order {order.number} is held by {_station_name(ctx, order.claimed_by_station)}"
            " — it cannot be completed here; a supervisor must check both benches."
        )
    short = [ln for ln in order.lines if ln.qty_packed + ln.qty_missing < ln.qty_ordered]
    if short:
        first = short[0]
        left = first.qty_ordered - first.qty_packed - first.qty_missing
        raise ValidationError(
            f"Order {order.number} is not fully packed centrally: {left} × "
            f"{first.product.sku} still to scan. Open the order and scan them."
        )
    packages = list(s.scalars(select(Package).where(Package.order_id == order.id)))
    units: dict[uuid.UUID, int] = {
        pid: int(n or 0)
        for pid, n in s.execute(
            select(PackageItem.package_id, func.sum(PackageItem.qty))
            .where(PackageItem.package_id.in_([p.id for p in packages]))
            .group_by(PackageItem.package_id)
        )
    }
    for p in packages:
        if not units.get(p.id):
            s.delete(p)
        elif p.status != "closed":
            raise ValidationError(
                f"Package {p.seq} of order {order.number} is open centrally — "
                "reopen the order, weigh the package and close it."
            )
    when = _when(op.opt_str("packed_at"), op.created_at)
    movement_ids: dict[str, Any] = {
        str(entry.get("line_id")): entry.get("movement_id")
        for entry in op.list_of("lines")
        if isinstance(entry, dict)
    }
    packed_lines = [line for line in order.lines if line.qty_packed]
    # The units left the shelf: a fact. Where that takes a place below zero, a supervisor
    # gets an oversell task, as for a counter sale.
    stock.lock_products(s.connection(), [line.product_id for line in packed_lines])
    rows: list[dict[str, Any]] = []
    for line in packed_lines:
        mid = movement_ids.get(str(line.id))
        movement_id = uuid.UUID(mid) if mid else new_id()
        row: dict[str, Any] = {
            "id": movement_id,
            "at": when,
            "product_id": line.product_id,
            "location_id": line.location_id,
            "qty": -line.qty_packed,
            "reason": "pack",
            "ref": order.number,
            "station_id": ctx.station_id,
        }
        s.add(StockMovement(**row))
        s.flush()
        ctx.touch("stock_movement", movement_id)
        rows.append(row)
    stock.raise_oversells(ctx, rows)
    order.status = OrderStatus.PACKED
    order.packed_at = when
    order.version += 1
    _release_claim(order)
    totes = list(s.scalars(select(Tote.id).where(Tote.order_id == order.id)))
    if totes:
        s.execute(update(Tote).where(Tote.id.in_(totes)).values(order_id=None))
        for tid in totes:
            ctx.touch("tote", tid)
