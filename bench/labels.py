"""4×6 shipping labels per second, as PDF and as ZPL (one label a job, one core)."""

from __future__ import annotations

import time
from collections.abc import Callable

from app.domain.documents import Address, CompanyProfile
from app.domain.labels import ShippingLabel
from app.domain.sscc import make_sscc
from bench.figures import Figure

TARGET = 300  # labels/s: a label never holds up the packer, even when a whole wave prints


def _label(i: int) -> ShippingLabel:
    warehouse = Address("Northwind Outfitters GmbH", "Lagerstraße 12", city="Hamburg",
                        postcode="20095", country="DE")  # fmt: skip
    to = Address(f"Anna Müller {i}", "Friedrichstraße 12", "3. OG links", "Berlin", "10115",
                 country="DE")  # fmt: skip
    return ShippingLabel(
        ship_from=warehouse,
        ship_to=to,
        carrier="DHL Paket",
        service="Standard",
        weight_g=850 + i % 5000,
        package_no=1 + i % 3,
        package_count=3,
        tracking_number=f"JJD00{340434161094000 + i}",
        sscc=make_sscc(3, "4012345", i % 10**9),
        order_number=f"SO-{100000 + i}",
        reference=f"PO-{i % 9999}",
        company_prefix_length=7,
    )


def _rate(render: Callable[[int], bytes], seconds: float) -> float:
    render(0)  # fonts registered, caches warm
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        render(n)
        n += 1
    return n / (time.perf_counter() - start)


def run(seconds: float = 3.0) -> list[Figure]:
    from printing.labels import render_shipping_label
    from printing.zpl import shipping_label_zpl

    company = CompanyProfile(
        "Northwind Outfitters GmbH",
        Address("Northwind Outfitters GmbH", "Lagerstraße 12", city="Hamburg", country="DE"),
    )
    pdf = _rate(lambda i: render_shipping_label(_label(i), company), seconds)
    zpl = _rate(lambda i: shipping_label_zpl(_label(i), company), seconds)
    return [
        Figure("shipping label 4×6 PDF", pdf, "/s", TARGET, higher_is_better=True),
        Figure("shipping label 4×6 ZPL", zpl, "/s", TARGET, higher_is_better=True),
    ]
