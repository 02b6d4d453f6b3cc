"""Counter receipts as the printer reads them: a tax-exclusive receipt adds the VAT before the
total, a reprint says COPY, and a refund to store credit names the account."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from escpos_stream import Barcode, Cut, Kick, parse

from app.domain.documents import Address, CompanyProfile
from app.domain.receipts import Receipt, ReceiptLine, Tender, TenderKind
from printing.receipt import render_receipt

COMPANY = CompanyProfile("Northwind", Address("Northwind", "Lagerstraße 12", city="Hamburg"))
AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def _net_receipt() -> Receipt:
    lines = (
        ReceiptLine("NW-1", "Workbench lamp", 2, 1000, 1900),  # net 20.00, VAT 3.80
        ReceiptLine("NW-2", "Manual", 1, 500, 700),  # net 5.00, VAT 0.35
    )
    return Receipt(
        "TILL-1-000009",
        AT,
        "TILL-1",
        "Chris Counter",
        lines,
        (Tender(TenderKind.CARD, 2915, "approval 123456"),),
        prices_include_tax=False,
        customer="Acme Werkstatt GmbH",
    )


def test_a_tax_exclusive_receipt_adds_the_vat_before_the_total() -> None:
    receipt = _net_receipt()
    assert receipt.total_minor == 2915
    stream = parse(render_receipt(receipt, COMPANY))
    text = stream.text
    assert "Prices excluding VAT" in text
    assert "Customer" in text
    assert "Acme Werkstatt GmbH" in text
    net = next(line.text for line in stream.lines if line.text.startswith("Net total"))
    vat = next(line.text for line in stream.lines if line.text.startswith("VAT "))
    assert net.endswith("25.00")
    assert vat.endswith("4.15")
    assert "EUR 29.15" in text
    assert "Card approval 123456" in text
    assert stream.of(Barcode)[0].text == "TILL-1-000009"
    assert stream.of(Cut)
    assert not stream.of(Kick)


def test_a_reprint_is_marked_copy_and_keeps_the_drawer_shut() -> None:
    copy = replace(_net_receipt(), copy=True)
    stream = parse(render_receipt(copy, COMPANY))
    assert "*** COPY ***" in stream.text
    assert "Not a receipt for payment" in stream.text
    assert stream.text.count("COPY") >= 2  # at the top and under the payments
    assert not stream.of(Kick)


def test_a_refund_to_store_credit_names_the_account() -> None:
    refund = Receipt(
        "TILL-1-000010",
        AT,
        "TILL-1",
        "Chris Counter",
        (ReceiptLine("NW-1", "Workbench lamp", -1, 1190, 1900),),
        (Tender(TenderKind.VOUCHER, -1190, "SC-TILL-1-00001"),),
        footer="Return of receipt TILL-1-000009",
    )
    text = parse(render_receipt(refund, COMPANY)).text
    assert "REFUND" in text
    assert "Refunded to voucher SC-TILL-1-00001" in text
    assert "Return of receipt TILL-1-000009" in text
