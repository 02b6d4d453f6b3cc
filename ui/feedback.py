"""Good/bad feedback: a banner (colour AND icon AND words) and a sound.

About 1 in 12 men cannot tell red from green, so the banner never relies on colour alone: a
tick or a cross, the words, and two tones that differ in pitch and rhythm. QtMultimedia is
imported lazily, after the window is shown; if it cannot load, that is logged once and the
station carries on silently.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QWidget

from ui.theme import RESOURCES

log = logging.getLogger(__name__)

ICONS = {"good": "✓", "bad": "✗", "warn": "!", "info": "ℹ"}


class Banner(QFrame):
    """The feedback line under the instruction: kind ``good``, ``bad``, ``warn`` or ``info``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setProperty("kind", "info")
        self.icon = QLabel(ICONS["info"], self)
        self.icon.setObjectName("bannerIcon")
        self.text = QLabel("", self)
        self.text.setObjectName("bannerText")
        self.text.setWordWrap(True)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 8, 16, 8)
        row.setSpacing(14)
        row.addWidget(self.icon)
        row.addWidget(self.text, 1)
        self.setMinimumHeight(76)
        self._flash = QTimer(self)
        self._flash.setSingleShot(True)
        self._flash.timeout.connect(lambda: self._set_flash(False))

    @property
    def kind(self) -> str:
        return str(self.property("kind"))

    def show_message(self, kind: str, words: str) -> None:
        self.text.setText(words)
        self.setAccessibleName(f"{kind}: {words}")
        if kind != self.kind:
            self.setProperty("kind", kind)
            self.icon.setText(ICONS.get(kind, ICONS["info"]))
            self._repolish(self, self.icon, self.text)
        if kind in ("good", "bad"):
            self._set_flash(True)
            self._flash.start(180)

    def _set_flash(self, on: bool) -> None:
        # A bright frame for a moment draws the eye to the change even when the colour repeats
        # (two good scans in a row).
        flash = "true" if on else "false"
        if self.property("flash") != flash:
            self.setProperty("flash", flash)
            self._repolish(self)

    def _repolish(self, *widgets: QWidget) -> None:
        style = self.style()
        for w in widgets:
            style.unpolish(w)
            style.polish(w)


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
