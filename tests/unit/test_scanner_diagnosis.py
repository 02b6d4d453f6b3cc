"""The scanner check's advice: each set-up fault is named with the setting that fixes it, and a
well set-up scanner gets no advice."""

from __future__ import annotations

from app.config import ScannerConfig
from app.domain.errors import MalformedScanError
from app.scanning.diagnosis import Advice, advise, describe_scan, symbology_name
from app.scanning.normalize import Scan, normalize
from app.scanning.trace import ScanTrace, SentKey, char_name, shown

SETTINGS = ScannerConfig()


def keyboard(
    typed: str,
    *,
    gap_ms: float = 1.0,
    ended_by: str | None = "enter",
    text: str | None = None,
    layout: str | None = None,
    source: str = "keyboard",
) -> ScanTrace:
    """The trace of a scanner typing ``typed`` ``gap_ms`` apart."""
    keys = [SentKey(c, None, 1000.0 + i * gap_ms) for i, c in enumerate(typed)]
    if ended_by in ("enter", "tab"):
        keys.append(SentKey("", ended_by, keys[-1].t_ms + gap_ms))
    return ScanTrace(source, tuple(keys), text if text is not None else typed, ended_by, layout)


def read(raw: str) -> tuple[Scan | None, str | None]:
    try:
        return normalize(raw), None
    except MalformedScanError as e:
        return None, e.message


def advice_for(trace: ScanTrace, settings: ScannerConfig = SETTINGS) -> tuple[Advice, ...]:
    scan, problem = read(trace.text)
    return advise(trace, scan, problem, settings)


def test_a_well_set_up_scanner_gets_no_advice() -> None:
    assert advice_for(keyboard("]E04006381333931")) == ()
    assert advice_for(keyboard("]C10104006381333931\x1d10LOT1\x1d21SN9")) == ()


def test_no_terminator() -> None:
    (advice,) = advice_for(keyboard("]C0SO-100001", ended_by=None))
    assert "sends nothing after the code" in advice.problem
    assert "waited 60 ms of silence" in advice.problem
    assert "add CR suffix" in advice.fix


def test_serial_scan_without_terminator() -> None:
    trace = ScanTrace("serial", (SentKey("x", None, 0.0),), "]C0T-0007", None)
    (advice,) = advice_for(trace)
    assert "Enter (CR)" in advice.fix


def test_no_aim_identifier() -> None:
    (advice,) = advice_for(keyboard("4006381333931"))
    assert "no AIM symbology identifier" in advice.problem
    assert "transmit AIM ID" in advice.fix


def test_gs_missing_makes_a_lot_swallow_the_serial() -> None:
    # 01 … 10 LOT1 21 SN9 without GS: biip reads lot "LOT121SN9" — possible, but suspicious.
    (gs,) = advice_for(keyboard("]C10104006381333931" + "10LOT121SN9"))
    assert "“LOT121SN9” seems to end in a second field, “21SN9”: (21) Serial number SN9" in (
        gs.problem
    )
    assert "did not send the GS separator" in gs.problem
    assert "FNC1 as GS" in gs.fix


def test_gs_missing_makes_a_lot_too_long() -> None:
    advice = advice_for(keyboard("]C10104006381333931" + "10L2027-0001-A21SERIAL-00042"))
    assert [a.problem.split(":")[0] for a in advice] == [
        "A field of this GS1 code ran on past its length"
    ]


def test_a_gs_stand_in_the_station_was_not_told_about() -> None:
    (advice,) = advice_for(keyboard("]C10104006381333931|10LOT1|21SN9|17271231"))
    assert "seems to send “|” where GS1 codes have their GS separator" in advice.problem
    assert 'gs_replacement = "|"' in advice.fix


def test_azerty_digits() -> None:
    (advice,) = advice_for(keyboard("]C0Q)à&)&", text="]C0A-01-1", layout="azerty"))
    assert "this computer uses AZERTY" in advice.problem
    assert "France" in advice.fix
    assert 'layout = "azerty"' in advice.fix


def test_qwertz_when_the_station_already_says_so_is_no_problem() -> None:
    trace = keyboard("]C0SOß1042", text="]C0SO-1042", layout="qwertz")
    assert advice_for(trace) != ()  # with auto: advice
    assert advice_for(trace, ScannerConfig(layout="qwertz")) == ()


def test_slow_scanner() -> None:
    (advice,) = advice_for(keyboard("]C0SO-100001", gap_ms=18.0))
    assert "types slowly: up to 18 ms between keys" in advice.problem
    assert "inter-character delay to 0" in advice.fix
    assert "max_gap_ms under [scanner] to about 25" in advice.fix


def test_a_scanner_too_slow_to_be_recognised_at_all() -> None:
    trace = keyboard("]C0SO-100001", gap_ms=30.0, ended_by="enter", source="typed")
    problems = [a.problem for a in advice_for(trace)]
    assert problems[0].startswith("These keys came 30 ms apart (the slowest 30 ms)")
    assert "too slow for the station to take them for a scan (max_gap_ms = 25)" in problems[0]


def test_a_person_typing_is_no_scanner_problem() -> None:
    trace = keyboard("]C0SO-1042", gap_ms=180.0, source="typed")
    assert advice_for(trace) == ()


def test_missing_prefix_and_suffix() -> None:
    settings = ScannerConfig(prefix="$", suffix="#")
    problems = [a.problem for a in advice_for(keyboard("]C0T-0007"), settings)]
    assert problems == [
        "The station expects the prefix “$” before each code, and this scan came without it.",
        "The station expects the suffix “#” after each code, and this scan came without it.",
    ]


def test_control_characters_are_named() -> None:
    assert [char_name(c) for c in "\x1d\r\n\t \x04é"] == [
        "<GS>",
        "<CR>",
        "<LF>",
        "<TAB>",
        "<SP>",
        "<EOT>",
        "é",
    ]
    assert shown("01\x1d10") == "01<GS>10"


def test_symbology_names() -> None:
    assert symbology_name("]C1") == "GS1-128 (]C1)"
    assert symbology_name("]d2") == "GS1 DataMatrix (]d2)"
    assert symbology_name("]E0") == "EAN-13 / UPC (]E0)"
    assert symbology_name("]X9") == "]X9"
    assert symbology_name(None) == "not sent by the scanner"


def test_what_a_scan_was_read_into() -> None:
    scan = normalize("]C10104006381333931\x1d3103001234\x1d1727123110LOT1")
    assert describe_scan(scan) == (
        ("Barcode type", "GS1-128 (]C1)"),
        ("Form", "GS1 element string"),
        ("GTIN", "04006381333931"),
        ("Lot", "LOT1"),
        ("Expiry", "2027-12-31"),
        ("Net weight", "1.234 kg"),
    )
    label = describe_scan(normalize("2247118004997"))
    assert ("Form", "scale label") in label
    assert ("Price", "4.99") in label
    assert describe_scan(normalize("T-0007"))[-1] == ("Text", "T-0007")
