"""The station's sync loop: a thread of its own, with its own connections, that pushes the
outbox and pulls the feed (:mod:`app.sync.client`) for as long as the station runs.

It runs a round (push, then pull until caught up) when the station records an operation
(:meth:`SyncWorker.wake`), when the central database NOTIFYs the warehouse's feed channel, and
every 2 s anyway. Any error — network, PostgreSQL restarting, a full disk — ends the round; the
connection is dropped and the worker waits 0.5 s, then 1 s, 2 s... up to 30 s (with jitter, so
200 stations do not come back in step) and tries again, forever. Everything it knows is in the
local database (outbox statuses, the cursor), so after a crash it resumes exactly where it was.

The GUI reads :attr:`SyncWorker.status`, a frozen snapshot replaced after every round: reading it
never waits for the worker.
"""

from __future__ import annotations

import contextlib
import logging
import random
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from app.clock import utcnow
from app.config import StationConfig
from app.store.db import make_engine
from app.store.types import UTCDateTime
from app.sync import client
from app.sync.deadline import Deadline

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)
POLL_S = 2.0
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
CALL_DEADLINE_S = 20.0  # one push batch or one pull: seconds at most, even on a poor network
STOP_GRACE_S = 3.0  # a stop waits this long for the step in hand, then cuts its connection
Connect = Callable[[], "psycopg.Connection[Any]"]


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the status bar shows; replaced whole, never changed in place."""

    online: bool = False
    reason: str = "connecting to the central database"  # why offline; "" when online
    waiting: int = 0  # operations not yet done centrally
    unsent: int = 0  # of which not yet known to be in the central inbox
    conflicts: int = 0  # rejected operations nobody has acknowledged
    exceptions: int = 0  # open exception tasks for this warehouse
    last_sync_at: datetime | None = None  # the last pull that reached the central database
    cursor: int = 0
    retry_in_s: float = 0.0  # offline: seconds until the next attempt


def backoff_delays(first: float = FIRST_BACKOFF_S, cap: float = MAX_BACKOFF_S) -> Any:
    """0.5, 1, 2, 4 ... 30, 30 ... seconds, each with up to ±20 % jitter; never ends.

    At the cap the jitter is downwards only (24–30 s): capping an upward one gave exactly 30 s
    half of the time, and stations that lost the network together came back together."""
    delay = first
    while True:
        yield delay * random.uniform(0.8, 1.2 if delay < cap else 1.0)
        delay = min(cap, delay * 2)


def describe(error: BaseException) -> str:
    """An error as one line a person can read in the status bar."""
    text = str(error).strip().splitlines()
    first = text[0].rstrip(".") if text else type(error).__name__
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return first
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return f"central database unreachable: {first}"
    if isinstance(error, psycopg.Error):
        return f"central database refused: {first}"
    return first


class SyncWorker:
    """One station's sync thread. ``connect`` opens a connection to the central database
    (:func:`app.sync.client.connect` for the station's settings unless given)."""

    def __init__(
        self,
        config: StationConfig,
        *,
        connect: Connect | None = None,
        poll_s: float = POLL_S,
        name: str = "waystation-sync",
    ) -> None:
        if config.central is None:
            raise ValueError("a sync worker needs a [central] section in the settings")
        central = config.central
        self._config = config
        self._connect: Connect = connect or (lambda: client.connect(central))
        self._poll_s = poll_s
        self._name = name
        self._status = SyncStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._results = threading.Condition()
        self._generation = 0  # bumped whenever results were stored
        self._engine: Engine | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._who: client.Identity | None = None
        self._logged_reason = ""
        self._last_sync: datetime | None = None
        self._cursor = 0  # the feed position after the last pull
        # A connection that takes bytes and never answers (a stalled proxy, a middlebox that
        # lost its state) would block a read for ever, TCP keepalives being answered for it:
        # each central call has a deadline, past which the socket is shut down and the call
        # fails like a lost connection.
        self._deadline = Deadline(CALL_DEADLINE_S, "a call to the central database")
        self._cuts_seen = 0
        self._recount_due = False  # a local action happened: re-read the counts

    # --- the GUI's side (any thread) ------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        return self._status

    @property
    def online(self) -> bool:
        return self._status.online

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """The station recorded an operation: push it now (or count it, while offline)."""
        self._recount_due = True
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"!")

    def stop(self, timeout: float = 10.0) -> None:
        """End the loop after the step in hand; close the connections. A step still blocked
        after a short grace (its connection went silent) has its connection cut, so closing
        the station never waits out the call deadline."""
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(min(STOP_GRACE_S, timeout))
            if self._thread.is_alive():
                self._deadline.cut("the station is closing")
                self._thread.join(max(timeout - STOP_GRACE_S, 0))
            if self._thread.is_alive():
                log.warning("the sync worker did not stop within %.0f s", timeout)
            self._thread = None
        for sock in (self._wake_r, self._wake_w):
            sock.close()

    def await_result(self, op_id: uuid.UUID, timeout: float) -> tuple[str, str] | None:
        """Wait up to ``timeout`` seconds for the central (result, reason) of an operation the
        station has just recorded; None when it did not come in time (or the worker is
        offline: then there is nothing to wait for)."""
        deadline = time.monotonic() + timeout
        self.wake()
        engine = self._engine
        while engine is not None:
            with self._results:
                generation = self._generation
            with engine.connect() as conn:
                found = client.result_of(conn, op_id)
                conn.rollback()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0 or not self._status.online:
                return None
            with self._results:
                if self._generation == generation:
                    self._results.wait(timeout=left)
        return None

    def sync_until_caught_up(self, *, all_done: bool = False, timeout: float = 120.0) -> bool:
        """Run rounds on the calling thread (no thread of its own) until everything is pushed
        and the feed is pulled to its head — and, with ``all_done``, every operation has its
        result and is covered. Errors back off and retry as the thread does. False when
        ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        engine = make_engine(self._config.local_database_url())
        self._engine = engine
        try:
            self._who = client.identity(engine, self._config.station_name)
            delays = backoff_delays()
            while time.monotonic() < deadline:
                try:
                    self._ensure_connection()
                    self._round()
                    delays = backoff_delays()
                    status = self._status
                    if status.unsent == 0 and (not all_done or status.waiting == 0):
                        return True
                    self._wait_for_work()
                except Exception as e:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._offline(e, min(next(delays), left))
            return False
        finally:
            self._close()
            self._engine = None
            engine.dispose()

    # --- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        engine = make_engine(self._config.local_database_url())
        self._engine = engine
        try:
            self._who = client.identity(engine, self._config.station_name)
            self._recount(online=False)
            delays = backoff_delays()
            while not self._stop.is_set():
                try:
                    self._ensure_connection()
                    self._round()
                    delays = backoff_delays()
                    self._wait_for_work()
                except Exception as e:
                    if self._stop.is_set():
                        break
                    self._offline(e, next(delays))
        except Exception:
            log.exception("the sync worker stopped")
            self._status = replace(self._status, online=False, reason="sync stopped: see the log")
        finally:
            self._close()
            self._engine = None
            engine.dispose()

    def _ensure_connection(self) -> None:
        if self._conn is not None and not self._conn.closed:
            return
        from app.sync.feed import feed_channel

        conn = self._connect()
        try:
            assert self._who is not None
            self._deadline.watch(conn)
            with self._deadline.guard():
                self._deadline.reap(conn)
                conn.execute(f'LISTEN "{feed_channel(self._who.warehouse_id)}"')
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def run_round(self) -> bool:
        """Push everything, then pull until caught up (on the calling thread); True when
        anything was sent or received."""
        engine, conn, who = self._engine, self._conn, self._who
        assert engine is not None
        assert conn is not None
        assert who is not None
        busy = False
        while True:  # each central call under the deadline: one batch, one pull
            with self._deadline.guard():
                sent = client.push(engine, conn, batches=1)
            busy = busy or sent > 0
            if sent < client.PUSH_BATCH:
                break
        while True:
            with self._deadline.guard():
                pulled = client.pull(engine, conn, who)
            self._cursor = pulled.cursor
            busy = busy or pulled.anything
            if pulled.results:
                with self._results:
                    self._generation += 1
                    self._results.notify_all()
            if not pulled.more:
                return busy

    def _round(self) -> None:
        busy = self.run_round()
        was_online = self._status.online
        if not was_online:
            log.info("sync online with %s", self._describe_central())
        self._logged_reason = ""
        self._last_sync = utcnow()
        if busy or not was_online or self._recount_due:
            self._recount_due = False
            self._recount(online=True)
        else:  # nothing changed but the time: no need to read the counts again
            self._status = replace(self._status, last_sync_at=self._last_sync)

    def _describe_central(self) -> str:
        central = self._config.central
        return central.describe() if central else "?"

    def _wait_for_work(self) -> None:
        """Until a local action, a NOTIFY of a feed position past the cursor, or the poll."""
        conn = self._conn
        assert conn is not None
        if self._news(conn) or self._drain_wake():
            return
        deadline = time.monotonic() + self._poll_s
        pg, wake = conn.fileno(), self._wake_r.fileno()
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([pg, wake], [], [], left)
            if wake in ready and self._drain_wake():
                return
            if pg in ready and self._news(conn):
                return

    def _news(self, conn: psycopg.Connection[Any]) -> bool:
        """Consume the notifications; True when one names a position this station lacks
        (a burst of commits it has already pulled wakes nobody)."""
        news = False
        for note in conn.notifies(timeout=0):  # raises if the connection broke
            try:
                news = news or int(note.payload) > self._cursor
            except ValueError:
                news = True
        return news

    def _drain_wake(self) -> bool:
        woke = False
        while True:
            try:
                if not self._wake_r.recv(4096):
                    return woke
            except (BlockingIOError, OSError):
                return woke
            woke = True

    def _offline(self, error: BaseException, delay: float) -> None:
        reason = describe(error)
        if self._deadline.cuts > self._cuts_seen:
            self._cuts_seen = self._deadline.cuts
            reason = (
                f"the central database did not answer within {CALL_DEADLINE_S:g} s "
                "(the connection was given up)"
            )
        self._close()
        if reason != self._logged_reason:
            self._logged_reason = reason
            if isinstance(error, Exception) and _is_bug(error):
                log.error("sync round failed: %s", reason, exc_info=error)
            else:
                log.warning("sync offline: %s (retrying with backoff)", reason)
        engine = self._engine
        if engine is not None:
            with contextlib.suppress(Exception):
                client.record_error(engine, reason)
        self._recount(online=False, reason=reason, retry_in_s=delay)
        deadline = time.monotonic() + delay
        # Wait out the backoff; a local action meanwhile only refreshes the counts.
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self._wake_r.fileno()], [], [], left)
            if ready and self._drain_wake() and not self._stop.is_set():
                self._recount(online=False, reason=reason, retry_in_s=max(0.0, left))

    def _recount(self, *, online: bool, reason: str = "", retry_in_s: float = 0.0) -> None:
        engine = self._engine
        if engine is None:
            return
        try:
            snapshot = read_status(engine)
        except Exception as e:  # the local database is busy or gone: keep the old counts
            log.debug("sync status not read: %s", e)
            snapshot = self._status
        self._status = replace(
            snapshot,
            online=online,
            reason="" if online else reason,
            retry_in_s=retry_in_s,
            # A pull that found nothing new writes nothing locally; the time is kept here.
            last_sync_at=max(
                (t for t in (snapshot.last_sync_at, self._last_sync) if t is not None),
                default=None,
            ),
        )


def _is_bug(error: Exception) -> bool:
    """Errors that are not the network's or the database's doing deserve a traceback."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return True
    from sqlalchemy.exc import OperationalError

    return not isinstance(error, psycopg.Error | OperationalError | OSError)


_DATETIME = UTCDateTime()


def read_status(engine: Engine) -> SyncStatus:
    """The station's sync counts, read outside any transaction (no write lock is taken)."""
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        by_status = dict(
            raw.execute(
                "SELECT status, count(*) FROM outbox WHERE status IN ('pending', 'sent') "
                "GROUP BY status"
            ).fetchall()
        )
        conflicts = raw.execute(
            "SELECT count(*) FROM outbox WHERE result = 'rejected' AND acknowledged_at IS NULL"
        ).fetchone()[0]
        exceptions = raw.execute(
            "SELECT count(*) FROM exception_task WHERE status = 'open'"
        ).fetchone()[0]
        state = raw.execute("SELECT cursor, last_pull_at FROM sync_state WHERE id = 1").fetchone()
    pending = int(by_status.get("pending", 0))
    last = None
    if state and state[1]:
        last = _DATETIME.process_result_value(datetime.fromisoformat(state[1]), engine.dialect)
    return SyncStatus(
        waiting=pending + int(by_status.get("sent", 0)),
        unsent=pending,
        conflicts=int(conflicts),
        exceptions=int(exceptions),
        last_sync_at=last,
        cursor=int(state[0]) if state else 0,
    )
