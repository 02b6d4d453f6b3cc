"""Tell a keyboard-wedge scanner from a person typing, from key timing alone. No Qt.

A wedge scanner types its code as keystrokes about 1 ms apart, then usually Enter or Tab (or
nothing). People type 40 ms or more apart. The station must catch every scan whatever has the
focus, never let a scan's characters land in a text field, and never take slow typing for a
scan. The catch: the first key of a scan looks exactly like a typed key. So every character is
held back when it arrives, and released ("replayed") to the focused widget as soon as it is
clear it was typed: when no second key follows within ``max_gap_ms``.

The detector is a pure state machine. The caller passes each key press with the time it
arrived and an opaque ``ref`` (the Qt adapter passes a copy of the key event), and acts on the
verdict, in this order:

1. each outcome, in order: ``ScanRead`` (a scan: its keys are gone for good) or ``Replay``
   (keys held that turned out to be typing: deliver their refs to the widget, in order);
2. then, if ``hold`` is False, let the current key through; if True, swallow it (for now).

It also arms a timer for ``deadline()`` and calls ``timeout(now)`` when it fires; a late timer
does no harm, since every ``key()`` first settles whatever a timely timer would have settled.

Keys are described by ``text`` (what the key types; GS arrives as Ctrl+] and is passed as
``"\\x1d"``) and ``key``: None for a plain character, else a lower-case name: ``"enter"``,
``"tab"``, ``"shift"``... A character typed with Ctrl, Alt or Meta is a shortcut, not a
character: pass a name for it (``"ctrl+s"``), never ``key=None``.

A scan's text is read as the scanner meant it for the station's keyboard ``layout``
(``app.scanning.keyboard``: a US-set scanner on AZERTY types ``&é"'(`` for 12345). Each
``ScanRead`` also carries what was typed, when, and what ended it, for the scanner check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from app.domain.errors import ConfigError
from app.scanning.keyboard import LAYOUTS, read_as_meant
from app.scanning.trace import ScanTrace, SentKey

T = TypeVar("T")

MODIFIER_KEYS = frozenset({"shift", "ctrl", "alt", "altgr", "meta", "capslock"})
"""Keys pressed on their own that neither type nor end anything: they pass straight through
and leave a scan in progress alone (scanners press Shift for every capital letter)."""


@dataclass(frozen=True, slots=True)
class WedgeSettings:
    """How this station's wedge scanners type; in the station configuration."""

    prefix: str = ""
    """Text the scanner is set to send before each code; stripped from the scan if present."""
    suffix: str = ""
    """Text the scanner is set to send after each code (besides a terminator key). It ends
    the scan at once and is stripped, so it must never occur inside a code."""
    terminators: frozenset[str] = frozenset({"enter", "tab"})
    """Key names that end a scan; swallowed with it."""
    max_gap_ms: float = 25.0
    """Keys closer than this belong to one burst; a scanner types ~1 ms apart, people ≥ 40."""
    min_length: int = 3
    """Bursts shorter than this (after prefix and suffix) are typing: a fast typist's
    two-key roll-over must not become a scan."""
    end_timeout_ms: float = 60.0
    """A burst with no terminator ends after this silence (scanners set to send no suffix)."""
    require_terminator: bool = False
    """If every scanner here sends a terminator or suffix, set this: a burst that just stops is
    then always typing, so even a very fast typist can never lose text to the detector."""
    layout: str = "auto"
    """The keyboard layout scanners type for; see ``app.scanning.keyboard``."""

    def __post_init__(self) -> None:
        if self.max_gap_ms <= 0 or self.end_timeout_ms < self.max_gap_ms:
            msg = (
                f"Scanner timing is impossible: max_gap_ms={self.max_gap_ms}, "
                f"end_timeout_ms={self.end_timeout_ms}. The gap must be above 0 and the "
                "end timeout at least the gap — fix the [scanner] section of the station file."
            )
            raise ConfigError(msg)
        if self.layout not in LAYOUTS:
            msg = (
                f"Scanner layout {self.layout!r} is not one of {', '.join(LAYOUTS)} — fix the "
                "[scanner] section of the station file."
            )
            raise ConfigError(msg)
        if self.min_length < 1:
            msg = (
                f"Scanner min_length={self.min_length} must be at least 1 — fix the [scanner] "
                "section of the station file."
            )
            raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class ScanRead(Generic[T]):
    """A scan was read. ``text`` is what the scanner meant: what it typed, without prefix and
    suffix, read for the keyboard layout."""

    text: str
    keys: tuple[T, ...]
    """Refs of the held keys that made the scan. They must never reach a widget."""
    typed: tuple[str, ...] = field(default=(), compare=False)
    """What each key typed, prefix and suffix included."""
    times: tuple[float, ...] = field(default=(), compare=False)
    """When each of those keys came (ms)."""
    ended_by: str | None = field(default=None, compare=False)
    """``"enter"``, ``"tab"`` (the terminator key), ``"suffix"``, or None: it ended in silence
    or at another key."""
    end_ms: float | None = field(default=None, compare=False)
    """When the terminator key came, if there was one."""
    layout: str | None = field(default=None, compare=False)
    """The keyboard layout the text was read for, when it differs from what was typed."""

    def trace(self) -> ScanTrace:
        """The record of this scan for the scanner check screen."""
        keys = [SentKey(c, None, t) for c, t in zip(self.typed, self.times, strict=True)]
        if self.ended_by in ("enter", "tab") and self.end_ms is not None:
            keys.append(SentKey("", self.ended_by, self.end_ms))
        return ScanTrace("keyboard", tuple(keys), self.text, self.ended_by, self.layout)


@dataclass(frozen=True, slots=True)
class Replay(Generic[T]):
    """Held keys that were typing after all: deliver them, in this order, to the widget."""

    keys: tuple[T, ...]


