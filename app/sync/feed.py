"""The change feed's entities: serialisers (central state → a JSON dict) and loaders (a feed
row → the station's database), plus :func:`publish`, which appends changed entities to the
feed with gap-free, commit-ordered positions.

Every row becomes a dict of its columns with JSON-safe values (ids as strings, times as ISO
8601 with their zone); a loader turns them back by the column's type, so serialise → load →
serialise gives the same dict. ``order`` is an aggregate: the ``sales_order`` row with its
lines, packages, package items and packed units; loading it replaces all of them. A payload
of ``None`` means the entity was deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.types import Uuid

from app.store.fastexec import bulk_insert
from app.store.models import (
    Barcode,
    ChangeLog,
    Company,
    Customer,
    ExceptionTask,
    Location,
    Operator,
    Order,
    OrderLine,
    Package,
    PackageItem,
    PackedUnit,
    Product,
    ReturnPolicy,
    ReturnRefund,
    ReturnUnit,
    Rma,
    RmaLine,
    SalesChannel,
    Station,
    StockMovement,
    StoreCreditEntry,
    Tote,
    Warehouse,
)
from app.store.pgarray import ByIds, binary_array, ids_in
from app.store.pipeline import Ahead
from app.store.types import UTCDateTime

Row = dict[str, Any]
Key = tuple[str, uuid.UUID]


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


ORDER, LINE, PACKAGE, ITEM, UNIT = (
    _t(m) for m in (Order, OrderLine, Package, PackageItem, PackedUnit)
)
# Single-row entities: feed name → table. The station's own counters (next_seq, next_sscc) are
# never in the feed: they belong to the station alone.
TABLES: dict[str, Table] = {
    "company": _t(Company),
    "warehouse": _t(Warehouse),
    "sales_channel": _t(SalesChannel),
    "location": _t(Location),
    "product": _t(Product),
    "barcode": _t(Barcode),
    "operator": _t(Operator),
    "customer": _t(Customer),
    "tote": _t(Tote),
    "station": _t(Station),
    "stock_movement": _t(StockMovement),
    "exception_task": _t(ExceptionTask),
    # A card loaded at one till is spent at another: every station holds the whole ledger.
    "store_credit_entry": _t(StoreCreditEntry),
    # The returns desk: RMAs are made by customer service or at any desk, received at one.
    "return_policy": _t(ReturnPolicy),
    "rma": _t(Rma),
    "rma_line": _t(RmaLine),
    "return_unit": _t(ReturnUnit),
    "return_refund": _t(ReturnRefund),
}
_STATION_LOCAL = frozenset({"next_seq", "next_sscc", "next_receipt"})
# Aggregates with a codec of their own module: app/sync/pick_feed.py.
ENTITIES = frozenset({*TABLES, "order", "pick_list"})
# Entities a station keeps whatever its warehouse: written to every warehouse's feed.
SHARED = frozenset(
    {
        "company",
        "warehouse",
        "sales_channel",
        "product",
        "barcode",
        "operator",
        "customer",
        "tote",
        "store_credit_entry",
        "return_policy",
    }
)
# Entities whose rows carry the warehouse they belong to.
_BY_WAREHOUSE = frozenset(
    {"location", "station", "exception_task", "rma", "rma_line", "return_unit", "return_refund"}
)
# Parents before children: the order a fresh station database can take every entity in.
LOAD_ORDER = (
    "company",
    "warehouse",
    "sales_channel",
    "location",
    "product",
    "barcode",
    "operator",
    "customer",
    "station",
    "order",
    "tote",
    "stock_movement",
    "exception_task",
    "store_credit_entry",
)
# Order children, in the order a loader inserts them (parents first).
_CHILDREN: tuple[tuple[str, Table], ...] = (
    ("lines", LINE),
    ("packages", PACKAGE),
    ("package_items", ITEM),
    ("packed_units", UNIT),
)


# ----------------------------------------------------------------------------- row codec


def _columns(table: Table) -> list[Any]:
    if table.name == "station":
        return [c for c in table.columns if c.name not in _STATION_LOCAL]
    return list(table.columns)


_AS_IS, _AS_TEXT, _AS_ISO = 0, 1, 2
_CODECS: dict[Table, list[tuple[str, int]]] = {}


def _codec(table: Table) -> list[tuple[str, int]]:
    """The table's feed columns, in order, each with how its value is written."""
    codec = _CODECS.get(table)
    if codec is None:
        codec = _CODECS[table] = [
            (
                col.name,
                _AS_TEXT
                if isinstance(col.type, Uuid)
                else _AS_ISO
                if isinstance(col.type, UTCDateTime)
                else _AS_IS,
            )
            for col in _columns(table)
        ]
    return codec


