"""The packing slip: a PDF for A4 or Letter laser printers and 4×6 inch thermal label printers.

``render_packing_slip`` lays out a :class:`~app.domain.documents.PackingSlip` with reportlab's
canvas (no platypus: a hand layout is several times faster, and the budget is 100 slips/s).
Long orders flow onto further pages with the table header repeated and "Page n of N".

The order number is printed as Code 128 on the target printer's dot grid (300 dpi for laser
paper, 203 dpi for 4×6 thermal), see :mod:`printing.barcodes`. reportlab and the fonts are
loaded on first use, not at import.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.domain.documents import Address, CompanyProfile, PackingSlip, SlipLine
from app.domain.errors import PrintError
from printing import barcodes
from printing import text as txt
from printing.barcodes import DotGrid
from printing.layout import CanvasText, make_document, new_canvas

log = logging.getLogger(__name__)

MM = txt.MM
PAPERS = ("A4", "LETTER", "4x6")


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    title: str
    width: float  # points; 0 = takes what the others leave
    align: str = "left"  # left | right


@dataclass(frozen=True, slots=True)
class _Style:
    """Everything that differs between a sheet of paper and a 4×6 label."""

    size: tuple[float, float]
    margin: float
    dpi: int  # the printer grid barcodes are laid out on
    module_min_dots: int
    module_max_dots: int
    bar_height: float
    qr_module_dots: int
    label: bool  # a 4×6 thermal label: compact, no grey fills (they dither)
    title_size: float
    company_size: float
    body_size: float
    small_size: float
    table_size: float
    desc_lines: int
    columns: tuple[_Column, ...]
    grey: float  # colour of labels and rules; 0 on thermal


_SHEET_COLUMNS = (
    _Column("sku", "SKU", 30 * MM),
    _Column("gtin", "GTIN", 29 * MM),
    _Column("description", "Description", 0),
    _Column("ordered", "Ordered", 16 * MM, "right"),
    _Column("shipped", "Shipped", 16 * MM, "right"),
    _Column("backordered", "Backordered", 22 * MM, "right"),
)
_LABEL_COLUMNS = (
    _Column("sku", "SKU / GTIN", 25 * MM),
    _Column("description", "Description", 0),
    _Column("ordered", "Ord.", 9 * MM, "right"),
    _Column("shipped", "Shp.", 9 * MM, "right"),
    _Column("backordered", "B/O", 9 * MM, "right"),
)


def _sheet(size: tuple[float, float]) -> _Style:
    return _Style(
        size=size,
        margin=15 * MM,
        dpi=300,
        module_min_dots=3,  # 0.254 mm, the least a laser prints reliably
        module_max_dots=4,
        bar_height=13 * MM,
        qr_module_dots=5,
        label=False,
        title_size=18,
        company_size=13,
        body_size=9.5,
        small_size=7.5,
        table_size=8.5,
        desc_lines=2,
        columns=_SHEET_COLUMNS,
        grey=0.35,
    )


_STYLES: dict[str, _Style] = {
    "A4": _sheet((210 * MM, 297 * MM)),
    "LETTER": _sheet((612.0, 792.0)),
    "4x6": _Style(
        size=(288.0, 432.0),
        margin=10.0,
        dpi=203,
        module_min_dots=2,  # 0.25 mm on a 203 dpi head
        module_max_dots=3,
        bar_height=34.0,
        qr_module_dots=3,
        label=True,
        title_size=10,
        company_size=9,
        body_size=7.5,
        small_size=6.5,
        table_size=7,
        desc_lines=2,
        columns=_LABEL_COLUMNS,
        grey=0.0,
    ),
}


def render_packing_slip(
    slip: PackingSlip, company: CompanyProfile, *, paper: str | None = None
) -> bytes:
    """The packing slip as a PDF; ``paper`` is A4, LETTER or 4x6 (default: the company's)."""
    style = _STYLES.get(_paper_key(paper or company.paper))
    if style is None:
        raise PrintError(
            f"Paper size '{paper or company.paper}' is not supported for packing slips — "
            f"choose {', '.join(PAPERS)} in the printer settings"
        )
    return make_document(
        f"packing slip for order {slip.order_number}",
        lambda: _Slip(slip, company, style).render(),
    )


def _paper_key(paper: str) -> str:
    key = paper.strip().upper()
    return "4x6" if key in {"4X6", "4×6", "4X6IN"} else key


@lru_cache(maxsize=8)
def _logo(path: str, mtime_ns: int) -> Any:
    from reportlab.lib.utils import ImageReader

    del mtime_ns  # part of the cache key only: a replaced logo is read again
    return ImageReader(path)


def _load_logo(path: str | None) -> Any:
    if not path:
        return None
    try:
        return _logo(path, os.stat(path).st_mtime_ns)
    except Exception as exc:  # a slip without its logo beats no slip
        log.warning("company logo %s cannot be read (%s); printing without it", path, exc)
        return None


# ----------------------------------------------------------------------------- layout


@dataclass(slots=True)
class _Row:
    line: SlipLine
    sku: str
    gtin: str
    description: list[str]
    height: float


class _Slip(CanvasText):
    """One packing slip being laid out; ``render`` is called once."""

    def text_grey(self) -> float:
        return float(self.s.grey)

    def __init__(self, slip: PackingSlip, company: CompanyProfile, style: _Style) -> None:
        self.slip = slip
        self.company = company
        self.s = style
        self.f = txt.fonts_for(_texts(slip, company))
        self.w, self.h = style.size
        self.left = style.margin
        self.right = self.w - style.margin
        self.grid = DotGrid(style.dpi, self.h)
        self.c: Any = None
        self.measuring = False
        self._qr: list[list[bool]] | None = None
        self.leading = style.table_size * 1.25
        self.columns = self._column_positions()
        self.order_modules = barcodes.code128_bars(self._barcode_data())[1]
        self.footer_top = style.margin + style.small_size * 2.2

    # ------------------------------------------------------------------ page structure

    def render(self) -> bytes:

        rows = [self._row(line) for line in self.slip.lines]
        first_bottom = self._measure(self._first_header)
        next_bottom = self._measure(self._continued_header)
        trailer = self._measure(lambda: self._trailer(self.h))
        table_head = self._table_header_height()
        pages = _paginate(
            [r.height for r in rows],
            first=first_bottom - table_head - self.footer_top,
            others=next_bottom - table_head - self.footer_top,
            trailer=self.h - trailer,
        )

        c, buf = new_canvas(
            self.s.size, f"Packing slip {self.slip.order_number}", self.company.name
        )
        self.c = c
        total = len(pages)
        for number, (start, end) in enumerate(pages, 1):
            y = self._first_header() if number == 1 else self._continued_header()
            if end > start or number == 1:
                y = self._table(rows[start:end], y, empty=not rows)
            if number == total:
                self._trailer(y)
            self._footer(number, total)
            c.showPage()
        c.save()
        return buf.getvalue()

    def _measure(self, draw: Callable[[], float]) -> float:
        self.measuring = True
        try:
            return draw()
        finally:
            self.measuring = False

    # ------------------------------------------------------------------ drawing primitives

    def _rule(self, y: float, width: float = 0.5, x0: float | None = None) -> None:
        if self.measuring:
            return
        c = self.c
        c.setLineWidth(width)
        c.line(self.left if x0 is None else x0, y, self.right, y)

    # ------------------------------------------------------------------ headers

    def _barcode_data(self) -> str:
        return self.slip.order_number.strip()

    def _order_module_dots(self, max_width: float) -> int:
        return barcodes.fit_module_dots(
            self.order_modules,
            max_width,
            self.grid,
            min_dots=self.s.module_min_dots,
            max_dots=self.s.module_max_dots,
        )

    def _order_barcode(self, right: float, top: float, max_width: float) -> float:
        """The order number as Code 128, its bars ending at ``right``; returns its bottom y."""
        s, grid = self.s, self.grid
        dots = self._order_module_dots(max_width)
        quiet = grid.dots(barcodes.CODE128_QUIET_MODULES * dots)
        bars_width = barcodes.code128_width(self.order_modules, dots, grid, quiet=False)
        x = right - bars_width
        bottom = top - s.bar_height
        if not self.measuring:
            barcodes.draw_code128(
                self.c,
                self._barcode_data(),
                x=x - quiet,
                y=bottom,
                height=s.bar_height,
                grid=grid,
                module_dots=dots,
            )
        y = bottom - s.body_size * 1.3
        self._text(
            x + bars_width / 2, y, self.slip.order_number, s.body_size, bold=True, align="center"
        )
        return y - s.body_size * 0.4

    def _first_header(self) -> float:
        return self._label_header() if self.s.label else self._sheet_header()

    def _sheet_header(self) -> float:
        s, company = self.s, self.company
        top = self.h - s.margin
        # Left: logo, company name and address.
        y = top
        logo = _load_logo(company.logo_path)
        if logo is not None:
            lw, lh = logo.getSize()
            box_w, box_h = 45 * MM, 16 * MM
            scale = min(box_w / lw, box_h / lh)
            if not self.measuring:
                self.c.drawImage(
                    logo, self.left, y - lh * scale, lw * scale, lh * scale, mask="auto"
                )
            y -= lh * scale + 3 * MM
        y -= s.company_size
        self._text(self.left, y, company.name, s.company_size, bold=True, width=95 * MM)
        y -= s.company_size * 0.5
        for line in _address_lines(company.address, with_name=False):
            y -= s.body_size * 1.2
            self._text(self.left, y, line, s.body_size, width=95 * MM)
        contact = "  ·  ".join(p for p in (company.phone, company.email, company.website) if p)
        if contact:
            y -= s.small_size * 1.5
            self._text(self.left, y, contact, s.small_size, grey=True, width=100 * MM)
        left_bottom = y

        # Right: title and the order barcode.
        ry = top - s.title_size
        self._text(self.right, ry, "PACKING SLIP", s.title_size, bold=True, align="right")
        ry = self._order_barcode(self.right, ry - 4 * MM, 75 * MM)

        y = min(left_bottom, ry) - 5 * MM
        y = self._facts(y)
        y = self._addresses(y - 4 * MM)
        return y - 5 * MM

    def _label_header(self) -> float:
        s, company = self.s, self.company
        top = self.h - s.margin
        y = top - s.company_size
        self._text(self.right, y, "PACKING SLIP", s.title_size, bold=True, align="right")
        title_w = txt.text_width("PACKING SLIP", self.f.bold, s.title_size)
        self._text(
            self.left,
            y,
            company.name,
            s.company_size,
            bold=True,
            width=self.right - self.left - title_w - 8,
        )
        address = ", ".join(_address_lines(company.address, with_name=False))
        y -= s.small_size * 1.4
        self._text(self.left, y, address, s.small_size, width=self.right - self.left)
        y -= 4
        self._rule(y, 0.8)
        y = self._order_barcode_centered(y - 5)
        y = self._facts(y - 2)
        return self._addresses(y - 4) - 6

    def _order_barcode_centered(self, top: float) -> float:
        max_width = self.right - self.left
        dots = self._order_module_dots(max_width)
        bars_width = barcodes.code128_width(self.order_modules, dots, self.grid, quiet=False)
        return self._order_barcode((self.w + bars_width) / 2, top, max_width)

    def _continued_header(self) -> float:
        s = self.s
        top = self.h - s.margin
        y = top - s.company_size
        self._text(
            self.left,
            y,
            self.company.name,
            s.company_size,
            bold=True,
            width=(self.right - self.left) * 0.5,
        )
        y -= s.body_size * 1.5
        self._text(
            self.left,
            y,
            f"Packing slip — order {self.slip.order_number} (continued)",
            s.body_size,
            width=(self.right - self.left) * (1.0 if s.label else 0.55),
        )
        if s.label:
            self._rule(y - 4, 0.8)
            return self._order_barcode_centered(y - 9) - 6
        by = self._order_barcode(self.right, top, 75 * MM)
        return min(by, y) - 6 * MM

    def _facts(self, top: float) -> float:
        """Order facts as label/value pairs in a row (sheet) or two rows (label)."""
        s, slip = self.s, self.slip
        station = " at ".join(p for p in (slip.packed_by, slip.station) if p)
        facts = [
            *([] if s.label else [("Order", slip.order_number)]),  # a label has it by the bars
            ("Order date", txt.format_date(slip.placed_at)),
            ("Channel", slip.channel),
            ("Packages", str(slip.packages)),
            ("Packed by", station or "—"),
        ]
        per_row = len(facts) if not s.label else 3
        width = (self.right - self.left) / per_row
        y = top
        for i in range(0, len(facts), per_row):
            row = facts[i : i + per_row]
            if s.label and i:  # the second label row has room for longer values
                width = (self.right - self.left) / len(row)
            y -= s.small_size
            for j, (label, _) in enumerate(row):
                self._text(self.left + j * width, y, label.upper(), s.small_size * 0.9, grey=True)
            y -= s.body_size * 1.25
            for j, (_, value) in enumerate(row):
                self._text(self.left + j * width, y, value, s.body_size, bold=True, width=width - 4)
            y -= s.body_size * 0.5
        return y

    def _addresses(self, top: float) -> float:
        s = self.s
        gap = 6 * MM if not s.label else 8
        col = (self.right - self.left - gap) / 2
        blocks = [("Ship to", self.slip.ship_to), ("Bill to", self.slip.bill_to)]
        bottoms = []
        for i, (label, address) in enumerate(blocks):
            x = self.left + i * (col + gap)
            pad = 0 if s.label else 3 * MM
            y = top - pad - s.small_size
            self._text(x + pad, y, label.upper(), s.small_size * 0.9, bold=True, grey=True)
            if address is None:
                y -= s.body_size * 1.35
                self._text(x + pad, y, "Same as ship to", s.body_size, grey=True)
            else:
                for n, line in enumerate(_address_lines(address, with_name=True)):
                    y -= s.body_size * 1.3
                    self._text(x + pad, y, line, s.body_size, bold=n == 0, width=col - 2 * pad)
            bottoms.append(y - pad - s.body_size * 0.4)
        bottom = min(bottoms)
        if not self.measuring and not s.label:
            c = self.c
            c.setLineWidth(0.6)
            c.setStrokeGray(0.6)
            for i in range(2):
                c.roundRect(self.left + i * (col + gap), bottom, col, top - bottom, 2 * MM)
            c.setStrokeGray(0)
        return bottom

    # ------------------------------------------------------------------ table

    def _column_positions(self) -> list[tuple[_Column, float, float]]:
        fixed = sum(col.width for col in self.s.columns)
        flex = self.right - self.left - fixed
        out = []
        x = self.left
        for col in self.s.columns:
            width = col.width or flex
            out.append((col, x, width))
            x += width
        return out

    def _cell_pad(self) -> float:
        return 1.5 * MM if not self.s.label else 2.0

    def _row(self, line: SlipLine) -> _Row:
        s, f = self.s, self.f
        pad = self._cell_pad()
        widths = {col.key: w - 2 * pad for col, _, w in self.columns}
        desc = txt.wrap(
            line.description, f.regular, s.table_size, widths["description"], s.desc_lines
        )
        sku = txt.ellipsize(line.sku, f.bold, s.table_size, widths["sku"])
        gtin_size = s.table_size if "gtin" in widths else s.small_size
        gtin = txt.ellipsize(line.gtin, f.regular, gtin_size, widths.get("gtin", widths["sku"]))
        n_lines = max(len(desc), 1 if "gtin" in widths or not gtin else 2)
        return _Row(line, sku, gtin, desc, n_lines * self.leading + 2 * pad)

    def _table_header_height(self) -> float:
        return self.s.table_size * 2.2

    def _table(self, rows: Sequence[_Row], top: float, *, empty: bool) -> float:
        s, c = self.s, self.c
        pad = self._cell_pad()
        head_h = self._table_header_height()
        if s.label:
            self._rule(top, 0.8)
        else:
            c.setFillGray(0.88)
            c.rect(self.left, top - head_h, self.right - self.left, head_h, stroke=0, fill=1)
            c.setFillGray(0)
        baseline = top - head_h / 2 - s.table_size * 0.35
        for col, x, w in self.columns:
            tx = x + w - pad if col.align == "right" else x + pad
            self._text(
                tx, baseline, col.title, s.table_size, bold=True, align=col.align, width=w - 2 * pad
            )
        y = top - head_h
        self._rule(y, 0.8)
        if empty:
            y -= self.leading * 2
            self._text(self.left + pad, y, "This order has no lines.", s.table_size, grey=True)
            return y - self.leading
        for i, row in enumerate(rows):
            bottom = y - row.height
            if not s.label and i % 2:
                c.setFillGray(0.95)
                c.rect(self.left, bottom, self.right - self.left, row.height, stroke=0, fill=1)
                c.setFillGray(0)
            first = y - pad - s.table_size
            line = row.line
            for col, x, w in self.columns:
                tx = x + w - pad if col.align == "right" else x + pad
                if col.key == "sku":
                    self._text(tx, first, row.sku, s.table_size, bold=True)
                    if "gtin" not in {k.key for k, _, _ in self.columns}:
                        self._text(tx, first - self.leading, row.gtin, s.small_size)
                elif col.key == "gtin":
                    self._text(tx, first, row.gtin, s.table_size)
                elif col.key == "description":
                    for n, text in enumerate(row.description):
                        self._text(tx, first - n * self.leading, text, s.table_size)
                else:
                    value = getattr(line, col.key)
                    bold = col.key == "backordered" and value > 0
                    self._text(tx, first, str(value), s.table_size, bold=bold, align="right")
            if s.label or i == len(rows) - 1:
                self._rule(bottom, 0.3 if s.label else 0.8)
            y = bottom
        return y

    # ------------------------------------------------------------------ trailer and footer

    def _trailer(self, top: float) -> float:
        """Totals, notes and returns after the last line; returns its bottom y."""
        s, slip = self.s, self.slip
        ordered = sum(line.ordered for line in slip.lines)
        shipped = sum(line.shipped for line in slip.lines)
        back = sum(line.backordered for line in slip.lines)
        y = top - s.body_size * 1.6
        summary = f"{len(slip.lines)} lines · {ordered} ordered · {shipped} shipped"
        if back:
            summary += f" · {back} backordered"
            if not s.label:
                summary += " (sent separately when in stock)"
        self._text(
            self.right,
            y,
            summary,
            s.body_size,
            bold=True,
            align="right",
            width=self.right - self.left,
        )
        if slip.notes:
            y -= s.body_size * 2
            self._text(self.left, y, "NOTES", s.small_size, bold=True, grey=True)
            for note in slip.notes:
                for text in txt.wrap(note, self.f.regular, s.body_size, self.right - self.left, 3):
                    y -= s.body_size * 1.3
                    self._text(self.left, y, text, s.body_size)
        if self.company.returns_url:
            y = self._returns(y - (4 * MM if not s.label else 6))
        return y

    def _returns(self, top: float) -> float:
        s, grid = self.s, self.grid
        url = f"{self.company.returns_url}?order={self.slip.order_number}"
        if self._qr is None:
            self._qr = barcodes.qr_matrix(url)
        matrix = self._qr
        side = barcodes.qr_size(matrix, s.qr_module_dots, grid)
        if not s.label:
            self._rule(top, 0.5)
        if not self.measuring:
            barcodes.draw_qr(
                self.c,
                matrix,
                x=self.left - grid.dots(barcodes.QR_QUIET_MODULES * s.qr_module_dots),
                top=top,
                grid=grid,
                module_dots=s.qr_module_dots,
            )
        x = (
            self.left
            + side
            - grid.dots(barcodes.QR_QUIET_MODULES * s.qr_module_dots)
            + (4 * MM if not s.label else 6)
        )
        width = self.right - x
        quiet = grid.dots(barcodes.QR_QUIET_MODULES * s.qr_module_dots)
        y = top - quiet - s.body_size
        self._text(x, y, "Returns", s.body_size * 1.15, bold=True)
        text = (
            f"Something not right? Scan the code or visit {self.company.returns_url} "
            f"and enter order {self.slip.order_number} to start a return. "
            "Please pack this slip with the items you send back."
        )
        for line in txt.wrap(text, self.f.regular, s.small_size * 1.1, width, 4):
            y -= s.small_size * 1.45
            self._text(x, y, line, s.small_size * 1.1)
        return min(y, top - side) - 2

    def _footer(self, number: int, total: int) -> None:
        s = self.s
        y = s.margin
        self._rule(y + s.small_size * 1.4, 0.4)
        left = f"{self.company.name}"
        if self.company.website and not s.label:
            left += f"  ·  {self.company.website}"
        self._text(
            self.left, y, left, s.small_size, grey=True, width=(self.right - self.left) * 0.6
        )
        self._text(
            self.right,
            y,
            f"Order {self.slip.order_number}  ·  Page {number} of {total}",
            s.small_size,
            align="right",
            bold=s.label,
        )


def _texts(slip: PackingSlip, company: CompanyProfile) -> Iterator[str]:
    """Every text of the slip that comes from data (the fixed words are plain ASCII)."""
    yield from (company.name, company.phone, company.email, company.website)
    yield from (company.returns_url, *company.address.lines())
    yield from (slip.order_number, slip.channel, slip.packed_by, slip.station, *slip.notes)
    yield from slip.ship_to.lines()
    if slip.bill_to is not None:
        yield from slip.bill_to.lines()
    for line in slip.lines:
        yield from (line.sku, line.gtin, line.description)


def _address_lines(address: Address, *, with_name: bool) -> list[str]:
    lines = address.lines()
    return lines if with_name else lines[1:]


def _paginate(
    heights: Sequence[float], *, first: float, others: float, trailer: float
) -> list[tuple[int, int]]:
    """Split rows into pages: ``[(start, end), ...]``, the trailer fitting after the last row.

    ``first``/``others`` are the heights available for rows on the first/further pages,
    ``trailer`` the height the trailer needs after the last row.
    """
    pages: list[tuple[int, int]] = []
    start = 0
    room = first
    for i, height in enumerate(heights):
        if height > room and i > start:
            pages.append((start, i))
            start, room = i, others
        room -= height
    pages.append((start, len(heights)))
    if room < trailer:
        pages.append((len(heights), len(heights)))  # the trailer gets a page of its own
    return pages
