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
   length exist. An 8-digit code is EAN-8 if its check digit fits, else UPC-E. A GTIN-13
   whose prefix (02, 20–29) has a scale layout is a scale label: its weight or price is read
   and ``gtin`` becomes the item's own code (``app.scanning.weights``).
5. Anything else, including 18 bare digits (it could be an SSCC without its AI, or a carrier's
   tracking number; the resolver decides), passes through unchanged with ``is_gs1`` False.

With an AIM identifier the symbology decides: GS1 symbologies (``]C1 ]e0 ]d2 ]Q3 ]J1``) must
hold valid GS1 data, EAN/UPC and ITF-14 (``]E0 ]E3 ]E4 ]I1``) must hold a valid GTIN, and the
rest (``]C0`` Code 128, ``]A0`` Code 39, ``]Q1`` QR...) are read like a code without one,
except that a wrong check digit there passes through: the symbology says it is no EAN.

GS1 element strings and Digital Links are read, and their faults worded, in
``app.scanning.gs1``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

from biip import ParseError
from biip.symbology import GS1Symbology, SymbologyIdentifier

from app.domain.errors import MalformedScanError
from app.scanning import gs1
from app.scanning.gs1 import AGAIN as _AGAIN
from app.scanning.gs1 import GS
from app.scanning.gs1 import Measure as Measure
from app.scanning.gtin import GTIN_LENGTHS, to_gtin14, upce_to_upca
from app.scanning.rules import StationCodes, default_codes

logger = logging.getLogger(__name__)

_AIM_RE = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_HRI_RE = re.compile(r"\(\d{2,4}\)")
_BARE_GS1_RE = re.compile(r"0[12]\d{14}|00\d{18}")
_DIGITAL_LINK_PATH_RE = re.compile(r"/(?:01/(?:\d{8}|\d{12,14})|00/\d{18})(?:/|$)")
_GTIN_LENGTHS_BY_SYMBOLOGY: dict[GS1Symbology | None, frozenset[int]] = {
    GS1Symbology.EAN_8: frozenset({8}),
    GS1Symbology.ITF_14: frozenset({14}),
    # ]E0 is EAN-13, UPC-A or UPC-E; some scanners send the last two unexpanded (12 or 8).
    GS1Symbology.EAN_13: frozenset({8, 12, 13}),
    GS1Symbology.EAN_13_WITH_ADD_ON: frozenset({12, 13}),
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
    production: date | None = None
    """AI 11, production date."""
    measures: tuple[Measure, ...] = ()
    """AI 31nn–36nn: variable measures (weights, lengths, areas, volumes) with their units."""
    weight_kg: Decimal | None = None
    """Net weight in kilograms: AI 310n, or the weight on a scale label."""
    price_minor: int | None = None
    """The price on a scale label, in minor units (cents)."""
    item_number: str | None = None
    """The item number (PLU) on a scale label; ``gtin`` is then the item's own code."""


def normalize(
    raw: str, *, gs_replacement: str | None = None, codes: StationCodes | None = None
) -> Scan:
    """Read ``raw`` as sent by a scanner and return it as a ``Scan``.

    ``gs_replacement`` is a stand-in some scanners are set to send for GS (``"|"``,
    ``"<GS>"``); it is turned into ``"\\x1d"`` in GS1 data only, so a station code that
    happens to contain it is left alone. ``codes`` are the station's scale label layouts and
    code rules (``app.scanning.rules.StationCodes``); None means the defaults. Raises
    MalformedScanError, with words for the person at the bench, for an empty scan, a wrong
    check digit, or GS1 data that does not parse.
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
    reading = _Reading(
        raw=raw,
        payload=payload,
        gs1_text=gs1_text,
        symbology=symbology,
        codes=default_codes() if codes is None else codes,
    )
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
    codes: StationCodes

    @property
    def aim(self) -> str | None:
        return self.symbology.value if self.symbology else None

    def plain(self, gtin: str | None = None) -> Scan:
        return Scan(raw=self.raw, text=self.payload, symbology=self.aim, is_gs1=False, gtin=gtin)

    def trade_item(self, gtin: str) -> Scan:
        """A plain EAN/UPC: a product, or a scale label when its prefix has a layout."""
        scale = self.codes.scale
        label = scale.read(gtin) if scale else None
        if label is None:
            return self.plain(gtin)
        return Scan(
            raw=self.raw,
            text=self.payload,
            symbology=self.aim,
            is_gs1=False,
            gtin=label.gtin,
            weight_kg=Decimal(label.weight_g) / 1000 if label.weight_g is not None else None,
            price_minor=label.price_minor,
            item_number=label.item_number,
        )


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
            gtin = to_gtin14(payload)
        except MalformedScanError:
            if (
                reading.symbology is None
                and len(payload) != 14
                and reading.codes.rules.kind_of(payload) is None
            ):
                raise  # a misread EAN, unless the company numbers its own codes this way
        else:
            return reading.trade_item(gtin)
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
    return reading.trade_item(gtin)


def _gs1_message(reading: _Reading) -> Scan:
    return _from_fields(reading, gs1.parse_element_string(reading.gs1_text), reading.gs1_text)


def _digital_link(reading: _Reading) -> Scan:
    url = reading.payload
    return _from_fields(reading, gs1.parse_digital_link(url), url, digital_link=True)


def _from_fields(
    reading: _Reading, fields: gs1.GS1Fields, text: str, *, digital_link: bool = False
) -> Scan:
    return Scan(
        raw=reading.raw,
        text=text,
        symbology=reading.aim,
        is_gs1=True,
        gtin=fields.gtin,
        lot=fields.lot,
        serial=fields.serial,
        expiry=fields.expiry,
        best_before=fields.best_before,
        count=fields.count,
        sscc=fields.sscc,
        digital_link=digital_link,
        production=fields.production,
        measures=fields.measures,
        weight_kg=fields.weight_kg,
    )


def warm_up() -> None:
    """Read a plain EAN-13 and a GS1 element string once: loading the GS1 parser and building
    its tables takes ~0.3 s, which a station spends once its window is shown rather than on
    the operator's first scan."""
    normalize("4006381333931")
    normalize("]C10104006381333931" + "10WARMUP")
