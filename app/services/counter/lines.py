"""Changing a basket being rung up: a line's quantity, voiding a line, money off a line or the
whole basket (within the operator's limit, or a supervisor's who scanned their badge), and the
customer. Each change is audited; none goes to the central side on its own — the completed
sale's operation carries the lines as sold, voided lines and who approved each discount."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select

from app.domain.errors import NotFoundError, ValidationError
from app.domain.pricing import (
    MAX_QTY,
    PricedLine,
    basket_discount_for,
    check_discount,
)
from app.domain.roles import Permission, Role, parse_roles
from app.services import auth
from app.services.counter.basket import SALE_LINES, get_basket, open_sale, priced_line, read_basket
from app.services.counter.views import Basket
from app.store.fastexec import FastExecutor
from app.store.models import AuditEvent, CounterSale, CounterSaleLine, Customer
from app.store.uow import UnitOfWork


def _line(uow: UnitOfWork, sale_id: uuid.UUID, line_id: uuid.UUID) -> CounterSaleLine:
    line = uow.session.get(CounterSaleLine, line_id)
    if line is None or line.sale_id != sale_id:
        raise NotFoundError("That line is not on this sale.")
    if line.voided:
        raise ValidationError(f"{line.name} was voided already.")
    return line


def _audit(uow: UnitOfWork, action: str, sale_id: uuid.UUID, details: dict[str, object]) -> None:
    uow.session.add(
        AuditEvent(
            station_id=uow.actor.station_id,
            operator_id=uow.actor.operator_id,
            action=action,
            entity="counter_sale",
            entity_id=sale_id,
            details=details,
        )
    )


def set_qty(uow: UnitOfWork, sale_id: uuid.UUID, line_id: uuid.UUID, qty: int) -> Basket:
    auth.check(uow, Permission.SELL)
    fx = FastExecutor(uow.session.connection())
    open_sale(fx, sale_id)
    line = _line(uow, sale_id, line_id)
    if line.grams is not None or line.price_minor is not None:
        raise ValidationError(
            f"{line.name} was weighed — weigh the rest separately and scan its label."
        )
    if not 1 <= qty <= MAX_QTY:
        raise ValidationError(
            f"A quantity of {qty} is not possible — 1 to {MAX_QTY}; void the line to remove it."
        )
    PricedLine(qty, line.unit_price_minor, line.tax_rate_bp, line.discount_minor)
    _audit(uow, "counter.qty_changed", sale_id, {"line": line.line_no, "from": line.qty, "to": qty})
    line.qty = qty
    uow.session.flush()
    return read_basket(fx, sale_id)


def void_line(uow: UnitOfWork, sale_id: uuid.UUID, line_id: uuid.UUID) -> Basket:
    auth.check(uow, Permission.SELL)
    fx = FastExecutor(uow.session.connection())
    open_sale(fx, sale_id)
    line = _line(uow, sale_id, line_id)
    line.voided = True
    _audit(
        uow,
        "counter.line_voided",
        sale_id,
        {"line": line.line_no, "sku": line.sku, "qty": line.qty, "grams": line.grams},
    )
    uow.session.flush()
    return read_basket(fx, sale_id)


def _approver(uow: UnitOfWork, badge: str | None) -> tuple[str, frozenset[Role], uuid.UUID | None]:
    """Whose limit applies: the operator's, or a supervisor's who scanned their badge."""
    if badge:
        op = auth.find_by_badge(uow.session, badge)
        return op.name, parse_roles(op.roles), op.id
    roles = frozenset(Role(r) for r in uow.actor.roles)
    return uow.actor.operator_name or "This operator", roles, None


def set_line_discount(
    uow: UnitOfWork,
    sale_id: uuid.UUID,
    line_id: uuid.UUID,
    *,
    percent_bp: int = 0,
    amount_minor: int = 0,
    approver_badge: str | None = None,
) -> Basket:
    """Money off one line, within the limit of the operator's role (or a supervisor's)."""
    auth.check(uow, Permission.SELL)
    fx = FastExecutor(uow.session.connection())
    open_sale(fx, sale_id)
    line = _line(uow, sale_id, line_id)
    base = PricedLine(
        line.qty, line.unit_price_minor, line.tax_rate_bp, 0, line.grams, line.price_minor
    ).before_discount_minor
    off = basket_discount_for(
        [PricedLine(1, base, 0)], percent_bp=percent_bp, amount_minor=amount_minor
    )
    name, roles, approver = _approver(uow, approver_badge)
    check_discount(name, roles, off, base)
    line.discount_minor = off
    line.discount_approved_by = approver or uow.actor.operator_id
    _audit(
        uow,
        "counter.line_discount",
        sale_id,
        {"line": line.line_no, "sku": line.sku, "off_minor": off, "approved_by": name},
    )
    uow.session.flush()
    return read_basket(fx, sale_id)


def set_basket_discount(
    uow: UnitOfWork,
    sale_id: uuid.UUID,
    *,
    percent_bp: int = 0,
    amount_minor: int = 0,
    approver_badge: str | None = None,
) -> Basket:
    """Money off the whole basket (spread over the lines), within the operator's limit."""
    auth.check(uow, Permission.SELL)
    fx = FastExecutor(uow.session.connection())
    open_sale(fx, sale_id)
    live = [r for r in fx.rows(SALE_LINES, {"sale_id": sale_id}) if not r[11]]
    if not live:
        raise ValidationError("The basket is empty — scan the items first, then the discount.")
    priced = [priced_line(r) for r in live]
    off = basket_discount_for(priced, percent_bp=percent_bp, amount_minor=amount_minor)
    of = sum(p.amount_minor for p in priced)
    name, roles, _ = _approver(uow, approver_badge)
    check_discount(name, roles, off, of)
    sale = uow.session.get_one(CounterSale, sale_id)
    sale.basket_discount_bp = percent_bp if percent_bp else 0
    sale.basket_discount_minor = 0 if percent_bp else amount_minor
    _audit(uow, "counter.basket_discount", sale_id, {"off_minor": off, "approved_by": name})
    uow.session.flush()
    return read_basket(fx, sale_id)


def set_customer(uow: UnitOfWork, sale_id: uuid.UUID, customer_id: uuid.UUID | None) -> Basket:
    auth.check(uow, Permission.SELL)
    sale = uow.session.get(CounterSale, sale_id)
    if sale is None or sale.status != "open":
        raise ValidationError("Start a sale before naming its customer.")
    if customer_id is not None and uow.session.get(Customer, customer_id) is None:
        raise NotFoundError("That customer is not known on this till.")
    sale.customer_id = customer_id
    uow.session.flush()
    return get_basket(uow, sale_id)


def find_customers(uow: UnitOfWork, text: str, limit: int = 20) -> list[tuple[uuid.UUID, str]]:
    text = text.strip()
    if len(text) < 2:
        raise ValidationError("Type at least two letters of the name, e-mail or phone.")
    like = f"%{text}%"
    rows = uow.session.execute(
        select(Customer.id, Customer.name, Customer.email)
        .where(or_(Customer.name.ilike(like), Customer.email.ilike(like), Customer.phone == text))
        .order_by(Customer.name)
        .limit(limit)
    )
    return [(cid, f"{name} · {email}") for cid, name, email in rows]
