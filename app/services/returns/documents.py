"""What the returns desk prints, as plain data for printing/: the return slip of an RMA (its
barcode opens it at the desk), a new product label for a restocked unit, and a quarantine tag.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.domain import returns as rules
from app.domain.errors import NotFoundError
from app.domain.labels import ProductLabel
from app.domain.pick_docs import ReturnSlip, ReturnSlipLine
from app.services import print_jobs
from app.store.models import Customer, Order, Product, ReturnUnit, Rma, RmaLine
from app.store.uow import UnitOfWork

STEPS = (
    "Pack the items with this slip inside the parcel.",
    "Stick the label below on the outside.",
    "Hand the parcel to the carrier; keep the receipt.",
)


def _unit(uow: UnitOfWork, unit_id: uuid.UUID) -> tuple[ReturnUnit, Product, Rma]:
    unit = uow.session.get(ReturnUnit, unit_id)
    if unit is None:
        raise NotFoundError("That returned unit is not on this station.")
    return (
        unit,
        uow.session.get_one(Product, unit.product_id),
        uow.session.get_one(Rma, unit.rma_id),
    )


def product_label(uow: UnitOfWork, unit_id: uuid.UUID) -> ProductLabel:
    _unit_row, product, _rma = _unit(uow, unit_id)
    if not product.gtin:
        raise NotFoundError(f"{product.sku} has no GTIN to print on its label.")
    return ProductLabel(
        gtin=product.gtin.lstrip("0").zfill(13),
        name=product.name,
        sku=product.sku,
        price_minor=product.price_minor,
        currency=product.currency,
    )


def quarantine_tag(uow: UnitOfWork, unit_id: uuid.UUID) -> rules.QuarantineTag:
    unit, product, rma = _unit(uow, unit_id)
    order = uow.session.get_one(Order, rma.order_id)
    reason = None
    if unit.rma_line_id is not None:
        line = uow.session.get_one(RmaLine, unit.rma_line_id)
        reason = rules.Reason(line.reason)
    return rules.QuarantineTag(
        rma_number=rma.number,
        order_number=order.number,
        sku=product.sku,
        name=product.name,
        serial=unit.serial,
        condition=rules.Condition(unit.condition),
        reason=reason,
        received_at=unit.received_at,
        received_by=unit.operator,
        disposition=rules.Disposition(unit.disposition),
    )


def return_slip(uow: UnitOfWork, rma_id: uuid.UUID) -> ReturnSlip:
    s = uow.session
    rma = s.get(Rma, rma_id)
    if rma is None:
        raise NotFoundError("That return is not on this station.")
    order = s.get_one(Order, rma.order_id)
    customer = s.get(Customer, rma.customer_id) if rma.customer_id else None
    company = print_jobs.company_profile(uow)
    rows = s.execute(
        select(RmaLine, Product)
        .join(Product, Product.id == RmaLine.product_id)
        .where(RmaLine.rma_id == rma.id)
        .order_by(RmaLine.id)
    ).all()
    return ReturnSlip(
        rma_number=rma.number,
        order_number=order.number,
        customer=print_jobs.address_from(
            dict(order.ship_to or {}), customer.name if customer else ""
        ),
        return_to=company.address,
        lines=tuple(
            ReturnSlipLine(p.sku, p.name, ln.qty, rules.Reason(ln.reason).label) for ln, p in rows
        ),
        instructions=STEPS,
        return_url=f"{company.returns_url}?rma={rma.number}" if company.returns_url else "",
        created_at=rma.created_at,
    )
