"""Taking payment and completing a sale; suspending, resuming and voiding one.

Completing is one local transaction: the receipt number, the lines' final amounts, the
tenders, the stock movements (reason ``sale``), any store-credit redemptions, the receipt's
print job and the ``counter.sale_completed`` operation. Its payload carries everything the
central hub needs to apply the sale without this station's database: a sale is a fact, accepted
by the hub exactly once (by op id and by receipt number).
"""

from __future__ import annotations

import uuid

from sqlalchemy import Table, bindparam, delete, func, select, update

from app.clock import utcnow
from app.domain.errors import NotFoundError, ValidationError
from app.domain.money import money
from app.domain.receipts import TenderKind
from app.domain.roles import Permission
from app.domain.tenders import Payment, cash_kept, check_payment, settle
from app.ids import new_id
from app.services import auth, print_jobs
from app.services.counter import sessions, store_credit
from app.services.counter.basket import get_basket, read_basket, totals_of
from app.services.counter.views import Basket, Completed, SuspendedSale
from app.store.fastexec import FastExecutor
from app.store.models import (
    AuditEvent,
    CounterSale,
    CounterSaleLine,
    CounterTender,
    Customer,
    Operator,
    Product,
    Station,
    StockMovement,
)
from app.store.uow import UnitOfWork

_STATION: Table = Station.__table__  # type: ignore[assignment]
_NEXT_RECEIPT = (
    update(_STATION)
    .where(_STATION.c.id == bindparam("station_id"))
    .values(next_receipt=_STATION.c.next_receipt + 1)
    .returning(_STATION.c.next_receipt, _STATION.c.name)
)
RECEIPT_DIGITS = 6


def next_receipt_number(uow: UnitOfWork) -> str:
    """This station's next receipt number: its name (unique in the company) and its own running
    number, so two tills never give the same number, online or not."""
    row = FastExecutor(uow.session.connection()).first(
        _NEXT_RECEIPT, {"station_id": uow.actor.station_id}
    )
    assert row is not None, "the station row is made at bootstrap"
    return f"{row[1]}-{row[0] - 1:0{RECEIPT_DIGITS}d}"


def _sale(uow: UnitOfWork, sale_id: uuid.UUID, status: str = "open") -> CounterSale:
    sale = uow.session.get(CounterSale, sale_id)
    if sale is None:
        raise NotFoundError("That sale no longer exists on this till.")
    if sale.status != status:
        raise ValidationError(f"That sale is {sale.status}, not {status}.")
    return sale


# ----------------------------------------------------------------------------- payments


def add_payment(
    uow: UnitOfWork, sale_id: uuid.UUID, kind: TenderKind, amount_minor: int, reference: str = ""
) -> Basket:
    """Take one payment towards the sale (it completes separately, once paid in full)."""
    auth.check(uow, Permission.SELL)
    sale = _sale(uow, sale_id)
    basket = get_basket(uow, sale_id)
    if not basket.live_lines:
        raise ValidationError("The basket is empty — scan the items first.")
    payment = Payment(kind, amount_minor, reference.strip())
    check_payment(basket.due_minor, payment, basket.currency)
    if kind is TenderKind.VOUCHER:
        code = payment.reference.upper()
        if not code:
            raise ValidationError("Scan or type the store credit or gift card code first.")
        held, _kind, _cur = store_credit.balance(uow, code)
        pending = sum(p.amount_minor for p in basket.payments if p.reference.upper() == code)
        if amount_minor > held - pending:
            left = max(0, held - pending)
            raise ValidationError(
                f"{code} holds only {money(left, basket.currency)} — take that from it and the "
                "rest another way."
            )
        payment = Payment(kind, amount_minor, code)
    seq = len(basket.payments) + 1
    uow.session.add(
        CounterTender(
            sale_id=sale.id,
            seq=seq,
            kind=payment.kind.value,
            amount_minor=payment.amount_minor,
            kept_minor=0,
            reference=payment.reference[:60],
            at=utcnow(),
        )
    )
    uow.session.flush()
    return get_basket(uow, sale_id)


def remove_payments(uow: UnitOfWork, sale_id: uuid.UUID) -> Basket:
    """Take the payments off an unfinished sale (a card payment is reversed on the terminal)."""
    auth.check(uow, Permission.SELL)
    _sale(uow, sale_id)
    basket = get_basket(uow, sale_id)
    uow.session.execute(delete(CounterTender).where(CounterTender.sale_id == sale_id))
    uow.session.add(
        AuditEvent(
            station_id=uow.actor.station_id,
            operator_id=uow.actor.operator_id,
            action="counter.payments_removed",
            entity="counter_sale",
            entity_id=sale_id,
            details={"payments": [[p.kind, p.amount_minor, p.reference] for p in basket.payments]},
        )
    )
    uow.session.flush()
    return get_basket(uow, sale_id)


# ----------------------------------------------------------------------------- completing


