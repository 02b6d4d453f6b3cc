"""Counter receipts as ESC/POS bytes: milliseconds per receipt (1–12 lines, a mix of languages),
on 80 mm and 58 mm paper, one core; and the one-off cost of importing python-escpos."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from app.domain.documents import Address, CompanyProfile
from app.domain.receipts import Receipt, ReceiptLine, Tender, TenderKind
from bench.figures import Figure, percentile

ROOT = Path(__file__).resolve().parents[1]
_NAMES = (
    "Merino wool hiking socks, medium",
    "Wanderführer Harz — Ausgabe 2026",
    "Trinkflasche 1 l, blau",
    "Чай чёрный, 100 г",
    "Trail mix 200 g",
    "Waterproof shell jacket with taped seams, size XL",
)


def _receipt(i: int) -> Receipt:
    lines = tuple(
        ReceiptLine(
            f"NW-{i:05d}{n}",
            _NAMES[(i + n) % len(_NAMES)],
            1 + (i + n) % 3,
            199 + 37 * n,
            1900 if n % 3 else 700,
            discount_minor=50 if n == 2 else 0,
        )
        for n in range(1 + i % 12)
    )
    total = sum(line.amount_minor for line in lines)
    tenders = (
        (Tender(TenderKind.CASH, total + 1000),) if i % 2 else (Tender(TenderKind.CARD, total),)
    )
    return Receipt(
        f"K1-{i:06d}",
        datetime.now(UTC),
        "TILL-1",
        "Ana Silva",
        lines,
        tenders,
        footer="Thank you for shopping with us!\nReturns within 30 days with this receipt.",
    )


def import_ms(runs: int = 3) -> float:
    """python-escpos's first import in a fresh process, as the first receipt of a day pays it."""
    code = (
        "import time; from printing.receipt import _escpos; t = time.perf_counter(); _escpos();"
        "print((time.perf_counter() - t) * 1000)"
    )
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(times)


def run(seconds: float = 2.0) -> list[Figure]:
    from printing.receipt import render_receipt

    company = CompanyProfile(
        "Northwind Outfitters",
        Address("Northwind Outfitters GmbH", "Lagerstraße 12", city="Hamburg", postcode="20095"),
        phone="+49 40 1234 5678",
    )
    receipts = [_receipt(i) for i in range(240)]
    out = []
    for width, paper in ((48, "80 mm"), (32, "58 mm")):
        render_receipt(receipts[0], company, width_chars=width)  # escpos imported, tables built
        times: list[float] = []
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            render_receipt(
                receipts[n % len(receipts)], company, width_chars=width, open_drawer=True
            )
            times.append((time.perf_counter() - t0) * 1000)
            n += 1
        out.append(
            Figure(
                f"receipt ESC/POS {paper} (mean)",
                statistics.fmean(times),
                "ms",
                5,
                note=f"{n} receipts of 1–12 lines, barcode, drawer kick",
            )
        )
        out.append(Figure(f"receipt ESC/POS {paper} p99", percentile(times, 99), "ms", 5))
    out.append(
        Figure(
            "python-escpos first import (once per process)",
            import_ms(),
            "ms",
            note="paid by the first receipt; not in the per-receipt figures",
        )
    )
    return out


if __name__ == "__main__":
    for figure in run():
        print(f"{figure.name:48} {figure.value:8.2f} {figure.unit:3} {figure.target_text()}")
