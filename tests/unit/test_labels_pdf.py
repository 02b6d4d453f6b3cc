"""Label PDFs read back the way a scanner and a person would: rendered at the printers'
resolutions (203 and 300 dpi), barcodes decoded with zxing-cpp, text extracted with pdfium.

Every rendered page is saved under test-artifacts/labels/ to be looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from app.domain.documents import Address, CompanyProfile
from app.domain.errors import PrintError, ValidationError
from app.domain.labels import BinLabel, ProductLabel, ShippingLabel, ToteLabel
from app.domain.sscc import make_sscc
from printing.labels import (
    format_price,
    render_bin_labels,
    render_product_labels,
    render_shipping_label,
    render_shipping_labels,
    render_tote_labels,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "labels"
DPIS = (203, 300)

WAREHOUSE = Address(
    "Northwind Outfitters Ltd", "Unit 4, Riverside Trading Estate", "Mill Lane", "Leeds",
    "LS10 1AB", "", "GB",
)  # fmt: skip
COMPANY = CompanyProfile("Northwind Outfitters Ltd", WAREHOUSE, locale="en_GB")
SSCC = make_sscc(1, "2345678", 1)
TRACKING = "1Z999AA10123456784"


def shipping(**changes: object) -> ShippingLabel:
    label = ShippingLabel(
        ship_from=WAREHOUSE,
        ship_to=Address("Zoë Martin", "Flat 2, 17 Baker Street", "", "London", "NW1 6XE", "", "GB"),
        carrier="DHL Express",
        service="Express 12:00",
        weight_g=2350,
        package_no=1,
        package_count=3,
        tracking_number=TRACKING,
        sscc=SSCC,
        order_number="WS-104233",
        reference="PO-7781",
        notes="Fragile",
        company_prefix_length=7,
    )
    return replace(label, **changes)  # type: ignore[arg-type]


class Pdf:
    def __init__(self, data: bytes) -> None:
        assert data.startswith(b"%PDF-")
        self.doc = pdfium.PdfDocument(data)

    def __len__(self) -> int:
        return len(self.doc)

    def image(self, page: int, dpi: int) -> Image.Image:
        image: Image.Image = self.doc[page].render(scale=dpi / 72, grayscale=True).to_pil()
        return image

    def text(self, page: int = 0) -> str:
        textpage = self.doc[page].get_textpage()
        try:
            return str(textpage.get_text_range())
        finally:
            textpage.close()

    def char_boxes(self, page: int = 0) -> list[tuple[str, tuple[float, float, float, float]]]:
        textpage = self.doc[page].get_textpage()
        try:
            out = []
            for i in range(textpage.count_chars()):
                ch = textpage.get_text_range(i, 1)
                if ch.strip():
                    out.append((ch, textpage.get_charbox(i)))
            return out
        finally:
            textpage.close()


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


def decode(image: Image.Image) -> list[zxingcpp.Result]:
    return list(zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain))


def save(pdf: Pdf, name: str, dpi: int) -> list[Image.Image]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    images = [pdf.image(i, dpi) for i in range(len(pdf))]
    for i, image in enumerate(images, 1):
        image.save(ARTIFACTS / f"{name}-{dpi}dpi-{i}.png")
    return images


# ----------------------------------------------------------------------------- shipping label


@pytest.mark.parametrize("dpi", DPIS)
def test_shipping_label_barcodes_scan_back(dpi: int, open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_shipping_label(shipping(), COMPANY, dpi=dpi))
    assert len(pdf) == 1
    assert pdf.doc[0].get_size() == pytest.approx((288, 432))
    results = decode(save(pdf, "shipping", dpi)[0])
    by_symbology = {r.symbology_identifier: r for r in results}
    assert set(by_symbology) == {"]C0", "]C1"}
    tracking = by_symbology["]C0"]
    assert tracking.text == TRACKING
    assert tracking.content_type == zxingcpp.ContentType.Text
    # GS1-128: FNC1 first (]C1), then AI 00 and the 18 digits.
    sscc = by_symbology["]C1"]
    assert sscc.format == zxingcpp.BarcodeFormat.Code128
    assert sscc.content_type == zxingcpp.ContentType.GS1
    assert sscc.text == "00" + SSCC


def test_shipping_label_shows_what_carrier_and_consignee_read(open_pdf: type[Pdf]) -> None:
    text = open_pdf(render_shipping_label(shipping(), COMPANY)).text()
    for expected in (
        "FROM",
        "Northwind Outfitters Ltd",
        "SHIP TO",
        "Zoë Martin",
        "Flat 2, 17 Baker Street",
        "NW1 6XE London",
        "DHL EXPRESS",
        "Express 12:00",
        "2.35 kg",
        "1 of 3",
        "1Z99 9AA1 0123 4567 84",
        "Order WS-104233",
        "Ref PO-7781",
        "Fragile",
        f"(00) 1 2345678 000000001 {SSCC[-1]}",
    ):
        assert expected in text, expected


def test_several_packages_are_several_pages(open_pdf: type[Pdf]) -> None:
    labels = [
        shipping(package_no=n, sscc=make_sscc(1, "2345678", n), tracking_number=f"JD01460000{n}")
        for n in (1, 2, 3)
    ]
    pdf = open_pdf(render_shipping_labels(labels, COMPANY, dpi=203))
    assert len(pdf) == 3
    for n in (1, 2, 3):
        texts = {r.text for r in decode(pdf.image(n - 1, 203))}
        assert texts == {f"JD01460000{n}", "00" + make_sscc(1, "2345678", n)}
        assert f"{n} of 3" in pdf.text(n - 1)


def _overlapping_chars(pdf: Pdf) -> list[tuple[str, str]]:
    """Pairs of characters whose glyph boxes overlap: text printed over other text."""
    boxes = pdf.char_boxes()
    clashes = []
    for i, (a, (al, ab, ar, at)) in enumerate(boxes):
        for b, (bl, bb, br, bt) in boxes[i + 1 :]:
            w = min(ar, br) - max(al, bl)
            h = min(at, bt) - max(ab, bb)
            if w > 0.5 and h > 0.5:
                clashes.append((a, b))
    return clashes


def test_overlong_address_is_wrapped_and_cut_never_overflowing(open_pdf: type[Pdf]) -> None:
    ship_to = Address(
        "Maximiliane Alexandra Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh",
        "Gewerbegebiet Nord, Halle 17, Tor 4, Anlieferung über die Hintereinfahrt " * 3,
        "c/o Spedition Müller & Söhne GmbH & Co. KG, Abteilung Wareneingang, 3. OG",
        "Garmisch-Partenkirchen-Oberammergau-Unterammergau",
        "82467",
        "Oberbayern, Freistaat Bayern, Bundesrepublik Deutschland",
        "DE",
    )
    label = shipping(ship_to=ship_to, reference="R" * 80, notes="Handle with care " * 6)
    for dpi in DPIS:
        pdf = open_pdf(render_shipping_label(label, COMPANY, dpi=dpi))
        save(pdf, "shipping-long-address", dpi)
        text = pdf.text()
        assert "Maximiliane" in text
        assert "82467 Garmisch" in text  # postcode and city always print: carriers sort by them
        assert "…" in text  # something was cut, and it says so
        width, height = pdf.doc[0].get_size()
        for ch, (left, bottom, right, top) in pdf.char_boxes():
            assert left >= 0, ch
            assert right <= width, ch
            assert bottom >= 0, ch
            assert top <= height, ch
        assert _overlapping_chars(pdf) == []
        # The barcodes are where they were: nothing pushed them off or over each other.
        texts = {r.text for r in decode(pdf.image(0, dpi))}
        assert texts == {TRACKING, "00" + SSCC}


def test_normal_label_has_no_text_over_text(open_pdf: type[Pdf]) -> None:
    assert _overlapping_chars(open_pdf(render_shipping_label(shipping(), COMPANY))) == []


def test_bad_sscc_is_refused_in_words() -> None:
    with pytest.raises(PrintError, match="SSCC") as caught:
        render_shipping_label(shipping(sscc=SSCC[:-1] + str((int(SSCC[-1]) + 1) % 10)), COMPANY)
    assert "check digit" in caught.value.message


def test_sscc_with_a_company_prefix_of_the_wrong_length_cannot_be_made() -> None:
    with pytest.raises(ValidationError) as caught:
        shipping(sscc=make_sscc(1, "23456", 1))
    assert "company prefix" in caught.value.message
    assert "7 to 10 digits" in caught.value.message


def test_tracking_number_with_accents_is_refused_in_words() -> None:
    with pytest.raises(PrintError, match="tracking number"):
        render_shipping_label(shipping(tracking_number="ÄB123"), COMPANY)


def test_label_without_tracking_number_still_has_its_sscc(open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_shipping_label(shipping(tracking_number=""), COMPANY))
    assert [r.text for r in decode(pdf.image(0, 203))] == ["00" + SSCC]


@pytest.mark.parametrize("logo", ["missing", "broken", "good"])
def test_company_logo_missing_or_broken_still_makes_the_label(
    logo: str, tmp_path: Path, open_pdf: type[Pdf]
) -> None:
    path = tmp_path / "logo.png"
    if logo == "broken":
        path.write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    elif logo == "good":
        image = Image.new("RGBA", (400, 120), (0, 0, 0, 0))
        image.paste((20, 40, 160, 255), (0, 0, 400, 60))
        image.save(path)
    company = replace(COMPANY, logo_path=str(path))
    pdf = open_pdf(render_shipping_label(shipping(), company))
    images = [obj for obj in pdf.doc[0].get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    assert len(images) == (1 if logo == "good" else 0)
    if logo == "good":
        save(pdf, "shipping-with-logo", 203)
    assert {r.text for r in decode(pdf.image(0, 203))} == {TRACKING, "00" + SSCC}


# ----------------------------------------------------------------------------- product labels

PRODUCTS = [
    ProductLabel("4006381333931", "Merino wool hiking socks, medium, charcoal", "NW-1001", 1299,
                 "EUR"),
    ProductLabel("036000291452", "Trail mix 250 g", "NW-2002"),  # UPC-A: printed as EAN-13
    ProductLabel("14006381333938", "Case of 12 water bottles", "NW-CASE-12"),  # GTIN-14
    ProductLabel("96385074", "Lip balm", "NW-3003", 350, "GBP"),  # GTIN-8
]  # fmt: skip


@pytest.mark.parametrize("size", ["50x30mm", "4x6"])
@pytest.mark.parametrize("dpi", DPIS)
def test_product_labels_scan_as_their_gtin(size: str, dpi: int, open_pdf: type[Pdf]) -> None:
    pdf = open_pdf(render_product_labels(PRODUCTS, COMPANY, size=size, dpi=dpi))
    assert len(pdf) == len(PRODUCTS)
    images = save(pdf, f"product-{size}", dpi)
    found = [decode(image) for image in images]
    assert [[r.text for r in page] for page in found] == [
        ["4006381333931"],
        ["0036000291452"],
        ["0114006381333938"],
        ["0100000096385074"],
    ]
    assert [page[0].format.name for page in found] == ["EAN13", "EAN13", "Code128", "Code128"]
    assert found[2][0].symbology_identifier == "]C1"
    first = pdf.text(0)
    assert "Merino wool hiking socks" in first
    assert "SKU NW-1001" in first
    assert "€12.99" in first
    assert "£3.50" in pdf.text(3)


def test_product_name_in_cyrillic_and_greek_is_printed(open_pdf: type[Pdf]) -> None:
    name = "Носки шерстяные — Κάλτσες μάλλινες"
    label = ProductLabel("4006381333931", name, "NW-1", 99000, "RUB")
    pdf = open_pdf(render_product_labels([label], COMPANY))
    save(pdf, "product-cyrillic-greek", 203)
    text = pdf.text(0)
    assert "Носки шерстяные" in text
    assert "Κάλτσες" in text
    assert [r.text for r in decode(pdf.image(0, 203))] == ["4006381333931"]


def test_long_product_name_is_cut_to_the_label(open_pdf: type[Pdf]) -> None:
    label = ProductLabel("4006381333931", "Ultralight " * 30, "NW-1")
    pdf = open_pdf(render_product_labels([label], COMPANY))
    assert "…" in pdf.text(0)
    assert _overlapping_chars(pdf) == []
    width, _ = pdf.doc[0].get_size()
    assert all(box[2] <= width for _, box in pdf.char_boxes())


@pytest.mark.parametrize("gtin", ["4006381333932", "40063813339", "ABC", ""])
def test_bad_gtin_is_refused_in_words(gtin: str) -> None:
    with pytest.raises(PrintError, match="GTIN"):
        render_product_labels([ProductLabel(gtin, "Socks")], COMPANY)


def test_unknown_label_size_is_refused_in_words() -> None:
    with pytest.raises(PrintError, match="50x30mm"):
        render_product_labels(PRODUCTS, COMPANY, size="huge")


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "text"),
    [
        (1299, "EUR", "en_GB", "€12.99"),
        (1299, "EUR", "de_DE", "12,99 €"),
        (123456789, "GBP", "en_GB", "£1,234,567.89"),
        (1500, "JPY", "en_GB", "¥1,500"),
        (995, "SEK", "sv_SE", "9,95 SEK"),
    ],
)
def test_price_format(minor: int, currency: str, locale: str, text: str) -> None:
    assert format_price(minor, currency, locale) == text


# ----------------------------------------------------------------------------- bins and totes


@pytest.mark.parametrize("dpi", DPIS)
def test_bin_and_tote_codes_scan_back_exactly(dpi: int, open_pdf: type[Pdf]) -> None:
    bins = [BinLabel("A-01-03-B", "PICK ZONE A"), BinLabel("R12-S04-L2", "RESERVE")]
    pdf = open_pdf(render_bin_labels(bins, dpi=dpi))
    images = save(pdf, "bin", dpi)
    assert [[r.text for r in decode(image)] for image in images] == [["A-01-03-B"], ["R12-S04-L2"]]
    assert "A-01-03-B" in pdf.text(0)
    assert "PICK ZONE A" in pdf.text(0)

    totes = [ToteLabel("TOTE-0042"), ToteLabel("T000917")]
    pdf = open_pdf(render_tote_labels(totes, dpi=dpi))
    images = save(pdf, "tote", dpi)
    assert [[r.text for r in decode(image)] for image in images] == [["TOTE-0042"], ["T000917"]]
    assert "TOTE-0042" in pdf.text(0)


def test_bin_code_too_long_for_the_label_is_refused_in_words() -> None:
    with pytest.raises(PrintError, match="too long"):
        render_bin_labels([BinLabel("X" * 60)], size="50x30mm")


def test_no_labels_is_refused_in_words() -> None:
    with pytest.raises(PrintError, match="no labels"):
        render_tote_labels([])
