"""The company's own codes: the kind a code's shape says, and settings that cannot work."""

from __future__ import annotations

import pytest

from app.config import CodesConfig, parse_config
from app.domain.errors import ConfigError, UnknownBarcodeError
from app.scanning.normalize import normalize
from app.scanning.rules import CodeRules, default_rules
from app.services.resolve import kind_of


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("SO-100001", "order"),
        ("so-100001", "order"),  # case does not matter
        ("PL-2026-00418", "order"),  # a pick list opens its order
        ("T-0007", "tote"),
        ("A-01-1", "location"),
        ("AB-30-4", "location"),
        ("A-01-01-A", "location"),
        ("CART-12", "cart"),
        ("OP-1001", "operator"),
        ("RMA-2026-000731", "rma"),
        ("376104250021234569", "package"),  # an SSCC without its (00)
    ],
)
def test_demo_codes_have_their_kind(code: str, kind: str) -> None:
    assert default_rules().kind_of(code) == kind


@pytest.mark.parametrize("code", ["T-07", "A-1-1", "XYZ-9", "1042", "hello"])
def test_codes_that_fit_no_rule(code: str) -> None:
    assert default_rules().kind_of(code) is None


def test_a_code_that_fits_nothing_is_refused_with_what_would_fit() -> None:
    with pytest.raises(UnknownBarcodeError) as caught:
        kind_of(normalize("XYZ-9"))
    words = caught.value.message
    assert words.startswith("XYZ-9 is not a product number (GTIN) and not one of this company")
    assert "orders SO-…, PL-…" in words
    assert "badges OP-…" in words
    assert "check that you scanned the right label" in words
    assert "[codes]" in words


def test_gtins_and_gs1_need_no_rule() -> None:
    assert kind_of(normalize("4006381333931")) == "product"
    assert kind_of(normalize("]C100376104250021234569")) == "package"
    assert kind_of(normalize("(10)LOT7")) is None  # GS1 data naming no item: no rule needed


def test_look_up_anyway_when_the_station_says_so() -> None:
    rules = CodeRules.from_config(CodesConfig(unmatched="look-up"))
    assert kind_of(normalize("XYZ-9"), rules) is None


def test_rules_from_the_station_file_replace_the_defaults_of_their_kind() -> None:
    cfg = parse_config(
        {"codes": {"order": ["^\\d{3}-\\d{7}-\\d{7}$", "WEB"], "tote": "BOX-"}},
    )
    rules = CodeRules.from_config(cfg.codes)
    assert rules.kind_of("302-1234567-1234567") == "order"  # a marketplace order number
    assert rules.kind_of("WEB10442") == "order"
    assert rules.kind_of("SO-100001") is None  # no longer an order here
    assert rules.kind_of("box-17") == "tote"
    assert rules.kind_of("A-01-1") == "location"  # other kinds keep their defaults


def test_first_kind_wins() -> None:
    rules = CodeRules.from_config(CodesConfig(order=("X-",), tote=("X-",)))
    assert rules.kind_of("X-1") == "order"


@pytest.mark.parametrize(
    ("codes", "words"),
    [
        ({"tote": ["^T-(\\d+$"]}, r"'\^T-\(\\\\d\+\$' for totes .* not a valid regular expression"),
        ({"order": [""]}, "A pattern for orders under \\[codes\\] is empty"),
        ({"unmatched": "ignore"}, "must be reject or look-up"),
        ({"pallet": ["P-"]}, "unknown setting\\(s\\) pallet"),
    ],
)
def test_impossible_rules_are_refused_when_the_settings_load(
    codes: dict[str, object], words: str
) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        parse_config({"codes": codes}, source="station.toml")
    assert "station.toml" in caught.value.message


def test_the_settings_keep_only_what_differs_from_the_defaults() -> None:
    from app.config import StationConfig, to_toml

    cfg = parse_config({"codes": {"tote": ["BOX-"]}, "scanner": {"layout": "azerty"}})
    assert to_toml(cfg)["codes"] == {"tote": ["BOX-"]}
    assert to_toml(cfg)["scanner"] == {"layout": "azerty"}
    assert "codes" not in to_toml(StationConfig())


@pytest.mark.parametrize(
    ("scanner", "words"),
    [
        ({"layout": "dvorak"}, "layout 'dvorak' is not one of auto, us, azerty, qwertz"),
        ({"terminator": "ETX"}, "terminator 'ETX' is not one of CR, LF, CRLF, NONE"),
        ({"baudrate": 0}, "baudrate 0 must be above 0"),
    ],
)
def test_impossible_scanner_settings(scanner: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_config({"scanner": scanner})


def test_serial_scanner_settings_are_read() -> None:
    cfg = parse_config(
        {"scanner": {"serial_port": "/dev/ttyACM0", "baudrate": 115200, "terminator": "crlf"}}
    )
    assert (cfg.scanner.serial_port, cfg.scanner.baudrate, cfg.scanner.terminator) == (
        "/dev/ttyACM0",
        115200,
        "crlf",
    )
