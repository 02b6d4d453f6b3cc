"""The unit of work: one Session per user action, with its audit event and outbox operation.

Every state-changing use case calls :meth:`UnitOfWork.record` before it commits, so the change,
its audit event and the operation the sync worker will push are one local transaction: a
failure leaves none of them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session, sessionmaker

from app.clock import utcnow
from app.ids import new_id
from app.store.db import READ_ONLY
from app.store.fastexec import FastExecutor
from app.store.models import AuditEvent, OutboxOp, Station

_STATION: Table = Station.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxOp.__table__  # type: ignore[assignment]
_AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]
_NEXT_SEQ = (
    update(_STATION)
    .where(_STATION.c.id == bindparam("station_id"))
    .values(next_seq=_STATION.c.next_seq + 1)
    .returning(_STATION.c.next_seq)
)
_INSERT_OUTBOX = insert(_OUTBOX)
_INSERT_AUDIT = insert(_AUDIT)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does an action, and where."""

    station_id: uuid.UUID
    operator_id: uuid.UUID | None = None
    operator_name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)


class UnitOfWork:
    def __init__(self, sessions: sessionmaker[Session], actor: Actor) -> None:
        self._sessions = sessions
        self.actor = actor
        self._session: Session | None = None
        self._now: datetime | None = None
        self._reading = False

    @property
    def session(self) -> Session:
        assert self._session is not None, "UnitOfWork used outside its with-block"
        return self._session

    @property
    def now(self) -> datetime:
        """The moment of this action: one time for every row it writes and for its operations'
        ``created_at``, which is the time the hub applies them with, so the central rows carry
        the same times as the station's."""
        if self._now is None:
            self._now = utcnow()
        return self._now

    def reading(self) -> Self:
        """This unit of work for reading only: it takes no write lock, so it never waits for
        a writer (another process's, on SQLite); a write in it fails."""
        self._reading = True
        return self

    def __enter__(self) -> Self:
        self._now = None
        self._session = self._sessions()
        self._session.begin()
        if self._reading:
            self._session.connection(execution_options={READ_ONLY: True})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            if exc_type is None:
                self._session.commit()
            else:
                self._session.rollback()
        finally:
            self._session.close()
            self._session = None

    def record(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        entity: str,
        entity_id: uuid.UUID | None,
        details: dict[str, Any] | None = None,
    ) -> uuid.UUID:
        """Append the audit event and the outbox operation for this action; return the op id."""
        # Module-level Core statements run by the fast executor: the same transaction,
        # without the ORM's (or most of SQLAlchemy's) bookkeeping on the scan path.
        fx = FastExecutor(self.session.connection())
        seq = fx.scalar(_NEXT_SEQ, {"station_id": self.actor.station_id})
        op_id = new_id()
        now = self.now
        fx.run(
            _INSERT_OUTBOX,
            {
                "op_id": op_id,
                "station_id": self.actor.station_id,
                "seq": seq - 1,
                "kind": kind,
                "payload": {**payload, "operator_id": _s(self.actor.operator_id)},
                "created_at": now,
                "status": "pending",
                "entity": entity,
                "entity_id": entity_id,
            },
        )
        fx.run(
            _INSERT_AUDIT,
            {
                "id": new_id(),
                "at": now,
                "station_id": self.actor.station_id,
                "operator_id": self.actor.operator_id,
                "action": kind,
                "entity": entity,
                "entity_id": entity_id,
                "details": details if details is not None else payload,
            },
        )
        return op_id


def _s(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
