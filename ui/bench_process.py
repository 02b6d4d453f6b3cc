"""The pack bench's own process (:mod:`app.services.bench_host`), seen from the GUI thread.

A scan goes out the moment it is sent (a small frame written to a pipe); answers come back
through a socket notifier on the GUI thread, in the order the scans went. The process starts
when a packer first signs in at the pack bench, in the background: until it is ready, scans are
committed on the station's database worker as they always were. When it ends with scans
unanswered, each is handed back (``lost``) for the station to settle on its own worker
(:meth:`app.services.bench.PackBench.settle`: counted once, whether or not it was committed);
it is started again a moment later, a few times a minute at most.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from app.ipc import FrameReader, HostStart, close_helper, frame, start_helper
from app.services.bench_host import HostScan

if TYPE_CHECKING:
    from app.services.bench import BenchResult

log = logging.getLogger(__name__)
RESTART_AFTER_MS = 1000
MAX_RESTARTS_PER_MINUTE = 3


class BenchProcess(QObject):
    """Signals:
    busy_changed(bool): True when a scan went out with none unanswered, False when the last
        unanswered one was answered (or handed back).
    """

    busy_changed = Signal(bool)

    def __init__(self, start: HostStart, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._start = start
        self._process: subprocess.Popen[bytes] | None = None
        self._notifier: QSocketNotifier | None = None
        self._reader = FrameReader()
        self._ready = False
        self._stopping = False
        self._pending: list[tuple[Callable[[BenchResult], None], Callable[[str], None]]] = []
        self._starts: list[float] = []  # when the process was started, for the restart limit

    @property
    def ready(self) -> bool:
        """Scans sent now are committed in the process."""
        return self._ready

    @property
    def busy(self) -> bool:
        """A scan sent has not been answered yet."""
        return bool(self._pending)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the process (in the background) unless it runs already."""
        if self._process is not None or self._stopping:
            return
        now = time.monotonic()
        self._starts = [t for t in self._starts if now - t < 60] + [now]
        try:
            process = start_helper("app.services.bench_host")
        except OSError:
            log.exception("the bench process could not start; scans commit on the worker")
            return
        assert process.stdout is not None
        self._process = process
        self._reader = FrameReader()
        os.set_blocking(process.stdout.fileno(), False)
        notifier = QSocketNotifier(process.stdout.fileno(), QSocketNotifier.Type.Read, self)
        notifier.activated.connect(self._readable)
        self._notifier = notifier
        if not self._write(frame(self._start)):
            self._ended()

    def submit(
        self,
        request: HostScan,
        done: Callable[[BenchResult], None],
        lost: Callable[[str], None],
    ) -> bool:
        """Send ``request``; ``done(result)`` once committed, or ``lost(why)`` when it was
        not answered. False (nothing sent, no callback) when the process cannot take it."""
        if not self._ready:
            return False
        if not self._write(frame(request)):
            self._ended()
            return False
        self._pending.append((done, lost))
        if len(self._pending) == 1:
            self.busy_changed.emit(True)
        return True

    def stop(self) -> None:
        """End the process once it has finished what it was sent (its commits stand)."""
        self._stopping = True
        if self._drop() is not None:
            self._hand_back("the station is closing")

    # --- the pipe ---------------------------------------------------------------------------

    def _write(self, data: bytes) -> bool:
        process = self._process
        if process is None or process.stdin is None:
            return False
        try:
            process.stdin.write(data)
            process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            return False
        return True

    def _readable(self) -> None:
        process = self._process
        if process is None or process.stdout is None:
            return
        values: list[Any] = []
        while True:
            try:
                data = os.read(process.stdout.fileno(), 1 << 16)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self._deliver(values)
                self._ended()
                return
            values.extend(self._reader.feed(data))
        self._deliver(values)

    def _deliver(self, values: list[Any]) -> None:
        for kind, body in values:
            if kind == "ready":
                self._ready = True
                log.info("bench process %s ready", body)
                continue
            if not self._pending:
                log.error("the bench process answered a scan it was not sent")
                continue
            done, lost = self._pending.pop(0)
            if kind == "ok":
                done(body)
            else:
                lost(str(body))
            if not self._pending:
                self.busy_changed.emit(False)

    def _ended(self) -> None:
        code = self._drop()
        if code is None:
            return
        log.warning("the bench process ended (exit %s); scans commit on the worker", code)
        self._hand_back("the bench process ended")
        recent = [t for t in self._starts if time.monotonic() - t < 60]
        if not self._stopping and len(recent) < MAX_RESTARTS_PER_MINUTE:
            QTimer.singleShot(RESTART_AFTER_MS, self.start)

    def _drop(self) -> int | None:
        """Stop reading the process, close it and wait for it to end; its exit code, or None
        when there was no process."""
        process = self._process
        if process is None:
            return None
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        self._process = None
        self._ready = False
        return close_helper(process, "bench process")

    def _hand_back(self, why: str) -> None:
        pending, self._pending = self._pending, []
        for _done, lost in pending:
            lost(why)
        if pending:
            self.busy_changed.emit(False)
