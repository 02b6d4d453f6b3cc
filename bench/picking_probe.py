"""Runs in its own process: a picker walks cluster pick lists on the station by scanner
keystrokes, and each scan is timed from its terminating key event to the picker screen
updated and repainted (a tote scan also committed: the worker commits before it answers).

    python -m bench.picking_probe DB LISTS   prints JSON: per scan (ms, step, recorded)

The scanner's keys are queued with their own timestamps 1 ms apart, as the windowing system
delivers them; the clock starts when the terminating Enter is delivered.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def _config(db: Path) -> Any:
    from app.config import PrinterConfig, StationConfig

    return StationConfig(
        database_url=f"sqlite:///{db}",
        sounds=False,
        printers={"packing_slip": PrinterConfig(kind="folder", folder=str(db.parent / "printed"))},
    )


def _release(db: Path, lists: int) -> list[str]:
    from app.bootstrap import bootstrap
    from app.domain.pick_docs import PickKind
    from app.domain.picking import Limits
    from app.services import auth
    from app.services.picking.work import PickWorkRequest, create_pick_work

    ctx = bootstrap(_config(db))
    try:
        with ctx.uow() as uow:
            supervisor = auth.sign_in_badge(uow, "OP-9001")
        req = PickWorkRequest(kind=PickKind.CLUSTER, limits=Limits(max_orders=8), max_lists=lists)
        with ctx.uow(supervisor) as uow:
            work = create_pick_work(uow, req)
        return [x.number for x in work.lists]
    finally:
        ctx.dispose()


def _code(stop: Any) -> str:
    if stop.needs_lot or stop.needs_expiry or stop.lot:
        y, m, d = (stop.expiry or "2099-12-31").split("-")
        return f"01{stop.gtin}17{y[2:]}{m}{d}10{stop.lot or 'LOT1'}"
    return str(stop.gtin)[1:]


def run(db: Path, lists: int) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.services.picking.session import Step
    from bench.scanner_keys import ScannerKeys
    from ui.main import build_station
    from ui.theme import apply_theme

    numbers = _release(db, lists)
    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")
    window = build_station(_config(db))
    window.show()
    QTest.qWaitForWindowExposed(window)
    pick = window.pick
    keys = ScannerKeys(window)
    post = keys.post

    def send(code: str) -> float:
        keys.type_code(code)
        loop = QEventLoop()
        pick.scan_shown.connect(loop.quit)
        QTimer.singleShot(5000, loop.quit)
        t0 = time.perf_counter()
        post(Qt.Key.Key_Return, "\r")
        loop.exec()  # the GUI thread waits idle, as a station's does, while the worker works
        pick.scan_shown.disconnect(loop.quit)
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()
        return (time.perf_counter() - t0) * 1000

    send("OP-1002")
    deadline = time.perf_counter() + 10
    while window.stack.currentWidget() is not pick:
        if time.perf_counter() > deadline:
            raise RuntimeError("the picker was not signed in")
        QCoreApplication.processEvents()
    scans: list[tuple[float, str, bool]] = []
    tote = 0
    for number in numbers:
        send(number)
        while pick.step is Step.TOTES:
            tote += 1
            send(f"T-{tote:04d}")
        while pick.step is not Step.DONE:
            view, step = pick.view, pick.step
            assert view is not None
            stop = view.next_stop
            assert stop is not None
            if step is Step.BIN:
                scans.append((send(stop.bin), "bin", False))
            elif step is Step.ITEM:
                scans.append((send(_code(stop)), "item", False))
            else:
                scans.append((send(view.tote_of(stop.slot) or ""), "tote", True))
            if pick.banner.kind != "good":
                raise RuntimeError(f"a scan was refused: {pick.banner.message}")
    hops = _worker_round_trips(window.worker)
    QTimer.singleShot(0, app.quit)
    app.exec()
    window.shutdown()
    print(
        json.dumps(
            {
                "scans": scans,
                "core_ms": pick.core_ms,
                "shown_ms": pick.feedback_ms,
                "worker_hop_ms": hops,
            }
        ),
        flush=True,
    )


def _worker_round_trips(worker: Any, n: int = 300) -> list[float]:
    """A floor for any scan on a screen: a job that does nothing, sent to the database worker
    and its result delivered back on the GUI thread (two thread hand-offs on this machine)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from ui.ops import DbOp

    out: list[float] = []
    for _ in range(n):
        loop = QEventLoop()
        QTimer.singleShot(5000, loop.quit)
        t0 = time.perf_counter()
        DbOp(worker, lambda: None).success(lambda _r, quit=loop.quit: quit()).run()
        loop.exec()
        out.append((time.perf_counter() - t0) * 1000)
    return out


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    run(Path(sys.argv[1]), int(sys.argv[2]))
