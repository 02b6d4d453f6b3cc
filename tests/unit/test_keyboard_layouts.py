"""A US-set scanner on an AZERTY or QWERTZ keyboard: its scans are read as it meant them."""

from __future__ import annotations

import pytest

from app.scanning.keyboard import read_as_meant

GS = "\x1d"


def on_azerty(meant: str) -> str:
    """What a US-set scanner types on a French AZERTY keyboard (digit row without Shift)."""
    table = str.maketrans("1234567890-aqzwAQZW.", "&é\"'(-è_çà)qawzQAWZ:")
    return meant.translate(table)


def on_qwertz(meant: str) -> str:
    """What a US-set scanner types on a German QWERTZ keyboard."""
    return meant.translate(str.maketrans("-yzYZ/", "ßzyZY-"))


@pytest.mark.parametrize(
    "meant",
    ["4006381333931", "SO-100001", "A-01-1", "T-0007", f"0104006381333931{GS}10LOT7"],
)
def test_azerty_digit_row_is_read_as_digits(meant: str) -> None:
    typed = on_azerty(meant)
    assert not any(c.isdigit() for c in typed)  # what the person at the bench would have seen
    assert read_as_meant(typed, "auto") == (meant, "azerty")
    assert read_as_meant(typed, "azerty") == (meant, "azerty")


def test_azerty_example_by_hand() -> None:
    assert read_as_meant("é&&'(-è_çà", "auto") == ("2114567890", "azerty")
    assert read_as_meant("Q)à&)&", "auto") == ("A-01-1", "azerty")


@pytest.mark.parametrize("meant", ["SO-1042", "A-01-1", "WZ-12"])
def test_qwertz_dash_and_yz_swap(meant: str) -> None:
    typed = on_qwertz(meant)
    assert "ß" in typed
    assert read_as_meant(typed, "auto") == (meant, "qwertz")


def test_qwertz_without_a_telltale_needs_the_setting() -> None:
    # "YONE1" may be a real code: only the station setting can say it is ZONE1.
    assert read_as_meant("YONE1", "auto") == ("YONE1", None)
    assert read_as_meant("YONE1", "qwertz") == ("ZONE1", "qwertz")


@pytest.mark.parametrize(
    "text",
    [
        "4006381333931",  # digits as digits: nothing to map
        "SO-100001",
        "R&D",  # a real ampersand
        "Café",  # a word with an accent is no digit row
        "été",
        "Größe M",  # German text in a QR code from a scanner set up for QWERTZ
        "Straße",
        "https://example.com/?a=1&b=2",
        "",
    ],
)
def test_auto_leaves_right_scans_alone(text: str) -> None:
    assert read_as_meant(text, "auto") == (text, None)


def test_us_never_maps() -> None:
    assert read_as_meant("é&&'(", "us") == ("é&&'(", None)


def test_a_digit_in_the_scan_means_the_azerty_scanner_is_set_right() -> None:
    # With layout = "azerty" a second scanner set up for AZERTY still reads right.
    assert read_as_meant("A-01-1", "azerty") == ("A-01-1", None)


def test_gs_is_left_alone() -> None:
    typed = on_azerty("0104006381333931") + GS + on_azerty("10LOT7")
    meant, layout = read_as_meant(typed, "auto")
    assert (meant.split(GS), layout) == (["0104006381333931", "10LOT7"], "azerty")
