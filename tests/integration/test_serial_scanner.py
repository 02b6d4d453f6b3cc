"""A serial scanner over a real pseudo-terminal pair: bytes at 9600 baud, scans split across
reads and back to back, every terminator, and the scanner unplugged and plugged back in."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.scanning.serial_scanner import SerialScanner, SerialSettings, SerialStatus
from app.scanning.trace import ScanTrace

BYTE_S = 10 / 9600  # 8N1 at 9600 baud: ten bits a byte, about 1.04 ms


class Cable:
    """The scanner's end of a pseudo-terminal; the station opens ``path`` like a /dev/ttyUSB0.

    ``path`` is a link to the terminal, as udev's /dev/serial/by-id links are, so that
    unplugging and plugging back in can bring the "same" port back on a new terminal.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.master: int | None = None
        self.slave: int | None = None
        self.plug_in()

    def plug_in(self) -> None:
        self.master, self.slave = os.openpty()
        self.path.unlink(missing_ok=True)
        self.path.symlink_to(os.ttyname(self.slave))

    def unplug(self) -> None:
        self.path.unlink(missing_ok=True)
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def send(self, data: bytes, byte_s: float = BYTE_S) -> None:
        """Write ``data`` one byte at a time at the line's pace."""
        assert self.master is not None
        for i in range(len(data)):
            os.write(self.master, data[i : i + 1])
            _pause(byte_s)


