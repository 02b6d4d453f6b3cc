"""Runs in its own process: a returns clerk signs in at the returns desk by a badge scan and
receives parcels by scanner keystrokes: the parcel's tracking number (which opens an
unannounced return) and each item in it. Each scan is timed from its terminating key event to
the desk screen updated and repainted. Between parcels the units are graded and the parcel is
booked in, untimed, so the next parcel starts on a clean desk.

    python -m bench.returns_probe DB PARCELS [SEED]
        prints JSON: per scan (ms, kind, shown_ms), the screen's own feedback_ms and the
        worker's round trips

DB is prepared as bench/returns.py prepares it (bench/returns_data.py). The scanner's keys are
queued with their own timestamps 1 ms apart, as the windowing system delivers them; the clock
starts when the terminating Enter is delivered. ``shown_ms`` is the part up to the screen's
``scan_shown`` (the result is on the widgets), the rest is painting what changed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run(db: Path, parcels: int, seed: int = 7) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.domain.returns import Condition
    from bench.picking_probe import _worker_round_trips
    from bench.returns_data import CLERK_BADGE, codes, config, item_codes
    from bench.scanner_keys import ScannerKeys
    from ui.main import build_station
    from ui.theme import apply_theme

    todo = [(t, item_codes(db, t)) for t in dict.fromkeys(codes(db, parcels, seed)["tracking"])]
    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")
    window = build_station(config(db))
    window.show()
    QTest.qWaitForWindowExposed(window)
    screen = window.returns
    keys = ScannerKeys(window)
    post, type_code = keys.post, keys.type_code

    def wait_for(signal: Any, what: str, timeout_ms: int = 10_000) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(timeout_ms)
        loop.exec()  # the GUI thread waits idle, as a station's does, while the worker works
        signal.disconnect(loop.quit)
        if not timer.isActive():
            raise TimeoutError(f"the returns desk did not answer: {what}")
        timer.stop()

    def until(done: Callable[[], bool], what: str) -> None:
        deadline = time.perf_counter() + 10
        while not done():
            if time.perf_counter() > deadline:
                raise TimeoutError(what)
            QCoreApplication.processEvents()

    def send(code: str) -> tuple[float, float]:
        type_code(code)
        shown = len(screen.feedback_ms)
        t0 = time.perf_counter()
        post(Qt.Key.Key_Return, "\r")
        wait_for(screen.scan_shown, code)
        t1 = time.perf_counter()
        # Paint what is still to paint (Qt paints dirty regions on the next update request).
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()
        t2 = time.perf_counter()
        if len(screen.feedback_ms) != shown + 1 or screen.banner.kind != "good":
            raise RuntimeError(f"scanning {code}: {screen.banner.message!r}")
        return (t2 - t0) * 1000, (t1 - t0) * 1000

    type_code(CLERK_BADGE)
    post(Qt.Key.Key_Return, "\r")
    until(lambda: window.stack.currentWidget() is screen, "the clerk was not signed in")
    scans: list[tuple[float, str, float]] = []
    for tracking, items in todo:
        if not items:
            continue
        total, shown = send(tracking)
        scans.append((total, "parcel", shown))
        for code in items:
            total, shown = send(code)
            scans.append((total, "item", shown))
        # Booked in as a clerk does it, untimed: grade each unit, then complete.
        for _unit in range(len(items)):
            screen.grade(Condition.NEW_SEALED)
            wait_for(screen.action_done, "grading")
        screen.complete()
        wait_for(screen.action_done, "completing")
        if screen.received is None or screen.banner.kind != "good":
            raise RuntimeError(f"{tracking} was not booked in: {screen.banner.message!r}")
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()
    hops = _worker_round_trips(window.worker)
    QTimer.singleShot(0, app.quit)
    app.exec()
    window.shutdown()
    print(
        json.dumps({"scans": scans, "feedback_ms": screen.feedback_ms, "worker_hop_ms": hops}),
        flush=True,
    )


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    run(Path(sys.argv[1]), int(sys.argv[2]), *(int(a) for a in sys.argv[3:4]))
