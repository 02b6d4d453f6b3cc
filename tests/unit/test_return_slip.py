"""The return slip PDF, read back the way a returns clerk, a customer and a scanner would.

Pages are rendered at the printers' resolutions (203 dpi thermal, 300 dpi laser) and their
barcodes decoded: the RMA number as Code 128 (on the slip and on the cut-out parcel label) and
the QR code to the return's web page. Text is extracted to check lines, reasons and addresses.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from app.domain.documents import Address, CompanyProfile
from app.domain.errors import PrintError
from app.domain.pick_docs import ReturnSlip, ReturnSlipLine
from printing.return_slip import render_return_slip
from tests.pdf_reading import Pdf, decoded

ROOT = Path(__file__).resolve().parents[2]
PAPERS = ("A4", "LETTER", "4x6")
URL = "https://northwind.example/returns/RMA-2026-000731"
COMPANY = CompanyProfile(
    name="Northwind Outfitters Ltd",
    address=Address("Northwind Outfitters Ltd", "Unit 4", "Mill Lane", "Leeds", "LS10 1AB"),
    website="northwind.example",
)


def _line(
    i: int, name: str = "Merino wool hiking socks", reason: str = "Too small"
) -> ReturnSlipLine:
    return ReturnSlipLine(f"NW-{1000 + i}", name, 1 + i % 2, reason)


def _slip(n_lines: int = 3, **changes: object) -> ReturnSlip:
    slip = ReturnSlip(
        rma_number="RMA-2026-000731",
        order_number="WS-104233",
        customer=Address(
            "Zoë Martin", "Flat 2, 17 Baker Street", "", "London", "NW1 6XE", "", "GB"
        ),
        return_to=Address(
            "Northwind Returns", "Unit 4", "Mill Lane", "Leeds", "LS10 1AB", "", "GB"
        ),
        lines=tuple(_line(i) for i in range(n_lines)),
        instructions=("Pack this slip inside the parcel.", "Hand it in at a post office."),
        return_url=URL,
        created_at=datetime(2026, 12, 2, 10, 30),
    )
    return replace(slip, **changes)  # type: ignore[arg-type]


@pytest.fixture
def render() -> Iterator[Callable[..., Pdf]]:
    opened: list[Pdf] = []

    def _render(slip: ReturnSlip, paper: str = "A4") -> Pdf:
        pdf = Pdf(render_return_slip(slip, COMPANY, paper=paper))
        opened.append(pdf)
        return pdf

    yield _render
    for pdf in opened:
        pdf.doc.close()


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("dpi", [203, 300])
def test_rma_barcode_and_qr_scan_back(paper: str, dpi: int, render: Callable[..., Pdf]) -> None:
    pdf = render(_slip(), paper)
    assert len(pdf) == 1
    found = decoded(pdf.image(0, dpi))
    # A sheet carries the RMA twice: on the slip and on the cut-out label for the parcel.
    copies = 1 if paper == "4x6" else 2
    assert found.get("Code128") == ["RMA-2026-000731"] * copies
    assert found.get("QRCode") == [URL]


@pytest.mark.parametrize("paper", PAPERS)
def test_what_the_clerk_and_the_customer_read(paper: str, render: Callable[..., Pdf]) -> None:
    slip = _slip(lines=(_line(0, reason="Arrived damaged"), _line(1, "Headlamp 300 lm", "")))
    text = render(slip, paper).all_text()
    for expected in (
        "RETURN",
        "RMA-2026-000731",
        "WS-104233",
        "2 Dec 2026",
        "Zoë Martin",
        "Northwind Returns",
        "LS10 1AB Leeds",
        "NW-1000",
        "Merino wool hiking socks",
        "Arrived damaged",
        "Headlamp 300 lm",
        "Pack this slip inside the parcel.",
        "Track your return",
        "Page 1 of 1",
    ):
        assert expected in text, (paper, expected)
    if paper != "4x6":
        assert "Cut along the dashed line" in text
        assert "Received" in text  # a tick box per line for the returns desk


def test_paper_sizes(render: Callable[..., Pdf]) -> None:
    sizes = {paper: render(_slip(), paper).doc[0].get_size() for paper in PAPERS}
    assert sizes["A4"] == pytest.approx((595.28, 841.89), abs=0.01)
    assert sizes["LETTER"] == pytest.approx((612, 792))
    assert sizes["4x6"] == pytest.approx((288, 432))


@pytest.mark.parametrize("paper", PAPERS)
def test_long_returns_flow_onto_pages(paper: str, render: Callable[..., Pdf]) -> None:
    slip = _slip(60)
    pdf = render(slip, paper)
    pages = len(pdf)
    assert pages > 1
    texts = [pdf.text(i) for i in range(pages)]
    everything = "\n".join(texts)
    for line in slip.lines:
        assert line.sku in everything
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {pages}" in text
    found = decoded(pdf.image(pages - 1, 203))
    assert "RMA-2026-000731" in found["Code128"]  # any page can be scanned
    assert found.get("QRCode") == [URL]


def test_names_in_other_scripts_are_printed_not_replaced(render: Callable[..., Pdf]) -> None:
    slip = _slip(
        customer=Address("Дмитрий Иванов", "ул. Тверская, 7", "", "Москва", "125009", "", "RU"),
        lines=(_line(0, "Σακίδιο πλάτης 30 l", "Χαλασμένο φερμουάρ"),),
    )
    for paper in PAPERS:
        pdf = render(slip, paper)
        text = pdf.all_text()
        for expected in ("Дмитрий Иванов", "Москва", "Σακίδιο πλάτης 30 l", "Χαλασμένο φερμουάρ"):
            assert expected in text, (paper, expected)
        assert "RMA-2026-000731" in decoded(pdf.image(0, 203))["Code128"]


def test_no_url_no_qr_and_no_lines_asks_for_them(render: Callable[..., Pdf]) -> None:
    pdf = render(_slip(0, return_url=""))
    assert "QRCode" not in decoded(pdf.image(0, 203))
    assert "please write down what you send back" in pdf.all_text()


def test_unknown_paper_and_unprintable_rma_are_print_errors() -> None:
    with pytest.raises(PrintError, match="Paper size 'A5' is not supported for return slips"):
        render_return_slip(_slip(), COMPANY, paper="A5")
    with pytest.raises(PrintError, match="RMA number 'RMA-Ω1' cannot be printed as a barcode"):
        render_return_slip(_slip(rma_number="RMA-Ω1"), COMPANY)


def test_importing_does_not_load_reportlab() -> None:
    code = "import sys, printing.return_slip; print('reportlab' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
