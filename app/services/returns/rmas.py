"""Return authorisations: the company's policy, creating an RMA from an order, reading one.

An RMA names the units of a shipped order that may come back, each with its reason, the unit
price the customer paid (order lines carry no price of their own: the product's price when the
RMA is made) and the resolution the customer asked for. A return past the policy's window is
made only with a supervisor's badge, recorded on the RMA.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, case, func, select

from app.domain import returns as rules
from app.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.domain.orders import OrderStatus
from app.domain.roles import Permission, Role, allows
from app.ids import new_id
from app.services import auth, print_jobs
from app.services.returns.views import (
    ReturnableLine,
    ReturnableOrder,
    RmaLineView,
    RmaView,
)
from app.store.fastexec import FastExecutor
from app.store.models import (
    Customer,
    Order,
    PackedUnit,
    Product,
    ReturnPolicy,
    Rma,
    RmaLine,
    Station,
)
from app.store.uow import UnitOfWork

AUTHORISED, RECEIVED, RESOLVED, CANCELLED = "authorised", "received", "resolved", "cancelled"
RETURNABLE = frozenset({OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value})
CREATED = "returns.rma_created"
POLICY_SET = "returns.policy_set"
MAX_NOTE = 500
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")  # a scanner's symbology identifier


class LateReturnError(PermissionDeniedError):
    """The return window has passed: a supervisor's badge lets it in."""


# ----------------------------------------------------------------------------- policy


def policy(uow: UnitOfWork) -> rules.Policy:
    """The company's policy: its newest row, or the defaults when none was set."""
    row = uow.session.scalar(select(ReturnPolicy).order_by(ReturnPolicy.updated_at.desc()))
    return rules.Policy() if row is None else policy_of(row)


_POLICY: Table = ReturnPolicy.__table__  # type: ignore[assignment]
_WINDOW_DAYS = select(_POLICY.c.window_days).order_by(_POLICY.c.updated_at.desc()).limit(1)


def window(uow: UnitOfWork) -> rules.Policy:
    """The policy as far as the return window goes (a parcel's scan checks only that): one
    column of the newest row, without loading the row into the session."""
    days = FastExecutor(uow.session.connection()).scalar(_WINDOW_DAYS, {})
    return rules.Policy() if days is None else rules.Policy(window_days=int(days))


def policy_of(row: ReturnPolicy) -> rules.Policy:
    deductions = dict(rules.DEFAULT_DEDUCTIONS)
    for key, bp in (row.deductions_bp or {}).items():
        deductions[rules.Condition(key)] = int(bp)
    free = (row.free_reasons or {}).get("reasons", [])
    return rules.Policy(
        window_days=row.window_days,
        free_reasons=frozenset(rules.Reason(r) for r in free),
        restocking_fee_bp=row.restocking_fee_bp,
        restocking_fee_minor=row.restocking_fee_minor,
        refund_shipping=row.refund_shipping,
        deductions_bp=deductions,
    )


def policy_row(p: rules.Policy, now: datetime, company_id: uuid.UUID | None) -> dict[str, object]:
    """The policy as a ``return_policy`` row's values (and its operation's payload)."""
    return {
        "id": str(new_id()),
        "company_id": None if company_id is None else str(company_id),
        "window_days": p.window_days,
        "free_reasons": {"reasons": sorted(r.value for r in p.free_reasons)},
        "restocking_fee_bp": p.restocking_fee_bp,
        "restocking_fee_minor": p.restocking_fee_minor,
        "refund_shipping": p.refund_shipping,
        "deductions_bp": {c.value: bp for c, bp in sorted(p.deductions_bp.items())},
        "updated_at": now.isoformat(),
    }


