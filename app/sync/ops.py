"""The operation as it travels from a station's outbox to the central inbox and the hub.

An :class:`Op` is immutable. Appliers read its payload through the typed accessors below, which
raise :class:`MalformedOpError` (a rejection with a message) rather than KeyError or ValueError.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.errors import ValidationError

APPLIED = "applied"
REJECTED = "rejected"

# Operations that change no shared state: the hub accepts them and writes nothing to the feed.
LOCAL_ONLY_KINDS = frozenset(
    {
        "print.reprinted",
        "print.discarded",
        "print.dialog",
        "station.printers_changed",
    }
)


class MalformedOpError(ValidationError):
    """An operation whose payload lacks a field or has one of the wrong form."""


@dataclass(frozen=True, slots=True)
class Op:
    op_id: uuid.UUID
    station_id: uuid.UUID
    seq: int
    kind: str
    payload: dict[str, Any]
    entity: str
    entity_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Op:
        """From an inbox or outbox row (anything with these attributes)."""
        return cls(
            op_id=row.op_id,
            station_id=row.station_id,
            seq=int(row.seq),
            kind=row.kind,
            payload=dict(row.payload or {}),
            entity=row.entity or "",
            entity_id=row.entity_id,
            created_at=row.created_at,
        )

    def inbox_row(self) -> dict[str, Any]:
        """The columns a station inserts into the central inbox (never ``station_id``: the
        central database takes it from the session user)."""
        return {
            "op_id": self.op_id,
            "seq": self.seq,
            "kind": self.kind,
            "payload": self.payload,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "created_at": self.created_at,
        }

    # -- typed payload access ---------------------------------------------------------------

    def _bad(self, key: str, want: str) -> MalformedOpError:
        return MalformedOpError(
            f"Operation {self.kind} (#{self.seq}) has no valid {key!r} ({want} expected) — "
            "the station that sent it needs an update; tell support."
        )

    def has(self, key: str) -> bool:
        return self.payload.get(key) is not None

    def id_of(self, key: str) -> uuid.UUID:
        value = self.payload.get(key)
        if isinstance(value, uuid.UUID):
            return value
        try:
            return uuid.UUID(str(value))
        except (TypeError, ValueError):
            raise self._bad(key, "an id") from None

    def opt_id(self, key: str) -> uuid.UUID | None:
        return self.id_of(key) if self.has(key) else None

    def int_of(self, key: str) -> int:
        value = self.payload.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(key, "a whole number")
        return value

    def opt_int(self, key: str) -> int | None:
        return self.int_of(key) if self.has(key) else None

    def str_of(self, key: str, default: str | None = None) -> str:
        value = self.payload.get(key, default)
        if not isinstance(value, str):
            raise self._bad(key, "text")
        return value

    def opt_str(self, key: str) -> str | None:
        return self.str_of(key) if self.has(key) else None

    def list_of(self, key: str) -> list[Any]:
        value = self.payload.get(key)
        if not isinstance(value, list):
            raise self._bad(key, "a list")
        return value
