"""GTIN check digits, validation, UPC-E expansion, and the one GTIN-14 form."""

from __future__ import annotations

import pytest

from app.domain.errors import MalformedScanError
from app.scanning.gtin import gtin_check_digit, is_valid_gtin, to_gtin14, upce_to_upca


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("400638133393", 1),  # EAN-13 4006381333931
        ("03600029145", 2),  # UPC-A 036000291452
        ("9638507", 4),  # EAN-8 96385074
        ("1400638133393", 8),  # GTIN-14 14006381333938
        ("37610425002123456", 9),  # SSCC 376104250021234569
    ],
)
def test_check_digit(body: str, digit: int) -> None:
    assert gtin_check_digit(body) == digit


@pytest.mark.parametrize("body", ["", "40063813339X", "４００６"])
def test_check_digit_of_something_not_a_number_is_refused(body: str) -> None:
    with pytest.raises(MalformedScanError, match="is not a number"):
        gtin_check_digit(body)


@pytest.mark.parametrize(
    "code", ["4006381333931", "036000291452", "96385074", "14006381333938", "00036000291452"]
)
def test_valid_gtins(code: str) -> None:
    assert is_valid_gtin(code)


@pytest.mark.parametrize(
    "code",
    [
        "4006381333932",  # wrong check digit
        "036000291453",
        "96385075",
        "40063813339",  # 11 digits
        "425261",  # UPC-E is no GTIN until expanded
        "",
        "400638133393A",
        "٤٠٠٦٣٨١٣٣٣٩٣١",  # Arabic-Indic digits: str.isdigit() is True, a barcode never is
    ],
)
def test_invalid_gtins(code: str) -> None:
    assert not is_valid_gtin(code)


@pytest.mark.parametrize("upce", ["04252614", "0425261", "425261"])
def test_upce_expands_to_upca(upce: str) -> None:
    assert upce_to_upca(upce) == "042100005264"


def test_upce_with_number_system_1_and_other_last_digit() -> None:
    assert upce_to_upca("06543217") == "065100004327"


@pytest.mark.parametrize(
    ("upce", "words"),
    [
        ("04252615", "wrong check digit"),
        ("24252614", "starts with 0 or 1"),
        ("42526", "not a UPC-E code"),
        ("042526140", "not a UPC-E code"),
        ("0425A61", "not a UPC-E code"),
    ],
)
def test_bad_upce_is_refused(upce: str, words: str) -> None:
    with pytest.raises(MalformedScanError, match=words):
        upce_to_upca(upce)


@pytest.mark.parametrize(
    ("code", "gtin14"),
    [
        ("4006381333931", "04006381333931"),  # EAN-13
        ("036000291452", "00036000291452"),  # UPC-A
        ("0036000291452", "00036000291452"),  # the same UPC-A as EAN-13
        ("00036000291452", "00036000291452"),  # and as GTIN-14
        ("96385074", "00000096385074"),  # EAN-8
        ("14006381333938", "14006381333938"),  # GTIN-14 of a case
        ("04252614", "00042100005264"),  # UPC-E, 8 digits
        ("0425261", "00042100005264"),  # UPC-E without check digit
        ("425261", "00042100005264"),  # UPC-E without number system either
        (" 4006381333931\r\n", "04006381333931"),  # surrounding whitespace is not data
    ],
)
def test_to_gtin14(code: str, gtin14: str) -> None:
    assert to_gtin14(code) == gtin14


def test_eight_digits_valid_both_ways_read_as_ean8() -> None:
    # 01234565 is a valid EAN-8 and a valid UPC-E (of 012345000065): EAN-8 wins, as in biip.
    assert to_gtin14("01234565") == "00000001234565"


def test_wrong_check_digit_says_what_to_do() -> None:
    with pytest.raises(MalformedScanError) as caught:
        to_gtin14("4006381333932")
    assert caught.value.message == (
        "4006381333932 has a wrong check digit — "
        "scan it again or type the number printed under the bars"
    )


@pytest.mark.parametrize("code", ["036000291453", "96385075", "14006381333939", "04252615"])
def test_wrong_check_digit_in_every_length(code: str) -> None:
    with pytest.raises(MalformedScanError, match="wrong check digit"):
        to_gtin14(code)


@pytest.mark.parametrize(("code", "length"), [("12345", 5), ("40063813339", 11), ("1" * 15, 15)])
def test_length_that_is_no_gtin(code: str, length: int) -> None:
    with pytest.raises(MalformedScanError, match=f"this one has {length}"):
        to_gtin14(code)


@pytest.mark.parametrize("code", ["", "SO-1042", "4006381333931X"])
def test_non_digits_are_no_gtin(code: str) -> None:
    with pytest.raises(MalformedScanError, match="digits only"):
        to_gtin14(code)
