"""Picking applied centrally: the hub decides allocations, and records picks and shorts.

``picklist.created`` is a request. The station allocated against what it could see; two
stations may have promised the same units, or put the same order on two lists, while apart.
Here each allocation is checked against central stock (on hand minus open reservations, with
the products' rows locked, so two hubs decide one after the other): one that still fits is
kept; one that does not is re-done from other central stock (FEFO for lot/expiry products);
an order that cannot be allocated whole, or is already on another list, leaves the list with
a note saying why. A list left with no order is rejected, with the reasons. The station gets
the list as central holds it through the feed (the ``pick_list`` aggregate).

Picks and shorts are facts and are always accepted: their ledger rows go in as the station
wrote them (an oversell task when a bin goes below zero), the stop counts them, and orders and
the list move on with the same rules as at the station (``app.services.picking.ledger``). A
short raises a ``recount`` task for the bin, and a ``short_pick`` task for the supervisor when
no other stock covers the units.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import Table, func, literal, select, update

from app.domain.errors import (
    InvalidTransitionError,
    NotFoundError,
    ScanRejectedError,
    ValidationError,
)
from app.domain.orders import OrderStatus
from app.domain.picking import (
    LIVE_LISTS,
    ListStatus,
    Place,
    PlaceKey,
    StopStatus,
    place_key,
    take,
    take_some,
    zones_of,
)
from app.ids import new_id
from app.services.picking import (
    CART_SET,
    CREATED,
    HANDED_OVER,
    PAUSED,
    STARTED,
    STOP_PICKED,
    STOP_SHORT,
    STOP_SKIPPED,
    TOTE_SET,
    WITHDRAWN,
    ledger,
)
from app.services.picking.lists import withdraw_rows
from app.services.stock import PICK
from app.store.models import PickList, Product, StockMovement, Tote
from app.sync import feed
from app.sync.appliers import ApplyContext, applier
from app.sync.appliers.stock import apply_stock_fact
from app.sync.ops import MalformedOpError, Op

_TOTE: Table = Tote.__table__  # type: ignore[assignment]
_MOVE: Table = StockMovement.__table__  # type: ignore[assignment]
MAX_NOTES = 2000


def _malformed(op: Op, what: str) -> MalformedOpError:
    return MalformedOpError(
        f"Picking operation {op.kind} (#{op.seq}) was not recorded centrally: {what}. "
        "Tell support; the station keeps what it did."
    )


def _decode(op: Op, table: Table, raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _malformed(op, f"a {table.name} row is not a record")
    try:
        return feed.decode(table, raw)
    except (TypeError, ValueError, AttributeError):
        raise _malformed(op, f"a {table.name} row has a value of the wrong form") from None


def _lock_products(ctx: ApplyContext, product_ids: set[uuid.UUID]) -> None:
    """Decisions on stock wait for each other (and for stock facts of the same products)."""
    found = set(
        ctx.session.scalars(
            select(Product.id)
            .where(Product.id.in_(sorted(product_ids)))
            .order_by(Product.id)
            .with_for_update(key_share=True)
        )
    )
    if missing := sorted(product_ids - found):
        raise NotFoundError(f"Product {missing[0]} is not in the central database.")


def _list(ctx: ApplyContext, op: Op) -> PickList:
    pick_list = ctx.session.scalar(
        select(PickList).where(PickList.id == op.id_of("pick_list_id")).with_for_update()
    )
    if pick_list is None:
        raise NotFoundError(
            "That pick list is not in the central database — it was not accepted there; "
            "put back what was picked for it and take another list."
        )
    ctx.touch("pick_list", pick_list.id)
    return pick_list


# ----------------------------------------------------------------------------- creation


@applier(CREATED)
def list_created(ctx: ApplyContext, op: Op) -> None:
    conn = ctx.session.connection()
    head = _decode(op, ledger.LIST, op.payload.get("pick_list"))
    rows = [_decode(op, ledger.ALLOC, r) for r in op.list_of("allocations")]
    list_id = head["id"]
    if list_id is None or list_id != op.entity_id:
        raise _malformed(op, "the list's id is not the operation's")
    if ctx.session.get(PickList, list_id) is not None:
        raise _malformed(op, "a pick list with its id is already there")
    if ctx.warehouse_id is not None and head["warehouse_id"] != ctx.warehouse_id:
        raise _malformed(op, "the list is for another warehouse than the station's")
    for r in rows:
        qty = r["qty"]
        if r["pick_list_id"] != list_id or not isinstance(qty, int) or qty < 1:
            raise _malformed(op, "an allocation is not a whole number of units of this list")
        r.update(picked=0, short=0, status=StopStatus.OPEN.value, tote_code=None)
        r.update(picked_at=None, picked_by="")
    _lock_products(ctx, {r["product_id"] for r in rows})
    order_ids = list(dict.fromkeys(r["order_id"] for r in rows))
    o = ledger.ORDER
    orders = {
        oid: (number, status)
        for oid, number, status in conn.execute(
            select(o.c.id, o.c.number, o.c.status)
            .where(o.c.id.in_(order_ids))
            .order_by(o.c.id)
            .with_for_update()
        )
    }
    taken = ledger.taken_orders(conn, order_ids)
    by_product = ledger.places(conn, head["warehouse_id"], {r["product_id"] for r in rows})
    free = ledger.free_of(by_product)
    tracked = _tracked(ctx, {r["product_id"] for r in rows})
    kept: list[dict[str, Any]] = []
    notes: list[str] = []
    for oid in order_ids:
        number, status = orders.get(oid, ("?", "missing"))
        mine = sorted((r for r in rows if r["order_id"] == oid), key=lambda r: r["seq"])
        if status != OrderStatus.CONFIRMED.value:
            notes.append(f"{number} left the list: it is {status.replace('_', ' ')} centrally")
            continue
        if oid in taken:
            notes.append(f"{number} left the list: it is on pick list {taken[oid]}")
            continue
        settled = _settle_order(mine, by_product, free, tracked)
        if settled is None:
            notes.append(f"{number} left the list: its stock is promised to other lists")
            continue
        accepted, scratch, redone = settled
        free = scratch
        kept += accepted
        if redone:
            notes.append(f"{number}: stock re-allocated from {', '.join(redone)}")
    number = head["number"]
    if not kept:
        raise InvalidTransitionError(
            f"Pick list {number} was not accepted centrally: {'; '.join(notes)}. "
            "Create pick work again for the orders still open."
        )
    head.update(
        station_id=ctx.station_id,
        status=ListStatus.OPEN.value,
        notes="; ".join(notes)[:MAX_NOTES],
        totes=head.get("totes") or {},
        cart=None,  # a cart comes with picklist.cart_set, which checks nobody else has it
    )
    ledger.insert_list(conn, head, kept)
    ctx.touch("pick_list", list_id)


def _tracked(ctx: ApplyContext, product_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    p = ledger.PRODUCT
    rows = ctx.session.execute(
        select(p.c.id).where(p.c.id.in_(sorted(product_ids)), p.c.track_lot | p.c.track_expiry)
    )
    return {r[0] for r in rows}


def _settle_order(
    rows: list[dict[str, Any]],
    by_product: dict[uuid.UUID, list[Place]],
    free: dict[PlaceKey, int],
    fefo: set[uuid.UUID],
) -> tuple[list[dict[str, Any]], dict[PlaceKey, int], list[str]] | None:
    """Keep what still fits central stock, re-do the rest; None when the order cannot be
    allocated whole. Returns the rows, what is left free, and the bins of re-done rows."""
    scratch = dict(free)
    out: list[dict[str, Any]] = []
    redone: list[str] = []
    for row in rows:
        key = place_key(row["product_id"], row["location_id"], row["lot"])
        have = max(scratch.get(key, 0), 0)
        if have >= row["qty"]:
            scratch[key] = have - row["qty"]
            out.append(row)
            continue
        rest = row["qty"] - have
        if have:
            scratch[key] = 0
            out.append({**row, "qty": have})
        got = take(
            rest, by_product.get(row["product_id"], []), scratch, fefo=row["product_id"] in fefo
        )
        if got is None:
            return None
        for place, n in got:
            scratch[place.key] -= n
            out.append(_moved(row, place, n))
            redone.append(place.code)
    return out, scratch, list(dict.fromkeys(redone))


def _moved(row: dict[str, Any], place: Place, qty: int) -> dict[str, Any]:
    return {
        **row,
        "id": new_id(),
        "location_id": place.location_id,
        "lot": place.lot,
        "expiry": place.expiry,
        "qty": qty,
    }


# ----------------------------------------------------------------------------- the walk


@applier(STARTED)
def list_started(ctx: ApplyContext, op: Op) -> None:
    pick_list = _list(ctx, op)
    if pick_list.status not in LIVE_LISTS:
        raise InvalidTransitionError(
            f"Pick list {pick_list.number} is {pick_list.status.replace('_', ' ')} centrally — "
            "take another list."
        )
    pick_list.status = ListStatus.IN_PROGRESS.value
    pick_list.picker_id = op.opt_id("operator_id")
    pick_list.picker_name = op.str_of("picker", "")[:100]
    pick_list.picker_station = ctx.station_id
    pick_list.started_at = op.created_at
    pick_list.version += 1


@applier(TOTE_SET)
def tote_set(ctx: ApplyContext, op: Op) -> None:
    pick_list = _list(ctx, op)
    slot, code = op.int_of("slot"), op.str_of("tote")
    tote_id = ctx.session.scalar(select(_TOTE.c.id).where(_TOTE.c.code == code))
    if tote_id is None:
        raise _malformed(op, f"tote {code} is not in the central database")
    pick_list.totes = {**(pick_list.totes or {}), str(slot): code}
    pick_list.version += 1
    order_id = op.opt_id("order_id")
    if order_id is not None and _on_list(ctx, pick_list, order_id):
        ctx.session.execute(update(_TOTE).where(_TOTE.c.id == tote_id).values(order_id=order_id))
        ctx.touch("tote", tote_id)


def _on_list(ctx: ApplyContext, pick_list: PickList, order_id: uuid.UUID) -> bool:
    """The order is on the live list centrally: a tote is not bound to an order central
    dropped from the list (or to a list withdrawn or finished), which would hold the tote
    for an order nobody picks into it."""
    if pick_list.status not in LIVE_LISTS:
        return False
    a = ledger.ALLOC
    found = ctx.session.execute(
        select(a.c.id)
        .where(
            a.c.pick_list_id == pick_list.id,
            a.c.order_id == order_id,
            a.c.status != StopStatus.CANCELLED.value,
        )
        .limit(1)
    ).first()
    return found is not None


@applier(CART_SET)
def cart_set(ctx: ApplyContext, op: Op) -> None:
    """The list rides on a cart. A cart carries one live list: when central already has the
    cart on another one (two stations set it while apart), the operation is refused with
    words, and the station gets the list back as central holds it."""
    from app.services.picking.actions import cart_code, list_on_cart

    try:
        cart = cart_code(op.str_of("cart"))
    except ValidationError:
        raise _malformed(op, "the cart's code is empty or too long") from None
    # Two hubs setting one cart on two lists wait for each other (the check below reads
    # what the first committed); the lock ends with the transaction.
    ctx.session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(literal(f"cart:{cart}"), 0)))
    )
    pick_list = _list(ctx, op)
    if pick_list.status not in LIVE_LISTS:
        raise InvalidTransitionError(
            f"Pick list {pick_list.number} is {pick_list.status.replace('_', ' ')} centrally — "
            f"cart {cart} was not recorded for it; it is free for another list."
        )
    if pick_list.cart == cart:
        return
    if pick_list.cart:
        raise ScanRejectedError(
            f"Pick list {pick_list.number} is on cart {pick_list.cart} centrally — its totes "
            f"go on {pick_list.cart}, not on {cart}."
        )
    other = list_on_cart(ctx.session.connection(), cart, but=pick_list.id)
    if other is not None:
        raise ScanRejectedError(
            f"Cart {cart} carries pick list {other.words()} centrally — it was not recorded "
            f"for pick list {pick_list.number}; put {pick_list.number}'s totes on another cart "
            "and scan that cart's label."
        )
    pick_list.cart = cart
    pick_list.version += 1


@applier(PAUSED)
def list_paused(ctx: ApplyContext, op: Op) -> None:
    pick_list = _list(ctx, op)
    if pick_list.status in LIVE_LISTS:
        pick_list.status = ListStatus.PAUSED.value
        pick_list.version += 1


@applier(WITHDRAWN)
def list_withdrawn(ctx: ApplyContext, op: Op) -> None:
    """A supervisor took the list back: refused once a station picked from it meanwhile."""
    pick_list = _list(ctx, op)
    if pick_list.status == ListStatus.CANCELLED.value:
        return
    if pick_list.status not in LIVE_LISTS:
        raise InvalidTransitionError(
            f"Pick list {pick_list.number} was finished centrally before it was withdrawn — "
            "take its totes to packing."
        )
    a = ledger.ALLOC
    conn = ctx.session.connection()
    done = conn.scalar(
        select(func.count()).where(
            a.c.pick_list_id == pick_list.id, a.c.status == StopStatus.DONE.value
        )
    )
    if done:
        raise InvalidTransitionError(
            f"Pick list {pick_list.number} was not withdrawn: {done} of its stops were picked "
            "at a station meanwhile, so units are in its totes. Let the picker finish it, "
            "reporting short what must not go."
        )
    ctx.session.flush()
    withdraw_rows(conn, pick_list.id, op.str_of("notes", "withdrawn")[:500])
    ctx.session.expire(pick_list)


@applier(HANDED_OVER)
def list_handed_over(ctx: ApplyContext, op: Op) -> None:
    pick_list = _list(ctx, op)
    if pick_list.status not in LIVE_LISTS:
        return
    to = op.opt_id("to_operator_id")
    pick_list.status = (ListStatus.PAUSED if to else ListStatus.OPEN).value
    pick_list.picker_id = to
    pick_list.picker_name = op.str_of("to_name", "")[:100]
    pick_list.picker_station = None
    pick_list.version += 1


@applier(STOP_SKIPPED)
def stop_skipped(ctx: ApplyContext, op: Op) -> None:
    pick_list = _list(ctx, op)
    a = ledger.ALLOC
    ctx.session.execute(
        update(a)
        .where(a.c.id == op.id_of("allocation_id"), a.c.pick_list_id == pick_list.id)
        .values(seq=op.int_of("seq"))
    )
    pick_list.version += 1


@applier(STOP_PICKED)
def stop_picked(ctx: ApplyContext, op: Op) -> None:
    """Units from a bin into a tote: the ledger rows always go in; the stop counts them."""
    apply_stock_fact(ctx, replace(op, kind=PICK))
    conn = ctx.session.connection()
    for raw in op.list_of("movements"):
        if raw.get("lot") or raw.get("expiry"):
            row_id = uuid.UUID(str(raw["id"]))
            conn.execute(
                update(_MOVE)
                .where(_MOVE.c.id == row_id)
                .values(lot=_text(raw.get("lot"), 40), expiry=_text(raw.get("expiry"), 10))
            )
            ctx.touch("stock_movement", row_id)  # the feed reads it back with its lot
    qty = op.int_of("qty")
    tote = op.str_of("tote")
    list_id, order_id, line_id = (op.id_of(k) for k in ("pick_list_id", "order_id", "line_id"))
    pick_list = ctx.session.get(PickList, list_id, with_for_update=True)
    if pick_list is None:
        _conflict(ctx, op, qty, "its pick list was not accepted centrally")
        return
    ctx.touch("pick_list", list_id)
    ctx.touch("order", order_id)
    if pick_list.status == ListStatus.CANCELLED.value:
        # Picked offline from a list a supervisor withdrew meanwhile: the units moved, the
        # order is not picked by them.
        _conflict(ctx, op, qty, "its pick list was withdrawn")
        return
    by = op.str_of("picker", "") or _operator_name(ctx, op)
    alloc = ledger.allocation(conn, op.id_of("allocation_id"))
    left = qty
    why = "no open stop of the list wanted them centrally"
    if alloc is not None and alloc.pick_list_id == list_id:
        # A stop counts what it still wants: picked at two stations (a list handed on while
        # the first picker's station was offline), the second picker's units are extra.
        wanted = alloc.qty - alloc.picked - alloc.short if alloc.status == "open" else 0
        if wanted > 0:
            n = min(left, wanted)
            ledger.resolve_stop(
                conn,
                alloc.id,
                picked=n,
                short=0,
                tote=tote,
                line_id=line_id,
                at=op.created_at,
                by=by,
            )
            left -= n
        if left:
            why = f"the stop at {op.str_of('bin', '') or 'its bin'} was picked already"
    # The hub re-did the stop, or it was picked already: the units count against the line's
    # other open stops on the list, if it has any.
    for row in ledger.open_of_line(conn, list_id, line_id) if left else ():
        n = min(left, row.qty - row.picked - row.short)
        if n > 0:
            ledger.resolve_stop(
                conn, row.id, picked=n, short=0, tote=tote, line_id=line_id, at=op.created_at, by=by
            )
            left -= n
    if left:
        _conflict(ctx, op, left, why)
    ledger.settle(conn, list_id, [order_id], op.created_at)
    pick_list.version += 1


@applier(STOP_SHORT)
def stop_short(ctx: ApplyContext, op: Op) -> None:
    """The bin had fewer units: count the bin; re-allocate from central stock or mark short."""
    conn = ctx.session.connection()
    pick_list = _list(ctx, op)
    short = op.int_of("short")
    product_id, location_id = op.id_of("product_id"), op.id_of("location_id")
    order_id, line_id = op.id_of("order_id"), op.id_of("line_id")
    lot = op.opt_str("lot")
    _lock_products(ctx, {product_id})
    ctx.touch("order", order_id)
    alloc = ledger.allocation(conn, op.id_of("allocation_id"))
    reported = short
    if alloc is not None and alloc.pick_list_id == pick_list.id:
        # Only what the stop still wanted is re-allocated: a stop picked (or reported short)
        # at another station meanwhile wants nothing more.
        short = min(short, alloc.qty - alloc.picked - alloc.short) if alloc.status == "open" else 0
        if short:
            ledger.resolve_stop(
                conn,
                alloc.id,
                picked=0,
                short=short,
                tote=None,
                line_id=None,
                at=op.created_at,
                by=_operator_name(ctx, op),
            )
    details = {
        "pick_list": pick_list.number,
        "bin": op.str_of("bin", ""),
        "sku": op.str_of("sku", ""),
        "lot": lot,
        "reported_short": reported,
        "reason": op.str_of("reason", ""),
    }
    ctx.raise_task("recount", "location", location_id, {**details, "product_id": str(product_id)})
    if pick_list.status == ListStatus.CANCELLED.value:
        return  # withdrawn meanwhile: the bin is counted, nothing is re-allocated for it
    proposals = [_decode(op, ledger.ALLOC, r) for r in op.list_of("reallocated")]
    by_product = ledger.places(
        conn, pick_list.warehouse_id, [product_id], zones=zones_of(pick_list.zone or "")
    )
    free = ledger.free_of(by_product)
    free[place_key(product_id, location_id, lot)] = 0  # the picker found it empty
    fefo = product_id in _tracked(ctx, {product_id})
    kept: list[dict[str, Any]] = []
    covered = 0
    for row in proposals:
        if row["product_id"] != product_id or row["order_line_id"] != line_id:
            raise _malformed(op, "a re-allocation is for another item than the short stop")
        if covered >= short:
            break  # the station re-allocated more than the stop still wanted here
        row.update(pick_list_id=pick_list.id, picked=0, short=0, status=StopStatus.OPEN.value)
        row.update(
            tote_code=None, picked_at=None, picked_by="", qty=min(row["qty"], short - covered)
        )
        settled = _settle_order([row], by_product, free, {product_id} if fefo else set())
        if settled is None:
            continue
        accepted, free, _redone = settled
        kept += accepted
        covered = sum(r["qty"] for r in kept)
    template = proposals[0] if proposals else _row_like(alloc, pick_list.id)
    if covered < short and template:
        more = take_some(short - covered, by_product.get(product_id, []), free, fefo=fefo)
        for place, n in more:
            free[place.key] -= n
            kept.append(_moved(template, place, n))
            covered += n
    ledger.insert_allocations(conn, kept)
    if covered < short:
        ctx.raise_task(
            "short_pick",
            "order",
            order_id,
            {
                **details,
                "short": short - covered,
                "order_id": str(order_id),
                "line_id": str(line_id),
            },
        )
    ledger.settle(conn, pick_list.id, [order_id], op.created_at)
    pick_list.version += 1


def _row_like(alloc: Any, list_id: uuid.UUID) -> dict[str, Any]:
    if alloc is None:
        return {}
    row = dict(alloc._mapping)
    row.update(pick_list_id=list_id, picked=0, short=0, status=StopStatus.OPEN.value)
    row.update(tote_code=None, picked_at=None, picked_by="")
    return row


def _conflict(ctx: ApplyContext, op: Op, qty: int, why: str) -> None:
    ctx.raise_task(
        "pick_conflict",
        "order",
        op.id_of("order_id"),
        {
            "qty": qty,
            "sku": op.str_of("sku", ""),
            "tote": op.str_of("tote", ""),
            "why": why,
            "pick_list_id": op.str_of("pick_list_id"),
        },
    )


def _operator_name(ctx: ApplyContext, op: Op) -> str:
    from app.store.models import Operator

    oid = op.opt_id("operator_id")
    op_row = ctx.session.get(Operator, oid) if oid else None
    return op_row.name if op_row else ""


def _text(value: object, n: int) -> str | None:
    return None if value is None else str(value)[:n]
