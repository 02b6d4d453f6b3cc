"""Statements sent to PostgreSQL without waiting for their answers (psycopg's pipeline mode),
so Python goes on with its own work while the server runs them.

``with sent_ahead(conn) as ahead:`` — ``ahead.send(sql, params)`` sends a statement whose
rows nobody reads (an INSERT, an UPDATE); the block's end waits for every one of them and
raises the first error as SQLAlchemy would have raised it (``IntegrityError``,
``OperationalError``, ...), so callers handle errors as before. Inside the block nothing else
may run on the connection until the last send (a statement through SQLAlchemy reads its
answer at once). On another database than PostgreSQL each statement simply runs at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


class Ahead:
    """Statements sent on one connection, their answers read at the end of the block."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._raw: Any = None
        self._pipeline: Any = None  # psycopg's pipeline() context, once something was sent
        self._last: tuple[str, Mapping[str, Any]] = ("", {})

    def send(self, sql: str, params: Mapping[str, Any]) -> None:
        if self._conn.dialect.name != "postgresql":
            self._conn.exec_driver_sql(sql, dict(params))
            return
        import psycopg

        if self._pipeline is None:
            self._raw = self._conn.connection.driver_connection
            self._pipeline = self._raw.pipeline()
            self._pipeline.__enter__()
        self._last = (sql, params)
        try:
            self._raw.execute(sql, params)  # an earlier statement's error may surface here
        except psycopg.Error as e:
            raise DBAPIError.instance(sql, params, e, psycopg.Error) from e

    def end(self, error: BaseException | None = None) -> None:
        """Wait for every statement sent (``error``: the block failed, just leave pipeline
        mode; psycopg then keeps the block's error, not the pipeline's)."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        if error is not None:
            pipeline.__exit__(type(error), error, error.__traceback__)
            return
        import psycopg

        try:
            pipeline.__exit__(None, None, None)
        except psycopg.Error as e:
            raise DBAPIError.instance(*self._last, e, psycopg.Error) from e


@contextmanager
def sent_ahead(conn: Connection) -> Iterator[Ahead]:
    ahead = Ahead(conn)
    try:
        yield ahead
    except BaseException as e:
        ahead.end(e)
        raise
    ahead.end()
