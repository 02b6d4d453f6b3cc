"""Barcodes drawn on a printer's dot grid, for every document printing/ lays out with reportlab.

A barcode scans reliably only when each module (the narrowest bar, or one QR square) is a whole
number of printer dots: at 203 dpi a 0.25 mm module is 1.99 dots, which a printer rounds to
1 or 2 dots from bar to bar, and the ratios a scanner measures break. So positions here are
snapped to the dot grid measured from the page's top-left corner (where printers and renderers
start their raster) and widths are whole dots.

The symbols themselves come from reportlab's encoders (Code 128 and QR); this module only
places their modules. reportlab is imported inside the functions that need it: importing
printing modules must stay cheap for station start-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

POINTS_PER_INCH = 72.0
MM_PER_INCH = 25.4

#: Quiet zone either side of a Code 128 symbol, in modules (ISO/IEC 15417 asks for 10).
CODE128_QUIET_MODULES = 10
#: Quiet zone around a QR symbol, in modules (ISO/IEC 18004 asks for 4).
QR_QUIET_MODULES = 4


@dataclass(frozen=True, slots=True)
class DotGrid:
    """The raster of one printer on one page: ``dpi`` dots per inch, origin at the top-left.

    ``page_height`` is in points; reportlab measures y from the bottom, so snapping y needs it.
    """

    dpi: int
    page_height: float

    @property
    def dot(self) -> float:
        """One dot, in points."""
        return POINTS_PER_INCH / self.dpi

    def dots(self, n: int) -> float:
        """``n`` dots, in points."""
        return n * POINTS_PER_INCH / self.dpi

    def snap_x(self, x: float) -> float:
        """The nearest x (points from the left edge) that falls on a dot boundary."""
        return round(x / self.dot) * self.dot

    def snap_y(self, y: float) -> float:
        """The nearest y (points from the bottom edge) whose distance from the top is whole dots."""
        from_top = round((self.page_height - y) / self.dot)
        return self.page_height - from_top * self.dot

    def module_dots_for(self, min_mm: float) -> int:
        """The fewest whole dots that make a module at least ``min_mm`` wide."""
        return max(1, math.ceil(min_mm / MM_PER_INCH * self.dpi - 1e-9))


def code128_bars(data: str) -> tuple[list[tuple[int, int]], int]:
    """The bars of ``data`` as Code 128: ``([(start_module, width_modules), ...], total_modules)``.

    Without quiet zones. reportlab picks the code sets (B, or C for runs of digits).
    Raises ValueError for characters Code 128 cannot carry (only ASCII can be encoded).
    """
    from reportlab.graphics.barcode.code128 import Code128

    if not data or any(ord(c) > 127 for c in data):
        raise ValueError(f"Code 128 carries ASCII only, got {data!r}")
    symbol: Any = Code128(data, quiet=0)
    symbol.validate()
    symbol.encode()
    pattern: str = symbol.decompose()
    bars: list[tuple[int, int]] = []
    at = 0
    for ch in pattern:
        if "A" <= ch <= "Z":
            width = ord(ch) - ord("A") + 1
            bars.append((at, width))
            at += width
        elif "a" <= ch <= "z":
            at += ord(ch) - ord("a") + 1
    return bars, at


def code128_width(modules: int, module_dots: int, grid: DotGrid, *, quiet: bool = True) -> float:
    """The width in points of a Code 128 symbol of ``modules`` modules, quiet zones included."""
    total = modules + (2 * CODE128_QUIET_MODULES if quiet else 0)
    return grid.dots(total * module_dots)


def fit_module_dots(
    modules: int, max_width: float, grid: DotGrid, *, min_dots: int, max_dots: int
) -> int:
    """The widest module (in dots, ``min_dots``..``max_dots``) whose symbol fits ``max_width``.

    Returns ``min_dots`` when even that does not fit: a barcode a little too wide for its box
    still scans, a barcode with modules below the printer's minimum does not.
    """
    for dots in range(max_dots, min_dots - 1, -1):
        if code128_width(modules, dots, grid) <= max_width:
            return dots
    return min_dots


def draw_code128(
    canvas: Any,
    data: str,
    *,
    x: float,
    y: float,
    height: float,
    grid: DotGrid,
    module_dots: int,
) -> float:
    """Draw ``data`` as Code 128 with its left quiet zone starting at ``x`` (snapped to the grid).

    ``y`` is the bottom of the bars. Returns the symbol's width including both quiet zones.
    """
    bars, modules = code128_bars(data)
    left = grid.snap_x(x) + grid.dots(CODE128_QUIET_MODULES * module_dots)
    # In module units across and the bar height up: x y w h for each bar.
    _fill_rects(canvas, left, y, grid.dots(module_dots), height, ((s, 0, w, 1) for s, w in bars))
    return code128_width(modules, module_dots, grid)


def qr_matrix(data: str, *, level: str = "M", best_mask: bool = False) -> list[list[bool]]:
    """The dark/light modules of ``data`` as a QR code, row by row from the top.

    ``best_mask=False`` uses mask pattern 0 instead of scoring all eight: the symbol is just as
    valid and decodes the same; scoring costs ~15 ms per code in reportlab's pure-Python encoder,
    which alone would blow the packing-slip budget of 10 ms.
    """
    from reportlab.graphics.barcode import qrencoder

    qr: Any = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    qr.addData(data)
    if best_mask:
        qr.make()
    else:
        qr.version = qr.calculate_version()
        qr.makeImpl(False, 0)
    return [[bool(m) for m in row] for row in qr.modules]


def qr_size(matrix: list[list[bool]], module_dots: int, grid: DotGrid) -> float:
    """The side in points of a QR symbol drawn by :func:`draw_qr`, quiet zone included."""
    return grid.dots((len(matrix) + 2 * QR_QUIET_MODULES) * module_dots)


def draw_qr(
    canvas: Any,
    matrix: list[list[bool]],
    *,
    x: float,
    top: float,
    grid: DotGrid,
    module_dots: int,
) -> float:
    """Draw a QR matrix with its quiet zone's top-left corner at (``x``, ``top``), snapped.

    Returns the side of the symbol including the quiet zone, in points.
    """
    m = grid.dots(module_dots)
    left = grid.snap_x(x) + QR_QUIET_MODULES * m
    row_top = grid.snap_y(top) - QR_QUIET_MODULES * m

    def runs() -> Iterator[tuple[int, int, int, int]]:
        for r, row in enumerate(matrix):
            col = 0
            for dark, run in groupby(row):
                count = len(list(run))
                if dark:
                    yield col, -(r + 1), count, 1
                col += count

    _fill_rects(canvas, left, row_top, m, m, runs())
    return qr_size(matrix, module_dots, grid)


def _fill_rects(
    canvas: Any,
    x: float,
    y: float,
    unit_x: float,
    unit_y: float,
    rects: Iterable[tuple[int, int, int, int]],
) -> None:
    """Fill rectangles given in whole units, one unit being ``unit_x`` by ``unit_y`` points.

    Written as raw PDF operators under a scaling matrix: a QR code is hundreds of rectangles,
    and reportlab's per-number formatting of path coordinates cost more than the rest of a
    packing slip. Integers in module units are also exact, so bars stay on the grid.
    """
    ops = " ".join(f"{rx} {ry} {rw} {rh} re" for rx, ry, rw, rh in rects)
    canvas.saveState()
    canvas.addLiteral(f"0 g {unit_x:.9f} 0 0 {unit_y:.9f} {x:.6f} {y:.6f} cm {ops} f")
    canvas.restoreState()
