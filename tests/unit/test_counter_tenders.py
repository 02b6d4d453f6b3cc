"""Paying and paying back (app/domain/tenders.py), the drawer count (app/domain/cash.py) and the
scale's barcodes (app/services/counter/scale_codes.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.cash import CashMoveKind, DrawerBalance, check_move, count_total
from app.domain.errors import ValidationError
from app.domain.money import money, parse_money
from app.domain.receipts import TenderKind
from app.domain.tenders import (
    Payment,
    Refundable,
    cash_kept,
    check_payment,
    refund_to_original,
    settle,
)
from app.scanning.gtin import to_gtin14
from app.services.counter.returns import refund_share
from app.services.counter.scale_codes import (
    Measure,
    item_code,
    make_variable_measure,
    read_variable_measure,
)


def test_cash_gives_change_and_cards_do_not() -> None:
    paid = settle(1234, [Payment(TenderKind.CARD, 1000, "A1"), Payment(TenderKind.CASH, 500)])
    assert paid.change_minor == 266
    with pytest.raises(ValidationError, match="give no change"):
        settle(900, [Payment(TenderKind.CASH, 100), Payment(TenderKind.CARD, 1000, "A")])


def test_a_short_tender_names_what_is_still_due() -> None:
    with pytest.raises(ValidationError, match=r"EUR 2\.34 still due"):
        settle(1234, [Payment(TenderKind.CASH, 1000)])


def test_payments_the_counter_refuses() -> None:
    with pytest.raises(ValidationError, match="approval code"):
        check_payment(1000, Payment(TenderKind.CARD, 500))
    with pytest.raises(ValidationError, match=r"more than is still due \(EUR 10\.00\)"):
        check_payment(1000, Payment(TenderKind.CARD, 1500, "123"))
    with pytest.raises(ValidationError, match="above zero"):
        Payment(TenderKind.CASH, 0)
    with pytest.raises(ValidationError, match="Nothing is left to pay"):
        check_payment(0, Payment(TenderKind.CASH, 100))


payments_st = st.lists(
    st.tuples(st.sampled_from(list(TenderKind)), st.integers(1, 50_000)), min_size=1, max_size=6
)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 200_000), payments_st)
def test_tenders_minus_change_equal_the_total(
    total: int, raw: list[tuple[TenderKind, int]]
) -> None:
    # Take payments the way the counter does: each one checked against what is still due.
    taken: list[Payment] = []
    for kind, amount in raw:
        due = total - sum(p.amount_minor for p in taken)
        if due <= 0:
            break
        payment = Payment(kind, amount if kind is TenderKind.CASH else min(amount, due), "R")
        check_payment(due, payment)
        taken.append(payment)
    if sum(p.amount_minor for p in taken) < total:
        taken.append(Payment(TenderKind.CASH, total - sum(p.amount_minor for p in taken)))
    paid = settle(total, taken)
    assert paid.tendered_minor - paid.change_minor == total
    assert sum(cash_kept(taken, paid.change_minor)) == total


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(list(TenderKind)), st.integers(0, 10_000)), min_size=1),
    st.data(),
)
def test_refunds_never_exceed_what_each_tender_paid(
    tenders: list[tuple[TenderKind, int]], data: st.DataObject
) -> None:
    available = [Refundable(kind, f"R{i}", amount) for i, (kind, amount) in enumerate(tenders)]
    total = sum(t.available_minor for t in available)
    if total == 0:
        with pytest.raises(ValidationError):
            refund_to_original(1, available)
        return
    amount = data.draw(st.integers(1, total))
    parts = refund_to_original(amount, available)
    assert sum(p.amount_minor for p in parts) == amount
    for t in available:
        back = sum(p.amount_minor for p in parts if p.reference == t.reference)
        assert back <= t.available_minor
    with pytest.raises(ValidationError, match="more than the sale's payments can take back"):
        refund_to_original(total + 1, available)


@given(st.integers(0, 10**7), st.integers(1, 60), st.data())
def test_returning_units_one_by_one_never_refunds_more_than_the_line(
    gross: int, qty: int, data: st.DataObject
) -> None:
    returned, refunded = 0, 0
    while returned < qty:
        units = data.draw(st.integers(1, qty - returned))
        refunded += refund_share(gross, qty, returned, units)
        returned += units
        assert refunded <= gross
    assert refunded == gross  # every unit back: the line, exactly


def test_a_drawer_count_by_denomination() -> None:
    assert count_total("EUR", {5000: 2, 1000: 3, 200: 4, 1: 7}) == 13807
    with pytest.raises(ValidationError, match=r"EUR 0\.03 is not a EUR note or coin"):
        count_total("EUR", {3: 1})
    with pytest.raises(ValidationError, match="count them again"):
        count_total("EUR", {100: -1})
    balance = DrawerBalance(10000, 5000, 1000, 200, 3000)
    assert balance.expected_minor == 11200
    assert balance.difference(11000) == -200


def test_cash_moves_need_a_reason_and_cash_in_the_drawer() -> None:
    with pytest.raises(ValidationError, match="reason"):
        check_move(CashMoveKind.PAID_IN, 100, " ", 0)
    with pytest.raises(ValidationError, match=r"should only hold EUR 1\.00"):
        check_move(CashMoveKind.PAID_OUT, 101, "Bank drop", 100)


def test_money_words_and_typed_amounts() -> None:
    assert money(123456) == "EUR 1234.56"
    assert money(-5, "GBP") == "GBP -0.05"
    assert parse_money("12,9") == 1290
    assert parse_money("EUR 20") == 2000
    for bad in ("", "1.234", "abc", "1,2,3"):
        with pytest.raises(ValidationError, match="is not an amount"):
            parse_money(bad)


def test_a_scale_label_names_its_item_and_weight_or_price() -> None:
    label = make_variable_measure("21", 42, 342)  # item 42, 342 g
    read = read_variable_measure(to_gtin14(label))
    assert read is not None
    assert read.measure is Measure.WEIGHT
    assert read.value == 342
    assert read.item_gtin == item_code("21", 42)
    priced = read_variable_measure(to_gtin14(make_variable_measure("28", 42, 385)))
    assert priced is not None
    assert (priced.measure, priced.value) == (Measure.PRICE, 385)
    assert read_variable_measure(to_gtin14("4006381333931")) is None  # a normal EAN-13
