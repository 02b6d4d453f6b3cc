"""GS1 data read with biip: element strings (with GS separators or in the human-readable form)
and Digital Link URLs, into the fields the station uses, and words for what is wrong when
they do not parse.

Fields taken: GTIN (AI 01, else 02), SSCC (00), lot (10), serial (21), production (11),
best-before (15) and expiry (17) dates, day 00 meaning the last day of the month (biip does
this), counts (30, else 37), and the variable measures 31nn–36nn (weights, lengths, areas,
volumes) with their unit; net weight in kilograms (310n) gets a field of its own.

When biip refuses the data, ``explain`` walks it field by field to find the first one it cannot
read and says why: a wrong check digit, a date that does not exist, a field number (AI) that
does not exist, a field cut short (the label is damaged or the read was cut off), or a field
too long (usually a GS separator the scanner did not send).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qsl, unquote, urlsplit

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString, GS1ElementStrings
from biip.gs1_messages import GS1Message

from app.domain.errors import MalformedScanError
from app.scanning.trace import shown

logger = logging.getLogger(__name__)

GS = "\x1d"
AGAIN = "scan it again; if it still fails, type the number printed under the bars"

_DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})
_MEASURE_AIS = re.compile(r"3[1-6]\d\d")
_UNIT_RE = re.compile(r"\(([^)]+)\)")
_CHECKED_KEYS = {
    "gtin_error": "product number (GTIN)",
    "sscc_error": "shipping container code (SSCC)",
    "gln_error": "location number (GLN)",
}
_FORMAT_PART = re.compile(r"([NX])(\.\.)?(\d+)")
# The keys a Digital Link path starts with (GS1 Digital Link standard, section 4).
_PRIMARY_KEYS = frozenset(
    {
        *("00", "01", "253", "255", "401", "402", "414", "417"),
        *("8003", "8004", "8006", "8010", "8013", "8017", "8018"),
    }
)


@dataclass(frozen=True, slots=True)
class Measure:
    """A variable measure from AI 31nn–36nn: ``3103`` 001234 is 1.234 kg net weight."""

    ai: str
    title: str
    """What is measured, as GS1 names it (``"Net weight, kilograms"``)."""
    value: Decimal
    unit: str
    """``"kg"``, ``"m"``, ``"l"``, ``"lb"``, ``"m²"``..."""


@dataclass(frozen=True, slots=True)
class GS1Fields:
    gtin: str | None = None
    sscc: str | None = None
    lot: str | None = None
    serial: str | None = None
    production: date | None = None
    best_before: date | None = None
    expiry: date | None = None
    count: int | None = None
    measures: tuple[Measure, ...] = ()
    weight_kg: Decimal | None = None


def parse_element_string(text: str) -> GS1Fields:
    """Parse ``text`` (GS-separated, or ``(01)...`` human-readable); MalformedScanError if bad."""
    try:
        if text.startswith("("):
            elements = GS1Message.parse_hri(text).element_strings
        else:
            elements = GS1Message.parse(text).element_strings
    except ParseError as exc:
        logger.info("GS1 data %r did not parse: %s", text, exc)
        raise MalformedScanError(explain(text) or _generic_problem(text)) from exc
    return _fields(elements)


def parse_digital_link(url: str) -> GS1Fields:
    """Parse a GS1 Digital Link URL; MalformedScanError says which part is wrong."""
    try:
        elements = GS1DigitalLinkURI.parse(url).element_strings
    except ParseError as exc:
        logger.info("GS1 Digital Link %r did not parse: %s", url, exc)
        problem = _digital_link_problem(url)
        if problem is None:
            problem = f"The GS1 Digital Link {url} has a part that is not valid — {AGAIN}."
        raise MalformedScanError(problem) from exc
    return _fields(elements)


def _fields(elements: GS1ElementStrings) -> GS1Fields:
    for element in elements:
        if not element.value:
            # biip lets some variable-length fields, such as (30), be empty.
            raise MalformedScanError(_field_problem(f"{element.ai.ai}{GS}"))
        for attribute, name in _CHECKED_KEYS.items():
            if getattr(element, attribute):
                msg = (
                    f"The {name} {element.value} in this GS1 code has a wrong check digit "
                    f"— {AGAIN}."
                )
                raise MalformedScanError(msg)
    by_ai = {element.ai.ai: element for element in elements}

    def value(ai: str) -> str | None:
        element = by_ai.get(ai)
        return element.value if element is not None else None

    def day(ai: str) -> date | None:
        element = by_ai.get(ai)
        return element.date if element is not None else None

    trade_item = by_ai.get("01") or by_ai.get("02")
    count = value("30") or value("37")
    measures = tuple(
        Measure(ai, _title(e.ai), e.decimal, _unit(e.ai))
        for ai, e in by_ai.items()
        if _MEASURE_AIS.fullmatch(ai) and e.decimal is not None
    )
    net_kg = next((m.value for m in measures if m.ai.startswith("310")), None)
    return GS1Fields(
        gtin=trade_item.gtin.as_gtin_14() if trade_item and trade_item.gtin else None,
        sscc=value("00"),
        lot=value("10"),
        serial=value("21"),
        production=day("11"),
        best_before=day("15"),
        expiry=day("17"),
        count=int(count) if count is not None else None,
        measures=measures,
        weight_kg=net_kg,
    )


def _title(ai: GS1ApplicationIdentifier) -> str:
    return str(ai.description).split(" (")[0]


def _unit(ai: GS1ApplicationIdentifier) -> str:
    found = _UNIT_RE.search(ai.data_title)
    return found.group(1) if found else str(ai.data_title).lower().replace(" per ", "/")


def _digital_link_problem(url: str) -> str | None:
    """Words for what is wrong in a Digital Link biip refused, or None if nothing is found."""
    parts = [unquote(p) for p in urlsplit(url).path.split("/") if p]
    start = next((i for i, p in enumerate(parts) if p in _PRIMARY_KEYS), None)
    if start is None:
        return None
    pairs = list(zip(parts[start::2], parts[start + 1 :: 2], strict=False))
    if len(parts[start:]) % 2:
        ai = parts[-1]
        return (
            f"The GS1 Digital Link {url} ends with field ({ai}) but no value for it: the link "
            f"is cut short — {AGAIN}."
        )
    pairs += [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k.isdigit()]
    return explain("".join(f"({ai}){value}" for ai, value in pairs))


def _generic_problem(text: str) -> str:
    return f"The GS1 code {shown(text)} could not be read — {AGAIN}."


def explain(text: str) -> str | None:
    """Find the field that made biip reject ``text`` and say what is wrong with it."""
    hri = text.startswith("(")
    fields = ["".join(pair) for pair in re.findall(r"\((\d+)\)([^(]*)", text)] if hri else [text]
    for field in fields:
        rest = field
        previous: GS1ElementString | None = None  # the field just read, if no GS followed it
        while rest:
            try:
                # In the human-readable form each field stands alone, so it must match whole.
                if hri:
                    GS1ElementString.parse(rest)
                    break
                element = GS1ElementString.extract(rest)
            except ParseError:
                if previous is not None and _ran_over(previous):
                    return _too_long(previous.ai, previous.value + rest)
                return _field_problem(rest, whole=hri)
            if not element.value:
                return _field_problem(rest)
            rest = rest[len(element) :]
            previous = element if not rest.startswith(GS) else None
            rest = rest.lstrip(GS)
    return None


def _ran_over(element: GS1ElementString) -> bool:
    """A variable-length field that filled its whole length: it may have run on."""
    least, most, _ = _lengths(element.ai.format)
    return least < most and len(element.value) == most


def _too_long(ai: GS1ApplicationIdentifier, data: str) -> str:
    most = _lengths(ai.format)[1]
    return (
        f"Field ({ai.ai}) {ai.description} holds “{shown(data[:24])}…”, longer than the "
        f"{most} characters it may have: the scanner probably left out the GS separator after "
        "it. Scan it again; if it happens again, check the scanner on the scanner check screen."
    )


def _field_problem(rest: str, *, whole: bool = False) -> str:
    """Words for the GS1 field at the start of ``rest``, which biip could not read.

    ``whole``: ``rest`` is the whole field (human-readable form), not the field and the rest.
    """
    try:
        ai = GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        return (
            f"“{shown(rest[:8])}” in this code does not start with a GS1 field number (AI) "
            f"that exists — {AGAIN}."
        )
    data = rest[len(ai.ai) :] if whole else rest[len(ai.ai) :].split(GS, 1)[0]
    data = data.strip()
    name = f"({ai.ai}) {ai.description}"
    if not data:
        return f"Field {name} in this code is empty — {AGAIN}."
    if ai.ai in _DATE_AIS and len(data) >= 6 and data[:6].isdigit():
        return f"Field {name} holds “{data[:6]}”, which is not a real date — {AGAIN}."
    least, most, digits = _lengths(ai.format)
    if digits and data.isdigit() and 0 < len(data) < least:
        if ai.ai in _DATE_AIS:
            return (
                f"Field {name} holds “{data}”, which is not a real date: it is cut short, "
                f"{len(data)} of the 6 digits a date has (the label is damaged, or the scan "
                f"was cut off) — {AGAIN}."
            )
        return (
            f"Field {name} is cut short: it has {len(data)} of the {least} digits it needs "
            f"(the label is damaged, or the scan was cut off) — {AGAIN}."
        )
    if least < most < len(data):
        return _too_long(ai, data)
    return (
        f"Field {name} holds “{shown(data[:24])}”, which does not have the form "
        f"{ai.format} — {AGAIN}."
    )


def _lengths(fmt: str) -> tuple[int, int, bool]:
    """From a GS1 format such as ``N2+N14`` or ``N4+N3+N..15``: the data's least and most
    length, and whether it is digits only. Optional parts (in brackets) add to the most only."""
    least = most = 0
    digits = True
    for i, part in enumerate(fmt.split("+")):
        if i == 0:
            continue  # the AI itself
        found = _FORMAT_PART.search(part)
        if found is None:
            continue
        kind, variable, size = found.group(1), found.group(2), int(found.group(3))
        optional = part.startswith("[") or part.endswith("]")
        digits = digits and kind == "N"
        most += size
        if not optional:
            least += 1 if variable else size
    return least, most, digits
