"""The pick list: a PDF for A4 or Letter laser printers that a picker carries through the aisles.

``render_pick_list`` lays out a :class:`~app.domain.pick_docs.PickList` with reportlab's canvas,
as :mod:`printing.packing_slip` does. The list's number is printed as Code 128 in the header of
every page (scanning it opens the list at a station); each stop's bin code is printed large
and as Code 128, so the picker can read it from across the aisle and scan it from the paper.
Stops keep their pick sequence; batch and cluster lists end with a summary of their orders.
Long lists flow onto further pages with the header repeated and "Page n of N".

Barcodes are laid out on the laser printer's 300 dpi grid (:mod:`printing.barcodes`).
reportlab and the fonts are loaded on first use, not at import.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.domain.documents import CompanyProfile
from app.domain.errors import PrintError
from app.domain.pick_docs import PickKind, PickList, PickStop
from printing import barcodes
from printing import text as txt
from printing.barcodes import DotGrid
from printing.layout import CanvasText, make_document

log = logging.getLogger(__name__)

MM = txt.MM
PAPERS = ("A4", "LETTER")
_SIZES = {"A4": (210 * MM, 297 * MM), "LETTER": (612.0, 792.0)}

_DPI = 300
_MODULE_DOTS = 3  # 0.254 mm: the least a laser prints reliably, and what fits a bin column
_HEADER_MODULE_MAX = 4
_HEADER_BAR_HEIGHT = 13 * MM
_BIN_BAR_HEIGHT = 7 * MM  # plenty for a handheld scanner held over the sheet
_BIN_SIZE = 14.0
_QTY_SIZE = 20.0
_SLOT_SIZE = 15.0
_BODY = 9.0
_SMALL = 7.5
_GREY = 0.35
_PAD = 1.6 * MM
_KIND_TITLES = {
    PickKind.SINGLE: "Single-order pick",
    PickKind.BATCH: "Batch pick",
    PickKind.CLUSTER: "Cluster pick",
}


def render_pick_list(pick_list: PickList, company: CompanyProfile, *, paper: str = "A4") -> bytes:
    """The pick list as a PDF on A4 or LETTER paper.

    Raises :class:`PrintError` for a list with no stops (there is nothing to walk for, so no
    sheet is wasted), for a number or bin code Code 128 cannot carry, and for other papers.
    """
    key = paper.strip().upper()
    if key not in _SIZES:
        raise PrintError(
            f"Paper size '{paper}' is not supported for pick lists — "
            f"choose {' or '.join(PAPERS)} in the printer settings"
        )
    _check(pick_list)
    return make_document(
        f"pick list {pick_list.number}",
        lambda: _Sheet(pick_list, company, _SIZES[key]).render(),
    )


def _check(pick_list: PickList) -> None:
    number = pick_list.number.strip()
    if not pick_list.stops:
        raise PrintError(
            f"Pick list {number} has no stops, so there is nothing to pick and it was not "
            "printed — release the orders again or delete the list"
        )
    if not _scannable(number):
        raise PrintError(
            f"Pick list number {number!r} cannot be printed as a barcode (letters, digits and "
            "plain punctuation only) — report this to the supervisor"
        )
    for stop in pick_list.stops:
        if not _scannable(stop.bin_code.strip()):
            raise PrintError(
                f"Bin {stop.bin_code!r} (stop {stop.seq}) cannot be printed as a barcode "
                "(letters, digits and plain punctuation only) — rename the bin"
            )


def _scannable(data: str) -> bool:
    return bool(data) and all(32 <= ord(c) < 127 for c in data)


def _when(pick_list: PickList) -> str:
    at = pick_list.created_at
    return f"{txt.format_date(at)} {at:%H:%M}"


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class _Row:
    stop: PickStop
    bin_text: str
    bin_bars: list[tuple[int, int]]
    bin_modules: int
    name: list[str]
    height: float


@dataclass(frozen=True, slots=True)
class _OrderSummary:
    order_number: str
    slots: str
    stops: int
    units: int


class _Sheet(CanvasText):
    """One pick list being laid out. ``render`` runs the layout twice: once to count the pages
    (nothing drawn), then to draw them with "Page n of N"."""

    def text_grey(self) -> float:
        return _GREY

    def __init__(
        self, pick_list: PickList, company: CompanyProfile, size: tuple[float, float]
    ) -> None:
        self.pl = pick_list
        self.company = company
        self.number = pick_list.number.strip()
        self.w, self.h = size
        self.margin = 12 * MM
        self.left = self.margin
        self.right = self.w - self.margin
        self.grid = DotGrid(_DPI, self.h)
        self.f = txt.fonts_for(_texts(pick_list, company))
        self.c: Any = None
        self.measuring = True
        self.number_modules = barcodes.code128_bars(self.number)[1]
        self.footer_top = self.margin + _SMALL * 2.4
        self.bin_quiet = self.grid.dots(barcodes.CODE128_QUIET_MODULES * _MODULE_DOTS)
        self.cols = self._columns()
        self.rows = [self._row(stop) for stop in pick_list.stops]
        self.orders = self._orders()

    # ------------------------------------------------------------------ page structure

    def render(self) -> bytes:
        return self.render_two_pass((self.w, self.h), f"Pick list {self.number}", self.company.name)

    def _layout(self, total: int) -> int:
        page = 1
        y = self._stops_head(self._first_header())
        for row in self.rows:
            if y - row.height < self.footer_top:
                page = self._next_page(page, total)
                y = self._stops_head(self._continued_header())
            self._stop_row(row, y)
            y -= row.height
        totals_h = _BODY * 2.2
        if y - totals_h < self.footer_top:
            page = self._next_page(page, total)
            y = self._continued_header()
        y = self._totals(y)
        if len(self.orders) > 1:
            row_h = _BODY * 2.1
            heading_h = _BODY * 3.2 + row_h
            if y - heading_h - row_h < self.footer_top:
                page = self._next_page(page, total)
                y = self._continued_header()
            y = self._summary_head(y)
            for order in self.orders:
                if y - row_h < self.footer_top:
                    page = self._next_page(page, total)
                    y = self._summary_head(self._continued_header(), continued=True)
                self._summary_row(order, y, row_h)
                y -= row_h
        self._footer(page, total)
        if not self.measuring:
            self.c.showPage()
        return page

    def _next_page(self, page: int, total: int) -> int:
        self._footer(page, total)
        if not self.measuring:
            self.c.showPage()
        return page + 1

    # ------------------------------------------------------------------ drawing primitives

    def _rule(self, y: float, width: float = 0.5, grey: float = 0.0) -> None:
        if self.measuring:
            return
        c = self.c
        c.setLineWidth(width)
        c.setStrokeGray(grey)
        c.line(self.left, y, self.right, y)
        c.setStrokeGray(0)

    def _box(self, x: float, y: float, w: float, h: float, line: float = 1.0) -> None:
        if self.measuring:
            return
        self.c.setLineWidth(line)
        self.c.rect(x, y, w, h, stroke=1, fill=0)

    # ------------------------------------------------------------------ headers

    def _number_barcode(self, right: float, top: float, max_width: float) -> float:
        """The list number as Code 128, its bars ending at ``right``; returns the bottom y."""
        grid = self.grid
        dots = barcodes.fit_module_dots(
            self.number_modules,
            max_width,
            grid,
            min_dots=_MODULE_DOTS,
            max_dots=_HEADER_MODULE_MAX,
        )
        quiet = grid.dots(barcodes.CODE128_QUIET_MODULES * dots)
        bars_width = barcodes.code128_width(self.number_modules, dots, grid, quiet=False)
        x = right - bars_width
        bottom = top - _HEADER_BAR_HEIGHT
        if not self.measuring:
            barcodes.draw_code128(
                self.c,
                self.number,
                x=x - quiet,
                y=bottom,
                height=_HEADER_BAR_HEIGHT,
                grid=grid,
                module_dots=dots,
            )
        y = bottom - 11 * 1.25
        self._text(x + bars_width / 2, y, self.number, 11, bold=True, align="center")
        return y - 4

    def _first_header(self) -> float:
        pl = self.pl
        top = self.h - self.margin
        y = top - _SMALL
        self._text(self.left, y, self.company.name, _SMALL + 0.5, grey=True, width=100 * MM)
        y -= 22
        self._text(self.left, y, "PICK LIST", 22, bold=True)
        y -= _BODY * 2
        orders = len(pl.order_numbers)
        summary = (
            f"{_KIND_TITLES[pl.kind]}  ·  {_plural(len(pl.stops), 'stop')}  ·  "
            f"{_plural(pl.units, 'unit')}  ·  {_plural(orders, 'order')}"
        )
        self._text(self.left, y, summary, _BODY + 1.5, bold=True, width=110 * MM)
        barcode_bottom = self._number_barcode(self.right, top, 70 * MM)
        y = min(y, barcode_bottom) - 4 * MM

        facts = [("Created", _when(pl))]
        if orders == 1:
            facts.append(("Order", pl.order_numbers[0]))
        facts.append(("Picker", pl.picker or ""))
        facts.append(("Started", ""))
        facts.append(("Finished", ""))
        width = (self.right - self.left) / len(facts)
        label_y = y - _SMALL
        value_y = label_y - _BODY * 1.7
        for i, (label, value) in enumerate(facts):
            x = self.left + i * width
            self._text(x, label_y, label.upper(), _SMALL * 0.95, bold=True, grey=True)
            if value:
                self._text(x, value_y, value, _BODY + 1, bold=True, width=width - 3 * MM)
            elif not self.measuring:  # a line to write on
                self.c.setLineWidth(0.5)
                self.c.line(x, value_y - 1.5, x + width - 6 * MM, value_y - 1.5)
        return value_y - 5 * MM

    def _continued_header(self) -> float:
        top = self.h - self.margin
        y = top - 14
        self._text(self.left, y, f"Pick list {self.number}", 14, bold=True, width=110 * MM)
        y -= _BODY * 1.6
        self._text(
            self.left,
            y,
            f"{_KIND_TITLES[self.pl.kind]}  ·  continued  ·  {_when(self.pl)}",
            _BODY,
            grey=True,
            width=110 * MM,
        )
        by = self._number_barcode(self.right, top, 70 * MM)
        return min(y, by) - 4 * MM

    # ------------------------------------------------------------------ stops table

    def _columns(self) -> dict[str, tuple[float, float]]:
        """Column key -> (x, width); the bin column is as wide as the widest bin barcode."""
        widest = max(barcodes.code128_bars(stop.bin_code.strip())[1] for stop in self.pl.stops)
        bars = self.grid.dots(widest * _MODULE_DOTS) + 2 * self.bin_quiet
        bin_text = max(
            txt.text_width(stop.bin_code.strip(), self.f.bold, _BIN_SIZE) for stop in self.pl.stops
        )
        bin_w = min(max(bars, bin_text + self.bin_quiet + _PAD, 40 * MM), 66 * MM)
        fixed = {"seq": 10 * MM, "bin": bin_w, "qty": 17 * MM, "order": 30 * MM, "done": 12 * MM}
        item_w = self.right - self.left - sum(fixed.values())
        out = {}
        x = self.left
        for key in ("seq", "bin", "item", "qty", "order", "done"):
            width = item_w if key == "item" else fixed[key]
            out[key] = (x, width)
            x += width
        return out

    def _row(self, stop: PickStop) -> _Row:
        bin_code = stop.bin_code.strip()
        bars, modules = barcodes.code128_bars(bin_code)
        item_w = self.cols["item"][1] - 2 * _PAD
        name = txt.wrap(stop.name, self.f.regular, _BODY, item_w, 2)
        bin_h = _BIN_SIZE * 1.05 + 1.2 * MM + _BIN_BAR_HEIGHT
        item_lines = 2 + len(name) + (1 if stop.lot else 0)
        item_h = 10 + (item_lines - 1) * _BODY * 1.25
        slot_h = _BODY * 1.3 + (_SLOT_SIZE * 1.6 if stop.tote_slot else 0)
        height = max(bin_h, item_h, slot_h) + 2 * _PAD + 1.5 * MM
        return _Row(stop, bin_code, bars, modules, name, height)

    def _stops_head(self, top: float) -> float:
        head_h = _BODY * 2.2
        if not self.measuring:
            c = self.c
            c.setFillGray(0.88)
            c.rect(self.left, top - head_h, self.right - self.left, head_h, stroke=0, fill=1)
            c.setFillGray(0)
        baseline = top - head_h / 2 - _BODY * 0.35
        titles = {
            "seq": ("#", "left"),
            "bin": ("Bin", "left"),
            "item": ("SKU / GTIN / item", "left"),
            "qty": ("Qty", "right"),
            "order": ("Order / slot", "left"),
            "done": ("Done", "center"),
        }
        for key, (title, align) in titles.items():
            x, w = self.cols[key]
            tx = {"left": x + _PAD, "right": x + w - _PAD, "center": x + w / 2}[align]
            self._text(tx, baseline, title, _BODY, bold=True, align=align)
        y = top - head_h
        self._rule(y, 0.8)
        return y

    def _stop_row(self, row: _Row, top: float) -> None:
        if self.measuring:
            return
        stop, cols = row.stop, self.cols
        bottom = top - row.height
        first = top - _PAD - _BIN_SIZE * 0.8

        x, w = cols["seq"]
        self._text(x + _PAD, first, str(stop.seq), 11, bold=True)

        # Bin: big text over the bars; the bars start after the quiet zone, the text with them.
        x, w = cols["bin"]
        bars_x = x + self.bin_quiet
        self._text(bars_x, first, row.bin_text, _BIN_SIZE, bold=True, width=w - self.bin_quiet)
        bars_bottom = first - _BIN_SIZE * 0.25 - 1.2 * MM - _BIN_BAR_HEIGHT
        bars_bottom = self.grid.snap_y(bars_bottom)
        barcodes.draw_code128(
            self.c,
            row.bin_text,
            x=x,
            y=bars_bottom,
            height=_BIN_BAR_HEIGHT,
            grid=self.grid,
            module_dots=_MODULE_DOTS,
        )

        # Item: SKU, GTIN, name, lot.
        x, w = cols["item"]
        tx, tw = x + _PAD, w - 2 * _PAD
        y = top - _PAD - 10 * 0.8 - 1
        self._text(tx, y, stop.sku, 10.5, bold=True, width=tw)
        y -= _BODY * 1.25
        self._text(tx, y, f"GTIN {stop.gtin}" if stop.gtin else "", _SMALL + 0.5, width=tw)
        for line in row.name:
            y -= _BODY * 1.25
            self._text(tx, y, line, _BODY)
        if stop.lot:
            y -= _BODY * 1.25
            self._text(tx, y, f"LOT {stop.lot}", _BODY, bold=True, width=tw)

        x, w = cols["qty"]
        self._text(
            x + w - _PAD,
            top - _PAD - _QTY_SIZE * 0.8,
            str(stop.qty),
            _QTY_SIZE,
            bold=True,
            align="right",
        )

        x, w = cols["order"]
        y = top - _PAD - _BODY
        self._text(x + _PAD, y, stop.order_number, _BODY, bold=True, width=w - 2 * _PAD)
        if stop.tote_slot:
            box_h = _SLOT_SIZE * 1.35
            box_top = y - 1.2 * MM
            slot_w = txt.text_width(stop.tote_slot, self.f.bold, _SLOT_SIZE)
            box_w = min(max(slot_w + 3 * MM, 10 * MM), w - 2 * _PAD)
            self._box(x + _PAD, box_top - box_h, box_w, box_h, 1.2)
            self._text(
                x + _PAD + box_w / 2,
                box_top - box_h / 2 - _SLOT_SIZE * 0.35,
                stop.tote_slot,
                _SLOT_SIZE,
                bold=True,
                align="center",
                width=box_w - 2,
            )

        x, w = cols["done"]
        side = 6 * MM
        self._box(x + (w - side) / 2, top - _PAD - side, side, side, 1.2)
        self._rule(bottom, 0.5, grey=0.45)

    def _totals(self, top: float) -> float:
        y = top - _BODY * 1.7
        pl = self.pl
        self._text(
            self.right,
            y,
            f"{_plural(len(pl.stops), 'stop')}  ·  {_plural(pl.units, 'unit')}  ·  "
            f"{_plural(len(pl.order_numbers), 'order')}",
            _BODY + 1,
            bold=True,
            align="right",
        )
        return y - _BODY * 0.5

    # ------------------------------------------------------------------ order summary

    def _orders(self) -> list[_OrderSummary]:
        stops: dict[str, list[PickStop]] = {}
        for stop in self.pl.stops:
            stops.setdefault(stop.order_number, []).append(stop)
        out = []
        for order, its in stops.items():
            slots = dict.fromkeys(s.tote_slot for s in its if s.tote_slot)
            out.append(_OrderSummary(order, ", ".join(slots), len(its), sum(s.qty for s in its)))
        return out

    _SUMMARY_WIDTH = 150 * MM

    def _summary_cols(self) -> list[tuple[str, str, float, str]]:
        """(key, title, x, align) for the order summary; narrower than the page, it reads
        better. The tote slot column only when the list has slots (cluster picks)."""
        x = self.left
        cols = [("order", "Order", x + _PAD, "left")]
        if any(order.slots for order in self.orders):
            cols.append(("slots", "Tote slot", x + 50 * MM, "left"))
        cols += [
            ("stops", "Stops", x + 100 * MM, "right"),
            ("units", "Units", x + 122 * MM, "right"),
            ("done", "Sorted", x + 138 * MM, "center"),
        ]
        return cols

    def _summary_head(self, top: float, *, continued: bool = False) -> float:
        y = top - _BODY * 2.6
        title = "Orders on this list" + (" (continued)" if continued else "")
        self._text(self.left, y, title, _BODY + 3, bold=True)
        y -= _BODY * 0.9
        head_h = _BODY * 2.1
        if not self.measuring:
            self.c.setFillGray(0.88)
            self.c.rect(self.left, y - head_h, self._SUMMARY_WIDTH, head_h, stroke=0, fill=1)
            self.c.setFillGray(0)
        baseline = y - head_h / 2 - _BODY * 0.35
        for _, title, x, align in self._summary_cols():
            self._text(x, baseline, title, _BODY, bold=True, align=align)
        return y - head_h

    def _summary_row(self, order: _OrderSummary, top: float, height: float) -> None:
        if self.measuring:
            return
        baseline = top - height / 2 - _BODY * 0.35
        values = {
            "order": order.order_number,
            "slots": order.slots or "—",
            "stops": str(order.stops),
            "units": str(order.units),
        }
        for key, _, x, align in self._summary_cols():
            if key == "done":
                side = 4 * MM
                self._box(x - side / 2, top - height / 2 - side / 2, side, side, 0.9)
                continue
            bold = key in {"order", "slots"}
            self._text(x, baseline, values[key], _BODY + 0.5, bold=bold, align=align, width=46 * MM)
        self.c.setLineWidth(0.4)
        self.c.setStrokeGray(0.45)
        self.c.line(self.left, top - height, self.left + self._SUMMARY_WIDTH, top - height)
        self.c.setStrokeGray(0)

    # ------------------------------------------------------------------ footer

    def _footer(self, number: int, total: int) -> None:
        y = self.margin
        self._rule(y + _SMALL * 1.4, 0.4)
        self._text(
            self.left,
            y,
            f"{self.company.name}  ·  created {_when(self.pl)}",
            _SMALL,
            grey=True,
            width=(self.right - self.left) * 0.6,
        )
        self._text(
            self.right,
            y,
            f"Pick list {self.number}  ·  Page {number} of {total}",
            _SMALL + 0.5,
            bold=True,
            align="right",
        )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _texts(pick_list: PickList, company: CompanyProfile) -> Iterator[str]:
    """Every text of the list that comes from data (the fixed words are plain ASCII)."""
    yield from (company.name, pick_list.number, pick_list.picker or "")
    for stop in pick_list.stops:
        yield from (stop.bin_code, stop.sku, stop.gtin, stop.name, stop.order_number)
        yield from (stop.tote_slot or "", stop.lot or "")