def _encode_values(codec: list[tuple[str, int]], values: Iterable[Any]) -> Row:
    out: Row = {}
    for (name, how), value in zip(codec, values, strict=True):
        if value is None or how == _AS_IS:
            out[name] = value
        elif how == _AS_TEXT:
            out[name] = str(value)
        else:
            out[name] = value.isoformat()
    return out


def encode_written(entity: str, row: Row) -> Row:
    """The feed payload of a single-row entity's row as a transaction inserted it (its
    columns' values; a column left out is NULL)."""
    codec = _codec(TABLES[entity])
    return _encode_values(codec, [row.get(name) for name, _how in codec])


def encode(table: Table, row: Any) -> Row:
    """A database row as a JSON-safe dict."""
    mapping = row._mapping
    codec = _codec(table)
    return _encode_values(codec, [mapping[name] for name, _how in codec])


def decode(table: Table, data: Row) -> Row:
    """A dict from :func:`encode` back to column values."""
    out: Row = {}
    for col in _columns(table):
        value = data.get(col.name)
        if value is None:
            out[col.name] = None
        elif isinstance(col.type, Uuid):
            out[col.name] = uuid.UUID(value)
        elif isinstance(col.type, UTCDateTime):
            out[col.name] = datetime.fromisoformat(value)
        else:
            out[col.name] = value
    return out


def _pk(table: Table) -> Any:
    return next(iter(table.primary_key.columns))


# ----------------------------------------------------------------------------- serialisers


def serialise(conn: Connection, entity: str, entity_id: uuid.UUID) -> Row | None:
    """The entity's whole state now, or None when it no longer exists."""
    if entity == "pick_list":
        from app.sync import pick_feed

        return pick_feed.serialise(conn, entity_id)
    return serialise_many(conn, entity, [entity_id])[entity_id]


