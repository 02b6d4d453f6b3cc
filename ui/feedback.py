"""Good/bad feedback: a banner (colour AND icon AND words) and a sound.

About 1 in 12 men cannot tell red from green, so the banner never relies on colour alone: a
tick or a cross, the words, and two tones that differ in pitch and rhythm. QtMultimedia is
imported lazily, after the window is shown; if it cannot load, that is logged once and the
station carries on silently.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QPointF, QRect, QRectF, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QStaticText,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ui.theme import RESOURCES

log = logging.getLogger(__name__)

ICONS = {"good": "✓", "bad": "✗", "warn": "!", "info": "ℹ"}


# (background, border) of each kind; the words on them are white. "info" follows the theme.
_KIND_COLORS = {
    "good": ("#1a7f37", "#10592a"),
    "bad": ("#b3261e", "#7e1912"),
    "warn": ("#a35200", "#6e3700"),
}
_FLASH = "#ffd54f"
_ICON_PX, _TEXT_PX, _PAD = 44, 24, 16


def _static(words: str, width: int | None, alignment: Qt.AlignmentFlag) -> QStaticText:
    """Words laid out once (wrapped at ``width`` when given) and drawn from then on as they
    are: a repaint draws the glyphs without shaping and breaking the text again."""
    text = QStaticText(words)
    text.setTextFormat(Qt.TextFormat.PlainText)
    option = QTextOption(alignment)
    option.setWrapMode(
        QTextOption.WrapMode.WordWrap if width is not None else QTextOption.WrapMode.NoWrap
    )
    text.setTextOption(option)
    if width is not None:
        text.setTextWidth(width)
    return text


def _draw(painter: QPainter, box: QRect, text: QStaticText, alignment: Qt.AlignmentFlag) -> None:
    """``text`` in ``box``, centred on its height when asked (QStaticText draws from its top)."""
    y = float(box.top())
    if alignment & Qt.AlignmentFlag.AlignVCenter:
        y += (box.height() - text.size().height()) / 2
    elif alignment & Qt.AlignmentFlag.AlignBottom:
        y += box.height() - text.size().height()
    painter.drawStaticText(QPointF(box.left(), y), text)


class Banner(QWidget):
    """The feedback line under the instruction: kind ``good``, ``bad``, ``warn`` or ``info``.

    Painted by hand rather than styled: it changes on every scan, and a style-sheet frame with
    word-wrapped labels cost several milliseconds a repaint on the scan path.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self._kind = "info"
        self._words = ""
        self._flashing = False
        self.setMinimumHeight(84)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._icon_font = QFont(self.font())
        self._icon_font.setPixelSize(_ICON_PX)
        self._icon_font.setWeight(QFont.Weight.Black)
        self._text_font = QFont(self.font())
        self._text_font.setPixelSize(_TEXT_PX)
        self._text_font.setWeight(QFont.Weight.DemiBold)
        self._flash = QTimer(self)
        self._flash.setSingleShot(True)
        self._flash.timeout.connect(lambda: self._set_flash(False))
        self._icons: dict[str, QStaticText] = {}
        self._laid_out: tuple[str, QSize, QStaticText] | None = None  # words, size, layout

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def message(self) -> str:
        return self._words

    def sizeHint(self) -> QSize:
        return QSize(600, 84)

    def show_message(self, kind: str, words: str) -> None:
        self._kind = kind if kind in ICONS else "info"
        self._words = words
        self.setAccessibleName(f"{kind}: {words}")
        self.setToolTip(words)
        if kind in ("good", "bad"):
            self._flashing = True
            self._flash.start(180)
        self.update()

    def _set_flash(self, on: bool) -> None:
        # A bright frame for a moment draws the eye to the change even when the colour repeats
        # (two good scans in a row).
        if self._flashing != on:
            self._flashing = on
            self.update()

    def _colors(self) -> tuple[QColor, QColor, QColor]:
        if self._kind in _KIND_COLORS:
            fill, edge = _KIND_COLORS[self._kind]
            return QColor(fill), QColor(edge), QColor("#ffffff")
        window = self.palette().color(QPalette.ColorRole.Window)
        light = window.lightness() > 128
        bg = window.darker(108) if light else window.lighter(135)
        border = window.darker(125) if light else window.lighter(170)
        return bg, border, self.palette().color(QPalette.ColorRole.WindowText)

    def _words_box(self) -> QRect:
        return self.rect().adjusted(_PAD + 56 + 14, 6, -_PAD, -6)

    def _layout(self) -> QStaticText:
        """The words as they fit the banner (two lines at most, the rest in the tooltip), laid
        out once for these words at this size."""
        laid = self._laid_out
        if laid is not None and laid[0] == self._words and laid[1] == self.size():
            return laid[2]
        box = self._words_box()
        metrics = QFontMetrics(self._text_font, self)
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
        words = self._words
        if metrics.boundingRect(box, flags, words).height() > box.height():
            words = metrics.elidedText(words, Qt.TextElideMode.ElideRight, box.width() * 2 - 40)
        text = _static(words, box.width(), Qt.AlignmentFlag.AlignLeft)
        text.prepare(font=self._text_font)
        self._laid_out = (self._words, self.size(), text)
        return text

    def _icon(self) -> QStaticText:
        icon = self._icons.get(self._kind)
        if icon is None:
            icon = self._icons[self._kind] = _static(
                ICONS.get(self._kind, ""), None, Qt.AlignmentFlag.AlignCenter
            )
            icon.prepare(font=self._icon_font)
        return icon

    def paintEvent(self, event: QPaintEvent) -> None:
        bg, border, fg = self._colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(_FLASH) if self._flashing else border, 3 if self._flashing else 2)
        painter.setPen(pen)
        painter.setBrush(bg)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5), 10, 10)
        painter.setPen(fg)
        icon = self._icon()
        painter.setFont(self._icon_font)
        icon_left = _PAD + (56 - int(icon.size().width())) // 2
        _draw(painter, QRect(icon_left, 0, 56, self.height()), icon, Qt.AlignmentFlag.AlignVCenter)
        painter.setFont(self._text_font)
        _draw(painter, self._words_box(), self._layout(), Qt.AlignmentFlag.AlignVCenter)
        painter.end()


