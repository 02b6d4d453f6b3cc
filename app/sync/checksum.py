"""A checksum of what a station holds of the shared state, and of what the central database
holds for that station's warehouse, each with the feed position it stands at.

When a station has no operation waiting and its cursor equals the warehouse's feed head, the
two must be equal: that is what "the station converged" means. Rows are taken the way the feed
carries them (:func:`app.sync.feed.encode`: the station's own counters left out, ids as text,
times in UTC), hashed one by one, and the hashes combined in sorted order, so neither database's
collation nor row order matters.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, Table, select, text

from app.store.models import Base
from app.sync import feed
from app.sync.snapshot import ROWS


@dataclass(frozen=True, slots=True)
class Checksum:
    position: int
    tables: dict[str, tuple[int, str]] = field(default_factory=dict)  # rows, sha256

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.tables):
            rows, digest = self.tables[name]
            h.update(f"{name}:{rows}:{digest};".encode())
        return h.hexdigest()

    def differences(self, other: Checksum) -> list[str]:
        """Tables whose rows differ, in words (for a failing test's message)."""
        out = []
        if self.position != other.position:
            out.append(f"position {self.position} ≠ {other.position}")
        for name in sorted(set(self.tables) | set(other.tables)):
            mine, theirs = self.tables.get(name), other.tables.get(name)
            if mine != theirs:
                out.append(
                    f"{name}: {mine[0] if mine else 0} rows ≠ {theirs[0] if theirs else 0} rows"
                )
        return out


def _table_digest(conn: Connection, table: Table, where: str) -> tuple[int, str]:
    t = table.alias("t")
    query = select(*[t.c[c.name] for c in table.columns])
    if where:
        query = query.where(text(where))
    digests = []
    for row in conn.execute(query):
        encoded = feed.encode(table, row)
        blob = json.dumps(encoded, sort_keys=True, separators=(",", ":"), default=str)
        digests.append(hashlib.sha256(blob.encode()).digest())
    digests.sort()
    h = hashlib.sha256()
    for d in digests:
        h.update(d)
    return len(digests), h.hexdigest()


def station_view(engine: Engine) -> Checksum:
    """What a station's database holds of the shared state, at its cursor."""
    with engine.connect() as conn:
        cursor = conn.scalar(text("SELECT cursor FROM sync_state WHERE id = 1"))
        tables = {name: _table_digest(conn, Base.metadata.tables[name], "") for name in ROWS}
        conn.rollback()
    return Checksum(int(cursor or 0), tables)


def central_view(engine: Engine, warehouse_id: uuid.UUID) -> Checksum:
    """What the central database holds for one warehouse's stations, at its feed head, read in
    one REPEATABLE READ transaction."""
    literal = f"'{warehouse_id}'"
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        head = conn.scalar(
            text('SELECT "next" FROM feed_head WHERE warehouse_id = :w'), {"w": warehouse_id}
        )
        tables = {
            name: _table_digest(conn, Base.metadata.tables[name], where.format(w=literal))
            for name, where in ROWS.items()
        }
        conn.rollback()
    return Checksum(int(head) - 1 if head else 0, tables)
