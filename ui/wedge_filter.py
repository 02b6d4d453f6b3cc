"""The one place keyboard-wedge scans enter the GUI: an application-level key event filter.

Installed on the QApplication, it sees every key press meant for the main window's widgets
before they do, asks ``app.scanning.wedge.WedgeDetector`` whether it is part of a scan, and:

- swallows the keys of a scan and its terminator, then emits ``scanned`` with the text, so a
  scan reaches the active workflow whatever has the focus and never lands in a field;
- holds each typed character back until it is clear it was typed (``max_gap_ms``, 25 ms by
  default), then re-delivers a copy, with its release, to the widget that had the focus, in
  order. A person notices no delay at that scale.

Time is the key event's own timestamp (when the windowing system made it) brought onto the
``time.monotonic`` clock, so a GUI thread held up for a moment (a worker thread holding the GIL)
neither splits a scan nor makes typed keys look like a burst. Where events carry no timestamp
(offscreen, synthesised events) it is ``time.monotonic`` when the filter sees the event.

Keys can also reach an idle GUI late, and in batches (a remote desktop, a scanner behind a
virtual machine's USB): the filter would decide a burst had ended while the rest of it was
still on its way, and split the scan. So it notes how late keys arrive (now, less the time
they were made) and waits that much longer (the largest of the last keys', at most
``MAX_LAG_MS``) before deciding a burst ended. Where keys arrive on time nothing changes.

GS (ASCII 29) is typed by scanners as Ctrl+]. On a French or German keyboard that key is ``$``
or ``+``, so Ctrl+$ and Ctrl++ are GS too (``[scanner] layout``: both in ``auto``, one in
``azerty``/``qwertz``); the scan's text is then read for the layout by the detector.

Known limit: a shortcut bound to a bare character key (no Ctrl/Alt) fires before any event
filter sees the key, even inside a scan. Station shortcuts use modifiers or function keys.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QMetaMethod, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.scanning.wedge import Outcome, ScanRead, WedgeDetector, WedgeSettings

logger = logging.getLogger(__name__)

_TERMINATOR_KEYS = {
    Qt.Key.Key_Return: ("\r", "enter"),
    Qt.Key.Key_Enter: ("\r", "enter"),
    Qt.Key.Key_Tab: ("\t", "tab"),
}
_MODIFIER_KEYS = {
    Qt.Key.Key_Shift: "shift",
    Qt.Key.Key_Control: "ctrl",
    Qt.Key.Key_Alt: "alt",
    Qt.Key.Key_AltGr: "altgr",
    Qt.Key.Key_Meta: "meta",
    Qt.Key.Key_CapsLock: "capslock",
}
# The key at the US "]" position, typed with Ctrl for GS, on each keyboard layout.
_GS_KEYS = {
    "us": frozenset({Qt.Key.Key_BracketRight}),
    "azerty": frozenset({Qt.Key.Key_BracketRight, Qt.Key.Key_Dollar}),
    "qwertz": frozenset({Qt.Key.Key_BracketRight, Qt.Key.Key_Plus}),
    "auto": frozenset({Qt.Key.Key_BracketRight, Qt.Key.Key_Dollar, Qt.Key.Key_Plus}),
}
_CTRL = Qt.KeyboardModifier.ControlModifier
_ALT = Qt.KeyboardModifier.AltModifier
_META = Qt.KeyboardModifier.MetaModifier


LATE_TIMER_MS = 10.0  # a deadline timer this late means the GUI thread was held up
MAX_LAG_MS = 250.0  # the longest extra wait for keys still on their way
LAG_KEYS = 48  # how many recent keys' lateness the wait follows


def _monotonic_ms() -> float:
    return time.monotonic() * 1000.0


class _HeldKey:
    """A key press the detector holds: copies of its events and where they were going."""

    __slots__ = ("code", "events", "released", "target")

    def __init__(self, target: QWidget, press: QKeyEvent) -> None:
        self.target = target
        self.code = press.key()
        self.events = [QKeyEvent(press)]  # Qt reuses the original once the filter returns
        self.released = False


def describe_key(event: QKeyEvent, layout: str = "auto") -> tuple[str, str | None]:
    """Turn a key press into the detector's ``(text, key name)``; name None for a character.

    ``layout`` is the station's ``[scanner] layout``: which Ctrl+key is GS.
    """
    key = event.key()
    modifiers = event.modifiers()
    text = event.text()
    if modifiers & _CTRL and (key in _GS_KEYS[layout] or text == "\x1d"):
        return "\x1d", None  # GS, as a wedge scanner types it
    if key in _MODIFIER_KEYS:
        return "", _MODIFIER_KEYS[Qt.Key(key)]
    if event.isAutoRepeat():
        return "", "autorepeat"
    # Ctrl+Alt is AltGr on Windows: it types characters (@, €...), it is no shortcut.
    altgr = bool(modifiers & _CTRL) and bool(modifiers & _ALT)
    if modifiers & (_CTRL | _ALT | _META) and not altgr:
        return "", f"shortcut-{key:x}-{modifiers.value:x}"
    if key in _TERMINATOR_KEYS:
        return _TERMINATOR_KEYS[Qt.Key(key)]
    if text and text.isprintable():
        return text, None
    return "", f"key-{key:x}"


class WedgeFilter(QObject):
    """Recognises wedge scans among the main window's key presses; see the module docstring.

    Install it with ``app.installEventFilter(wedge_filter)``. It is a child of ``window``.

    Signals:
        scanned(str): a wedge scan was read: the text the scanner typed, without prefix,
            suffix or terminator, read for the keyboard layout, not yet normalised (see
            ``app.scanning.normalize``). Emitted from the event loop (queued), never from
            inside a key event.
        traced(object): just before ``scanned``: the ``app.scanning.trace.ScanTrace`` of that
            scan (each key with its time, what ended it), for the scanner check screen.
    """

    scanned = Signal(str)
    traced = Signal(object)
    _read = Signal(str)
    _traced = Signal(object)

    def __init__(
        self,
        window: QWidget,
        settings: WedgeSettings | None = None,
        *,
        clock: Callable[[], float] = _monotonic_ms,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._detector: WedgeDetector[_HeldKey] = WedgeDetector(settings or WedgeSettings())
        self._clock = clock
        self._offset: float | None = None  # event timestamps → our clock
        self._lags: deque[float] = deque(maxlen=LAG_KEYS)  # how late recent keys arrived (ms)
        self._waited_late = False
        self._enabled = True
        self._replaying = False
        self._awaiting_release: dict[int, _HeldKey] = {}
        self._eat_release: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_deadline)
        self._traced.connect(self.traced, Qt.ConnectionType.QueuedConnection)
        # A trace is made only while someone shows it: the scan path does not pay for it.
        self._traced_signal = QMetaMethod.fromSignal(self.traced)
        self._read.connect(self.scanned, Qt.ConnectionType.QueuedConnection)

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        """Switch recognition on or off; switching off gives held keys back at once."""
        if not enabled and self._enabled:
            self._apply(self._detector.drain())
            self._timer.stop()
        self._enabled = enabled

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._replaying or not self._enabled:
            return False
        if event.type() not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(event, QKeyEvent) or not self._is_first_receiver(watched):
            return False
        assert isinstance(watched, QWidget)  # checked by _is_first_receiver
        if event.type() == QEvent.Type.KeyRelease:
            return self._on_release(event)
        return self._on_press(watched, event)

    def _is_first_receiver(self, watched: QObject) -> bool:
        """True once per key: for the focus widget, not its parents as the event propagates."""
        if not isinstance(watched, QWidget) or not self._owns(watched.window()):
            return False
        focus = QApplication.focusWidget()
        return watched is (focus if focus is not None else watched.window())

    def _owns(self, window: QWidget) -> bool:
        """The main window, or a dialog it owns (a scan while a dialog is open is a scan)."""
        current: QWidget | None = window
        while current is not None:
            if current is self._window:
                return True
            parent = current.parentWidget()
            current = parent.window() if parent is not None else None
        return False

    def _event_time(self, event: QKeyEvent) -> float:
        """When the key was pressed, on the filter's clock (ms)."""
        now = self._clock()
        stamp = float(event.timestamp())
        if stamp <= 0:
            return now
        # The smallest (now - stamp) seen is the offset between the two clocks: the event
        # that waited least in the queue. A later, smaller one corrects it; a wrap-around or a
        # clock jump (the offset grows past reason) starts it afresh.
        offset = now - stamp
        if self._offset is None or offset < self._offset or offset - self._offset > 5000:
            self._offset = offset
        self._lags.append(offset - self._offset)
        return stamp + self._offset

    @property
    def lag_ms(self) -> float:
        """The extra wait for keys still on their way: how late recent keys arrived."""
        return min(max(self._lags, default=0.0), MAX_LAG_MS)

    def _on_press(self, target: QWidget, event: QKeyEvent) -> bool:
        text, name = describe_key(event, self._detector.settings.layout)
        held = _HeldKey(target, event)
        verdict = self._detector.key(text, name, self._event_time(event), held)
        self._apply(verdict.outcomes)
        if verdict.hold and self._detector.holding and name is None:
            self._awaiting_release[held.code] = held
        elif verdict.hold and name is not None:
            self._eat_release.add(held.code)  # a terminator swallowed with its scan
        self._arm_timer()
        return verdict.hold

    def _on_release(self, event: QKeyEvent) -> bool:
        if event.isAutoRepeat():
            return False
        held = self._awaiting_release.pop(event.key(), None)
        if held is not None:
            held.events.append(QKeyEvent(event))
            held.released = True
            return True
        if event.key() in self._eat_release:
            self._eat_release.discard(event.key())
            return True
        return False

    def _on_deadline(self) -> None:
        now = self._clock()
        deadline = self._detector.deadline()
        if deadline is not None:
            deadline += self.lag_ms
        if (
            deadline is not None
            and now - deadline > LATE_TIMER_MS
            and self._detector.settings.max_gap_ms > 0
            and not self._waited_late
        ):
            # The timer fires late: the GUI thread was held up, and keys that arrived meanwhile
            # may still be waiting in the queue. Let them in before deciding the burst ended.
            self._waited_late = True
            self._timer.start(math.ceil(self._detector.settings.max_gap_ms))
            return
        self._waited_late = False
        self._apply(self._detector.timeout(now))
        self._arm_timer()

    def _arm_timer(self) -> None:
        self._waited_late = False
        deadline = self._detector.deadline()
        if deadline is None:
            self._timer.stop()
        else:
            self._timer.start(max(0, math.ceil(deadline + self.lag_ms - self._clock())))

    def _apply(self, outcomes: tuple[Outcome[_HeldKey], ...]) -> None:
        for outcome in outcomes:
            for held in outcome.keys:
                if self._awaiting_release.get(held.code) is held:
                    del self._awaiting_release[held.code]
            if isinstance(outcome, ScanRead):
                self._eat_release.update(h.code for h in outcome.keys if not h.released)
                logger.debug("wedge scan read: %r", outcome.text)
                if self.isSignalConnected(self._traced_signal):
                    self._traced.emit(outcome.trace())
                self._read.emit(outcome.text)
            else:
                for held in outcome.keys:
                    self._replay(held)

    def _replay(self, held: _HeldKey) -> None:
        if not shiboken6.isValid(held.target):
            return  # the widget was closed while its key was held; the key goes nowhere
        self._replaying = True
        try:
            for event in held.events:
                QApplication.sendEvent(held.target, event)
        finally:
            self._replaying = False
