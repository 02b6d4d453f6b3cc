"""The pack bench's own process (app.services.bench_host) commits a scan as the station would,
and a scan whose answer never came back is settled once: counted if it was not committed, not
counted again if it was."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.bootstrap import StationContext
from app.ids import new_id
from app.ipc import FrameReader, HostStart, frame, read_frame
from app.services.bench import PackBench
from app.services.bench_host import HostScan
from app.services.views import OperatorView, ScanOutcome
from app.store.models import OutboxOp, ScanEvent
from tests.conftest import find_order

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(station: StationContext, packer: OperatorView) -> PackBench:
    return PackBench(station.uow, packer)


# How a station starts it: the module, or a packaged station (no Python to run modules with)
# runs its own entry point with --bench-process.
COMMANDS = {
    "module": [sys.executable, "-m", "app.services.bench_host"],
    "station-entry": [
        sys.executable,
        "-c",
        "import sys; from ui.main import main; sys.exit(main())",
        "--bench-process",
    ],
}


@pytest.fixture(params=sorted(COMMANDS))
def host(
    request: pytest.FixtureRequest, station: StationContext
) -> Iterator[subprocess.Popen[bytes]]:
    """The bench process on the station's database, as the station starts it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        COMMANDS[request.param],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    start = HostStart(station.config, station.url, station.station_id, station.station_name)
    process.stdin.write(frame(start))
    process.stdin.flush()
    kind, pid = read_frame(process.stdout)  # type: ignore[arg-type]
    assert (kind, pid) == ("ready", process.pid)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()
    process.stdin.close()
    process.stdout.close()


def ask(host: subprocess.Popen[bytes], request: HostScan) -> tuple[str, object]:
    assert host.stdin is not None
    assert host.stdout is not None
    host.stdin.write(frame(request))
    host.stdin.flush()
    answer = read_frame(host.stdout)  # type: ignore[arg-type]
    assert answer is not None, "the bench process ended without answering"
    return answer  # type: ignore[no-any-return]


def scan_events(station: StationContext, scan_id: object) -> list[tuple[str, str]]:
    with station.sessions() as s:
        rows = s.execute(
            select(ScanEvent.outcome, ScanEvent.message).where(ScanEvent.id == scan_id)
        ).all()
    return [(r.outcome, r.message) for r in rows]


def test_the_bench_process_commits_a_scan_as_the_station_would(
    host: subprocess.Popen[bytes], bench: PackBench, station: StationContext
) -> None:
    opened = bench.scan(find_order(station, lines=3, units=5))
    assert opened.ok, opened.message
    order = opened.order
    assert order is not None
    line = order.lines[0]
    scan_id = new_id()

    kind, result = ask(host, HostScan(bench.operator, order, line.gtin[1:], None, scan_id))

    assert kind == "ok", result
    guess = bench.predict(order, line.gtin[1:])
    assert guess is not None
    assert guess.shows_as(result)  # type: ignore[arg-type]
    # In the database, read here: one unit counted, its scan event under the id chosen, and
    # the operation for central carrying it.
    fresh = bench.refresh()
    assert fresh is not None
    assert fresh.units_packed == 1
    assert scan_events(station, scan_id) == [(ScanOutcome.ACCEPTED.value, "")]
    with station.sessions() as s:
        payloads = s.scalars(select(OutboxOp.payload).where(OutboxOp.kind == "order.item_packed"))
        assert [p["scan_id"] for p in payloads] == [str(scan_id)]

    # A code that is not on the order is refused there as here, and kept as a refused scan.
    wrong_id = new_id()
    kind, refused = ask(host, HostScan(bench.operator, fresh, "ZZ-NOT-A-CODE", None, wrong_id))
    assert kind == "ok"
    assert not refused.ok  # type: ignore[attr-defined]
    assert "ZZ-NOT-A-CODE" in refused.message  # type: ignore[attr-defined]
    assert [outcome for outcome, _ in scan_events(station, wrong_id)] == ["unknown"]

    # Its input closed, it ends by itself.
    assert host.stdin is not None
    host.stdin.close()
    assert host.wait(10) == 0


def test_a_scan_committed_before_its_answer_was_lost_is_not_counted_again(
    bench: PackBench, station: StationContext
) -> None:
    order = bench.scan(find_order(station, lines=3, units=5)).order
    assert order is not None
    code = order.lines[0].gtin[1:]
    scan_id = new_id()
    committed = bench.scan(code, None, scan_id)
    assert committed.ok, committed.message

    settled = bench.settle(code, None, scan_id)

    assert settled.ok
    assert settled.order is not None
    assert settled.order.units_packed == 1
    assert bench.refresh() == settled.order
    assert len(scan_events(station, scan_id)) == 1


def test_a_scan_never_committed_is_counted_when_settled(
    bench: PackBench, station: StationContext
) -> None:
    order = bench.scan(find_order(station, lines=3, units=5)).order
    assert order is not None
    scan_id = new_id()

    settled = bench.settle(order.lines[0].gtin[1:], None, scan_id)

    assert settled.ok, settled.message
    assert settled.order is not None
    assert settled.order.units_packed == 1
    assert scan_events(station, scan_id) == [(ScanOutcome.ACCEPTED.value, "")]
    # Settling the same scan again (a second loss) still counts it once.
    again = bench.settle(order.lines[0].gtin[1:], None, scan_id)
    assert again.order is not None
    assert again.order.units_packed == 1


def test_a_refused_scan_settled_twice_is_kept_once_with_its_words(
    bench: PackBench, station: StationContext
) -> None:
    bench.scan(find_order(station, lines=3, units=5))
    scan_id = new_id()
    refused = bench.scan("ZZ-NOT-A-CODE", None, scan_id)
    assert not refused.ok

    settled = bench.settle("ZZ-NOT-A-CODE", None, scan_id)

    assert not settled.ok
    assert settled.message == refused.message
    with station.sessions() as s:
        count = s.scalar(select(func.count()).where(ScanEvent.raw == "ZZ-NOT-A-CODE"))
    assert count == 1


def test_frames_split_anywhere_come_out_whole_and_in_order() -> None:
    values = [("ready", 7), ("ok", {"units": 3}), ("error", "database is locked")]
    data = b"".join(frame(v) for v in values)
    reader = FrameReader()
    out: list[object] = []
    for i in range(len(data)):  # one byte at a time: every split a pipe can make
        out.extend(reader.feed(data[i : i + 1]))
    assert out == values
    assert reader.feed(b"") == []
