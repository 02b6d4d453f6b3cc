"""Fonts and text measuring for PDF documents (reportlab, imported lazily).

Helvetica when every text of a document is Western European (nothing embedded, fastest);
DejaVu Sans Condensed when any is not (Central and Eastern European, Greek, Cyrillic...).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

MM = 72 / 25.4
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Fonts:
    regular: str
    bold: str


STANDARD = Fonts("Helvetica", "Helvetica-Bold")


def fonts_for(texts: Iterable[str]) -> Fonts:
    """The fonts for a document showing ``texts``.

    Helvetica when every text is in its character set (Windows-1252: Western European),
    else DejaVu Sans Condensed, which also covers Central and Eastern European, Greek,
    Cyrillic and more. Helvetica is built into every PDF reader and printer, so nothing is
    embedded; an embedded TrueType subset costs ~2.5 ms per font per document in reportlab,
    half the packing-slip budget. The choice is made per document so a slip never mixes faces.
    """
    configure_reportlab()
    try:
        for text in texts:
            text.encode("cp1252")
    except UnicodeEncodeError:
        return unicode_fonts()
    return STANDARD


@cache
def configure_reportlab() -> None:
    from reportlab import rl_config

    # ASCII85 only keeps PDFs 7-bit clean, which no printer path here needs; in pure Python
    # it costs a few ms per embedded font and makes the files 25 % larger.
    rl_config.useA85 = 0


@cache
def unicode_fonts() -> Fonts:
    """Register DejaVu once per process; Helvetica if it is not installed."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular = FONT_DIR / "DejaVuSansCondensed.ttf"
    bold = FONT_DIR / "DejaVuSansCondensed-Bold.ttf"
    try:
        pdfmetrics.registerFont(TTFont("WS-Sans", str(regular)))
        pdfmetrics.registerFont(TTFont("WS-Sans-Bold", str(bold)))
    except Exception:  # missing or unreadable font file
        log.warning(
            "DejaVu fonts not found in %s; documents use Helvetica, which prints only "
            "Western European letters (apt-get install fonts-dejavu-core)",
            FONT_DIR,
        )
        return STANDARD
    return Fonts("WS-Sans", "WS-Sans-Bold")


def text_width(text: str, font: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(text, font, size))


def ellipsize(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``width``."""
    if text_width(text, font, size) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid].rstrip() + _ELLIPSIS, font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + _ELLIPSIS


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Word-wrap ``text`` into at most ``max_lines`` lines; the last one ends in … if cut."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for i, word in enumerate(words):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, font, size) <= width:
            current = candidate
            continue
        if current and len(lines) == max_lines - 1:
            # The last line allowed: what is left goes on it, cut with an ellipsis.
            lines.append(ellipsize(" ".join([current, *words[i:]]), font, size, width))
            return lines
        if current:
            lines.append(current)
        current = word
        if len(lines) == max_lines - 1 and i + 1 < len(words):
            rest = " ".join(words[i:])
            if text_width(rest, font, size) > width:
                lines.append(ellipsize(rest, font, size, width))
                return lines
    if current:
        lines.append(ellipsize(current, font, size, width))
    return lines or [""]


def format_date(value: datetime) -> str:
    # Fixed English month names: the process locale is not the customer's.
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