def _pause(seconds: float) -> None:
    """Wait a byte's time: a busy wait, since time.sleep may oversleep it many times over, that
    lets go of the interpreter on every turn so the station's reader thread runs meanwhile."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        time.sleep(0)


@dataclass
class Station:
    """The station's side: what the reader delivered, in order."""

    scans: list[str] = field(default_factory=list)
    traces: list[ScanTrace] = field(default_factory=list)
    statuses: list[SerialStatus] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def on_scan(self, text: str, trace: ScanTrace) -> None:
        with self.changed:
            self.scans.append(text)
            self.traces.append(trace)
            self.changed.notify_all()

    def on_status(self, status: SerialStatus) -> None:
        with self.changed:
            self.statuses.append(status)
            self.changed.notify_all()

    def wait(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        with self.changed:
            assert self.changed.wait_for(done, timeout), (self.scans, self.statuses)


@pytest.fixture
def cable(tmp_path: Path) -> Iterator[Cable]:
    c = Cable(tmp_path / "ttyUSB0")
    yield c
    c.unplug()


@pytest.fixture
def reader(cable: Cable) -> Iterator[Callable[..., tuple[SerialScanner, Station]]]:
    started: list[SerialScanner] = []

    def start(**settings: object) -> tuple[SerialScanner, Station]:
        station = Station()
        scanner = SerialScanner(
            SerialSettings(port=str(cable.path), reconnect_s=0.05, **settings),  # type: ignore[arg-type]
            station.on_scan,
            station.on_status,
        )
        scanner.start()
        started.append(scanner)
        station.wait(lambda: bool(station.statuses))
        return scanner, station

    yield start
    for scanner in started:
        scanner.stop()


def test_one_scan_at_9600_baud(
    cable: Cable, reader: Callable[..., tuple[SerialScanner, Station]]
) -> None:
    _, station = reader(terminator="CR")
    assert station.statuses == [SerialStatus(True, f"Scanner on {cable.path} connected.")]
    cable.send(b"4006381333931\r")
    station.wait(lambda: len(station.scans) == 1)
    assert station.scans == ["4006381333931"]
    trace = station.traces[0]
    assert (trace.source, trace.ended_by, trace.text) == ("serial", "CR", "4006381333931")
    assert [k.label for k in trace.keys][-2:] == ["1", "<CR>"]
    assert trace.duration_ms >= 13 * BYTE_S * 1000 * 0.8  # it took the line's time to arrive


def test_a_scan_split_across_reads(
    cable: Cable, reader: Callable[..., tuple[SerialScanner, Station]]
) -> None:
    _, station = reader(terminator="CR")
    cable.send(b"SO-10")
    time.sleep(0.03)  # the reader has read the first part by now
    cable.send(b"0001\r")
    station.wait(lambda: len(station.scans) == 1)
    time.sleep(0.1)
    assert station.scans == ["SO-100001"]
    assert max(station.traces[0].gaps_ms) >= 25  # it did arrive in two parts


def test_two_scans_back_to_back(
    cable: Cable, reader: Callable[..., tuple[SerialScanner, Station]]
) -> None:
    _, station = reader(terminator="CR")
    assert cable.master is not None
    os.write(cable.master, b"T-0007\rT-0008\r")  # in one burst, as a buffered scanner sends
    station.wait(lambda: len(station.scans) == 2)
    assert station.scans == ["T-0007", "T-0008"]


@pytest.mark.parametrize(
    ("terminator", "sent"),
    [
        ("LF", b"A-01-1\nA-01-2\n"),
        ("CRLF", b"A-01-1\r\nA-01-2\r\n"),
        ("CR", b"A-01-1\r\nA-01-2\r\n"),  # a CRLF scanner on a station set to CR
        ("LF", b"A-01-1\r\nA-01-2\r\n"),  # ... and on one set to LF
    ],
)
def test_terminators(
    cable: Cable,
    reader: Callable[..., tuple[SerialScanner, Station]],
    terminator: str,
    sent: bytes,
) -> None:
    _, station = reader(terminator=terminator)
    cable.send(sent)
    station.wait(lambda: len(station.scans) == 2)
    assert station.scans == ["A-01-1", "A-01-2"]
    assert station.traces[0].ended_by == terminator


def test_no_terminator_ends_each_scan_by_silence(
    cable: Cable, reader: Callable[..., tuple[SerialScanner, Station]]
) -> None:
    _, station = reader(terminator="none", end_timeout_ms=60.0)
    cable.send(b"SO-100001")
    time.sleep(0.2)
    cable.send(b"T-0007")
    station.wait(lambda: len(station.scans) == 2)
    assert station.scans == ["SO-100001", "T-0007"]
    assert station.traces[0].ended_by is None


def test_a_missing_terminator_is_still_read_after_the_silence(
    cable: Cable, reader: Callable[..., tuple[SerialScanner, Station]]
) -> None:
    _, station = reader(terminator="CR")
    cable.send(b"4006381333931")
    station.wait(lambda: len(station.scans) == 1)
    assert (station.scans, station.traces[0].ended_by) == (["4006381333931"], None)


def test_gs1_with_gs_bytes_and_utf8_qr_text(
    cable: Cable, reader: Callable[..., tuple[SerialScanner, Station]]
) -> None:
    _, station = reader(terminator="CR")
    cable.send(b"]C10104006381333931\x1d10LOT1\r")
    cable.send("]Q1Größe M – Café\r".encode())
    station.wait(lambda: len(station.scans) == 2)
    assert station.scans == ["]C10104006381333931\x1d10LOT1", "]Q1Größe M – Café"]
    assert "<GS>" in [k.label for k in station.traces[0].keys]


def test_prefix_and_suffix_are_taken_off(
    cable: Cable, reader: Callable[..., tuple[SerialScanner, Station]]
) -> None:
    _, station = reader(terminator="CR", prefix="\x02", suffix="\x03")
    cable.send(b"\x02SO-1042\x03\r")
    station.wait(lambda: len(station.scans) == 1)
    assert station.scans == ["SO-1042"]


def test_unplugged_and_plugged_back_in(
    cable: Cable, reader: Callable[..., tuple[SerialScanner, Station]]
) -> None:
    _, station = reader(terminator="CR")
    cable.send(b"T-0001\r")
    station.wait(lambda: len(station.scans) == 1)
    cable.unplug()
    station.wait(lambda: len(station.statuses) == 2)
    lost = station.statuses[1]
    assert not lost.connected
    assert lost.message == (
        f"The scanner on {cable.path} was disconnected — plug it back in; "
        "the station reconnects by itself."
    )
    time.sleep(0.2)  # several reconnect attempts: said once, not every time
    assert len(station.statuses) == 2
    cable.plug_in()
    station.wait(lambda: len(station.statuses) == 3)
    assert station.statuses[2] == SerialStatus(True, f"Scanner on {cable.path} connected again.")
    cable.send(b"T-0002\r")
    station.wait(lambda: len(station.scans) == 2)
    assert station.scans == ["T-0001", "T-0002"]


def test_a_scanner_that_is_not_there_yet(tmp_path: Path) -> None:
    path = tmp_path / "ttyACM0"
    station = Station()
    scanner = SerialScanner(
        SerialSettings(port=str(path), reconnect_s=0.05), station.on_scan, station.on_status
    )
    scanner.start()
    try:
        station.wait(lambda: len(station.statuses) == 1)
        assert station.statuses[0] == SerialStatus(
            False,
            f"No scanner on {path} — plug it in, or check the port under [scanner] "
            "serial_port in the station settings. The station keeps trying.",
        )
        cable = Cable(path)
        try:
            station.wait(lambda: len(station.statuses) == 2)
            assert station.statuses[1] == SerialStatus(True, f"Scanner on {path} connected.")
            cable.send(b"OP-1001\r")
            station.wait(lambda: station.scans == ["OP-1001"])
        finally:
            cable.unplug()
    finally:
        scanner.stop()


def test_stop_ends_the_thread(cable: Cable) -> None:
    station = Station()
    scanner = SerialScanner(
        SerialSettings(port=str(cable.path)), station.on_scan, station.on_status
    )
    scanner.start()
    station.wait(lambda: bool(station.statuses))
    scanner.stop()
    assert not any(t.name.startswith("serial-scanner") for t in threading.enumerate())


def test_a_port_another_program_holds(cable: Cable) -> None:
    import serial

    other = serial.Serial(str(cable.path), exclusive=True)  # e.g. a terminal program left open
    try:
        station = Station()
        scanner = SerialScanner(
            SerialSettings(port=str(cable.path), reconnect_s=0.05),
            station.on_scan,
            station.on_status,
        )
        scanner.start()
        try:
            station.wait(lambda: bool(station.statuses))
            assert station.statuses[0] == SerialStatus(
                False,
                f"The scanner port {cable.path} is in use by another program — close that program.",
            )
            other.close()
            station.wait(lambda: len(station.statuses) == 2)
            assert station.statuses[1].connected
        finally:
            scanner.stop()
    finally:
        other.close()
