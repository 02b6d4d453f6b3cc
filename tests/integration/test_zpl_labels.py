"""Label ZPL read back offline: rendered to PNG by scripts/zpl-render (zpl-renderer-js, the
zebrash renderer in WASM) at 203 and 300 dpi, barcodes decoded with zxing-cpp.

Needs Node and `npm ci --prefix scripts/zpl-render`; skipped with that reason otherwise.
Every rendered label is saved under test-artifacts/labels/ to be looked at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from app.domain.documents import Address, CompanyProfile
from app.domain.errors import PrintError
from app.domain.labels import BinLabel, ProductLabel, ShippingLabel, ToteLabel
from app.domain.sscc import make_sscc
from printing.zpl import (
    bin_labels_zpl,
    escape,
    product_labels_zpl,
    shipping_label_zpl,
    shipping_labels_zpl,
    tote_labels_zpl,
)

ROOT = Path(__file__).resolve().parents[2]
RENDERER = ROOT / "scripts" / "zpl-render"
ARTIFACTS = ROOT / "test-artifacts" / "labels"
DPIS = (203, 300)

pytestmark = [
    pytest.mark.slow,  # each render starts Node and loads an 8 MB WASM renderer (~1-3 s)
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(
        not (RENDERER / "node_modules" / "zpl-renderer-js").is_dir(),
        reason="ZPL renderer not installed: run `npm ci --prefix scripts/zpl-render`",
    ),
]

WAREHOUSE = Address(
    "Northwind Outfitters Ltd", "Unit 4, Riverside Trading Estate", "Mill Lane", "Leeds",
    "LS10 1AB", "", "GB",
)  # fmt: skip
COMPANY = CompanyProfile("Northwind Outfitters Ltd", WAREHOUSE)
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
        company_prefix_length=7,
    )
    return replace(label, **changes)  # type: ignore[arg-type]


def render(zpl: bytes, name: str, size: str, dpi: int) -> list[Image.Image]:
    """Every label of ``zpl`` as an image, saved as test-artifacts/labels/<name>-zpl-*.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}-zpl-{dpi}dpi.png"
    done = subprocess.run(
        ["node", str(RENDERER / "render.mjs"), "--size", size, "--dpi", str(dpi),
         "--out", str(out), "-"],
        input=zpl, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    return [Image.open(path).convert("L") for path in done.stdout.decode().split()]


def decode(image: Image.Image) -> list[zxingcpp.Result]:
    return list(zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain))


def fields(zpl: bytes) -> list[str]:
    """The data of every ^FD...^FS field."""
    return re.findall(r"\^FD(.*?)\^FS", zpl.decode("utf-8"), flags=re.DOTALL)


@pytest.mark.parametrize("dpi", DPIS)
def test_shipping_label_barcodes_scan_back(dpi: int) -> None:
    zpl = shipping_label_zpl(shipping(), COMPANY, dpi=dpi)
    assert zpl.startswith(b"^XA^CI28")
    assert zpl.rstrip().endswith(b"^XZ")
    # GS1-128: start C, FNC1, AI 00, the SSCC.
    assert f"^FD>;>800{SSCC}^FS".encode() in zpl
    (image,) = render(zpl, "shipping", "4x6in", dpi)
    by_symbology = {r.symbology_identifier: r for r in decode(image)}
    assert by_symbology["]C0"].text == TRACKING
    sscc = by_symbology["]C1"]
    assert sscc.content_type == zxingcpp.ContentType.GS1
    assert sscc.text == "00" + SSCC
    assert len(by_symbology) == 2


def test_several_packages_are_several_labels() -> None:
    labels = [
        shipping(package_no=n, sscc=make_sscc(1, "2345678", n), tracking_number=f"JD01460000{n}")
        for n in (1, 2, 3)
    ]
    zpl = shipping_labels_zpl(labels, COMPANY)
    assert zpl.count(b"^XA") == 3
    images = render(zpl, "shipping-3-packages", "4x6in", 203)
    for n, image in enumerate(images, 1):
        texts = {r.text for r in decode(image)}
        assert texts == {f"JD01460000{n}", "00" + make_sscc(1, "2345678", n)}


