"""The counter receipt as ESC/POS bytes, read back the way the printer would read them.

The bytes are parsed with tests/escpos_stream.py: the text lines (decoded with the code page
selected at each point), the barcode, cut and drawer kick. The parsed text of a sample receipt is
written to test-artifacts/receipt.txt (and receipt-58mm.txt) for a person to read.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from escpos_stream import Barcode, Cut, Kick, QRCode, Raster, Stream, parse
from PIL import Image

from app.domain.documents import Address, CompanyProfile
from app.domain.errors import PrintError
from app.domain.receipts import Receipt, ReceiptLine, Tender, TenderKind
from printing.receipt import render_receipt

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

COMPANY = CompanyProfile(
    name="Northwind Outfitters",
    address=Address(
        "Northwind Outfitters GmbH", "Lagerstraße 12", "", "Hamburg", "20095", "", "DE"
    ),
    phone="+49 40 1234 5678",
    website="northwind.example",
)

LINES = (
    ReceiptLine("NW-1000", "Merino wool hiking socks, medium", 2, 1290, 1900),
    ReceiptLine("NW-2040", "Water bottle 1 l, navy", 1, 1490, 1900, discount_minor=149),
    ReceiptLine("BK-0007", "Hiking guide: Harz mountains", 1, 1999, 700),
    ReceiptLine("FD-0311", "Trail mix 200 g", 3, 250, 700),
)


def _receipt(**changes: object) -> Receipt:
    receipt = Receipt(
        number="K1-000123",
        at=datetime(2026, 11, 26, 13, 5, tzinfo=UTC),
        station="TILL-1",
        operator="Ana Silva",
        lines=LINES,
        tenders=(Tender(TenderKind.CARD, 2000, "****1234"), Tender(TenderKind.CASH, 5000)),
        footer="Thank you for shopping with us!\nReturns within 30 days with this receipt.",
    )
    return replace(receipt, **changes)  # type: ignore[arg-type]


def _print(receipt: Receipt | None = None, **options: object) -> Stream:
    return parse(render_receipt(receipt or _receipt(), COMPANY, **options))  # type: ignore[arg-type]


def _amount(text: str) -> int:
    """ "12.90" or "-1.49" as minor units."""
    whole, frac = text.split(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(frac))


def test_every_line_and_the_totals_are_printed() -> None:
    stream = _print(open_drawer=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "receipt.txt").write_text(stream.preview(48), encoding="utf-8")
    text = stream.text
    for expected in (
        "Northwind Outfitters",
        "Lagerstraße 12",
        "20095 Hamburg",
        "Receipt K1-000123",
        "26 Nov 2026",
        "Served by Ana Silva",
        "Merino wool hiking socks, medium",
        "  2 x 12.90",
        "Water bottle 1 l, navy",
        "Hiking guide: Harz mountains",
        "  3 x 2.50",
        "Thank you for shopping with us!",
        "Returns within 30 days with this receipt.",
    ):
        assert expected in text, expected
    lines = {line.text.split()[0]: line for line in stream.lines if line.text.strip()}
    total = lines["TOTAL"]
    assert total.text.split()[-2:] == ["EUR", "66.70"]
    assert (total.bold, total.height, total.width) == (True, 2, 1)
    assert lines["Change"].text.split()[-1] == "3.30"  # 70.00 given for 66.70
    assert lines["Card"].text.split()[-1] == "20.00"
    assert lines["Cash"].text.split()[-1] == "50.00"
    assert "7 items" in text
    name = stream.lines[0]
    assert (name.text, name.width, name.height, name.align) == (
        "Northwind Outfitters",
        2,
        2,
        "center",
    )


def test_the_amount_column_adds_up_to_the_total() -> None:
    stream = _print()
    column = [
        _amount(m.group(1))
        for line in stream.lines
        if (m := re.search(r"\s(-?\d+\.\d\d) [AB]$", line.text))
    ]
    assert column == [2580, 1490, -149, 1999, 750]
    assert sum(column) == _receipt().total_minor == 6670


def test_tax_table_per_rate_with_letters_on_the_lines() -> None:
    text = _print().text
    # A = 19 % (socks, bottle less its discount), B = 7 %; net + VAT = gross for each.
    assert re.search(r"^A 19%\s+32\.95\s+6\.26\s+39\.21$", text, re.M)
    assert re.search(r"^B 7%\s+25\.69\s+1\.80\s+27\.49$", text, re.M)
    assert re.search(r"^\s+Total\s+58\.64\s+8\.06\s+66\.70$", text, re.M)
    assert re.search(r"Merino.*\n\s+2 x 12\.90\s+25\.80 A$", text, re.M)
    assert re.search(r"^Hiking guide: Harz mountains\s+19\.99 B$", text, re.M)


def test_decimal_comma_for_a_german_shop() -> None:
    stream = parse(render_receipt(_receipt(), replace(COMPANY, locale="de_DE")))
    assert "EUR 66,70" in stream.text
    assert "  2 x 12,90" in stream.text


def test_receipt_number_is_a_code128_barcode() -> None:
    stream = _print()
    [barcode] = stream.of(Barcode)
    assert barcode.type == 73  # GS k 73: Code 128
    assert barcode.data == b"{BK1-000123"
    assert barcode.text == "K1-000123"
    assert barcode.hri == 2  # the number printed under the bars
    modules = 11 * (len("K1-000123") + 3) + 2 + 20  # with quiet zones
    assert modules * barcode.module_dots <= 576


def test_qr_when_asked_and_when_code128_would_not_fit() -> None:
    [qr] = _print(barcode="qr").of(QRCode)
    assert qr.data == "K1-000123"
    long_number = _receipt(number="HAMBURG-ALTONA-TILL-3-2026-000123")
    stream = _print(long_number, width_chars=32)
    assert not stream.of(Barcode)
    assert [q.data for q in stream.of(QRCode)] == ["HAMBURG-ALTONA-TILL-3-2026-000123"]


def test_paper_is_cut_after_the_last_line() -> None:
    stream = _print()
    assert isinstance(stream.events[-1], Cut)
    assert stream.events[-1].partial
    assert len(stream.of(Cut)) == 1
    assert stream.inits == 1


def test_drawer_kick_only_when_asked_and_before_printing() -> None:
    assert _print().of(Kick) == []
    stream = _print(open_drawer=True)
    assert stream.of(Kick) == [Kick(pin=2, on_ms=100, off_ms=100)]
    assert isinstance(stream.events[0], Kick)  # the drawer opens while the receipt prints


def test_58mm_wraps_long_names() -> None:
    name = "Waterproof shell jacket with taped seams and an adjustable hood, size XL"
    receipt = _receipt(
        lines=(ReceiptLine("NW-9", name, 1, 24900, 1900),),
        tenders=(Tender(TenderKind.CARD, 24900),),
    )
    stream = _print(receipt, width_chars=32)
    (ARTIFACTS / "receipt-58mm.txt").write_text(stream.preview(32), encoding="utf-8")
    for line in stream.lines:
        assert len(line.text) * line.width <= 32, line.text
    item = [line.text for line in stream.lines[stream.lines.index(_rule(stream, 32)) + 1 :]]
    item = item[: next(i for i, t in enumerate(item) if t.startswith("---"))]
    assert len(item) >= 3
    assert " ".join(t.strip() for t in item).startswith(name)
    assert item[-1].endswith("249.00 A")
    assert "EUR 249.00" in stream.text


def _rule(stream: Stream, width: int) -> object:
    return next(line for line in stream.lines if line.text == "-" * width)


def test_cyrillic_and_greek_print_as_letters_what_no_code_page_has_as_a_question_mark() -> None:
    receipt = _receipt(
        operator="Дмитрий Иванов",
        lines=(
            ReceiptLine("RU-1", "Чай чёрный, 100 г", 1, 450, 700),
            ReceiptLine("GR-1", "Ελαιόλαδο 1 l — Κρήτη", 1, 1290, 700),
            ReceiptLine("PL-1", "Krówki z Łodzi", 1, 399, 700),
            ReceiptLine("CN-1", "绿茶 green tea 🍵", 1, 500, 700),
        ),
        tenders=(Tender(TenderKind.CASH, 3000),),
    )
    stream = _print(receipt, width_chars=32)
    (ARTIFACTS / "receipt-unicode.txt").write_text(stream.preview(32), encoding="utf-8")
    text = stream.text
    assert "Served by Дмитрий Иванов" in text
    assert "Чай чёрный, 100 г" in text
    assert "Ελαιόλαδο 1 l - Κρήτη" in text  # the dash as the printer has it
    assert "Krówki z Łodzi" in text
    assert "?? green tea ?" in text
    assert {17, 18, 14} <= set(stream.code_pages)  # PC866, PC852, PC737


def test_control_characters_in_data_are_printed_not_obeyed() -> None:
    receipt = _receipt(
        lines=(ReceiptLine("X-1", "Socks\x1bp\x00\x19\xfa\x1dV\x00 blue", 1, 500, 1900),),
        tenders=(Tender(TenderKind.CARD, 500),),
    )
    stream = _print(receipt)
    assert stream.of(Kick) == []
    assert len(stream.of(Cut)) == 1
    assert any(line.text.startswith("Socks p") for line in stream.lines)


def test_refund_receipt() -> None:
    receipt = _receipt(
        number="K1-000124",
        lines=(ReceiptLine("NW-1000", "Merino wool hiking socks, medium", -1, 1290, 1900),),
        tenders=(Tender(TenderKind.CASH, -1290),),
        footer="",
    )
    stream = _print(receipt)
    text = stream.text
    assert "REFUND" in text
    assert re.search(r"^REFUND TOTAL\s+EUR -12\.90$", text, re.M)
    assert re.search(r"^Cash paid back\s+-12\.90$", text, re.M)
    assert "Change" not in text
    assert re.search(r"^A 19%\s+-10\.84\s+-2\.06\s+-12\.90$", text, re.M)


def test_logo_is_printed_as_a_raster_image(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (1200, 300), (20, 60, 140)).save(logo)
    for width, dots in ((48, 576), (32, 384)):
        stream = parse(
            render_receipt(_receipt(), replace(COMPANY, logo_path=str(logo)), width_chars=width)
        )
        [raster] = stream.of(Raster)
        assert raster.width_dots <= dots
        assert raster.height_dots <= 160
        assert sum(raster.data) > 0  # dark blue prints as black dots
    assert not parse(
        render_receipt(_receipt(), replace(COMPANY, logo_path=str(logo)), logo=False)
    ).of(Raster)


@pytest.mark.parametrize("kind", ["missing", "broken"])
def test_missing_or_broken_logo_still_makes_the_receipt(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logo = tmp_path / f"{kind}.png"
    if kind == "broken":
        logo.write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    with caplog.at_level(logging.WARNING, logger="printing.receipt"):
        stream = parse(render_receipt(_receipt(), replace(COMPANY, logo_path=str(logo))))
    assert not stream.of(Raster)
    assert "TOTAL" in stream.text
    assert str(logo) in caplog.text
    assert "printing without it" in caplog.text


def test_same_receipt_same_bytes() -> None:
    unicode = _receipt(operator="Дмитрий", footer="Danke — bis bald, Grüße aus Łódź")
    assert render_receipt(unicode, COMPANY) == render_receipt(unicode, COMPANY)
    render_receipt(_receipt(operator="Σοφία"), COMPANY)  # other pages used in between
    assert render_receipt(unicode, COMPANY) == render_receipt(unicode, COMPANY)


def test_unsupported_width_is_a_print_error() -> None:
    with pytest.raises(PrintError, match="48 or 32 characters wide, not 40"):
        render_receipt(_receipt(), COMPANY, width_chars=40)


def test_importing_is_cheap_and_escpos_leaves_no_temporary_folder(tmp_path: Path) -> None:
    cache, tmp = tmp_path / "cache", tmp_path / "tmp"
    tmp.mkdir()
    code = (
        "import sys, printing.receipt as r; print('escpos' in sys.modules);"
        "from escpos_stream import parse;"
        f"exec({_SAMPLE!r});"
        "print(len(r.render_receipt(receipt, company)) > 0)"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"},
        "XDG_CACHE_HOME": str(cache),
        "TMPDIR": str(tmp),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
    assert done.stderr == ""
    assert list(tmp.iterdir()) == []
    assert list((cache / "waystation" / "escpos").glob("*.capabilities.pickle"))


_SAMPLE = """
from datetime import UTC, datetime
from app.domain.documents import Address, CompanyProfile
from app.domain.receipts import Receipt, ReceiptLine, Tender, TenderKind
company = CompanyProfile('Shop', Address('Shop', 'Street 1'))
receipt = Receipt('R-1', datetime(2026, 1, 1, tzinfo=UTC), 'T1', 'Op',
    (ReceiptLine('A', 'Thing', 1, 100, 1900),), (Tender(TenderKind.CASH, 100),))
"""
