"""Stock facts applied centrally: adjustments, counter sales, pick confirmations, returns.

Each operation carries the ledger rows the station wrote (``app/services/stock.py``); the
central ledger gets the same rows with the same ids. A fact is always accepted: when it takes
a place (product, bin) below zero in the shared ledger, the operation raises one ``oversell``
task for a supervisor, naming every place it took below zero. Only a malformed operation is
rejected (rows of the wrong form, a product or bin the central database does not have, a row
id that is already in the ledger).

Two hubs may apply two stations' sales of one product at once; each locks the product rows
first (``FOR NO KEY UPDATE``, which leaves foreign-key checks free), so the second one's
on-hand sum sees the first one's rows and no oversell goes unnoticed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Table, func, select

from app.services.stock import ADJUSTED, MAX_QTY, MAX_REF, PICK, REASONS, RETURN, SALE
from app.store.fastexec import bulk_insert
from app.store.models import Location, Product, StockMovement
from app.store.pgarray import ByIds
from app.store.pipeline import sent_ahead
from app.sync.appliers import ApplyContext, BatchRefusedError, applier, batch_applier
from app.sync.ops import MalformedOpError, Op

Place = tuple[uuid.UUID, uuid.UUID | None]


@applier(ADJUSTED)
def apply_adjustment(ctx: ApplyContext, op: Op) -> None:
    apply_stock_fact(ctx, op)


@applier(SALE)
def apply_sale(ctx: ApplyContext, op: Op) -> None:
    apply_stock_fact(ctx, op)


@applier(PICK)
def apply_pick(ctx: ApplyContext, op: Op) -> None:
    apply_stock_fact(ctx, op)


@applier(RETURN)
def apply_return(ctx: ApplyContext, op: Op) -> None:
    apply_stock_fact(ctx, op)


def apply_stock_fact(ctx: ApplyContext, op: Op) -> None:
    insert_movements(ctx, op, op.list_of("movements"), REASONS[op.kind])


_MOVE: Table = StockMovement.__table__  # type: ignore[assignment]
_PRODUCT: Table = Product.__table__  # type: ignore[assignment]
_LOCATION: Table = Location.__table__  # type: ignore[assignment]
# One array parameter on PostgreSQL, not an IN list of a placeholder per id: the statement's
# text stays the same whatever the batch size, so it is parsed and planned once.
# Built once: the hub runs these for every sale, pick and count.
_LOCK_PRODUCTS = ByIds(
    lambda in_ids: (
        select(_PRODUCT.c.id)
        .where(in_ids(_PRODUCT.c.id))
        .order_by(_PRODUCT.c.id)
        .with_for_update(key_share=True)
    )
)
_FIND_BINS = ByIds(lambda in_ids: select(_LOCATION.c.id).where(in_ids(_LOCATION.c.id)))
_ON_HAND = ByIds(
    lambda in_ids: (
        select(_MOVE.c.product_id, _MOVE.c.location_id, func.coalesce(func.sum(_MOVE.c.qty), 0))
        .where(in_ids(_MOVE.c.product_id))
        .group_by(_MOVE.c.product_id, _MOVE.c.location_id)
    )
)
_EXISTING = ByIds(lambda in_ids: select(_MOVE.c.id).where(in_ids(_MOVE.c.id)))
_AS_INT = attrgetter("int")  # UUID order without UUID.__lt__, a Python call per comparison
_KNOWN_BINS = "stock.known_bins"  # session.info: bins seen this round (bins are never deleted)


@dataclass
class _Fact:
    ctx: ApplyContext
    rows: list[dict[str, Any]]

    @property
    def op(self) -> Op:
        return self.ctx.op

    def delta(self) -> dict[Place, int]:
        out: dict[Place, int] = {}
        for r in self.rows:
            place = (r["product_id"], r["location_id"])
            out[place] = out.get(place, 0) + r["qty"]
        return out


def insert_movements(ctx: ApplyContext, op: Op, raws: list[Any], reasons: frozenset[str]) -> None:
    """Insert the station's ledger rows (checked, same ids) and raise one oversell task when
    they take a place below zero. Any fact that moves stock goes through here."""
    try:
        _insert_facts([_fact(ctx, op, raws, reasons, 0)])
    except BatchRefusedError as e:
        raise e.error from None


@batch_applier(ADJUSTED, SALE, PICK, RETURN)
def apply_stock_facts(ctxs: list[ApplyContext]) -> None:
    """Many stock facts in one go, as if one after the other: five statements for the lot (lock
    the products, look up new bins and already-known rows, insert, sum what was taken from),
    and each operation's oversell found by walking the batch's changes in order."""
    facts: list[_Fact] = []
    malformed: BatchRefusedError | None = None
    for i, ctx in enumerate(ctxs):
        try:
            facts.append(_fact(ctx, ctx.op, ctx.op.list_of("movements"), REASONS[ctx.op.kind], i))
        except BatchRefusedError as e:
            malformed = e  # the ones before it are checked against the database first
            break
    if facts:
        _insert_facts(facts)
    if malformed is not None:
        raise malformed


def _fact(ctx: ApplyContext, op: Op, raws: list[Any], reasons: frozenset[str], index: int) -> _Fact:
    try:
        rows = [_movement(op, raw, ctx.station_id, reasons) for raw in raws]
        if not rows:
            raise _malformed(op, "it carries no ledger rows")
    except MalformedOpError as e:
        raise BatchRefusedError(index, e) from None
    return _Fact(ctx, rows)


def _insert_facts(facts: list[_Fact]) -> None:
    """The facts' ledger rows in, on the session's connection (the same transaction and
    savepoint) without the ORM; :class:`BatchRefusedError` names the first fact that is refused."""
    session = facts[0].ctx.session
    conn = session.connection()
    products = sorted({r["product_id"] for f in facts for r in f.rows}, key=_AS_INT)
    # Lock first: a concurrent hub's rows for these products are committed before we sum.
    known = set(conn.scalars(_LOCK_PRODUCTS.on(conn), {"ids": products}).all())
    seen: set[uuid.UUID] = session.info.setdefault(_KNOWN_BINS, set())
    bins = {r["location_id"] for f in facts for r in f.rows} - {None} - seen
    if bins:
        seen.update(conn.scalars(_FIND_BINS.on(conn), {"ids": list(bins)}).all())
    ids = [r["id"] for f in facts for r in f.rows]
    taken = set(conn.scalars(_EXISTING.on(conn), {"ids": ids}).all())
    for i, f in enumerate(facts):
        if why := _refusal(f, known, seen, taken):
            raise BatchRefusedError(i, _malformed(f.op, why))
        taken.update(r["id"] for r in f.rows)
    deltas = [f.delta() for f in facts]
    # On hand before the rows go in (the products are locked: nobody else adds to them now).
    level = _on_hand(conn, _watched(deltas))
    # The rows are sent without waiting: the server inserts them (checking each row's foreign
    # keys) while the oversells are worked out and the feed rows encoded here.
    with sent_ahead(conn) as ahead:
        bulk_insert(conn, _MOVE, [r for f in facts for r in f.rows], ahead=ahead)
        for f in facts:
            for r in f.rows:
                f.ctx.wrote("stock_movement", r["id"], r)  # a ledger row is never changed
        short = _walk(facts, deltas, level)
    for f, places in short:
        _oversell_task(conn, f, places)


def _refusal(
    f: _Fact, products: set[uuid.UUID], bins: set[uuid.UUID], taken: set[uuid.UUID]
) -> str:
    """Why the central database cannot take this fact's rows ("" when it can)."""
    if missing := sorted(r["product_id"] for r in f.rows if r["product_id"] not in products):
        return f"product {missing[0]} is not in the central database"
    places = [r["location_id"] for r in f.rows if r["location_id"] is not None]
    if missing := sorted(b for b in places if b not in bins):
        return f"bin {missing[0]} is not in the central database"
    ids = [r["id"] for r in f.rows]
    if len(set(ids)) != len(ids):
        return "two of its ledger rows have the same id"
    if taken.intersection(ids):
        return "one of its ledger rows is already in the central ledger"
    return ""


