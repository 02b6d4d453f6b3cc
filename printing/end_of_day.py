"""End-of-day documents: the carrier manifest the driver signs, and the till's cash report.

``render_manifest`` and ``render_cash_report`` are A4 PDFs laid out by hand on reportlab's canvas,
like :mod:`printing.packing_slip` (fonts per document from :mod:`printing.text`, barcodes on the
300 dpi dot grid from :mod:`printing.barcodes`, reportlab imported on first use). A manifest of
any length flows onto further pages with the table header repeated and "Page n of N"; the
totals and the signature lines come after the last package. ``render_cash_report_escpos`` is the
cash report for the till's own receipt printer, written with :class:`printing.receipt.Ticket`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.documents import CompanyProfile
from app.domain.errors import PrintError
from app.domain.receipts import CashReport, Manifest, ManifestPackage, TaxLine, TenderTotal
from printing import barcodes
from printing import text as txt
from printing.barcodes import DotGrid
from printing.layout import CanvasText
from printing.receipt import (
    Ticket,
    company_header,
    decimal_mark,
    format_money,
    format_rate,
    tax_table,
)

log = logging.getLogger(__name__)

MM = txt.MM
A4 = (210 * MM, 297 * MM)
MARGIN = 15 * MM
DPI = 300  # laser printers; the bars also scan when a 203 dpi printer prints the page
# 3 dots (0.254 mm) only: it is also 2.03 dots of a 203 dpi printer, so the page scans there too;
# 4 dots would be 2.71 dots at 203 dpi, and long tracking numbers then fail to decode.
MODULE_DOTS = (3, 3)
BAR_HEIGHT = 9 * MM
TITLE, COMPANY, BODY, SMALL, TABLE = 18.0, 13.0, 9.5, 7.5, 8.5
GREY = 0.35
_TENDERS = {"cash": "Cash", "card": "Card", "voucher": "Voucher"}


def _when(at: datetime) -> str:
    local = at.astimezone()  # the station's time zone is the shop's
    return f"{txt.format_date(local)} {local:%H:%M}"


def _kg(grams: int, locale: str) -> str:
    """Weight in kg to the gram: 1250 → "1.250 kg" (totals add up exactly)."""
    whole, rest = divmod(grams, 1000)
    return f"{whole}{decimal_mark(locale)}{rest:03d} kg"


def _packages(n: int) -> str:
    return f"{n} package{'' if n == 1 else 's'}"


def _sscc(sscc: str) -> str:
    return f"(00) {sscc}" if sscc else "—"


def _failed(what: str, exc: Exception) -> PrintError:
    log.exception("%s failed", what)
    return PrintError(
        f"The {what} could not be made ({exc}) — the data is kept; try again, and report this "
        "to the supervisor if it happens again"
    )


# ----------------------------------------------------------------------------- canvas helpers


class _Page(CanvasText):
    """Drawing on an A4 canvas with one document's fonts; ``c`` is None while measuring."""

    def __init__(self, texts: Iterator[str], title: str, author: str) -> None:
        from reportlab.pdfgen.canvas import Canvas

        self.f = txt.fonts_for(texts)
        self.w, self.h = A4
        self.left, self.right = MARGIN, self.w - MARGIN
        self.grid = DotGrid(DPI, self.h)
        self.buf = io.BytesIO()
        self.c: Any = Canvas(self.buf, pagesize=A4, invariant=1, pageCompression=1)
        self.c.setTitle(title)
        self.c.setAuthor(author)
        self.c.setCreator("Waystation")
        self.measuring = False

    def measure(self, draw: Callable[[], float]) -> float:
        """Where ``draw`` would end, without drawing anything."""
        self.measuring = True
        try:
            return draw()
        finally:
            self.measuring = False

    def text_grey(self) -> float:
        return GREY

    def text(self, x: float, y: float, text: str, size: float, **style: Any) -> None:
        self._text(x, y, text, size, **style)

    def rule(
        self, y: float, width: float = 0.5, x0: float | None = None, x1: float | None = None
    ) -> None:
        if self.measuring:
            return
        self.c.setLineWidth(width)
        self.c.line(self.left if x0 is None else x0, y, self.right if x1 is None else x1, y)

    def band(self, top: float, height: float, gray: float = 0.88) -> None:
        if self.measuring:
            return
        self.c.setFillGray(gray)
        self.c.rect(self.left, top - height, self.right - self.left, height, stroke=0, fill=1)
        self.c.setFillGray(0)

    def company(self, company: CompanyProfile, title: str) -> float:
        """Company at the left, the title at the right; returns the y below both."""
        top = self.h - MARGIN
        self.text(self.right, top - TITLE, title, TITLE, bold=True, align="right")
        y = top - COMPANY
        self.text(self.left, y, company.name, COMPANY, bold=True, width=100 * MM)
        address = company.address
        place = " ".join(p for p in (address.postcode, address.city) if p)
        for line in (address.line1, address.line2, place):
            if line:
                y -= BODY * 1.25
                self.text(self.left, y, line, BODY, width=100 * MM)
        contact = "  ·  ".join(p for p in (company.phone, company.email) if p)
        if contact:
            y -= SMALL * 1.6
            self.text(self.left, y, contact, SMALL, grey=True, width=100 * MM)
        return min(y, top - TITLE) - 6 * MM

    def facts(self, top: float, facts: Sequence[tuple[str, str]]) -> float:
        width = (self.right - self.left) / len(facts)
        y = top - SMALL
        for i, (label, _) in enumerate(facts):
            self.text(self.left + i * width, y, label.upper(), SMALL * 0.9, grey=True)
        y -= BODY * 1.3
        for i, (_, value) in enumerate(facts):
            self.text(self.left + i * width, y, value, BODY, bold=True, width=width - 4)
        return y - BODY * 0.6

    def signature(self, x: float, y: float, width: float, label: str) -> None:
        self.rule(y, 0.6, x, x + width)
        self.text(x, y - SMALL * 1.4, label, SMALL, grey=True)

    def footer(self, left: str, right: str) -> None:
        y = MARGIN
        self.rule(y + SMALL * 1.4, 0.4)
        self.text(self.left, y, left, SMALL, grey=True, width=(self.right - self.left) * 0.55)
        self.text(self.right, y, right, SMALL, align="right")

    def finish(self) -> bytes:
        self.c.save()
        return self.buf.getvalue()


