"""Small widgets of the picker screen that change on every scan, so they paint themselves
(re-polishing a style sheet costs milliseconds on the scan path)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.theme import Colors

_W, _H, _GAP, _RADIUS = 132, 44, 12, 8


class StepChips(QWidget):
    """The steps of a stop (bin, item, tote): the current one filled, those done ticked."""

    def __init__(self, words: tuple[str, ...], colors: Colors, parent: QWidget | None = None):
        super().__init__(parent)
        self._words = words
        self._c = colors
        self._current = -1  # no stop: every chip plain
        self._font = QFont(self.font())
        self._font.setPixelSize(20)
        self._font.setWeight(QFont.Weight.Bold)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    @property
    def current(self) -> int:
        return self._current

    def set_current(self, index: int) -> None:
        if index != self._current:
            self._current = index
            self.setAccessibleName(
                " · ".join(
                    w + (" ✓" if i < index else " ←" if i == index else "")
                    for i, w in enumerate(self._words)
                )
            )
            self.update()

    def sizeHint(self) -> QSize:
        n = len(self._words)
        return QSize(n * _W + (n - 1) * _GAP + 4, _H + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        c = self._c
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self._font)
        for i, words in enumerate(self._words):
            box = QRectF(2 + i * (_W + _GAP), 2, _W, _H)
            if self._current < 0 or i > self._current:
                fill, edge, text = c.alt_base, c.muted, c.muted
            elif i == self._current:
                fill, edge, text = c.accent, c.accent, "#ffffff"
            else:
                fill, edge, text = c.done_bg, c.done_text, c.done_text
                words = f"{words} ✓"
            painter.setPen(QPen(QColor(edge), 1.5))
            painter.setBrush(QColor(fill))
            painter.drawRoundedRect(box, _RADIUS, _RADIUS)
            painter.setPen(QColor(text))
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), words)
        painter.end()
