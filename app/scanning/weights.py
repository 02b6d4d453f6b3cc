"""Variable-measure EAN-13s, as a shop counter scale prints them: item number plus weight or
price inside the barcode (GS1 prefixes 02 and 20–29, "restricted circulation numbers").

What the digits mean is set per country or per company, so each prefix has a layout in the
station settings (``[codes.scale]``): twelve characters for the twelve digits before the
EAN-13 check digit,

- the prefix itself (``28``),
- ``I`` item number (the PLU the scale was programmed with),
- ``W`` weight in grams, or ``P`` price in minor units (cents), one run of either,
- ``C`` at most once: the price/weight check digit the GS1 General Specifications define
  (§7.9.3–7.9.4) for a 4- or 5-digit value.

``28IIIICWWWWW`` is GS1 Germany's weight layout: 28, PLU 1234, check digit, 01255 g. The item's
own code is the barcode with the value zeroed (both check digits recomputed); that is the code
a product carries in the station's barcode table, whatever the weight on today's label.

Layouts are read when the settings load (no biip import then); check digits are computed by
biip when a code is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from app.domain.errors import ConfigError, MalformedScanError

_LAYOUT_RE = re.compile(r"(?P<prefix>02|2\d)(?P<rest>[ICWP]{10})")
_SETTING = "fix it under [codes.scale] in the station settings"
_RESCAN = (
    "scan it again; if it still fails, the label is misprinted: weigh the item again for a "
    "new label"
)


@dataclass(frozen=True, slots=True)
class ScaleReading:
    """What a scale label says."""

    gtin: str
    """GTIN-14 of the item: the label's code with the value zeroed."""
    item_number: str
    weight_g: int | None
    price_minor: int | None


@dataclass(frozen=True, slots=True)
class ScaleLayout:
    """One prefix's layout, checked and cut into its parts."""

    prefix: str
    layout: str
    item: slice
    value: slice
    check: int | None
    """Index of the value's check digit, if the layout has one."""
    measure: str
    """``"weight"`` (grams) or ``"price"`` (minor units)."""

    @classmethod
    def parse(cls, prefix: str, layout: str) -> ScaleLayout:
        """Check a layout from the settings; a ConfigError says what is wrong with it."""
        shown = f"The scale layout {layout!r} for prefix {prefix!r}"
        match = _LAYOUT_RE.fullmatch(layout)
        if match is None or match["prefix"] != prefix:
            msg = (
                f"{shown} must be the prefix (02 or 20–29) and ten of I (item), W (weight in "
                f"g) or P (price in cents) and C (check digit): twelve in all, like "
                f"28IIIICWWWWW — {_SETTING}."
            )
            raise ConfigError(msg)
        item, value = _run(layout, "I"), _run(layout, "W") or _run(layout, "P")
        both = "W" in layout and "P" in layout
        if item is None or value is None or both:
            msg = (
                f"{shown} needs one unbroken run of I (item number) and one of either W "
                f"(weight) or P (price) — {_SETTING}."
            )
            raise ConfigError(msg)
        check = layout.find("C")
        if layout.count("C") > 1 or (check >= 0 and value.stop - value.start not in (4, 5)):
            msg = (
                f"{shown} may have one C (check digit), and only for a value of 4 or 5 "
                f"digits — {_SETTING}."
            )
            raise ConfigError(msg)
        measure = "weight" if "W" in layout else "price"
        return cls(prefix, layout, item, value, check if check >= 0 else None, measure)

    def read(self, ean13: str) -> ScaleReading:
        """Read a 13-digit code with this layout's prefix."""
        from biip.checksums import gs1_price_weight_check_digit

        from app.scanning.gtin import gtin_check_digit

        value = ean13[self.value]
        if self.check is not None and gs1_price_weight_check_digit(value) != int(ean13[self.check]):
            what = "weight" if self.measure == "weight" else "price"
            msg = f"The {what} in scale label {ean13} does not match its check digit — {_RESCAN}."
            raise MalformedScanError(msg)
        digits = list(ean13[:12])
        digits[self.value] = "0" * len(value)
        if self.check is not None:
            digits[self.check] = "0"  # the check digit of an all-zero value is 0
        body = "".join(digits)
        amount = int(value)
        return ScaleReading(
            gtin="0" + body + str(gtin_check_digit(body)),
            item_number=ean13[self.item],
            weight_g=amount if self.measure == "weight" else None,
            price_minor=amount if self.measure == "price" else None,
        )


def _run(layout: str, letter: str) -> slice | None:
    """Where the one unbroken run of ``letter`` is, or None (absent, or broken in two)."""
    start = layout.find(letter)
    if start < 0:
        return None
    stop = layout.rfind(letter) + 1
    if layout[start:stop] != letter * (stop - start):
        return None
    return slice(start, stop)


class ScaleLayouts:
    """The station's layouts by prefix; ``read`` picks the one a code needs."""

    __slots__ = ("_by_prefix",)

    def __init__(self, layouts: Mapping[str, ScaleLayout]) -> None:
        self._by_prefix = dict(layouts)

    @classmethod
    def from_config(cls, scale: Mapping[str, str]) -> ScaleLayouts:
        return cls({prefix: ScaleLayout.parse(prefix, lay) for prefix, lay in scale.items()})

    def __bool__(self) -> bool:
        return bool(self._by_prefix)

    def read(self, gtin14: str) -> ScaleReading | None:
        """The scale reading of a GTIN-14, or None when its prefix has no layout here."""
        if gtin14[0] != "0":
            return None
        layout = self._by_prefix.get(gtin14[1:3])
        return layout.read(gtin14[1:]) if layout is not None else None


@cache
def default_layouts() -> ScaleLayouts:
    """The layouts of a station with no ``[codes.scale]`` of its own."""
    from app.config import CodesConfig

    return ScaleLayouts.from_config(CodesConfig().scale)
