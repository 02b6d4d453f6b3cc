"""The counter's pricing rule (app/domain/pricing.py): examples a person can check by hand, and
properties over many baskets with Hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.errors import PermissionDeniedError, ValidationError
from app.domain.pricing import (
    BasketTotals,
    PriceBasis,
    PricedLine,
    basket_discount_for,
    check_discount,
    price_basket,
    round_div,
    split,
)
from app.domain.receipts import Receipt, ReceiptLine, Tender, TenderKind, tax_in_gross, tax_on_net
from app.domain.roles import Role

RATES = (0, 700, 1900, 2000, 550)


def test_ten_socks_at_0_99_carry_the_tax_of_one_line_of_9_90() -> None:
    ten = price_basket([PricedLine(10, 99, 1900)], PriceBasis.INCLUSIVE)
    single = price_basket([PricedLine(1, 990, 1900)], PriceBasis.INCLUSIVE)
    assert ten.total_minor == single.total_minor == 990
    assert ten.tax_minor == single.tax_minor == 158  # 9.90 × 19/119 = 1.5807...


def test_tax_exclusive_list_adds_the_tax_once_per_rate() -> None:
    # Three lines of 0.05 net at 19 %: tax on 0.15 is 0.0285 → 0.03 (not 3 × 0.01).
    totals = price_basket([PricedLine(1, 5, 1900)] * 3, PriceBasis.EXCLUSIVE)
    assert totals.net_minor == 15
    assert totals.tax_minor == 3
    assert totals.total_minor == 18
    assert [x.tax_minor for x in totals.lines] == [1, 1, 1]
    assert sum(x.gross_minor for x in totals.lines) == totals.total_minor


def test_a_weighed_line_is_rounded_once() -> None:
    # 0.342 kg of cheese at 12.90/kg = 4.4118 → 4.41
    line = PricedLine(1, 1290, 700, grams=342)
    assert line.amount_minor == 441
    assert PricedLine(1, 1290, 700, grams=343).amount_minor == 442  # 4.4247


def test_an_embedded_price_is_taken_as_printed() -> None:
    assert PricedLine(1, 9999, 700, price_minor=385).amount_minor == 385


def test_a_basket_discount_is_spread_over_the_lines_and_rates() -> None:
    lines = [PricedLine(1, 1000, 1900), PricedLine(1, 3000, 700)]
    off = basket_discount_for(lines, percent_bp=1000)
    assert off == 400
    totals = price_basket(lines, PriceBasis.INCLUSIVE, off)
    assert [x.basket_discount_minor for x in totals.lines] == [100, 300]
    assert totals.total_minor == 3600
    assert [(r.rate_bp, r.gross_minor) for r in totals.rates] == [(1900, 900), (700, 2700)]


def test_rounding_is_half_away_from_zero() -> None:
    assert round_div(5, 10) == 1
    assert round_div(-5, 10) == -1
    assert round_div(4, 10) == 0
    assert tax_on_net(50, 1000) == 5
    assert tax_on_net(-25, 2000) == -5


def test_bad_lines_say_what_to_do() -> None:
    with pytest.raises(ValidationError, match="more than the line is worth"):
        PricedLine(1, 500, 1900, discount_minor=600)
    with pytest.raises(ValidationError, match="1 to 9999"):
        PricedLine(0, 500, 1900)
    with pytest.raises(ValidationError, match="more than the basket is worth"):
        basket_discount_for([PricedLine(1, 500, 1900)], amount_minor=501)


def test_discount_limits_follow_the_role() -> None:
    check_discount("Chris", frozenset({Role.COUNTER_CLERK}), 100, 1000)  # 10 %: allowed
    with pytest.raises(PermissionDeniedError, match=r"more than Chris may give \(10%\)"):
        check_discount("Chris", frozenset({Role.COUNTER_CLERK}), 101, 1000)
    check_discount("Sam", frozenset({Role.SUPERVISOR}), 500, 1000)
    with pytest.raises(PermissionDeniedError, match="may not give discounts"):
        check_discount("Pat", frozenset({Role.PACKER}), 1, 1000)


# ----------------------------------------------------------------------------- properties

lines_st = st.lists(
    st.builds(
        PricedLine,
        qty=st.integers(1, 50),
        unit_price_minor=st.integers(0, 200_000),
        tax_rate_bp=st.sampled_from(RATES),
        grams=st.one_of(st.none(), st.integers(1, 20_000)),
    ).filter(lambda x: x.grams is None or x.qty == 1),
    min_size=1,
    max_size=25,
)


def _check_rule(totals: BasketTotals, lines: list[PricedLine], basket_off: int) -> None:
    amounts = [line.amount_minor for line in lines]
    # Lines after the basket discount: whole minor units, adding up to the lines less the discount.
    assert sum(x.amount_minor for x in totals.lines) == sum(amounts) - basket_off
    assert sum(x.basket_discount_minor for x in totals.lines) == basket_off
    for rate in totals.rates:
        members = [
            t
            for t, line in zip(totals.lines, lines, strict=True)
            if line.tax_rate_bp == rate.rate_bp
        ]
        base = sum(t.amount_minor for t in members)
        if totals.basis is PriceBasis.INCLUSIVE:
            assert rate.gross_minor == base
            assert rate.tax_minor == tax_in_gross(base, rate.rate_bp)
        else:
            assert rate.net_minor == base
            assert rate.tax_minor == tax_on_net(base, rate.rate_bp)
        assert rate.net_minor + rate.tax_minor == rate.gross_minor
        assert sum(t.tax_minor for t in members) == rate.tax_minor
    # The total is the sum of the rounded lines (plus, on a net list, the tax per rate).
    extra = 0 if totals.basis is PriceBasis.INCLUSIVE else totals.tax_minor
    assert totals.total_minor == sum(x.amount_minor for x in totals.lines) + extra
    assert totals.total_minor == sum(x.gross_minor for x in totals.lines)


@settings(max_examples=300, deadline=None)
@given(lines_st, st.sampled_from(list(PriceBasis)), st.integers(0, 10_000))
def test_totals_equal_the_sum_of_rounded_lines(
    lines: list[PricedLine], basis: PriceBasis, percent_bp: int
) -> None:
    off = basket_discount_for(lines, percent_bp=percent_bp)
    _check_rule(price_basket(lines, basis, off), lines, off)


@settings(max_examples=200, deadline=None)
@given(lines_st, st.sampled_from(list(PriceBasis)))
def test_the_printed_receipt_adds_up_to_the_basket(
    lines: list[PricedLine], basis: PriceBasis
) -> None:
    totals = price_basket(lines, basis)
    receipt_lines = tuple(
        ReceiptLine(f"SKU{i}", "Item", 1, t.before_discount_minor, line.tax_rate_bp)
        for i, (line, t) in enumerate(zip(lines, totals.lines, strict=True))
    )
    pay = max(totals.total_minor, 1)
    receipt = Receipt(
        "T-1",
        datetime(2026, 11, 27, tzinfo=UTC),
        "TILL-1",
        "Chris",
        receipt_lines,
        (Tender(TenderKind.CASH, pay),),
        prices_include_tax=basis is PriceBasis.INCLUSIVE,
    )
    assert receipt.total_minor == totals.total_minor
    assert receipt.tax_minor == totals.tax_minor
    assert receipt.net_minor + receipt.tax_minor == receipt.total_minor


@given(st.integers(-(10**9), 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_split_shares_add_up_and_stay_proportional(total: int, weights: list[int]) -> None:
    shares = split(total, weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        exact = total * weight / sum(weights)
        assert abs(share - exact) < 1 + 1e-9
