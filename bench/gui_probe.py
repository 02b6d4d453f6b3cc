"""Runs in its own process, so start-up and memory are those of a real station.

    python -m bench.gui_probe start DB   prints READY when the sign-in screen accepts a scan
    python -m bench.gui_probe badge DB   the same, then a badge scanned at once: SIGNED_IN
    python -m bench.gui_probe scan DB N  packs N orders by scanner keystrokes; prints JSON

Scan-to-feedback is timed from the scan's terminating key event (Enter, sent at scanner speed
after the code's characters 1 ms apart) until both the screen is updated (the result shown and
the pack screen repainted) and the scan is committed (the worker, or the bench process, commits
before it answers).
The screen may show a predicted outcome before the commit; the clock stops at whichever of
the two comes last.
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


def badge(db: Path) -> None:
    """As ``start``, then a packer's badge scanned by keystrokes the moment the window is ready;
    prints READY, then SIGNED_IN once the pack screen shows: what a person who scans at once
    waits for what start-up left until after the window was shown."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from app.services.demo import DEMO_OPERATORS
    from bench.scanner_keys import ScannerKeys
    from ui.main import build_station
    from ui.theme import apply_theme

    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")
    window = build_station(_config(db))
    badge_code = next(op.badge for op in DEMO_OPERATORS if op.name == "Pat Packer")

    def ready() -> None:
        print(f"READY {(time.perf_counter() - _T0) * 1000:.1f}", flush=True)
        keys = ScannerKeys(window)
        keys.type_code(badge_code)
        keys.post(Qt.Key.Key_Return, "\r")

    def page_changed(_index: int) -> None:
        if window.stack.currentWidget() is not window.signin:
            print(f"SIGNED_IN {(time.perf_counter() - _T0) * 1000:.1f}", flush=True)
            app.quit()

    window.ready.connect(ready)
    window.stack.currentChanged.connect(page_changed)
    window.show()
    app.exec()
    window.shutdown()


def _rss_mb(pid: int | str = "self") -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def scan(db: Path, n_orders: int) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, Qt, QTimer
    from PySide6.QtGui import QKeyEvent
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

    def key(code: int, text: str, stamp: int) -> None:
        # Stamped as the windowing system stamps a scanner's keys: when the device sent them,
        # 1 ms apart, however late this process gets to deliver them on a busy machine.
        target = QApplication.focusWidget() or window
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, code, Qt.KeyboardModifier.NoModifier, text)
            event.setTimestamp(stamp)
            QApplication.sendEvent(target, event)

    def type_scan(code: str) -> int:
        """The code's keys at scanner speed; returns the stamp the terminator gets."""
        stamp = int(time.monotonic() * 1000)
        for ch in code:
            key(ord(ch.upper()), ch, stamp)
            stamp += 1
            deadline = time.perf_counter() + 0.001
            while time.perf_counter() < deadline:
                pass
        return stamp

    def wait_for(predicate, timeout_ms: int = 5000) -> None:  # type: ignore[no-untyped-def]
        loop_deadline = time.perf_counter() + timeout_ms / 1000
        while not predicate():
            if time.perf_counter() > loop_deadline:
                raise TimeoutError("the station did not answer the scan")
            QCoreApplication.processEvents()

    class FirstPaint(QObject):
        """When the banner first starts painting after the key: the feedback reaching the
        screen (before the commit when the outcome was predicted)."""

        at: float | None = None

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and self.at is None:
                self.at = time.perf_counter()
            return False

    painted = FirstPaint()
    pack.banner.installEventFilter(painted)

    def send(code: str) -> float:
        enter = type_scan(code)
        loop = QEventLoop()
        pack.scan_shown.connect(loop.quit)
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(10_000)
        shown = len(pack.feedback_ms)
        painted.at = None
        t0 = time.perf_counter()
        key(Qt.Key.Key_Return, "\r", enter)
        loop.exec()  # the GUI thread waits idle, as a station's does, while the worker works
        t1 = time.perf_counter()
        timer.stop()
        pack.scan_shown.disconnect(loop.quit)
        if len(pack.feedback_ms) != shown + 1:
            raise RuntimeError(
                f"scanning {code} showed {len(pack.feedback_ms) - shown} results "
                f"in {(t1 - t0) * 1000:.0f} ms: {pack.banner.message!r}"
            )
        # Paint what is still to paint (Qt paints dirty regions on the next update request).
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()
        t2 = time.perf_counter()
        first = ((painted.at or t2) - t0) * 1000
        parts.append(((t1 - t0) * 1000, (t2 - t1) * 1000, pack.core_ms[-1], first))
        return (t2 - t0) * 1000

    parts: list[tuple[float, float, float, float]] = []
    badge = next(op.badge for op in DEMO_OPERATORS if op.name == "Pat Packer")
    key(Qt.Key.Key_Return, "\r", type_scan(badge))
    wait_for(lambda: window.stack.currentWidget() is pack)
    # The bench process starts at sign-in, while the packer reaches for the first tote.
    remote = window.bench_process
    wait_for(lambda: remote is None or remote.ready, 30_000)
    times: list[float] = []
    item_parts: list[tuple[float, float, float, float]] = []
    predicted = 0
    for number in numbers:
        send(number)
        order = pack.order
        if order is None or order.number != number:
            raise RuntimeError(f"scanning {number} did not open it: {pack.banner.message!r}")
        for line in order.lines:
            for _ in range(line.ordered):
                times.append(send(line.gtin[1:]))
                item_parts.append(parts[-1])
                predicted += pack.predicted[-1]
                if pack.banner.kind != "good":
                    raise RuntimeError(f"{line.gtin[1:]} was not packed: {pack.banner.message!r}")
        if pack.order is None or not pack.order.all_packed:
            raise RuntimeError(f"{number} was not packed: {pack.banner.message!r}")
    # (Read before the event loop ends: the window shuts down, and its bench process, on quit.)
    bench_rss, bench_peak = _rss_mb(remote.pid) if remote is not None and remote.pid else (0, 0)
    QTimer.singleShot(0, app.quit)
    app.exec()
    rss, peak = _rss_mb()
    window.shutdown()
    print(
        json.dumps(
            {
                "parts": item_parts,
                "scans_ms": times,
                "predicted": predicted,
                "corrections": pack.corrections,
                "rss_mb": rss,
                "peak_rss_mb": peak,
                "bench_rss_mb": bench_rss,
                "bench_peak_rss_mb": bench_peak,
                "remote_scans": pack.remote_scans,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    mode, db = sys.argv[1], Path(sys.argv[2])
    if mode == "start":
        start(db)
    elif mode == "badge":
        badge(db)
    else:
        scan(db, int(sys.argv[3]))
