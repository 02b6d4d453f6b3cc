"""The scanner check: what a scan was read as, in words, and which setting to change when
something about the scanner is off. No Qt, no database; the screen is ``ui/screens/
scanner_check.py``, the look-up of what a code names is ``app.services.scan_check``.

The advice comes from the scan's trace (``app.scanning.trace``) and what it was read as:

- no terminator: the scan ended by silence, so the station waited, and quick scans can merge;
- no AIM symbology identifier: the station must guess what kind of barcode it was;
- GS missing from a GS1 code: a variable-length field ran on into the next one, or the scanner
  sends a stand-in character the station has not been told about;
- AZERTY/QWERTZ digits: the scanner types for a US keyboard on another layout;
- slow keys: the scanner types so slowly that scans come close to being taken for typing (or
  were: keys that reached a text field faster than a person types);
- a prefix or suffix the station expects but the scanner did not send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.scanning.trace import ScanTrace, shown

if TYPE_CHECKING:
    from app.config import ScannerConfig
    from app.scanning.normalize import Scan

_NAMES = {
    "]C0": "Code 128",
    "]C1": "GS1-128",
    "]E0": "EAN-13 / UPC",
    "]E3": "EAN/UPC with add-on",
    "]E4": "EAN-8",
    "]I1": "ITF-14",
    "]I0": "Interleaved 2 of 5",
    "]A0": "Code 39",
    "]F0": "Codabar",
    "]G0": "Code 93",
    "]d1": "Data Matrix",
    "]d2": "GS1 DataMatrix",
    "]Q1": "QR Code",
    "]Q3": "GS1 QR Code",
    "]e0": "GS1 DataBar",
    "]L2": "PDF417",
    "]z0": "Aztec",
}
_GS_STAND_INS = "|~^#@§¤"
_FOLLOW_ON_AIS = ("10", "11", "13", "15", "17", "21", "30", "37", "240", "310", "392", "400")
_SCANNER_PACE_MS = 5.0  # a wedge scanner types a key every 1–2 ms
_PERSON_PACE_MS = 40.0  # the quickest typists


@dataclass(frozen=True, slots=True)
class Advice:
    """Something off about the scanner: what, and the setting that puts it right."""

    problem: str
    fix: str


def symbology_name(aim: str | None) -> str:
    """``"]C1"`` → ``"GS1-128 (]C1)"``; None → words saying the scanner did not tell."""
    if aim is None:
        return "not sent by the scanner"
    name = _NAMES.get(aim) or _NAMES.get(aim[:2] + "0")
    return f"{name} ({aim})" if name else aim


def describe_scan(scan: Scan) -> tuple[tuple[str, str], ...]:
    """The fields a scan was read into, as (label, value) pairs a person can check."""
    rows: list[tuple[str, str]] = [("Barcode type", symbology_name(scan.symbology))]
    if scan.digital_link:
        rows.append(("Form", "GS1 Digital Link"))
    elif scan.is_gs1:
        rows.append(("Form", "GS1 element string"))
    elif scan.item_number is not None:
        rows.append(("Form", "scale label"))
    for label, value in (
        ("GTIN", scan.gtin),
        ("SSCC", scan.sscc),
        ("Item number (scale)", scan.item_number),
        ("Lot", scan.lot),
        ("Serial", scan.serial),
        ("Production date", scan.production),
        ("Best before", scan.best_before),
        ("Expiry", scan.expiry),
        ("Count", scan.count),
        ("Net weight", f"{scan.weight_kg} kg" if scan.weight_kg is not None else None),
        (
            "Price",
            f"{scan.price_minor // 100}.{scan.price_minor % 100:02d}"
            if scan.price_minor is not None
            else None,
        ),
    ):
        if value is not None:
            rows.append((label, str(value)))
    for measure in scan.measures:
        if not measure.ai.startswith("310"):
            rows.append((measure.title, f"{measure.value} {measure.unit}"))
    if not scan.is_gs1 and scan.gtin is None:
        rows.append(("Text", shown(scan.text)))
    return tuple(rows)


def advise(
    trace: ScanTrace | None, scan: Scan | None, problem: str | None, settings: ScannerConfig
) -> tuple[Advice, ...]:
    """What to change, most important first; empty when the scanner is set up well."""
    found: list[Advice] = []
    if trace is not None:
        found += _typing_pace(trace, settings)
        found += _framing(trace, settings)
        found += _layout(trace, settings)
    found += _gs(trace, scan, problem, settings)
    if scan is not None and scan.symbology is None:
        found.append(
            Advice(
                "The scanner does not say which kind of barcode it read (no AIM symbology "
                "identifier such as ]C1 or ]E0), so the station has to guess from the "
                "characters: a plain Code 128 that holds digits can be taken for GS1.",
                "Turn on “transmit AIM ID” (symbology identifier) in the scanner's settings.",
            )
        )
    return tuple(found)


def _typing_pace(trace: ScanTrace, settings: ScannerConfig) -> list[Advice]:
    import statistics

    gaps = [g for g in trace.gaps_ms if g >= 0]
    keyboard_gaps = gaps[:-1] if trace.ended_by in ("enter", "tab") else gaps
    if trace.source == "typed":
        if len(gaps) >= 3 and statistics.median(gaps) < _PERSON_PACE_MS:
            slowest = max(gaps)
            return [
                Advice(
                    f"These keys came {statistics.median(gaps):.0f} ms apart (the slowest "
                    f"{slowest:.0f} ms): faster than a person types, but too slow for the "
                    f"station to take them for a scan (max_gap_ms = {settings.max_gap_ms:g}). "
                    "A scanner that types this slowly has its scans land in text fields.",
                    "Set the scanner's inter-character delay to 0 (keyboard speed: fast); or "
                    f"raise max_gap_ms under [scanner] to about {_suggest_gap(slowest):g}.",
                )
            ]
        return []
    if trace.source != "keyboard" or not keyboard_gaps:
        return []
    slowest = max(keyboard_gaps)
    if slowest < 0.6 * settings.max_gap_ms and statistics.median(keyboard_gaps) < 10:
        return []
    return [
        Advice(
            f"The scanner types slowly: up to {slowest:.0f} ms between keys, where scanners "
            f"type 1–2 ms apart. Past {settings.max_gap_ms:g} ms (max_gap_ms) a scan is taken "
            "for typing and lands in a text field.",
            "Set the scanner's inter-character delay to 0 (keyboard speed: fast); or raise "
            f"max_gap_ms under [scanner] to about {_suggest_gap(slowest):g}.",
        )
    ]


def _suggest_gap(slowest_ms: float) -> float:
    """A gap setting with room above the slowest key, but below the quickest person."""
    return float(min(max(25, round(slowest_ms * 1.5 / 5) * 5), _PERSON_PACE_MS - 5))


def _framing(trace: ScanTrace, settings: ScannerConfig) -> list[Advice]:
    found: list[Advice] = []
    if trace.ended_by is None and trace.source in ("keyboard", "serial"):
        wait = settings.end_timeout_ms
        found.append(
            Advice(
                "The scanner sends nothing after the code (no Enter, Tab or CR suffix): the "
                f"station waited {wait:g} ms of silence to know the scan was over, and two "
                "quick scans can run together.",
                "Set the scanner to send Enter (CR) after each code: scan the “add CR "
                "suffix” code in its programming guide.",
            )
        )
    sent = "".join(k.char for k in trace.keys)
    if settings.prefix and not sent.startswith(settings.prefix):
        found.append(
            Advice(
                f"The station expects the prefix “{shown(settings.prefix)}” before each code, "
                "and this scan came without it.",
                "Set the scanner to send that prefix, or clear prefix under [scanner].",
            )
        )
    body = sent.rstrip("\r\n")
    if settings.suffix and trace.source != "typed" and not body.endswith(settings.suffix):
        found.append(
            Advice(
                f"The station expects the suffix “{shown(settings.suffix)}” after each code, "
                "and this scan came without it.",
                "Set the scanner to send that suffix, or clear suffix under [scanner].",
            )
        )
    return found


def _layout(trace: ScanTrace, settings: ScannerConfig) -> list[Advice]:
    if trace.layout is None or settings.layout != "auto":
        return []
    if trace.layout == "azerty":
        what = "AZERTY (French)"
        seen = "& é \" ' ( - è _ ç à"
        country = "France"
    else:
        what = "QWERTZ (German)"
        seen = "ß for - and Z for Y"
        country = "Germany"
    return [
        Advice(
            f"The scanner types for a US keyboard, but this computer uses {what}: it typed "
            f"{seen} instead of the code's characters. The station read it right this time by "
            "recognising the pattern, which it cannot do for every code.",
            f"Set the scanner's keyboard country to {country} (or its “universal” / Alt+numpad "
            f'mode), or set layout = "{trace.layout}" under [scanner].',
        )
    ]


def _gs(
    trace: ScanTrace | None, scan: Scan | None, problem: str | None, settings: ScannerConfig
) -> list[Advice]:
    text = trace.text if trace is not None else (scan.raw if scan is not None else "")
    if problem is not None and not settings.gs_replacement:
        stand_in = _stand_in(text)
        if stand_in is not None:
            return [
                Advice(
                    f"The scanner seems to send “{stand_in}” where GS1 codes have their GS "
                    "separator, and the station has not been told.",
                    f'Set gs_replacement = "{stand_in}" under [scanner], or set the scanner to '
                    "send GS (ASCII 29) for FNC1.",
                )
            ]
    if problem is not None and "left out the GS separator" in problem:
        return [_gs_advice("A field of this GS1 code ran on past its length")]
    if scan is not None and scan.is_gs1 and not scan.digital_link and "\x1d" not in scan.text:
        swallowed = _swallowed_field(scan)
        if swallowed is not None:
            return [_gs_advice(swallowed)]
    return []


def _gs_advice(what: str) -> Advice:
    return Advice(
        f"{what}: the scanner did not send the GS separator that ends a variable-length field "
        "(lot, serial…), so the fields after it cannot be told apart.",
        "Set the scanner to send GS (ASCII 29, “FNC1 as GS”) in GS1 codes; if it can only send "
        "another character, set that as gs_replacement under [scanner].",
    )


def _stand_in(text: str) -> str | None:
    """A character that, read as GS, makes ``text`` parse as GS1 data."""
    from app.domain.errors import MalformedScanError
    from app.scanning.normalize import normalize

    for char in _GS_STAND_INS:
        if char in text:
            try:
                normalize(text, gs_replacement=char)
            except MalformedScanError:
                continue
            return char
    return None


def _swallowed_field(scan: Scan) -> str | None:
    """Words for a lot or serial at the end that holds another field, or None."""
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    for ai, value in (("10", scan.lot), ("21", scan.serial)):
        if not value or not scan.text.rstrip().endswith(value):
            continue
        for start in range(1, len(value) - 2):
            rest = value[start:]
            if not rest.startswith(_FOLLOW_ON_AIS):
                continue
            try:
                inner = GS1Message.parse(rest).element_strings[0]
            except ParseError:
                continue
            name = "lot" if ai == "10" else "serial"
            return (
                f"The {name} “{value}” seems to end in a second field, “{rest}”: "
                f"({inner.ai.ai}) {inner.ai.description} {inner.value}"
            )
    return None
