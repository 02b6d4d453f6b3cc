"""SSCC numbers: made with a right check digit, refused with words when they cannot be made."""

from __future__ import annotations

import pytest

from app.domain.errors import ValidationError
from app.domain.sscc import is_valid_sscc, make_sscc, sscc_hri


def test_gs1_example_sscc() -> None:
    # GS1 General Specifications example: extension 1, prefix 0614141, serial 234567890.
    assert make_sscc(1, "0614141", 234567890) == "106141412345678908"


@pytest.mark.parametrize("prefix", ["4006381", "40063812", "400638123", "4006381234"])
def test_every_prefix_length_gives_18_valid_digits(prefix: str) -> None:
    code = make_sscc(0, prefix, 42)
    assert len(code) == 18
    assert code.startswith("0" + prefix)
    assert is_valid_sscc(code)


def test_serial_reference_is_zero_padded_to_fill_the_number() -> None:
    assert make_sscc(1, "2345678", 1)[:17] == "1" + "2345678" + "000000001"


@pytest.mark.parametrize("prefix", ["123456", "12345678901", "12345a7", "", "１２３４５６７"])
def test_company_prefix_of_wrong_form_is_refused_in_words(prefix: str) -> None:
    with pytest.raises(ValidationError, match="company prefix") as caught:
        make_sscc(1, prefix, 1)
    assert "7 to 10 digits" in caught.value.message


def test_serial_reference_that_does_not_fit_is_refused() -> None:
    assert is_valid_sscc(make_sscc(1, "4006381234", 999_999))
    with pytest.raises(ValidationError, match="does not fit") as caught:
        make_sscc(1, "4006381234", 1_000_000)
    assert "0 to 999999" in caught.value.message
    with pytest.raises(ValidationError):
        make_sscc(1, "4006381", -1)


@pytest.mark.parametrize("digit", [-1, 10])
def test_extension_digit_is_one_digit(digit: int) -> None:
    with pytest.raises(ValidationError, match="extension digit"):
        make_sscc(digit, "4006381", 1)


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("106141412345678908", True),
        ("106141412345678907", False),  # wrong check digit
        ("30614141123456789", False),  # 17 digits
        ("3061414112345678920", False),
        ("30614141123456789X", False),
        ("", False),
    ],
)
def test_is_valid_sscc(code: str, valid: bool) -> None:
    assert is_valid_sscc(code) is valid


def test_printed_form_groups_the_digits() -> None:
    code = make_sscc(1, "2345678", 1)
    assert sscc_hri(code, 7) == f"(00) 1 2345678 000000001 {code[-1]}"
    assert sscc_hri(code) == f"(00) 1 2345678000000001 {code[-1]}"