# ----------------------------------------------------------------------------- manifest


@dataclass(frozen=True, slots=True)
class _Col:
    title: str
    width: float
    align: str = "left"


_COLUMNS = (
    _Col("#", 8 * MM),
    _Col("Order", 25 * MM),
    _Col("Service", 25 * MM),
    _Col("Tracking number", 66 * MM),
    _Col("SSCC", 40 * MM),
    _Col("Weight", 16 * MM, "right"),
)
_PAD = 1.5 * MM
_ROW = _PAD + TABLE + 1.5 * MM + BAR_HEIGHT + _PAD + 1.5 * MM
_TABLE_HEAD = TABLE * 2.2


def _trailer_height(manifest: Manifest) -> float:
    """Totals (a line per service) and the signature lines after the last row."""
    return 62 * MM + len(manifest.by_service) * BODY * 1.4


def render_manifest(manifest: Manifest, company: CompanyProfile) -> bytes:
    """The carrier's manifest for one collection as an A4 PDF, tracking numbers as Code 128."""
    try:
        return _render_manifest(manifest, company)
    except PrintError:
        raise
    except Exception as exc:  # reportlab raises plain exceptions; the job must stay retryable
        raise _failed(f"manifest for {manifest.carrier} on {manifest.date}", exc) from exc


def _manifest_texts(manifest: Manifest, company: CompanyProfile) -> Iterator[str]:
    yield from (company.name, company.phone, company.email, *company.address.lines())
    yield from (manifest.carrier, manifest.account, manifest.number, manifest.station)
    for p in manifest.packages:
        yield from (p.order_number, p.tracking_number, p.service)


