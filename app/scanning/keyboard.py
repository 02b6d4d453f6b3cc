"""Read a wedge scan right when the scanner types for another keyboard layout than the PC's.

A wedge scanner sends key positions, not characters. Most leave the factory set to a US
keyboard; on a PC set to French AZERTY the digit row then types ``& é " ' ( - è _ ç à`` instead
of ``1 2 3 4 5 6 7 8 9 0`` (the digits need Shift there), and on German QWERTZ ``-`` comes out as
``ß`` and Y and Z swap. The tables below map what arrives back to what the scanner meant.

``layout`` is a station setting (``[scanner] layout``):

- ``"us"``: take the text as it arrives.
- ``"azerty"`` / ``"qwertz"``: scans come from a US-set scanner on that keyboard; map them
  (on AZERTY, a scan holding a digit was typed right after all and is left alone).
- ``"auto"`` (the default): map a scan only where its text gives it away, so a scanner set up
  correctly for the PC's keyboard is never "corrected":

  * AZERTY: no digit at all (a US scanner on AZERTY types them only for US ``!@#...``), one
    of ``& é è ç à``, and three quarters of it digit-row characters: ``Q)à&)&`` is A-01-1,
    ``&&&&&&`` is 111111, while ``R&D``, ``été`` and ``Café`` stay as they are.
  * QWERTZ: a ``ß`` (the US ``-``), a digit, and no space: ``SOß1042`` is SO-1042, while the
    German words a QR code may hold stay as they are. A QWERTZ scan without a dash
    (``YONE1`` for ZONE1) cannot be told from a real code; set ``layout = "qwertz"``.

GS (ASCII 29) is typed as Ctrl+], so on AZERTY and QWERTZ it arrives as Ctrl+$ or Ctrl++;
``ui/wedge_filter.py`` reads those as GS. No Qt here.
"""

from __future__ import annotations

LAYOUTS = ("auto", "us", "azerty", "qwertz")
"""The values ``[scanner] layout`` may take."""


def _table(pairs: str) -> dict[int, str]:
    """``"ab cd"`` → {a: b, c: d}: received character, then the character the scanner meant."""
    return {ord(pair[0]): pair[1] for pair in pairs.split()}


# A US-set scanner on French AZERTY. Digit row: unshifted symbols for the digits (with Shift,
# US !@#..., it types digits: a scan holding a digit is never mapped); letters A/Q, Z/W swap;
# M sits where US ";" is.
_AZERTY = _table(
    "&1 é2 \"3 '4 (5 -6 è7 _8 ç9 à0 )- °_ "
    "aq qa zw wz AQ QA ZW WZ m; M: ,m ?M ;, .< :. /> !/ §? $] *\\ ù' ²` £} µ| %\""
)
# A US-set scanner on German QWERTZ. Digits are where US has them; Y/Z swap; ß is US "-".
_QWERTZ = _table(
    "zy yz ZY YZ ß- ?_ ü[ Ü{ +] *} #\\ '| ö; Ö: ä' Ä\" ;< :> -/ _? \"@ §# &^ /& (* )( =) °~"
)
_TABLES = {"azerty": _AZERTY, "qwertz": _QWERTZ}

_AZERTY_DIGIT_ROW = frozenset("&é\"'(-è_çà)")  # the digits, and ")" for "-"
_AZERTY_TELLS = frozenset("&éèçà")


def read_as_meant(text: str, layout: str) -> tuple[str, str | None]:
    """Return ``text`` as the scanner meant it, and the layout it was mapped from (or None).

    ``layout`` is one of ``LAYOUTS``. ``"\\x1d"`` (GS) and other control characters are left
    alone in every layout.
    """
    if layout == "us" or (layout == "auto" and text.isascii() and "&" not in text):
        return text, None  # the common case costs an isascii() and one search
    if layout == "azerty":
        found: str | None = None if _has_digit(text) else "azerty"
    else:
        found = layout if layout == "qwertz" else _detect(text)
    if found is None:
        return text, None
    meant = text.translate(_TABLES[found])
    return meant, (found if meant != text else None)


def _detect(text: str) -> str | None:
    if "ß" in text:
        return "qwertz" if _has_digit(text) and not any(c.isspace() for c in text) else None
    if _has_digit(text) or _AZERTY_TELLS.isdisjoint(text):
        return None
    # Mostly digit-row characters: a code of digits typed without Shift. A word with accents
    # in it ("été", "Café") is not.
    row = sum(1 for c in text if c in _AZERTY_DIGIT_ROW)
    return "azerty" if row * 4 >= len(text) * 3 else None


def _has_digit(text: str) -> bool:
    return any("0" <= c <= "9" for c in text)
