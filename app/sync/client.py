"""The station side of sync: push the outbox up, pull the feed down. Plain functions over the
station's local engine and a psycopg connection to the central database; no threads here (the
loop that calls them is :mod:`app.sync.worker`, the first download is :mod:`app.sync.snapshot`).

Push: the oldest ``pending`` operations in ``seq`` order, up to 500 at a time, one
``INSERT ... ON CONFLICT DO NOTHING`` per batch in one central transaction, then marked ``sent``
locally. A crash between the two sends the batch again, which changes nothing centrally.

Pull: one REPEATABLE READ transaction reads this station's new results and the warehouse's feed
rows after the cursor; one local transaction stores the results, applies the rows (holding back
any row for an entity the station has an uncovered operation on), advances the cursor and marks
covered operations ``done``. Every step is idempotent, so a crash anywhere resumes cleanly.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.clock import utcnow
from app.config import CentralConfig, database_password
from app.store.models import OutboxOp, Station, StockMovement, SyncDeferred, SyncState
from app.sync import feed

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

PUSH_BATCH = 500
PULL_LIMIT = 5000
APPLY_SLICE = 250  # feed rows per local transaction
_OUT: Table = OutboxOp.__table__  # type: ignore[assignment]
_STATE: Table = SyncState.__table__  # type: ignore[assignment]
_DEFERRED: Table = SyncDeferred.__table__  # type: ignore[assignment]
_STATION: Table = Station.__table__  # type: ignore[assignment]
_MOVEMENT: Table = StockMovement.__table__  # type: ignore[assignment]
_NEVER = float("inf")  # an operation with no result yet covers no position

_PUSH_SQL = """
INSERT INTO inbox (op_id, seq, kind, payload, entity, entity_id, created_at)
SELECT * FROM unnest(
    %s::uuid[], %s::bigint[], %s::text[], %s::text[]::jsonb[], %s::text[], %s::uuid[],
    %s::timestamptz[])
ON CONFLICT DO NOTHING
"""
_RESULTS_SQL = (
    "SELECT op_id, seq, result, reason, pos FROM op_result "
    "WHERE station_id = %s AND seq > %s ORDER BY seq LIMIT %s"
)
_FEED_SQL = (
    "SELECT pos, entity, entity_id, payload FROM change_log "
    "WHERE warehouse_id = %s AND pos > %s ORDER BY pos LIMIT %s"
)
_PENDING = (
    select(
        _OUT.c.op_id,
        _OUT.c.seq,
        _OUT.c.kind,
        type_coerce(_OUT.c.payload, String),  # the stored JSON text, sent as it is
        _OUT.c.entity,
        _OUT.c.entity_id,
        _OUT.c.created_at,
    )
    .where(_OUT.c.status == "pending")
    .order_by(_OUT.c.seq)
    .limit(bindparam("limit"))
)
_MARK_SENT = (
    update(_OUT)
    .where(
        _OUT.c.status == "pending",
        _OUT.c.seq >= bindparam("lo"),
        _OUT.c.seq <= bindparam("hi"),
    )
    .values(status="sent")
)
_STORE_RESULT = (
    update(_OUT)
    .where(_OUT.c.op_id == bindparam("b_op_id"))
    .values(
        result=bindparam("b_result"),
        reason=bindparam("b_reason"),
        result_pos=bindparam("b_pos"),
        # A result proves the operation reached the inbox, whatever the push noted locally.
        status=case((_OUT.c.status == "pending", "sent"), else_=_OUT.c.status),
    )
)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the station is centrally: its id (the same row at both ends) and its warehouse."""

    station_id: uuid.UUID
    warehouse_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Pulled:
    """What one pull did."""

    results: int  # operation results stored
    rows: int  # feed rows read
    applied: int  # feed rows (and earlier held-back rows) written locally
    held_back: int  # rows held back behind the station's own uncovered operations
    done: int  # operations that became done
    cursor: int  # the feed position the station's view is now at
    more: bool  # the limit was reached: pull again

    @property
    def anything(self) -> bool:
        return bool(self.results or self.rows)


