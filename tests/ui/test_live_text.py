"""LiveText: words that change on every scan repaint in place; a new layout only when the
words need another height."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMargins, QObject, QRect, Qt
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from ui.feedback import LiveText

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


class _Layouts(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


ONE_LINE = "Package 1 · 1 unit · filling now"
TWO_LINES = "Package 1 · 12 units · Medium box · 12.5 kg"


def _sides(margins: QMargins) -> int:
    return margins.left() + margins.right()


def panel(qtbot: QtBot, *, wrap: bool, lines: int = 0) -> tuple[QWidget, LiveText]:
    """A page as wide as the one-line words with room for a few more letters, whatever the
    font of this machine: the longest words here need two lines, never three."""
    page = QWidget()
    qtbot.addWidget(page)
    box = QVBoxLayout(page)
    label = LiveText(page, wrap=wrap, lines=lines)
    box.addWidget(label)
    box.addStretch(1)
    page.show()
    qtbot.waitExposed(page)
    # Measured once shown: the font is the one the label paints with (style sheets applied).
    metrics = label.fontMetrics()
    room = metrics.horizontalAdvance(ONE_LINE + " · more")
    assert room < metrics.horizontalAdvance(TWO_LINES) < 1.7 * room
    page.resize(room + _sides(box.contentsMargins()) + _sides(label.contentsMargins()), 300)
    label.setText(ONE_LINE)
    qtbot.waitUntil(lambda: label.width() >= room)
    QApplication.processEvents()
    return page, label


def test_new_words_of_the_same_height_repaint_without_a_new_layout(qtbot: QtBot) -> None:
    page, label = panel(qtbot, wrap=True)
    one_line = label.height()
    layouts = _Layouts()
    page.installEventFilter(layouts)
    label.setText("Package 1 · 2 units · filling now")
    QApplication.processEvents()
    assert layouts.count == 0
    assert label.text() == "Package 1 · 2 units · filling now"
    assert label.accessibleName() == label.text()
    assert label.height() == one_line


def test_words_that_need_two_lines_get_them(qtbot: QtBot) -> None:
    _page, label = panel(qtbot, wrap=True)
    one_line = label.height()
    label.setText(TWO_LINES)
    qtbot.waitUntil(lambda: label.height() > one_line)
    assert label.height() < 3 * one_line
    label.setText("Package 1 · 1 unit")
    qtbot.waitUntil(lambda: label.height() == one_line)


def test_one_line_elides_what_does_not_fit(qtbot: QtBot) -> None:
    page, label = panel(qtbot, wrap=False)
    height, width = label.height(), page.width()
    words = "3 of 5 units · " + "a very long customer name " * 10
    label.setText(words)
    QApplication.processEvents()
    assert (label.height(), page.width()) == (height, width)  # the window does not grow
    assert label.sizeHint().width() < width
    assert label.text() == words  # all of it, for whoever reads it; the screen elides


def test_a_set_number_of_lines_keeps_its_height_whatever_the_words(qtbot: QtBot) -> None:
    page, label = panel(qtbot, wrap=True, lines=2)
    metrics = label.fontMetrics()
    two_lines = label.height()
    assert two_lines >= 2 * metrics.lineSpacing()
    layouts = _Layouts()
    page.installEventFilter(layouts)
    words = "Scan the next item, or complete the return and resolve it " * 4
    for text in (TWO_LINES, "Package 1", words):
        label.setText(text)
        QApplication.processEvents()
        assert label.height() == two_lines
    assert layouts.count == 0  # nothing around it moved
    assert label.text() == words  # all of it, for whoever reads it
    shown = label._fitted(label.contentsRect().width())
    assert shown.endswith("…") and len(shown) < len(words)
    box = metrics.boundingRect(
        QRect(0, 0, label.contentsRect().width(), 10_000), int(Qt.TextFlag.TextWordWrap), shown
    )
    assert box.height() <= 2 * metrics.lineSpacing()  # the words painted fill two lines
    label.setText(TWO_LINES)
    assert label._fitted(label.contentsRect().width()) == TWO_LINES  # fits: nothing elided