Outcome: TypeAlias = ScanRead[T] | Replay[T]


@dataclass(frozen=True, slots=True)
class KeyVerdict(Generic[T]):
    """What to do about one key press: first the outcomes, in order, then hold or pass it."""

    hold: bool
    """True: swallow the key (it is held, or it ended a scan). False: let it through."""
    outcomes: tuple[Outcome[T], ...] = ()


@dataclass(slots=True)
class _Held(Generic[T]):
    texts: list[str] = field(default_factory=list)
    refs: list[T] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    last_ms: float = 0.0


class WedgeDetector(Generic[T]):
    """The state machine: nothing held, or a burst of held characters, each < max_gap apart.

    A burst ends as a scan on a terminator key or the configured suffix (if long enough), or
    on silence / any other key if it is long enough and ``require_terminator`` is off.
    Otherwise it ends as a replay of its keys.
    """

    def __init__(self, settings: WedgeSettings) -> None:
        self._settings = settings
        self._held: _Held[T] = _Held()
        # When a scan ended on its suffix or on another key, a terminator may still follow.
        self._unterminated_read_ms: float | None = None

    @property
    def settings(self) -> WedgeSettings:
        return self._settings

    @property
    def holding(self) -> bool:
        """Whether any key is held back right now."""
        return bool(self._held.refs)

    def key(self, text: str, key: str | None, t_ms: float, ref: T) -> KeyVerdict[T]:
        """Judge one key press arriving at ``t_ms`` (a monotonic clock, in milliseconds)."""
        if key in MODIFIER_KEYS:
            return KeyVerdict(hold=False)
        outcomes = list(self.timeout(t_ms))
        if key is None and text:
            if self._held.refs and t_ms - self._held.last_ms >= self._settings.max_gap_ms:
                # Too slow to continue the burst, but before its end timeout: it is over.
                outcomes.append(self._end_burst())
            held = self._held  # only now: settling a burst starts a new one
            held.texts.append(text)
            held.refs.append(ref)
            held.times.append(t_ms)
            held.last_ms = t_ms
            if self._suffix_complete():
                outcomes.append(self._read("suffix"))
            return KeyVerdict(hold=True, outcomes=tuple(outcomes))
        if key in self._settings.terminators:
            if self._terminates_scan(t_ms):
                outcomes.append(self._read(key, t_ms))
                self._unterminated_read_ms = None
                return KeyVerdict(hold=True, outcomes=tuple(outcomes))
            if self._follows_a_read(t_ms):
                # A scanner sending suffix and Enter: the Enter belongs to the scan just read.
                self._unterminated_read_ms = None
                return KeyVerdict(hold=True, outcomes=tuple(outcomes))
        # A navigation key, a shortcut, or Enter after typing: what is held is settled first.
        if self._held.refs:
            outcomes.append(self._end_burst())
        return KeyVerdict(hold=False, outcomes=tuple(outcomes))

    def deadline(self) -> float | None:
        """When ``timeout`` must be called next (same clock as ``t_ms``), or None."""
        held = self._held
        if not held.refs:
            return None
        if len(held.refs) >= 2 and self._long_enough():
            return held.last_ms + self._settings.end_timeout_ms
        return held.last_ms + self._settings.max_gap_ms

    def timeout(self, t_ms: float) -> tuple[Outcome[T], ...]:
        """Settle what is held if its deadline has passed at ``t_ms``; else nothing."""
        deadline = self.deadline()
        if deadline is None or t_ms < deadline:
            return ()
        return (self._end_burst(),)

    def drain(self) -> tuple[Outcome[T], ...]:
        """Give back everything held, as typing (when the detector is switched off)."""
        if not self._held.refs:
            return ()
        replay = Replay(tuple(self._held.refs))
        self._held = _Held()
        return (replay,)

    def _payload(self) -> str:
        text = "".join(self._held.texts)
        prefix, suffix = self._settings.prefix, self._settings.suffix
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :]
        if suffix and text.endswith(suffix):
            text = text[: -len(suffix)]
        return text

    def _long_enough(self) -> bool:
        return len(self._payload()) >= self._settings.min_length

    def _suffix_complete(self) -> bool:
        suffix = self._settings.suffix
        return (
            bool(suffix)
            and len(self._held.refs) >= 2
            and "".join(self._held.texts).endswith(suffix)
            and self._long_enough()
        )

    def _terminates_scan(self, t_ms: float) -> bool:
        held = self._held
        if not held.refs or not self._long_enough():
            return False
        # One held character is a burst only if the terminator itself came fast.
        return len(held.refs) >= 2 or t_ms - held.last_ms < self._settings.max_gap_ms

    def _follows_a_read(self, t_ms: float) -> bool:
        read_ms = self._unterminated_read_ms
        return (
            not self._held.refs
            and read_ms is not None
            and t_ms - read_ms < self._settings.max_gap_ms
        )

    def _end_burst(self) -> Outcome[T]:
        """The burst stopped without terminator or suffix: a scan if it can be one, else typing."""
        if (
            len(self._held.refs) >= 2
            and self._long_enough()
            and not self._settings.require_terminator
        ):
            return self._read()
        return self.drain()[0]

    def _read(self, ended_by: str | None = None, end_ms: float | None = None) -> ScanRead[T]:
        held = self._held
        text, layout = read_as_meant(self._payload(), self._settings.layout)
        read = ScanRead(
            text,
            tuple(held.refs),
            typed=tuple(held.texts),
            times=tuple(held.times),
            ended_by=ended_by,
            end_ms=end_ms,
            layout=layout,
        )
        self._unterminated_read_ms = held.last_ms
        self._held = _Held()
        return read
