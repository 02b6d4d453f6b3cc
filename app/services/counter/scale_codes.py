"""Variable-measure EAN-13s from a shop scale: the item and its weight or price in the barcode.

GS1 keeps EAN-13 prefixes 20–29 (and UPC-A number system 2, which reads as 02 in EAN-13) for
codes a company lays out itself. This module reads one simple, common layout:
``PP IIIII VVVVV C`` — a two-digit prefix, a five-digit item reference, a five-digit value and
the check digit. The prefix says what the value is (:data:`DEFAULT_LAYOUT`): grams or a price in
minor units. The product is found by the code with its value set to zeros (with the check digit
made again), the code the scale's item was registered under.

This default is to be replaced by the configurable variable-measure reading in app/scanning,
when that lands; until then the counter uses it for codes the barcode table does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.scanning.gtin import gtin_check_digit


class Measure(StrEnum):
    WEIGHT = "weight"  # the value is grams
    PRICE = "price"  # the value is the price in minor units


#: What the value of each prefix means (EAN-13's first two digits).
DEFAULT_LAYOUT: dict[str, Measure] = {
    "02": Measure.PRICE,
    "20": Measure.PRICE,
    "21": Measure.WEIGHT,
    "22": Measure.WEIGHT,
    "23": Measure.WEIGHT,
    "24": Measure.PRICE,
    "25": Measure.PRICE,
    "26": Measure.PRICE,
    "27": Measure.PRICE,
    "28": Measure.PRICE,
    "29": Measure.PRICE,
}


@dataclass(frozen=True, slots=True)
class VariableMeasure:
    item_gtin: str  # GTIN-14 of the item's code with the value zeroed: what the barcode table holds
    measure: Measure
    value: int  # grams, or minor units


def read_variable_measure(
    gtin14: str | None, layout: dict[str, Measure] | None = None
) -> VariableMeasure | None:
    """The item and value in a variable-measure GTIN-14, or None when it is not one."""
    if gtin14 is None or len(gtin14) != 14 or gtin14[0] != "0":
        return None
    ean = gtin14[1:]
    measure = (layout or DEFAULT_LAYOUT).get(ean[:2])
    if measure is None:
        return None
    body = ean[:7] + "00000"
    item = "0" + body + str(gtin_check_digit(body))
    return VariableMeasure(item, measure, int(ean[7:12]))


def make_variable_measure(prefix: str, item: int, value: int) -> str:
    """The EAN-13 a scale prints for ``item`` with ``value`` (tests, demo labels)."""
    body = f"{prefix}{item:05d}{value:05d}"
    return body + str(gtin_check_digit(body))


def item_code(prefix: str, item: int) -> str:
    """The GTIN-14 a scale item is registered under (its code with the value zeroed)."""
    body = f"{prefix}{item:05d}00000"
    return "0" + body + str(gtin_check_digit(body))