def _render_manifest(manifest: Manifest, company: CompanyProfile) -> bytes:
    page = _Page(
        _manifest_texts(manifest, company),
        f"Manifest {manifest.carrier} {manifest.date.isoformat()}",
        company.name,
    )
    day = txt.format_date(datetime(manifest.date.year, manifest.date.month, manifest.date.day))
    packages = manifest.packages

    def first_header() -> float:
        y = page.company(company, "CARRIER MANIFEST")
        facts = [
            ("Carrier", manifest.carrier),
            ("Collection date", day),
            ("Account", manifest.account or "—"),
            ("Manifest", manifest.number or "—"),
            ("Packages", str(manifest.package_count)),
            ("Total weight", _kg(manifest.total_weight_g, company.locale)),
        ]
        return page.facts(y, facts) - 5 * MM

    def next_header() -> float:
        y = page.h - MARGIN - COMPANY
        page.text(page.left, y, company.name, COMPANY, bold=True, width=90 * MM)
        continued = f"Manifest {manifest.carrier} · {day} (continued)"
        page.text(page.right, y, continued, BODY, align="right")
        return y - 9 * MM

    bottom = MARGIN + 8 * MM  # above the footer
    first_top = page.measure(first_header) - _TABLE_HEAD
    next_top = page.measure(next_header) - _TABLE_HEAD
    first_rows = max(1, int((first_top - bottom) // _ROW))
    other_rows = max(1, int((next_top - bottom) // _ROW))
    chunks: list[Sequence[ManifestPackage]] = [packages[:first_rows]]
    rest = packages[first_rows:]
    while rest:
        chunks.append(rest[:other_rows])
        rest = rest[other_rows:]
    last_top = first_top if len(chunks) == 1 else next_top
    if last_top - len(chunks[-1]) * _ROW - _trailer_height(manifest) < bottom:
        chunks.append(())  # totals and signatures on a page of their own
    total = len(chunks)
    number = 0
    for n, chunk in enumerate(chunks, 1):
        y = first_header() if n == 1 else next_header()
        if chunk or n == 1:
            y = _table(page, chunk, number, y, company.locale, empty=not packages)
            number += len(chunk)
        if n == total:
            _manifest_trailer(page, manifest, company, y - 6 * MM)
        page.footer(company.name, f"Manifest {manifest.carrier} · {day} · Page {n} of {total}")
        page.c.showPage()
    return page.finish()


def _table(
    page: _Page,
    rows: Sequence[ManifestPackage],
    before: int,
    top: float,
    locale: str,
    *,
    empty: bool,
) -> float:
    page.band(top, _TABLE_HEAD)
    xs = [page.left]
    for col in _COLUMNS:
        xs.append(xs[-1] + col.width)
    baseline = top - _TABLE_HEAD / 2 - TABLE * 0.35
    for col, x in zip(_COLUMNS, xs, strict=False):
        tx = x + col.width - _PAD if col.align == "right" else x + _PAD
        page.text(tx, baseline, col.title, TABLE, bold=True, align=col.align)
    y = top - _TABLE_HEAD
    page.rule(y, 0.8)
    if empty:
        y -= TABLE * 2.5
        page.text(page.left + _PAD, y, "No packages for this carrier today.", TABLE, grey=True)
        return y - TABLE
    for i, package in enumerate(rows):
        line = y - _PAD - TABLE
        cells = (
            str(before + i + 1),
            package.order_number,
            package.service,
            package.tracking_number,
            _sscc(package.sscc),
            _kg(package.weight_g, locale),
        )
        for j, (col, x, value) in enumerate(zip(_COLUMNS, xs, cells, strict=False)):
            tx = x + col.width - _PAD if col.align == "right" else x + _PAD
            page.text(
                tx, line, value, TABLE, bold=j == 3, align=col.align, width=col.width - 2 * _PAD
            )
        _tracking_barcode(page, package.tracking_number, xs[3], line - 1.5 * MM, _COLUMNS[3].width)
        y -= _ROW
        page.rule(y, 0.3)
    return y


def _tracking_barcode(page: _Page, data: str, x: float, top: float, width: float) -> None:
    try:
        modules = barcodes.code128_bars(data.strip())[1]
    except ValueError:
        log.warning("tracking number %r cannot be a Code 128 barcode; printed as text", data)
        return
    dots = barcodes.fit_module_dots(
        modules, width, page.grid, min_dots=MODULE_DOTS[0], max_dots=MODULE_DOTS[1]
    )
    # The quiet zone reaches into the cell's padding: the bars start where the text does.
    quiet = page.grid.dots(barcodes.CODE128_QUIET_MODULES * dots)
    bottom = page.grid.snap_y(top - BAR_HEIGHT)
    barcodes.draw_code128(
        page.c,
        data.strip(),
        x=x + _PAD - quiet,
        y=bottom,
        height=page.grid.snap_y(top) - bottom,
        grid=page.grid,
        module_dots=dots,
    )


def _manifest_trailer(page: _Page, manifest: Manifest, company: CompanyProfile, top: float) -> None:
    locale = company.locale
    y = top - BODY
    page.text(page.left, y, "TOTALS", SMALL, bold=True, grey=True)
    for service in manifest.by_service:
        y -= BODY * 1.4
        page.text(page.left, y, service.service, BODY, width=70 * MM)
        page.text(page.left + 95 * MM, y, _packages(service.packages), BODY, align="right")
        page.text(page.left + 130 * MM, y, _kg(service.weight_g, locale), BODY, align="right")
    y -= BODY * 0.8
    page.rule(y, 0.6, page.left, page.left + 130 * MM)
    y -= BODY * 1.4
    page.text(page.left, y, "Handed over", BODY, bold=True)
    page.text(
        page.left + 95 * MM, y, _packages(manifest.package_count), BODY, bold=True, align="right"
    )
    page.text(
        page.left + 130 * MM,
        y,
        _kg(manifest.total_weight_g, locale),
        BODY,
        bold=True,
        align="right",
    )
    y -= BODY * 2.2
    page.text(
        page.left,
        y,
        f"The driver signs for {_packages(manifest.package_count)} collected from "
        f"{company.name} for {manifest.carrier}; count them before signing.",
        BODY,
        width=page.right - page.left,
    )
    y -= 16 * MM
    col = (page.right - page.left - 12 * MM) / 3
    for i, label in enumerate(("Driver: name in capitals", "Driver: signature", "Date and time")):
        page.signature(page.left + i * (col + 6 * MM), y, col, label)
    y -= 16 * MM
    page.signature(page.left, y, col, "Handed over by (shipper)")
    page.signature(page.left + col + 6 * MM, y, col, "Signature")


# ----------------------------------------------------------------------------- cash report


def _tender_rows(totals: Sequence[TenderTotal], money: Callable[[int], str]) -> list[list[str]]:
    rows = [[_TENDERS[t.kind.value], str(t.count), money(t.amount_minor)] for t in totals]
    return rows or [["None", "0", money(0)]]


def _drawer_rows(report: CashReport, money: Callable[[int], str]) -> list[tuple[str, str, bool]]:
    rows = [
        ("Opening float", money(report.opening_float_minor), False),
        ("+ Cash sales", money(report.cash_sales_minor), False),
        ("- Cash refunds", money(-report.cash_refunds_minor), False),
    ]
    if report.paid_in_minor:
        rows.append(("+ Paid in", money(report.paid_in_minor), False))
    if report.paid_out_minor:
        rows.append(("- Paid out", money(-report.paid_out_minor), False))
    rows.append(("Expected in drawer", money(report.expected_cash_minor), True))
    difference = report.difference_minor
    if report.counted_cash_minor is None or difference is None:
        rows.append(("Counted", "not counted", True))
    else:
        rows.append(("Counted", money(report.counted_cash_minor), True))
        word = "short" if difference < 0 else "over" if difference > 0 else "balanced"
        rows.append((f"Difference ({word})", money(difference), True))
    return rows


def render_cash_report(report: CashReport, company: CompanyProfile) -> bytes:
    """The cash report of one till session as an A4 PDF."""
    try:
        return _render_cash_report(report, company)
    except PrintError:
        raise
    except Exception as exc:
        raise _failed(f"cash report for {report.station}", exc) from exc


def _render_cash_report(report: CashReport, company: CompanyProfile) -> bytes:
    texts = iter(
        (
            *(company.name, company.phone, company.email, *company.address.lines()),
            *(report.station, report.operator, report.first_receipt, report.last_receipt),
        )
    )
    page = _Page(texts, f"Cash report {report.station} {_when(report.closed_at)}", company.name)

    def money(minor: int) -> str:
        return format_money(minor, report.currency, company.locale)

    y = page.company(company, "CASH REPORT")
    receipts = f"{report.receipts}"
    if report.first_receipt:
        receipts += f" ({report.first_receipt} – {report.last_receipt})"
    y = page.facts(
        y,
        [
            ("Till", report.station),
            ("Operator", report.operator),
            ("Opened", _when(report.opened_at)),
            ("Closed", _when(report.closed_at)),
        ],
    )
    y = page.facts(y - 2 * MM, [("Receipts", receipts), ("Currency", report.currency)])
    half = (page.right - page.left - 10 * MM) / 2
    left, right = page.left, page.left + half + 10 * MM
    head = ("Tender", "Receipts", f"Amount ({report.currency})")
    top = y - 6 * MM
    y1 = _grid(
        page,
        left,
        top,
        half,
        "Sales",
        head,
        _tender_rows(report.sales, money),
        ["Total sales", "", money(report.sales_minor)],
    )
    y2 = _grid(
        page,
        right,
        top,
        half,
        "Refunds",
        head,
        _tender_rows(report.refunds, money),
        ["Total refunds", "", money(report.refunds_minor)],
    )
    y = min(y1, y2) - 5 * MM
    band = BODY * 2.4
    page.band(y, band, 0.9)
    baseline = y - band / 2 - BODY * 0.42
    page.text(
        page.left + 2 * MM, baseline, "Net takings (sales less refunds)", BODY * 1.2, bold=True
    )
    net = f"{report.currency} {money(report.net_takings_minor)}"
    page.text(page.right - 2 * MM, baseline, net, BODY * 1.2, bold=True, align="right")
    y -= band + 8 * MM
    drawer_top = y
    drawer = _drawer_rows(report, money)
    y1 = _grid(
        page,
        left,
        drawer_top,
        half,
        "Cash drawer",
        ("", f"({report.currency})"),
        [[label, value] for label, value, _ in drawer],
        None,
        bold_rows={i for i, (_, _, bold) in enumerate(drawer) if bold},
        rule_before=next(i for i, (_, _, bold) in enumerate(drawer) if bold),
    )
    y2 = drawer_top
    if report.taxes:
        rows = [_tax_row(t, money, company.locale) for t in report.taxes]
        total = TaxLine(
            0,
            sum(t.net_minor for t in report.taxes),
            sum(t.tax_minor for t in report.taxes),
            sum(t.gross_minor for t in report.taxes),
        )
        y2 = _grid(
            page,
            right,
            drawer_top,
            half,
            "VAT by rate",
            ("Rate", "Net", "VAT", "Gross"),
            rows,
            ["Total", *_tax_row(total, money, company.locale)[1:]],
        )
    y = min(y1, y2) - 22 * MM
    col = (page.right - page.left - 12 * MM) / 3
    for i, label in enumerate(("Counted by", "Checked by (supervisor)", "Date and time")):
        page.signature(page.left + i * (col + 6 * MM), y, col, label)
    page.footer(company.name, f"Cash report {report.station} · {_when(report.closed_at)}")
    page.c.showPage()
    return page.finish()


def _tax_row(tax: TaxLine, money: Callable[[int], str], locale: str) -> list[str]:
    return [
        format_rate(tax.rate_bp, locale),
        money(tax.net_minor),
        money(tax.tax_minor),
        money(tax.gross_minor),
    ]


def _grid(
    page: _Page,
    x: float,
    top: float,
    width: float,
    title: str,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    total: Sequence[str] | None,
    *,
    bold_rows: set[int] | None = None,
    rule_before: int | None = None,
) -> float:
    """A small table: first column left, the others right-aligned; returns its bottom."""
    page.text(x, top - BODY, title.upper(), SMALL, bold=True, grey=True)
    y = top - BODY - 2 * MM
    first = width * (0.4 if len(head) > 3 else 0.55)
    rest = (width - first) / max(len(head) - 1, 1)
    xs = [x + first + rest * (i + 1) for i in range(len(head) - 1)]

    def row(values: Sequence[str], yy: float, bold: bool, size: float = BODY) -> None:
        page.text(x, yy, values[0], size, bold=bold, width=first - 2)
        for value, right in zip(values[1:], xs, strict=False):
            page.text(right, yy, value, size, bold=bold, align="right")

    y -= SMALL * 1.4
    row(head, y, False, SMALL)
    y -= SMALL * 0.8
    page.rule(y, 0.6, x, x + width)
    for i, values in enumerate(rows):
        if i == rule_before:
            y -= BODY * 0.7
            page.rule(y, 0.6, x, x + width)
            y -= BODY * 0.1
        y -= BODY * 1.45
        row(values, y, bool(bold_rows and i in bold_rows))
    if total is not None:
        y -= BODY * 0.7
        page.rule(y, 0.6, x, x + width)
        y -= BODY * 1.4
        row(total, y, True)
    return y


def render_cash_report_escpos(
    report: CashReport, company: CompanyProfile, *, width_chars: int = 48
) -> bytes:
    """The cash report for the till's receipt printer (48: 80 mm, 32: 58 mm), as ESC/POS."""
    try:
        t = Ticket(width_chars)

        def money(minor: int) -> str:
            return format_money(minor, report.currency, company.locale)

        company_header(t, company, logo=False)
        t.feed()
        t.line("CASH REPORT", align="center", bold=True, size=(1, 2))
        t.feed()
        for label, value in (
            ("Till", report.station),
            ("Operator", report.operator),
            ("Opened", _when(report.opened_at)),
            ("Closed", _when(report.closed_at)),
            ("Receipts", str(report.receipts)),
        ):
            t.pair(label, value)
        if report.first_receipt:
            t.pair("", f"{report.first_receipt} - {report.last_receipt}")
        for title, totals, total_label, total in (
            ("SALES", report.sales, "Total sales", report.sales_minor),
            ("REFUNDS", report.refunds, "Total refunds", report.refunds_minor),
        ):
            t.rule()
            t.line(title, bold=True)
            for kind, count, amount in _tender_rows(totals, money):
                t.pair(f"{kind} ({count})", amount)
            t.pair(total_label, money(total), bold=True)
        t.rule()
        t.pair(
            "NET TAKINGS",
            f"{report.currency} {money(report.net_takings_minor)}",
            bold=True,
            height=2,
        )
        t.rule()
        t.line("CASH DRAWER", bold=True)
        for label, value, bold in _drawer_rows(report, money):
            t.pair(label, value, bold=bold)
        if report.taxes:
            t.rule()
            tax_table(t, report.taxes, None, money, company.locale)
        t.rule()
        for label in ("Counted by", "Checked by"):
            t.feed()
            t.feed()
            t.line(f"{label}: " + "_" * (t.width - len(label) - 2))
        return t.bytes()
    except PrintError:
        raise
    except Exception as exc:
        raise _failed(f"cash report for {report.station}", exc) from exc
