"""Returns and exchanges at the counter.

With the receipt (its barcode scanned, or the sale looked up): each line can come back up to
the units sold less those already returned, and refunds what that share of the line was paid
(``round(gross × units / qty)`` counted cumulatively, so returning every unit refunds the line
exactly and the refunds of a sale never add up to more than it took). The money goes back to
the sale's own tenders (cards first, then balances, then cash; never more to one tender than
it paid) or, if the customer prefers, to store credit. A clerk may do this.

Without the receipt: a supervisor approves (badge), the item is refunded at today's price, to
cash or store credit.

An exchange is a return to store credit, then a new sale paid with that credit.

Each returned unit's disposition becomes stock movements: ``restock`` puts it back in its bin
(reason ``return``); ``quarantine`` books it in apart from sellable stock (reason
``quarantine``, no bin) for inspection; ``scrap`` books it in and out again (``return`` then
``scrap``), so the ledger keeps both facts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_, select

from app.clock import utcnow
from app.domain.errors import NotFoundError, ValidationError
from app.domain.money import money
from app.domain.pricing import gross_price, round_div
from app.domain.receipts import TenderKind
from app.domain.roles import Permission, Role, allows
from app.domain.tenders import Refundable, RefundPart, refund_to_original
from app.ids import new_id
from app.services import auth, print_jobs
from app.services.counter import catalog, sessions, store_credit
from app.services.counter.checkout import line_payload, movement_payload, next_receipt_number
from app.services.counter.views import Payment, ReturnableLine, ReturnDone, SaleForReturn
from app.store.models import (
    CounterSale,
    CounterSaleLine,
    CounterTender,
    Customer,
    Product,
    StockMovement,
)
from app.store.uow import UnitOfWork


class Disposition(StrEnum):
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    SCRAP = "scrap"


class RefundTo(StrEnum):
    ORIGINAL = "original"  # the sale's own tenders
    STORE_CREDIT = "store_credit"
    CASH = "cash"  # no-receipt returns only


@dataclass(frozen=True, slots=True)
class ReturnItem:
    qty: int
    disposition: Disposition
    sale_line_id: uuid.UUID | None = None  # with the receipt
    product_id: uuid.UUID | None = None  # without it


def _completed_sale(uow: UnitOfWork, sale: CounterSale | None, what: str) -> CounterSale:
    if sale is None or sale.kind != "sale":
        raise NotFoundError(
            f"{what} is not a receipt of this shop's counter — check the number, or look the "
            "sale up by customer or item."
        )
    if sale.status != "completed":
        raise ValidationError(f"Sale {what} was never completed — there is nothing to return.")
    return sale


def sale_for_return(uow: UnitOfWork, number: str) -> SaleForReturn:
    """The sale on a receipt (its number as scanned from the receipt's barcode)."""
    code = number.strip().upper()
    sale = uow.session.scalar(select(CounterSale).where(CounterSale.number == code))
    return _view(uow, _completed_sale(uow, sale, code))


def _view(uow: UnitOfWork, sale: CounterSale) -> SaleForReturn:
    s = uow.session
    assert sale.number is not None
    assert sale.completed_at is not None
    lines = s.scalars(
        select(CounterSaleLine)
        .where(CounterSaleLine.sale_id == sale.id, CounterSaleLine.voided.is_(False))
        .order_by(CounterSaleLine.line_no)
    )
    tenders = s.scalars(
        select(CounterTender).where(CounterTender.sale_id == sale.id).order_by(CounterTender.seq)
    )
    rows = tuple(
        ReturnableLine(
            ln.id,
            ln.product_id,
            ln.sku,
            ln.name,
            ln.qty,
            ln.returned_qty,
            ln.gross_minor,
            ln.refunded_minor,
            ln.grams,
        )
        for ln in lines
    )
    customer = s.get(Customer, sale.customer_id) if sale.customer_id else None
    return SaleForReturn(
        id=sale.id,
        number=sale.number,
        completed_at=sale.completed_at,
        total_minor=sale.total_minor,
        refunded_minor=sum(x.refunded_minor for x in rows),
        currency=sale.currency,
        lines=rows,
        tenders=tuple(Payment(t.kind, t.kept_minor, t.reference) for t in tenders),
        customer=customer.name if customer else "",
    )


def search_sales(uow: UnitOfWork, text: str, limit: int = 20) -> list[SaleForReturn]:
    """Completed sales by part of the receipt number, the customer's name, or an item's SKU."""
    text = text.strip()
    if len(text) < 2:
        raise ValidationError("Type at least two letters or digits of the receipt, name or SKU.")
    like = f"%{text}%"
    sale_ids = (
        select(CounterSale.id)
        .outerjoin(Customer, Customer.id == CounterSale.customer_id)
        .where(
            CounterSale.kind == "sale",
            CounterSale.status == "completed",
            or_(
                CounterSale.number.ilike(like),
                Customer.name.ilike(like),
                CounterSale.id.in_(
                    select(CounterSaleLine.sale_id).where(CounterSaleLine.sku.ilike(like))
                ),
            ),
        )
        .order_by(CounterSale.completed_at.desc())
        .limit(limit)
    )
    return [
        _view(uow, uow.session.get_one(CounterSale, sid)) for sid in uow.session.scalars(sale_ids)
    ]


def refund_share(gross_minor: int, qty: int, already: int, units: int) -> int:
    """What ``units`` more units of a line refund after ``already`` came back."""
    return round_div(gross_minor * (already + units), qty) - round_div(gross_minor * already, qty)


def complete_return(
    uow: UnitOfWork,
    items: list[ReturnItem],
    *,
    sale_id: uuid.UUID | None,
    refund_to: RefundTo = RefundTo.ORIGINAL,
    approver_badge: str | None = None,
) -> ReturnDone:
    """Take the items back, pay the refund, book the stock; one transaction, one receipt."""
    auth.check(uow, Permission.SELL)
    if not items or any(i.qty <= 0 for i in items):
        raise ValidationError("Choose what comes back and how many — at least one item.")
    session_id = sessions.require_open(uow)
    s = uow.session
    conf = catalog.settings(uow)
    sale = None
    if sale_id is not None:
        sale = _completed_sale(uow, s.get(CounterSale, sale_id), "That sale")
        if refund_to is RefundTo.CASH:
            raise ValidationError(
                "With the receipt the money goes back the way it was paid, or to store credit."
            )
        currency = sale.currency
    else:
        _supervisor(uow, approver_badge)
        if refund_to is RefundTo.ORIGINAL:
            raise ValidationError("Without a receipt, refund in cash or to store credit.")
        currency = conf.currency
    number = next_receipt_number(uow)
    now = utcnow()
    ret = CounterSale(
        id=new_id(),
        kind="return",
        number=number,
        station_id=uow.actor.station_id,
        session_id=session_id,
        operator_id=uow.actor.operator_id,
        customer_id=sale.customer_id if sale else None,
        status="completed",
        basis="inclusive",
        currency=currency,
        original_sale_id=sale.id if sale else None,
        started_at=now,
        completed_at=now,
    )
    s.add(ret)
    s.flush()
    lines, movements = [], []
    for n, item in enumerate(items, start=1):
        line = _return_line(uow, sale, item, conf)
        line.sale_id, line.line_no = ret.id, n
        s.add(line)
        lines.append(line)
        movements += _book_stock(uow, line, item.disposition, number, now)
    refund = sum(ln.gross_minor for ln in lines)
    if refund <= 0:
        raise ValidationError("Those items were paid nothing — there is no money to give back.")
    parts, credit = _pay_back(uow, ret, sale, refund, refund_to, currency)
    paid_back = []
    for seq, part in enumerate(parts, start=1):
        paid_back.append(
            CounterTender(
                sale_id=ret.id,
                seq=seq,
                kind=part.kind.value,
                amount_minor=-part.amount_minor,
                kept_minor=-part.amount_minor,
                reference=part.reference,
                at=now,
            )
        )
    s.add_all(paid_back)
    ret.total_minor = -refund
    s.flush()
    job = print_jobs.queue_job(uow, "receipt", ret.id, f"Return {number}")
    uow.record(
        "counter.return_completed",
        {
            "return_id": str(ret.id),
            "receipt_number": number,
            "original_sale_id": str(sale.id) if sale else None,
            "original_receipt_number": sale.number if sale else None,
            "station_id": str(uow.actor.station_id),
            "session_id": str(session_id),
            "operator_id": str(ret.operator_id) if ret.operator_id else None,
            "completed_at": now.isoformat(),
            "currency": currency,
            "approved_by_badge": approver_badge if sale is None else None,
            "lines": [
                {
                    **line_payload(ln),
                    "original_line_id": str(ln.original_line_id) if ln.original_line_id else None,
                    "disposition": ln.disposition,
                }
                for ln in lines
            ],
            "refund_minor": refund,
            "refund_to": refund_to.value,
            "refunds": [
                {
                    "tender_id": str(t.id),
                    "seq": t.seq,
                    "kind": p.kind.value,
                    "amount_minor": p.amount_minor,
                    "reference": p.reference,
                }
                for p, t in zip(parts, paid_back, strict=True)
            ],
            "store_credit_account": credit,
            "stock_movements": [movement_payload(m) for m in movements],
        },
        entity="counter_sale",
        entity_id=ret.id,
    )
    return ReturnDone(
        number,
        refund,
        tuple(Payment(p.kind.value, p.amount_minor, p.reference) for p in parts),
        credit,
        job,
        any(p.kind is TenderKind.CASH for p in parts),
    )


def _supervisor(uow: UnitOfWork, badge: str | None) -> None:
    if allows([Role(r) for r in uow.actor.roles], Permission.REFUND):
        return
    if not badge:
        raise ValidationError(
            "A return without a receipt needs a supervisor — ask one to scan their badge."
        )
    auth.authorize(uow.session, badge, Permission.REFUND)


def _return_line(
    uow: UnitOfWork, sale: CounterSale | None, item: ReturnItem, conf: catalog.CounterSettings
) -> CounterSaleLine:
    s = uow.session
    if sale is not None:
        orig = s.get(CounterSaleLine, item.sale_line_id) if item.sale_line_id else None
        if orig is None or orig.sale_id != sale.id or orig.voided:
            raise ValidationError(f"That item is not on receipt {sale.number}.")
        left = orig.qty - orig.returned_qty
        if item.qty > left:
            raise ValidationError(
                f"Receipt {sale.number} sold {orig.qty} of {orig.name} and {orig.returned_qty} "
                f"came back already — at most {left} can be returned now."
            )
        refund = refund_share(orig.gross_minor, orig.qty, orig.returned_qty, item.qty)
        orig.returned_qty += item.qty
        orig.refunded_minor += refund
        return CounterSaleLine(
            id=new_id(),
            product_id=orig.product_id,
            sku=orig.sku,
            name=orig.name,
            qty=item.qty,
            grams=orig.grams,
            unit_price_minor=orig.unit_price_minor,
            price_minor=orig.price_minor,
            tax_rate_bp=orig.tax_rate_bp,
            discount_minor=0,
            voided=False,
            basket_discount_minor=0,
            amount_minor=refund,
            tax_minor=0,
            gross_minor=refund,
            returned_qty=0,
            refunded_minor=0,
            original_line_id=orig.id,
            disposition=item.disposition.value,
        )
    product = s.get(Product, item.product_id) if item.product_id else None
    if product is None:
        raise ValidationError("Scan or find the item that comes back.")
    rate = conf.standard_rate_bp if product.tax_rate_bp is None else product.tax_rate_bp
    unit = gross_price(product.price_minor, rate, conf.basis)
    return CounterSaleLine(
        id=new_id(),
        product_id=product.id,
        sku=product.sku,
        name=product.name,
        qty=item.qty,
        grams=None,
        unit_price_minor=unit,
        price_minor=None,
        tax_rate_bp=rate,
        discount_minor=0,
        voided=False,
        basket_discount_minor=0,
        amount_minor=unit * item.qty,
        tax_minor=0,
        gross_minor=unit * item.qty,
        returned_qty=0,
        refunded_minor=0,
        original_line_id=None,
        disposition=item.disposition.value,
    )


def _book_stock(
    uow: UnitOfWork, line: CounterSaleLine, disposition: Disposition, ref: str, now: object
) -> list[StockMovement]:
    home = uow.session.scalar(select(Product.home_location_id).where(Product.id == line.product_id))
    station = uow.actor.station_id

    def move(qty: int, reason: str, location: uuid.UUID | None) -> StockMovement:
        m = StockMovement(
            id=new_id(),
            at=now,
            product_id=line.product_id,
            location_id=location,
            qty=qty,
            reason=reason,
            ref=ref,
            station_id=station,
        )
        uow.session.add(m)
        return m

    if disposition is Disposition.RESTOCK:
        return [move(line.qty, "return", home)]
    if disposition is Disposition.QUARANTINE:
        return [move(line.qty, "quarantine", None)]
    return [move(line.qty, "return", None), move(-line.qty, "scrap", None)]


def _pay_back(
    uow: UnitOfWork,
    ret: CounterSale,
    sale: CounterSale | None,
    refund: int,
    refund_to: RefundTo,
    currency: str,
) -> tuple[list[RefundPart], str | None]:
    if refund_to is RefundTo.STORE_CREDIT:
        code, _ = store_credit.issue(
            uow, refund, currency=currency, reason=f"refund {ret.number}", sale_id=ret.id
        )
        return [RefundPart(TenderKind.VOUCHER, code, refund)], code
    if refund_to is RefundTo.CASH:
        return [RefundPart(TenderKind.CASH, "", refund)], None
    assert sale is not None
    tenders = list(
        uow.session.scalars(
            select(CounterTender)
            .where(CounterTender.sale_id == sale.id)
            .order_by(CounterTender.seq)
        )
    )
    parts = refund_to_original(
        refund,
        [
            Refundable(TenderKind(t.kind), t.reference, t.kept_minor - t.refunded_minor)
            for t in tenders
        ],
        currency,
    )
    for part in parts:
        left = part.amount_minor
        for t in tenders:
            if t.kind == part.kind.value and t.reference == part.reference and left:
                take = min(left, t.kept_minor - t.refunded_minor)
                t.refunded_minor += take
                left -= take
        if part.kind is TenderKind.VOUCHER:
            _held, kind, _currency = store_credit.balance(uow, part.reference)
            store_credit.issue(
                uow,
                part.amount_minor,
                kind=kind,
                currency=currency,
                reason=f"refund {ret.number}",
                sale_id=ret.id,
                account=part.reference,
            )
    if refund > sale.total_minor:
        raise ValidationError(
            f"A refund of {money(refund, currency)} is more than sale {sale.number} was paid."
        )
    return parts, None
