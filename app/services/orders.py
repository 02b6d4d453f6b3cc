"""Finding orders and showing them: load for the bench, search, and the order's timeline."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import Connection, Table, Uuid, bindparam, func, or_, select
from sqlalchemy.orm import Session

from app.domain.errors import NotFoundError
from app.services.views import (
    LineView,
    OrderSummary,
    OrderView,
    PackageView,
    TimelineEntry,
)
from app.store.fastexec import FastExecutor
from app.store.models import (
    AuditEvent,
    Customer,
    Location,
    Operator,
    Order,
    OrderLine,
    Package,
    PackageItem,
    Product,
    SalesChannel,
    ScanEvent,
)
from app.store.uow import UnitOfWork

SEARCH_LIMIT = 50
_ORDER: Table = Order.__table__  # type: ignore[assignment]
_LINE: Table = OrderLine.__table__  # type: ignore[assignment]
_PRODUCT: Table = Product.__table__  # type: ignore[assignment]
_LOCATION: Table = Location.__table__  # type: ignore[assignment]
_CUSTOMER: Table = Customer.__table__  # type: ignore[assignment]
_CHANNEL: Table = SalesChannel.__table__  # type: ignore[assignment]
_PKG: Table = Package.__table__  # type: ignore[assignment]
_ITEM: Table = PackageItem.__table__  # type: ignore[assignment]


def load_order(session: Session, order_id: uuid.UUID, *, lock: bool = False) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFoundError("That order no longer exists on this station — scan another order.")
    return order


def order_view(session: Session, order: Order) -> OrderView:
    """The order as the bench shows it, after this session's pending changes."""
    session.flush()
    return read_order(session.connection(), order.id)


_ORDER_ID = bindparam("order_id", type_=Uuid())
# Built once: the scan path runs these for every scan, so they are not rebuilt each time.
_READ_HEAD = (
    select(
        _ORDER.c.number,
        _ORDER.c.status,
        _ORDER.c.placed_at,
        _ORDER.c.hold_reason,
        _ORDER.c.version,
        _CUSTOMER.c.name,
        _CUSTOMER.c.email,
        _CHANNEL.c.name,
    )
    .join(_CUSTOMER, _CUSTOMER.c.id == _ORDER.c.customer_id)
    .join(_CHANNEL, _CHANNEL.c.id == _ORDER.c.channel_id)
    .where(_ORDER.c.id == _ORDER_ID)
)
_READ_LINES = (
    select(
        _LINE.c.id,
        _LINE.c.line_no,
        _LINE.c.product_id,
        _PRODUCT.c.sku,
        _PRODUCT.c.gtin,
        _PRODUCT.c.name,
        _LOCATION.c.code,
        _LINE.c.qty_ordered,
        _LINE.c.qty_packed,
        _LINE.c.qty_missing,
        _PRODUCT.c.track_lot,
        _PRODUCT.c.track_serial,
        _PRODUCT.c.track_expiry,
    )
    .join(_PRODUCT, _PRODUCT.c.id == _LINE.c.product_id)
    .outerjoin(_LOCATION, _LOCATION.c.id == _LINE.c.location_id)
    .where(_LINE.c.order_id == _ORDER_ID)
    .order_by(_LINE.c.line_no)
)
_READ_PACKAGES = (
    select(_PKG.c.id, _PKG.c.seq, _PKG.c.box_type, _PKG.c.weight_g, _PKG.c.status, _PKG.c.sscc)
    .where(_PKG.c.order_id == _ORDER_ID)
    .order_by(_PKG.c.seq)
)
_READ_CONTENTS = (
    select(_ITEM.c.package_id, _ITEM.c.order_line_id, _ITEM.c.qty)
    .join(_PKG, _PKG.c.id == _ITEM.c.package_id)
    .where(_PKG.c.order_id == _ORDER_ID, _ITEM.c.qty > 0)
)


def read_order(conn: Connection, order_id: uuid.UUID) -> OrderView:
    """The order with its lines and packages, read with Core statements (the scan path)."""
    key = {"order_id": order_id}
    fx = FastExecutor(conn)
    head = fx.first(_READ_HEAD, key)
    if head is None:
        raise NotFoundError("That order no longer exists on this station — scan another order.")
    lines = fx.rows(_READ_LINES, key)
    packages = fx.rows(_READ_PACKAGES, key)
    contents: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = defaultdict(list)
    if packages:
        for package_id, line_id, qty in fx.rows(_READ_CONTENTS, key):
            contents[package_id].append((line_id, qty))
    number, status, placed_at, hold_reason, version, customer, email, channel = head
    return OrderView(
        id=order_id,
        number=number,
        status=status,
        customer=customer,
        email=email,
        channel=channel,
        placed_at=_utc(placed_at),
        hold_reason=hold_reason,
        version=version,
        lines=tuple(
            LineView(
                id=r[0],
                line_no=r[1],
                product_id=r[2],
                sku=r[3],
                gtin=r[4] or "",
                name=r[5],
                bin=r[6] or "",
                ordered=r[7],
                packed=r[8],
                missing=r[9],
                needs_lot=r[10],
                needs_serial=r[11],
                needs_expiry=r[12],
            )
            for r in lines
        ),
        packages=tuple(
            PackageView(
                id=pid,
                seq=seq,
                box_type=box_type,
                weight_g=weight_g,
                closed=status == "closed",
                units=sum(q for _, q in contents[pid]),
                contents=tuple(contents[pid]),
                sscc=sscc,
            )
            for pid, seq, box_type, weight_g, status, sscc in packages
        ),
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


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
