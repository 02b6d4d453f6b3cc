"""The ``pick_list`` entity of the change feed: an aggregate of the ``pick_list`` row and its
``allocation`` rows (the stops, which are also the reservations). Loading it replaces the
list's allocations, so a stop the hub re-did or dropped disappears from the station too."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from app.store.models import Allocation, PickList

Row = dict[str, Any]
LIST: Table = PickList.__table__  # type: ignore[assignment]
ALLOC: Table = Allocation.__table__  # type: ignore[assignment]


def serialise(conn: Connection, list_id: uuid.UUID) -> Row | None:
    from app.sync.feed import encode

    row = conn.execute(select(LIST).where(LIST.c.id == list_id)).first()
    if row is None:
        return None
    stops = conn.execute(select(ALLOC).where(ALLOC.c.pick_list_id == list_id).order_by(ALLOC.c.id))
    return {"pick_list": encode(LIST, row), "allocations": [encode(ALLOC, r) for r in stops]}


def load(conn: Connection, list_id: uuid.UUID, payload: Row | None) -> None:
    from app.sync.feed import _upsert, decode

    conn.execute(delete(ALLOC).where(ALLOC.c.pick_list_id == list_id))
    if payload is None:
        conn.execute(delete(LIST).where(LIST.c.id == list_id))
        return
    _upsert(conn, LIST, [decode(LIST, payload["pick_list"])], replace=True)
    rows = [decode(ALLOC, r) for r in payload.get("allocations", [])]
    if rows:
        conn.execute(insert(ALLOC), rows)
