"""Warehouse labels as PDF: the 4×6 shipping label (GS1 logistic label), product, bin and tote.

Each label is laid out once, in whole printer dots from the top-left corner (the way a thermal
printer and ZPL count), as a short list of drawing operations; :func:`render_shipping_label`
and friends draw those on a reportlab canvas, and :mod:`printing.zpl` turns the same list into
ZPL. So both outputs put every bar, rule and line of text on the same dots, and every barcode
sits on the printer's dot grid by construction. Several labels become several pages.

Barcodes:

* shipping label: the tracking number as Code 128; the SSCC as GS1-128, i.e. Code 128 starting
  with FNC1, then AI 00 and the 18 digits, printed ``(00) 1 2345678 000000001 8`` underneath;
* product label: the GTIN as EAN-13 when it is a GTIN-12 or GTIN-13 (what every shop till and
  handheld reads); a GTIN-14 with an indicator digit (a case, not a consumer item) or a GTIN-8
  (which GS1 forbids padding into EAN-13) as GS1-128 with AI 01;
* bin and tote labels: the code as Code 128, with the code in large letters.

Text that does not fit is wrapped and then cut with an ellipsis; nothing overflows its box.
reportlab is imported on first use. :func:`layout_pages` and the operation classes are shared
with :mod:`printing.zpl`.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.domain.documents import Address, CompanyProfile
from app.domain.errors import PrintError
from app.domain.labels import BinLabel, ProductLabel, ShippingLabel, ToteLabel
from app.domain.sscc import is_valid_sscc, sscc_hri
from printing import barcodes, gs1_128
from printing import text as txt
from printing.barcodes import DotGrid

log = logging.getLogger(__name__)

MM_PER_INCH = 25.4
DPIS = (203, 300)
Label = ShippingLabel | ProductLabel | BinLabel | ToteLabel

# ----------------------------------------------------------------------------- sizes


@dataclass(frozen=True, slots=True)
class LabelSize:
    """A label stock on one printer: width and height in dots at ``dpi``."""

    width: int
    height: int
    dpi: int

    @property
    def points(self) -> tuple[float, float]:
        return self.width * 72 / self.dpi, self.height * 72 / self.dpi

    @property
    def mm(self) -> tuple[float, float]:
        return self.width * MM_PER_INCH / self.dpi, self.height * MM_PER_INCH / self.dpi


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(mm|in)?\s*$", re.IGNORECASE)


def label_size(size: str, dpi: int) -> LabelSize:
    """Parse ``"50x30mm"``, ``"4x6"`` or ``"4x6in"`` (inches without a unit) for ``dpi``."""
    if dpi not in DPIS:
        raise PrintError(
            f"Label printers at {dpi} dpi are not supported — set the printer to 203 or 300 dpi"
        )
    m = _SIZE.match(size)
    if m is None:
        raise PrintError(f"Label size {size!r} is not understood — write it like 50x30mm or 4x6in")
    unit = 1.0 if (m.group(3) or "in").lower() == "mm" else MM_PER_INCH
    width_mm, height_mm = float(m.group(1)) * unit, float(m.group(2)) * unit
    if not (25 <= width_mm <= 220 and 15 <= height_mm <= 400):
        raise PrintError(
            f"Label size {size} is outside what label printers take (25×15 mm to 8.5×15 in)"
        )
    dots = dpi / MM_PER_INCH
    return LabelSize(round(width_mm * dots), round(height_mm * dots), dpi)


# ----------------------------------------------------------------------------- operations


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text; ``y`` is its baseline. Centred/right-aligned within ``x``..``x+width``."""

    x: int
    y: int
    text: str
    size: int  # em size in dots
    bold: bool = False
    align: str = "L"  # L | C | R
    width: int = 0
    inverse: bool = False  # white on a black box drawn before it


@dataclass(frozen=True, slots=True)
class Box:
    """A filled rectangle (``thickness`` 0) or a frame whose lines are ``thickness`` dots."""

    x: int
    y: int
    w: int
    h: int
    thickness: int = 0


