"""Background database work, shaped like Anki's ``CollectionOp``.

The station has ONE database worker thread (a single-thread executor): every use case runs
there, in submission order, so a scan never overtakes the scan before it and a Session never
crosses threads. Results come back to the GUI thread through a queued signal::

    DbOp(worker, lambda: bench.scan(code)).success(show_result).failure(show_error).run()

The function never touches a widget; the callbacks run on the GUI thread.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Generic, Self, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

from ui import messages

log = logging.getLogger(__name__)
T = TypeVar("T")


class DbWorker(QObject):
    """The one thread that talks to the local database.

    Signals:
        idle_changed(bool): True when the last queued job has delivered its result.
    """

    idle_changed = Signal(bool)
    # Results wait in a plain thread-safe queue; the signal carries no Python object across
    # threads, only "something is ready" (PySide6 has had refcount bugs with queued
    # Signal(object) emitted from non-Qt threads).
    _ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="waystation-db")
        self._pending = 0
        self._closed = False
        self._results: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._ready.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def pending(self) -> int:
        """Jobs submitted whose callbacks have not run yet."""
        return self._pending

    def submit(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        if self._closed:
            log.warning("database worker is shut down; dropped %r", fn)
            return
        self._pending += 1
        if self._pending == 1:
            self.idle_changed.emit(False)
        self._pool.submit(self._job, fn, on_success, on_failure)

    def _job(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        # Runs on the worker thread: no widget is touched here.
        try:
            result = fn()
        except Exception as exc:
            self._results.put(partial(on_failure, exc))
        else:
            self._results.put(partial(on_success, result))
        self._ready.emit()

    def _deliver(self) -> None:
        # One emit per job, but a slot may find several results (or none) waiting: drain.
        while True:
            try:
                callback = self._results.get_nowait()
            except queue.Empty:
                return
            self._pending -= 1
            try:
                if not self._closed:
                    callback()
            except Exception:
                log.exception("a result callback failed")
            finally:
                if self._pending == 0:
                    self.idle_changed.emit(True)

    def shutdown(self) -> None:
        """Finish the job in hand, drop the callbacks still to come, stop the thread."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)


class DbOp(Generic[T]):
    """One background use case: the function, what to do with its result, what on failure.

    Without a failure callback, the error is turned into words by :mod:`ui.messages` (which
    logs unexpected exceptions) and dropped.
    """

    def __init__(self, worker: DbWorker, fn: Callable[[], T]) -> None:
        self._worker = worker
        self._fn = fn
        self._on_success: Callable[[T], None] = lambda _result: None
        self._on_failure: Callable[[BaseException], None] = _log_failure

    def success(self, callback: Callable[[T], None]) -> Self:
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> Self:
        self._on_failure = callback
        return self

    def run(self) -> None:
        self._worker.submit(self._fn, self._on_success, self._on_failure)


def _log_failure(error: BaseException) -> None:
    log.warning("background operation failed: %s", messages.describe(error))
