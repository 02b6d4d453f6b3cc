"""Finding orders and showing them: load for the bench, search, and the order's timeline."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.domain.errors import NotFoundError
from app.services.views import (
    LineView,
    OrderSummary,
    OrderView,
    PackageView,
    TimelineEntry,
)
from app.store.models import (
    AuditEvent,
    Customer,
    Operator,
    Order,
    OrderLine,
    Package,
    PackageItem,
    ScanEvent,
)
from app.store.uow import UnitOfWork

SEARCH_LIMIT = 50


def load_order(session: Session, order_id: uuid.UUID, *, lock: bool = False) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFoundError("That order no longer exists on this station — scan another order.")
    return order


def order_view(session: Session, order: Order) -> OrderView:
    packages = session.scalars(
        select(Package).where(Package.order_id == order.id).order_by(Package.seq)
    ).all()
    contents: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = defaultdict(list)
    if packages:
        rows = session.execute(
            select(PackageItem.package_id, PackageItem.order_line_id, PackageItem.qty).where(
                PackageItem.package_id.in_([p.id for p in packages]), PackageItem.qty > 0
            )
        ).all()
        for package_id, line_id, qty in rows:
            contents[package_id].append((line_id, qty))
    return OrderView(
        id=order.id,
        number=order.number,
        status=order.status,
        customer=order.customer.name,
        email=order.customer.email,
        channel=order.channel.name,
        placed_at=order.placed_at,
        hold_reason=order.hold_reason,
        lines=tuple(_line_view(line) for line in order.lines),
        packages=tuple(
            PackageView(
                id=p.id,
                seq=p.seq,
                box_type=p.box_type,
                weight_g=p.weight_g,
                closed=p.status == "closed",
                units=sum(q for _, q in contents[p.id]),
                contents=tuple(contents[p.id]),
            )
            for p in packages
        ),
    )


def _line_view(line: OrderLine) -> LineView:
    p = line.product
    return LineView(
        id=line.id,
        line_no=line.line_no,
        product_id=p.id,
        sku=p.sku,
        gtin=p.gtin or "",
        name=p.name,
        bin=line.location.code if line.location else "",
        ordered=line.qty_ordered,
        packed=line.qty_packed,
        missing=line.qty_missing,
        needs_lot=p.track_lot,
        needs_serial=p.track_serial,
    )


def get_order(uow: UnitOfWork, order_id: uuid.UUID) -> OrderView:
    return order_view(uow.session, load_order(uow.session, order_id))


def search_orders(uow: UnitOfWork, text: str) -> list[OrderSummary]:
    """Orders whose number, customer name or e-mail matches; newest first."""
    text = text.strip()
    if not text:
        return []
    like = f"%{text.lower()}%"
    line_count = (
        select(func.count(OrderLine.id))
        .where(OrderLine.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
    )
    stmt = (
        select(Order, Customer, line_count)
        .join(Customer, Customer.id == Order.customer_id)
        .where(
            or_(
                Order.number == text,
                func.lower(Order.number).like(like),
                func.lower(Customer.name).like(like),
                func.lower(Customer.email).like(like),
            )
        )
        .order_by(Order.placed_at.desc())
        .limit(SEARCH_LIMIT)
    )
    return [
        OrderSummary(
            id=o.id,
            number=o.number,
            status=o.status,
            customer=c.name,
            email=c.email,
            placed_at=o.placed_at,
            lines=n,
        )
        for o, c, n in uow.session.execute(stmt).all()
    ]


def order_timeline(uow: UnitOfWork, order_id: uuid.UUID) -> list[TimelineEntry]:
    """Every scan and event of an order, oldest first."""
    s = uow.session
    names = dict(s.execute(select(Operator.id, Operator.name)).all())
    entries = [
        TimelineEntry(
            at=e.at,
            what=_ACTION_WORDS.get(e.action, e.action),
            who=names.get(e.operator_id, "") if e.operator_id else "",
            detail=_detail(e.details),
        )
        for e in s.scalars(select(AuditEvent).where(AuditEvent.entity_id == order_id))
    ]
    entries += [
        TimelineEntry(
            at=e.at,
            what=f"scan {e.outcome}",
            who=names.get(e.operator_id, "") if e.operator_id else "",
            detail=f"{e.raw} — {e.message}" if e.message else e.raw,
        )
        for e in s.scalars(select(ScanEvent).where(ScanEvent.order_id == order_id))
    ]
    return sorted(entries, key=lambda t: t.at)


_ACTION_WORDS = {
    "order.pack_started": "packing started",
    "order.item_packed": "item packed",
    "order.pack_undone": "scan undone",
    "order.item_missing": "item reported missing",
    "order.hold_released": "hold released by supervisor",
    "order.packed": "order packed",
    "package.closed": "package closed",
    "package.added": "package added",
    "package.units_moved": "units moved",
    "package.reopened": "package reopened",
}


def _detail(details: dict[str, object]) -> str:
    keep = ("sku", "units", "package", "reason", "weight_g", "box_type", "decision", "qty")
    return ", ".join(f"{k} {details[k]}" for k in keep if k in details)
