"""Helpers the returns desk's tests share: a station with delivered orders, RMAs and a
policy (app/services/returns/demo.py), signed-in operators, and what a person would look at."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update

from app.bootstrap import StationContext
from app.services import auth, stock
from app.services.returns.demo import ReturnsDemo, create_returns_demo
from app.services.returns.desk import ReturnDesk
from app.services.views import OperatorView
from app.store.models import Order, OrderLine, OutboxOp, PackedUnit, Product, Rma, RmaLine

CLERK, SUPERVISOR, PACKER = "OP-1003", "OP-9001", "OP-1001"


@dataclass(frozen=True)
class Desk:
    ctx: StationContext
    demo: ReturnsDemo
    clerk: OperatorView
    desk: ReturnDesk


def sign_in(ctx: StationContext, badge: str) -> OperatorView:
    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, badge)


def open_desk(ctx: StationContext, demo: ReturnsDemo | None = None) -> Desk:
    demo = demo or create_returns_demo(ctx.engine, orders=8)
    clerk = sign_in(ctx, CLERK)
    return Desk(ctx, demo, clerk, ReturnDesk(lambda: ctx.uow(clerk)))


def outbox(ctx: StationContext) -> list[OutboxOp]:
    with ctx.sessions() as s:
        return list(s.scalars(select(OutboxOp).order_by(OutboxOp.seq)))


def rma_line(ctx: StationContext, number: str) -> tuple[uuid.UUID, RmaLine, Product]:
    """(RMA id, its first line, the line's product) of an RMA."""
    with ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.number == number)).one()
        line = s.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id)).first()
        assert line is not None
        return rma.id, line, s.get_one(Product, line.product_id)


def order(ctx: StationContext, number: str) -> Order:
    with ctx.sessions() as s:
        o = s.scalars(select(Order).where(Order.number == number)).one()
        _ = [ln.product for ln in o.lines]
        return o


def product_not_on(ctx: StationContext, order_number: str) -> Product:
    with ctx.sessions() as s:
        o = s.scalars(select(Order).where(Order.number == order_number)).one()
        mine = {ln.product_id for ln in o.lines}
        return next(
            p
            for p in s.scalars(select(Product).order_by(Product.sku).limit(50))
            if p.id not in mine and not p.track_serial
        )


def serial_order(ctx: StationContext, demo: ReturnsDemo) -> tuple[str, str, Product]:
    """(order number, a serial sold on it, the serial-tracked product)."""
    assert demo.serial_sku is not None, "the demo has a serial-tracked product"
    with ctx.sessions() as s:
        product = s.scalars(select(Product).where(Product.sku == demo.serial_sku)).one()
        unit = s.scalars(
            select(PackedUnit).where(PackedUnit.serial.is_not(None)).order_by(PackedUnit.serial)
        ).first()
        assert unit is not None and unit.serial is not None
        number = s.get_one(Order, unit.order_id).number
        return number, unit.serial, product


def on_hand(ctx: StationContext, product_id: uuid.UUID, location_id: uuid.UUID | None) -> int:
    with ctx.uow() as uow:
        return stock.on_hand(uow, product_id, location_id)


def movements_by_reason(ctx: StationContext, ref: str) -> dict[str, int]:
    from app.store.models import StockMovement

    with ctx.sessions() as s:
        rows = s.execute(
            select(StockMovement.reason, func.sum(StockMovement.qty))
            .where(StockMovement.ref == ref)
            .group_by(StockMovement.reason)
        ).all()
    return {r: int(q) for r, q in rows}


def receive_all(d: Desk, number: str, condition: str = "opened") -> str:
    """Scan an RMA's expected units in, grade them all, complete; return the RMA number."""
    from app.domain.returns import Condition

    _rma_id, line, product = rma_line(d.ctx, number)
    assert product.gtin
    assert d.desk.scan(number).ok
    for _ in range(line.qty):
        assert d.desk.scan(product.gtin).ok
    for u in d.desk.units:
        d.desk.grade(u.key, Condition(condition))
    return d.desk.complete().rma_number


def make_rma(
    d: Desk,
    order_number: str,
    lines: list[tuple[int, int]],
    reason: str = "defective",
    *,
    shipping_minor: int = 495,
    requested: str = "refund",
) -> str:
    """An RMA for ``(line_no, units)`` of an order, made by the desk's clerk; its number."""
    from app.domain.returns import Reason, Resolution
    from app.services.returns import rmas

    o = order(d.ctx, order_number)
    by_no = {ln.line_no: ln.id for ln in o.lines}
    with d.ctx.uow(d.clerk) as uow:
        view = rmas.create_rma(
            uow,
            rmas.RmaRequest(
                o.id,
                [rmas.RequestLine(by_no[no], n, Reason(reason)) for no, n in lines],
                Resolution(requested),
                shipping_paid_minor=shipping_minor,
            ),
        )
    return view.number


def receive_every_line(d: Desk, number: str, condition: str = "opened") -> str:
    """Scan every expected unit of an RMA (no serial numbers), grade them all, complete."""
    from app.domain.returns import Condition

    opened = d.desk.scan(number)
    assert opened.ok, opened.message
    for line, _counted in d.desk.expected():
        assert line.gtin and not line.track_serial
        for _ in range(line.qty):
            counted = d.desk.scan(line.gtin)
            assert counted.ok, counted.message
    for u in d.desk.units:
        d.desk.grade(u.key, Condition(condition))
    return d.desk.complete().rma_number


def paid_for(ctx: StationContext, order_number: str, shipping_minor: int) -> int:
    """What the customer paid for an order: every unit shipped at its price, and shipping."""
    o = order(ctx, order_number)
    goods = sum((ln.qty_ordered - ln.qty_missing) * ln.paid_per_unit for ln in o.lines)
    return goods + shipping_minor


def plain_order_number(d: Desk) -> str:
    """A delivered order inside the window, with no RMA, no serial-tracked item and more than
    one line."""
    for number in d.demo.delivered[3:-2]:
        o = order(d.ctx, number)
        if len(o.lines) > 1 and not any(ln.product.track_serial for ln in o.lines):
            return number
    raise LookupError("no plain delivered order in the demo")


def one_product_on_two_lines(d: Desk, cheaper_by: int = 0) -> tuple[str, OrderLine, OrderLine]:
    """A plain delivered order whose second line sells the first line's product (bought
    ``cheaper_by`` less a unit, when given); the order's number and its first two lines as
    they were before."""
    number = plain_order_number(d)
    first, second = sorted(order(d.ctx, number).lines, key=lambda ln: ln.line_no)[:2]
    changes: dict[str, object] = {"product_id": first.product_id}
    if cheaper_by:
        changes["unit_price_minor"] = first.paid_per_unit - cheaper_by
    with d.ctx.sessions.begin() as s:
        s.execute(update(OrderLine).where(OrderLine.id == second.id).values(**changes))
    return number, first, second