def lock_products(conn: Connection, product_ids: list[uuid.UUID]) -> None:
    """Lock the products' rows as stock facts do, before writing their ledger rows: a
    concurrent hub's rows for them are then committed before this one's on-hand sums."""
    conn.execute(_LOCK_PRODUCTS.on(conn), {"ids": sorted(set(product_ids), key=_AS_INT)}).all()


def raise_oversells(ctx: ApplyContext, rows: list[dict[str, Any]]) -> None:
    """The oversell task of a fact whose ledger rows (written already, the products locked
    first) took a place below zero."""
    if rows:
        _raise_oversells(ctx.session.connection(), [_Fact(ctx, rows)])


def _raise_oversells(conn: Connection, facts: list[_Fact]) -> None:
    """One oversell task for each fact that took a place below zero, as the places stood when
    it was applied: the ledger now (the facts' rows in it), less what the facts changed."""
    deltas = [f.delta() for f in facts]
    level = _on_hand(conn, _watched(deltas))
    for d in deltas:  # back to before the facts
        for place, change in d.items():
            if place in level:
                level[place] -= change
    for f, places in _walk(facts, deltas, level):
        _oversell_task(conn, f, places)


Short = list[tuple[uuid.UUID, uuid.UUID | None, int, int]]


def _watched(deltas: list[dict[Place, int]]) -> set[Place]:
    return {place for d in deltas for place, change in d.items() if change < 0}