def identity(local: Engine, station_name: str) -> Identity:
    """The station's identity from its local database (written there by the bootstrap)."""
    with local.connect() as conn:
        row = conn.execute(
            select(_STATION.c.id, _STATION.c.warehouse_id).where(_STATION.c.name == station_name)
        ).first()
    if row is None or row.warehouse_id is None:
        from app.domain.errors import ConfigError

        raise ConfigError(
            f"This station's database has no station {station_name} with a warehouse — it was "
            "not loaded from the central database. Move the database file away and start again."
        )
    return Identity(row.id, row.warehouse_id)


# ----------------------------------------------------------------------------- connect

CONNECT_TIMEOUT_S = 5
# A network that swallows packets must end in an error, not a wait with no end: TCP keepalives
# for an idle connection, a user timeout for unacknowledged data.
_TCP: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}


def connect(central: CentralConfig, password: str | None = None) -> psycopg.Connection[Any]:
    """A connection to the central database as this station (autocommit: every transaction
    is explicit). The password comes from the OS keyring unless given."""
    import psycopg

    if password is None:
        password = database_password(central)
    params = {**central.connect_kwargs(password), "connect_timeout": CONNECT_TIMEOUT_S, **_TCP}
    return psycopg.connect(autocommit=True, **params)


# ----------------------------------------------------------------------------- push


def push(local: Engine, central: psycopg.Connection[Any], *, batch: int = PUSH_BATCH) -> int:
    """Send every pending operation, oldest first, in batches; return how many were sent."""
    sent = 0
    while True:
        with local.connect() as conn:
            ops = conn.execute(_PENDING, {"limit": batch}).all()
            conn.rollback()
        if not ops:
            return sent
        columns: list[list[Any]] = [[], [], [], [], [], [], []]
        for op in ops:
            for i, value in enumerate(op):
                columns[i].append(value)
        with central.transaction():
            central.execute(_PUSH_SQL, columns)
        with local.begin() as conn:
            conn.execute(_MARK_SENT, {"lo": ops[0].seq, "hi": ops[-1].seq})
            conn.execute(update(_STATE).where(_STATE.c.id == 1).values(last_push_at=utcnow()))
        sent += len(ops)
        if len(ops) < batch:
            return sent


# ----------------------------------------------------------------------------- pull


def pull(
    local: Engine,
    central: psycopg.Connection[Any],
    who: Identity,
    *,
    limit: int = PULL_LIMIT,
) -> Pulled:
    """Read new results and feed rows in one snapshot; apply them in one local transaction."""
    with local.connect() as conn:
        cursor = _cursor(conn)
        last_seq = conn.scalar(select(func.max(_OUT.c.seq)).where(_OUT.c.result.is_not(None)))
        conn.rollback()
    with central.transaction():
        central.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        results = central.execute(_RESULTS_SQL, (who.station_id, last_seq or 0, limit)).fetchall()
        rows = central.execute(_FEED_SQL, (who.warehouse_id, cursor, limit)).fetchall()
    if not results and not rows:
        return Pulled(0, 0, 0, 0, 0, cursor, more=False)  # nothing new: no local write
    more = len(rows) >= limit or len(results) >= limit
    # Written in slices, each one transaction that leaves a consistent prefix of the feed
    # applied (results first, so the protection sees them): the station's write lock is never
    # held for long, and a scan on the bench waits at most one slice.
    done = applied = held = 0
    with _mirror_connection(local) as conn:
        for start in range(0, max(len(rows), 1), APPLY_SLICE):
            with conn.begin():
                step = _store(
                    conn,
                    cursor,
                    results if start == 0 else (),
                    rows[start : start + APPLY_SLICE],
                )
            cursor = step.cursor
            done, applied, held = done + step.done, applied + step.applied, held + step.held_back
    return Pulled(len(results), len(rows), applied, held, done, cursor, more)


def _cursor(conn: Connection) -> int:
    value = conn.scalar(select(_STATE.c.cursor).where(_STATE.c.id == 1))
    if value is None:
        from app.domain.errors import ConfigError

        raise ConfigError(
            "This station's database was never loaded from the central database (it has no "
            "sync state). Move the database file away and start the station again."
        )
    return int(value)


