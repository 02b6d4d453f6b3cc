"""The hub (``waystation-admin hub``): applies the stations' operations from the central inbox.

Per round: lock one station's ``station_progress`` row (``FOR UPDATE SKIP LOCKED``: another hub
takes another station), take its next contiguous operations in ``seq`` order, apply each in a
savepoint with its registered applier, then append every touched entity to the change feed
(:func:`app.sync.feed.publish`, which updates the warehouse's ``feed_head`` counter row last),
insert the results and move ``applied_seq`` on — all in one transaction, so an operation's
effects, its result and its feed rows commit together or not at all. Several hubs may run at
once: the row lock means no operation is applied twice.

The hub wakes on ``NOTIFY inbox`` (a trigger on the inbox) and polls as well; when PostgreSQL
goes away it reconnects with backoff, forever.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, Text, bindparam, cast, select, text, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.collector import no_cycle_collection
from app.domain.errors import WaystationError
from app.store import pgarray
from app.store.db import make_engine
from app.store.fastexec import bulk_insert
from app.store.models import InboxOp, OpResult, Station, StationProgress
from app.store.pipeline import sent_ahead
from app.sync import appliers, feed
from app.sync.appliers.orders import LOCKED
from app.sync.deadline import Deadline
from app.sync.ops import APPLIED, REJECTED, Op

log = logging.getLogger("waystation.hub")
_RESULTS: Table = OpResult.__table__  # type: ignore[assignment]

BATCH = 2000
MIN_ROUND = 10
ROUND_DEADLINE_S = 20.0  # a round that takes longer has its connections cut (and shrinks)
LISTENER_CHECK_S = 15.0
STOP_GRACE_S = 3.0  # a stop waits this long for the round in hand, then cuts its connections
MAX_BACKOFF_S = 30.0

_PICK = text(
    "SELECT sp.station_id FROM station_progress sp "
    "WHERE EXISTS (SELECT 1 FROM inbox i "
    "              WHERE i.station_id = sp.station_id AND i.seq = sp.applied_seq + 1) "
    "ORDER BY random() LIMIT 1 FOR UPDATE OF sp SKIP LOCKED"
)
# How far the station's operations are applied, and its warehouse.
_PROGRESS = (
    select(StationProgress.applied_seq, Station.warehouse_id)
    .select_from(StationProgress)
    .outerjoin(Station, Station.id == StationProgress.station_id)
    .where(StationProgress.station_id == bindparam("sid"))
)
# The payload comes as text, decoded here: psycopg's jsonb loader took twice as long for it.
# The seq range is bounded above as well as below (only a contiguous run is applied, so nothing
# past `after + n` is ever needed): with the inbox's statistics not yet gathered (a new
# database, a burst of pushes) the planner otherwise read, cast and sorted every waiting
# operation of the station to return the first n, 20–45 ms a round at 10,000 waiting.
_NEXT_OPS = (
    select(
        InboxOp.op_id,
        InboxOp.seq,
        InboxOp.kind,
        cast(InboxOp.payload, Text),
        InboxOp.entity,
        InboxOp.entity_id,
        InboxOp.created_at,
    )
    .where(
        InboxOp.station_id == bindparam("sid"),
        InboxOp.seq > bindparam("after"),
        InboxOp.seq <= bindparam("last"),
    )
    .order_by(InboxOp.seq)
)
# Stations made without `station add` (or before this hub version) still get a progress row.
_ENSURE_PROGRESS = text(
    "INSERT INTO station_progress (station_id, applied_seq) "
    "SELECT s.id, 0 FROM station s WHERE NOT EXISTS "
    "(SELECT 1 FROM station_progress p WHERE p.station_id = s.id) "
    "ON CONFLICT (station_id) DO NOTHING"
)
# Errors that say the database (or the connection to it) is unwell, not the operation.
TRANSIENT = (OperationalError, InterfaceError)


@dataclass(frozen=True, slots=True)
class Round:
    station_id: uuid.UUID
    first_seq: int
    last_seq: int
    applied: int
    rejected: int

    @property
    def ops(self) -> int:
        return self.applied + self.rejected


def _idle_ms(round_deadline: float) -> int:
    return int(max(5.0, round_deadline) * 1000)


def _transient(error: BaseException) -> bool:
    if isinstance(error, TRANSIENT):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


# An operation's outcome: the operation, applied or rejected, why, the feed entities it
# touched, and the rows of them it wrote whole (see ApplyContext.wrote).
_Outcome = tuple[Op, str, str, list[feed.Key], dict[feed.Key, feed.Row]]


def _applied(ctx: appliers.ApplyContext) -> _Outcome:
    return (ctx.op, APPLIED, "", list(ctx.touched), ctx.written)


class _BatchFailedError(Exception):
    """A batch applier failed with an error that names no operation of the batch."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class Hub:
    def __init__(
        self,
        url: str,
        *,
        poll_interval: float = 1.0,
        batch: int = BATCH,
        engine: Engine | None = None,
        round_deadline: float = ROUND_DEADLINE_S,
    ) -> None:
        self.url = url
        pgarray.register()  # the batches' id lists go to PostgreSQL as binary arrays
        self.poll_interval = poll_interval
        self.batch = batch
        self.round_size = batch  # shrinks while connections keep breaking, grows back after
        self.engine = engine or make_engine(
            url,
            pool_size=2,
            max_overflow=2,
            connect_args={
                "connect_timeout": max(1, int(round_deadline)),
                # A round whose connection went silent leaves its transaction open on the
                # server, holding the station's progress row: the server ends it.
                "options": f"-c idle_in_transaction_session_timeout={_idle_ms(round_deadline)}",
            },
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # A round (or a check of the LISTEN connection) that overruns has its connections cut.
        self.deadline = Deadline(round_deadline, "a hub round")
        self.deadline.watch_engine(self.engine)
        self.listen_deadline = Deadline(round_deadline, "a check of the LISTEN connection")
        self._listener_checked = 0.0
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self.applied_total = 0

    def stop(self) -> None:
        """Stop after the round in hand; one still blocked after a short grace (its connection
        went silent) has its connections cut, so a stop never waits out the round deadline."""
        self._stop.set()
        grace = threading.Timer(STOP_GRACE_S, self._cut_if_running)
        grace.daemon = True
        grace.start()

    def _cut_if_running(self) -> None:
        if not self._stopped.is_set():
            self.deadline.cut("the hub is stopping")
            self.listen_deadline.cut("the hub is stopping")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one round ---------------------------------------------------------------------------

    def apply_round(self) -> Round | None:
        """Apply the next batch of one station's operations; None when no station has any
        that another hub is not applying."""
        # Some hundred objects an operation, nearly all freed as it goes: the collector would
        # take about a sixth of the round walking the process's objects.
        with no_cycle_collection(), self.sessions() as s, s.begin():
            conn = s.connection()
            sid = conn.execute(_PICK).scalar()
            if sid is None:
                return None
            # A fresh statement (we hold the row lock) reads the committed applied_seq.
            applied_seq, warehouse_id = conn.execute(_PROGRESS, {"sid": sid}).one()
            rows = conn.execute(
                _NEXT_OPS,
                {"sid": sid, "after": applied_seq, "last": applied_seq + self.round_size},
            ).all()
            ops: list[Op] = []
            for op_id, seq, kind, doc, entity, entity_id, created_at in rows:
                if seq != applied_seq + len(ops) + 1:
                    break  # a gap: the missing operation has not arrived yet
                payload = json.loads(doc) if doc is not None else None
                if not isinstance(payload, dict):
                    payload = dict(payload or {})  # as Op.from_row takes it
                ops.append(Op(op_id, sid, seq, kind, payload, entity or "", entity_id, created_at))
            if not ops:
                return None
            return self._apply_batch(s, sid, warehouse_id, ops)

    def _apply_batch(
        self, s: Session, sid: uuid.UUID, warehouse_id: uuid.UUID | None, ops: list[Op]
    ) -> Round:
        outcomes = self._apply_all(s, sid, warehouse_id, ops)
        touched: dict[feed.Key, None] = {}
        op_of: dict[feed.Key, uuid.UUID] = {}
        # Rows an applier wrote whole and nothing after it changed: no need to read them back.
        written: dict[feed.Key, feed.Row] = {}
        for op, result, reason, keys, rows in outcomes:
            if result == REJECTED:
                log.info("rejected %s #%d of station %s: %s", op.kind, op.seq, sid, reason)
                # The station changed this entity optimistically: send it central state back.
                if op.entity in feed.ENTITIES and op.entity_id is not None:
                    keys.append((op.entity, op.entity_id))
            for key in keys:
                touched[key] = None
                op_of[key] = op.op_id
                row = rows.get(key)
                if row is None:
                    written.pop(key, None)
                else:
                    written[key] = row
        conn = s.connection()
        conn.execute(
            update(StationProgress)
            .where(StationProgress.station_id == sid)
            .values(applied_seq=ops[-1].seq)
        )
        # The feed rows and the results are sent without waiting: the server inserts the feed
        # rows while the results are put together here; the block's end waits for both.
        with sent_ahead(conn) as ahead:
            positions = feed.publish(conn, touched, op_of, written, ahead=ahead)
            mine = {
                (e, i): p
                for (e, i, w), p in positions.items()
                if warehouse_id is None or w == warehouse_id
            }
            bulk_insert(
                conn,
                _RESULTS,
                [
                    {
                        "op_id": op.op_id,
                        "station_id": sid,
                        "seq": op.seq,
                        "result": result,
                        "reason": reason,
                        "pos": max((mine.get(k, 0) for k in keys), default=0),
                    }
                    for op, result, reason, keys, _rows in outcomes
                ],
                ahead=ahead,
            )
        rejected = sum(1 for _op, r, *_ in outcomes if r == REJECTED)
        done = Round(sid, ops[0].seq, ops[-1].seq, len(ops) - rejected, rejected)
        log.info(
            "station %s: operations %d–%d applied (%d rejected), %d feed rows",
            sid,
            done.first_seq,
            done.last_seq,
            rejected,
            len(positions),
        )
        return done

    def _apply_all(
        self, s: Session, sid: uuid.UUID, warehouse_id: uuid.UUID | None, ops: list[Op]
    ) -> list[_Outcome]:
        """Apply the operations in order, each all or nothing.

        The run is optimistic: the operations go into one savepoint (two round trips for the
        lot instead of two each). When one fails, that savepoint is rolled back, the ones
        before it are applied again in a new savepoint (they succeeded on the same state, and
        appliers are deterministic), the failing one is recorded as rejected, and the run goes
        on after it. A database error (not the operation's fault) aborts the round.
        """
        outcomes: list[_Outcome] = []
        start = 0
        batches = True
        while start < len(ops):
            savepoint = s.begin_nested()
            contexts, failed = self._apply_run(s, sid, warehouse_id, ops[start:], batches=batches)
            if failed is None:
                savepoint.commit()
                outcomes += [_applied(c) for c in contexts]
                break
            savepoint.rollback()
            s.info.pop(LOCKED, None)  # row locks taken inside the savepoint are gone with it
            n, error = failed
            if isinstance(error, _BatchFailedError):
                # A batch failed without saying which of its operations is at fault: the run
                # goes again one operation at a time, so the right one is rejected.
                batches = False
                continue
            n += start
            reason = self._rejection(ops[n], error)  # raises when it is the database's fault
            if n > start:
                with s.begin_nested():
                    # One at a time, as a batch applier's answer said they would go in.
                    contexts, again = self._apply_run(
                        s, sid, warehouse_id, ops[start:n], batches=False
                    )
                    if again is not None:
                        raise again[1]  # it succeeded a moment ago on the same state
                outcomes += [_applied(c) for c in contexts]
            outcomes.append((ops[n], REJECTED, reason, [], {}))
            start = n + 1
        return outcomes

    @staticmethod
    def _apply_run(
        s: Session,
        sid: uuid.UUID,
        warehouse_id: uuid.UUID | None,
        ops: list[Op],
        *,
        batches: bool = True,
    ) -> tuple[list[appliers.ApplyContext], tuple[int, Exception] | None]:
        """Apply ``ops`` in order until one fails: the contexts of those applied, and the
        failing one's index with its error (None when all went in). Consecutive operations of
        kinds with a batch applier go to it together."""
        contexts: list[appliers.ApplyContext] = []
        n = 0
        while n < len(ops):
            batch_fn = appliers.BATCHES.get(ops[n].kind) if batches else None
            end = n + 1
            while batch_fn and end < len(ops) and appliers.BATCHES.get(ops[end].kind) is batch_fn:
                end += 1
            run = [appliers.ApplyContext(s, op, sid, warehouse_id) for op in ops[n:end]]
            try:
                if batch_fn is not None and len(run) > 1:
                    batch_fn(run)
                else:
                    appliers.apply(run[0], ops[n])
                s.flush()
            except appliers.BatchRefusedError as e:
                return contexts + run[: e.index], (n + e.index, e.error)
            except Exception as e:
                if batch_fn is not None and len(run) > 1 and not _transient(e):
                    return contexts, (n, _BatchFailedError(e))
                return contexts, (n, e)
            contexts += run
            n = end
        return contexts, None

    @staticmethod
    def _rejection(op: Op, error: Exception) -> str:
        """The words a rejected operation is recorded with; re-raises a database error."""
        if isinstance(error, WaystationError):
            return error.message
        if _transient(error):
            raise error
        if isinstance(error, IntegrityError | DataError):
            return (
                f"The central database refused {op.kind} #{op.seq}: "
                f"{str(error.orig).splitlines()[0]} — it conflicts with what is there already; "
                "a supervisor must check this order."
            )
        if isinstance(error, DBAPIError):
            raise error  # the database, not the operation: the round is retried
        log.error("applier of %s failed on operation %s", op.kind, op.op_id, exc_info=error)
        return (
            f"The hub could not apply {op.kind} #{op.seq} ({type(error).__name__}: {error}) — "
            "tell support; the operation is kept centrally."
        )

    # -- loops --------------------------------------------------------------------------------

    def drain(self) -> int:
        """Apply until no station has operations waiting; return how many were applied."""
        with self.deadline.guard(), self.engine.begin() as conn:
            conn.execute(_ENSURE_PROGRESS)
        total = 0
        while not self._stop.is_set():
            with self.deadline.guard():
                done = self.apply_round()
            if done is None:
                break
            total += done.ops
            self.applied_total += done.ops
            # A round that went through earns a bigger next one (after a failure shrank it).
            self.round_size = min(self.batch, self.round_size * 2)
        return total

    def run(self, *, once: bool = False, on_idle: Callable[[], None] | None = None) -> None:
        """Apply until stopped (``once``: until nothing is waiting, then return)."""
        log.info("hub started on %s", self.engine.url.render_as_string(hide_password=True))
        delay = 0.5
        listener: Any = None
        progress = self.applied_total
        while not self._stop.is_set():
            try:
                if listener is None and not once:
                    listener = self._listen()
                self.drain()
                delay = 0.5
                if once:
                    return
                if on_idle is not None:
                    on_idle()
                self._wait(listener)
            except Exception as e:
                if once or not _transient(e):
                    raise
                if self.applied_total > progress:  # it got through since the last failure
                    progress, delay = self.applied_total, 0.5
                # Smaller rounds finish between drops on a connection that keeps breaking.
                self.round_size = max(MIN_ROUND, self.round_size // 2)
                wait = delay * random.uniform(0.75, 1.25)
                log.warning(
                    "central database unreachable (%s); retrying in %.1f s",
                    str(e).splitlines()[0] if str(e) else type(e).__name__,
                    wait,
                )
                self._close(listener)
                listener = None
                self.engine.dispose()
                self._stop.wait(wait)
                delay = min(delay * 2, MAX_BACKOFF_S)
        self._close(listener)
        self._stopped.set()
        log.info("hub stopped after %d operations", self.applied_total)

    def _listen(self) -> Any:
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        conn = psycopg.connect(
            url.render_as_string(hide_password=False),
            autocommit=True,
            connect_timeout=max(1, int(self.deadline.seconds)),
        )
        self.listen_deadline.watch(conn)
        with self.listen_deadline.guard():
            self.listen_deadline.reap(conn)
            conn.execute("LISTEN inbox")
        self._listener_checked = time.monotonic()
        return conn

    def _wait(self, listener: Any) -> None:
        """Until an inbox NOTIFY, the poll interval or a stop, whichever comes first."""
        if time.monotonic() - self._listener_checked > LISTENER_CHECK_S:
            # A LISTEN connection gone silent just never hears anything: ask it something.
            with self.listen_deadline.guard():
                listener.execute("SELECT 1")
            self._listener_checked = time.monotonic()
        deadline = time.monotonic() + self.poll_interval
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            # Short slices, so a stop is noticed within half a second.
            if any(True for _n in listener.notifies(timeout=min(left, 0.5), stop_after=1)):
                for _n in listener.notifies(timeout=0.01):  # one round serves many inserts
                    pass
                return

    @staticmethod
    def _close(listener: Any) -> None:
        if listener is not None:
            try:
                listener.close()
            except Exception:  # closing a broken connection may fail too
                log.debug("closing the LISTEN connection failed", exc_info=True)


def run_hub(url: str, *, once: bool, poll_interval: float) -> int:
    hub = Hub(url, poll_interval=poll_interval)
    started = time.perf_counter()
    try:
        hub.run(once=once)
    finally:
        hub.close()
    if once:
        took = time.perf_counter() - started
        log.info("applied %d operations in %.2f s", hub.applied_total, took)
    return hub.applied_total
