"""A scanner's keystrokes for the GUI probes: each key posted with its own timestamp 1 ms after
the last (as the windowing system stamps a scanner's keys), the code's characters at scanner
speed, then delivered."""

from __future__ import annotations

import time
from typing import Any


class ScannerKeys:
    def __init__(self, window: Any) -> None:
        self._window = window
        self._stamp = int(time.monotonic() * 1000)

    def post(self, key: Any, text: str) -> None:
        """A key press and release for the focused widget, stamped 1 ms after the last key."""
        from PySide6.QtCore import QEvent, Qt
        from PySide6.QtGui import QKeyEvent
        from PySide6.QtWidgets import QApplication

        target = QApplication.focusWidget() or self._window
        self._stamp += 1
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text)
            event.setTimestamp(self._stamp)
            QApplication.postEvent(target, event)

    def type_code(self, code: str) -> None:
        """The code's characters at scanner speed, delivered; the terminator not yet."""
        from PySide6.QtCore import QCoreApplication, Qt

        self._stamp = max(self._stamp, int(time.monotonic() * 1000))
        for ch in code:
            self.post(Qt.Key(ord(ch.upper())), ch)
            deadline = time.perf_counter() + 0.001
            while time.perf_counter() < deadline:
                pass
        QCoreApplication.processEvents()
