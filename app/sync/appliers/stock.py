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
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.services.stock import ADJUSTED, MAX_QTY, MAX_REF, PICK, REASONS, RETURN, SALE
from app.store.models import Location, Product, StockMovement
from app.sync.appliers import ApplyContext, applier
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
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
# Built once: the hub runs these for every sale, pick and count.
_LOCK_PRODUCTS = (
    select(_PRODUCT.c.id)
    .where(_PRODUCT.c.id.in_(_IDS))
    .order_by(_PRODUCT.c.id)
    .with_for_update(key_share=True)
)
_FIND_BINS = select(_LOCATION.c.id).where(_LOCATION.c.id.in_(_IDS))
_ON_HAND = (
    select(_MOVE.c.product_id, _MOVE.c.location_id, func.coalesce(func.sum(_MOVE.c.qty), 0))
    .where(_MOVE.c.product_id.in_(_IDS))
    .group_by(_MOVE.c.product_id, _MOVE.c.location_id)
)
_INSERTS = {
    name: dialect.insert(_MOVE).on_conflict_do_nothing(index_elements=["id"]).returning(_MOVE.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_KNOWN_BINS = "stock.known_bins"  # session.info: bins seen this round (bins are never deleted)


def insert_movements(ctx: ApplyContext, op: Op, raws: list[Any], reasons: frozenset[str]) -> None:
    """Insert the station's ledger rows (checked, same ids) and raise one oversell task when
    they take a place below zero. Any fact that moves stock goes through here.

    The hub runs this for every sale, pick and count: three statements for most of them (lock
    the products, insert the rows, sum what they took from), built once, on the session's
    connection (the same transaction and savepoint) without the ORM."""
    conn = ctx.session.connection()
    rows = [_movement(op, raw, ctx.station_id, reasons) for raw in raws]
    if not rows:
        raise _malformed(op, "it carries no ledger rows")
    products = sorted({r["product_id"] for r in rows})
    # Lock first: a concurrent hub's rows for these products are committed before we sum.
    known = set(conn.scalars(_LOCK_PRODUCTS, {"ids": products}))
    if missing := [p for p in products if p not in known]:
        raise _malformed(op, f"product {missing[0]} is not in the central database")
    seen: set[uuid.UUID] = ctx.session.info.setdefault(_KNOWN_BINS, set())
    bins = {r["location_id"] for r in rows} - {None} - seen
    if bins:
        seen.update(conn.scalars(_FIND_BINS, {"ids": list(bins)}))
        if missing_bins := sorted(bins - seen):
            raise _malformed(op, f"bin {missing_bins[0]} is not in the central database")
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise _malformed(op, "two of its ledger rows have the same id")
    if len(conn.execute(_INSERTS[conn.dialect.name], rows).all()) != len(rows):
        raise _malformed(op, "one of its ledger rows is already in the central ledger")
    for r in rows:
        ctx.touch("stock_movement", r["id"])
    _raise_oversell(ctx, op, rows)


def _raise_oversell(ctx: ApplyContext, op: Op, rows: list[dict[str, Any]]) -> None:
    delta: dict[Place, int] = {}
    for r in rows:
        place = (r["product_id"], r["location_id"])
        delta[place] = delta.get(place, 0) + r["qty"]
    taken = {place for place, change in delta.items() if change < 0}
    if not taken:
        return
    s = ctx.session.connection()
    on_hand: dict[Place, int] = {
        (p, b): int(n) for p, b, n in s.execute(_ON_HAND, {"ids": sorted({p for p, _ in taken})})
    }
    short = [
        (product_id, location_id, delta[(product_id, location_id)], have)
        for (product_id, location_id) in sorted(taken, key=str)
        if (have := on_hand.get((product_id, location_id), 0)) < 0
    ]
    if not short:
        return
    product_ids = {p for p, *_ in short}
    bin_ids = {b for _, b, *_ in short}
    skus = dict(s.execute(select(Product.id, Product.sku).where(Product.id.in_(product_ids))).all())
    codes = dict(
        s.execute(select(Location.id, Location.code).where(Location.id.in_(bin_ids))).all()
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
    ctx.raise_task(
        "oversell",
        "product",
        short[0][0],
        {"op_kind": op.kind, "ref": rows[0]["ref"], "places": places},
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
        "at": at,
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
