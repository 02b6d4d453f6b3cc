"""Packing slip PDFs per second (a typical 1–8 line order), one core."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from app.domain.documents import Address, CompanyProfile, PackingSlip, SlipLine
from bench.figures import Figure


def _slip(i: int) -> PackingSlip:
    lines = tuple(
        SlipLine(f"NW-{i:05d}{n}", f"0406123000{n:03d}1", f"Classic water bottle, navy {n}", 2, 2)
        for n in range(1 + i % 8)
    )
    to = Address("Anna Müller", "Friedrichstraße 12", city="Berlin", postcode="10115", country="DE")
    return PackingSlip(f"SO-{100000 + i}", datetime.now(UTC), "Webshop", to, to, lines)


def run(seconds: float = 3.0) -> list[Figure]:
    from printing.packing_slip import render_packing_slip

    company = CompanyProfile(
        "Northwind Outfitters GmbH",
        Address("Northwind Outfitters GmbH", "Lagerstraße 12", city="Hamburg", country="DE"),
        returns_url="https://northwind.example/returns",
    )
    out = []
    for paper in ("A4", "4x6"):
        render_packing_slip(_slip(0), company, paper=paper)  # fonts registered, caches warm
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            render_packing_slip(_slip(n), company, paper=paper)
            n += 1
        rate = n / (time.perf_counter() - start)
        out.append(Figure(f"packing slip PDF {paper}", rate, "/s", 100, higher_is_better=True))
    return out