def test_caret_and_tilde_in_an_address_are_escaped() -> None:
    ship_to = Address("A^B Trading ~ Export_Dept", "Dock ^XZ 5 ~JR", "\\& line", "Leeds",
                      "LS1 1AA", "", "GB")  # fmt: skip
    zpl = shipping_label_zpl(shipping(ship_to=ship_to, reference="^FS~~"), COMPANY)
    for data in fields(zpl):
        assert "^" not in data and "~" not in data, data
    text = zpl.decode()
    assert "A_5EB Trading _7E Export_5FDept" in text
    assert "Dock _5EXZ 5 _7EJR" in text
    assert text.count("^XA") == 1 and text.count("^XZ") == 1
    # The escaped fields did not break the format: everything after them still prints.
    (image,) = render(zpl, "shipping-escaped", "4x6in", 203)
    assert {r.text for r in decode(image)} == {TRACKING, "00" + SSCC}


def test_escape() -> None:
    assert escape("a^b~c_d\\e") == "a_5Eb_7Ec_5Fd_5Ce"
    assert escape("tab\there\nnew") == "tab here new"


PRODUCTS = [
    ProductLabel("4006381333931", "Merino wool hiking socks", "NW-1001", 1299, "EUR"),
    ProductLabel("14006381333938", "Case of 12 water bottles", "NW-CASE-12"),
    ProductLabel("96385074", "Lip balm", "NW-3003", 350, "GBP"),
    ProductLabel("4006381333931", "Носки шерстяные — Κάλτσες", "NW-1", 99000, "RUB"),
]


@pytest.mark.parametrize("dpi", DPIS)
def test_product_labels_scan_as_their_gtin(dpi: int) -> None:
    zpl = product_labels_zpl(PRODUCTS, COMPANY, dpi=dpi)
    assert b"^BEN," in zpl and b"^FD400638133393^FS" in zpl  # EAN-13: 12 digits, printer adds 1
    assert b"^FD>;>80114006381333938^FS" in zpl
    images = render(zpl, "product", "50x30mm", dpi)
    found = [[(r.format.name, r.text) for r in decode(image)] for image in images]
    assert found == [
        [("EAN13", "4006381333931")],
        [("Code128", "0114006381333938")],
        [("Code128", "0100000096385074")],
        [("EAN13", "4006381333931")],
    ]


def test_non_latin_names_are_sent_as_bitmaps() -> None:
    zpl = product_labels_zpl(PRODUCTS[3:], COMPANY)
    assert b"^GFA," in zpl
    assert "Носки".encode() not in zpl  # font 0 on the printer could not print it
    latin = product_labels_zpl(PRODUCTS[:1], COMPANY)
    assert b"^GFA," not in latin
    assert b"^A0N," in latin


@pytest.mark.parametrize("dpi", DPIS)
def test_bin_and_tote_codes_scan_back_exactly(dpi: int) -> None:
    bins = [BinLabel("A-01-03-B", "PICK ZONE A"), BinLabel("R12>S04_L2", "RESERVE")]
    images = render(bin_labels_zpl(bins, dpi=dpi), "bin", "4x2in", dpi)
    assert [[r.text for r in decode(image)] for image in images] == [["A-01-03-B"], ["R12>S04_L2"]]
    totes = [ToteLabel("TOTE-0042"), ToteLabel("T000917")]
    images = render(tote_labels_zpl(totes, dpi=dpi), "tote", "4x3in", dpi)
    assert [[r.text for r in decode(image)] for image in images] == [["TOTE-0042"], ["T000917"]]


def test_bad_data_is_refused_in_words() -> None:
    with pytest.raises(PrintError, match="SSCC"):
        shipping_label_zpl(shipping(sscc="123"), COMPANY)
    with pytest.raises(PrintError, match="GTIN"):
        product_labels_zpl([ProductLabel("123", "x")], COMPANY)
    with pytest.raises(PrintError, match="dpi"):
        tote_labels_zpl([ToteLabel("T1")], dpi=600)


@pytest.mark.parametrize("logo", ["missing", "broken", "good"])
def test_company_logo_missing_or_broken_still_makes_the_label(logo: str, tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    if logo == "broken":
        path.write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    elif logo == "good":
        image = Image.new("RGBA", (400, 120), (0, 0, 0, 0))
        image.paste((20, 40, 160, 255), (0, 0, 400, 60))
        image.save(path)
    zpl = shipping_label_zpl(shipping(), replace(COMPANY, logo_path=str(path)))
    assert (b"^GFA," in zpl) is (logo == "good")
    if logo == "good":
        (image,) = render(zpl, "shipping-with-logo", "4x6in", 203)
        assert {r.text for r in decode(image)} == {TRACKING, "00" + SSCC}
