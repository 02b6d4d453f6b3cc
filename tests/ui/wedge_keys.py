"""Key events as a wedge scanner sends them, stamped the way the windowing system stamps them.

The wedge filter goes by the events' own timestamps, so keys stamped 1 ms apart are a
scanner's however busy the test machine is, and keys stamped far apart are a person's.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

CTRL = Qt.KeyboardModifier.ControlModifier
NO_MODIFIER = Qt.KeyboardModifier.NoModifier
ENTER, TAB = Qt.Key.Key_Return, Qt.Key.Key_Tab
GS_KEYS = {
    "]": Qt.Key.Key_BracketRight,  # a US keyboard
    "$": Qt.Key.Key_Dollar,  # the same key on AZERTY
    "+": Qt.Key.Key_Plus,  # ... and on QWERTZ
}


def pause(seconds: float) -> None:
    """Busy-wait: time.sleep may oversleep by more than a scanner's whole inter-key gap."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class Scanner:
    """Types into whatever has the focus, ``gap_ms`` apart by the events' stamps."""

    def __init__(self, gap_ms: int = 1) -> None:
        self.stamp = int(time.monotonic() * 1000) % 1_000_000_000 + 1_000_000
        self.gap_ms = gap_ms

    def press(
        self, char: str, key: int | None = None, modifiers: Qt.KeyboardModifier = NO_MODIFIER
    ) -> None:
        """Press and release the key that types ``char`` (QTest cannot type non-Latin-1)."""
        target = QApplication.focusWidget() or QApplication.activeWindow()
        assert target is not None
        if key is None:
            upper = char.upper()
            key = ord(upper) if len(upper) == 1 else ord(char)  # é → Key_Eacute, ß → Key_ssharp
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, modifiers, char)
            event.setTimestamp(self.stamp)
            QApplication.sendEvent(target, event)
        self.stamp += self.gap_ms
        if self.gap_ms < 10:
            pause(self.gap_ms / 1000)
        else:
            deadline = time.perf_counter() + self.gap_ms / 1000
            while time.perf_counter() < deadline:  # a person: the station works meanwhile
                QApplication.processEvents()

    def types(self, keys: str, terminator: Qt.Key | None = ENTER, gs: str = "]") -> None:
        """``keys``, then ``terminator``; ``\\x1d`` (GS) is sent as Ctrl+``gs``."""
        for char in keys:
            if char == "\x1d":
                self.press("", GS_KEYS[gs], CTRL)
            else:
                self.press(char)
        if terminator is not None:
            self.press({ENTER: "\r", TAB: "\t"}[terminator], terminator)
