"""The station's printing in a process of its own.

Making a document is Python through and through (reportlab lays out a packing slip, draws its
barcodes, writes the PDF): tens of milliseconds a slip. In the station's process it took turns
with the GUI thread on the one interpreter lock, so the scans right after an order was completed
or a return booked in waited for it (the returns desk's slowest scans were 3–10 × slower while
its labels printed). Here, it runs on the other core.

The station's print worker (ui/print_runner.py) calls :meth:`PrintProcess.print_due` on its own
thread as it called :func:`printing.queue.print_pending`: the call sends one request and waits
for the count printed, without holding the interpreter lock. The process starts when someone
signs in (its start takes a second; the first slip of the day should not), or with the first
job due, whichever comes first, and prints exactly as the station did:
the same queue, the same database (SQLite queues the writers), the same printers.

When the process cannot start or ends during a run, nothing waits on it: the jobs it was sending
wait for a person's decision, as after a restart (:func:`printing.queue.recover`, it may have
printed them), and the rest print in the station's own process. It is started again at the next
job due, a few times a minute at most.

``python -m printing.host`` is the process (frames: app/ipc.py). It answers ``("ready", pid)``
once it has loaded what documents need, then each ``"print_due"`` with ``("ok", printed)`` or
``("error", words)``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.ipc import (
    Handler,
    HostStart,
    close_helper,
    frame,
    helper_output,
    read_frame,
    serve,
    start_helper,
)

if TYPE_CHECKING:
    from app.bootstrap import StationContext

log = logging.getLogger(__name__)
PRINT_DUE = "print_due"
MAX_STARTS_PER_MINUTE = 3
NICE = 10  # below the station's own process when both want the CPU


def prepare(ctx: StationContext, _start: HostStart) -> Handler:
    """Load what documents need; the handler prints what is due and returns how many."""
    from printing import queue

    queue.load_renderers()

    def print_due(request: object) -> object:
        if request != PRINT_DUE:
            raise ValueError(f"unknown request {request!r}")
        return queue.print_pending(ctx)

    return print_due


def main() -> None:
    # Below the station from its first import on: a label may come a little later, a scan's
    # answer may not (its loading, at normal priority, held up the GUI thread for ~50 ms).
    if hasattr(os, "nice"):
        os.nice(NICE)
    serve(sys.stdin.buffer, helper_output("print process"), prepare)


class PrintProcess:
    """The print process, seen from the station's print worker (one thread at a time).

    ``has_due``, ``in_process`` and ``recover`` are the station's own: is a job due, print what
    is due here, and let the jobs that were being sent wait for a person's decision.
    """

    def __init__(
        self,
        start: HostStart,
        has_due: Callable[[], bool],
        in_process: Callable[[], int],
        recover: Callable[[], int],
    ) -> None:
        self._start = start
        self._has_due = has_due
        self._in_process = in_process
        self._recover = recover
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._starts: list[float] = []
        self._lock = threading.Lock()  # print_due on the print thread, close from the GUI's

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    @property
    def ready(self) -> bool:
        """The process runs and has loaded what documents need."""
        return self._ready

    def print_due(self) -> int:
        """Print every job due, in the process when it runs; how many printed."""
        if not self._has_due():
            return 0
        with self._lock:
            process = self._process or self._launch()
            if process is None:
                return self._in_process()
            answer = self._exchange(process, PRINT_DUE)
            if answer is None:
                code = self._drop()
                log.warning("the print process ended (exit %s); printing here", code)
                waiting = self._recover()
                if waiting:
                    log.warning("%d print job(s) it was sending wait for a decision", waiting)
                return self._in_process()
        kind, body = answer
        if kind != "ok":
            log.error("the print process could not print (%s); printing here", body)
            return self._in_process()
        assert isinstance(body, int)
        return body

    def start(self) -> None:
        """Start the process now unless it runs (on the print thread: it waits until ready),
        so the first document of a session is not kept waiting for it."""
        with self._lock:
            if self._process is None:
                self._launch()

    def close(self) -> None:
        """End the process once it has finished the run in hand."""
        with self._lock:
            self._drop()

    def _launch(self) -> subprocess.Popen[bytes] | None:
        now = time.monotonic()
        self._starts = [t for t in self._starts if now - t < 60]
        if len(self._starts) >= MAX_STARTS_PER_MINUTE:
            return None
        self._starts.append(now)
        try:
            process = start_helper("printing.host")
        except OSError:
            log.exception("the print process could not start; printing here")
            return None
        self._process = process
        ready = self._exchange(process, self._start)
        if ready is None or ready[0] != "ready":
            code = self._drop()
            log.warning("the print process did not start (exit %s); printing here", code)
            return None
        log.info("print process %s ready", ready[1])
        self._ready = True
        return process

    @staticmethod
    def _exchange(process: subprocess.Popen[bytes], request: object) -> tuple[str, object] | None:
        """Send ``request`` and wait for the answer; None when the process has ended."""
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(frame(request))
            process.stdin.flush()
            answer = read_frame(process.stdout)  # type: ignore[arg-type]
        except (OSError, ValueError):
            return None
        return answer  # type: ignore[no-any-return]

    def _drop(self) -> int | None:
        process, self._process = self._process, None
        self._ready = False
        return close_helper(process, "print process") if process is not None else None


if __name__ == "__main__":
    # Run as the module it is (not as __main__), so the frames' classes are the station's.
    from printing import host

    host.main()