class _mirror_connection:  # noqa: N801 - used as a context manager, reads like a function
    """A local connection with foreign-key checks off: it writes what central holds, and
    central is the authority (a reference to a row outside this warehouse's feed must not
    wedge the pull forever). Checks are back on before the connection returns to the pool."""

    def __init__(self, engine: Engine) -> None:
        self._conn = engine.connect()

    def __enter__(self) -> Connection:
        self._raw().execute("PRAGMA foreign_keys=OFF")
        return self._conn

    def _raw(self) -> Any:
        return self._conn.connection.driver_connection

    def __exit__(self, *exc: object) -> None:
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
            self._raw().execute("PRAGMA foreign_keys=ON")
        finally:
            self._conn.close()


def _store(
    conn: Connection,
    cursor: int,
    results: Sequence[Any],
    rows: Sequence[Any],
) -> Pulled:
    if results:
        conn.execute(
            _STORE_RESULT,
            [
                {"b_op_id": r[0], "b_result": r[2], "b_reason": r[3] or None, "b_pos": r[4]}
                for r in results
            ],
        )
    rejected = [r[0] for r in results if r[2] == "rejected"]
    if rejected:
        _take_back_rejected(conn, rejected)
    covers = _uncovered(conn)
    applied = _apply_deferred(conn, covers)
    held = 0
    for pos, entity, entity_id, payload in rows:
        key = (entity, entity_id)
        if covers.get(key, 0) > pos:
            _hold_back(conn, entity, entity_id, pos, payload)
            held += 1
            continue
        feed.load(conn, entity, entity_id, payload)
        if key in covers:
            conn.execute(
                delete(_DEFERRED).where(
                    _DEFERRED.c.entity == entity,
                    _DEFERRED.c.entity_id == entity_id,
                    _DEFERRED.c.pos < pos,
                )
            )
        applied += 1
    new_cursor = rows[-1][0] if rows else cursor
    done = conn.execute(
        update(_OUT)
        .where(
            _OUT.c.status != "done",
            _OUT.c.result.is_not(None),
            _OUT.c.result_pos <= new_cursor,
        )
        .values(status="done")
    ).rowcount
    conn.execute(
        update(_STATE)
        .where(_STATE.c.id == 1)
        .values(cursor=new_cursor, last_pull_at=utcnow(), last_error="")
    )
    return Pulled(len(results), len(rows), applied, held, done, new_cursor, more=False)


def _ledger_rows_of(payload: dict[str, Any]) -> list[uuid.UUID]:
    """The ids of the ledger rows an operation wrote (stock facts list them as ``movements``,
    a completed order as ``lines[].movement_id``)."""
    ids: list[uuid.UUID] = []
    for row in payload.get("movements") or []:
        if isinstance(row, dict) and row.get("id"):
            ids.append(uuid.UUID(str(row["id"])))
    for line in payload.get("lines") or []:
        if isinstance(line, dict) and line.get("movement_id"):
            ids.append(uuid.UUID(str(line["movement_id"])))
    return ids


def _take_back_rejected(conn: Connection, op_ids: Sequence[uuid.UUID]) -> None:
    """A refused operation's ledger rows never reached central: take them out of the station's
    ledger too. (Its own entity comes back from central through the feed; a ledger row never
    would — the feed only ever adds them.)"""
    payloads = conn.execute(select(_OUT.c.payload).where(_OUT.c.op_id.in_(op_ids))).scalars()
    ids = [i for payload in payloads for i in _ledger_rows_of(dict(payload or {}))]
    if ids:
        conn.execute(delete(_MOVEMENT).where(_MOVEMENT.c.id.in_(ids)))
        log.info("%d ledger row(s) of refused operations taken out of the ledger", len(ids))


