"""The counter's printed documents as plain data: a sale's (or return's) receipt, and the
cash report of a till session. printing/ lays them out; the print queue asks for them."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.domain.errors import NotFoundError, ValidationError
from app.domain.pricing import GRAMS_PER_KG, round_div
from app.domain.receipts import CashReport, Receipt, ReceiptLine, Tender, TenderKind
from app.services.counter import catalog, sessions
from app.services.counter.checkout import sales_in_session
from app.store.models import (
    CashSession,
    CounterSale,
    CounterSaleLine,
    CounterTender,
    Customer,
    Operator,
    Station,
)
from app.store.uow import UnitOfWork


def _decimal(minor: int, digits: int = 2) -> str:
    whole, frac = divmod(minor, 10**digits)
    return f"{whole}.{frac:0{digits}d}"


def _kg(grams: int) -> str:
    whole, rest = divmod(grams, GRAMS_PER_KG)
    return f"{whole}.{rest:03d} kg"


def _sale_lines(lines: list[CounterSaleLine], basis: str) -> list[ReceiptLine]:
    out = []
    for ln in lines:
        discount = ln.discount_minor + ln.basket_discount_minor
        if ln.grams is not None:
            price = round_div(ln.grams * ln.unit_price_minor, GRAMS_PER_KG)
            name = f"{ln.name} {_kg(ln.grams)} x {_decimal(ln.unit_price_minor)}/kg"
            out.append(ReceiptLine(ln.sku, name, 1, price, ln.tax_rate_bp, discount))
        else:
            unit = ln.unit_price_minor if ln.price_minor is None else ln.price_minor
            out.append(ReceiptLine(ln.sku, ln.name, ln.qty, unit, ln.tax_rate_bp, discount))
    return out


def _return_lines(lines: list[CounterSaleLine]) -> list[ReceiptLine]:
    """A refund of ``gross`` for ``qty`` units as negative lines of whole minor units per unit:
    3 units refunding 10.00 print as 2 × 3.33 and 1 × 3.34."""
    out = []
    for ln in lines:
        low, extra = divmod(ln.gross_minor, ln.qty)
        name = ln.name if ln.grams is None else f"{ln.name} {_kg(ln.grams)}"
        if ln.qty - extra:
            out.append(ReceiptLine(ln.sku, name, -(ln.qty - extra), low, ln.tax_rate_bp))
        if extra:
            out.append(ReceiptLine(ln.sku, name, -extra, low + 1, ln.tax_rate_bp))
    return out


def receipt_for(uow: UnitOfWork, sale_id: uuid.UUID, *, copy: bool = False) -> Receipt:
    s = uow.session
    sale = s.get(CounterSale, sale_id)
    if sale is None or sale.status != "completed" or not sale.number or not sale.completed_at:
        raise NotFoundError("That sale has no receipt: it was not completed on this till.")
    lines = list(
        s.scalars(
            select(CounterSaleLine)
            .where(CounterSaleLine.sale_id == sale_id, CounterSaleLine.voided.is_(False))
            .order_by(CounterSaleLine.line_no)
        )
    )
    tenders = s.scalars(
        select(CounterTender).where(CounterTender.sale_id == sale_id).order_by(CounterTender.seq)
    )
    station = s.get_one(Station, sale.station_id)
    operator = s.scalar(select(Operator.name).where(Operator.id == sale.operator_id)) or ""
    customer = s.get(Customer, sale.customer_id) if sale.customer_id else None
    is_return = sale.kind == "return"
    footer = catalog.settings(uow).footer
    if is_return and sale.original_sale_id:
        original = s.scalar(
            select(CounterSale.number).where(CounterSale.id == sale.original_sale_id)
        )
        footer = f"Return of receipt {original}\n{footer}"
    return Receipt(
        number=sale.number,
        at=sale.completed_at,
        station=station.name,
        operator=operator,
        lines=tuple(_return_lines(lines) if is_return else _sale_lines(lines, sale.basis)),
        tenders=tuple(Tender(TenderKind(t.kind), t.amount_minor, _reference(t)) for t in tenders),
        currency=sale.currency,
        footer=footer,
        prices_include_tax=is_return or sale.basis == "inclusive",
        copy=copy,
        customer=customer.name if customer else "",
    )


def _reference(t: CounterTender) -> str:
    if t.kind == TenderKind.CARD.value and t.reference:
        return f"approval {t.reference}"
    return t.reference


def opens_drawer(uow: UnitOfWork, sale_id: uuid.UUID) -> bool:
    return bool(
        uow.session.scalar(
            select(func.count(CounterTender.id)).where(
                CounterTender.sale_id == sale_id, CounterTender.kind == TenderKind.CASH.value
            )
        )
    )


def cash_report_for(uow: UnitOfWork, session_id: uuid.UUID) -> CashReport:
    s = uow.session
    session = s.get(CashSession, session_id)
    if session is None:
        raise NotFoundError("That cash session does not exist.")
    if session.closed_at is None:
        raise ValidationError("The till is still open — close it to print its cash report.")
    receipts = [receipt_for(uow, sid) for sid in sales_in_session(uow, session_id)]
    moves = sessions.cash_moved(uow, session_id)
    station = s.get_one(Station, session.station_id)
    who = s.scalar(select(Operator.name).where(Operator.id == session.operator_id)) or ""
    return CashReport.from_receipts(
        receipts,
        station=station.name,
        operator=who,
        opened_at=session.opened_at,
        closed_at=session.closed_at,
        opening_float_minor=session.opening_float_minor,
        counted_cash_minor=session.counted_minor,
        currency=session.currency,
        paid_in_minor=int(moves.get("in", 0)),
        paid_out_minor=int(moves.get("out", 0)),
    )


def reprint_receipt(uow: UnitOfWork, sale_id: uuid.UUID) -> uuid.UUID:
    """Print a completed sale's receipt again, marked COPY (audited; the drawer stays shut)."""
    from app.services import print_jobs
    from app.store.models import PrintJob

    sale = uow.session.get(CounterSale, sale_id)
    if sale is None or sale.status != "completed":
        raise NotFoundError("Only a completed sale has a receipt to print again.")
    original = uow.session.scalar(
        select(PrintJob.id)
        .where(
            PrintJob.document == "receipt",
            PrintJob.ref_id == sale_id,
            PrintJob.reprint_of.is_(None),
        )
        .order_by(PrintJob.created_at)
        .limit(1)
    )
    if original is None:  # made at another till: a copy of nothing printed here
        original = print_jobs.queue_job(uow, "receipt", sale_id, f"Receipt {sale.number}")
        job = uow.session.get_one(PrintJob, original)
        job.status, job.reprint_of = "queued", original
        return original
    return print_jobs.reprint(uow, original)