def complete_sale(uow: UnitOfWork, sale_id: uuid.UUID) -> Completed:
    auth.check(uow, Permission.SELL)
    s = uow.session
    sale = _sale(uow, sale_id)
    session_id = sessions.require_open(uow)
    fx = FastExecutor(s.connection())
    basket, totals, live_ids = totals_of(fx, sale_id)
    if not live_ids:
        raise ValidationError("The basket is empty — scan the items first.")
    tenders = list(
        s.scalars(
            select(CounterTender)
            .where(CounterTender.sale_id == sale_id)
            .order_by(CounterTender.seq)
        )
    )
    payments = [Payment(TenderKind(t.kind), t.amount_minor, t.reference) for t in tenders]
    paid = settle(totals.total_minor, payments, basket.currency)
    number = next_receipt_number(uow)
    now = utcnow()
    lines = {
        ln.id: ln
        for ln in s.scalars(select(CounterSaleLine).where(CounterSaleLine.sale_id == sale_id))
    }
    homes = dict(
        s.execute(
            select(Product.id, Product.home_location_id).where(
                Product.id.in_({lines[i].product_id for i in live_ids})
            )
        ).all()
    )
    movements = []
    line_payloads = []
    for line_id, t in zip(live_ids, totals.lines, strict=True):
        line = lines[line_id]
        line.basket_discount_minor = t.basket_discount_minor
        line.amount_minor = t.amount_minor
        line.tax_minor = t.tax_minor
        line.gross_minor = t.gross_minor
        movement = StockMovement(
            id=new_id(),
            at=now,
            product_id=line.product_id,
            location_id=homes.get(line.product_id),
            qty=-line.qty,
            reason="sale",
            ref=number,
            station_id=uow.actor.station_id,
        )
        s.add(movement)
        movements.append(movement)
        line_payloads.append(line_payload(line))
    redemptions = []
    for tender, kept in zip(tenders, cash_kept(payments, paid.change_minor), strict=True):
        tender.kept_minor = kept
        if tender.kind == TenderKind.VOUCHER.value:
            entry = store_credit.redeem(
                uow, tender.reference, tender.amount_minor, sale_id, basket.currency
            )
            redemptions.append(str(entry))
    sale.number = number
    sale.status = "completed"
    sale.completed_at = now
    sale.session_id = session_id
    sale.total_minor = totals.total_minor
    sale.tax_minor = totals.tax_minor
    sale.change_minor = paid.change_minor
    job = print_jobs.queue_job(uow, "receipt", sale_id, f"Receipt {number}")
    customer = s.get(Customer, sale.customer_id) if sale.customer_id else None
    uow.record(
        "counter.sale_completed",
        {
            "sale_id": str(sale_id),
            "receipt_number": number,
            "station_id": str(uow.actor.station_id),
            "session_id": str(session_id),
            "operator_id": str(sale.operator_id) if sale.operator_id else None,
            "customer_id": str(sale.customer_id) if sale.customer_id else None,
            "customer": customer.name if customer else None,
            "started_at": sale.started_at.isoformat(),
            "completed_at": now.isoformat(),
            "currency": basket.currency,
            "prices_include_tax": basket.basis == "inclusive",
            "basket_discount": {
                "percent_bp": sale.basket_discount_bp,
                "amount_minor": sale.basket_discount_minor,
            },
            "lines": line_payloads,
            "voided_lines": [line_payload(ln) for ln in lines.values() if ln.voided],
            "taxes": [
                {
                    "rate_bp": r.rate_bp,
                    "net_minor": r.net_minor,
                    "tax_minor": r.tax_minor,
                    "gross_minor": r.gross_minor,
                }
                for r in totals.rates
            ],
            "subtotal_minor": totals.subtotal_minor,
            "discount_minor": totals.discount_minor,
            "tax_minor": totals.tax_minor,
            "total_minor": totals.total_minor,
            "tenders": [
                {
                    "tender_id": str(t.id),
                    "seq": t.seq,
                    "at": t.at.isoformat(),
                    "kind": t.kind,
                    "amount_minor": t.amount_minor,
                    "kept_minor": t.kept_minor,
                    "reference": t.reference,
                }
                for t in tenders
            ],
            "change_minor": paid.change_minor,
            "store_credit_entries": redemptions,
            "stock_movements": [movement_payload(m) for m in movements],
        },
        entity="counter_sale",
        entity_id=sale_id,
    )
    s.flush()
    return Completed(
        read_basket(fx, sale_id),
        number,
        paid.change_minor,
        job,
        any(p.kind is TenderKind.CASH for p in payments),
    )


def line_payload(line: CounterSaleLine) -> dict[str, object]:
    return {
        "line_id": str(line.id),
        "line_no": line.line_no,
        "product_id": str(line.product_id),
        "sku": line.sku,
        "name": line.name,
        "qty": line.qty,
        "voided": line.voided,
        "grams": line.grams,
        "unit_price_minor": line.unit_price_minor,
        "embedded_price_minor": line.price_minor,
        "tax_rate_bp": line.tax_rate_bp,
        "line_discount_minor": line.discount_minor,
        "discount_approved_by": str(line.discount_approved_by)
        if line.discount_approved_by
        else None,
        "basket_discount_minor": line.basket_discount_minor,
        "amount_minor": line.amount_minor,
        "tax_minor": line.tax_minor,
        "gross_minor": line.gross_minor,
    }