def _on_hand(conn: Connection, places: set[Place]) -> dict[Place, int]:
    """The ledger's on-hand of each place."""
    if not places:
        return {}
    on_hand = conn.execute(
        _ON_HAND.on(conn), {"ids": sorted({p for p, _ in places}, key=_AS_INT)}
    ).all()
    now: dict[Place, int] = {(p, b): int(n) for p, b, n in on_hand}
    return {place: now.get(place, 0) for place in places}


def _walk(
    facts: list[_Fact], deltas: list[dict[Place, int]], level: dict[Place, int]
) -> list[tuple[_Fact, Short]]:
    """From the watched places' on-hand before the facts, each fact in order: the places it
    took below zero, with its change and the on-hand it left (``level`` is moved on)."""
    out: list[tuple[_Fact, Short]] = []
    for f, d in zip(facts, deltas, strict=True):
        for place, change in d.items():
            if place in level:
                level[place] += change
        below = [pl for pl, ch in d.items() if ch < 0 and level[pl] < 0]
        if below:  # sorted only then: str() of a place is slow, and most facts have none
            out.append((f, [(p, b, d[(p, b)], level[(p, b)]) for (p, b) in sorted(below, key=str)]))
    return out


def _oversell_task(conn: Connection, fact: _Fact, short: Short) -> None:
    product_ids = {p for p, *_ in short}
    bin_ids = {b for _, b, *_ in short}
    skus = dict(
        conn.execute(select(Product.id, Product.sku).where(Product.id.in_(product_ids))).all()
    )
    codes = dict(
        conn.execute(select(Location.id, Location.code).where(Location.id.in_(bin_ids))).all()
    )
    places = [
        {
            "product_id": str(p),
            "sku": skus.get(p, ""),
            "location_id": None if b is None else str(b),
            "location": "" if b is None else codes.get(b, ""),
            "qty": change,
            "on_hand": have,
        }
        for p, b, change, have in short
    ]
    fact.ctx.raise_task(
        "oversell",
        "product",
        short[0][0],
        {"op_kind": fact.op.kind, "ref": fact.rows[0]["ref"], "places": places},
    )


def _movement(
    op: Op, raw: object, station_id: uuid.UUID, reasons: frozenset[str]
) -> dict[str, Any]:
    """One ledger row from the payload, checked; the station is the sender, never the
    payload's word."""
    if not isinstance(raw, dict):
        raise _malformed(op, "a ledger row is not a record")
    try:
        row_id = uuid.UUID(str(raw["id"]))
        product_id = uuid.UUID(str(raw["product_id"]))
        location_id = None if raw["location_id"] is None else uuid.UUID(str(raw["location_id"]))
        at = datetime.fromisoformat(str(raw["at"]))
    except (KeyError, ValueError):
        raise _malformed(op, "a ledger row lacks its id, product, bin or time") from None
    qty, reason, ref = raw.get("qty"), raw.get("reason"), raw.get("ref", "")
    if isinstance(qty, bool) or not isinstance(qty, int) or qty == 0 or abs(qty) > MAX_QTY:
        raise _malformed(op, f"a ledger row's quantity {qty!r} is not a whole number of units")
    if reason not in reasons:
        raise _malformed(op, f"a ledger row's reason {reason!r} does not fit {op.kind}")
    if not isinstance(ref, str) or len(ref) > MAX_REF:
        raise _malformed(op, "a ledger row's reference is not short text")
    if at.tzinfo is None:
        raise _malformed(op, "a ledger row's time has no time zone")
    return {
        "id": row_id,
        "at": at.astimezone(UTC),  # as the column stores it
        "product_id": product_id,
        "location_id": location_id,
        "qty": qty,
        "reason": reason,
        "ref": ref,
        "station_id": station_id,
    }


def _malformed(op: Op, what: str) -> MalformedOpError:
    return MalformedOpError(
        f"Stock operation {op.kind} (#{op.seq}) was not recorded centrally: {what}. "
        "Count the bins it names and record the change again; tell support if it comes back."
    )
