"""Stock, reservations and stop outcomes as Core statements on a connection.

The station's use cases and the central appliers both call these, each on its own database:
what is free to promise at a place (on hand in the ledger minus open reservations), writing a
pick list with its allocations, recording what a stop gave, and moving orders and lists on
once their stops are resolved. Values are JSON-safe in operations (:func:`encode`), the same
form the change feed carries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.types import Uuid

from app.domain.orders import OrderStatus, can_transition
from app.domain.picking import ListStatus, Place, PlaceKey, StopStatus, place_key_of_hex
from app.store.fastexec import FastExecutor
from app.store.models import (
    Allocation,
    Location,
    Order,
    OrderLine,
    PickList,
    Product,
    StockMovement,
)
from app.store.types import UTCDateTime


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


LIST, ALLOC, MOVE, LOC, PRODUCT, ORDER, LINE = (
    _t(m) for m in (PickList, Allocation, StockMovement, Location, Product, Order, OrderLine)
)
CHUNK = 500  # ids per IN list: well inside every database's limit on parameters

_REMAINING = ALLOC.c.qty - ALLOC.c.picked - ALLOC.c.short
_RESOLVE_STOP = (
    update(ALLOC)
    .where(ALLOC.c.id == bindparam("b_id"), ALLOC.c.status == StopStatus.OPEN.value)
    .values(
        picked=ALLOC.c.picked + bindparam("b_picked"),
        short=ALLOC.c.short + bindparam("b_short"),
        status=case(
            (
                ALLOC.c.picked + bindparam("b_picked2") + ALLOC.c.short + bindparam("b_short2")
                >= ALLOC.c.qty,
                StopStatus.DONE.value,
            ),
            else_=ALLOC.c.status,
        ),
        tote_code=func.coalesce(bindparam("b_tote"), ALLOC.c.tote_code),
        picked_at=bindparam("b_at"),
        picked_by=bindparam("b_by"),
    )
)
_INSERT_ALLOC = insert(ALLOC)
_LINE_IN_TOTE = update(LINE).where(LINE.c.id == bindparam("b_line")).values(location_id=None)
_BUMP_LIST = update(LIST).where(LIST.c.id == bindparam("b_list")).values(version=LIST.c.version + 1)
_OPEN_OF_ORDER = select(func.count()).where(
    ALLOC.c.order_id == bindparam("order_id", type_=Uuid()),
    ALLOC.c.status == StopStatus.OPEN.value,
)
_PICKED_OF_ORDER = select(func.coalesce(func.sum(ALLOC.c.picked), 0)).where(
    ALLOC.c.order_id == bindparam("order_id", type_=Uuid()),
    ALLOC.c.status != StopStatus.CANCELLED.value,
)
_DONE_OF_ORDER = select(func.count()).where(
    ALLOC.c.order_id == bindparam("order_id", type_=Uuid()),
    ALLOC.c.status == StopStatus.DONE.value,
)
_ORDER_STATUS = select(ORDER.c.status).where(ORDER.c.id == bindparam("order_id", type_=Uuid()))
_SET_ORDER_STATUS = (
    update(ORDER)
    .where(ORDER.c.id == bindparam("b_order"))
    .values(status=bindparam("b_status"), version=ORDER.c.version + 1)
)
_OPEN_OF_LIST = select(func.count()).where(
    ALLOC.c.pick_list_id == bindparam("list_id", type_=Uuid()),
    ALLOC.c.status == StopStatus.OPEN.value,
)
_LIST_STATUS = select(LIST.c.status).where(LIST.c.id == bindparam("list_id", type_=Uuid()))
_FINISH_LIST = (
    update(LIST)
    .where(LIST.c.id == bindparam("b_list"))
    .values(status=ListStatus.DONE.value, finished_at=bindparam("b_at"))
)


# ----------------------------------------------------------------------------- stock


def _chunks(ids: Sequence[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


class Reader:
    """Reads rows with plain SQL on the connection's driver, in its transaction, turning each
    id into a UUID once (a cache): an allocation run reads hundreds of thousands of rows, and
    building UUIDs and going through SQLAlchemy's row processing cost more than the reading.
    SQL is written with ``%s`` placeholders; SQLite gets ``?`` and ids as 32 hex digits."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._ids: dict[Any, uuid.UUID] = {}

    def hex(self, value: Any) -> str:
        """An id as read, as its 32 hex digits."""
        return value.hex if isinstance(value, uuid.UUID) else str(value)

    def uid(self, value: Any) -> uuid.UUID:
        if isinstance(value, uuid.UUID):
            return value
        hit = self._ids.get(value)
        if hit is None:
            hit = self._ids[value] = uuid.UUID(hex=value)
        return hit

    def rows(self, sql: str, ids: Sequence[uuid.UUID], *extra: Any) -> list[Any]:
        marks = ", ".join(["%s"] * len(ids))
        sql = sql.replace("{ids}", marks)
        if self.sqlite:
            raw: Any = self.conn.connection.driver_connection
            args = [i.hex for i in ids] + [e.hex if isinstance(e, uuid.UUID) else e for e in extra]
            return list(raw.execute(sql.replace("%s", "?"), args).fetchall())
        return list(self.conn.exec_driver_sql(sql, (*ids, *extra)).fetchall())