@dataclass(frozen=True, slots=True)
class Code128:
    """Code 128 code values (start character first) with the first bar at ``x``."""

    x: int
    y: int
    height: int
    module: int
    values: tuple[int, ...]
    text: str | None = None  # the data, for plain Code 128 (no FNC1)


@dataclass(frozen=True, slots=True)
class Ean13:
    """An EAN-13 symbol, first bar at ``x``; the digits go under ``height`` (9 modules more)."""

    x: int
    y: int
    height: int
    module: int
    code: str


@dataclass(frozen=True, slots=True)
class Logo:
    """The company logo, fitted into the box keeping its proportions; left out if unreadable."""

    x: int
    y: int
    w: int
    h: int
    path: str


Op = Text | Box | Code128 | Ean13 | Logo


@dataclass(slots=True)
class Page:
    size: LabelSize
    ops: list[Op]


# ----------------------------------------------------------------------------- layout helpers


class _Pen:
    """Measures and places text in dots with the document's fonts."""

    def __init__(self, size: LabelSize, fonts: txt.Fonts) -> None:
        self.size = size
        self.fonts = fonts
        self.k = size.dpi / 72  # dots per point
        self.ops: list[Op] = []

    def pt(self, points: float) -> int:
        return round(points * self.k)

    def width(self, text: str, size: int, bold: bool = False) -> float:
        return txt.text_width(text, self.fonts.bold if bold else self.fonts.regular, size)

    def fit(self, text: str, size: int, width: int, bold: bool = False) -> str:
        return txt.ellipsize(text, self.fonts.bold if bold else self.fonts.regular, size, width)

    def wrap(self, text: str, size: int, width: int, lines: int, bold: bool = False) -> list[str]:
        font = self.fonts.bold if bold else self.fonts.regular
        if lines == 1:  # txt.wrap gives two lines when asked for one and the text is long
            return [txt.ellipsize(" ".join(text.split()), font, size, width)]
        return txt.wrap(text, font, size, width, lines)

    def text(
        self,
        x: int,
        y: int,
        text: str,
        size: int,
        *,
        bold: bool = False,
        align: str = "L",
        width: int = 0,
        inverse: bool = False,
    ) -> None:
        """A line cut to ``width`` (when given); left, centred or right within x..x+width."""
        if width:
            text = self.fit(text, size, width, bold)
        if text:
            self.ops.append(Text(x, y, text, size, bold, align, width, inverse))

    def rule(self, x: int, y: int, w: int, thickness: int) -> None:
        self.ops.append(Box(x, y, w, thickness))


def _fit_module(modules: int, width: int, low: int, high: int) -> int:
    """The widest module in ``low``..``high`` dots whose symbol (quiet zones in) fits ``width``."""
    for dots in range(high, low - 1, -1):
        if (modules + 2 * barcodes.CODE128_QUIET_MODULES) * dots <= width:
            return dots
    return low


def _ascii_code(value: str, what: str) -> str:
    value = value.strip()
    if not value or not value.isascii() or not value.isprintable():
        raise PrintError(
            f"The {what} {value!r} cannot go into a barcode: it must be letters, digits and "
            "signs without accents — correct it and print again"
        )
    return value


def _address_lines(address: Address) -> list[str]:
    return [line for line in (address.line1, address.line2) if line]


def _place(address: Address) -> str:
    return " ".join(p for p in (address.postcode, address.city) if p)


def format_weight(grams: int) -> str:
    return f"{grams / 1000:.2f} kg"


# ----------------------------------------------------------------------------- shipping label


