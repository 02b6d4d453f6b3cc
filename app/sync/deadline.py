"""A deadline on work over PostgreSQL connections that may go silent.

A connection whose far end stops answering without closing (a stalled proxy or pooler, a
middlebox that lost its state) blocks a read forever: TCP keepalives are answered by the
middlebox, and psycopg has no timeout on a query's answer. :class:`Deadline` watches the
connections an engine (or a caller) opens; when a guarded block overruns, it shuts their
sockets down, so the blocked read fails at once with an ``OperationalError`` the caller
already treats as "connection lost" (roll back, reconnect, retry).

Cutting the socket ends the client's side only. The server session behind it may be stuck for
good: when the silence began in the middle of a message (a long ``executemany``), the server
waits for the rest of it, inside the transaction, holding its locks, and no idle timeout ends
that wait. So the deadline remembers the server process of each connection it cut, and the
next connection it watches ends them (``pg_terminate_backend`` of the same login) before any
work; until then a hub would skip the station whose progress row the stuck session holds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


class Deadline:
    def __init__(self, seconds: float, what: str = "a round") -> None:
        self.seconds = seconds
        self.what = what
        self.cuts = 0
        self._conns: weakref.WeakSet[Any] = weakref.WeakSet()
        self._orphans: set[int] = set()  # server pids of cut connections, not yet ended
        self._lock = threading.Lock()

    def watch_engine(self, engine: Engine) -> None:
        """Watch every DBAPI (psycopg) connection the engine opens (and end, on it, the server
        sessions of connections cut before)."""
        event.listen(engine, "connect", lambda dbapi_conn, _record: self._watch_new(dbapi_conn))

    def _watch_new(self, conn: Any) -> None:
        self.watch(conn)
        if self._orphans:
            self.reap(conn)
            conn.commit()

    def watch(self, conn: Any) -> None:
        with self._lock:
            self._conns.add(conn)

    def reap(self, conn: Any) -> int:
        """End, through ``conn``, the server sessions of the connections this deadline cut
        (those of the same login still there); how many were ended."""
        with self._lock:
            pids = sorted(self._orphans)
        if not pids:
            return 0
        ended = conn.execute(
            # It waits (up to 5 s) until each one is gone, so its locks are free after.
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE pid = ANY(%s) AND usename = current_user AND pid <> pg_backend_pid()",
            (pids,),
        ).fetchone()[0]
        with self._lock:
            self._orphans.difference_update(pids)
        if ended:
            log.warning(
                "%d server session(s) of connections cut after %s were still open (stuck in "
                "the middle of a message, holding their locks): ended",
                ended,
                self.what,
            )
        return int(ended)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Cut the watched connections if the block runs longer than the deadline."""
        timer = threading.Timer(self.seconds, self.cut)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            # A cut under way fails the blocked call as soon as the socket goes, before it has
            # noted the server sessions left behind: the block ends once the cut is complete.
            timer.join()

    def cut(self, why: str = "") -> None:
        """Shut the watched connections' sockets down now: a call blocked on one fails."""
        with self._lock:
            conns = list(self._conns)
        pids = [pid for pid in (_shut_down(c) for c in conns) if pid is not None]
        with self._lock:
            self._orphans.update(pids)
        cut = len(pids)
        if cut and why:
            log.info("%d connection(s) cut: %s", cut, why)
        elif cut:
            self.cuts += 1
            log.warning(
                "%s took longer than %.0f s: the database stopped answering; %d connection(s) "
                "cut, they will be opened again",
                self.what.capitalize(),
                self.seconds,
                cut,
            )


def _shut_down(conn: Any) -> int | None:
    """Shut a psycopg connection's socket down (the fd stays the connection's to close); the
    server process id behind it, or None when there was nothing to cut."""
    try:
        if conn.closed:
            return None
        pid = int(conn.pgconn.backend_pid)
        fd = conn.pgconn.socket
        dup = socket.socket(fileno=os.dup(fd))
    except Exception:  # closed meanwhile, or no socket: nothing to cut
        return None
    try:
        dup.shutdown(socket.SHUT_RDWR)
    except OSError:
        return None
    finally:
        dup.close()
    return pid
