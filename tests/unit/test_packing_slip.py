"""The packing slip PDF, read back the way a person and a scanner would read it.

Pages are rendered to images at the printers' resolutions (203 dpi thermal, 300 dpi laser) and
their barcodes decoded; text is extracted to check every line and name made it onto paper.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from app.domain.documents import Address, CompanyProfile, PackingSlip, SlipLine
from app.domain.errors import PrintError
from printing.packing_slip import render_packing_slip
from tests.pdf_reading import Pdf, decoded

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PAPERS = ("A4", "LETTER", "4x6")

COMPANY = CompanyProfile(
    name="Northwind Outfitters Ltd",
    address=Address(
        "Northwind Outfitters Ltd",
        "Unit 4, Riverside Trading Estate",
        "Mill Lane",
        "Leeds",
        "LS10 1AB",
        "",
        "GB",
    ),
    phone="+44 113 496 0000",
    email="orders@northwind.example",
    website="northwind.example",
    returns_url="https://northwind.example/returns",
)


def _line(
    i: int,
    description: str = "Merino wool hiking socks, medium",
    ordered: int = 2,
    shipped: int = 2,
) -> SlipLine:
    return SlipLine(f"NW-{1000 + i}", f"{4006381333931 + i:014d}", description, ordered, shipped)


def _slip(n_lines: int = 5, **changes: object) -> PackingSlip:
    slip = PackingSlip(
        order_number="WS-104233",
        placed_at=datetime(2026, 11, 26, 14, 5),
        channel="Web shop",
        ship_to=Address("Zoë Martin", "Flat 2, 17 Baker Street", "", "London", "NW1 6XE", "", "GB"),
        bill_to=Address(
            "Jörg Müller", "Hauptstraße 5", "c/o Acme GmbH", "Berlin", "10115", "", "DE"
        ),
        lines=tuple(_line(i, ordered=2, shipped=1 if i == 2 else 2) for i in range(n_lines)),
        packages=2,
        packed_by="Ana Silva",
        station="PACK-1",
        notes=("Gift wrap requested — no prices inside.",),
    )
    return replace(slip, **changes)  # type: ignore[arg-type]


@pytest.fixture
def open_pdf() -> Iterator[type[Pdf]]:
    opened: list[Pdf] = []

    class Opened(Pdf):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            opened.append(self)

    yield Opened
    for pdf in opened:
        pdf.close()


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("dpi", [203, 300])
def test_order_barcode_and_returns_qr_scan_back(paper: str, dpi: int, open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_packing_slip(_slip(), COMPANY, paper=paper))
    found = decoded(pdf.image(0, dpi))
    assert found.get("Code128") == ["WS-104233"]
    assert found.get("QRCode") == ["https://northwind.example/returns?order=WS-104233"]


@pytest.mark.parametrize("paper", PAPERS)
def test_first_page_shows_what_the_packer_and_customer_need(
    paper: str, open_pdf: type[Pdf]
) -> None:
    pdf = open_pdf(render_packing_slip(_slip(), COMPANY, paper=paper))
    ARTIFACTS.mkdir(exist_ok=True)
    pdf.image(0, 203 if paper == "4x6" else 150).save(ARTIFACTS / f"packing-slip-{paper}.png")
    text = pdf.all_text()
    for expected in (
        "Northwind Outfitters Ltd",
        "PACKING SLIP",
        "WS-104233",
        "26 Nov 2026",
        "Web shop",
        "Zoë Martin",
        "NW1 6XE London",
        "Jörg Müller",
        "Hauptstraße 5",
        "NW-1000",
        "04006381333931",
        "Ana Silva at PACK-1",
        "Gift wrap requested",
        "Page 1 of 1",
        "northwind.example/returns",
    ):
        assert expected in text, expected
    assert len(pdf) == 1


def test_paper_sizes(open_pdf: type[Pdf]) -> None:
    sizes = {
        paper: open_pdf(render_packing_slip(_slip(), COMPANY, paper=paper)).doc[0].get_size()
        for paper in PAPERS
    }
    assert sizes["A4"] == pytest.approx((595.28, 841.89), abs=0.01)
    assert sizes["LETTER"] == pytest.approx((612, 792))
    assert sizes["4x6"] == pytest.approx((288, 432))


def test_company_paper_is_the_default(open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_packing_slip(_slip(), replace(COMPANY, paper="4x6")))
    assert pdf.doc[0].get_size() == pytest.approx((288, 432))


@pytest.mark.parametrize("paper", PAPERS)
def test_long_order_flows_onto_pages_with_header_and_page_numbers(
    paper: str, open_pdf: type[Pdf]
) -> None:
    slip = _slip(n_lines=120)
    pdf = open_pdf(render_packing_slip(slip, COMPANY, paper=paper))
    pages = len(pdf)
    assert pages > 1
    texts = [pdf.text(i) for i in range(pages)]
    everything = "\n".join(texts)
    for line in slip.lines:
        assert line.sku in everything, line.sku
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {pages}" in text
        assert "Description" in text  # the table header, repeated
    assert "WS-104233" in texts[-1]
    # The order barcode is on every page, so any page can be scanned.
    assert decoded(pdf.image(pages - 1, 300)).get("Code128") == ["WS-104233"]


def test_two_hundred_lines_with_long_descriptions(open_pdf: type[Pdf]) -> None:
    tail = "with a tail nobody will ever read"
    long = "Waterproof shell jacket with taped seams, adjustable hood, pit zips, " * 4 + tail
    slip = replace(_slip(), lines=tuple(_line(i, long) for i in range(200)))
    pdf = open_pdf(render_packing_slip(slip, COMPANY, paper="A4"))
    text = pdf.all_text()
    assert "NW-1199" in text
    assert tail not in text
    assert "…" in text  # cut descriptions end in an ellipsis, not mid-air


def test_unicode_names_are_printed_not_replaced(open_pdf: type[Pdf]) -> None:
    names = ["Zoë Ağaoğlu-Łukasiewicz", "Дмитрий Иванов", "Σωκράτης Παπαδόπουλος"]
    slip = _slip(
        ship_to=Address(names[0], "ul. Świętokrzyska 12", "", "Warszawa", "00-916", "", "PL"),
        bill_to=Address(names[1], "ул. Тверская, 7", "", "Москва", "125009", "", "RU"),
        lines=(_line(0, "Σακίδιο πλάτης 30 l"),),
        notes=(f"Leave with {names[2]} next door",),
    )
    for paper in PAPERS:
        pdf = open_pdf(render_packing_slip(slip, COMPANY, paper=paper))
        text = pdf.all_text()
        for expected in [*names, "Świętokrzyska", "Москва", "Σακίδιο πλάτης 30 l"]:
            assert expected in text, (paper, expected)
        assert decoded(pdf.image(0, 203)).get("Code128") == ["WS-104233"]


def test_no_returns_url_no_qr(open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_packing_slip(_slip(), replace(COMPANY, returns_url=""), paper="A4"))
    found = decoded(pdf.image(0, 203))
    assert "QRCode" not in found
    assert found["Code128"] == ["WS-104233"]


def test_logo_is_drawn_and_a_broken_logo_is_left_out(tmp_path: Path, open_pdf: type[Pdf]) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (400, 120), (20, 60, 140)).save(logo)
    with_logo = open_pdf(render_packing_slip(_slip(), replace(COMPANY, logo_path=str(logo))))
    corner = with_logo.image(0, 72).crop((45, 45, 60, 55))
    assert corner.getextrema()[1] < 128  # the logo's dark blue is there
    broken = replace(COMPANY, logo_path=str(tmp_path / "missing.png"))
    assert decoded(open_pdf(render_packing_slip(_slip(), broken)).image(0, 203))["Code128"]


def test_backorders_and_an_empty_order(open_pdf: type[Pdf]) -> None:
    text = open_pdf(render_packing_slip(_slip(), COMPANY)).all_text()
    assert "1 backordered" in text
    empty = open_pdf(render_packing_slip(_slip(n_lines=0), COMPANY)).all_text()
    assert "This order has no lines." in empty


def test_unknown_paper_is_a_print_error_in_plain_words() -> None:
    with pytest.raises(PrintError, match="Paper size 'A5' is not supported"):
        render_packing_slip(_slip(), COMPANY, paper="A5")


def test_order_number_code128_cannot_carry_is_a_print_error() -> None:
    with pytest.raises(PrintError, match="could not be made"):
        render_packing_slip(_slip(order_number="WS-Ω1"), COMPANY)


def test_importing_does_not_load_reportlab() -> None:
    code = "import sys, printing.packing_slip; print('reportlab' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
