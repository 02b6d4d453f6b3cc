"""The carrier manifest and the cash report, read back as a driver, a manager and a scanner would.

PDF pages are rendered with pypdfium2 at the printers' resolutions (203 and 300 dpi) the way a
printer puts them on paper (each dot black or white: no anti-aliasing of shapes) and the tracking
barcodes decoded with zxing-cpp; pages are also saved to test-artifacts/end_of_day/
for a person to look at. The cash report's receipt-printer variant is parsed as ESC/POS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from escpos_stream import Cut, parse
from PIL import Image

from app.domain.documents import Address, CompanyProfile
from app.domain.receipts import (
    CashReport,
    Manifest,
    ManifestPackage,
    Receipt,
    ReceiptLine,
    Tender,
    TenderKind,
)
from printing.end_of_day import render_cash_report, render_cash_report_escpos, render_manifest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "end_of_day"

COMPANY = CompanyProfile(
    name="Northwind Outfitters GmbH",
    address=Address(
        "Northwind Outfitters GmbH", "Lagerstraße 12", "Halle 3", "Hamburg", "20095", "", "DE"
    ),
    phone="+49 40 1234 5678",
    email="versand@northwind.example",
)

TRACKING = (
    "00340434161094042557",  # DHL Paket: 20 digits
    "JJD000390007828287",  # DHL Express: letters and digits
    "1Z999AA10123456784",  # UPS
    "CX123456789DE",  # postal
)


def _package(i: int) -> ManifestPackage:
    service = ("Paket", "Express 12:00", "Paket", "Warenpost")[i % 4]
    tracking = TRACKING[i % 4] if i < 4 else f"00340434161094{i:06d}"
    sscc = f"3401234500000{i:05d}" if i % 3 else ""
    return ManifestPackage(f"SO-{104230 + i}", tracking, sscc, 850 + 137 * i, service)


def _manifest(n: int = 4) -> Manifest:
    packages = tuple(_package(i) for i in range(n))
    return Manifest("DHL", date(2026, 11, 26), packages, account="6264 4880 01", number="M-0042")


class Pdf:
    def __init__(self, data: bytes) -> None:
        assert data.startswith(b"%PDF-")
        self.doc = pdfium.PdfDocument(data)

    def __len__(self) -> int:
        return len(self.doc)

    def image(self, page: int = 0, dpi: int = 300, *, printer: bool = True) -> Image.Image:
        """The page at ``dpi``; as a printer makes it, or as a screen shows it (smoothed)."""
        rendered = self.doc[page].render(scale=dpi / 72, grayscale=True, no_smoothpath=printer)
        image: Image.Image = rendered.to_pil()
        return image

    def text(self, page: int = 0) -> str:
        textpage = self.doc[page].get_textpage()
        try:
            return str(textpage.get_text_range())
        finally:
            textpage.close()

    def all_text(self) -> str:
        return "\n".join(self.text(i) for i in range(len(self)))


@pytest.fixture
def open_pdf() -> Iterator[type[Pdf]]:
    opened: list[Pdf] = []

    class Opened(Pdf):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            opened.append(self)

    yield Opened
    for pdf in opened:
        pdf.doc.close()


def _code128(image: Image.Image) -> list[str]:
    return sorted(
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.Code128
    )


def _save(pdf: Pdf, name: str, dpi: int = 110) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i in range(len(pdf)):
        pdf.image(i, dpi, printer=False).save(ARTIFACTS / f"{name}-p{i + 1}.png")


# ----------------------------------------------------------------------------- manifest


@pytest.mark.parametrize("dpi", [203, 300])
def test_tracking_barcodes_scan_back(dpi: int, open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_manifest(_manifest(), COMPANY))
    assert len(pdf) == 1
    assert _code128(pdf.image(0, dpi)) == sorted(TRACKING)


def test_tracking_barcodes_scan_from_a_screen_too(open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_manifest(_manifest(), COMPANY))
    assert _code128(pdf.image(0, 300, printer=False)) == sorted(TRACKING)


def test_manifest_shows_packages_totals_and_signature_lines(open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_manifest(_manifest(), COMPANY))
    _save(pdf, "manifest")
    text = pdf.all_text()
    for expected in (
        "CARRIER MANIFEST",
        "Northwind Outfitters GmbH",
        "Lagerstraße 12",
        "DHL",
        "26 Nov 2026",
        "6264 4880 01",
        "M-0042",
        "SO-104230",
        "SO-104233",
        "(00) 340123450000000001",
        "Express 12:00",
        *TRACKING,
        "Driver: signature",
        "Date and time",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    # 850 + 987 + 1124 + 1261 g; Paket twice (850 + 1124)
    assert re.search(r"Handed over\s*4 packages\s*4\.222 kg", text)
    assert re.search(r"Paket\s*2 packages\s*1\.974 kg", text)
    assert re.search(r"Express 12:00\s*1 package\s*0\.987 kg", text)
    assert "4.222 kg" in text.split("Handed over")[0]  # also in the header


def test_long_manifest_flows_onto_pages_and_every_barcode_scans(open_pdf: type[Pdf]) -> None:
    manifest = _manifest(40)
    pdf = open_pdf(render_manifest(manifest, COMPANY))
    _save(pdf, "manifest-long", dpi=75)
    pages = len(pdf)
    assert pages >= 3
    found: list[str] = []
    for i in range(pages):
        text = pdf.text(i)
        assert f"Page {i + 1} of {pages}" in text
        if i < pages - 1 or "Tracking number" in text:
            assert "Tracking number" in text  # the table header, repeated
        found += _code128(pdf.image(i, 203))
    assert sorted(found) == sorted(p.tracking_number for p in manifest.packages)
    everything = pdf.all_text()
    assert "40 packages" in everything.split("Handed over")[1]
    assert "Driver: signature" in pdf.text(pages - 1)


def test_empty_manifest_and_a_tracking_number_code128_cannot_carry(open_pdf: type[Pdf]) -> None:
    empty = open_pdf(render_manifest(replace(_manifest(), packages=()), COMPANY)).all_text()
    assert "No packages for this carrier today." in empty
    odd = _manifest(1)
    odd = replace(odd, packages=(replace(odd.packages[0], tracking_number="ТРЕК-1"),))
    pdf = open_pdf(render_manifest(odd, COMPANY))
    assert "ТРЕК-1" in pdf.all_text()  # printed as text, no barcode
    assert _code128(pdf.image(0, 300)) == []


# ----------------------------------------------------------------------------- cash report

AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _report(counted: int | None = 19450) -> CashReport:
    def line(price: int, qty: int = 1, rate: int = 1900) -> ReceiptLine:
        return ReceiptLine("SKU", "Thing", qty, price, rate)

    receipts = [
        Receipt("K1-000120", AT, "TILL-1", "Ana", (line(3330),), (Tender(TenderKind.CASH, 5000),)),
        Receipt(
            "K1-000121", AT, "TILL-1", "Ana", (line(1290, 2),), (Tender(TenderKind.CARD, 2580),)
        ),
        Receipt(
            "K1-000122",
            AT,
            "TILL-1",
            "Ana",
            (line(1999, rate=700),),
            (Tender(TenderKind.VOUCHER, 1000), Tender(TenderKind.CASH, 2000)),
        ),
        Receipt(
            "K1-000123", AT, "TILL-1", "Ana", (line(1290, -1),), (Tender(TenderKind.CASH, -1290),)
        ),
    ]
    return CashReport.from_receipts(
        receipts,
        station="TILL-1",
        operator="Ana Silva",
        opened_at=AT,
        closed_at=AT + timedelta(hours=9, minutes=30),
        opening_float_minor=15000,
        counted_cash_minor=counted,
        paid_out_minor=500,
    )


def test_cash_report_pdf(open_pdf: type[Pdf]) -> None:
    report = _report()
    pdf = open_pdf(render_cash_report(report, COMPANY))
    _save(pdf, "cash-report")
    assert len(pdf) == 1
    text = pdf.all_text()
    # expected: 150.00 + 33.30 + 9.99 − 12.90 − 5.00 = 175.39; counted 194.50: 19.11 over
    assert report.expected_cash_minor == 17539
    for expected in (
        "CASH REPORT",
        "TILL-1",
        "Ana Silva",
        "K1-000120 – K1-000123",
        "Net takings",
        "Counted by",
        "Checked by (supervisor)",
    ):
        assert expected in text, expected
    assert re.search(r"Opening float\s*150\.00", text)
    assert re.search(r"\+ Cash sales\s*43\.29", text)
    assert re.search(r"- Cash refunds\s*-12\.90", text)
    assert re.search(r"- Paid out\s*-5\.00", text)
    assert re.search(r"Expected in drawer\s*175\.39", text)
    assert re.search(r"Counted\s*194\.50", text)
    assert re.search(r"Difference \(over\)\s*19\.11", text)
    assert re.search(r"Total sales\s*79\.09", text)
    assert re.search(r"Total refunds\s*12\.90", text)
    assert re.search(r"Net takings \(sales less refunds\)\s*EUR 66\.19", text)


def test_cash_report_short_and_not_counted(open_pdf: type[Pdf]) -> None:
    short = open_pdf(render_cash_report(_report(counted=17500), COMPANY)).all_text()
    assert re.search(r"Difference \(short\)\s*-0\.39", short)
    uncounted = open_pdf(render_cash_report(_report(counted=None), COMPANY)).all_text()
    assert "not counted" in uncounted
    assert "Difference" not in uncounted


@pytest.mark.parametrize("width", [48, 32])
def test_cash_report_on_the_receipt_printer(width: int) -> None:
    stream = parse(render_cash_report_escpos(_report(), COMPANY, width_chars=width))
    (ARTIFACTS / f"cash-report-{width}.txt").write_text(stream.preview(width), encoding="utf-8")
    text = stream.text
    for line in stream.lines:
        assert len(line.text) * line.width <= width, line.text
    assert re.search(r"^Expected in drawer\s+175\.39$", text, re.M)
    assert re.search(r"^Difference \(over\)\s+19\.11$", text, re.M)
    assert re.search(r"^Cash \(2\)\s+43\.29$", text, re.M)
    assert re.search(r"^NET TAKINGS\s+EUR 66\.19$", text, re.M)
    assert "Counted by: ___" in text
    assert isinstance(stream.events[-1], Cut)