def serialise_many(
    conn: Connection, entity: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Row | None]:
    """Several entities of one kind with a query per table (not per entity)."""
    out: dict[uuid.UUID, Row | None] = dict.fromkeys(ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        if entity == "order":
            out.update(_serialise_orders(conn, chunk))
            continue
        if entity == "pick_list":
            from app.sync import pick_feed

            out.update({i: pick_feed.serialise(conn, i) for i in chunk})
            continue
        table = TABLES[entity]
        pk = _pk(table)
        codec = _codec(table)
        at = [name for name, _how in codec].index(pk.name)
        # The columns are selected in the codec's order: each row is encoded as it comes.
        for row in conn.execute(select(*_columns(table)).where(ids_in(conn, pk, chunk))).all():
            out[row[at]] = _encode_values(codec, row)
    return out


_CHUNK = 1000


def _serialise_orders(conn: Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row | None]:
    out: dict[uuid.UUID, Row | None] = {}
    for row in conn.execute(select(ORDER).where(ORDER.c.id.in_(ids))):
        out[row.id] = {"order": encode(ORDER, row), **{name: [] for name, _t in _CHILDREN}}
    if not out:
        return out
    found = list(out)
    queries = {
        "lines": select(LINE, LINE.c.order_id.label("of_order")).where(LINE.c.order_id.in_(found)),
        "packages": select(PACKAGE, PACKAGE.c.order_id.label("of_order")).where(
            PACKAGE.c.order_id.in_(found)
        ),
        "package_items": select(ITEM, PACKAGE.c.order_id.label("of_order"))
        .join(PACKAGE, PACKAGE.c.id == ITEM.c.package_id)
        .where(PACKAGE.c.order_id.in_(found)),
        "packed_units": select(UNIT, UNIT.c.order_id.label("of_order")).where(
            UNIT.c.order_id.in_(found)
        ),
    }
    for name, table in _CHILDREN:
        for row in conn.execute(queries[name].order_by(_pk(table))):
            aggregate = out[row.of_order]
            assert aggregate is not None
            aggregate[name].append(encode(table, row))
    return out


_BIN_WAREHOUSES = ByIds(
    lambda in_ids: select(_t(Location).c.id, _t(Location).c.warehouse_id).where(
        in_ids(_t(Location).c.id)
    )
)


class Router:
    """Whose feeds an entity's row goes to: its warehouse's, or every warehouse's."""

    def __init__(self, conn: Connection) -> None:
        wh = _t(Warehouse)
        self.conn = conn
        self.everyone = list(conn.scalars(select(wh.c.id).order_by(wh.c.id)))
        self._bins: dict[str, uuid.UUID | None] = {}

    def warehouses(self, entity: str, payload: Row | None) -> list[uuid.UUID]:
        if payload is None or entity in SHARED:
            return self.everyone
        wid: str | uuid.UUID | None = None
        if entity == "order":
            wid = payload["order"]["warehouse_id"]
        elif entity == "pick_list":
            wid = payload["pick_list"]["warehouse_id"]
        elif entity in _BY_WAREHOUSE:
            wid = payload.get("warehouse_id")
        elif entity == "stock_movement" and payload.get("location_id"):
            wid = self._bin_warehouse(payload["location_id"])
        if not wid:
            return self.everyone
        return [wid if isinstance(wid, uuid.UUID) else uuid.UUID(str(wid))]

    def learn_bins(self, location_ids: Iterable[str]) -> None:
        """Look up the warehouses of many bins in one query (a batch's ledger rows)."""
        wanted = {i for i in location_ids if i not in self._bins}
        if not wanted:
            return
        query = _BIN_WAREHOUSES.on(self.conn)
        for lid, wid in self.conn.execute(query, {"ids": [uuid.UUID(i) for i in wanted]}).all():
            self._bins[str(lid)] = wid
        for i in wanted:
            self._bins.setdefault(i, None)

    def _bin_warehouse(self, location_id: str) -> uuid.UUID | None:
        if location_id not in self._bins:
            loc = _t(Location)
            self._bins[location_id] = self.conn.scalar(
                select(loc.c.warehouse_id).where(loc.c.id == uuid.UUID(location_id))
            )
        return self._bins[location_id]


def warehouses_of(conn: Connection, entity: str, payload: Row | None) -> list[uuid.UUID]:
    return Router(conn).warehouses(entity, payload)


# ----------------------------------------------------------------------------- publish

_LOG = _t(ChangeLog)
_BUMP_VERSIONS = text(
    "INSERT INTO entity_version (entity, entity_id, version) "
    "SELECT e, i, 1 FROM unnest(CAST(:entities AS varchar[]), CAST(:ids AS uuid[])) AS t(e, i) "
    "ON CONFLICT (entity, entity_id) DO UPDATE SET version = entity_version.version + 1 "
    "RETURNING entity, entity_id, version"
)
# Takes n positions and queues the NOTIFY of the last one (sent at commit): one round trip.
_TAKE_POSITIONS = text(
    'WITH head AS (INSERT INTO feed_head (warehouse_id, "next") VALUES (:w, :n + 1) '
    'ON CONFLICT (warehouse_id) DO UPDATE SET "next" = feed_head."next" + :n '
    'RETURNING "next") '
    'SELECT "next", pg_notify(:c, CAST("next" - 1 AS text)) FROM head'
)


def publish(
    conn: Connection,
    touched: Iterable[Key],
    op_of: dict[Key, uuid.UUID] | None = None,
    written: dict[Key, Row] | None = None,
    *,
    ahead: Ahead | None = None,
) -> dict[tuple[str, uuid.UUID, uuid.UUID], int]:
    """Append the touched entities' current state to the feed (central, PostgreSQL).

    Call last in the transaction that changed them: entity versions are bumped (in a fixed
    order), then each warehouse's ``feed_head`` row is updated (locked until commit), so commit
    order is position order. Returns ``(entity, id, warehouse) → position``. The NOTIFY
    ``feed_<warehouse hex>`` is sent at commit. A few statements per call, however many
    entities: one query per table to serialise, one for the versions, two per warehouse.
    ``written``: feed payloads of single-row entities this transaction inserted whole
    (:func:`encode_written`), taken as they are instead of read back. ``ahead``: the feed
    rows are sent without waiting for them (the caller's :func:`app.store.pipeline.sent_ahead`
    block waits), its last statements.
    """
    keys = sorted(set(touched), key=lambda k: (k[0], k[1].int))  # ids in UUID order, faster
    if not keys:
        return {}
    op_of = op_of or {}
    written = written or {}
    by_entity: dict[str, list[uuid.UUID]] = {}
    payloads: dict[Key, Row | None] = {}
    for key in keys:
        payload = written.get(key)
        if payload is not None:
            payloads[key] = payload
        else:
            by_entity.setdefault(key[0], []).append(key[1])
    for entity, ids in by_entity.items():
        for eid, payload in serialise_many(conn, entity, ids).items():
            payloads[(entity, eid)] = payload
    versions = {
        (e, i): v
        for e, i, v in conn.execute(
            _BUMP_VERSIONS,
            {
                "entities": binary_array(e for e, _ in keys),
                "ids": binary_array(i for _, i in keys),
            },
        ).all()
    }
    router = Router(conn)
    router.learn_bins(
        str(p["location_id"])
        for (entity, _), p in payloads.items()
        if entity == "stock_movement" and p is not None and p.get("location_id")
    )
    by_wh: dict[uuid.UUID, list[Row]] = {}
    for key in keys:
        payload = payloads[key]
        for wid in router.warehouses(key[0], payload):
            by_wh.setdefault(wid, []).append(
                {
                    "warehouse_id": wid,
                    "entity": key[0],
                    "entity_id": key[1],
                    "version": versions[key],
                    "op_id": op_of.get(key),
                    "payload": payload,
                }
            )
    ends = {
        wid: conn.execute(
            _TAKE_POSITIONS, {"w": wid, "n": len(by_wh[wid]), "c": feed_channel(wid)}
        ).scalar_one()
        for wid in sorted(by_wh)
    }
    positions: dict[tuple[str, uuid.UUID, uuid.UUID], int] = {}
    for wid, end in ends.items():
        batch = by_wh[wid]
        first = end - len(batch)
        for i, r in enumerate(batch):
            r["pos"] = first + i
            positions[(r["entity"], r["entity_id"], wid)] = first + i
        bulk_insert(conn, _LOG, batch, ahead=ahead)
    return positions


def feed_channel(warehouse_id: uuid.UUID) -> str:
    """The NOTIFY channel a warehouse's stations LISTEN on."""
    return f"feed_{warehouse_id.hex}"


# ----------------------------------------------------------------------------- loaders


def _upsert(conn: Connection, table: Table, values: Sequence[Row], *, replace: bool) -> None:
    if not values:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert: Any = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    stmt = dialect_insert(table)
    keys = [c.name for c in table.primary_key.columns]
    cols = [c for c in values[0] if c not in keys]
    if replace and cols:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in cols}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt, list(values))


