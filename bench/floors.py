"""Floors: what the same disk and libraries do with no Waystation code in the way."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bench.figures import Figure, percentile

# A scan's commit comes after the scanner typed its code (~14 keys 1 ms apart, then the
# terminator): the process and the disk were idle meanwhile.
SCAN_PACE_MS = 15.0


def sqlite_commit_ms(folder: Path, n: int = 400, *, pace_ms: float = 0.0) -> list[float]:
    """Latency of one bare SQLite commit (WAL, synchronous=FULL) of one small row.

    ``pace_ms``: each commit after that long a pause, as the scans of a GUI figure come. On
    these virtual machines a commit after a pause of 5 ms or more costs two to three times one
    made straight after another (the fsync wakes the idle disk path: 0.5–0.65 ms p50 against
    0.2 ms), so a figure paced by a scanner's keys stands on the paced floor, and one of
    back-to-back scans on the other."""
    db = folder / "floor.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    out = []
    for i in range(n):
        if pace_ms:
            time.sleep(pace_ms / 1000)
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", (f"scan {i}",))
        conn.execute("COMMIT")
        out.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return out


def commit_floors(folder: Path) -> tuple[float, list[Figure]]:
    """A GUI scan figure's floors: bare commits back to back and at the scans' pace; the paced
    one's p99 (what the figure is judged against) and both as figures."""
    back_to_back = percentile(sqlite_commit_ms(folder), 99)
    paced = percentile(sqlite_commit_ms(folder, 200, pace_ms=SCAN_PACE_MS), 99)
    return paced, [
        Figure("floor: bare SQLite FULL commit p99, back to back", back_to_back, "ms"),
        Figure(
            "floor: bare SQLite FULL commit p99, at the scans' pace",
            paced,
            "ms",
            note=f"one commit per {SCAN_PACE_MS:g} ms, as a scanner types a code between scans",
        ),
    ]
