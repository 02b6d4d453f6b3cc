"""normalize(): AIM identifiers, GS separators, GS1 element strings, Digital Link, EAN/UPC."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.errors import MalformedScanError
from app.scanning.normalize import GS, Scan, normalize

GTIN = "04006381333931"  # EAN-13 4006381333931 as GTIN-14


def _fields(scan: Scan) -> tuple[object, ...]:
    return (scan.is_gs1, scan.gtin, scan.lot, scan.serial, scan.expiry, scan.digital_link)


EXPECTED = (True, GTIN, "LOT1", "SN9", date(2027, 12, 31), False)


# --- GS1 element strings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "symbology"),
    [
        (f"]C101{GTIN}17271231{GS}10LOT1{GS}21SN9", "]C1"),  # GS1-128
        (f"]d201{GTIN}1727123110LOT1{GS}21SN9", "]d2"),  # GS1 DataMatrix
        (f"]Q301{GTIN}1727123121SN9{GS}10LOT1", "]Q3"),  # GS1 QR, fields in another order
        (f"]e001{GTIN}17271231{GS}10LOT1{GS}21SN9", "]e0"),  # GS1 DataBar
        (f"01{GTIN}17271231{GS}10LOT1{GS}21SN9", None),  # no AIM id
        (f"{GS}01{GTIN}17271231{GS}10LOT1{GS}21SN9{GS}\r\n", None),  # FNC1 as a leading GS
        (f"(01){GTIN}(17)271231(10)LOT1(21)SN9", None),  # human-readable form
        (f"(01) {GTIN} (17) 271231 (10) LOT1 (21) SN9", None),  # ... as typed, with spaces
    ],
)
def test_gs1_element_strings(raw: str, symbology: str | None) -> None:
    scan = normalize(raw)
    assert _fields(scan) == EXPECTED
    assert scan.symbology == symbology
    assert scan.raw == raw


def test_text_keeps_payload_without_aim_id() -> None:
    scan = normalize(f"]C101{GTIN}17271231{GS}10LOT1{GS}21SN9\r\n")
    assert scan.text == f"01{GTIN}17271231{GS}10LOT1{GS}21SN9"


def test_fixed_length_fields_need_no_separator() -> None:
    # 01 and 17 have a fixed length; only the variable-length lot needs a GS after it.
    scan = normalize(f"01{GTIN}1727123110LOT1")
    assert (scan.gtin, scan.expiry, scan.lot) == (GTIN, date(2027, 12, 31), "LOT1")


def test_without_separator_a_variable_field_swallows_the_rest() -> None:
    # What biip does and what GS1 specifies: the lot runs on to the end. Documented, not fixed.
    scan = normalize(f"01{GTIN}10LOT121SN9")
    assert (scan.lot, scan.serial) == ("LOT121SN9", None)


@pytest.mark.parametrize("replacement", ["|", "<GS>", "~"])
def test_configured_gs_replacement(replacement: str) -> None:
    raw = f"01{GTIN}17271231{replacement}10LOT1{replacement}21SN9"
    scan = normalize(raw, gs_replacement=replacement)
    assert _fields(scan) == EXPECTED
    assert scan.text == f"01{GTIN}17271231{GS}10LOT1{GS}21SN9"


def test_gs_replacement_leaves_station_codes_alone() -> None:
    assert normalize("BIN|A-01", gs_replacement="|").text == "BIN|A-01"


def test_sscc_count_best_before_and_content_gtin() -> None:
    scan = normalize(f"]C100376104250021234569{GS}02{GTIN}15270630{GS}3712")
    assert scan.sscc == "376104250021234569"
    assert scan.gtin == GTIN  # AI 02: the trade item inside the logistic unit
    assert scan.best_before == date(2027, 6, 30)
    assert scan.count == 12
    assert scan.expiry is None


def test_variable_count_ai_30() -> None:
    assert normalize(f"]C101{GTIN}{GS}3025").count == 25


def test_expiry_day_00_means_end_of_month() -> None:
    assert normalize(f"01{GTIN}17270200").expiry == date(2027, 2, 28)


def test_bare_sscc_with_ai_is_gs1() -> None:
    scan = normalize("00376104250021234569")
    assert (scan.is_gs1, scan.sscc, scan.gtin) == (True, "376104250021234569", None)


def test_bare_gtin_with_ai_01_is_gs1() -> None:
    scan = normalize(f"01{GTIN}")
    assert (scan.is_gs1, scan.gtin) == (True, GTIN)


def test_eighteen_bare_digits_are_not_taken_for_an_sscc() -> None:
    # Could be an SSCC without its (00) or a carrier's tracking number: the resolver decides.
    scan = normalize("376104250021234569")
    assert (scan.is_gs1, scan.sscc, scan.gtin, scan.text) == (
        False,
        None,
        None,
        "376104250021234569",
    )


def test_long_number_starting_like_another_ai_is_not_gs1() -> None:
    # "10..." would read as a lot under AI 10; only 00/01/02 make a bare string GS1.
    scan = normalize("100000000012345")
    assert (scan.is_gs1, scan.lot, scan.text) == (False, None, "100000000012345")


# --- malformed GS1 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (f"]C101{GTIN[:-1]}2", r"product number \(GTIN\) 04006381333932 .* wrong check digit"),
        ("0104006381333932", "wrong check digit"),
        ("(01)04006381333932", "wrong check digit"),
        ("]C100376104250021234568", r"shipping container code \(SSCC\) .* wrong check digit"),
        (f"]C101{GTIN}17271331", r"Field \(17\) Expiration date .* “271331”, which is not a real"),
        (f"(01){GTIN}(15)270230", r"Field \(15\) Best before date .* not a real date"),
        ("]C12399ABC", "“2399ABC” .* does not start with a GS1 field number"),
        ("(23)1", "does not start with a GS1 field number"),
        ("]C1017", r"Field \(01\) .* is cut short: it has 1 of the 14 digits it needs"),
        (f"(01){GTIN}ABC", r"Field \(01\) .* “04006381333931ABC”"),
        (f"]C101{GTIN}{GS}10", r"Field \(10\) Batch or lot number in this code is empty"),
        (f"]C101{GTIN}{GS}30", r"Field \(30\) .* is empty"),
        (f"]C101{GTIN}{GS}30x", r"Field \(30\) .* holds “x”"),
        (f"01{GTIN}{GS}{GS}99", "empty"),
        (f"12{GS}34", r"Field \(12\) Due date .* is empty"),
        ("]C1SO-1042", "does not start with a GS1 field number"),  # GS1-128 must hold GS1
    ],
)
def test_malformed_gs1_says_what_is_wrong(raw: str, words: str) -> None:
    with pytest.raises(MalformedScanError, match=words) as caught:
        normalize(raw)
    assert "scan it again" in caught.value.message


# --- GS1 Digital Link ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "https://id.gs1.org/01/04006381333931/10/LOT1/21/SN9?17=271231",
        "HTTPS://brand.example.com/products/01/4006381333931/10/LOT1/21/SN9?17=271231&x=y",
        "]Q1https://id.gs1.org/01/04006381333931/10/LOT1/21/SN9?17=271231",  # plain QR
        "]d2https://id.gs1.org/01/04006381333931/10/LOT1/21/SN9?17=271231",
    ],
)
def test_digital_link(raw: str) -> None:
    scan = normalize(raw)
    assert (scan.is_gs1, scan.digital_link, scan.gtin, scan.lot, scan.serial, scan.expiry) == (
        True,
        True,
        GTIN,
        "LOT1",
        "SN9",
        date(2027, 12, 31),
    )
    assert scan.text == raw.removeprefix("]Q1").removeprefix("]d2")


def test_digital_link_with_sscc() -> None:
    scan = normalize("https://id.gs1.org/00/376104250021234569")
    assert (scan.digital_link, scan.sscc) == (True, "376104250021234569")


@pytest.mark.parametrize(
    "raw", ["https://shop.example.com/orders/1042", "https://example.com/blog/2024/01/05"]
)
def test_other_urls_pass_through(raw: str) -> None:
    scan = normalize(raw)
    assert (scan.is_gs1, scan.digital_link, scan.gtin, scan.text) == (False, False, None, raw)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("https://id.gs1.org/01/04006381333932", "wrong check digit"),
        ("https://id.gs1.org/01/04006381333931?17=271331", r"\(17\) .* not a real date"),
        ("https://id.gs1.org/01/04006381333931/10", r"ends with field \(10\) but no value"),
        ("https://id.gs1.org/01/04006381333931/99/ABC", "has a part that is not valid"),
        ("https://id.gs1.org/01/04006381333931/10/%00", r"\(10\) .* holds “<NUL>”"),
        ("]d2https://example.com/a", "names no product or shipment"),
    ],
)
def test_broken_digital_link(raw: str, words: str) -> None:
    with pytest.raises(MalformedScanError, match=words):
        normalize(raw)


# --- EAN / UPC -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [
        ("4006381333931", GTIN),  # EAN-13
        ("]E04006381333931", GTIN),
        ("036000291452", "00036000291452"),  # UPC-A
        ("]E00036000291452", "00036000291452"),  # UPC-A as ]E0 sends it
        ("]E0036000291452", "00036000291452"),  # ... or unexpanded
        ("96385074", "00000096385074"),  # EAN-8
        ("]E496385074", "00000096385074"),
        ("04252614", "00042100005264"),  # UPC-E
        ("]E004252614", "00042100005264"),
        ("]E001234565", "00012345000065"),  # ]E0 8 digits is UPC-E even where EAN-8 would fit
        ("01234565", "00000001234565"),  # ...without an AIM id, EAN-8 wins
        ("14006381333938", "14006381333938"),  # GTIN-14
        ("]I114006381333938", "14006381333938"),  # ITF-14
        ("]E3400638133393112", GTIN),  # EAN-13 with 2-digit add-on
        ("]E3400638133393112345", GTIN),  # ... 5-digit add-on
        ("]E303600029145212", "00036000291452"),  # UPC-A (12) with add-on
        ("]C04006381333931", GTIN),  # a GTIN printed as plain Code 128
        (" 4006381333931\r\n", GTIN),
    ],
)
def test_ean_upc_to_one_gtin14(raw: str, gtin14: str) -> None:
    scan = normalize(raw)
    assert (scan.gtin, scan.is_gs1) == (gtin14, False)
    assert scan.text == (raw.strip()[3:] if raw.startswith("]") else raw.strip())


def test_all_forms_of_one_item_are_one_gtin() -> None:
    forms = [
        "036000291452",
        "0036000291452",
        "]E00036000291452",
        "]C10100036000291452",
        "(01)00036000291452",
        "https://id.gs1.org/01/036000291452",
    ]
    assert {normalize(form).gtin for form in forms} == {"00036000291452"}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("4006381333932", "4006381333932 has a wrong check digit"),
        ("036000291453", "wrong check digit"),
        ("96385075", "wrong check digit"),
        ("]E04006381333932", "wrong check digit"),
        ("]E496385075", "wrong check digit"),
        ("]E004252615", "wrong check digit"),
        ("]I114006381333939", "wrong check digit"),
        ("]E4963850740", "has 9 digits, which does not fit a ]E4 barcode"),
        ("]E014006381333938", "does not fit a ]E0 barcode"),
        ("]I14006381333931", "does not fit a ]I1 barcode"),
        ("]E340063813339", "has 11 digits, which does not fit a ]E3 barcode"),
        ("]E0SO-1042", "holds digits only"),
    ],
)
def test_bad_ean_upc(raw: str, words: str) -> None:
    with pytest.raises(MalformedScanError, match=words):
        normalize(raw)


def test_fourteen_digits_with_bad_check_digit_pass_through() -> None:
    scan = normalize("14006381333939")
    assert (scan.gtin, scan.is_gs1, scan.text) == (None, False, "14006381333939")


def test_non_ean_symbology_with_bad_check_digit_passes_through() -> None:
    scan = normalize("]C04006381333932")
    assert (scan.gtin, scan.symbology, scan.text) == (None, "]C0", "4006381333932")


def test_add_on_read_alone_names_no_item() -> None:
    scan = normalize("]E212345")
    assert (scan.gtin, scan.symbology, scan.text) == (None, "]E2", "12345")


# --- station codes and empty input -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "symbology", "text"),
    [
        ("SO-1042", None, "SO-1042"),
        ("A-01-03\r\n", None, "A-01-03"),
        ("OP-0001", None, "OP-0001"),
        ("t-0007", None, "t-0007"),  # case is kept as sent
        ("]C0T-0007", "]C0", "T-0007"),
        ("]A0RMA-77", "]A0", "RMA-77"),
        ("]Q1OP-0001", "]Q1", "OP-0001"),
        ("1042", None, "1042"),
        ("]]weird", None, "]]weird"),  # no AIM id after all
    ],
)
def test_station_codes_pass_through(raw: str, symbology: str | None, text: str) -> None:
    assert normalize(raw) == Scan(raw=raw, text=text, symbology=symbology, is_gs1=False)


@pytest.mark.parametrize("raw", ["", "   ", "\r\n", "\t", "]C1", "]E0\r\n"])
def test_empty_scan(raw: str) -> None:
    with pytest.raises(MalformedScanError, match="sent nothing readable"):
        normalize(raw)
