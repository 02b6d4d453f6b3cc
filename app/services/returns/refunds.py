"""The refunds the payment system pays: listing them by state, and reading an id typed at the
admin command (``waystation-admin refunds``). Marking one paid or failed is
:func:`app.services.returns.resolution.mark_refund`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.domain import returns as rules
from app.domain.errors import NotFoundError, ValidationError
from app.domain.roles import Permission
from app.services import auth
from app.services.returns import resolution
from app.store.models import Customer, Order, ReturnRefund, Rma
from app.store.uow import UnitOfWork

STATES = (resolution.TO_BE_PAID, resolution.PAID, resolution.FAILED, resolution.HELD)


@dataclass(frozen=True, slots=True)
class RefundRow:
    id: uuid.UUID
    state: str
    amount_minor: int
    currency: str
    rma_number: str
    order_number: str
    customer: str
    created_at: datetime


def list_refunds(uow: UnitOfWork, state: str | None = None) -> list[RefundRow]:
    """Refunds to the customer's payment (not store credit or exchanges), oldest first."""
    auth.check(uow, Permission.REFUND)
    if state is not None and state not in STATES:
        raise ValidationError(f"A refund is {', '.join(STATES)} — not {state!r}.")
    query = (
        select(ReturnRefund, Rma.number, Order.number, Customer.name)
        .join(Rma, Rma.id == ReturnRefund.rma_id)
        .join(Order, Order.id == Rma.order_id)
        .outerjoin(Customer, Customer.id == Rma.customer_id)
        .where(ReturnRefund.resolution == rules.Resolution.REFUND.value)
        .order_by(ReturnRefund.created_at, ReturnRefund.id)
    )
    if state is not None:
        query = query.where(ReturnRefund.state == state)
    return [
        RefundRow(r.id, r.state, r.amount_minor, r.currency, rma, order, who or "", r.created_at)
        for r, rma, order, who in uow.session.execute(query).all()
    ]


def parse_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise NotFoundError(
            f"{text.strip() or 'Nothing'} is not a refund id — copy it from `refunds list`."
        ) from None
