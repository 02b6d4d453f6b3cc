"""What a printed document shows, as plain data: the core fills these, printing/ lays them out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    line1: str
    line2: str = ""
    city: str = ""
    postcode: str = ""
    region: str = ""
    country: str = ""  # ISO 3166 alpha-2

    def lines(self) -> list[str]:
        """The address as printed, one non-empty line each."""
        place = " ".join(p for p in (self.postcode, self.city) if p)
        out = [self.name, self.line1, self.line2, place, self.region, self.country]
        return [line for line in out if line]


@dataclass(frozen=True, slots=True)
class CompanyProfile:
    name: str
    address: Address
    phone: str = ""
    email: str = ""
    website: str = ""
    returns_url: str = ""  # the returns page; a slip's QR code points here with the order number
    logo_path: str | None = None
    paper: str = "A4"  # A4, LETTER or 4x6
    locale: str = "en_GB"


@dataclass(frozen=True, slots=True)
class SlipLine:
    sku: str
    gtin: str
    description: str
    ordered: int
    shipped: int

    @property
    def backordered(self) -> int:
        return max(0, self.ordered - self.shipped)


@dataclass(frozen=True, slots=True)
class PackingSlip:
    order_number: str
    placed_at: datetime
    channel: str
    ship_to: Address
    bill_to: Address | None
    lines: tuple[SlipLine, ...]
    packages: int = 1
    packed_by: str = ""
    station: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
