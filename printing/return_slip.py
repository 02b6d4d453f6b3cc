"""The return slip: a PDF for A4 or Letter laser printers and 4×6 inch thermal label printers.

``render_return_slip`` lays out a :class:`~app.domain.pick_docs.ReturnSlip` with reportlab's
canvas, as :mod:`printing.packing_slip` does. The RMA number is printed large as Code 128: the
returns desk scans it to open the return. On a sheet the slip ends with a cut-out address label
(return-to address, sender and the RMA barcode again) for the outside of the parcel, so the desk
can book a parcel in without opening it; a 4×6 slip is that label itself. A QR code links to
the return's web page. Long returns flow onto further pages with "Page n of N".

Barcodes are laid out on the printer's dot grid (300 dpi laser, 203 dpi thermal), see
:mod:`printing.barcodes`. reportlab and the fonts are loaded on first use, not at import.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.domain.documents import Address, CompanyProfile
from app.domain.errors import PrintError
from app.domain.pick_docs import ReturnSlip, ReturnSlipLine
from printing import barcodes
from printing import text as txt
from printing.barcodes import DotGrid
from printing.layout import CanvasText, make_document

log = logging.getLogger(__name__)

MM = txt.MM
PAPERS = ("A4", "LETTER", "4x6")


@dataclass(frozen=True, slots=True)
class _Style:
    """Everything that differs between a sheet of paper and a 4×6 label."""

    size: tuple[float, float]
    margin: float
    dpi: int
    module_min_dots: int
    module_max_dots: int
    bar_height: float
    qr_module_dots: int
    label: bool  # 4×6 thermal: compact, no grey fills (they dither)
    title: float
    body: float
    small: float
    grey: float


def _sheet(size: tuple[float, float]) -> _Style:
    return _Style(
        size=size,
        margin=14 * MM,
        dpi=300,
        module_min_dots=3,
        module_max_dots=5,
        bar_height=17 * MM,
        qr_module_dots=5,
        label=False,
        title=18,
        body=9.5,
        small=7.5,
        grey=0.35,
    )


_STYLES = {
    "A4": _sheet((210 * MM, 297 * MM)),
    "LETTER": _sheet((612.0, 792.0)),
    "4x6": _Style(
        size=(288.0, 432.0),
        margin=10.0,
        dpi=203,
        module_min_dots=2,
        module_max_dots=4,
        bar_height=48.0,
        qr_module_dots=3,
        label=True,
        title=12,
        body=8,
        small=6.5,
        grey=0.0,
    ),
}


def render_return_slip(slip: ReturnSlip, company: CompanyProfile, *, paper: str = "A4") -> bytes:
    """The return slip as a PDF; ``paper`` is A4, LETTER or 4x6.

    Raises :class:`PrintError` for another paper and for an RMA number Code 128 cannot carry.
    """
    key = paper.strip().upper()
    key = "4x6" if key in {"4X6", "4×6"} else key
    style = _STYLES.get(key)
    if style is None:
        raise PrintError(
            f"Paper size '{paper}' is not supported for return slips — "
            f"choose {', '.join(PAPERS)} in the printer settings"
        )
    rma = slip.rma_number.strip()
    if not rma or any(not 32 <= ord(c) < 127 for c in rma):
        raise PrintError(
            f"RMA number {slip.rma_number!r} cannot be printed as a barcode (letters, digits "
            "and plain punctuation only) — report this to the supervisor"
        )
    return make_document(
        f"return slip for {slip.rma_number}", lambda: _Slip(slip, company, style).render()
    )


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class _Row:
    line: ReturnSlipLine
    name: list[str]
    reason: list[str]
    height: float


class _Slip(CanvasText):
    """One return slip being laid out. ``render`` runs the layout twice: once to count the
    pages (nothing drawn), then to draw them with "Page n of N"."""

    def text_grey(self) -> float:
        return float(self.s.grey)

    def __init__(self, slip: ReturnSlip, company: CompanyProfile, style: _Style) -> None:
        self.slip = slip
        self.company = company
        self.s = style
        self.rma = slip.rma_number.strip()
        self.w, self.h = style.size
        self.left = style.margin
        self.right = self.w - style.margin
        self.grid = DotGrid(style.dpi, self.h)
        self.f = txt.fonts_for(_texts(slip, company))
        self.c: Any = None
        self.measuring = True
        self.rma_modules = barcodes.code128_bars(self.rma)[1]
        self.qr = barcodes.qr_matrix(slip.return_url) if slip.return_url else None
        self.footer_top = style.margin + style.small * 2.4
        self.leading = style.body * 1.25
        self.pad = 1.5 * MM if not style.label else 2.0
        self.cols = self._columns()
        self.rows = [self._row(line) for line in slip.lines]

    # ------------------------------------------------------------------ page structure

    def render(self) -> bytes:
        return self.render_two_pass(self.s.size, f"Return slip {self.rma}", self.company.name)

    def _layout(self, total: int) -> int:
        page = 1
        y = self._lines_head(self._first_header())
        if not self.rows:
            y -= self.leading * 1.8
            self._text(
                self.left + self.pad,
                y,
                "No items were listed for this return — please write down what you send back.",
                self.s.body,
                grey=True,
                width=self.right - self.left - 2 * self.pad,
            )
            y -= self.leading
        for row in self.rows:
            if y - row.height < self.footer_top:
                page = self._next_page(page, total)
                y = self._lines_head(self._continued_header())
            self._line_row(row, y)
            y -= row.height
        trailer_h = self._height(lambda: self._trailer(self.h))
        # The cut-out sits at the foot of the last page, its caption above its dashed edge.
        label_h = 0.0 if self.s.label else self._cutout_height() + 8 * MM
        if y - trailer_h - label_h < self.footer_top:
            page = self._next_page(page, total)
            y = self._continued_header()
        self._trailer(y)
        if not self.s.label:
            self._cutout(self.footer_top + 2 * MM + self._cutout_height())
        self._footer(page, total)
        if not self.measuring:
            self.c.showPage()
        return page

    def _height(self, draw: Any) -> float:
        was, self.measuring = self.measuring, True
        try:
            return self.h - float(draw())
        finally:
            self.measuring = was

    def _next_page(self, page: int, total: int) -> int:
        self._footer(page, total)
        if not self.measuring:
            self.c.showPage()
        return page + 1

    # ------------------------------------------------------------------ drawing primitives

    def _rule(self, y: float, width: float = 0.5, x0: float | None = None) -> None:
        if self.measuring:
            return
        self.c.setLineWidth(width)
        self.c.line(self.left if x0 is None else x0, y, self.right, y)

    # ------------------------------------------------------------------ barcodes

    def _rma_barcode(self, center: float, top: float, max_width: float, height: float) -> float:
        """The RMA number as Code 128 centred on ``center``; returns the bottom of its text."""
        s, grid = self.s, self.grid
        dots = barcodes.fit_module_dots(
            self.rma_modules,
            max_width,
            grid,
            min_dots=s.module_min_dots,
            max_dots=s.module_max_dots,
        )
        quiet = grid.dots(barcodes.CODE128_QUIET_MODULES * dots)
        bars_width = barcodes.code128_width(self.rma_modules, dots, grid, quiet=False)
        x = center - bars_width / 2
        bottom = grid.snap_y(top - height)
        if not self.measuring:
            barcodes.draw_code128(
                self.c,
                self.rma,
                x=x - quiet,
                y=bottom,
                height=height,
                grid=grid,
                module_dots=dots,
            )
        size = s.body * 1.35
        y = bottom - size * 1.2
        self._text(center, y, self.rma, size, bold=True, align="center")
        return y - size * 0.3

    def _qr(self, x: float, top: float) -> float:
        """The QR code with its quiet zone's top-left at (x, top); returns its side."""
        if self.qr is None:
            return 0.0
        if not self.measuring:
            barcodes.draw_qr(
                self.c, self.qr, x=x, top=top, grid=self.grid, module_dots=self.s.qr_module_dots
            )
        return barcodes.qr_size(self.qr, self.s.qr_module_dots, self.grid)

    # ------------------------------------------------------------------ headers

    def _first_header(self) -> float:
        return self._label_header() if self.s.label else self._sheet_header()

    def _sheet_header(self) -> float:
        s, company = self.s, self.company
        top = self.h - s.margin
        y = top - 13
        self._text(self.left, y, company.name, 13, bold=True, width=90 * MM)
        y -= 13 * 0.5
        for line in company.address.lines()[1:]:
            y -= s.body * 1.2
            self._text(self.left, y, line, s.body, width=90 * MM)
        contact = "  ·  ".join(p for p in (company.phone, company.email, company.website) if p)
        if contact:
            y -= s.small * 1.5
            self._text(self.left, y, contact, s.small, grey=True, width=95 * MM)
        center = self.right - 40 * MM
        self._text(self.right, top - s.title, "RETURN SLIP", s.title, bold=True, align="right")
        by = self._rma_barcode(center, top - s.title - 4 * MM, 80 * MM, s.bar_height)
        y = min(y, by) - 4 * MM
        y = self._facts(y)
        return self._addresses(y - 3 * MM) - 5 * MM

    def _label_header(self) -> float:
        s = self.s
        top = self.h - s.margin
        y = top - s.title
        self._text(self.right, y, "RETURN", s.title, bold=True, align="right")
        title_w = txt.text_width("RETURN", self.f.bold, s.title)
        self._text(
            self.left,
            y,
            self.company.name,
            9,
            bold=True,
            width=self.right - self.left - title_w - 8,
        )
        y -= 5
        self._rule(y, 0.8)
        y = self._rma_barcode(self.w / 2, y - 6, self.right - self.left, s.bar_height)
        y -= s.small * 1.2
        self._text(
            self.w / 2,
            y,
            f"Order {self.slip.order_number}  ·  {txt.format_date(self.slip.created_at)}  ·  "
            f"{_plural(self.slip.units, 'item')}",
            s.body,
            align="center",
            width=self.right - self.left,
        )
        y -= 5
        self._rule(y, 0.8)
        y -= s.small * 1.6
        self._text(self.left, y, "RETURN TO", s.small, bold=True)
        for n, line in enumerate(self.slip.return_to.lines()):
            size = 11.5 if n == 0 else 10.5
            y -= size * 1.2
            self._text(self.left + 4, y, line, size, bold=True, width=self.right - self.left - 4)
        y -= s.small * 2
        sender = ", ".join(_short_address(self.slip.customer))
        self._text(self.left, y, "FROM", s.small, bold=True)
        self._text(self.left + 26, y, sender, s.small + 0.5, width=self.right - self.left - 26)
        return y - 7

    def _continued_header(self) -> float:
        s = self.s
        top = self.h - s.margin
        size = 13 if not s.label else 10
        y = top - size
        width = (self.right - self.left) * (0.5 if not s.label else 1.0)
        self._text(self.left, y, f"Return {self.rma} (continued)", size, bold=True, width=width)
        y -= s.body * 1.5
        self._text(
            self.left,
            y,
            f"{self.company.name}  ·  order {self.slip.order_number}",
            s.body,
            grey=True,
            width=width,
        )
        if s.label:
            self._rule(y - 4, 0.8)
            return self._rma_barcode(self.w / 2, y - 10, self.right - self.left, 34.0) - 6
        by = self._rma_barcode(self.right - 35 * MM, top, 70 * MM, 12 * MM)
        return min(by, y) - 5 * MM

    def _facts(self, top: float) -> float:
        s, slip = self.s, self.slip
        facts = [
            ("Return (RMA)", self.rma),
            ("Order", slip.order_number),
            ("Created", txt.format_date(slip.created_at)),
            ("Items", str(slip.units)),
        ]
        width = (self.right - self.left) / len(facts)
        y = top - s.small
        for j, (label, _) in enumerate(facts):
            self._text(
                self.left + j * width, y, label.upper(), s.small * 0.95, bold=True, grey=True
            )
        y -= s.body * 1.45
        for j, (_, value) in enumerate(facts):
            x = self.left + j * width
            self._text(x, y, value, s.body + 1.5, bold=True, width=width - 4)
        return y - s.body * 0.5

    def _addresses(self, top: float) -> float:
        s = self.s
        gap = 6 * MM
        col = (self.right - self.left - gap) / 2
        pad = 3 * MM
        bottoms = []
        blocks = [("Customer", self.slip.customer), ("Return to", self.slip.return_to)]
        for i, (title, address) in enumerate(blocks):
            x = self.left + i * (col + gap)
            y = top - pad - s.small
            self._text(x + pad, y, title.upper(), s.small * 0.95, bold=True, grey=True)
            for n, line in enumerate(address.lines()):
                y -= s.body * 1.3
                self._text(x + pad, y, line, s.body, bold=n == 0, width=col - 2 * pad)
            bottoms.append(y - pad - s.body * 0.4)
        bottom = min(bottoms)
        if not self.measuring:
            c = self.c
            c.setLineWidth(0.6)
            c.setStrokeGray(0.6)
            for i in range(2):
                c.roundRect(self.left + i * (col + gap), bottom, col, top - bottom, 2 * MM)
            c.setStrokeGray(0)
        return bottom

    # ------------------------------------------------------------------ lines table

    def _columns(self) -> dict[str, tuple[float, float, str]]:
        """Column key -> (x, width, align)."""
        if self.s.label:
            spec = [("qty", 22.0, "right"), ("item", 0.0, "left"), ("reason", 84.0, "left")]
        else:
            spec = [
                ("sku", 30 * MM, "left"),
                ("item", 0.0, "left"),
                ("qty", 13 * MM, "right"),
                ("reason", 48 * MM, "left"),
                ("received", 17 * MM, "center"),
            ]
        flex = self.right - self.left - sum(w for _, w, _ in spec)
        out = {}
        x = self.left
        for key, width, align in spec:
            w = width or flex
            out[key] = (x, w, align)
            x += w
        return out

    def _row(self, line: ReturnSlipLine) -> _Row:
        s, pad = self.s, self.pad
        item_w = self.cols["item"][1] - 2 * pad
        reason_w = self.cols["reason"][1] - 2 * pad
        max_lines = 2
        if s.label:  # SKU and name share the cell: the SKU's line comes off the name's
            name = [txt.ellipsize(line.name, self.f.regular, s.small + 0.5, item_w)]
            reason = txt.wrap(line.reason or "—", self.f.regular, s.small + 0.5, reason_w, 2)
            n = max(2, len(reason))
        else:
            name = txt.wrap(line.name, self.f.regular, s.body, item_w, max_lines)
            reason = txt.wrap(line.reason or "—", self.f.regular, s.body, reason_w, max_lines)
            n = max(len(name), len(reason), 1)
        return _Row(line, name, reason, n * self.leading + 2 * pad + (2 if not s.label else 0))

    def _lines_head(self, top: float) -> float:
        s = self.s
        head_h = s.body * 2.1
        if s.label:
            self._rule(top, 0.8)
        elif not self.measuring:
            self.c.setFillGray(0.88)
            self.c.rect(self.left, top - head_h, self.right - self.left, head_h, stroke=0, fill=1)
            self.c.setFillGray(0)
        titles = {
            "sku": "SKU",
            "item": "Item" if not s.label else "SKU / item",
            "qty": "Qty",
            "reason": "Reason",
            "received": "Received",
        }
        baseline = top - head_h / 2 - s.body * 0.35
        for key, (x, w, align) in self.cols.items():
            tx = {"left": x + self.pad, "right": x + w - self.pad, "center": x + w / 2}[align]
            self._text(tx, baseline, titles[key], s.body, bold=True, align=align)
        y = top - head_h
        self._rule(y, 0.8)
        return y

    def _line_row(self, row: _Row, top: float) -> None:
        if self.measuring:
            return
        s, pad, line = self.s, self.pad, row.line
        first = top - pad - s.body
        for key, (x, w, align) in self.cols.items():
            tx = {"left": x + pad, "right": x + w - pad, "center": x + w / 2}[align]
            if key == "sku":
                self._text(tx, first, line.sku, s.body, bold=True, width=w - 2 * pad)
            elif key == "item":
                if s.label:
                    self._text(tx, first, line.sku, s.body, bold=True, width=w - 2 * pad)
                    self._text(tx, first - self.leading, row.name[0], s.small + 0.5)
                else:
                    for n, text in enumerate(row.name):
                        self._text(tx, first - n * self.leading, text, s.body)
            elif key == "qty":
                self._text(tx, first, str(line.qty), s.body + 2, bold=True, align="right")
            elif key == "reason":
                size = s.small + 0.5 if s.label else s.body
                for n, text in enumerate(row.reason):
                    self._text(tx, first - n * self.leading, text, size)
            elif key == "received":
                side = 4 * MM
                self.c.setLineWidth(0.9)
                self.c.rect(tx - side / 2, first - 1, side, side, stroke=1, fill=0)
        self.c.setStrokeGray(0.55 if not s.label else 0)
        self._rule(top - row.height, 0.4)
        self.c.setStrokeGray(0)

    # ------------------------------------------------------------------ trailer

    def _trailer(self, top: float) -> float:
        """Totals, instructions and the QR code after the last line; returns the bottom y."""
        s, slip = self.s, self.slip
        y = top - s.body * 1.6
        self._text(
            self.right,
            y,
            f"{_plural(len(slip.lines), 'line')}  ·  {_plural(slip.units, 'item')} to return",
            s.body,
            bold=True,
            align="right",
        )
        y -= s.body * (1.2 if s.label else 1.8)
        qr_side = barcodes.qr_size(self.qr, s.qr_module_dots, self.grid) if self.qr else 0.0
        quiet = self.grid.dots(barcodes.QR_QUIET_MODULES * s.qr_module_dots)
        text_right = self.right - (qr_side - quiet + (4 * MM if not s.label else 6))
        if self.qr is None:
            text_right = self.right
        width = text_right - self.left
        size = s.body if not s.label else s.small + 0.5
        ty = y - size
        self._text(self.left, ty, "How to send your return", size * 1.15, bold=True)
        ty -= size * 0.4
        for n, step in enumerate(slip.instructions, 1):
            lines = txt.wrap(step, self.f.regular, size, width - size * 1.6, 3)
            for i, text in enumerate(lines):
                ty -= size * 1.3
                if i == 0:
                    self._text(self.left, ty, f"{n}.", size, bold=True)
                self._text(self.left + size * 1.6, ty, text, size)
        if self.qr is not None:
            side = self._qr(self.right - qr_side + quiet, y + quiet * 0.5)
            caption_y = y + quiet * 0.5 - side + quiet - size * 1.1
            self._text(
                self.right, caption_y, "Track your return", size * 0.95, bold=True, align="right"
            )
            ty = min(ty, caption_y)
        return ty - size * 0.6

    def _cutout_height(self) -> float:
        return 62 * MM

    def _cutout(self, top: float) -> None:
        """The address label to cut out and tape to the parcel, its dashed edge at ``top``."""
        s, slip = self.s, self.slip
        height = self._cutout_height()
        width = 150 * MM
        x0 = (self.w - width) / 2
        bottom = top - height
        if not self.measuring:
            c = self.c
            c.setLineWidth(0.8)
            c.setDash(4, 3)
            c.rect(x0, bottom, width, height, stroke=1, fill=0)
            c.setDash()
        self._text(
            self.w / 2,
            top + 2 * MM,
            "Cut along the dashed line and tape this label to the outside of your parcel",
            s.small + 0.5,
            grey=True,
            align="center",
        )
        inner = x0 + 6 * MM
        y = top - 6 * MM - s.small
        self._text(inner, y, "RETURN TO", s.small + 0.5, bold=True)
        for n, line in enumerate(slip.return_to.lines()):
            size = 15 if n == 0 else 13
            y -= size * 1.25
            self._text(inner, y, line, size, bold=True, width=width * 0.55)
        # The RMA barcode for the desk, on the right half.
        right_center = x0 + width * 0.78
        by = self._rma_barcode(right_center, top - 9 * MM, width * 0.38, 14 * MM)
        self._text(
            right_center,
            by - s.small * 1.3,
            f"Order {slip.order_number}",
            s.small + 1,
            align="center",
        )
        sender = ", ".join(_short_address(slip.customer))
        fy = bottom + 6 * MM
        self._text(inner, fy + s.small * 1.5, "FROM", s.small + 0.5, bold=True)
        self._text(inner, fy, sender, s.body, width=width - 12 * MM)

    # ------------------------------------------------------------------ footer

    def _footer(self, number: int, total: int) -> None:
        s = self.s
        y = s.margin
        self._rule(y + s.small * 1.4, 0.4)
        self._text(
            self.left,
            y,
            "  ·  ".join(p for p in (self.company.name, self.company.website) if p)
            if not s.label
            else self.company.name,
            s.small,
            grey=True,
            width=(self.right - self.left) * 0.55,
        )
        self._text(
            self.right,
            y,
            f"Return {self.rma}  ·  Page {number} of {total}",
            s.small,
            bold=True,
            align="right",
        )


def _short_address(address: Address) -> list[str]:
    place = " ".join(p for p in (address.postcode, address.city) if p)
    return [p for p in (address.name, address.line1, place, address.country) if p]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _texts(slip: ReturnSlip, company: CompanyProfile) -> Iterator[str]:
    """Every text of the slip that comes from data (the fixed words are plain ASCII)."""
    yield from (company.name, company.phone, company.email, company.website)
    yield from company.address.lines()
    yield from (slip.rma_number, slip.order_number, *slip.instructions)
    yield from (*slip.customer.lines(), *slip.return_to.lines())
    for line in slip.lines:
        yield from (line.sku, line.name, line.reason)