def _check_shipping(label: ShippingLabel) -> None:
    if not is_valid_sscc(label.sscc):
        raise PrintError(
            f"The SSCC {label.sscc!r} of order {label.order_number} is not 18 digits with a "
            "right check digit — make a new SSCC for this package and print again"
        )
    if not 1 <= label.package_no <= max(label.package_count, 1):
        raise PrintError(
            f"Package {label.package_no} of {label.package_count} does not exist — "
            "check the package count of order {label.order_number}"
        )
    if label.weight_g < 0:
        raise PrintError(f"A weight of {label.weight_g} g cannot be printed — weigh it again")


def _shipping_page(
    label: ShippingLabel, company: CompanyProfile, size: LabelSize, fonts: txt.Fonts
) -> Page:
    """Top to bottom: from and logo; ship to; carrier, service, weight and package n of N;
    the tracking number; order and reference; the SSCC. Laid out from the bottom up, so the
    address gets whatever room is left."""
    _check_shipping(label)
    p = _Pen(size, fonts)
    pt = p.pt
    margin = pt(10)
    left, right = margin, size.width - margin
    width = right - left
    thick, thin = max(3, pt(1.6)), max(2, pt(0.8))

    # SSCC segment. GS1 logistic label: X 0.495–1.016 mm (4 dots at 203 dpi, 6 at 300), bars
    # at least 31.75 mm high.
    sscc_values = tuple(gs1_128.code128_values(gs1_128.element_string(f"(00){label.sscc}")))
    sscc_modules = gs1_128.code128_modules(sscc_values)
    low = 2 if size.dpi == 203 else 3
    sscc_module = _fit_module(sscc_modules, size.width, low, 2 * low)
    hri_size = pt(12)
    hri_y = size.height - margin - pt(1)
    bars_h = pt(90)
    bars_top = hri_y - hri_size - pt(3) - bars_h
    x = (size.width - sscc_modules * sscc_module) // 2
    p.ops.append(Code128(x, bars_top, bars_h, sscc_module, sscc_values))
    hri = sscc_hri(label.sscc, label.company_prefix_length)
    p.text(left, hri_y, hri, hri_size, bold=True, align="C", width=width)
    y = bars_top - pt(5)
    p.text(left, y, "SSCC", pt(7.5), bold=True)
    p.text(left, y, "Serial Shipping Container Code", pt(6.5), align="R", width=width)
    y -= pt(11)
    p.rule(0, y, size.width, thick)

    # Order, reference and a handling note.
    y -= pt(6)
    facts = f"Order {label.order_number}"
    if label.reference:
        facts += f"    Ref {label.reference}"
    if label.notes:
        note_w = min(round(p.width(label.notes, pt(9), bold=True)) + 1, width // 2)
        p.text(right - note_w, y, label.notes, pt(9), bold=True, align="R", width=note_w)
        p.text(left, y, facts, pt(8.5), width=width - note_w - pt(10))
    else:
        p.text(left, y, facts, pt(8.5), width=width)
    y -= pt(14)
    p.rule(0, y, size.width, thin)

    # Tracking number.
    tracking = label.tracking_number.strip()
    if tracking:
        _ascii_code(tracking, "tracking number")
        y -= pt(5)
        p.text(left, y, _spaced(tracking), pt(11), bold=True, align="C", width=width)
        values = tuple(gs1_128.code128_values(tracking))
        modules = gs1_128.code128_modules(values)
        module = _fit_module(modules, size.width, low, low + 1)
        bar_h = pt(54)
        bars_top = y - pt(13) - bar_h
        x = (size.width - modules * module) // 2
        p.ops.append(Code128(x, bars_top, bar_h, module, values, tracking))
        y = bars_top - pt(4)
        p.text(left, y, "TRACKING NUMBER", pt(6.5), bold=True)
        y -= pt(9)

    # Carrier, service, weight, and the package count in a black box.
    box_w, box_h = pt(78), pt(42)
    box_x = right - box_w
    box_top = y - box_h
    text_w = box_x - left - pt(8)
    p.ops.append(Box(box_x, box_top, box_w, box_h))
    p.text(
        box_x, box_top + pt(11), "PACKAGE", pt(7), bold=True, align="C", width=box_w, inverse=True
    )
    count = f"{label.package_no} of {label.package_count}"
    p.text(box_x, box_top + pt(34), count, pt(18), bold=True, align="C", width=box_w, inverse=True)
    p.text(left, box_top + pt(14), label.carrier.upper(), pt(16), bold=True, width=text_w)
    p.text(left, box_top + pt(27), label.service, pt(10), width=text_w)
    p.text(
        left,
        box_top + pt(39),
        f"Weight {format_weight(label.weight_g)}",
        pt(9),
        bold=True,
        width=text_w,
    )
    carrier_top = box_top - pt(4)
    p.rule(0, carrier_top, size.width, thick)

    # From, small, beside the logo.
    logo = company.logo_path if _logo_image(company.logo_path) is not None else None
    logo_w = pt(96) if logo else 0
    from_w = width - logo_w - (pt(8) if logo else 0)
    y = margin + pt(7)
    p.text(left, y, "FROM", pt(6.5), bold=True)
    place = ", ".join(x for x in (_place(label.ship_from), label.ship_from.country) if x)
    from_lines = [label.ship_from.name, *_address_lines(label.ship_from), place]
    for n, line in enumerate(from_lines[:4]):
        y += pt(8.4)
        p.text(left, y, line, pt(7.5), bold=n == 0, width=from_w)
    from_bottom = margin + pt(46)
    if logo:
        p.ops.append(Logo(right - logo_w, margin, logo_w, from_bottom - margin - pt(4), logo))
    p.rule(0, from_bottom, size.width, thin)

    _ship_to(p, label.ship_to, from_bottom + thin, carrier_top, left, width)
    return Page(size, p.ops)


def _ship_to(p: _Pen, to: Address, top: int, bottom: int, left: int, width: int) -> None:
    """The consignee, big, in the room between ``top`` and ``bottom``; cut to what fits."""
    pt = p.pt
    y = top + pt(9)
    p.text(left, y, "SHIP TO", pt(7), bold=True)
    country_size = pt(22)
    if to.country:
        p.text(
            left, top + pt(22), to.country.upper(), country_size, bold=True, align="R", width=width
        )
    text_w = width - (pt(40) if to.country else 0)
    # Most lines each field may take; when the address does not fit, the least useful lines
    # go first, so that postcode and city (what the carrier sorts by) always print.
    fields: dict[str, tuple[str, int, bool]] = {
        "name": (to.name, pt(15), True),
        "line1": (to.line1, pt(13), False),
        "line2": (to.line2, pt(13), False),
        "place": (_place(to), pt(18), True),
        "region": (to.region, pt(13), False),
    }
    most = {"name": 2, "line1": 2, "line2": 2, "place": 1, "region": 1}
    cuts = [("region", 0), ("line2", 1), ("line1", 1), ("name", 1), ("line2", 0)]
    room = bottom - pt(5) - y
    while True:
        lines = [
            (part, size, bold)
            for key, (text, size, bold) in fields.items()
            if text and most[key]
            for part in p.wrap(text, size, text_w, most[key], bold)
        ]
        if sum(round(size * 1.18) for _, size, _ in lines) <= room or not cuts:
            break
        key, lines_left = cuts.pop(0)
        most[key] = lines_left
    for text, size, bold in lines:
        step = round(size * 1.18)
        if y + step > bottom - pt(5):
            break
        y += step
        p.text(left, y, text, size, bold=bold, width=text_w)


def _spaced(code: str) -> str:
    """A long code in groups of four so that a person can read it out."""
    if len(code) <= 10:
        return code
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


# ----------------------------------------------------------------------------- product label


def gtin_symbol(gtin: str) -> tuple[str, str]:
    """How a GTIN is printed: ``("ean13", 13 digits)`` or ``("gs1-128", 14 digits)``."""
    from biip.checksums import gs1_standard_check_digit

    code = gtin.strip()
    if (
        not (code.isascii() and code.isdigit())
        or len(code) not in (8, 12, 13, 14)
        or gs1_standard_check_digit(code[:-1]) != int(code[-1])
    ):
        raise PrintError(
            f"{gtin!r} is not a GTIN (8, 12, 13 or 14 digits with a right check digit) — "
            "correct the product's barcode number and print again"
        )
    gtin14 = code.zfill(14)
    if len(code) == 8 or gtin14[0] != "0":
        return "gs1-128", gtin14
    return "ean13", gtin14[1:]


_ZERO_DECIMALS = frozenset({"JPY", "KRW", "ISK", "CLP", "VND", "HUF", "TWD", "UGX", "XAF", "XOF"})
_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "CHF": "CHF", "PLN": "zł"}
_COMMA_LANGUAGES = frozenset(
    {"de", "fr", "es", "it", "nl", "pt", "pl", "cs", "sk", "sl", "hr", "hu", "ro"}
    | {"bg", "ru", "uk", "el", "da", "sv", "nb", "fi", "et", "lv", "lt", "tr"}
)


