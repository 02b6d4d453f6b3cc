"""GS1-128 and EAN-13 symbols for labels, drawn on the printer's dot grid like printing.barcodes.

GS1-128 is Code 128 whose first data character is FNC1 (a scanner then reports it as ``]C1``
and reads AI element strings); a further FNC1 ends each variable-length field that is not last.
:func:`printing.barcodes.code128_bars` refuses anything outside ASCII, so this module feeds
reportlab's Code 128 encoder directly: it takes ``"\\xf1"`` as FNC1 and picks code set C for the
digits. Which AIs need a separator after them is biip's knowledge, not a table kept here.

The same code values drive the ZPL (see :mod:`printing.zpl`), so a label printed through a Zebra
carries exactly the symbol its PDF shows. reportlab and biip are imported on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from printing import barcodes
from printing.barcodes import DotGrid

FNC1 = "\xf1"
"""How reportlab's Code 128 encoder spells FNC1 in its input."""

START_A, START_B, START_C, STOP = 103, 104, 105, 106
CODE_C, CODE_B, CODE_A, FNC1_VALUE = 99, 100, 101, 102

#: Quiet zones of an EAN-13 symbol, in modules (GS1 General Specifications: 11 left, 7 right).
EAN13_QUIET_LEFT = 11
EAN13_QUIET_RIGHT = 7
EAN13_MODULES = 95

Bars = list[tuple[int, int]]


def element_string(hri: str) -> str:
    """Code 128 data for a GS1 element string written as ``(00)123...(10)ABC``.

    Starts with FNC1; a FNC1 separates a variable-length field from the next. Raises
    ValueError (biip's ParseError) when the string is not valid GS1.
    """
    from biip.gs1_messages import GS1Message

    message = GS1Message.parse_hri(hri)
    return FNC1 + message.value.replace("\x1d", FNC1)


def code128_values(data: str) -> list[int]:
    """The Code 128 code values of ``data`` (start character first, no check or stop).

    ``data`` may hold FNC1 as :data:`FNC1`. reportlab chooses the code sets: C for runs of
    digits, B otherwise.
    """
    from reportlab.graphics.barcode.code128 import Code128

    if not data or any(ord(c) > 127 and c != FNC1 for c in data):
        raise ValueError(f"Code 128 carries ASCII only, got {data!r}")
    symbol: Any = Code128(data, quiet=0)
    symbol.validate()
    encoded: list[int] = symbol.encode()
    return encoded[:-2]


def code128_modules(values: Sequence[int]) -> int:
    """The width in modules of the symbol of ``values``: 11 a character, 13 for the stop."""
    return 11 * (len(values) + 1) + 13


def code128_bars_from_values(values: Sequence[int]) -> tuple[Bars, int]:
    """Bars ``[(start_module, width), ...]`` and the total modules of a Code 128 symbol.

    ``values`` as from :func:`code128_values`; the check character and stop are added here.
    """
    from reportlab.graphics.barcode.code128 import _patterns

    check = (values[0] + sum(i * v for i, v in enumerate(values) if i)) % 103
    return _pattern_bars("".join(_patterns[v] for v in (*values, check, STOP)))


def _pattern_bars(pattern: str) -> tuple[Bars, int]:
    """reportlab's ``decompose`` notation (``A``-``Z`` bars, ``a``-``z`` spaces) as bars."""
    bars: Bars = []
    at = 0
    for ch in pattern:
        if "A" <= ch <= "Z":
            width = ord(ch) - 64
            bars.append((at, width))
            at += width
        else:
            at += ord(ch) - 96
    return bars, at


def ean13_bars(code: str) -> tuple[Bars, Bars]:
    """The bars of a 13-digit EAN-13 ``code``: ``(guard bars, data bars)``, 95 modules wide.

    Guard bars are drawn longer than the data bars under which the digits are printed.
    The encoding tables are reportlab's.
    """
    from reportlab.graphics.barcode.eanbc import Ean13BarcodeWidget as Ean

    if len(code) != 13 or not (code.isascii() and code.isdigit()):
        raise ValueError(f"EAN-13 needs 13 digits, got {code!r}")
    parity = Ean._lhconvert[code[0]]
    left = "".join(Ean._left[parity[i]][int(c)] for i, c in enumerate(code[1:7]))
    right = "".join(Ean._right[int(c)] for c in code[7:])
    modules = Ean._tail + left + Ean._sep + right + Ean._tail
    guards = {0, 1, 2, 45, 46, 47, 48, 49, 92, 93, 94}
    guard: Bars = []
    data: Bars = []
    for i, bit in enumerate(modules):
        if bit == "1":
            target = guard if i in guards else data
            if target and target[-1][0] + target[-1][1] == i:
                target[-1] = (target[-1][0], target[-1][1] + 1)
            else:
                target.append((i, 1))
    return guard, data


def draw_bars(
    canvas: Any,
    bars: Bars,
    *,
    x: float,
    y: float,
    height: float,
    grid: DotGrid,
    module_dots: int,
) -> None:
    """Fill ``bars`` (in modules) from ``x`` (snapped to the grid), bottoms at ``y``."""
    barcodes._fill_rects(
        canvas,
        grid.snap_x(x),
        y,
        grid.dots(module_dots),
        height,
        ((start, 0, width, 1) for start, width in bars),
    )
