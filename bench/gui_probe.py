"""Runs in its own process, so start-up and memory are those of a real station.

    python -m bench.gui_probe start DB   prints READY when the sign-in screen accepts a scan
    python -m bench.gui_probe scan DB N  packs N orders by scanner keystrokes; prints JSON

Scan-to-feedback is timed from the scan's terminating key event (Enter, sent at scanner speed
after the code's characters 1 ms apart) to the screen updated (the result shown and the pack
screen repainted) with the scan committed (the worker commits before it answers).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()


def _config(db: Path):  # type: ignore[no-untyped-def]
    from app.config import PrinterConfig, StationConfig

    return StationConfig(
        database_url=f"sqlite:///{db}",
        sounds=False,
        printers={"packing_slip": PrinterConfig(kind="folder", folder=str(db.parent / "printed"))},
    )


def start(db: Path) -> None:
    """The same steps as ui.main.main, then READY once the window says it is ready."""
    from PySide6.QtWidgets import QApplication

    from ui.main import build_station
    from ui.theme import apply_theme

    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")
    window = build_station(_config(db))

    def ready() -> None:
        print(f"READY {(time.perf_counter() - _T0) * 1000:.1f}", flush=True)
        app.quit()

    window.ready.connect(ready)
    window.show()
    app.exec()
    window.shutdown()


def _rss_mb() -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def scan(db: Path, n_orders: int) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.services.demo import DEMO_OPERATORS
    from bench.core_scan import pick_orders
    from ui.main import build_station
    from ui.theme import apply_theme

    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")
    window = build_station(_config(db))
    window.show()
    QTest.qWaitForWindowExposed(window)
    pack = window.pack
    numbers = pick_orders(window.ctx.sessions, n_orders, seed=11)

    def type_scan(code: str) -> None:
        target = QApplication.focusWidget() or window
        for ch in code:
            QTest.keyClick(target, ch)
            deadline = time.perf_counter() + 0.001
            while time.perf_counter() < deadline:
                pass

    def wait_for(predicate, timeout_ms: int = 5000) -> None:  # type: ignore[no-untyped-def]
        loop_deadline = time.perf_counter() + timeout_ms / 1000
        while not predicate():
            if time.perf_counter() > loop_deadline:
                raise TimeoutError("the station did not answer the scan")
            QCoreApplication.processEvents()

    def send(code: str) -> float:
        type_scan(code)
        target = QApplication.focusWidget() or window
        loop = QEventLoop()
        pack.scan_shown.connect(loop.quit)
        QTimer.singleShot(5000, loop.quit)
        t0 = time.perf_counter()
        QTest.keyClick(target, Qt.Key.Key_Return)
        loop.exec()  # the GUI thread waits idle, as a station's does, while the worker works
        t1 = time.perf_counter()
        pack.scan_shown.disconnect(loop.quit)
        # Paint what the result changed (Qt paints dirty regions on the next update request).
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()
        t2 = time.perf_counter()
        parts.append(((t1 - t0) * 1000, (t2 - t1) * 1000, pack.core_ms[-1]))
        return (t2 - t0) * 1000

    parts: list[tuple[float, float, float]] = []
    badge = next(op.badge for op in DEMO_OPERATORS if op.name == "Pat Packer")
    type_scan(badge)
    QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Return)
    wait_for(lambda: window.stack.currentWidget() is pack)
    times: list[float] = []
    item_parts: list[tuple[float, float, float]] = []
    for number in numbers:
        send(number)
        order = pack.order
        if order is None or order.number != number:
            raise RuntimeError(f"scanning {number} did not open it")
        for line in order.lines:
            for _ in range(line.ordered):
                times.append(send(line.gtin[1:]))
                item_parts.append(parts[-1])
        assert pack.order is not None
        assert pack.order.all_packed
    QTimer.singleShot(0, app.quit)
    app.exec()
    rss, peak = _rss_mb()
    window.shutdown()
    print(
        json.dumps({"parts": item_parts, "scans_ms": times, "rss_mb": rss, "peak_rss_mb": peak}),
        flush=True,
    )


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    mode, db = sys.argv[1], Path(sys.argv[2])
    if mode == "start":
        start(db)
    else:
        scan(db, int(sys.argv[3]))