def _uncovered(conn: Connection) -> dict[tuple[str, uuid.UUID], float]:
    """Entity → the position from which pulled rows may be applied: past every one of the
    station's operations on it that is not done (infinite while one has no result)."""
    out: dict[tuple[str, uuid.UUID], float] = {}
    for entity, entity_id, result, result_pos in conn.execute(
        select(_OUT.c.entity, _OUT.c.entity_id, _OUT.c.result, _OUT.c.result_pos).where(
            _OUT.c.status != "done", _OUT.c.entity_id.is_not(None)
        )
    ):
        need = _NEVER if result is None else float(result_pos or 0)
        key = (entity, entity_id)
        out[key] = max(out.get(key, 0.0), need)
    return out


def _hold_back(conn: Connection, entity: str, entity_id: uuid.UUID, pos: int, payload: Any) -> None:
    stmt = sqlite_insert(_DEFERRED).values(
        entity=entity, entity_id=entity_id, pos=pos, payload=payload
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[_DEFERRED.c.entity, _DEFERRED.c.entity_id],
            set_={"pos": stmt.excluded.pos, "payload": stmt.excluded.payload},
            where=_DEFERRED.c.pos < stmt.excluded.pos,
        )
    )


def _apply_deferred(conn: Connection, covers: dict[tuple[str, uuid.UUID], float]) -> int:
    """Write the held-back rows whose entity's operations now all cover them."""
    applied = 0
    for entity, entity_id, pos, payload in conn.execute(
        select(_DEFERRED.c.entity, _DEFERRED.c.entity_id, _DEFERRED.c.pos, _DEFERRED.c.payload)
    ).all():
        if covers.get((entity, entity_id), 0) > pos:
            continue
        feed.load(conn, entity, entity_id, payload)
        conn.execute(
            delete(_DEFERRED).where(
                and_(_DEFERRED.c.entity == entity, _DEFERRED.c.entity_id == entity_id)
            )
        )
        applied += 1
    return applied


# ----------------------------------------------------------------------------- bookkeeping


@dataclass(frozen=True, slots=True)
class Counts:
    waiting: int  # operations not yet done (pending, or sent and waiting for their result)
    unsent: int  # not yet known to be in the central inbox
    conflicts: int  # rejected operations nobody has acknowledged


def counts(conn: Connection) -> Counts:
    rows: dict[str, int] = dict(
        conn.execute(
            select(_OUT.c.status, func.count())
            .where(_OUT.c.status.in_(("pending", "sent")))
            .group_by(_OUT.c.status)
        ).all()
    )
    conflicts = conn.scalar(
        select(func.count())
        .select_from(_OUT)
        .where(_OUT.c.result == "rejected", _OUT.c.acknowledged_at.is_(None))
    )
    pending = int(rows.get("pending", 0))
    return Counts(pending + int(rows.get("sent", 0)), pending, int(conflicts or 0))


def record_error(local: Engine, reason: str) -> None:
    """Keep why the last sync attempt failed (shown after a restart too)."""
    with local.begin() as conn:
        conn.execute(update(_STATE).where(_STATE.c.id == 1).values(last_error=reason[:2000]))


def result_of(conn: Connection, op_id: uuid.UUID) -> tuple[str, str] | None:
    """(result, reason) of one operation once its central result is stored locally."""
    row = conn.execute(select(_OUT.c.result, _OUT.c.reason).where(_OUT.c.op_id == op_id)).first()
    if row is None or row.result is None:
        return None
    return str(row.result), str(row.reason or "")


def acknowledge(conn: Connection, op_ids: Iterable[uuid.UUID]) -> int:
    ids = list(op_ids)
    if not ids:
        return 0
    return conn.execute(
        update(_OUT)
        .where(_OUT.c.op_id.in_(ids), _OUT.c.result == "rejected", _OUT.c.acknowledged_at.is_(None))
        .values(acknowledged_at=utcnow())
    ).rowcount


def insert_state(conn: Connection, cursor: int) -> None:
    """The sync state row of a newly loaded station, at the snapshot's feed position."""
    now = utcnow()
    conn.execute(
        insert(_STATE).values(
            id=1, cursor=cursor, last_error="", bootstrapped_at=now, last_pull_at=now
        )
    )