def format_price(minor: int, currency: str, locale: str = "en_GB") -> str:
    """``1299, "EUR"`` → ``€12.99`` (English) or ``12,99 €`` (most of Europe)."""
    code = currency.strip().upper()
    decimals = 0 if code in _ZERO_DECIMALS else 2
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**decimals)
    comma = locale[:2].lower() in _COMMA_LANGUAGES
    number = f"{whole:,}".replace(",", "." if comma else ",")
    if decimals:
        number += ("," if comma else ".") + f"{part:0{decimals}d}"
    symbol = _SYMBOLS.get(code, code)
    if comma or len(symbol) > 1:
        return f"{sign}{number} {symbol}".strip()
    return f"{sign}{symbol}{number}"


def _product_page(
    label: ProductLabel, company: CompanyProfile, size: LabelSize, fonts: txt.Fonts
) -> Page:
    kind, code = gtin_symbol(label.gtin)
    p = _Pen(size, fonts)
    pt = p.pt
    scale = min(size.width / pt(142), size.height / pt(85))  # 1 on 50×30 mm
    margin = max(pt(5), round(pt(6) * scale))
    left, width = margin, size.width - 2 * margin
    name_size = round(pt(8) * min(scale, 2.2))
    y = margin + round(name_size * 0.8)
    big = size.height >= pt(150)
    if big and company.name:
        p.text(left, y, company.name, round(name_size * 0.7), width=width)
        y += round(name_size * 1.2)
    for line in p.wrap(label.name, name_size, width, 2 if not big else 3, bold=True):
        p.text(left, y, line, name_size, bold=True, width=width)
        y += round(name_size * 1.1)
    small = round(name_size * 0.85)
    line_y = y + round(small * 0.2)
    price_w = 0
    if label.price_minor is not None:
        price = format_price(label.price_minor, label.currency, company.locale)
        price_size = round(name_size * 1.45)
        price_w = round(p.width(price, price_size, bold=True)) + pt(4)
        line_y = y + round(price_size * 0.45)
        p.text(left, line_y, price, price_size, bold=True, align="R", width=width)
    if label.sku:
        p.text(left, line_y, f"SKU {label.sku}", small, width=width - price_w)
    top = line_y + pt(4)

    bottom = size.height - margin
    low = 3 if size.dpi == 203 else 4  # EAN-13 at ≥ 0.33 mm × 0.8 magnification, POS-safe
    if kind == "ean13":
        total = gs1_128.EAN13_MODULES + gs1_128.EAN13_QUIET_LEFT + gs1_128.EAN13_QUIET_RIGHT
        module = low
        for dots in range(low + 3, low - 1, -1):
            if total * dots <= size.width:
                module = dots
                break
        bar_h = min(bottom - top - 9 * module, round(size.dpi * 0.9))
        x = (size.width - gs1_128.EAN13_MODULES * module) // 2 + 2 * module
        if bar_h < pt(12):
            raise _too_small("product", size)
        p.ops.append(Ean13(x, bottom - 9 * module - bar_h, bar_h, module, code))
    else:
        values = tuple(gs1_128.code128_values(gs1_128.element_string(f"(01){code}")))
        modules = gs1_128.code128_modules(values)
        module = _fit_module(modules, size.width, 2 if size.dpi == 203 else 3, low + 1)
        hri_size = max(pt(6.5), round(name_size * 0.9))
        bar_h = min(bottom - top - hri_size - pt(3), round(size.dpi * 0.9))
        if bar_h < pt(12):
            raise _too_small("product", size)
        p.ops.append(
            Code128(
                (size.width - modules * module) // 2,
                bottom - hri_size - pt(3) - bar_h,
                bar_h,
                module,
                values,
            )
        )
        p.text(left, bottom - pt(1), f"(01) {code}", hri_size, align="C", width=width)
    return Page(size, p.ops)


