"""The shop counter on the big database (1,000,000 products): scan to basket line (normalise,
resolve, price, write the line and the scan event, read the basket back, commit), beside the
floor of one bare SQLite commit; and a whole checkout of a 50-line basket — payment, completion
(receipt number, stock movements, outbox operation), rendering the receipt and sending it —
until the last byte is read at a raw printer socket.

``python -m bench.counter [--products N] [--orders N]`` runs it alone.
"""

from __future__ import annotations

import argparse
import random
import socket
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from app.bootstrap import bootstrap
from app.config import PrinterConfig, StationConfig
from app.domain.receipts import TenderKind
from app.services import auth
from app.services.counter.till import Till
from app.store.models import Product
from bench.data import CACHE, fresh_copy
from bench.figures import Figure, percentile
from bench.floors import sqlite_commit_ms

LINES = 50


class _Printer:
    """A raw receipt-printer port: records when each job's last byte arrived."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.done: list[tuple[float, int]] = []  # (perf_counter at the last byte, bytes)
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            n = 0
            with conn:
                while chunk := conn.recv(65536):
                    n += len(chunk)
            with self._lock:
                self.done.append((time.perf_counter(), n))

    def wait(self, jobs: int, timeout: float = 30.0) -> tuple[float, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.done) >= jobs:
                    return self.done[jobs - 1]
            time.sleep(0.0005)
        raise RuntimeError("the receipt never reached the printer socket")

    def close(self) -> None:
        self.sock.close()


def _codes(sessions: object, n: int, seed: int = 11) -> list[str]:
    """Unit GTINs (as EAN-13, as printed) of products spread over the whole catalogue."""
    from sqlalchemy.orm import Session, sessionmaker

    assert isinstance(sessions, sessionmaker)
    rng = random.Random(seed)
    s: Session
    out: list[str] = []
    with sessions() as s:
        last = int(str(s.scalar(select(func.max(Product.sku)))).split("-")[1])
        while len(out) < n:
            sku = f"NW-{rng.randint(1, last):07d}"
            gtin = s.scalar(select(Product.gtin).where(Product.sku == sku))
            if gtin:
                out.append(gtin[1:])
    return out


def run(products: int, orders: int, scans: int = 1500, checkouts: int = 15) -> list[Figure]:
    from printing.queue import print_pending

    printer = _Printer()
    with tempfile.TemporaryDirectory(dir=CACHE) as d:
        db = fresh_copy(products, orders, Path(d))
        raw = PrinterConfig(kind="socket", host="127.0.0.1", port=printer.port, paper="80mm")
        ctx = bootstrap(
            StationConfig(
                station_name="TILL-B",
                database_url=f"sqlite:///{db}",
                sounds=False,
                printers={"receipt": raw},
            )
        )
        with ctx.uow() as uow:
            clerk = auth.sign_in_badge(uow, "OP-1004")
        till = Till(ctx.uow, clerk)
        till.start()
        till.open_session({5000: 4})
        codes = _codes(ctx.sessions, scans + checkouts * LINES)
        print_pending(ctx)  # python-escpos and the code pages load once, not in a checkout

        scan_ms: list[float] = []
        for i, code in enumerate(codes[:scans]):
            result = till.scan(code)
            assert result.ok, result.message
            scan_ms.append(result.elapsed_ms)
            if (i + 1) % LINES == 0:  # baskets of realistic size
                basket = result.basket
                assert basket is not None
                till.pay(TenderKind.CASH, basket.total_minor)
                till.complete()
                print_pending(ctx)
        printer.wait(scans // LINES)

        checkout_ms: list[float] = []
        receipt_bytes = 0
        jobs = scans // LINES
        rest = codes[scans:]
        for n in range(checkouts):
            for code in rest[n * LINES : (n + 1) * LINES]:
                last = till.scan(code)
            basket = last.basket
            assert basket is not None
            assert len(basket.lines) >= LINES - 2  # a rare repeat adds to its line
            t0 = time.perf_counter()
            till.pay(TenderKind.CASH, basket.total_minor + 1000)
            till.complete()
            assert print_pending(ctx) == 1
            jobs += 1
            at, receipt_bytes = printer.wait(jobs)
            checkout_ms.append((at - t0) * 1000)
        floor = sqlite_commit_ms(Path(d))
        ctx.dispose()
    printer.close()
    p99, f99 = percentile(scan_ms, 99), percentile(floor, 99)
    return [
        Figure(
            "counter scan to basket line p50",
            percentile(scan_ms, 50),
            "ms",
            note=f"{len(scan_ms)} scans, {products:,} products, Till.scan with its commit",
        ),
        Figure("counter scan to basket line p99", p99, "ms", 10.0),
        Figure("floor: bare SQLite FULL commit p99 (counter run)", f99, "ms"),
        Figure("counter scan p99 / floor p99", p99 / f99, "×", 20.0),
        Figure(
            f"checkout of a {LINES}-line basket to receipt bytes at the printer (median)",
            percentile(checkout_ms, 50),
            "ms",
            note=f"{checkouts} checkouts: pay, complete, render ESC/POS, last byte at the socket"
            f" ({receipt_bytes:,} bytes)",
        ),
        Figure(
            f"checkout of a {LINES}-line basket to receipt bytes at the printer (slowest)",
            max(checkout_ms),
            "ms",
        ),
    ]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.counter", description=__doc__)
    p.add_argument("--products", type=int, default=1_000_000)
    p.add_argument("--orders", type=int, default=200_000)
    args = p.parse_args()
    CACHE.mkdir(exist_ok=True)
    for figure in run(args.products, args.orders):
        print(f"{figure.name:72} {figure.value:9.2f} {figure.unit:3} {figure.target_text()}")


if __name__ == "__main__":
    main()
