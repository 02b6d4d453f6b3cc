"""A serial scanner's scans into the GUI: the same path as the wedge filter's.

``app.scanning.serial_scanner.SerialScanner`` reads the port on a thread of its own and calls
back on that thread. Here those calls become signals on the GUI thread: each scan and status
is put on a queue and an argument-less queued signal wakes the GUI to take them off, so no
Python object crosses threads inside a Qt signal.
"""

from __future__ import annotations

import logging
import queue

from PySide6.QtCore import QMetaMethod, QObject, Qt, Signal

from app.scanning.serial_scanner import SerialScanner, SerialSettings, SerialStatus
from app.scanning.trace import ScanTrace

logger = logging.getLogger(__name__)


class SerialInput(QObject):
    """Owns the reader thread of one serial scanner.

    Signals:
        scanned(str): a scan, as the scanner sent it without prefix, suffix and terminator,
            not yet normalised. Connect it where the wedge filter's ``scanned`` goes.
        traced(object): just before ``scanned``: its ``ScanTrace`` (bytes and their times).
        status_changed(bool, str): the scanner came or went: connected, and words for it.
    """

    scanned = Signal(str)
    traced = Signal(object)
    status_changed = Signal(bool, str)
    _wake = Signal()

    def __init__(self, settings: SerialSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._inbox: queue.SimpleQueue[tuple[str, ScanTrace] | SerialStatus] = queue.SimpleQueue()
        self._wake.connect(self._take, Qt.ConnectionType.QueuedConnection)
        self._traced_signal = QMetaMethod.fromSignal(self.traced)
        self._reader = SerialScanner(settings, self._on_scan, self._on_status)
        self._started = False
        self.connected = False
        self.status = ""

    @property
    def port(self) -> str:
        return self._reader.settings.port

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._reader.start()

    def stop(self) -> None:
        if self._started:
            self._started = False
            self._reader.stop()

    # Called on the reader thread.
    def _on_scan(self, text: str, trace: ScanTrace) -> None:
        self._inbox.put((text, trace))
        self._wake.emit()

    def _on_status(self, status: SerialStatus) -> None:
        self._inbox.put(status)
        self._wake.emit()

    # On the GUI thread.
    def _take(self) -> None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, SerialStatus):
                logger.info("serial scanner: %s", item.message)
                self.connected, self.status = item.connected, item.message
                self.status_changed.emit(item.connected, item.message)
                continue
            text, trace = item
            if self.isSignalConnected(self._traced_signal):
                self.traced.emit(trace)
            self.scanned.emit(text)
