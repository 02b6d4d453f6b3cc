"""The pick list PDF, read back the way a picker and a scanner would read it.

Pages are rendered at 203 and 300 dpi and their barcodes decoded (the list's number and every
bin code); text is extracted to check that every stop made it onto paper, in pick order.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from app.domain.documents import Address, CompanyProfile
from app.domain.errors import PrintError
from app.domain.pick_docs import PickKind, PickList, PickStop
from printing.pick_list import render_pick_list
from tests.pdf_reading import Pdf

ROOT = Path(__file__).resolve().parents[2]
PAPERS = ("A4", "LETTER")
COMPANY = CompanyProfile(
    name="Northwind Outfitters Ltd",
    address=Address("Northwind Outfitters Ltd", "Unit 4", "Mill Lane", "Leeds", "LS10 1AB"),
    website="northwind.example",
)


def _stop(i: int, *, order: str = "WS-104240", name: str = "Merino wool hiking socks") -> PickStop:
    return PickStop(
        seq=i + 1,
        bin_code=f"B-{1 + i // 10:02d}-{i % 10:02d}-{'ABC'[i % 3]}",
        sku=f"NW-{1000 + i}",
        gtin=f"{4006381333931 + i:014d}",
        name=name,
        qty=1 + i % 4,
        order_number=order,
    )


def _list(n: int = 8, kind: PickKind = PickKind.SINGLE, **changes: object) -> PickList:
    pick_list = PickList(
        number="PL-2026-00418",
        created_at=datetime(2026, 11, 27, 7, 45),
        kind=kind,
        stops=tuple(_stop(i) for i in range(n)),
        picker="Ana Silva",
    )
    return replace(pick_list, **changes)  # type: ignore[arg-type]


def _cluster(n: int = 9) -> PickList:
    orders = ("WS-104240", "WS-104241", "WS-104242")
    stops = tuple(
        replace(_stop(i, order=orders[i % 3]), tote_slot=str(i % 3 + 1)) for i in range(n)
    )
    return _list(kind=PickKind.CLUSTER, stops=stops, picker=None)


@pytest.fixture
def render() -> Iterator[Callable[..., Pdf]]:
    opened: list[Pdf] = []

    def _render(pick_list: PickList, paper: str = "A4") -> Pdf:
        pdf = Pdf(render_pick_list(pick_list, COMPANY, paper=paper))
        opened.append(pdf)
        return pdf

    yield _render
    for pdf in opened:
        pdf.doc.close()


def _codes(image: Image.Image) -> list[str]:
    return sorted(r.text for r in zxingcpp.read_barcodes(image) if r.format.name == "Code128")


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("dpi", [203, 300])
def test_list_number_and_every_bin_on_page_one_scan_back(
    paper: str, dpi: int, render: Callable[..., Pdf]
) -> None:
    pick_list = _cluster(9)
    pdf = render(pick_list, paper)
    assert all(stop.bin_code in pdf.text(0) for stop in pick_list.stops)
    expected = sorted([pick_list.number, *(stop.bin_code for stop in pick_list.stops)])
    assert _codes(pdf.image(0, dpi)) == expected


@pytest.mark.parametrize("paper", PAPERS)
def test_what_the_picker_reads(paper: str, render: Callable[..., Pdf]) -> None:
    pick_list = _cluster(6)
    pick_list = replace(
        pick_list, stops=(replace(pick_list.stops[0], lot="L2611-07"), *pick_list.stops[1:])
    )
    text = render(pick_list, paper).all_text()
    for expected in (
        "PICK LIST",
        "PL-2026-00418",
        "Cluster pick",
        "27 Nov 2026 07:45",
        "B-01-00-A",
        "NW-1000",
        "04006381333931",
        "Merino wool hiking socks",
        "LOT L2611-07",
        "WS-104241",
        "Done",
        "6 stops",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "Ana Silva" not in text  # no picker yet: a line to write on instead


def test_paper_sizes(render: Callable[..., Pdf]) -> None:
    assert render(_list(), "A4").doc[0].get_size() == pytest.approx((595.28, 841.89), abs=0.01)
    assert render(_list(), "LETTER").doc[0].get_size() == pytest.approx((612, 792))


def test_150_stops_flow_onto_pages_in_pick_order(render: Callable[..., Pdf]) -> None:
    name = "Waterproof shell jacket with taped seams, adjustable hood"
    pick_list = _list(stops=tuple(_stop(i, name=name) for i in range(150)))
    pdf = render(pick_list)
    pages = len(pdf)
    assert pages > 5
    texts = [pdf.text(i) for i in range(pages)]
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {pages}" in text
        assert "SKU / GTIN / item" in text  # the table header, repeated
        assert "PL-2026-00418" in text
    everything = "\n".join(texts)
    positions = [everything.find(stop.bin_code) for stop in pick_list.stops]
    assert -1 not in positions, "every stop is printed"
    assert positions == sorted(positions), "stops keep their pick sequence"
    for stop in pick_list.stops:
        assert stop.sku in everything
    assert "150 stops" in texts[-1]
    # The list's number is on every page, so any page opens the list.
    assert pick_list.number in _codes(pdf.image(pages - 1, 203))
    # Every bin on a later page scans too.
    page_two = [s.bin_code for s in pick_list.stops if s.bin_code in texts[1]]
    assert page_two
    assert _codes(pdf.image(1, 203)) == sorted([pick_list.number, *page_two])


def test_batch_and_cluster_lists_end_with_their_orders(render: Callable[..., Pdf]) -> None:
    cluster = render(_cluster(9)).all_text()
    assert "Orders on this list" in cluster
    assert "Tote slot" in cluster
    single = render(_list()).all_text()
    assert "Orders on this list" not in single


def test_names_in_other_scripts_are_printed_not_replaced(render: Callable[..., Pdf]) -> None:
    names = ["Σακίδιο πλάτης 30 l", "Рюкзак туристический", "Śpiwór puchowy −5 °C"]
    stops = tuple(_stop(i, name=name) for i, name in enumerate(names))
    pick_list = _list(stops=stops, picker="Zoë Ağaoğlu")
    pdf = render(pick_list)
    text = pdf.all_text()
    for expected in [*names, "Zoë Ağaoğlu"]:
        assert expected in text, expected
    assert _codes(pdf.image(0, 203)) == sorted([pick_list.number, *(s.bin_code for s in stops)])


def test_an_empty_list_is_not_printed() -> None:
    with pytest.raises(PrintError, match="has no stops, so there is nothing to pick"):
        render_pick_list(_list(0), COMPANY)


def test_a_bin_code_code128_cannot_carry_is_named() -> None:
    stops = (replace(_stop(0), bin_code="Ä-01"),)
    with pytest.raises(PrintError, match="Bin 'Ä-01' \\(stop 1\\) cannot be printed"):
        render_pick_list(_list(stops=stops), COMPANY)


def test_unknown_paper_is_a_print_error_in_plain_words() -> None:
    with pytest.raises(PrintError, match="Paper size '4x6' is not supported for pick lists"):
        render_pick_list(_list(), COMPANY, paper="4x6")


def test_importing_does_not_load_reportlab() -> None:
    code = "import sys, printing.pick_list; print('reportlab' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