# On hand per bin and lot, with the earliest expiry among the units still there (a bin can
# hold units of several expiry dates of a product kept by expiry only; those gone are not
# ranked by).
_ON_HAND_SQL = (
    "SELECT g.product_id, g.location_id, g.lot, sum(g.q), min(CASE WHEN g.q > 0 THEN g.e END), "
    "l.pick_seq, l.zone, l.code FROM (SELECT product_id, location_id, lot, expiry AS e, "
    "sum(qty) AS q FROM stock_movement WHERE product_id IN ({ids}) "
    "GROUP BY product_id, location_id, lot, expiry) g "
    "JOIN location l ON l.id = g.location_id WHERE l.warehouse_id = %s "
    "GROUP BY g.product_id, g.location_id, g.lot, l.pick_seq, l.zone, l.code"
)
_RESERVED_SQL = (
    "SELECT product_id, location_id, lot, sum(qty - picked - short) FROM allocation "
    "WHERE product_id IN ({ids}) AND status = 'open' GROUP BY product_id, location_id, lot"
)


# Bins a picker found short (a stop reported short there) and nobody has counted since: what
# the ledger says is there is not, so nothing is promised from them until a count.
_FOUND_SHORT_SQL = (
    "SELECT a.product_id, a.location_id, a.lot FROM allocation a "
    "WHERE a.product_id IN ({ids}) AND a.short > 0 AND NOT EXISTS ("
    "SELECT 1 FROM stock_movement m WHERE m.product_id = a.product_id "
    "AND m.location_id = a.location_id AND m.reason = 'adjust' AND m.at > a.picked_at)"
)


def places(
    conn: Connection,
    warehouse_id: uuid.UUID,
    product_ids: Iterable[uuid.UUID],
    *,
    zones: Sequence[str] = (),
) -> dict[uuid.UUID, list[Place]]:
    """Every bin (and lot) of the warehouse holding the products, with what is free there:
    on hand in the ledger minus what open allocations promise. Places with nothing free are
    left out, and so are bins found short at a pick and not counted (adjusted) since."""
    ids = list(set(product_ids))
    reader = Reader(conn)
    keep = set(zones)
    out: dict[uuid.UUID, list[Place]] = {}
    for chunk in _chunks(ids):
        promised = {
            (pid, lid, lot): int(n or 0) for pid, lid, lot, n in reader.rows(_RESERVED_SQL, chunk)
        }
        found_short = {tuple(r) for r in reader.rows(_FOUND_SHORT_SQL, chunk)}
        for pid, lid, lot, qty, expiry, seq, zone, code in reader.rows(
            _ON_HAND_SQL, chunk, warehouse_id
        ):
            free = int(qty or 0) - (promised.get((pid, lid, lot), 0) if promised else 0)
            if free <= 0 or (keep and zone not in keep) or (pid, lid, lot) in found_short:
                continue
            product, location = reader.uid(pid), reader.uid(lid)
            key = place_key_of_hex(reader.hex(pid), reader.hex(lid), lot)
            out.setdefault(product, []).append(
                Place(product, location, lot, expiry, seq, zone, code, free, key)
            )
    return out


def free_of(by_product: dict[uuid.UUID, list[Place]]) -> dict[PlaceKey, int]:
    return {p.key: p.available for ps in by_product.values() for p in ps}


