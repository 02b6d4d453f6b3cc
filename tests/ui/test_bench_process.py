"""The pack bench with its own process, by simulated scanner keystrokes: what the packer does
after a scan waits for that scan's answer, a scan whose answer never comes is counted once, the
process comes back by itself, and it ends with the station."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.bootstrap import StationContext
from app.services.demo import DEMO_OPERATORS
from app.store.models import PackedUnit
from tests.ui.conftest import find_order, scan, type_keys
from ui.main_window import MainWindow

pytestmark = [
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
    pytest.mark.parametrize("ctx", [True], indirect=True, ids=["bench-process"]),
]

PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")


def signed_in(qtbot: QtBot, window: MainWindow) -> int:
    """Sign the packer in and wait for the bench process; its pid."""
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pack, timeout=5000)
    remote = window.bench_process
    assert remote is not None
    qtbot.waitUntil(lambda: remote.ready, timeout=30_000)
    assert remote.pid is not None
    return remote.pid


def packed_units(ctx: StationContext, order_id: object) -> list[bool]:
    """The ``undone`` flag of each unit packed into the order, oldest first."""
    with ctx.sessions() as s:
        rows = s.scalars(
            select(PackedUnit.undone).where(PackedUnit.order_id == order_id).order_by(PackedUnit.at)
        )
        return list(rows)


def test_a_scan_whose_answer_never_came_is_counted_once_and_undone_after_it(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window, pack = station, station.pack
    pid = signed_in(qtbot, window)
    remote = window.bench_process
    assert remote is not None
    order = find_order(ctx, lines=3, units=5)
    assert order is not None
    scan(qtbot, window, order.number)
    assert pack.banner.kind == "good", pack.banner.message

    # The process stops answering (stopped, then killed) with the item scan sent to it.
    os.kill(pid, signal.SIGSTOP)
    answered = len(pack.feedback_ms)
    type_keys(order.lines[0].gtin)
    qtbot.waitUntil(lambda: remote.busy, timeout=5000)
    # The packer sees the scan at once, and presses Undo before its answer: the undo waits.
    assert pack.banner.kind == "good"
    assert pack.order is not None
    assert pack.order.units_packed == 1
    pack.undo_button.click()
    assert window.worker.pending == 0
    assert len(pack.feedback_ms) == answered
    os.kill(pid, signal.SIGKILL)

    # The worker settles the scan (not committed: it counts it now), then runs the undo.
    qtbot.waitUntil(lambda: len(pack.feedback_ms) > answered, timeout=10_000)
    qtbot.waitUntil(lambda: pack.order is not None and pack.order.units_packed == 0)
    qtbot.waitUntil(lambda: window.worker.pending == 0)
    assert packed_units(ctx, order.id) == [True]  # counted once, then undone
    assert pack.banner.kind == "good", pack.banner.message
    assert "undone" in pack.banner.message
    assert pack.corrections == 0

    # The process is back by itself; the next scans are committed there again.
    qtbot.waitUntil(lambda: remote.ready, timeout=30_000)
    assert remote.pid not in (None, pid)
    before = pack.remote_scans
    scan(qtbot, window, order.lines[0].gtin)
    assert pack.remote_scans == before + 1
    assert pack.order is not None
    assert pack.order.units_packed == 1
    assert packed_units(ctx, order.id) == [True, False]


def test_the_bench_process_ends_with_the_station(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window = station
    pid = signed_in(qtbot, window)
    order = find_order(ctx, lines=3, units=5)
    assert order is not None
    scan(qtbot, window, order.number)
    scan(qtbot, window, order.lines[0].gtin)
    assert window.pack.remote_scans == 1

    window.shutdown()

    assert window.bench_process is not None
    assert window.bench_process.pid is None
    assert not Path(f"/proc/{pid}").exists()  # ended and reaped, not left behind
    assert packed_units(ctx, order.id) == [False]
