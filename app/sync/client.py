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
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
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
from app.store.fastexec import FastExecutor
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

# Binary parameters (%b): arrays go as they are, with no text escaping of each element. Ids
# and times go as the station stores them (32 hex digits; UTC as 'YYYY-MM-DD HH:MM:SS.ffffff')
# and PostgreSQL reads them: no Python UUID or datetime made and dumped again for each.
_PUSH_SQL = """
INSERT INTO inbox (op_id, seq, kind, payload, entity, entity_id, created_at)
SELECT o, s, k, p, e, i, c AT TIME ZONE 'UTC' FROM unnest(
    %b::text[]::uuid[], %b::bigint[], %b::text[], %b::text[]::jsonb[], %b::text[],
    %b::text[]::uuid[], %b::text[]::timestamp[]) AS t(o, s, k, p, e, i, c)
ON CONFLICT DO NOTHING
"""
# Results and feed rows in ONE statement: one snapshot (as a REPEATABLE READ transaction would
# give) in one round trip. Part 0 is results (seq, op_id, result, reason, pos), part 1 feed rows
# (pos, entity, entity_id, payload).
_RESULTS_AND_FEED_SQL = """
(SELECT 0 AS part, seq AS k, op_id, result, reason, pos,
        NULL::varchar AS entity, NULL::uuid AS entity_id, NULL::jsonb AS payload
   FROM op_result WHERE station_id = %s AND seq > %s ORDER BY seq LIMIT %s)
UNION ALL
(SELECT 1, pos, NULL::uuid, NULL::varchar, NULL::text, NULL::bigint, entity, entity_id, payload
   FROM change_log WHERE warehouse_id = %s AND pos > %s ORDER BY pos LIMIT %s)
"""
_FEED_SQL = (
    "SELECT pos, entity, entity_id, payload FROM change_log "
    "WHERE warehouse_id = %s AND pos > %s ORDER BY pos LIMIT %s"
)
_PENDING = (
    select(
        type_coerce(_OUT.c.op_id, String),  # the stored hex, sent as it is (and below)
        _OUT.c.seq,
        _OUT.c.kind,
        type_coerce(_OUT.c.payload, String),  # the stored JSON text
        _OUT.c.entity,
        type_coerce(_OUT.c.entity_id, String),
        type_coerce(_OUT.c.created_at, String),
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
_NOT_DONE = select(_OUT.c.entity, _OUT.c.entity_id, _OUT.c.result, _OUT.c.result_pos).where(
    _OUT.c.status != "done", _OUT.c.entity_id.is_not(None)
)
_MARK_DONE = (
    update(_OUT)
    .where(
        _OUT.c.status != "done",
        _OUT.c.result.is_not(None),
        _OUT.c.result_pos <= bindparam("b_cursor"),
    )
    .values(status="done")
)
_MOVE_CURSOR = (
    update(_STATE)
    .where(_STATE.c.id == 1)
    .values(cursor=bindparam("b_cursor"), last_pull_at=bindparam("b_at"), last_error="")
)
_DEFERRED_ROWS = select(
    _DEFERRED.c.entity, _DEFERRED.c.entity_id, _DEFERRED.c.pos, _DEFERRED.c.payload
)
_DROP_DEFERRED = delete(_DEFERRED).where(
    _DEFERRED.c.entity == bindparam("b_entity"), _DEFERRED.c.entity_id == bindparam("b_id")
)
_DROP_OLDER_DEFERRED = _DROP_DEFERRED.where(_DEFERRED.c.pos < bindparam("b_pos"))
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


def push(
    local: Engine,
    central: psycopg.Connection[Any],
    *,
    batch: int = PUSH_BATCH,
    batches: int | None = None,
) -> int:
    """Send the pending operations, oldest first, in batches (all of them, or at most
    ``batches`` batches); return how many were sent."""
    sent = 0
    while batches is None or sent < batches * batch:
        with local.connect() as conn:
            ops = conn.execute(_PENDING, {"limit": batch}).all()
            conn.rollback()
        if not ops:
            return sent
        columns: list[list[Any]] = [[], [], [], [], [], [], []]
        for op in ops:
            for i, value in enumerate(op):
                columns[i].append(value)
        central.execute(_PUSH_SQL, columns)  # autocommit: one statement, one transaction
        with _mirror_connection(local) as conn, conn.begin():
            conn.execute(_MARK_SENT, {"lo": ops[0].seq, "hi": ops[-1].seq})
            conn.execute(update(_STATE).where(_STATE.c.id == 1).values(last_push_at=utcnow()))
        sent += len(ops)
        if len(ops) < batch:
            return sent
    return sent


# ----------------------------------------------------------------------------- pull


def pull(
    local: Engine,
    central: psycopg.Connection[Any],
    who: Identity,
    *,
    limit: int = PULL_LIMIT,
) -> Pulled:
    """Read new results and feed rows in one snapshot; apply them locally."""
    cursor, first_open = _where_we_are(local)
    if first_open is None:
        # No operation waits for its result: the feed alone, one statement, one snapshot.
        results: Sequence[Any] = ()
        rows = central.execute(_FEED_SQL, (who.warehouse_id, cursor, limit)).fetchall()
    else:
        # Results arrive in seq order, so every operation before the first one without a
        # result has its result stored already.
        both = central.execute(
            _RESULTS_AND_FEED_SQL,
            (who.station_id, first_open - 1, limit, who.warehouse_id, cursor, limit),
        ).fetchall()
        both.sort(key=lambda r: (r[0], r[1]))
        results = [(r[2], r[1], r[3], r[4], r[5]) for r in both if r[0] == 0]
        rows = [(r[1], r[6], r[7], r[8]) for r in both if r[0] == 1]
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


def _where_we_are(local: Engine) -> tuple[int, int | None]:
    """(cursor, seq of the first operation still without a result), read outside any
    transaction: no write lock is taken for it."""
    with local.connect() as conn:
        raw: Any = conn.connection.driver_connection
        state = raw.execute("SELECT cursor FROM sync_state WHERE id = 1").fetchone()
        first = raw.execute(
            "SELECT min(seq) FROM outbox WHERE status IN ('pending', 'sent') AND result IS NULL"
        ).fetchone()
    if state is None:
        _never_loaded()
    return int(state[0]), None if first[0] is None else int(first[0])


def _never_loaded() -> NoReturn:
    from app.domain.errors import ConfigError

    raise ConfigError(
        "This station's database was never loaded from the central database (it has no "
        "sync state). Move the database file away and start the station again."
    )


class _mirror_connection:  # noqa: N801 - used as a context manager, reads like a function
    """A local connection for sync's own writes.

    Foreign-key checks are off: it writes what central holds, and central is the authority (a
    reference to a row outside this warehouse's feed must not wedge the pull forever). Commits
    are not fsynced (``synchronous=NORMAL``; WAL keeps them atomic and in order): whatever a
    power cut takes back — a cursor move with its rows, a "sent" mark, stored results — is
    fetched or sent again, harmlessly. Both are set back before the connection returns to the
    pool, where the station's own actions commit with ``synchronous=FULL``."""

    def __init__(self, engine: Engine) -> None:
        self._conn = engine.connect()

    def __enter__(self) -> Connection:
        self._raw().execute("PRAGMA foreign_keys=OFF")
        self._raw().execute("PRAGMA synchronous=NORMAL")
        return self._conn

    def _raw(self) -> Any:
        return self._conn.connection.driver_connection

    def __exit__(self, *exc: object) -> None:
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
            self._raw().execute("PRAGMA foreign_keys=ON")
            self._raw().execute("PRAGMA synchronous=FULL")
        finally:
            self._conn.close()


def _store(
    conn: Connection,
    cursor: int,
    results: Sequence[Any],
    rows: Sequence[Any],
) -> Pulled:
    fx = FastExecutor(conn)  # a few statements per pull, on every station: keep them cheap
    for r in results:
        fx.run(
            _STORE_RESULT,
            {"b_op_id": r[0], "b_result": r[2], "b_reason": r[3] or None, "b_pos": r[4]},
        )
    rejected = [r[0] for r in results if r[2] == "rejected"]
    if rejected:
        _take_back_rejected(conn, rejected)
    covers = _uncovered(fx)
    applied = _apply_deferred(conn, fx, covers)
    held = 0
    for pos, entity, entity_id, payload in rows:
        key = (entity, entity_id)
        if covers.get(key, 0) > pos:
            _hold_back(conn, entity, entity_id, pos, payload)
            held += 1
            continue
        feed.load(conn, entity, entity_id, payload)
        if key in covers:
            fx.run(_DROP_OLDER_DEFERRED, {"b_entity": entity, "b_id": entity_id, "b_pos": pos})
        applied += 1
    new_cursor = rows[-1][0] if rows else cursor
    done = fx.run(_MARK_DONE, {"b_cursor": new_cursor})
    if done:
        # A row was held for an operation that is done now. The hub publishes a batch's rows
        # together, so a held row may already carry that operation's effect (an entity's row
        # sits before the ledger rows the same operation added): write what is no longer held.
        applied += _apply_deferred(conn, fx, _uncovered(fx))
    fx.run(_MOVE_CURSOR, {"b_cursor": new_cursor, "b_at": utcnow()})
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


def _uncovered(fx: FastExecutor) -> dict[tuple[str, uuid.UUID], float]:
    """Entity → the position from which pulled rows may be applied: past every one of the
    station's operations on it that is not done (infinite while one has no result)."""
    out: dict[tuple[str, uuid.UUID], float] = {}
    for entity, entity_id, result, result_pos in fx.rows(_NOT_DONE, {}):
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


def _apply_deferred(
    conn: Connection, fx: FastExecutor, covers: dict[tuple[str, uuid.UUID], float]
) -> int:
    """Write the held-back rows whose entity's operations now all cover them."""
    applied = 0
    for entity, entity_id, pos, payload in fx.rows(_DEFERRED_ROWS, {}):
        if covers.get((entity, entity_id), 0) > pos:
            continue
        feed.load(conn, entity, entity_id, payload)
        fx.run(_DROP_DEFERRED, {"b_entity": entity, "b_id": entity_id})
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
