"""The station's sync worker, as the main window holds it: started when a central database is
configured, woken when the station has done something, stopped when the window closes.

The worker (:class:`app.sync.worker.SyncWorker`) runs on a thread of its own with its own
connections; the GUI only reads its status snapshot, on a timer, which never waits.
"""

from __future__ import annotations

import logging
import uuid

from PySide6.QtCore import QObject, QTimer, Signal

from app.config import StationConfig
from app.sync import claims
from app.sync.worker import SyncStatus, SyncWorker

log = logging.getLogger(__name__)
POLL_MS = 500
STOP_WAIT_S = 5.0


class SyncRunner(QObject):
    """Signals:
    status_changed(): the worker's status snapshot changed (read :attr:`status`).
    """

    status_changed = Signal()

    def __init__(self, config: StationConfig, parent: QObject | None = None) -> None:
        super().__init__(parent)
        assert config.central is not None
        self._wait_s = config.central.claim_wait_s
        self.worker = SyncWorker(config)
        self._last: SyncStatus | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def status(self) -> SyncStatus:
        return self.worker.status

    def start(self) -> None:
        self.worker.start()
        self._timer.start()
        self._poll()

    def wake(self) -> None:
        """The station recorded something: push it now."""
        self.worker.wake()

    def claim(self, op_id: uuid.UUID) -> claims.ClaimAnswer:
        """The bench's claim on an order (runs on the database worker, waits briefly)."""
        return claims.claim(self.worker, op_id, self._wait_s)

    def _poll(self) -> None:
        status = self.worker.status
        if status != self._last:
            self._last = status
            self.status_changed.emit()

    def stop(self) -> None:
        """Stop polling and end the worker after the step in hand."""
        self._timer.stop()
        self.worker.stop(timeout=STOP_WAIT_S)
