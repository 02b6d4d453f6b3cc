"""The station's print worker: prints due jobs on a thread of its own, so a printer that is
slow or off never holds up a scan (which runs on the database worker).

It runs at start (after recovering jobs a restart caught mid-send), when told a job was queued
(:meth:`PrintRunner.kick`), and every few seconds for retries whose back-off has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ui.ops import DbOp, DbWorker

log = logging.getLogger(__name__)
POLL_MS = 3000


class PrintRunner(QObject):
    """Signals:
    ran(int): a run finished; how many jobs printed (the status bar re-reads the queue).
    """

    ran = Signal(int)

    def __init__(
        self,
        print_due: Callable[[], int],
        recover: Callable[[], int],
        parent: QObject | None = None,
        *,
        close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._print_due = print_due
        self._recover = recover
        self._close = close
        self._worker = DbWorker(self)  # its own thread: printers can take seconds to answer
        self._busy = False
        self._again = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.kick)

    @property
    def busy(self) -> bool:
        return self._busy

    def start(self) -> None:
        DbOp(self._worker, self._recover).success(
            lambda n: (
                log.warning("%d print job(s) may have printed before a restart", n) if n else None
            )
        ).run()
        self.kick()
        self._timer.start()

    def kick(self) -> None:
        """Print what is due now; a kick during a run starts another right after it."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        DbOp(self._worker, self._print_due).success(self._done).failure(self._failed).run()

    def _done(self, printed: int) -> None:
        self._busy = False
        self.ran.emit(printed)
        if self._again:
            self._again = False
            self.kick()

    def _failed(self, error: BaseException) -> None:
        log.error("the print worker failed", exc_info=error)
        self._done(0)

    def run(
        self,
        fn: Callable[[], object],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        """Other printer work (probes, test pages) on the same thread, in turn."""
        DbOp(self._worker, fn).success(on_success).failure(on_failure).run()

    def stop(self) -> None:
        """Stop polling, finish the run in hand, then end the print process, if any."""
        self._timer.stop()
        self._worker.shutdown()
        if self._close is not None:
            self._close()
