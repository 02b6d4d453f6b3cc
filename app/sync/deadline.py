"""A deadline on work over PostgreSQL connections that may go silent.

A connection whose far end stops answering without closing (a stalled proxy or pooler, a
middlebox that lost its state) blocks a read forever: TCP keepalives are answered by the
middlebox, and psycopg has no timeout on a query's answer. :class:`Deadline` watches the
connections an engine (or a caller) opens; when a guarded block overruns, it shuts their
sockets down, so the blocked read fails at once with an ``OperationalError`` the caller
already treats as "connection lost" (roll back, reconnect, retry).
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
        self._lock = threading.Lock()

    def watch_engine(self, engine: Engine) -> None:
        """Watch every DBAPI (psycopg) connection the engine opens."""
        event.listen(engine, "connect", lambda dbapi_conn, _record: self.watch(dbapi_conn))

    def watch(self, conn: Any) -> None:
        with self._lock:
            self._conns.add(conn)

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

    def cut(self, why: str = "") -> None:
        """Shut the watched connections' sockets down now: a call blocked on one fails."""
        with self._lock:
            conns = list(self._conns)
        cut = sum(_shut_down(c) for c in conns)
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


def _shut_down(conn: Any) -> int:
    """Shut a psycopg connection's socket down (the fd stays the connection's to close)."""
    try:
        if conn.closed:
            return 0
        fd = conn.pgconn.socket
        dup = socket.socket(fileno=os.dup(fd))
    except Exception:  # closed meanwhile, or no socket: nothing to cut
        return 0
    try:
        dup.shutdown(socket.SHUT_RDWR)
    except OSError:
        return 0
    finally:
        dup.close()
    return 1
