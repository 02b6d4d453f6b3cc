"""The returns desk on the big database: every one of its 200,000 orders delivered, one package
each with a tracking number, every order line packed with a serial number
(bench/returns_data.py).

- Candidate orders from a scanned code (tracking number, serial, product GTIN, order number),
  through the desk's own look-up in a unit of work, as the desk runs it (p99 ≤ 20 ms).
- Desk scan to feedback on the station (GUI): a returns clerk signs in by a badge scan and
  receives parcels on the returns desk screen by scanner keystrokes, the tracking number (which
  opens an unannounced return) and each item; each scan timed from the key event of its
  terminator to the screen updated and repainted (p99 ≤ 10 ms). Its own process
  (bench/returns_probe.py), on a fresh copy of the database.
- The desk's core work alone, for the same parcels: ``ReturnDesk.scan`` plus the state the
  screen shows, on the calling thread, no screen and no thread hand-off.
- Booking a parcel in (one transaction, stock movements, operations), for reference.

Beside the floors of one bare SQLite ``synchronous=FULL`` commit on the same disk and of a
no-op job through the station's database worker.

``python -m bench.returns [--products N] [--orders N]`` runs it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.bootstrap import bootstrap
from app.domain.returns import Condition
from app.services import auth
from app.services.returns import lookup
from app.services.returns.desk import ReturnDesk
from bench.data import CACHE, fresh_copy
from bench.figures import Figure, percentile
from bench.floors import sqlite_commit_ms
from bench.returns_data import CLERK_BADGE, codes, config, deliver, item_codes

ROOT = Path(__file__).resolve().parents[1]


def run(
    products: int = 1_000_000,
    orders: int = 200_000,
    lookups: int = 500,
    parcels: int = 120,
    seed: int = 5,
) -> list[Figure]:
    figures = _core(products, orders, lookups, parcels, seed)
    with tempfile.TemporaryDirectory(dir=CACHE) as d:
        figures += gui_scans(products, orders, parcels, seed, Path(d))
    return figures


def _core(products: int, orders: int, lookups: int, parcels: int, seed: int) -> list[Figure]:
    with tempfile.TemporaryDirectory(dir=CACHE) as d:
        db = fresh_copy(products, orders, Path(d))
        deliver(db)
        scanned = codes(db, lookups, seed)
        ctx = bootstrap(config(db))
        with ctx.uow() as uow:
            clerk = auth.sign_in_badge(uow, CLERK_BADGE)
        by_kind: dict[str, list[float]] = {}
        for kind, values in scanned.items():
            for code in values:
                t0 = time.perf_counter()
                with ctx.uow(clerk) as uow:
                    found = lookup.find_candidates(uow, code)
                by_kind.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
                assert found, (kind, code)
        every = [ms for values in by_kind.values() for ms in values]

        desk = ReturnDesk(lambda: ctx.uow(clerk))
        scan_ms: list[float] = []
        parcel_ms: list[float] = []
        book_ms: list[float] = []
        for tracking in scanned["tracking"][:parcels]:
            items = item_codes(db, tracking)
            if not items:
                continue
            for code in [tracking, *items]:
                t0 = time.perf_counter()
                result = desk.scan(code)
                desk.state()
                took = (time.perf_counter() - t0) * 1000
                scan_ms.append(took)
                if code == tracking:
                    parcel_ms.append(took)
                assert result.ok, result.message
            for u in desk.units:
                desk.grade(u.key, Condition.NEW_SEALED)
            t0 = time.perf_counter()
            desk.complete()
            book_ms.append((time.perf_counter() - t0) * 1000)
        floor = sqlite_commit_ms(Path(d))
        ctx.dispose()
    f99 = percentile(floor, 99)
    figures = [
        Figure(
            "returns: candidate orders from a scan p50",
            percentile(every, 50),
            "ms",
            note=f"{len(every)} look-ups in {orders:,} delivered orders, in a unit of work",
        ),
        Figure("returns: candidate orders from a scan p99", percentile(every, 99), "ms", 20),
    ]
    figures += [
        Figure(f"  by {kind} p99", percentile(values, 99), "ms") for kind, values in by_kind.items()
    ]
    figures += [
        Figure(
            "returns desk core: ReturnDesk.scan + state p50 (no screen)",
            percentile(scan_ms, 50),
            "ms",
            note=f"{len(scan_ms)} scans: parcel (opens the return) and items, on this thread",
        ),
        Figure(
            "returns desk core: ReturnDesk.scan + state p99 (no screen)",
            percentile(scan_ms, 99),
            "ms",
        ),
        Figure(
            "  of which: the parcel scan (find and open the order) p99",
            percentile(parcel_ms, 99),
            "ms",
        ),
        Figure(
            "returns desk: booking a parcel in p50",
            percentile(book_ms, 50),
            "ms",
            note=f"{len(book_ms)} parcels: RMA made, units, stock movements, operations, commit",
        ),
        Figure("floor: bare SQLite FULL commit p99 (returns run)", f99, "ms"),
    ]
    return figures


def gui_scans(products: int, orders: int, parcels: int, seed: int, folder: Path) -> list[Figure]:
    """The same parcels received on the station's returns desk screen, by scanner keystrokes,
    in a process of its own (bench/returns_probe.py)."""
    db = fresh_copy(products, orders, folder)
    deliver(db)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.returns_probe", str(db), str(parcels), str(seed)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"the returns desk probe failed: {proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    scans = [ms for ms, _kind, _shown in result["scans"]]
    parcel = [ms for ms, kind, _shown in result["scans"] if kind == "parcel"]
    items = [ms for ms, kind, _shown in result["scans"] if kind == "item"]
    shown = [ms for _ms, _kind, ms in result["scans"]]
    own = result["feedback_ms"]
    hops = result["worker_hop_ms"]
    return [
        Figure(
            "returns desk: scan to feedback p50 (GUI)",
            percentile(scans, 50),
            "ms",
            note=f"{len(scans)} scans over {len(parcel)} parcels: key event → desk screen "
            "updated and repainted",
        ),
        Figure("returns desk: scan to feedback p99 (GUI)", percentile(scans, 99), "ms", 10),
        Figure(
            "  parcel scans p99 (find and open the order)",
            percentile(parcel, 99),
            "ms",
            note=f"p50 {percentile(parcel, 50):.2f} ms",
        ),
        Figure(
            "  item scans p99",
            percentile(items, 99),
            "ms",
            note=f"p50 {percentile(items, 50):.2f} ms",
        ),
        Figure(
            "  of which: the result on the screen's widgets p99",
            percentile(shown, 99),
            "ms",
            note="key event → scan_shown; the rest is painting",
        ),
        Figure(
            "  of which: the screen's own clock p99",
            percentile(own, 99),
            "ms",
            note="handle_scan → result shown (feedback_ms)",
        ),
        Figure(
            "floor: a no-op job through the database worker p99 (returns run)",
            percentile(hops, 99),
            "ms",
            note=f"p50 {percentile(hops, 50):.2f} ms: the thread hand-offs every scan pays",
        ),
    ]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.returns", description=__doc__)
    p.add_argument("--products", type=int, default=1_000_000)
    p.add_argument("--orders", type=int, default=200_000)
    args = p.parse_args()
    CACHE.mkdir(exist_ok=True)
    from bench.__main__ import table

    print(table(run(args.products, args.orders)))


if __name__ == "__main__":
    main()