# A stop that holds its order on its list: open, or with units picked. One withdrawn, or
# reported short whole (nothing picked), holds nothing: the order may go on a new list.
HOLDS_ORDER = or_(ALLOC.c.status == StopStatus.OPEN.value, ALLOC.c.picked > 0)


def taken_orders(conn: Connection, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Orders already on a pick list that still holds them: order id → that list's number."""
    out: dict[uuid.UUID, str] = {}
    for chunk in _chunks(list(order_ids)):
        rows = conn.execute(
            select(ALLOC.c.order_id, LIST.c.number)
            .join(LIST, LIST.c.id == ALLOC.c.pick_list_id)
            .where(ALLOC.c.order_id.in_(chunk), HOLDS_ORDER)
        )
        for oid, number in rows:
            out.setdefault(oid, number)
    return out


# ----------------------------------------------------------------------------- rows


_KINDS: dict[str, list[tuple[str, str]]] = {}


def _kinds(table: Table) -> list[tuple[str, str]]:
    kinds = _KINDS.get(table.name)
    if kinds is None:
        kinds = [
            (
                col.name,
                "id"
                if isinstance(col.type, Uuid)
                else "time"
                if isinstance(col.type, UTCDateTime)
                else "",
            )
            for col in table.columns
        ]
        _KINDS[table.name] = kinds
    return kinds


def encode(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """A row as the operation (and the feed) carries it: ids as text, times in ISO 8601."""
    out: dict[str, Any] = {}
    for name, kind in _kinds(table):
        v = values.get(name)
        if v is None or not kind:
            out[name] = v
        elif kind == "id":
            out[name] = str(v)
        else:
            out[name] = v.isoformat() if isinstance(v, datetime) else str(v)
    return out


def allocation_row(
    *,
    list_id: uuid.UUID,
    order_id: uuid.UUID,
    line_id: uuid.UUID,
    place: Place,
    qty: int,
    seq: int,
    slot: int,
    row_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    from app.ids import new_id

    return {
        "id": row_id or new_id(),
        "pick_list_id": list_id,
        "order_id": order_id,
        "order_line_id": line_id,
        "product_id": place.product_id,
        "location_id": place.location_id,
        "lot": place.lot,
        "expiry": place.expiry,
        "qty": qty,
        "picked": 0,
        "short": 0,
        "seq": seq,
        "slot": slot,
        "status": StopStatus.OPEN.value,
        "tote_code": None,
        "picked_at": None,
        "picked_by": "",
    }


def insert_list(conn: Connection, head: dict[str, Any], rows: Sequence[dict[str, Any]]) -> None:
    conn.execute(insert(LIST), [head])
    insert_allocations(conn, rows)


def insert_allocations(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(_INSERT_ALLOC, list(rows))
        return
    fx = FastExecutor(conn)  # one prepared statement: far cheaper than executemany here
    for row in rows:
        fx.run(_INSERT_ALLOC, row)


def bump_list(conn: Connection, list_id: uuid.UUID) -> None:
    FastExecutor(conn).run(_BUMP_LIST, {"b_list": list_id})


# ----------------------------------------------------------------------------- batch totes

# Orders whose batch units may still sit in a tote, waiting to be sorted at the pack bench.
SORTING_ORDERS = (
    OrderStatus.PICKING.value,
    OrderStatus.PICKED.value,
    OrderStatus.PACKING.value,
)


def batch_units_in(tote_code: str) -> Select[Any]:
    """Picked batch stops whose units are in ``tote_code`` and whose orders are not packed:
    (list number, order id, order number, picked at), newest first."""
    return (
        select(LIST.c.number, ALLOC.c.order_id, ORDER.c.number, ALLOC.c.picked_at)
        .join(LIST, LIST.c.id == ALLOC.c.pick_list_id)
        .join(ORDER, ORDER.c.id == ALLOC.c.order_id)
        .where(
            ALLOC.c.tote_code == tote_code,
            ALLOC.c.picked > 0,
            LIST.c.kind == "batch",
            ORDER.c.status.in_(SORTING_ORDERS),
        )
        .order_by(ALLOC.c.picked_at.desc(), ALLOC.c.seq)
    )


# ----------------------------------------------------------------------------- stop outcomes


def resolve_stop(
    conn: Connection,
    allocation_id: uuid.UUID,
    *,
    picked: int,
    short: int,
    tote: str | None,
    line_id: uuid.UUID | None,
    at: datetime,
    by: str,
) -> int:
    """Count what a stop gave (units picked into ``tote``, units the bin did not have); the
    stop is done once everything it promised is picked or short. Units in a tote are no
    longer at the order line's bin: the line then names no bin, so completing the order at
    the pack bench takes them from the tote rows of the ledger. A stop no longer open (done,
    cancelled with its list) is left as it is: returns 0, else 1."""
    fx = FastExecutor(conn)
    n = fx.run(
        _RESOLVE_STOP,
        {
            "b_id": allocation_id,
            "b_picked": picked,
            "b_picked2": picked,
            "b_short": short,
            "b_short2": short,
            "b_tote": tote,
            "b_at": at,
            "b_by": by[:100],
        },
    )
    if n and picked and line_id is not None:
        fx.run(_LINE_IN_TOTE, {"b_line": line_id})
    return n


def settle(
    conn: Connection, list_id: uuid.UUID, order_ids: Iterable[uuid.UUID], at: datetime
) -> tuple[dict[uuid.UUID, str], bool]:
    """Move orders and the list on after stops resolved: an order with a unit picked is
    being picked; one with no open stop left is picked — unless every unit of it was short and
    none picked: then it stays confirmed, to go on a later list once there is stock (nothing
    would come to the pack bench; the supervisor has the short). The list is done when no stop
    is open. Returns the orders' statuses now and whether the list finished."""
    fx = FastExecutor(conn)
    statuses: dict[uuid.UUID, str] = {}
    for oid in dict.fromkeys(order_ids):
        status = fx.scalar(_ORDER_STATUS, {"order_id": oid})
        if status is None:
            continue
        now = OrderStatus(status)
        target = now
        open_stops = int(fx.scalar(_OPEN_OF_ORDER, {"order_id": oid}) or 0)
        picked = int(fx.scalar(_PICKED_OF_ORDER, {"order_id": oid}) or 0)
        if open_stops == 0 and now in (OrderStatus.CONFIRMED, OrderStatus.PICKING):
            done = int(fx.scalar(_DONE_OF_ORDER, {"order_id": oid}) or 0)
            target = OrderStatus.PICKED if picked or not done else now
        elif now is OrderStatus.CONFIRMED and picked:
            target = OrderStatus.PICKING
        if target is OrderStatus.PICKED and now is OrderStatus.CONFIRMED:
            # confirmed → picked is not a step of its own: through picking.
            now = OrderStatus.PICKING
        if target is not OrderStatus(status) and can_transition(now, target):
            fx.run(_SET_ORDER_STATUS, {"b_order": oid, "b_status": target.value})
            statuses[oid] = target.value
        else:
            statuses[oid] = status
    finished = False
    live = (ListStatus.OPEN.value, ListStatus.IN_PROGRESS.value, ListStatus.PAUSED.value)
    if (
        int(fx.scalar(_OPEN_OF_LIST, {"list_id": list_id}) or 0) == 0
        and fx.scalar(_LIST_STATUS, {"list_id": list_id}) in live
    ):
        fx.run(_FINISH_LIST, {"b_list": list_id, "b_at": at})
        finished = True
    return statuses, finished


def max_seq(conn: Connection, list_id: uuid.UUID) -> int:
    value = conn.scalar(select(func.max(ALLOC.c.seq)).where(ALLOC.c.pick_list_id == list_id))
    return int(value or 0)


def allocation(conn: Connection, allocation_id: uuid.UUID) -> Any:
    """One allocation row (or None)."""
    return conn.execute(select(ALLOC).where(ALLOC.c.id == allocation_id)).first()


def open_of_line(conn: Connection, list_id: uuid.UUID, line_id: uuid.UUID) -> list[Any]:
    return list(
        conn.execute(
            select(ALLOC)
            .where(
                and_(
                    ALLOC.c.pick_list_id == list_id,
                    ALLOC.c.order_line_id == line_id,
                    ALLOC.c.status == StopStatus.OPEN.value,
                )
            )
            .order_by(ALLOC.c.seq, ALLOC.c.id)
        )
    )