def _too_small(what: str, size: LabelSize) -> PrintError:
    w, h = size.mm
    return PrintError(
        f"A {what} label does not fit on {w:.0f}×{h:.0f} mm labels with a barcode that scans "
        "— load bigger labels or choose the label size that is in the printer"
    )


# ----------------------------------------------------------------------------- bin and tote


def _code_page(
    code: str, caption: str, title: str, size: LabelSize, fonts: txt.Fonts, what: str
) -> Page:
    """A bin or tote: a caption, the code in big letters and as Code 128 across the label."""
    code = _ascii_code(code, f"{what} code")
    p = _Pen(size, fonts)
    pt = p.pt
    margin = max(pt(6), round(size.height * 0.05))
    left, width = margin, size.width - 2 * margin
    values = tuple(gs1_128.code128_values(code))
    modules = gs1_128.code128_modules(values)
    low = 2 if size.dpi == 203 else 3
    module = _fit_module(modules, size.width, low, low * 3)
    if modules * module > size.width - 2 * module * 4:
        raise PrintError(
            f"The {what} code {code} is too long for a barcode on this label — "
            "use a wider label or a shorter code"
        )
    small = max(pt(7), round(size.height * 0.06))
    y = margin + small
    p.text(left, y, title, small, bold=True)
    if caption:
        p.text(left, y, caption, round(small * 1.3), bold=True, align="R", width=width)
    room = size.height - 2 * margin - small
    code_size = round(room * 0.34)
    while code_size > pt(10) and p.width(code, code_size, bold=True) > width * 0.96:
        code_size = round(code_size * 0.94)
    y += pt(4) + round(code_size * 0.8)
    p.text(left, y, code, code_size, bold=True, align="C", width=width)
    top = y + max(pt(8), round(code_size * 0.2))
    room = size.height - margin - top
    bar_h = min(room, round(size.dpi * 1.2))
    if bar_h < pt(14):
        raise _too_small(what, size)
    x = (size.width - modules * module) // 2
    p.ops.append(Code128(x, top + (room - bar_h) // 2, bar_h, module, values, code))
    return Page(size, p.ops)


# ----------------------------------------------------------------------------- pages


def layout_pages(
    labels: Sequence[Label], company: CompanyProfile | None, size: LabelSize, fonts: txt.Fonts
) -> list[Page]:
    """Every label laid out on its own page, in dots."""
    pages = []
    for label in labels:
        if isinstance(label, ShippingLabel):
            assert company is not None
            pages.append(_shipping_page(label, company, size, fonts))
        elif isinstance(label, ProductLabel):
            assert company is not None
            pages.append(_product_page(label, company, size, fonts))
        elif isinstance(label, BinLabel):
            pages.append(_code_page(label.code, label.zone, "BIN", size, fonts, "bin"))
        else:
            pages.append(_code_page(label.code, "", "TOTE", size, fonts, "tote"))
    return pages


def label_texts(labels: Sequence[Label], company: CompanyProfile | None) -> Iterator[str]:
    """Every text a label shows that comes from data: picks the fonts."""
    if company is not None:
        yield company.name
    for label in labels:
        if isinstance(label, ShippingLabel):
            yield from label.ship_from.lines()
            yield from label.ship_to.lines()
            yield from (label.carrier, label.service, label.order_number, label.reference)
            yield label.notes
        elif isinstance(label, ProductLabel):
            yield from (label.name, label.sku, label.currency)
        elif isinstance(label, BinLabel):
            yield label.zone


# ----------------------------------------------------------------------------- public API


def render_shipping_label(
    label: ShippingLabel, company: CompanyProfile, *, dpi: int = 203
) -> bytes:
    """The 4×6 inch shipping label of one package, as a one-page PDF."""
    return render_shipping_labels([label], company, dpi=dpi)


def render_shipping_labels(
    labels: Sequence[ShippingLabel], company: CompanyProfile, *, dpi: int = 203
) -> bytes:
    """Shipping labels of several packages, one 4×6 page each."""
    title = f"Shipping label {labels[0].order_number}" if labels else "Shipping labels"
    return _render(labels, company, "4x6in", dpi, title)


def render_product_labels(
    labels: Sequence[ProductLabel],
    company: CompanyProfile,
    *,
    size: str = "50x30mm",
    dpi: int = 203,
) -> bytes:
    """Product labels (GTIN barcode, name, SKU, price when set), one page each."""
    return _render(labels, company, size, dpi, "Product labels")


def render_bin_labels(labels: Sequence[BinLabel], *, size: str = "4x2in", dpi: int = 203) -> bytes:
    """Bin location labels, one page each."""
    return _render(labels, None, size, dpi, "Bin labels")


def render_tote_labels(
    labels: Sequence[ToteLabel], *, size: str = "4x3in", dpi: int = 203
) -> bytes:
    """Tote labels, one page each."""
    return _render(labels, None, size, dpi, "Tote labels")


def _render(
    labels: Sequence[Label], company: CompanyProfile | None, size: str, dpi: int, title: str
) -> bytes:
    if not labels:
        raise PrintError("There are no labels to print — choose at least one")
    stock = label_size(size, dpi)
    try:
        fonts = txt.fonts_for(label_texts(labels, company))
        pages = layout_pages(labels, company, stock, fonts)
        return _pdf(pages, fonts, title, company.name if company else "")
    except PrintError:
        raise
    except Exception as exc:  # reportlab and biip raise plain exceptions; keep the job
        log.exception("%s could not be made", title)
        raise PrintError(
            f"{title} could not be made ({exc}) — the job is kept; report this to the supervisor"
        ) from exc


# ----------------------------------------------------------------------------- PDF drawing


def _pdf(pages: list[Page], fonts: txt.Fonts, title: str, author: str) -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c: Any = Canvas(buf, pagesize=pages[0].size.points, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(author)
    c.setCreator("Waystation")
    for page in pages:
        c.setPageSize(page.size.points)
        _draw_page(c, page, fonts)
        c.showPage()
    c.save()
    return buf.getvalue()


def _draw_page(c: Any, page: Page, fonts: txt.Fonts) -> None:
    size = page.size
    k = 72 / size.dpi
    top = size.height * k
    grid = DotGrid(size.dpi, top)
    texts = []
    for op in page.ops:
        if isinstance(op, Text):
            texts.append(op)  # drawn last, in one text object: above every box and bar
        elif isinstance(op, Box):
            for x, y, w, h in _box_rects(op):
                c.rect(x * k, top - (y + h) * k, w * k, h * k, stroke=0, fill=1)
        elif isinstance(op, Code128):
            bars, _ = gs1_128.code128_bars_from_values(op.values)
            gs1_128.draw_bars(
                c,
                bars,
                x=op.x * k,
                y=top - (op.y + op.height) * k,
                height=op.height * k,
                grid=grid,
                module_dots=op.module,
            )
        elif isinstance(op, Ean13):
            _draw_ean13(c, op, top, k, grid, fonts)
        else:
            _draw_logo(c, op, top, k)
    if texts:
        _draw_texts(c, texts, top, k, fonts)


def _draw_texts(c: Any, texts: list[Text], top: float, k: float, fonts: txt.Fonts) -> None:
    """Every line of a page in one PDF text object: a third of the cost of drawString each."""
    tx = c.beginText()
    font: tuple[str, float] | None = None
    grey = False
    for op in texts:
        face = (fonts.bold if op.bold else fonts.regular, op.size * k)
        if face != font:
            tx.setFont(*face)
            font = face
        x = op.x * k
        if op.align != "L":
            free = op.width * k - txt.text_width(op.text, *face)
            x += free / 2 if op.align == "C" else free
        if op.inverse != grey:
            grey = op.inverse
            tx.setFillGray(1 if grey else 0)
        tx.setTextOrigin(x, top - op.y * k)
        tx.textOut(op.text)
    c.drawText(tx)


def _box_rects(box: Box) -> list[tuple[int, int, int, int]]:
    t = box.thickness
    if not t or 2 * t >= min(box.w, box.h):
        return [(box.x, box.y, box.w, box.h)]
    return [
        (box.x, box.y, box.w, t),
        (box.x, box.y + box.h - t, box.w, t),
        (box.x, box.y + t, t, box.h - 2 * t),
        (box.x + box.w - t, box.y + t, t, box.h - 2 * t),
    ]


def _draw_ean13(c: Any, op: Ean13, top: float, k: float, grid: DotGrid, fonts: txt.Fonts) -> None:
    """EAN-13 as shops print it: guard bars longer, the digits under the data bars."""
    guard, data = gs1_128.ean13_bars(op.code)
    m = op.module
    bars_bottom = top - (op.y + op.height) * k
    gs1_128.draw_bars(
        c, data, x=op.x * k, y=bars_bottom, height=op.height * k, grid=grid, module_dots=m
    )
    gs1_128.draw_bars(
        c,
        guard,
        x=op.x * k,
        y=bars_bottom - 5 * m * k,
        height=(op.height + 5 * m) * k,
        grid=grid,
        module_dots=m,
    )
    c.setFont(fonts.regular, 9 * m * k)
    baseline = bars_bottom - 8 * m * k
    c.drawRightString((op.x - 2 * m) * k, baseline, op.code[0])
    c.drawCentredString((op.x + 24 * m) * k, baseline, op.code[1:7])
    c.drawCentredString((op.x + 71 * m) * k, baseline, op.code[7:])


def _draw_logo(c: Any, op: Logo, top: float, k: float) -> None:
    image = _logo_image(op.path)
    if image is None:
        return
    from reportlab.lib.utils import ImageReader

    iw, ih = image.size
    scale = min(op.w / iw, op.h / ih)
    w, h = iw * scale, ih * scale
    x = op.x + op.w - w  # right-aligned in its box
    c.drawImage(ImageReader(image), x * k, top - (op.y + h) * k, w * k, h * k, mask="auto")


def _logo_image(path: str | None) -> Any:
    """The logo as a greyscale PIL image no bigger than a label needs; None if unreadable."""
    if not path:
        return None
    try:
        return _read_logo(path, os.stat(path).st_mtime_ns)
    except Exception as exc:  # a label without its logo beats no label
        log.warning("company logo %s cannot be read (%s); labels print without it", path, exc)
        return None


@lru_cache(maxsize=8)
def _read_logo(path: str, mtime_ns: int) -> Any:
    from PIL import Image

    del mtime_ns  # part of the cache key only: a replaced logo is read again
    with Image.open(path) as image:
        rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    out = Image.alpha_composite(white, rgba).convert("L")  # transparent prints as paper
    out.thumbnail((600, 300))  # 3 in at 200 dpi: more is never printed
    return out
