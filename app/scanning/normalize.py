"""Normalise whatever a scanner sent into one ``Scan``, before anything decides what it means.

A scanner may send an AIM symbology identifier first (``]E0``, ``]C1``, ``]d2``...), GS1 data
with ASCII 29 (GS) separators or a configured stand-in for them, the human-readable form with
parentheses, a GS1 Digital Link URL, a plain EAN/UPC, or one of the station's own codes
(``SO-1042``, ``A-01-03``, ``T-0007``). ``normalize`` strips the framing, parses GS1 data with
biip, and brings every trade-item number to a GTIN-14, so later code compares like with like.

How a code without an AIM identifier is read (the decisions, in order):

1. ``http(s)://`` with ``/01/<8-14 digits>`` or ``/00/<18 digits>`` in its path: a GS1 Digital
   Link; any other URL passes through as a plain code.
2. Starts with ``(NN)``: GS1 in human-readable form; it must parse.
3. Starts with ``01``/``02`` and 14 digits, or ``00`` and 18 digits, or starts with two digits
   and holds a GS separator: a GS1 element string; it must parse. Only these primary keys
   count: a 15-digit order number ``100000000012345`` would otherwise read as "lot
   0000000012345" under AI 10.
4. 8, 12, 13 or 14 digits: a GTIN. A wrong check digit on 8, 12 or 13 digits is an error
   (that is an EAN/UPC misread); on 14 digits it passes through, as internal numbers of that
   length exist. An 8-digit code is EAN-8 if its check digit fits, else UPC-E.
5. Anything else, including 18 bare digits (it could be an SSCC without its AI, or a carrier's
   tracking number; the resolver decides), passes through unchanged with ``is_gs1`` False.

With an AIM identifier the symbology decides: GS1 symbologies (``]C1 ]e0 ]d2 ]Q3 ]J1``) must
hold valid GS1 data, EAN/UPC and ITF-14 (``]E0 ]E3 ]E4 ]I1``) must hold a valid GTIN, and the
rest (``]C0`` Code 128, ``]A0`` Code 39, ``]Q1`` QR...) are read like a code without one,
except that a wrong check digit there passes through: the symbology says it is no EAN.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString, GS1ElementStrings
from biip.gs1_messages import GS1Message
from biip.symbology import GS1Symbology, SymbologyIdentifier

from app.domain.errors import MalformedScanError
from app.scanning.gtin import GTIN_LENGTHS, to_gtin14, upce_to_upca

logger = logging.getLogger(__name__)

GS = "\x1d"
"""ASCII 29, the GS1 field separator (FNC1 as a scanner transmits it)."""

_AGAIN = "scan it again; if it still fails, type the number printed under the bars"

_AIM_RE = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_HRI_RE = re.compile(r"\(\d{2,4}\)")
_BARE_GS1_RE = re.compile(r"0[12]\d{14}|00\d{18}")
_DIGITAL_LINK_PATH_RE = re.compile(r"/(?:01/(?:\d{8}|\d{12,14})|00/\d{18})(?:/|$)")
_DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})
_GTIN_LENGTHS_BY_SYMBOLOGY: dict[GS1Symbology | None, frozenset[int]] = {
    GS1Symbology.EAN_8: frozenset({8}),
    GS1Symbology.ITF_14: frozenset({14}),
    # ]E0 is EAN-13, UPC-A or UPC-E; some scanners send the last two unexpanded (12 or 8).
    GS1Symbology.EAN_13: frozenset({8, 12, 13}),
    GS1Symbology.EAN_13_WITH_ADD_ON: frozenset({12, 13}),
}
_CHECKED_KEYS = {
    "gtin_error": "product number (GTIN)",
    "sscc_error": "shipping container code (SSCC)",
    "gln_error": "location number (GLN)",
}


@dataclass(frozen=True, slots=True)
class Scan:
    """One scan, normalised. Only ``raw`` keeps what arrived; everything else is derived."""

    raw: str
    """Exactly what arrived, framing and all."""
    text: str
    """The payload: stripped, AIM identifier removed, GS separators as ``"\\x1d"`` in GS1 data.
    Non-GS1 codes keep their case and characters as sent."""
    symbology: str | None
    """The AIM symbology identifier (``"]C1"``, ``"]E0"``, ``"]d2"``...), or None."""
    is_gs1: bool
    """The payload carries GS1 Application Identifiers (element string, HRI or Digital Link).
    A plain EAN/UPC is not: it has ``gtin`` set and ``is_gs1`` False."""
    gtin: str | None = None
    """GTIN-14 of the trade item, from a plain EAN/UPC/GTIN or AI 01 (else AI 02)."""
    lot: str | None = None
    """AI 10, batch or lot."""
    serial: str | None = None
    """AI 21, serial number."""
    expiry: date | None = None
    """AI 17, expiry ("use by"); day 00 already resolved to the last day of the month."""
    best_before: date | None = None
    """AI 15, best before."""
    count: int | None = None
    """AI 30 (variable count) or, failing that, AI 37 (count of trade items)."""
    sscc: str | None = None
    """AI 00, the 18-digit serial shipping container code."""
    digital_link: bool = False
    """The payload was a GS1 Digital Link URL."""


def normalize(raw: str, *, gs_replacement: str | None = None) -> Scan:
    """Read ``raw`` as sent by a scanner and return it as a ``Scan``.

    ``gs_replacement`` is a stand-in some scanners are set to send for GS (``"|"``,
    ``"<GS>"``); it is turned into ``"\\x1d"`` in GS1 data only, so a station code that
    happens to contain it is left alone. Raises MalformedScanError, with words for the person
    at the bench, for an empty scan, a wrong check digit, or GS1 data that does not parse.
    """
    stripped = raw.strip()
    symbology: SymbologyIdentifier | None = None
    payload = stripped
    if _AIM_RE.match(stripped):
        try:
            symbology = SymbologyIdentifier.extract(stripped)
        except ParseError:
            symbology = None  # "]" and a letter that names no symbology: a code of our own
        else:
            payload = stripped[len(symbology) :].strip()
    if not payload:
        msg = "The scanner sent nothing readable — scan the code again."
        raise MalformedScanError(msg)

    gs1_text = payload.replace(gs_replacement, GS) if gs_replacement else payload
    # A leading GS is how some scanners send the FNC1 that starts GS1 data; a trailing one
    # closes the last field. Neither carries data.
    gs1_text = gs1_text.strip(GS)
    reading = _Reading(raw=raw, payload=payload, gs1_text=gs1_text, symbology=symbology)
    kind = symbology.gs1_symbology if symbology else None

    if kind in GS1Symbology.with_gs1_messages():
        if kind in GS1Symbology.with_gs1_digital_link_uri() and _is_url(payload):
            if not _DIGITAL_LINK_PATH_RE.search(urlsplit(payload).path):
                msg = f"The link {payload} names no product or shipment — {_AGAIN}."
                raise MalformedScanError(msg)
            return _digital_link(reading)
        return _gs1_message(reading)
    if kind in GS1Symbology.with_gtin():
        return _ean_upc(reading)
    if kind in (GS1Symbology.EAN_TWO_DIGIT_ADD_ON, GS1Symbology.EAN_FIVE_DIGIT_ADD_ON):
        return reading.plain()  # an add-on read on its own names no item
    return _guess(reading)


@dataclass(frozen=True, slots=True)
class _Reading:
    raw: str
    payload: str
    gs1_text: str
    symbology: SymbologyIdentifier | None

    @property
    def aim(self) -> str | None:
        return self.symbology.value if self.symbology else None

    def plain(self, gtin: str | None = None) -> Scan:
        return Scan(raw=self.raw, text=self.payload, symbology=self.aim, is_gs1=False, gtin=gtin)


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def _guess(reading: _Reading) -> Scan:
    payload, gs1_text = reading.payload, reading.gs1_text
    if _is_url(payload):
        if _DIGITAL_LINK_PATH_RE.search(urlsplit(payload).path):
            return _digital_link(reading)
        return reading.plain()
    if (
        _HRI_RE.match(payload)
        or _BARE_GS1_RE.match(gs1_text)
        or (GS in gs1_text and gs1_text[:2].isdigit())
    ):
        return _gs1_message(reading)
    if payload.isascii() and payload.isdigit() and len(payload) in GTIN_LENGTHS:
        try:
            return reading.plain(gtin=to_gtin14(payload))
        except MalformedScanError:
            if reading.symbology is None and len(payload) != 14:
                raise
    return reading.plain()


def _ean_upc(reading: _Reading) -> Scan:
    """An EAN/UPC or ITF-14 symbology: the data must be a GTIN with a right check digit."""
    digits = reading.payload
    kind = reading.symbology.gs1_symbology if reading.symbology else None
    if not (digits.isascii() and digits.isdigit()):
        msg = f"{digits!r} is not a product number: this barcode holds digits only — {_AGAIN}."
        raise MalformedScanError(msg)
    if kind is GS1Symbology.EAN_13_WITH_ADD_ON and len(digits) in (14, 15, 17, 18):
        # 13 digits (or UPC-A's 12) followed by a 2- or 5-digit add-on, e.g. a magazine issue.
        digits = digits[: 13 if len(digits) in (15, 18) else 12]
    if len(digits) not in _GTIN_LENGTHS_BY_SYMBOLOGY.get(kind, GTIN_LENGTHS):
        msg = (
            f"{reading.payload} has {len(reading.payload)} digits, which does not fit a "
            f"{reading.aim} barcode — {_AGAIN}."
        )
        raise MalformedScanError(msg)
    if kind is GS1Symbology.EAN_13 and len(digits) == 8:
        gtin = upce_to_upca(digits).zfill(14)  # ]E0 never carries EAN-8 (that is ]E4)
    else:
        gtin = to_gtin14(digits)
    return reading.plain(gtin=gtin)


def _gs1_message(reading: _Reading) -> Scan:
    text = reading.gs1_text
    try:
        if text.startswith("("):
            elements = GS1Message.parse_hri(text).element_strings
        else:
            elements = GS1Message.parse(text).element_strings
    except ParseError as exc:
        logger.info("GS1 data %r did not parse: %s", text, exc)
        raise MalformedScanError(_explain(text) or _generic_gs1_problem(text)) from exc
    return _from_elements(reading, elements, text=text, digital_link=False)


def _digital_link(reading: _Reading) -> Scan:
    url = reading.payload
    try:
        elements = GS1DigitalLinkURI.parse(url).element_strings
    except ParseError as exc:
        logger.info("GS1 Digital Link %r did not parse: %s", url, exc)
        msg = f"The GS1 Digital Link {url} has a part that is not valid — {_AGAIN}."
        raise MalformedScanError(msg) from exc
    return _from_elements(reading, elements, text=url, digital_link=True)


def _from_elements(
    reading: _Reading, elements: GS1ElementStrings, *, text: str, digital_link: bool
) -> Scan:
    for element in elements:
        if not element.value:
            # biip lets some variable-length fields, such as (30), be empty.
            raise MalformedScanError(_field_problem(f"{element.ai.ai}{GS}"))
        for attribute, name in _CHECKED_KEYS.items():
            if getattr(element, attribute):
                msg = (
                    f"The {name} {element.value} in this GS1 code has a wrong check digit "
                    f"— {_AGAIN}."
                )
                raise MalformedScanError(msg)

    def value(ai: str) -> str | None:
        element = elements.get(ai=ai)
        return element.value if element is not None else None

    def day(ai: str) -> date | None:
        element = elements.get(ai=ai)
        return element.date if element is not None else None

    trade_item = elements.get(ai="01") or elements.get(ai="02")
    count = value("30") or value("37")
    return Scan(
        raw=reading.raw,
        text=text,
        symbology=reading.aim,
        is_gs1=True,
        gtin=trade_item.gtin.as_gtin_14() if trade_item and trade_item.gtin else None,
        lot=value("10"),
        serial=value("21"),
        expiry=day("17"),
        best_before=day("15"),
        count=int(count) if count is not None else None,
        sscc=value("00"),
        digital_link=digital_link,
    )


def _generic_gs1_problem(text: str) -> str:
    shown = text.replace(GS, "<GS>")
    return f"The GS1 code {shown} could not be read — {_AGAIN}."


def _explain(text: str) -> str | None:
    """Find the field that made biip reject ``text`` and say what is wrong with it."""
    hri = text.startswith("(")
    fields = ["".join(pair) for pair in re.findall(r"\((\d+)\)([^(]*)", text)] if hri else [text]
    for field in fields:
        rest = field
        while rest:
            try:
                # In the human-readable form each field stands alone, so it must match whole.
                if hri:
                    GS1ElementString.parse(rest)
                    break
                element = GS1ElementString.extract(rest)
            except ParseError:
                return _field_problem(rest)
            if not element.value:
                return _field_problem(rest)
            rest = rest[len(element) :].lstrip(GS)
    return None


def _field_problem(rest: str) -> str:
    """Words for the GS1 field at the start of ``rest``, which biip could not read."""
    try:
        ai = GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        return (
            f"“{rest[:8]}” in this code does not start with a GS1 field number this station "
            f"knows — {_AGAIN}."
        )
    data = rest[len(ai.ai) :].split(GS, 1)[0]
    name = f"({ai.ai}) {ai.description}"
    if not data:
        return f"Field {name} in this code is empty — {_AGAIN}."
    if ai.ai in _DATE_AIS:
        return f"Field {name} holds “{data[:6]}”, which is not a real date — {_AGAIN}."
    return f"Field {name} holds “{data[:24]}”, which does not have the form {ai.format} — {_AGAIN}."