def set_policy(uow: UnitOfWork, p: rules.Policy, company_id: uuid.UUID | None = None) -> None:
    """A supervisor sets the company's policy (a new row: the old ones stay as history)."""
    auth.check(uow, Permission.OVERRIDE)
    values = policy_row(p, uow.now, company_id)
    row = ReturnPolicy(
        id=uuid.UUID(str(values["id"])),
        company_id=company_id,
        window_days=p.window_days,
        free_reasons=values["free_reasons"],
        restocking_fee_bp=p.restocking_fee_bp,
        restocking_fee_minor=p.restocking_fee_minor,
        refund_shipping=p.refund_shipping,
        deductions_bp=values["deductions_bp"],
        updated_at=uow.now,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.record(POLICY_SET, {"policy": values}, entity="return_policy", entity_id=row.id)


# ----------------------------------------------------------------------------- creating


@dataclass(frozen=True, slots=True)
class RequestLine:
    order_line_id: uuid.UUID
    qty: int
    reason: rules.Reason


@dataclass(frozen=True, slots=True)
class RmaRequest:
    order_id: uuid.UUID
    lines: Sequence[RequestLine]
    requested: rules.Resolution = rules.Resolution.REFUND
    note: str = ""
    shipping_paid_minor: int = 0
    unannounced: bool = False  # made at the desk for a parcel that came without one


def shipped_at(order: Order) -> datetime:
    """When the return window starts: the order left the bench packed (the carrier took it
    that day); an order never packed here counts from when it was placed."""
    return order.packed_at or order.placed_at


def check_window(uow: UnitOfWork, order: Order, approver_badge: str | None) -> str | None:
    """None when the order is inside the window; the approving supervisor's name when it is
    late and they approved; LateReturnError otherwise."""
    return check_window_for(uow, order.number, shipped_at(order), approver_badge)


def check_window_for(
    uow: UnitOfWork, number: str, shipped: datetime, approver_badge: str | None
) -> str | None:
    p = window(uow)
    if not p.is_late(shipped, uow.now):
        return None
    if allows([Role(r) for r in uow.actor.roles], Permission.OVERRIDE):
        return uow.actor.operator_name or "supervisor"
    if not approver_badge:
        days = (uow.now - shipped).days
        raise LateReturnError(
            f"Order {number} left {days} days ago; returns are taken within "
            f"{p.window_days} days — ask a supervisor to scan their badge to take it anyway, "
            "or set the parcel aside."
        )
    return auth.authorize(uow.session, approver_badge, Permission.OVERRIDE).name


def _next_number(uow: UnitOfWork) -> str:
    """RMA-<station>-<n>: no two stations make the same number, offline or not."""
    station = uow.session.get_one(Station, uow.actor.station_id)
    prefix = f"RMA-{station.name}-".upper()
    n = uow.session.scalar(select(func.count(Rma.id)).where(Rma.number.like(f"{prefix}%"))) or 0
    return f"{prefix}{n + 1:05d}"


def returnable(uow: UnitOfWork, order: Order) -> dict[uuid.UUID, int]:
    """Units of each order line that may still go on an RMA: shipped less those on RMAs (an
    open RMA holds all its units; one booked in, those that came: the rest may come back on
    another)."""
    taken: dict[uuid.UUID, int] = dict(
        uow.session.execute(
            select(
                RmaLine.order_line_id,
                func.sum(case((Rma.status == AUTHORISED, RmaLine.qty), else_=RmaLine.qty_received)),
            )
            .join(Rma, Rma.id == RmaLine.rma_id)
            .where(Rma.order_id == order.id, Rma.status != CANCELLED)
            .group_by(RmaLine.order_line_id)
        ).all()
    )
    return {
        ln.id: max(0, ln.qty_ordered - ln.qty_missing - int(taken.get(ln.id) or 0))
        for ln in order.lines
    }


def returnable_order(uow: UnitOfWork, code: str) -> ReturnableOrder:
    """The order customer service makes an RMA for, by its number (typed, or scanned from the
    packing slip), with what may still come back; typed errors say what to do."""
    auth.check(uow, Permission.RECEIVE_RETURN)
    number = _AIM_PREFIX.sub("", code.strip()).strip()
    if not number:
        raise ValidationError("Type or scan the order number (it is on the packing slip).")
    order = uow.session.scalar(select(Order).where(Order.number.in_({number, number.upper()})))
    if order is None:
        raise NotFoundError(
            f"There is no order {number} — check the number with the customer (it starts "
            "like the one on their packing slip) and type it again."
        )
    if order.status not in RETURNABLE:
        raise ValidationError(
            f"Order {order.number} is {order.status.replace('_', ' ')}: it has not left the "
            "warehouse, so there is nothing to return — tell the customer it has not shipped."
        )
    customer = uow.session.get(Customer, order.customer_id)
    left = returnable(uow, order)
    p = policy(uow)
    shipped = shipped_at(order)
    late = (uow.now - shipped).days - p.window_days if p.is_late(shipped, uow.now) else 0
    return ReturnableOrder(
        order.id,
        order.number,
        customer.name if customer else "",
        order.status,
        shipped,
        order.lines[0].product.currency if order.lines else "EUR",
        max(late, 0),
        tuple(
            ReturnableLine(
                ln.id,
                ln.product.sku,
                ln.product.name,
                ln.qty_ordered - ln.qty_missing,
                left[ln.id],
                ln.paid_per_unit,
            )
            for ln in sorted(order.lines, key=lambda ln: ln.line_no)
            if ln.qty_ordered - ln.qty_missing > 0
        ),
    )


def create_rma(
    uow: UnitOfWork,
    req: RmaRequest,
    approver_badge: str | None = None,
    *,
    allow_empty: bool = False,
    late_approved_by: str | None = None,
    print_slip: bool = False,
) -> RmaView:
    """Authorise a return of some units of a shipped order; one operation.

    The returns desk makes one for a parcel that came without: ``late_approved_by`` is the
    supervisor who let a late one in there, and ``allow_empty`` lets it hold no line when
    nothing in the parcel was on the order (every unit received as unexpected)."""
    auth.check(uow, Permission.RECEIVE_RETURN)
    order = uow.session.get(Order, req.order_id)
    if order is None:
        raise NotFoundError("That order is not on this station — scan the parcel again.")
    if order.status not in RETURNABLE:
        raise ValidationError(
            f"Order {order.number} is {order.status.replace('_', ' ')}: it has not left the "
            "warehouse, so nothing can come back yet — set the parcel aside for a supervisor."
        )
    if not req.lines and not allow_empty:
        raise ValidationError("Choose at least one item that comes back.")
    if req.shipping_paid_minor < 0:
        raise ValidationError("Shipping paid is zero or more.")
    approved = late_approved_by or check_window(uow, order, approver_badge)
    left = returnable(uow, order)
    by_id = {ln.id: ln for ln in order.lines}
    rma = Rma(
        id=new_id(),
        number=_next_number(uow),
        order_id=order.id,
        customer_id=order.customer_id,
        warehouse_id=order.warehouse_id,
        status=AUTHORISED,
        requested=req.requested.value,
        unannounced=req.unannounced,
        currency=order.lines[0].product.currency if order.lines else "EUR",
        shipping_paid_minor=req.shipping_paid_minor,
        note=req.note.strip()[:MAX_NOTE],
        created_at=uow.now,
        created_by=uow.actor.operator_name,
        station_id=uow.actor.station_id,
        late_approved_by=approved,
        version=1,
    )
    uow.session.add(rma)
    lines = []
    for rl in req.lines:
        ol = by_id.get(rl.order_line_id)
        if ol is None:
            raise ValidationError(f"That item is not on order {order.number}.")
        if rl.qty <= 0:
            raise ValidationError(f"{ol.product.sku}: at least one unit comes back.")
        if rl.qty > left[ol.id]:
            raise ValidationError(
                f"Order {order.number} shipped {ol.qty_ordered - ol.qty_missing} of "
                f"{ol.product.sku} and {ol.qty_ordered - ol.qty_missing - left[ol.id]} are on "
                f"returns already — at most {left[ol.id]} can come back."
            )
        left[ol.id] -= rl.qty
        lines.append(
            RmaLine(
                id=new_id(),
                rma_id=rma.id,
                warehouse_id=order.warehouse_id,
                order_line_id=ol.id,
                product_id=ol.product_id,
                qty=rl.qty,
                reason=rl.reason.value,
                unit_price_minor=ol.paid_per_unit,
                qty_received=0,
            )
        )
    uow.session.flush()
    uow.session.add_all(lines)
    uow.session.flush()
    uow.record(CREATED, rma_payload(rma, lines), entity="rma", entity_id=rma.id)
    if print_slip:
        print_jobs.queue_job(uow, "return_slip", rma.id, f"Return slip {rma.number}")
    return rma_view(uow, rma.id)


def rma_payload(rma: Rma, lines: Sequence[RmaLine]) -> dict[str, object]:
    return {
        "rma_id": str(rma.id),
        "number": rma.number,
        "order_id": str(rma.order_id),
        "requested": rma.requested,
        "unannounced": rma.unannounced,
        "currency": rma.currency,
        "shipping_paid_minor": rma.shipping_paid_minor,
        "note": rma.note,
        "created_at": rma.created_at.isoformat(),
        "created_by": rma.created_by,
        "late_approved_by": rma.late_approved_by,
        "lines": [
            {
                "id": str(ln.id),
                "order_line_id": str(ln.order_line_id),
                "product_id": str(ln.product_id),
                "qty": ln.qty,
                "reason": ln.reason,
                "unit_price_minor": ln.unit_price_minor,
            }
            for ln in lines
        ],
    }


# ----------------------------------------------------------------------------- reading


def rma_view(uow: UnitOfWork, rma_id: uuid.UUID) -> RmaView:
    s = uow.session
    rma = s.get(Rma, rma_id)
    if rma is None:
        raise NotFoundError("That return is not on this station.")
    order = s.get_one(Order, rma.order_id)
    customer = s.get(Customer, rma.customer_id) if rma.customer_id else None
    rows = s.execute(
        select(RmaLine, Product)
        .join(Product, Product.id == RmaLine.product_id)
        .where(RmaLine.rma_id == rma.id)
        .order_by(RmaLine.id)
    ).all()
    serials = s.scalars(
        select(PackedUnit.serial).where(
            PackedUnit.order_id == order.id,
            PackedUnit.serial.is_not(None),
            PackedUnit.undone.is_(False),
        )
    )
    return RmaView(
        id=rma.id,
        number=rma.number,
        order_id=order.id,
        order_number=order.number,
        customer=customer.name if customer else "",
        status=rma.status,
        requested=rma.requested,
        unannounced=rma.unannounced,
        currency=rma.currency,
        created_at=rma.created_at,
        received_at=rma.received_at,
        resolved_at=rma.resolved_at,
        lines=tuple(
            RmaLineView(
                ln.id,
                p.id,
                p.sku,
                p.name,
                p.gtin,
                ln.qty,
                ln.qty_received,
                ln.reason,
                ln.unit_price_minor,
                p.track_serial,
                ln.order_line_id,
            )
            for ln, p in rows
        ),
        serials_sold=tuple(sorted(x for x in serials if x)),
    )


def open_rmas(uow: UnitOfWork, order_id: uuid.UUID) -> list[Rma]:
    return list(
        uow.session.scalars(
            select(Rma).where(Rma.order_id == order_id, Rma.status == AUTHORISED).order_by(Rma.id)
        )
    )
