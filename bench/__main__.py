"""python -m bench [--json] [--products N] [--orders N]: every figure with its target."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import core_scan, counter, print_latency, slips
from bench.data import CACHE, fresh_copy
from bench.figures import Figure, percentile

ROOT = Path(__file__).resolve().parents[1]


def _probe(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-m", "bench.gui_probe", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_to_ready(products: int, orders: int, runs: int = 7) -> list[Figure]:
    # A station runs from compiled bytecode (pip compiles on install); this machine's
    # environment may forbid writing it (PYTHONDONTWRITEBYTECODE), so compile it first.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "app", "ui", "printing", "bench"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    times = []
    with tempfile.TemporaryDirectory(dir=CACHE) as d:
        db = fresh_copy(products, orders, Path(d))
        _probe("start", str(db)).communicate(timeout=120)  # migrations, station row, caches
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = _probe("start", str(db))
            assert proc.stdout is not None
            line = proc.stdout.readline()
            took = (time.perf_counter() - t0) * 1000
            _, err = proc.communicate(timeout=60)
            if not line.startswith("READY"):
                raise RuntimeError(f"the station did not start: {err[-2000:]}")
            times.append(took)
        # What is left until after the window is shown still counts for someone who scans a
        # badge the moment it is: start to the pack screen, the badge scanned at ready.
        signed_in = []
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = _probe("badge", str(db))
            assert proc.stdout is not None
            proc.stdout.readline()  # READY
            line = proc.stdout.readline()
            took = (time.perf_counter() - t0) * 1000
            _, err = proc.communicate(timeout=60)
            if not line.startswith("SIGNED_IN"):
                raise RuntimeError(f"the badge at ready did not sign in: {err[-2000:]}")
            signed_in.append(took)
    return [
        Figure(
            "station start to ready (median)",
            statistics.median(times),
            "ms",
            1500,
            note=f"{runs} runs, process start to sign-in screen ready, bytecode compiled",
        ),
        Figure("station start to ready (slowest)", max(times), "ms"),
        Figure(
            "  start to signed in, badge at ready (median)",
            statistics.median(signed_in),
            "ms",
            note=f"{runs} runs, the badge's keys posted when ready; until the pack screen shows",
        ),
    ]


def gui_scans(products: int, orders: int, n_orders: int) -> list[Figure]:
    from bench.floors import commit_floors

    with tempfile.TemporaryDirectory(dir=CACHE) as d:
        db = fresh_copy(products, orders, Path(d))
        out, err = _probe("scan", str(db), str(n_orders)).communicate(timeout=1200)
        if not out.strip():
            raise RuntimeError(f"the scan probe failed: {err[-3000:]}")
        result = json.loads(out.strip().splitlines()[-1])
        paced99, floors = commit_floors(Path(d))
    scans = result["scans_ms"]
    answered = [part[0] for part in result["parts"]]
    core = [part[2] for part in result["parts"]]
    first_paint = [part[3] for part in result["parts"]]
    p99 = percentile(scans, 99)
    return [
        Figure(
            "scan to feedback p50 (GUI)",
            percentile(scans, 50),
            "ms",
            note=f"{len(scans)} scans, key event → committed and repainted, both",
        ),
        Figure("scan to feedback p99 (GUI)", p99, "ms", 10),
        Figure(
            "  of which: feedback painting p99",
            percentile(first_paint, 99),
            "ms",
            note=f"banner repaint starts; {result['predicted']} of {len(scans)} shown "
            "before their commit",
        ),
        Figure(
            "  of which: commit answered p99",
            percentile(answered, 99),
            "ms",
            note=f"the committed result back on the GUI thread; {result['remote_scans']} of "
            f"{len(scans)} committed by the bench process",
        ),
        Figure("  of which: PackBench.scan p99 in the station", percentile(core, 99), "ms"),
        Figure(
            "predicted outcomes the commit corrected",
            result["corrections"],
            "",
            0,
            note="must stay 0 on a healthy bench",
        ),
        *floors,
        Figure("scan p99 / floor p99 at the scans' pace", p99 / paced99, "×", 20),
        Figure(
            "station RSS after packing",
            result["rss_mb"] + result["bench_rss_mb"],
            "MB",
            300,
            note=f"the station {result['rss_mb']:.0f} MB + its bench process "
            f"{result['bench_rss_mb']:.0f} MB",
        ),
        Figure("station peak RSS", result["peak_rss_mb"] + result["bench_peak_rss_mb"], "MB", 300),
    ]


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "target", "", "note")]
    for f in figures:
        mark = {True: "ok", False: "MISSED", None: ""}[f.met]
        rows.append((f.name, f"{f.value:,.2f} {f.unit}", f.target_text(), mark, f.note))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--products", type=int, default=1_000_000)
    p.add_argument("--orders", type=int, default=200_000)
    p.add_argument("--scan-orders", type=int, default=60, help="orders packed in the GUI run")
    args = p.parse_args(argv)
    CACHE.mkdir(exist_ok=True)
    figures: list[Figure] = []
    figures += gui_scans(args.products, args.orders, args.scan_orders)
    figures += core_scan.run(args.products, args.orders)
    figures += counter.run(args.products, args.orders)
    figures += start_to_ready(args.products, args.orders)
    figures += slips.run()
    figures += print_latency.run()
    # documents that print on labels/receipts; camera and decoders
    for optional in (
        "bench.labels",
        "bench.receipts",
        "bench.camera",
        "bench.picking",
        "bench.returns",
    ):
        try:
            module = __import__(optional, fromlist=["run"])
        except ImportError:
            continue
        figures += module.run()
    from bench import sync  # a PostgreSQL of its own (fsync on); its settings go to stderr

    figures += sync.run(args.products)
    if args.json:
        print(
            json.dumps(
                {
                    f.name: {
                        "value": round(f.value, 3),
                        "unit": f.unit,
                        "target": f.target,
                        "met": f.met,
                    }
                    for f in figures
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        print(
            f"Waystation benchmarks — {args.products:,} products, {args.orders:,} orders, "
            f"{os.cpu_count()} cores"
        )
        print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
