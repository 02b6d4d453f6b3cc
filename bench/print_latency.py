"""From "order complete" to the packing slip's bytes at the printer socket: the use case, the
print worker's run (render + send), a raw TCP printer of the benchmark's own."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

from app.bootstrap import bootstrap
from app.config import PrinterConfig, StationConfig
from app.services import auth
from app.services.bench import PackBench
from app.services.demo import create_demo_data
from bench.figures import Figure, percentile
from printing.queue import print_pending


class _Printer:
    """Accepts jobs; notes when each job's first byte arrived."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.first_byte: list[float] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                first = True
                while conn.recv(65536):
                    if first:
                        self.first_byte.append(time.perf_counter())
                        first = False

    def close(self) -> None:
        self.sock.close()


def run(n_orders: int = 30) -> list[Figure]:
    printer = _Printer()
    times: list[float] = []
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "station.db"
        config = StationConfig(
            database_url=f"sqlite:///{db}",
            sounds=False,
            printers={
                "packing_slip": PrinterConfig(kind="socket", host="127.0.0.1", port=printer.port)
            },
        )
        ctx = bootstrap(config)
        create_demo_data(ctx.engine, products=2000, orders=n_orders * 2, seed=3)
        with ctx.uow() as uow:
            op = auth.sign_in_badge(uow, "OP-1001")
        bench = PackBench(ctx.uow, op)
        for i in range(n_orders):
            opened = bench.scan(f"SO-{100001 + i}")
            if (
                not opened.ok
                or opened.order is None
                or any(ln.needs_lot for ln in opened.order.lines)
            ):
                bench.order = None
                continue
            for line in opened.order.lines:
                bench.scan(line.gtin, qty=line.ordered)
            bench.close_package(1, 900, "M-BOX 30×25×15")
            before = len(printer.first_byte)
            t0 = time.perf_counter()
            bench.complete()
            print_pending(ctx)  # what the print worker does when the bench kicks it
            deadline = time.perf_counter() + 5
            while len(printer.first_byte) == before and time.perf_counter() < deadline:
                time.sleep(0.0005)
            if i:  # the first order warms up reportlab and its fonts: not timed
                times.append((printer.first_byte[-1] - t0) * 1000)
        ctx.dispose()
    printer.close()
    return [
        Figure(
            "order complete → slip bytes at printer p50",
            percentile(times, 50),
            "ms",
            note=f"{len(times)} orders, raw TCP printer",
        ),
        Figure("order complete → slip bytes at printer p99", percentile(times, 99), "ms"),
    ]
