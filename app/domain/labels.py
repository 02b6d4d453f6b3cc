"""What a printed label shows, as plain data: the core fills these, printing/ lays them out.

Four labels a warehouse sticks on things: the shipping label on a parcel (the GS1 logistic
label, with its SSCC), product labels on items, bin labels on shelf locations and tote labels
on the crates pickers carry. Checking the values (an SSCC's check digit, a GTIN's) is the
renderers' job, so a bad value fails the print job with words, not the code that built it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.documents import Address


@dataclass(frozen=True, slots=True)
class ShippingLabel:
    """One parcel of a shipment: 4×6 inch, one per package."""

    ship_from: Address
    ship_to: Address
    carrier: str
    service: str
    weight_g: int
    package_no: int
    package_count: int
    tracking_number: str
    sscc: str  # 18 digits, check digit included (see app.domain.sscc.make_sscc)
    order_number: str
    reference: str = ""  # the customer's reference (PO number...)
    notes: str = ""  # a handling note printed on the label ("Fragile", "This way up")
    # Digits of the GS1 company prefix inside the SSCC: only groups the printed digits.
    company_prefix_length: int | None = None


@dataclass(frozen=True, slots=True)
class ProductLabel:
    """A label for one item: its GTIN as a barcode, name, SKU and optionally its price."""

    gtin: str  # GTIN-8, -12, -13 or -14
    name: str
    sku: str = ""
    price_minor: int | None = None  # in the currency's minor unit (cents); None: no price
    currency: str = ""  # ISO 4217, e.g. EUR


@dataclass(frozen=True, slots=True)
class BinLabel:
    """A shelf location: its code (scanned when picking and putting away) and its zone."""

    code: str
    zone: str = ""


@dataclass(frozen=True, slots=True)
class ToteLabel:
    """A tote or crate a picker carries through the warehouse."""

    code: str
