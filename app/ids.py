"""Entity ids: UUIDv7, made where the entity is born (a station can create one offline)."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    """A new time-ordered UUIDv7 (index-friendly: new rows land at the end of the B-tree)."""
    u = uuid6.uuid7()
    return uuid.UUID(int=u.int)
