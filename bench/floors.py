"""Floors: what the same disk and libraries do with no Waystation code in the way."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def sqlite_commit_ms(folder: Path, n: int = 400) -> list[float]:
    """Latency of one bare SQLite commit (WAL, synchronous=FULL) of one small row."""
    db = folder / "floor.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", (f"scan {i}",))
        conn.execute("COMMIT")
        out.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return out