def load(conn: Connection, entity: str, entity_id: uuid.UUID, payload: Row | None) -> None:
    """Write one feed row into a station's database (inside the caller's transaction)."""
    if entity == "order":
        _load_order(conn, entity_id, payload)
        return
    if entity == "pick_list":
        from app.sync import pick_feed

        pick_feed.load(conn, entity_id, payload)
        return
    table = TABLES[entity]
    if payload is None:
        if entity != "stock_movement":  # a ledger row is never taken back
            conn.execute(delete(table).where(_pk(table) == entity_id))
        return
    _upsert(conn, table, [decode(table, payload)], replace=entity != "stock_movement")


def _delete_order_children(conn: Connection, order_id: uuid.UUID) -> None:
    packages = select(PACKAGE.c.id).where(PACKAGE.c.order_id == order_id)
    conn.execute(delete(UNIT).where(UNIT.c.order_id == order_id))
    conn.execute(delete(ITEM).where(ITEM.c.package_id.in_(packages)))
    conn.execute(delete(PACKAGE).where(PACKAGE.c.order_id == order_id))
    conn.execute(delete(LINE).where(LINE.c.order_id == order_id))


def _load_order(conn: Connection, order_id: uuid.UUID, payload: Row | None) -> None:
    _delete_order_children(conn, order_id)
    if payload is None:
        tote = _t(Tote)
        conn.execute(update(tote).where(tote.c.order_id == order_id).values(order_id=None))
        conn.execute(delete(ORDER).where(ORDER.c.id == order_id))
        return
    _upsert(conn, ORDER, [decode(ORDER, payload["order"])], replace=True)
    for name, table in _CHILDREN:
        values = [decode(table, r) for r in payload.get(name, [])]
        if values:
            conn.execute(insert(table), values)
