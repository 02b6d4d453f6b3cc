"""Receipt, cash report and manifest arithmetic: tax out of tax-inclusive prices, rounding,
tenders and change, refunds, and what the drawer should hold at the end of a session."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.domain.errors import ValidationError
from app.domain.receipts import (
    CashReport,
    Manifest,
    ManifestPackage,
    Receipt,
    ReceiptLine,
    ServiceTotal,
    TaxLine,
    Tender,
    TenderKind,
    TenderTotal,
    tax_in_gross,
)

AT = datetime(2026, 11, 26, 13, 5, tzinfo=UTC)
CASH, CARD, VOUCHER = TenderKind.CASH, TenderKind.CARD, TenderKind.VOUCHER


def _receipt(lines: tuple[ReceiptLine, ...], *tenders: Tender, number: str = "R-1") -> Receipt:
    return Receipt(number, AT, "TILL-1", "Ana", lines, tenders)


def _line(price: int, rate: int = 1900, qty: int = 1, discount: int = 0) -> ReceiptLine:
    return ReceiptLine("SKU", "Thing", qty, price, rate, discount)


# ----------------------------------------------------------------------------- tax


def test_tax_is_taken_out_of_the_gross() -> None:
    assert tax_in_gross(1190, 1900) == 190  # 11.90 at 19 %: 10.00 + 1.90
    assert tax_in_gross(1070, 700) == 70
    assert tax_in_gross(1200, 2000) == 200
    assert tax_in_gross(999, 0) == 0
    assert tax_in_gross(0, 1900) == 0


def test_rounding_is_half_away_from_zero() -> None:
    # At 20 % the tax is a sixth of the gross: 0.03 holds 0.005, 0.09 holds 0.015.
    assert tax_in_gross(3, 2000) == 1
    assert tax_in_gross(9, 2000) == 2
    assert tax_in_gross(-3, 2000) == -1
    assert tax_in_gross(-9, 2000) == -2
    assert tax_in_gross(2, 2000) == 0  # 0.0033 rounds down
    assert tax_in_gross(4, 2000) == 1  # 0.0067 rounds up


def test_tax_per_rate_not_per_line() -> None:
    ten = _receipt(tuple(_line(99) for _ in range(10)), Tender(CARD, 990))
    one = _receipt((_line(990),), Tender(CARD, 990))
    # Per line, 0.99 at 19 % holds 0.158 → 0.16, ten times 1.60; per rate 9.90 holds 1.58.
    assert ten.tax_minor == one.tax_minor == 158
    assert ten.taxes == (TaxLine(1900, 832, 158, 990),)


def test_totals_with_two_rates_and_a_discount() -> None:
    receipt = _receipt(
        (
            _line(1290, qty=2),  # 25.80
            _line(1490, discount=149),  # 13.41
            _line(1999, rate=700),
            _line(250, rate=700, qty=3),  # 7.50
        ),
        Tender(CARD, 2000),
        Tender(CASH, 5000),
    )
    assert receipt.subtotal_minor == 6819
    assert receipt.discount_minor == 149
    assert receipt.total_minor == receipt.gross_minor == 6670
    assert receipt.taxes == (TaxLine(1900, 3295, 626, 3921), TaxLine(700, 2569, 180, 2749))
    assert receipt.tax_minor == 806
    assert receipt.net_minor == 5864
    assert receipt.net_minor + receipt.tax_minor == receipt.total_minor
    assert receipt.item_count == 7


# ----------------------------------------------------------------------------- tenders


def test_change_comes_from_cash() -> None:
    receipt = _receipt((_line(3330),), Tender(CASH, 5000))
    assert receipt.tendered_minor == 5000
    assert receipt.change_minor == 1670
    split = _receipt((_line(3330),), Tender(VOUCHER, 2000, "GIFT-7"), Tender(CASH, 1500))
    assert split.change_minor == 170
    exact = _receipt((_line(3330),), Tender(CARD, 3330))
    assert exact.change_minor == 0


def test_card_and_voucher_give_no_change() -> None:
    with pytest.raises(ValidationError, match="card and voucher payments give no change"):
        _receipt((_line(3330),), Tender(CARD, 5000))
    with pytest.raises(ValidationError, match="card and voucher payments give no change"):
        _receipt((_line(3330),), Tender(CASH, 100), Tender(VOUCHER, 3400))


def test_a_receipt_is_paid_in_full() -> None:
    with pytest.raises(ValidationError, match="not paid in full: 3000 of 3330"):
        _receipt((_line(3330),), Tender(CASH, 3000))
    with pytest.raises(ValidationError, match="tenders must be positive"):
        _receipt((_line(3330),), Tender(CASH, 5000), Tender(CARD, -1670))


def test_refund() -> None:
    receipt = _receipt(
        (_line(1290, qty=-1), _line(1999, rate=700, qty=-1, discount=-200)),
        Tender(CARD, -3089),
    )
    assert receipt.is_refund
    assert receipt.total_minor == -3089
    assert receipt.change_minor == 0
    assert receipt.taxes == (TaxLine(1900, -1084, -206, -1290), TaxLine(700, -1681, -118, -1799))
    with pytest.raises(ValidationError, match="refund of 1290 paid back as 1000"):
        _receipt((_line(1290, qty=-1),), Tender(CASH, -1000))
    with pytest.raises(ValidationError, match="tenders must be negative"):
        _receipt((_line(1290, qty=-1),), Tender(CASH, 1290))


def test_an_exchange_nets_out() -> None:
    receipt = _receipt((_line(1290, qty=-1), _line(1490)), Tender(CASH, 500))
    assert receipt.total_minor == 200
    assert receipt.change_minor == 300
    assert not receipt.is_refund


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (lambda: _line(100, qty=0), "quantity of 0"),
        (lambda: _line(-100), "negative price"),
        (lambda: _line(100, discount=101), "more than the line is worth"),
        (lambda: _line(100, discount=-10), "wrong sign"),
        (lambda: _line(100, qty=-1, discount=10), "wrong sign"),
        (lambda: _line(100, rate=10000), "tax rate"),
    ],
)
def test_impossible_lines_are_refused(line: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        line()  # type: ignore[operator]


def test_receipt_time_is_utc_and_currency_iso() -> None:
    with pytest.raises(ValidationError, match="must be in UTC"):
        Receipt("R", datetime(2026, 1, 1), "T", "O", (_line(1),), (Tender(CASH, 1),))
    cet = timezone(timedelta(hours=1))
    with pytest.raises(ValidationError, match="must be in UTC"):
        Receipt("R", datetime(2026, 1, 1, tzinfo=cet), "T", "O", (_line(1),), (Tender(CASH, 1),))
    with pytest.raises(ValidationError, match="not an ISO 4217 code"):
        Receipt("R", AT, "T", "O", (_line(1),), (Tender(CASH, 1),), currency="€")
    with pytest.raises(ValidationError, match="has no lines"):
        Receipt("R", AT, "T", "O", (), ())


# ----------------------------------------------------------------------------- cash report


def _session() -> list[Receipt]:
    return [
        _receipt((_line(3330),), Tender(CASH, 5000), number="R-1"),  # cash 33.30
        _receipt((_line(1290, qty=2),), Tender(CARD, 2580), number="R-2"),
        _receipt(
            (_line(1999, rate=700),), Tender(VOUCHER, 1000), Tender(CASH, 2000), number="R-3"
        ),  # voucher 10.00, cash 9.99
        _receipt((_line(1290, qty=-1),), Tender(CASH, -1290), number="R-4"),  # cash refund
        _receipt((_line(500, qty=-1),), Tender(CARD, -500), number="R-5"),  # card refund
    ]


def test_cash_report_from_a_sessions_receipts() -> None:
    report = CashReport.from_receipts(
        _session(),
        station="TILL-1",
        operator="Ana",
        opened_at=AT,
        closed_at=AT + timedelta(hours=8),
        opening_float_minor=15000,
        counted_cash_minor=19500,
        paid_out_minor=500,
    )
    assert report.sales == (
        TenderTotal(CASH, 2, 3330 + 999),
        TenderTotal(CARD, 1, 2580),
        TenderTotal(VOUCHER, 1, 1000),
    )
    assert report.refunds == (TenderTotal(CASH, 1, 1290), TenderTotal(CARD, 1, 500))
    assert report.sales_minor == 7909
    assert report.refunds_minor == 1790
    assert report.net_takings_minor == 6119
    # 150.00 float + 43.29 cash sales − 12.90 cash refund − 5.00 paid out
    assert report.expected_cash_minor == 17539
    assert report.difference_minor == 19500 - 17539
    assert (report.receipts, report.first_receipt, report.last_receipt) == (5, "R-1", "R-5")
    assert sum(t.gross_minor for t in report.taxes) == report.net_takings_minor


def test_short_drawer_and_uncounted_drawer() -> None:
    common: dict[str, object] = {
        "station": "T",
        "operator": "O",
        "opened_at": AT,
        "closed_at": AT,
        "opening_float_minor": 10000,
        "sales": (TenderTotal(CASH, 3, 4500),),
        "refunds": (),
    }
    short = CashReport(counted_cash_minor=14450, **common)  # type: ignore[arg-type]
    assert short.expected_cash_minor == 14500
    assert short.difference_minor == -50
    assert CashReport(counted_cash_minor=None, **common).difference_minor is None  # type: ignore[arg-type]


def test_cash_report_refuses_nonsense() -> None:
    with pytest.raises(ValidationError, match="closes before it opens"):
        CashReport("T", "O", AT, AT - timedelta(seconds=1), 0, (), (), None)
    with pytest.raises(ValidationError, match="never negative"):
        CashReport("T", "O", AT, AT, -100, (), (), None)
    with pytest.raises(ValidationError, match="is in USD, the session in EUR"):
        CashReport.from_receipts(
            [Receipt("R", AT, "T", "O", (_line(1),), (Tender(CASH, 1),), currency="USD")],
            station="T",
            operator="O",
            opened_at=AT,
            closed_at=AT,
            opening_float_minor=0,
            counted_cash_minor=None,
        )


# ----------------------------------------------------------------------------- manifest


def test_manifest_totals() -> None:
    manifest = Manifest(
        "DHL",
        date(2026, 11, 26),
        (
            ManifestPackage("SO-1", "00340434161094042557", "340123450000000015", 1250, "Paket"),
            ManifestPackage("SO-2", "00340434161094042564", "", 800, "Paket"),
            ManifestPackage("SO-3", "JJD000390007828287", "340123450000000022", 5300, "Express"),
        ),
    )
    assert manifest.package_count == 3
    assert manifest.total_weight_g == 7350
    assert manifest.by_service == (ServiceTotal("Paket", 2, 2050), ServiceTotal("Express", 1, 5300))
    with pytest.raises(ValidationError, match="negative weight"):
        ManifestPackage("SO-4", "X", "", -1, "Paket")
