"""The station's print process (printing/host.py) prints a job as the station would; when it
ends, nothing is lost or printed twice behind anyone's back: a job it was sending waits for a
person's decision, the rest print in the station's own process, and it is started again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.bootstrap import StationContext
from app.config import PrinterConfig
from app.ipc import HostStart, frame, read_frame
from app.services import print_jobs
from app.services.views import OperatorView
from printing import host
from printing.host import PrintProcess
from printing.queue import has_due, print_pending, recover
from tests.conftest import find_order
from tests.integration.test_print_queue import pack_one

SIZES = [(3, 5), (2, 3), (1, 1), (2, 2), (1, 2), (3, 4), (2, 4)]  # (lines, units)


def pack_next(station: StationContext, packer: OperatorView) -> tuple[str, object]:
    """Pack (and complete) the next demo order of a size there is one of."""
    for lines, units in SIZES:
        try:
            find_order(station, lines=lines, units=units)
        except LookupError:
            continue
        return pack_one(station, packer, lines=lines, units=units)
    raise LookupError("no demo order left to pack")


ROOT = Path(__file__).resolve().parents[2]


class Station:
    """A station's print entries around a :class:`PrintProcess`, counting the runs it made in
    its own process."""

    def __init__(self, ctx: StationContext) -> None:
        self.ctx = ctx
        self.runs_here = 0
        start = HostStart(ctx.config, ctx.url, ctx.station_id, ctx.station_name)
        self.process = PrintProcess(start, lambda: has_due(ctx), self._here, lambda: recover(ctx))

    def _here(self) -> int:
        self.runs_here += 1
        return print_pending(self.ctx)


@pytest.fixture
def printing(station: StationContext) -> Iterator[Station]:
    s = Station(station)
    yield s
    s.process.close()


def job(ctx: StationContext, job_id: object) -> print_jobs.JobView:
    with ctx.uow() as uow:
        return print_jobs.get_job(uow, job_id)  # type: ignore[arg-type]


def ended(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


def wait_for(done: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.01)


def test_the_print_process_prints_a_slip_as_the_station_would(
    printing: Station, station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    number, job_id = pack_next(station, packer)

    assert printing.process.print_due() == 1

    pid = printing.process.pid
    assert pid is not None and pid != os.getpid()
    assert printing.runs_here == 0  # printed there, not here
    [pdf] = (tmp_path / "printed").glob("*.pdf")
    assert number in pdf.name
    assert pdf.read_bytes().startswith(b"%PDF")
    printed = job(station, job_id)
    assert printed.status == "printed"
    assert str(pdf) in printed.destination
    # Printed once: nothing is due, and the process is not asked again.
    assert printing.process.print_due() == 0
    assert len(list((tmp_path / "printed").glob("*.pdf"))) == 1

    printing.process.close()
    assert printing.process.pid is None
    assert not printing.process.ready
    assert ended(pid)  # ended and reaped, not left behind


def test_a_station_that_prints_nothing_never_starts_it(printing: Station) -> None:
    assert printing.process.print_due() == 0
    assert printing.process.pid is None


def test_started_ahead_it_prints_the_first_slip_at_once(
    printing: Station, station: StationContext, packer: OperatorView
) -> None:
    assert not printing.process.ready
    printing.process.start()  # as at sign-in, before anything is due
    pid = printing.process.pid
    assert pid is not None
    assert printing.process.ready
    printing.process.start()  # running already: not a second one
    assert printing.process.pid == pid

    _number, job_id = pack_next(station, packer)
    t0 = time.perf_counter()
    assert printing.process.print_due() == 1
    took = time.perf_counter() - t0

    assert printing.process.pid == pid
    assert printing.runs_here == 0
    assert job(station, job_id).status == "printed"
    assert took < 1.0, f"the first slip waited {took:.2f} s for a process started ahead"


def test_when_the_process_ended_the_station_prints_itself_then_starts_it_again(
    printing: Station, station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    pack_next(station, packer)
    assert printing.process.print_due() == 1
    first = printing.process.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: Path(f"/proc/{first}/stat").read_text().split()[2] == "Z", "not killed")

    _number, second_job = pack_next(station, packer)
    assert printing.process.print_due() == 1  # found gone: printed here instead
    assert printing.runs_here == 1
    assert job(station, second_job).status == "printed"
    assert printing.process.pid is None
    assert ended(first)

    _number, third_job = pack_next(station, packer)
    assert printing.process.print_due() == 1
    assert printing.runs_here == 1  # in a new process
    assert printing.process.pid not in (None, first)
    assert job(station, third_job).status == "printed"
    assert len(list((tmp_path / "printed").glob("*.pdf"))) == 3


def test_a_job_it_was_sending_when_it_died_waits_for_a_decision(
    printing: Station, station: StationContext, packer: OperatorView
) -> None:
    # A printer that takes the connection, then reads nothing: the send hangs mid-job.
    with socket.create_server(("127.0.0.1", 0)) as printer:
        printer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        port = printer.getsockname()[1]
        raw = PrinterConfig(kind="socket", host="127.0.0.1", port=port)
        ctx = replace(station, config=replace(station.config, printers={"packing_slip": raw}))
        at_printer = Station(ctx)
        _number, job_id = pack_next(station, packer)
        answers: list[int] = []
        run = threading.Thread(target=lambda: answers.append(at_printer.process.print_due()))
        run.start()
        try:
            conn, _ = printer.accept()
            with conn:
                wait_for(lambda: job(station, job_id).status == "sending", "never sending")
                pid = at_printer.process.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                run.join(10)
        finally:
            at_printer.process.close()
    assert answers == [0]  # nothing printed for sure, and not sent again behind anyone's back
    assert at_printer.runs_here == 1  # what was left was looked at here
    stuck = job(station, job_id)
    assert stuck.status == "uncertain"
    assert stuck.possible_duplicate
    assert "may have printed" in stuck.last_error


def test_a_process_that_cannot_start_leaves_printing_to_the_station(
    printing: Station,
    station: StationContext,
    packer: OperatorView,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starts: list[int] = []

    def broken(_module: str) -> subprocess.Popen[bytes]:
        # Starts, then ends at once without a word, as a broken installation would.
        process = subprocess.Popen(
            [sys.executable, "-c", "pass"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        starts.append(process.pid)
        return process

    monkeypatch.setattr(host, "start_helper", broken)
    for n in range(1, 6):
        _number, job_id = pack_next(station, packer)
        assert printing.process.print_due() == 1
        assert job(station, job_id).status == "printed"
        assert printing.runs_here == n
    assert printing.process.pid is None
    assert len(starts) == host.MAX_STARTS_PER_MINUTE  # then it stops trying for a while


def test_a_packaged_station_starts_itself_as_the_print_process(
    station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    # A packaged station has no Python to run modules with: it runs its own entry point.
    _number, job_id = pack_next(station, packer)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from ui.main import main; sys.exit(main())",
            "--print-process",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        start = HostStart(station.config, station.url, station.station_id, station.station_name)
        process.stdin.write(frame(start))
        process.stdin.flush()
        assert read_frame(process.stdout) == ("ready", process.pid)  # type: ignore[arg-type]
        process.stdin.write(frame(host.PRINT_DUE))
        process.stdin.flush()
        assert read_frame(process.stdout) == ("ok", 1)  # type: ignore[arg-type]
        process.stdin.write(frame("print everything twice"))
        process.stdin.flush()
        kind, words = read_frame(process.stdout)  # type: ignore[arg-type]
        assert kind == "error"
        assert "unknown request" in words
    finally:
        process.stdin.close()
        assert process.wait(10) == 0  # its input closed: it ends by itself
        process.stdout.close()
    assert job(station, job_id).status == "printed"
    assert len(list((tmp_path / "printed").glob("*.pdf"))) == 1