def movement_payload(m: StockMovement) -> dict[str, object]:
    return {
        "movement_id": str(m.id),
        "at": m.at.isoformat(),
        "product_id": str(m.product_id),
        "location_id": str(m.location_id) if m.location_id else None,
        "qty": m.qty,
        "reason": m.reason,
        "ref": m.ref,
    }


# ----------------------------------------------------------------------------- suspend / void


def suspend_sale(uow: UnitOfWork, sale_id: uuid.UUID, note: str = "") -> None:
    """Put the sale aside (the customer fetches something); any till of this station resumes it."""
    auth.check(uow, Permission.SELL)
    sale = _sale(uow, sale_id)
    basket = get_basket(uow, sale_id)
    if not basket.live_lines:
        raise ValidationError("The basket is empty — there is nothing to suspend.")
    if basket.payments:
        raise ValidationError(
            "A payment was taken — complete the sale, or take the payments off before suspending."
        )
    sale.status = "suspended"
    sale.note = (
        note.strip() or f"{basket.items} items, {money(basket.total_minor, basket.currency)}"
    )[:200]
    uow.session.add(
        AuditEvent(
            station_id=uow.actor.station_id,
            operator_id=uow.actor.operator_id,
            action="counter.sale_suspended",
            entity="counter_sale",
            entity_id=sale_id,
            details={"note": sale.note, "total_minor": basket.total_minor},
        )
    )


def suspended_sales(uow: UnitOfWork) -> list[SuspendedSale]:
    s = uow.session
    out = []
    for sale in s.scalars(
        select(CounterSale)
        .where(CounterSale.station_id == uow.actor.station_id, CounterSale.status == "suspended")
        .order_by(CounterSale.started_at)
    ):
        basket = get_basket(uow, sale.id)
        who = s.scalar(select(Operator.name).where(Operator.id == sale.operator_id)) or ""
        out.append(
            SuspendedSale(
                sale.id, sale.note, sale.started_at, basket.items, basket.total_minor, who
            )
        )
    return out


def resume_sale(uow: UnitOfWork, sale_id: uuid.UUID) -> Basket:
    auth.check(uow, Permission.SELL)
    sessions.require_open(uow)
    sale = uow.session.get(CounterSale, sale_id)
    if sale is None or sale.status != "suspended":
        raise ValidationError("That sale is not suspended any more — it was resumed or voided.")
    sale.status = "open"
    uow.session.flush()
    return get_basket(uow, sale_id)


def open_sale_id(uow: UnitOfWork) -> uuid.UUID | None:
    """The sale this till was ringing up when it stopped, if any (to carry on with it)."""
    return uow.session.scalar(
        select(CounterSale.id)
        .where(
            CounterSale.station_id == uow.actor.station_id,
            CounterSale.status == "open",
            CounterSale.kind == "sale",
        )
        .order_by(CounterSale.started_at.desc())
        .limit(1)
    )


def void_sale(uow: UnitOfWork, sale_id: uuid.UUID, reason: str = "") -> None:
    """Cancel the sale being rung up; what was scanned is kept (loss prevention reads it)."""
    auth.check(uow, Permission.SELL)
    sale = uow.session.get(CounterSale, sale_id)
    if sale is None or sale.status not in ("open", "suspended"):
        raise ValidationError("Only a sale that is not completed can be voided.")
    basket = get_basket(uow, sale_id)
    if basket.payments:
        raise ValidationError(
            "A payment was taken — take the payments off (reverse the card on the terminal) "
            "before voiding the sale."
        )
    sale.status = "voided"
    sale.completed_at = utcnow()
    if reason.strip():
        sale.note = reason.strip()[:200]  # kept with the sale: why it was given up
    lines = list(
        uow.session.scalars(select(CounterSaleLine).where(CounterSaleLine.sale_id == sale_id))
    )
    uow.record(
        "counter.sale_voided",
        {
            "sale_id": str(sale_id),
            "station_id": str(uow.actor.station_id),
            "operator_id": str(uow.actor.operator_id) if uow.actor.operator_id else None,
            "session_id": str(sale.session_id) if sale.session_id else None,
            "started_at": sale.started_at.isoformat(),
            "prices_include_tax": sale.basis == "inclusive",
            "voided_at": sale.completed_at.isoformat(),
            "reason": sale.note,
            "total_minor": basket.total_minor,
            "currency": basket.currency,
            "lines": [line_payload(ln) for ln in lines],
        },
        entity="counter_sale",
        entity_id=sale_id,
    )


def sales_in_session(uow: UnitOfWork, session_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        uow.session.scalars(
            select(CounterSale.id)
            .where(CounterSale.session_id == session_id, CounterSale.status == "completed")
            .order_by(CounterSale.completed_at, CounterSale.number)
        )
    )


def count_completed(uow: UnitOfWork) -> int:
    return int(
        uow.session.scalar(
            select(func.count(CounterSale.id)).where(CounterSale.status == "completed")
        )
        or 0
    )
