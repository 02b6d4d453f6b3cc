"""The shop counter's operations applied centrally: sales, voids, returns, the till's cash
session and the store-credit ledger.

A till sells what is in front of it, so its operations are facts: always accepted, written
centrally with the ids the station gave them. A sale's or a return's ledger rows go through the
stock facts' own path (:func:`app.sync.appliers.stock.insert_movements`), so a sale that takes a
place below zero raises the same oversell task. A redemption that takes an account below zero
in the central ledger (two tills spent one card before either heard of the other) is kept too,
and raises one ``credit_overdrawn`` task. Only a malformed operation is rejected.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.store.models import (
    CashMovement,
    CashSession,
    CounterSale,
    CounterSaleLine,
    CounterTender,
    StoreCreditEntry,
)
from app.sync.appliers import ApplyContext, applier
from app.sync.appliers.payload import Checks
from app.sync.appliers.stock import insert_movements
from app.sync.ops import MalformedOpError, Op

SALE_REASONS = frozenset({"sale"})
RETURN_REASONS = frozenset({"return", "quarantine", "scrap"})
OVERDRAWN = "credit_overdrawn"  # exception_task.kind holds 20 characters
CREDIT = "store_credit_entry"  # the feed's entity: balances are read at every till


# ----------------------------------------------------------------------------- sales


@applier("counter.sale_completed")
def sale_completed(ctx: ApplyContext, op: Op) -> None:
    sale_id = op.id_of("sale_id")
    completed_at = _check.when(op, op.payload.get("completed_at"))
    discount = op.payload.get("basket_discount") or {}
    if not isinstance(discount, dict):
        raise _malformed(op, "its basket discount is not a record")
    ctx.session.add(
        CounterSale(
            id=sale_id,
            kind="sale",
            number=op.str_of("receipt_number")[:40],
            station_id=ctx.station_id,
            session_id=op.opt_id("session_id"),
            operator_id=op.opt_id("operator_id"),
            customer_id=op.opt_id("customer_id"),
            status="completed",
            basis="inclusive" if op.payload.get("prices_include_tax", True) else "exclusive",
            currency=op.str_of("currency")[:3],
            basket_discount_bp=_check.whole(op, discount.get("percent_bp", 0)),
            basket_discount_minor=_check.whole(op, discount.get("amount_minor", 0)),
            total_minor=op.int_of("total_minor"),
            tax_minor=op.int_of("tax_minor"),
            change_minor=op.int_of("change_minor"),
            note="",
            started_at=_check.when(
                op, op.payload.get("started_at", op.payload.get("completed_at"))
            ),
            completed_at=completed_at,
        )
    )
    ctx.session.flush()
    lines = [(raw, False) for raw in op.list_of("lines")]
    lines += [(raw, True) for raw in op.list_of("voided_lines")] if op.has("voided_lines") else []
    ctx.session.add_all(_line(op, sale_id, raw, voided) for raw, voided in lines)
    for n, raw in enumerate(op.list_of("tenders"), start=1):
        t = _check.record(op, raw, "a payment")
        ctx.session.add(
            CounterTender(
                id=_check.id(op, t.get("tender_id")),
                sale_id=sale_id,
                seq=_check.whole(op, t.get("seq", n)),
                kind=str(t.get("kind", ""))[:12],
                amount_minor=_check.whole(op, t.get("amount_minor")),
                kept_minor=_check.whole(op, t.get("kept_minor", t.get("amount_minor"))),
                reference=str(t.get("reference") or "")[:60],
                refunded_minor=0,
                at=_check.when(op, t.get("at", op.payload.get("completed_at"))),
            )
        )
    ctx.session.flush()
    _stock(ctx, op, SALE_REASONS)


@applier("counter.sale_voided")
def sale_voided(ctx: ApplyContext, op: Op) -> None:
    """A sale given up before it was paid: kept for loss prevention (what was scanned)."""
    sale_id = op.id_of("sale_id")
    at = _check.when(op, op.payload.get("voided_at"))
    if ctx.session.get(CounterSale, sale_id) is not None:
        raise _malformed(op, "that sale is already in the central database")
    ctx.session.add(
        CounterSale(
            id=sale_id,
            kind="sale",
            number=None,
            station_id=ctx.station_id,
            session_id=op.opt_id("session_id"),
            operator_id=op.opt_id("operator_id"),
            status="voided",
            basis="inclusive" if op.payload.get("prices_include_tax", True) else "exclusive",
            currency=op.str_of("currency", "EUR")[:3],
            total_minor=0,  # never charged; its lines say what was scanned
            note=op.str_of("reason", "")[:200],
            started_at=_check.when(op, op.payload.get("started_at", op.payload.get("voided_at"))),
            completed_at=at,
        )
    )
    ctx.session.flush()
    ctx.session.add_all(
        _line(op, sale_id, raw, bool(_check.record(op, raw, "a line").get("voided", False)))
        for raw in op.list_of("lines")
    )
    ctx.session.flush()


@applier("counter.return_completed")
def return_completed(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    return_id = op.id_of("return_id")
    at = _check.when(op, op.payload.get("completed_at"))
    original = s.get(CounterSale, op.opt_id("original_sale_id") or uuid.UUID(int=0))
    s.add(
        CounterSale(
            id=return_id,
            kind="return",
            number=op.str_of("receipt_number")[:40],
            station_id=ctx.station_id,
            session_id=op.opt_id("session_id"),
            operator_id=op.opt_id("operator_id"),
            customer_id=original.customer_id if original else None,
            status="completed",
            basis="inclusive",
            currency=op.str_of("currency")[:3],
            total_minor=-op.int_of("refund_minor"),
            original_sale_id=op.opt_id("original_sale_id"),
            note="",
            started_at=at,
            completed_at=at,
        )
    )
    s.flush()
    for raw in op.list_of("lines"):
        line = _line(op, return_id, raw, False)
        s.add(line)
        # The sold line remembers what came back, as it does on the till.
        orig = s.get(CounterSaleLine, line.original_line_id) if line.original_line_id else None
        if orig is not None:
            orig.returned_qty += line.qty
            orig.refunded_minor += line.gross_minor
    for n, raw in enumerate(op.list_of("refunds"), start=1):
        r = _check.record(op, raw, "a refund")
        amount = _check.whole(op, r.get("amount_minor"))
        kind, reference = str(r.get("kind", ""))[:12], str(r.get("reference") or "")[:60]
        s.add(
            CounterTender(
                id=_check.id(op, r.get("tender_id")),
                sale_id=return_id,
                seq=_check.whole(op, r.get("seq", n)),
                kind=kind,
                amount_minor=-amount,
                kept_minor=-amount,
                reference=reference,
                refunded_minor=0,
                at=at,
            )
        )
        if original is not None:
            _refund_tenders(ctx, original.id, kind, reference, amount)
    s.flush()
    _stock(ctx, op, RETURN_REASONS)


def _refund_tenders(
    ctx: ApplyContext, sale_id: uuid.UUID, kind: str, reference: str, amount: int
) -> None:
    """Mark the sale's payments refunded the way the till did: in their order, each up to
    what it kept."""
    left = amount
    tenders = ctx.session.scalars(
        select(CounterTender).where(CounterTender.sale_id == sale_id).order_by(CounterTender.seq)
    )
    for t in tenders:
        if t.kind == kind and t.reference == reference and left:
            take = min(left, t.kept_minor - t.refunded_minor)
            t.refunded_minor += take
            left -= take


def _stock(ctx: ApplyContext, op: Op, reasons: frozenset[str]) -> None:
    raws = [
        {**r, "id": r.get("movement_id", r.get("id"))}
        for r in (_check.record(op, raw, "a ledger row") for raw in op.list_of("stock_movements"))
    ]
    if raws:
        insert_movements(ctx, op, raws, reasons)


def _line(op: Op, sale_id: uuid.UUID, raw: object, voided: bool) -> CounterSaleLine:
    d = _check.record(op, raw, "a line")
    try:
        return CounterSaleLine(
            id=uuid.UUID(str(d["line_id"])),
            sale_id=sale_id,
            line_no=_check.whole(op, d["line_no"]),
            product_id=uuid.UUID(str(d["product_id"])),
            sku=str(d.get("sku", ""))[:60],
            name=str(d.get("name", ""))[:300],
            qty=_check.whole(op, d["qty"]),
            grams=None if d.get("grams") is None else _check.whole(op, d["grams"]),
            unit_price_minor=_check.whole(op, d.get("unit_price_minor", 0)),
            price_minor=(
                None
                if d.get("embedded_price_minor") is None
                else _check.whole(op, d["embedded_price_minor"])
            ),
            tax_rate_bp=_check.whole(op, d.get("tax_rate_bp", 0)),
            discount_minor=_check.whole(op, d.get("line_discount_minor", 0)),
            discount_approved_by=_check.opt_id(op, d.get("discount_approved_by")),
            voided=voided,
            basket_discount_minor=_check.whole(op, d.get("basket_discount_minor", 0)),
            amount_minor=_check.whole(op, d.get("amount_minor", 0)),
            tax_minor=_check.whole(op, d.get("tax_minor", 0)),
            gross_minor=_check.whole(op, d.get("gross_minor", 0)),
            returned_qty=0,
            refunded_minor=0,
            original_line_id=_check.opt_id(op, d.get("original_line_id")),
            disposition=str(d.get("disposition") or "")[:12],
        )
    except (KeyError, ValueError):
        raise _malformed(op, "a line lacks its id, number, product or quantity") from None


# ----------------------------------------------------------------------------- the till's cash


@applier("cash.session_opened")
def session_opened(ctx: ApplyContext, op: Op) -> None:
    float_count = op.payload.get("float_count") or {}
    if not isinstance(float_count, dict):
        raise _malformed(op, "its float count is not a record")
    ctx.session.add(
        CashSession(
            id=op.id_of("session_id"),
            station_id=ctx.station_id,
            operator_id=op.opt_id("operator_id"),
            status="open",
            currency=op.str_of("currency")[:3],
            opened_at=_check.when(op, op.payload.get("opened_at")),
            opening_float_minor=op.int_of("opening_float_minor"),
            float_count=float_count,
            count={},
        )
    )
    ctx.session.flush()


@applier("cash.moved")
def cash_moved(ctx: ApplyContext, op: Op) -> None:
    kind = op.str_of("kind")
    if kind not in ("in", "out"):
        raise _malformed(op, f"cash moves in or out of the drawer, not {kind!r}")
    ctx.session.add(
        CashMovement(
            id=op.id_of("movement_id"),
            session_id=_session(ctx, op).id,
            kind=kind,
            amount_minor=op.int_of("amount_minor"),
            reason=op.str_of("reason", "")[:200],
            at=_check.when(op, op.payload.get("at")),
            operator_id=op.opt_id("operator_id"),
        )
    )
    ctx.session.flush()


@applier("cash.session_closed")
def session_closed(ctx: ApplyContext, op: Op) -> None:
    session = _session(ctx, op)
    count = op.payload.get("count") or {}
    if not isinstance(count, dict):
        raise _malformed(op, "its drawer count is not a record")
    session.status = "closed"
    session.closed_at = _check.when(op, op.payload.get("closed_at"))
    session.closed_by = op.opt_id("closed_by")
    session.counted_minor = op.int_of("counted_minor")
    session.count = count
    session.expected_minor = op.int_of("expected_minor")
    ctx.session.flush()


def _session(ctx: ApplyContext, op: Op) -> CashSession:
    session = ctx.session.get(CashSession, op.id_of("session_id"))
    if session is None or session.station_id != ctx.station_id:
        raise _malformed(op, "its till session was never opened in the central database")
    return session


# ----------------------------------------------------------------------------- store credit


@applier("store_credit.issued")
def credit_issued(ctx: ApplyContext, op: Op) -> None:
    entry = _entry(ctx, op)
    if entry.amount_minor <= 0:
        raise _malformed(op, "store credit is issued as an amount above zero")


@applier("store_credit.redeemed")
def credit_redeemed(ctx: ApplyContext, op: Op) -> None:
    entry = _entry(ctx, op)
    if entry.amount_minor >= 0:
        raise _malformed(op, "a redemption takes an amount off the balance")
    held = int(
        ctx.session.scalar(
            select(func.coalesce(func.sum(StoreCreditEntry.amount_minor), 0)).where(
                StoreCreditEntry.account == entry.account
            )
        )
        or 0
    )
    if held < 0:
        ctx.raise_task(
            OVERDRAWN,
            CREDIT,
            entry.id,
            {
                "account": entry.account,
                "kind": entry.kind,
                "currency": entry.currency,
                "redeemed_minor": -entry.amount_minor,
                "balance_minor": held,
                "sale_id": None if entry.sale_id is None else str(entry.sale_id),
            },
        )


def _entry(ctx: ApplyContext, op: Op) -> StoreCreditEntry:
    account = op.str_of("account").strip().upper()
    if not account or len(account) > 40:
        raise _malformed(op, "its account code is empty or too long")
    entry = StoreCreditEntry(
        id=op.id_of("entry_id"),
        account=account,
        kind=op.str_of("kind", "store_credit")[:12],
        amount_minor=op.int_of("amount_minor"),
        currency=op.str_of("currency")[:3],
        sale_id=op.opt_id("sale_id"),
        reason=op.str_of("reason", "")[:200],
        at=_check.when(op, op.payload.get("at")),
        station_id=ctx.station_id,
    )
    ctx.session.add(entry)
    ctx.session.flush()
    ctx.touch(CREDIT, entry.id)
    return entry


# ----------------------------------------------------------------------------- payload parts


def _malformed(op: Op, what: str) -> MalformedOpError:
    return MalformedOpError(
        f"Counter operation {op.kind} (#{op.seq}) was not recorded centrally: {what}. "
        "Keep the receipt and tell support; the till's own records are unchanged."
    )


_check = Checks(_malformed)
