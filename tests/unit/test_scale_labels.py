"""Variable-measure EAN-13s from a shop counter scale: weight or price inside the barcode."""

from __future__ import annotations

from decimal import Decimal

import pytest
from biip.checksums import gs1_price_weight_check_digit

from app.config import CodesConfig, parse_config
from app.domain.errors import ConfigError, MalformedScanError
from app.scanning.gtin import gtin_check_digit
from app.scanning.normalize import normalize
from app.scanning.rules import StationCodes, default_codes
from app.scanning.weights import ScaleLayout, ScaleLayouts

# Labels as the default layouts (GS1 Germany's 28/29 weight and 22/23 price, US-style 02
# price) print them; the item's own code is the label with the value zeroed.
CHEESE = "2812345012550"  # 28, PLU 1234, weight check 5, 01255 g, EAN check 0
CHEESE_ITEM = "02812340000002"
DELI = "2247118004997"  # 22, PLU 4711, price check 8, 004.99 EUR, EAN check 7
DELI_ITEM = "02247110000003"
BAKERY = "0212345703496"  # 02, PLU 12345, price check 7, 03.49, EAN check 6
BAKERY_ITEM = "00212345000007"


def label(body: str) -> str:
    """A 12-digit label body with its EAN-13 check digit, as the scale prints it."""
    return body + str(gtin_check_digit(body))


def test_price_check_digits_match_the_gs1_examples() -> None:
    # GS1 General Specifications §7.9.3 and §7.9.4 work these two through by hand.
    assert gs1_price_weight_check_digit("2875") == 9
    assert gs1_price_weight_check_digit("14685") == 6


def test_weight_label() -> None:
    scan = normalize(CHEESE)
    assert (scan.gtin, scan.item_number, scan.weight_kg, scan.price_minor) == (
        CHEESE_ITEM,
        "1234",
        Decimal("1.255"),
        None,
    )
    assert scan.text == CHEESE
    assert not scan.is_gs1


def test_price_label() -> None:
    scan = normalize(f"]E0{DELI}")
    assert (scan.gtin, scan.item_number, scan.price_minor, scan.weight_kg) == (
        DELI_ITEM,
        "4711",
        499,
        None,
    )


@pytest.mark.parametrize("raw", [BAKERY, BAKERY[1:], f"]E0{BAKERY}", f"]E0{BAKERY[1:]}"])
def test_prefix_02_as_ean13_and_as_upca(raw: str) -> None:
    scan = normalize(raw)
    assert (scan.gtin, scan.item_number, scan.price_minor) == (BAKERY_ITEM, "12345", 349)


def test_two_weighings_of_one_item_are_one_item() -> None:
    value = "02000"
    heavier = label("281234" + str(gs1_price_weight_check_digit(value)) + value)
    first, second = normalize(CHEESE), normalize(heavier)
    assert first.gtin == second.gtin == CHEESE_ITEM
    assert (first.weight_kg, second.weight_kg) == (Decimal("1.255"), Decimal("2.000"))


def test_a_wrong_weight_check_digit_is_refused() -> None:
    # The weight's check digit says 5; this label has 4 and a right EAN check digit.
    bad = label("281234401255")
    with pytest.raises(MalformedScanError) as caught:
        normalize(bad)
    assert caught.value.message.startswith(
        f"The weight in scale label {bad} does not match its check digit"
    )
    assert "weigh the item again for a new label" in caught.value.message


def test_a_wrong_ean_check_digit_is_an_ordinary_misread() -> None:
    with pytest.raises(MalformedScanError, match=f"{CHEESE[:-1]}1 has a wrong check digit"):
        normalize(CHEESE[:-1] + "1")


def test_prefix_without_a_layout_is_an_ordinary_product_number() -> None:
    code = "2012345678903"  # prefix 20: a fixed in-store item, no measure in it
    scan = normalize(code)
    assert (scan.gtin, scan.weight_kg, scan.price_minor, scan.item_number) == (
        "0" + code,
        None,
        None,
        None,
    )


def test_a_station_with_its_own_layouts() -> None:
    # A Swedish-style layout: prefix 23, six-digit PLU, weight in grams without check digit.
    layouts = StationCodes(default_codes().rules, ScaleLayouts.from_config({"23": "23IIIIIIWWWW"}))
    scan = normalize(label("231234560750"), codes=layouts)
    assert (scan.item_number, scan.weight_kg) == ("123456", Decimal("0.750"))
    assert normalize(CHEESE, codes=layouts).weight_kg is None  # 28 has no layout there


def test_no_layouts_at_all() -> None:
    codes = StationCodes(default_codes().rules, ScaleLayouts({}))
    assert normalize(CHEESE, codes=codes).gtin == "0" + CHEESE


def test_layouts_from_the_station_file() -> None:
    cfg = parse_config({"codes": {"scale": {"21": "21IIIIIPPPPP"}}})
    layouts = StationCodes.from_config(cfg.codes)
    scan = normalize(label("210004201234"), codes=layouts)
    assert (scan.item_number, scan.price_minor) == ("00042", 1234)


@pytest.mark.parametrize(
    ("prefix", "layout", "words"),
    [
        ("28", "28IIIICWWWW", "twelve in all"),
        ("28", "29IIIICWWWWW", "must be the prefix"),
        ("19", "19IIIICWWWWW", "must be the prefix"),
        ("28", "28IIIIXWWWWW", "must be the prefix"),
        ("28", "28IIWWIIWWWW", "one unbroken run"),
        ("28", "28IIIIWWWPPP", "either W"),
        ("28", "28IIIIIIIIII", "either W"),
        ("28", "28IICIIWWWWW", "one unbroken run"),
        ("28", "28IIICWWWWWW", "only for a value of 4 or 5"),
        ("28", "28IIICCWWWWW", "may have one C"),
    ],
)
def test_impossible_layouts_are_refused(prefix: str, layout: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        ScaleLayout.parse(prefix, layout)
    assert "[codes.scale]" in caught.value.message


def test_an_impossible_layout_in_the_station_file_names_the_file() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"codes": {"scale": {"28": "28WWWW"}}}, source="/etc/station.toml")
    assert "/etc/station.toml" in caught.value.message
    assert "'28WWWW'" in caught.value.message


def test_the_default_layouts_all_parse() -> None:
    assert ScaleLayouts.from_config(CodesConfig().scale)
