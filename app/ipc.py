"""Frames between the station and its helper processes (the pack bench's, the printer's).

A helper is this station's own code in a second process: it does work whose Python would
otherwise take turns with the GUI thread's on the one interpreter lock. The station starts it
with this Python (or, in a packaged station, the station's executable with the helper's flag)
and talks to it on its stdin and stdout in frames: a 4-byte length (little-endian), then a
pickle. The first frame in says what the helper needs to open the station's database; the
helper answers ``("ready", pid)`` once it has loaded what its work needs, and each request in
order afterwards. A helper ends when its input closes.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import struct
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from app.config import StationConfig

if TYPE_CHECKING:
    from app.bootstrap import StationContext

log = logging.getLogger(__name__)
_HEAD = struct.Struct("<I")
STOP_WAIT_S = 5.0

# Each helper's module, and the flag a packaged station (one executable, no Python to run
# modules with) is started with to be that helper instead (ui.main.main).
HELPER_FLAGS = {
    "app.services.bench_host": "--bench-process",
    "printing.host": "--print-process",
}


@dataclass(frozen=True, slots=True)
class HostStart:
    """What a helper needs to open the station's database as the station does."""

    config: StationConfig
    url: str
    station_id: uuid.UUID
    station_name: str


def frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEAD.pack(len(data)) + data


def read_frame(stream: BinaryIO) -> Any:
    """The next frame's value; None at the end of the stream."""
    head = stream.read(_HEAD.size)
    if len(head) < _HEAD.size:
        return None
    (size,) = _HEAD.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


class FrameReader:
    """Frames out of bytes as they arrive (for a reader that must not block)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buffer += data
        values: list[Any] = []
        while len(self._buffer) >= _HEAD.size:
            (size,) = _HEAD.unpack_from(self._buffer)
            end = _HEAD.size + size
            if len(self._buffer) < end:
                break
            values.append(pickle.loads(memoryview(self._buffer)[_HEAD.size : end]))
            del self._buffer[:end]
        return values


Handler = Callable[[Any], object]


def serve(
    inp: BinaryIO, out: BinaryIO, prepare: Callable[[StationContext, HostStart], Handler]
) -> None:
    """A helper's life: read the start frame, open the station's database, load what its work
    needs (``prepare`` returns the handler of a request), answer ``("ready", pid)``, then each
    request in order with ``("ok", result)``, or ``("error", words)`` when the handler raised
    (the station then does the work itself), until ``inp`` ends."""
    start = read_frame(inp)
    if not isinstance(start, HostStart):
        log.error("the station sent no start frame; ending")
        return
    from app.bootstrap import StationContext

    ctx = StationContext(start.config, start.url, start.station_id, start.station_name, "")
    ctx.warm_up()
    handle = prepare(ctx, start)
    gc.freeze()  # what is loaded now lives as long as the process: out of the collector's way
    out.write(frame(("ready", os.getpid())))
    out.flush()
    try:
        while (request := read_frame(inp)) is not None:
            try:
                answer: tuple[str, object] = ("ok", handle(request))
            except Exception as e:
                log.exception("a request could not be done here; the station does it")
                answer = ("error", str(e) or type(e).__name__)
            out.write(frame(answer))
            out.flush()
    finally:
        ctx.dispose()


def helper_output(name: str) -> BinaryIO:
    """In a helper: the stream its frames go out on, a copy of stdout; whatever else writes to
    stdout goes to stderr from now on. Logging goes to stderr, named after the helper."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    logging.basicConfig(level=logging.WARNING, format=f"{name} %(levelname)s %(name)s: %(message)s")
    return out


def start_helper(module: str) -> subprocess.Popen[bytes]:
    """Start a helper with pipes on its stdin and stdout (raises OSError when it cannot)."""
    if getattr(sys, "frozen", False):
        command = [sys.executable, HELPER_FLAGS[module]]
    else:
        command = [sys.executable, "-m", module]
    root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def close_helper(process: subprocess.Popen[bytes], what: str) -> int:
    """Close the helper's input (it ends once it has answered what it was sent), wait for it
    (killed after a few seconds), close its output; its exit code."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):  # the pipe may be gone already
            process.stdin.close()
    try:
        code = process.wait(STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        log.warning("the %s did not end; killing it", what)
        process.kill()
        code = process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return code
