"""Creating pick work: the supervisor releases open orders to picking.

Orders are chosen by the filters (channel, carrier cut-off, priority, age), taken in rank
order (priority, cut-off, age), allocated line by line to stock this station can promise (on
hand minus open reservations; FEFO for lot/expiry products), and grouped into pick lists
within the limits. An order is allocated whole or not at all, so a list never starts an order
it cannot finish; orders left out are returned with the reason. Each list is one operation
(``picklist.created``) carrying its allocations: the hub decides them again against central
stock, so two stations never promise the same units once synced.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select

from app.clock import utcnow
from app.collector import no_cycle_collection
from app.domain.errors import ValidationError
from app.domain.orders import OrderStatus
from app.domain.pick_docs import PickKind
from app.domain.picking import (
    Candidate,
    Limits,
    ListStatus,
    OrderRank,
    Place,
    PlaceKey,
    group,
    list_number,
    path_key,
    rank_key,
    take,
    walk_order,
)
from app.domain.roles import Permission
from app.ids import new_id
from app.services import auth
from app.services.picking import CREATED, ENTITY, ledger
from app.store.models import SalesChannel, Station, Warehouse
from app.store.uow import UnitOfWork

MAX_LISTS = 1000
CLUSTER_SLOTS = 12  # the most totes a cart carries


@dataclass(frozen=True, slots=True)
class PickWorkRequest:
    kind: PickKind = PickKind.BATCH
    limits: Limits = field(default_factory=lambda: Limits(max_orders=20))
    max_lists: int = 1
    channels: tuple[str, ...] = ()  # sales channel codes; empty: all
    cutoff_before: datetime | None = None  # only orders whose carrier leaves before this
    min_priority: int | None = None
    placed_before: datetime | None = None  # only orders at least this old
    zones: tuple[str, ...] = ()  # only stock in these zones
    wave: str = ""  # a label the lists of one release share
    print_lists: bool = False
    order_ids: tuple[uuid.UUID, ...] = ()  # just these orders (still filtered and ranked)


@dataclass(frozen=True, slots=True)
class CreatedList:
    id: uuid.UUID
    number: str
    kind: str
    orders: tuple[str, ...]
    stops: int
    units: int


@dataclass(frozen=True, slots=True)
class PickWork:
    lists: tuple[CreatedList, ...]
    skipped: tuple[tuple[str, str], ...]  # (order number, why it was not allocated)
    wave: str

    @property
    def orders(self) -> int:
        return sum(len(x.orders) for x in self.lists)


@dataclass
class _Line:
    id: uuid.UUID
    product_id: uuid.UUID
    need: int
    weight_g: int
    fefo: bool
    sku: str


@dataclass
class _Order:
    id: uuid.UUID
    number: str
    rank: OrderRank
    lines: list[_Line] = field(default_factory=list)
    taken: list[tuple[_Line, Place, int]] = field(default_factory=list)


def _check(req: PickWorkRequest) -> None:
    if not 1 <= req.max_lists <= MAX_LISTS:
        raise ValidationError(
            f"{req.max_lists} pick lists at once is not possible — type 1 to {MAX_LISTS}."
        )
    if req.kind is PickKind.CLUSTER and req.limits.max_orders > CLUSTER_SLOTS:
        raise ValidationError(
            f"A cart carries at most {CLUSTER_SLOTS} totes, so a cluster list holds at most "
            f"{CLUSTER_SLOTS} orders — lower the order limit."
        )
    if len(req.wave) > 40:
        raise ValidationError("A wave name is at most 40 characters — shorten it.")


def create_pick_work(uow: UnitOfWork, req: PickWorkRequest) -> PickWork:
    """Allocate open orders and make pick lists of them (one operation per list)."""
    # Stock places, lines and stops by the hundred thousand, freed as the run goes.
    with no_cycle_collection():
        return _create_pick_work(uow, req)


def _create_pick_work(uow: UnitOfWork, req: PickWorkRequest) -> PickWork:
    auth.check(uow, Permission.OVERRIDE)
    _check(req)
    conn = uow.session.connection()
    warehouse_id = conn.scalar(
        select(Station.warehouse_id).where(Station.id == uow.actor.station_id)
    )
    if warehouse_id is None:  # a standalone station made before its company: the only one
        only = conn.execute(select(Warehouse.id).limit(2)).scalars().all()
        warehouse_id = only[0] if len(only) == 1 else None
    if warehouse_id is None:
        raise ValidationError(
            "This station belongs to no warehouse, so it cannot hand out pick work — set its "
            "warehouse in the station settings."
        )
    wanted = req.max_lists * (1 if req.kind is PickKind.SINGLE else req.limits.max_orders)
    by_product: dict[uuid.UUID, list[Place]] = {}
    free: dict[PlaceKey, int] = {}
    skipped: list[tuple[str, str]] = []
    allocated: list[_Order] = []
    seen = 0
    # Candidates a page at a time: a few more than wanted, as some may lack stock.
    while len(allocated) < wanted:
        page = _candidates(uow, req, warehouse_id, limit=wanted - len(allocated) + 20, offset=seen)
        if not page:
            break
        seen += len(page)
        _load_lines(uow, page)
        new = {ln.product_id for o in page for ln in o.lines} - by_product.keys()
        more = ledger.places(conn, warehouse_id, new, zones=req.zones)
        fefo = {ln.product_id: ln.fefo for o in page for ln in o.lines}
        for pid in new:
            # In walk order once: FEFO or not is the product's, the same for every line.
            by_product[pid] = walk_order(more.get(pid, []), fefo=fefo[pid])
        free.update(ledger.free_of(more))
        for order in page:
            if len(allocated) >= wanted:
                break
            why = _allocate(order, by_product, free)
            if why:
                skipped.append((order.number, why))
            else:
                allocated.append(order)
    groups = group(
        [
            Candidate(
                o.id,
                o.number,
                sum(n for _ln, _p, n in o.taken),
                sum(ln.weight_g * n for ln, _p, n in o.taken),
            )
            for o in allocated
        ],
        req.kind,
        req.limits,
    )[: req.max_lists]
    by_id = {o.id: o for o in allocated}
    wave = req.wave.strip() or f"W-{utcnow():%H%M}"
    made = [
        _write_list(uow, warehouse_id, req, wave, [by_id[c.order_id] for c in g]) for g in groups
    ]
    placed = {n for m in made for n in m.orders}
    skipped += [
        (o.number, "the limits left no list for it this time")
        for o in allocated
        if o.number not in placed
    ]
    if req.print_lists:
        from app.services.picking.docs import queue_print

        for m in made:
            queue_print(uow, m.id, m.number)
    return PickWork(tuple(made), tuple(skipped), wave)


def _candidates(
    uow: UnitOfWork, req: PickWorkRequest, warehouse_id: uuid.UUID, limit: int, offset: int
) -> list[_Order]:
    o, a, c = ledger.ORDER, ledger.ALLOC, SalesChannel.__table__
    q = (
        select(o.c.id, o.c.number, o.c.priority, o.c.cutoff_at, o.c.placed_at)
        .join(c, c.c.id == o.c.channel_id)
        .where(
            o.c.status == OrderStatus.CONFIRMED.value,
            o.c.warehouse_id == warehouse_id,
            ~exists().where(and_(a.c.order_id == o.c.id, ledger.HOLDS_ORDER)),
        )
        .order_by(
            o.c.priority.desc(),
            o.c.cutoff_at.is_(None),
            o.c.cutoff_at,
            o.c.placed_at,
            o.c.number,
        )
        .limit(limit)
        .offset(offset)
    )
    if req.channels:
        q = q.where(c.c.code.in_([x.upper() for x in req.channels]))
    if req.cutoff_before is not None:
        q = q.where(o.c.cutoff_at.is_not(None), o.c.cutoff_at <= req.cutoff_before)
    if req.min_priority is not None:
        q = q.where(o.c.priority >= req.min_priority)
    if req.placed_before is not None:
        q = q.where(o.c.placed_at <= req.placed_before)
    if req.order_ids:
        q = q.where(o.c.id.in_(list(req.order_ids)))
    out = [
        _Order(oid, number, OrderRank(priority or 0, cutoff, placed))
        for oid, number, priority, cutoff, placed in uow.session.connection().execute(q)
    ]
    out.sort(key=lambda x: rank_key(x.rank))  # as the query sorts, whatever its NULLs do
    return out


_LINES_SQL = (
    "SELECT l.order_id, l.id, l.product_id, l.qty_ordered - l.qty_packed - l.qty_missing, "
    "p.weight_g, p.track_lot, p.track_expiry, p.sku FROM order_line l "
    "JOIN product p ON p.id = l.product_id WHERE l.order_id IN ({ids}) "
    "ORDER BY l.order_id, l.line_no"
)


def _load_lines(uow: UnitOfWork, orders: list[_Order]) -> None:
    by_id = {o.id: o for o in orders}
    reader = ledger.Reader(uow.session.connection())
    ids = list(by_id)
    for i in range(0, len(ids), ledger.CHUNK):
        rows = reader.rows(_LINES_SQL, ids[i : i + ledger.CHUNK])
        for oid, lid, pid, need, weight, lot, expiry, sku in rows:
            if need > 0:
                by_id[reader.uid(oid)].lines.append(
                    _Line(
                        reader.uid(lid),
                        reader.uid(pid),
                        need,
                        weight or 0,
                        bool(lot or expiry),
                        sku,
                    )
                )


def _allocate(
    order: _Order, by_product: dict[uuid.UUID, list[Place]], free: dict[PlaceKey, int]
) -> str:
    """Take stock for every line of the order, or none; '' when it worked, else why not."""
    if not order.lines:
        return "it has nothing left to pick"
    # Only this order's places: copying the whole map per order would cost more than all
    # the rest of an allocation run.
    scratch = {
        p.key: free.get(p.key, 0) for ln in order.lines for p in by_product.get(ln.product_id, [])
    }
    taken: list[tuple[_Line, Place, int]] = []
    for ln in order.lines:
        got = take(ln.need, by_product.get(ln.product_id, []), scratch, fefo=ln.fefo, ordered=True)
        if got is None:
            have = sum(scratch.get(p.key, 0) for p in by_product.get(ln.product_id, []))
            return f"{ln.need} × {ln.sku} wanted, {have} free to promise"
        for place, n in got:
            scratch[place.key] -= n
            taken.append((ln, place, n))
    for _ln, place, n in taken:
        free[place.key] -= n
    order.taken = taken
    return ""


def _write_list(
    uow: UnitOfWork,
    warehouse_id: uuid.UUID,
    req: PickWorkRequest,
    wave: str,
    orders: Sequence[_Order],
) -> CreatedList:
    list_id = new_id()
    number = list_number(list_id)
    now = uow.now
    head = {
        "id": list_id,
        "number": number,
        "warehouse_id": warehouse_id,
        "kind": req.kind.value,
        "status": ListStatus.OPEN.value,
        "wave": wave,
        "zone": ",".join(req.zones)[:20],
        "picker_id": None,
        "picker_name": "",
        "picker_station": None,
        "totes": {},
        "notes": "",
        "created_at": now,
        "created_by": uow.actor.operator_name[:100],
        "station_id": uow.actor.station_id,
        "started_at": None,
        "finished_at": None,
        "version": 1,
    }
    stops: list[tuple[Any, dict[str, Any]]] = []
    for slot, order in enumerate(orders, start=1):
        for ln, place, n in order.taken:
            row = ledger.allocation_row(
                list_id=list_id,
                order_id=order.id,
                line_id=ln.id,
                place=place,
                qty=n,
                seq=0,
                slot=slot if req.kind is PickKind.CLUSTER else 1,
            )
            stops.append((path_key(place.pick_seq, place.code, ln.sku, slot), row))
    stops.sort(key=lambda s: s[0])
    rows = []
    for seq, (_key, row) in enumerate(stops, start=1):
        row["seq"] = seq
        rows.append(row)
    conn = uow.session.connection()
    ledger.insert_list(conn, head, rows)
    uow.record(
        CREATED,
        {
            "pick_list": ledger.encode(ledger.LIST, head),
            "allocations": [ledger.encode(ledger.ALLOC, r) for r in rows],
            "orders": [o.number for o in orders],
        },
        entity=ENTITY,
        entity_id=list_id,
        details={"number": number, "orders": [o.number for o in orders], "stops": len(rows)},
    )
    return CreatedList(
        list_id,
        number,
        req.kind.value,
        tuple(o.number for o in orders),
        len(rows),
        sum(r["qty"] for r in rows),
    )
