"""The GS1 language: dates, counts, measures, SSCC, Digital Link, and what a bad code is told."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.errors import MalformedScanError
from app.scanning.normalize import GS, normalize

GTIN = "04006381333931"
SSCC = "376104250021234569"


# --- dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "attribute"),
    [("11", "production"), ("15", "best_before"), ("17", "expiry")],
)
def test_each_date_lands_in_its_own_field(field: str, attribute: str) -> None:
    scan = normalize(f"]C101{GTIN}{field}270615")
    assert getattr(scan, attribute) == date(2027, 6, 15)
    others = {"production", "best_before", "expiry"} - {attribute}
    assert all(getattr(scan, other) is None for other in others)


@pytest.mark.parametrize(
    ("yymm00", "last_day"),
    [
        ("270200", date(2027, 2, 28)),
        ("280200", date(2028, 2, 29)),  # a leap year
        ("270400", date(2027, 4, 30)),
        ("271200", date(2027, 12, 31)),
    ],
)
def test_day_00_is_the_last_day_of_the_month(yymm00: str, last_day: date) -> None:
    scan = normalize(f"(01){GTIN}(15){yymm00}(17){yymm00}(11){yymm00}")
    assert (scan.best_before, scan.expiry, scan.production) == (last_day, last_day, last_day)


@pytest.mark.parametrize(
    "raw",
    [
        f"]C101{GTIN}17270230",  # 30 February
        f"]C101{GTIN}11271301",  # month 13
        f"]C101{GTIN}15270431",  # 31 April
        f"(01){GTIN}(17)279999",
    ],
)
def test_impossible_dates_are_named(raw: str) -> None:
    with pytest.raises(MalformedScanError, match=r"which is not a real date — scan it again"):
        normalize(raw)


def test_a_date_cut_short_says_so() -> None:
    with pytest.raises(MalformedScanError) as caught:
        normalize(f"]C101{GTIN}172712")
    words = caught.value.message
    assert "Field (17) Expiration date" in words
    assert "“2712”, which is not a real date: it is cut short, 4 of the 6 digits" in words


# --- counts and measures ---------------------------------------------------------------


def test_count_ai_37_in_a_logistic_unit() -> None:
    scan = normalize(f"]C100{SSCC}{GS}02{GTIN}3724")
    assert (scan.sscc, scan.gtin, scan.count) == (SSCC, GTIN, 24)


def test_variable_count_ai_30_wins_over_ai_37() -> None:
    assert normalize(f"]C101{GTIN}30007{GS}3712").count == 7


@pytest.mark.parametrize(
    ("ai", "data", "kg"),
    [("3103", "001234", "1.234"), ("3102", "012345", "123.45"), ("3100", "000012", "12")],
)
def test_net_weight_ai_310n(ai: str, data: str, kg: str) -> None:
    scan = normalize(f"]C101{GTIN}{ai}{data}")
    assert scan.weight_kg == Decimal(kg)
    assert [(m.ai, m.value, m.unit) for m in scan.measures] == [(ai, Decimal(kg), "kg")]


def test_other_measures_keep_their_units_and_no_net_weight() -> None:
    # A roll of cloth: 2.50 m long, 1.4 m wide, 3.5 m² in area; in pounds gross, 12.5 lb.
    scan = normalize("(01)94006381333934(3112)000250(3121)000014(3141)000035(3401)000125")
    assert scan.weight_kg is None
    assert {m.ai: (m.value, m.unit) for m in scan.measures} == {
        "3112": (Decimal("2.50"), "m"),
        "3121": (Decimal("1.4"), "m"),
        "3141": (Decimal("3.5"), "m²"),
        "3401": (Decimal("12.5"), "lb"),
    }
    assert scan.measures[0].title == "Length or first dimension, metres"


def test_variable_measure_item_with_weight_expiry_and_lot_from_a_databar() -> None:
    # GS1 DataBar Expanded on a cheese: indicator digit 9 says "variable measure".
    scan = normalize("]e0019061414100002231030017501727053110BATCH7")
    assert scan.gtin == "90614141000022"
    assert (scan.weight_kg, scan.expiry, scan.lot) == (
        Decimal("1.750"),
        date(2027, 5, 31),
        "BATCH7",
    )


# --- SSCC ------------------------------------------------------------------------------


def test_sscc_alone() -> None:
    scan = normalize(f"]C100{SSCC}")
    assert (scan.is_gs1, scan.sscc, scan.gtin, scan.count) == (True, SSCC, None, None)


def test_sscc_with_wrong_check_digit() -> None:
    with pytest.raises(MalformedScanError, match=r"shipping container code \(SSCC\) .* wrong"):
        normalize(f"00{SSCC[:-1]}0")


def test_sscc_cut_short() -> None:
    with pytest.raises(MalformedScanError, match=r"\(00\) .* cut short: it has 12 of the 18"):
        normalize(f"]C100{SSCC[:12]}")


def test_location_number_with_wrong_check_digit() -> None:
    with pytest.raises(MalformedScanError, match=r"location number \(GLN\) 4006381000012"):
        normalize("]C14144006381000012")


# --- Digital Link ----------------------------------------------------------------------


def test_digital_link_with_weight_and_production_date_in_the_query() -> None:
    scan = normalize(f"]Q1https://id.gs1.org/01/{GTIN}/10/L7?3103=000450&11=270100")
    assert scan.digital_link
    assert (scan.gtin, scan.lot, scan.weight_kg, scan.production) == (
        GTIN,
        "L7",
        Decimal("0.450"),
        date(2027, 1, 31),
    )


def test_digital_link_cut_short_after_a_qualifier() -> None:
    with pytest.raises(MalformedScanError, match=r"ends with field \(21\) but no value"):
        normalize(f"https://id.gs1.org/01/{GTIN}/21")


# --- fields a scanner or a printer got wrong -------------------------------------------


def test_unknown_field_number() -> None:
    with pytest.raises(MalformedScanError) as caught:
        normalize(f"]C101{GTIN}2312345")
    assert caught.value.message.startswith(
        "“2312345” in this code does not start with a GS1 field number (AI) that exists"
    )
    assert "scan it again" in caught.value.message


def test_gtin_cut_short() -> None:
    with pytest.raises(MalformedScanError, match=r"\(01\) .* cut short: it has 9 of the 14"):
        normalize("]C101040063813")


def test_a_lot_running_on_past_its_length_blames_the_missing_separator() -> None:
    # No GS after the lot: its 20 characters fill up and the serial runs into the next field.
    with pytest.raises(MalformedScanError) as caught:
        normalize(f"]C101{GTIN}10L2027-0001-A21SERIAL-00042")
    words = caught.value.message
    assert "Field (10) Batch or lot number holds “L2027-0001-A21SERIAL-000…”" in words
    assert "longer than the 20 characters it may have" in words
    assert "left out the GS separator" in words


def test_the_same_lot_with_its_separator_reads() -> None:
    scan = normalize(f"]C101{GTIN}10L2027-0001-A{GS}21SERIAL-00042")
    assert (scan.lot, scan.serial) == ("L2027-0001-A", "SERIAL-00042")


@pytest.mark.parametrize(
    "raw",
    [f"]C101{GTIN}3103", f"]C101{GTIN}310300012", f"(01){GTIN}(3103)12"],
)
def test_a_weight_cut_short(raw: str) -> None:
    with pytest.raises(MalformedScanError, match=r"\(3103\) Net weight|\(3103\) .* empty"):
        normalize(raw)


def test_control_characters_in_bad_data_are_named() -> None:
    with pytest.raises(MalformedScanError) as caught:
        normalize(f"]C101{GTIN}10A\x1eB")
    assert "“<RS>B” in this code does not start with a GS1 field number" in caught.value.message
