"""Scanners on a serial port (RS-232, or USB scanners in serial/CDC mode) through pyserial.

A reader thread opens the port, splits what arrives into scans at the configured terminator
(CR, LF, CRLF, or none: a scan ends after ``end_timeout_ms`` of silence), and hands each scan
to ``on_scan`` with the ``ScanTrace`` of its bytes. A scanner that sends no terminator although
one is configured still gets its scans read, after the same silence.

When the port goes away (the cable is pulled, a USB scanner is unplugged) the reader says so
through ``on_status``, closes it and tries again every ``reconnect_s`` until the port is back.
Both callbacks run on the reader thread: the GUI side must pass them over to its own thread.
No Qt; pyserial is imported when the reader starts.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.scanning.trace import ScanTrace, SentKey

logger = logging.getLogger(__name__)

TERMINATORS = ("CR", "LF", "CRLF", "NONE")
"""The values ``[scanner] terminator`` may take (case does not matter)."""

_ENDINGS: dict[str, bytes | None] = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "NONE": None}
_READ_WAIT_S = 0.01  # how long one read waits for a byte: the granularity of "silence"


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """One serial scanner, from the ``[scanner]`` section of the station settings."""

    port: str
    baudrate: int = 9600
    terminator: str = "CR"
    end_timeout_ms: float = 60.0
    """Silence that ends a scan with no terminator (and one whose terminator never came)."""
    prefix: str = ""
    suffix: str = ""
    reconnect_s: float = 1.0


@dataclass(frozen=True, slots=True)
class SerialStatus:
    """Whether the scanner is there, in words for the status bar."""

    connected: bool
    message: str


class SerialScanner:
    """The reader thread for one port. ``start()`` once, ``stop()`` once."""

    def __init__(
        self,
        settings: SerialSettings,
        on_scan: Callable[[str, ScanTrace], None],
        on_status: Callable[[SerialStatus], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        terminator = settings.terminator.upper()
        if terminator not in _ENDINGS:
            msg = f"unknown serial terminator {settings.terminator!r}"
            raise ValueError(msg)
        self._settings = settings
        self._ending = _ENDINGS[terminator]
        self._ended_by = terminator
        self._on_scan = on_scan
        self._on_status = on_status
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: Any = None
        self._buffer = bytearray()
        self._times: list[float] = []  # arrival time (ms) of each byte in the buffer
        self._connected: bool | None = None
        self._was_connected = False

    @property
    def settings(self) -> SerialSettings:
        return self._settings

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"serial-scanner {self._settings.port}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    # --- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        import serial

        while not self._stop.is_set():
            if self._port is None and not self._open(serial):
                self._stop.wait(self._settings.reconnect_s)
                continue
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError) as exc:
                # TypeError: pyserial's read on a port closed under it by stop().
                if self._stop.is_set():
                    break
                self._lost(exc)
                continue
            now = self._clock() * 1000.0
            if data:
                self._feed(bytes(data), now)
            elif self._buffer and now - self._times[-1] >= self._settings.end_timeout_ms:
                self._deliver(bytes(self._buffer), list(self._times), None)
                self._buffer.clear()
                self._times.clear()

    def _open(self, serial: Any) -> bool:
        settings = self._settings
        try:
            self._port = serial.Serial(
                settings.port, settings.baudrate, timeout=_READ_WAIT_S, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            self._port = None
            self._report(False, self._cannot_open(exc))
            return False
        again = " again" if self._was_connected else ""
        self._was_connected = True
        self._report(True, f"Scanner on {settings.port} connected{again}.")
        return True

    def _lost(self, exc: BaseException) -> None:
        logger.info("serial scanner on %s lost: %s", self._settings.port, exc)
        self._close()
        self._buffer.clear()
        self._times.clear()
        self._report(
            False,
            f"The scanner on {self._settings.port} was disconnected — plug it back in; "
            "the station reconnects by itself.",
        )

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(OSError, ValueError):  # the device is already gone
                port.close()

    def _cannot_open(self, exc: BaseException) -> str:
        port = self._settings.port
        code = getattr(exc, "errno", None)
        if code == errno.EACCES:
            return (
                f"The station may not open the scanner port {port} (permission denied) — "
                "add the station's user to the group that owns it (dialout on Linux)."
            )
        if code == errno.EBUSY or "exclusive" in str(exc).lower():
            return f"The scanner port {port} is in use by another program — close that program."
        if self._was_connected:
            return (
                f"The scanner on {port} was disconnected — plug it back in; "
                "the station reconnects by itself."
            )
        return (
            f"No scanner on {port} — plug it in, or check the port under [scanner] "
            "serial_port in the station settings. The station keeps trying."
        )

    def _report(self, connected: bool, message: str) -> None:
        if self._connected == connected:
            return  # say it once, not every reconnect attempt
        self._connected = connected
        self._on_status(SerialStatus(connected, message))

    # --- splitting ------------------------------------------------------------------------

    def _feed(self, data: bytes, now_ms: float) -> None:
        self._buffer += data
        self._times += [now_ms] * len(data)
        ending = self._ending
        if ending is None:
            return
        while True:
            at = self._buffer.find(ending)
            if at < 0:
                return
            end = at + len(ending)
            payload = bytes(self._buffer[:end])
            times = self._times[:end]
            del self._buffer[:end]
            del self._times[:end]
            self._deliver(payload, times, self._ended_by)

    def _deliver(self, payload: bytes, times: list[float], ended_by: str | None) -> None:
        # A scanner sending CRLF to a station set to CR leaves an LF at the next scan's start.
        while payload[:1] in (b"\r", b"\n") and payload[:1] != self._ending:
            payload, times = payload[1:], times[1:]
        body = payload
        if ended_by is not None and self._ending is not None:
            body = payload[: -len(self._ending)]
        text = _decode(body).strip("\r\n")
        settings = self._settings
        if settings.prefix and text.startswith(settings.prefix):
            text = text[len(settings.prefix) :]
        if settings.suffix and text.endswith(settings.suffix):
            text = text[: -len(settings.suffix)]
        if not text.strip():
            return  # a bare terminator (some scanners send one on power-up)
        self._on_scan(text, _trace(payload, times, text, ended_by))


def _decode(data: bytes) -> str:
    # Scanners send ASCII; QR codes may carry UTF-8. Anything else is shown byte for byte.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _trace(payload: bytes, times: list[float], text: str, ended_by: str | None) -> ScanTrace:
    chars = _decode(payload)
    if len(chars) != len(times):  # multi-byte characters: each gets its last byte's time
        times = [times[-1]] * len(chars)
    keys = tuple(SentKey(c, None, t) for c, t in zip(chars, times, strict=True))
    return ScanTrace(source="serial", keys=keys, text=text, ended_by=ended_by)