class LiveText(QLabel):
    """A label whose words change on every scan, repainted in place.

    ``QLabel.setText`` asks the whole window for a new layout each time (a few hundred
    microseconds on the scan path); this one asks only when the new words need another height
    (``wrap``: word-wrapped) and otherwise just repaints itself. On one line it elides what does
    not fit. With ``lines`` (word-wrapped) its height is that many lines whatever it says, and
    words that need more end elided on the last line: new words never move the widgets around
    it. Style sheets see it as a QLabel (type and object name); their box is drawn as usual.
    ``text()`` and ``setText()`` work as a QLabel's do, from Python.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        wrap: bool = False,
        lines: int = 0,
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(" ", parent)  # the size hints of one line of text, whatever it says
        self._text = ""
        self._wrap = wrap or lines > 0
        self._lines = lines
        self._elide = elide
        self._align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self._measured: tuple[str, int, int] = ("", -1, 0)  # words, width, height
        if self._wrap and not lines:
            policy = self.sizePolicy()
            policy.setHeightForWidth(True)
            self.setSizePolicy(policy)

    def text(self) -> str:
        return self._text

    def setAlignment(self, alignment: Qt.AlignmentFlag) -> None:
        self._align = alignment
        super().setAlignment(alignment)

    def setText(self, text: str) -> None:
        if text == self._text:
            return
        if self._wrap and not self._lines:
            # The height the old words had at this width, measured once.
            if self._measured[:2] != (self._text, self.width()):
                self._measured = (self._text, self.width(), self._height(self._text))
            height = self._height(text)
            relayout = height != self._measured[2]
            self._measured = (text, self.width(), height)
        else:
            relayout = False
        self._text = text
        self.setAccessibleName(text)
        if relayout:
            self.updateGeometry()
        self.update()

    def hasHeightForWidth(self) -> bool:
        return self._wrap and not self._lines

    def heightForWidth(self, width: int) -> int:
        if not self.hasHeightForWidth():
            return super().heightForWidth(width)
        return self._height(self._text, width)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self._lines:
            return QSize(hint.width(), self._lines_height())
        if self._wrap and self.width() > 0:
            return QSize(hint.width(), self._height(self._text))
        return hint

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if self._lines:
            return QSize(hint.width(), self._lines_height())
        return hint

    def _lines_height(self) -> int:
        return super().sizeHint().height() + (self._lines - 1) * self.fontMetrics().lineSpacing()

    def _fitted(self, width: int) -> str:
        """The words as they fit in ``lines`` lines of ``width``: what does not, elided."""
        text = self._text
        layout = QTextLayout(text, self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        layout.setTextOption(option)
        layout.beginLayout()
        starts: list[int] = []
        while len(starts) <= self._lines:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            starts.append(line.textStart())
        layout.endLayout()
        if len(starts) <= self._lines:
            return text
        last = starts[self._lines - 1]
        tail = self.fontMetrics().elidedText(text[last:], self._elide, width)
        return text[:last] + tail

    def _text_rect(self, rect: QRect) -> QRect:
        # As QLabel: a framed label indents its text by half an "x".
        if self.indent() < 0 and self.frameWidth() > 0:
            rect = rect.adjusted(self.fontMetrics().horizontalAdvance("x") // 2, 0, 0, 0)
        return rect

    def _height(self, text: str, width: int | None = None) -> int:
        margins = self.contentsMargins()
        one_line = super().sizeHint().height()
        if not text:
            return one_line
        inner = (self.width() if width is None else width) - margins.left() - margins.right()
        box = self._text_rect(QRect(0, 0, max(inner, 1), 100_000))
        used = self.fontMetrics().boundingRect(box, int(Qt.TextFlag.TextWordWrap), text)
        lines = max(1, round(used.height() / max(self.fontMetrics().lineSpacing(), 1)))
        return one_line + (lines - 1) * self.fontMetrics().lineSpacing()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.drawFrame(painter)
        rect = self._text_rect(self.contentsRect())
        if self._lines:
            flags = int(self._align | Qt.TextFlag.TextWordWrap)
            text = self._fitted(rect.width())
        elif self._wrap:
            flags = int(self._align | Qt.TextFlag.TextWordWrap)
            text = self._text
        else:
            flags = int(self._align)
            text = self.fontMetrics().elidedText(self._text, self._elide, rect.width())
        self.style().drawItemText(
            painter, rect, flags, self.palette(), self.isEnabled(), text, self.foregroundRole()
        )
        painter.end()


class Sounds(QObject):
    """Plays the good and bad tones. Disabled (``enabled=False``) nothing is loaded at all."""

    def __init__(self, enabled: bool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self._effects: dict[str, Any] | None = None
        self._failed = False

    def load(self) -> None:
        """Load QtMultimedia and the WAVs; call once the window is on screen."""
        if not self.enabled or self._effects is not None or self._failed:
            return
        try:
            from PySide6.QtMultimedia import QSoundEffect

            effects: dict[str, Any] = {}
            for kind in ("good", "bad"):
                effect = QSoundEffect(self)
                effect.setSource(QUrl.fromLocalFile(str(RESOURCES / "sounds" / f"{kind}.wav")))
                effect.setVolume(0.9)
                effects[kind] = effect
            self._effects = effects
        except Exception:
            self._failed = True
            log.warning("sounds are off: QtMultimedia could not be loaded", exc_info=True)

    def play(self, kind: str) -> None:
        if not self.enabled:
            return
        if self._effects is None:
            self.load()
        effect = (self._effects or {}).get(kind)
        if effect is not None:
            effect.play()
