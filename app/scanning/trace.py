"""What a scanner sent, character by character with its timing: the record behind one scan.

Both scan inputs make one (the wedge filter from its key events' timestamps, the serial reader
from the bytes' arrival), so the scanner check screen can show what arrived and
``app.scanning.diagnosis`` can tell what in the scanner's set-up to change. No Qt.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

CONTROL_NAMES = {
    "\x00": "NUL",
    "\x02": "STX",
    "\x03": "ETX",
    "\x04": "EOT",
    "\x09": "TAB",
    "\x0a": "LF",
    "\x0d": "CR",
    "\x1b": "ESC",
    "\x1c": "FS",
    "\x1d": "GS",
    "\x1e": "RS",
    "\x1f": "US",
    "\x7f": "DEL",
}


def char_name(char: str) -> str:
    """A character as a person can read it: ``<GS>``, ``<CR>``, ``<SP>`` or itself."""
    if char == " ":
        return "<SP>"
    name = CONTROL_NAMES.get(char)
    if name is not None:
        return f"<{name}>"
    if not char.isprintable():
        return f"<U+{ord(char):04X}>"
    return char


def shown(text: str) -> str:
    """``text`` with control characters named, for messages (``01…<GS>10LOT``)."""
    return "".join(char_name(c) if not c.isprintable() else c for c in text)


class SentKey(NamedTuple):
    """One character or key as it arrived. (A named tuple: made for every key of a scan.)"""

    char: str
    """The character (``"\\x1d"`` for GS); empty for a key that types nothing (Enter...)."""
    key: str | None
    """For a key that is not a character: its name (``"enter"``, ``"tab"``); else None."""
    t_ms: float
    """When it arrived, in milliseconds on a monotonic clock."""

    @property
    def label(self) -> str:
        if self.key is not None:
            return f"<{self.key.upper()}>"
        return char_name(self.char)


@dataclass(frozen=True, slots=True)
class ScanTrace:
    """Everything one scan was made of, as received, and what the input made of it."""

    source: str
    """``"keyboard"`` (wedge), ``"serial"``, or ``"typed"`` (keys that reached a field)."""
    keys: tuple[SentKey, ...]
    """Every character and key received, in order, the terminator included."""
    text: str
    """The scan as handed on: prefix and suffix removed, keyboard layout mapped."""
    ended_by: str | None
    """What ended it: ``"enter"``, ``"tab"``, ``"suffix"``, ``"CR"``, ``"LF"``, ``"CRLF"``; None
    when it ended by silence (the scanner sends no terminator)."""
    layout: str | None = None
    """The keyboard layout the text was mapped from (``"azerty"``), or None: as received."""

    @property
    def gaps_ms(self) -> tuple[float, ...]:
        """Time between each key and the one before it (one fewer than the keys)."""
        times = [k.t_ms for k in self.keys]
        return tuple(b - a for a, b in itertools.pairwise(times))

    @property
    def duration_ms(self) -> float:
        return self.keys[-1].t_ms - self.keys[0].t_ms if self.keys else 0.0
