"""What every scanning screen of a station has (the pack bench, the counter, the picker, the
returns desk): the feedback banner and its sound, the "Type a code" field whose Enter sends
what was typed as a scan, buttons that never take the focus, and the scan-to-screen times the
benchmarks and tests read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QPushButton, QWidget

from ui.feedback import Banner, Sounds


def focusless_button(parent: QWidget, text: str, slot: Callable[..., Any] | Any) -> QPushButton:
    """A button that never takes the focus: scans and typing keep their field."""
    button = QPushButton(text, parent)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.clicked.connect(slot)
    return button


class StationScreen(QWidget):
    """The base of a scanning screen; a screen lays out ``banner`` and ``code`` where it wants
    them and implements :meth:`handle_scan`.

    Signals:
        scan_shown(): the result of a scan is on screen.
    """

    scan_shown = Signal()

    def __init__(self, sounds: Sounds, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sounds = sounds
        self.feedback_ms: list[float] = []  # scan → result on screen (benchmarks, tests)
        self.banner = Banner(self)
        self.code = QLineEdit(self)
        self.code.setObjectName("manualCode")
        self.code.setPlaceholderText(self.tr("Type a code and press Enter"))
        self.code.setAccessibleName(self.tr("Type a code"))
        self.code.returnPressed.connect(self._typed_code)

    def handle_scan(self, code: str) -> None:
        raise NotImplementedError

    def _typed_code(self) -> None:
        text = self.code.text().strip()
        self.code.clear()
        if text:
            self.handle_scan(text)

    def _button(self, text: str, slot: Any) -> QPushButton:
        return focusless_button(self, text, slot)

    def _feedback(self, kind: str, words: str) -> None:
        """Words on the banner (``good``, ``bad``, ``warn``, ``info``); a good or bad one
        sounds its tone."""
        self.banner.show_message(kind, words)
        if kind in ("good", "bad"):
            self._sounds.play(kind)
