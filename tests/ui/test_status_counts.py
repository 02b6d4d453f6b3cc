"""The status bar reads what is waiting (to sync, to print) on the database worker, but never
ahead of a scan: only once the worker has answered nothing for a moment (the person is between
scans), and on a bench never quiet that long, in a gap between two answers once the counts are
old."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

import ui.status_bar as status_bar
from ui.ops import DbOp, DbWorker
from ui.status_bar import QUIET_MS, StationStatusBar


@pytest.fixture
def worker() -> Iterator[DbWorker]:
    w = DbWorker()
    yield w
    w.shutdown()


def _bar(qtbot: QtBot, worker: DbWorker, reads: list[float]) -> StationStatusBar:
    def read_counts() -> tuple[int, list[object]]:
        reads.append(time.monotonic())
        return 0, []

    bar = StationStatusBar(
        worker,
        read_counts,
        station="PACK-01",
        database="local",
        printer="folder",  # type: ignore[arg-type]
    )
    qtbot.addWidget(bar)
    return bar


def _scan_on(worker: DbWorker, seconds: float, answered: list[float]) -> None:
    """A scan's work on the worker; ``answered`` gets when its answer was delivered."""
    DbOp(worker, lambda: time.sleep(seconds)).success(
        lambda _r: answered.append(time.monotonic())
    ).run()


def test_the_counts_wait_for_the_worker_to_be_quiet(qtbot: QtBot, worker: DbWorker) -> None:
    reads: list[float] = []
    answered: list[float] = []
    bar = _bar(qtbot, worker, reads)
    _scan_on(worker, 0.15, answered)
    bar.refresh_soon()  # a print run ended while a scan is being committed
    qtbot.waitUntil(lambda: bool(answered), timeout=3000)
    _scan_on(worker, 0.01, answered)  # the next scan came before a quiet moment
    qtbot.waitUntil(lambda: bool(reads), timeout=3000)
    assert len(answered) == 2, "no reading went ahead of the scans"
    assert reads[0] >= answered[-1] + QUIET_MS / 1000 * 0.9, "read only after a quiet moment"
    assert bar.waiting.text() == "Waiting: 0 to print"


def test_a_bench_never_quiet_still_gets_its_counts_read(
    qtbot: QtBot, worker: DbWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_bar, "STALE_S", 0.2)
    reads: list[float] = []
    answered: list[float] = []
    bar = _bar(qtbot, worker, reads)
    bar.refresh_soon()
    qtbot.waitUntil(lambda: bool(reads), timeout=3000)  # quiet now: read at once
    reads.clear()
    started = time.monotonic()
    bar.refresh_soon()
    # Scans every 30 ms (faster than the quiet the bar waits for) for a second.
    while time.monotonic() - started < 1.0:
        _scan_on(worker, 0.005, answered)
        qtbot.wait(30)
    assert reads, "counts older than STALE_S were never read on a busy bench"
    assert all(r - started >= 0.15 for r in reads), "read before the counts were old"
