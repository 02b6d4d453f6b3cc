"""The returns desk's rules (app/domain/returns.py): refunds a person can check by hand, the
default dispositions, and Hypothesis properties of the refund over many returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.errors import ValidationError
from app.domain.returns import (
    Condition,
    Disposition,
    Policy,
    Reason,
    RefundUnit,
    calculate_refund,
    default_disposition,
    parse,
)

FEE_10 = Policy(restocking_fee_bp=1_000)


def test_a_defective_unit_comes_back_whole_with_its_shipping() -> None:
    r = calculate_refund(
        FEE_10,
        [RefundUnit(4_990, Reason.DEFECTIVE, Condition.DEFECTIVE)],
        order_paid_minor=5_485,
        shipping_paid_minor=495,
    )
    assert (r.merchandise_minor, r.deductions_minor, r.restocking_fee_minor) == (4_990, 0, 0)
    assert r.shipping_minor == 495
    assert r.total_minor == 5_485


def test_a_changed_mind_pays_the_fee_and_keeps_the_shipping() -> None:
    # 2 × 20.00 opened (no deduction), 10 % fee = 4.00; shipping not refunded by this policy.
    units = [RefundUnit(2_000, Reason.CHANGED_MIND, Condition.OPENED)] * 2
    r = calculate_refund(FEE_10, units, order_paid_minor=4_495, shipping_paid_minor=495)
    assert r.restocking_fee_minor == 400
    assert r.shipping_minor == 0
    assert r.total_minor == 3_600


def test_a_used_unit_loses_its_condition_deduction() -> None:
    # 50.00 used: 20 % kept (10.00), then 10 % of the 40.00 left (4.00).
    r = calculate_refund(
        FEE_10, [RefundUnit(5_000, Reason.CHANGED_MIND, Condition.USED)], order_paid_minor=5_000
    )
    assert (r.deductions_minor, r.restocking_fee_minor, r.total_minor) == (1_000, 400, 3_600)


def test_the_fixed_fee_is_taken_once_per_return_not_per_unit() -> None:
    policy = Policy(restocking_fee_minor=300)
    one = calculate_refund(
        policy,
        [RefundUnit(1_000, Reason.CHANGED_MIND, Condition.NEW_SEALED)],
        order_paid_minor=9_999,
    )
    three = calculate_refund(
        policy,
        [RefundUnit(1_000, Reason.CHANGED_MIND, Condition.NEW_SEALED)] * 3,
        order_paid_minor=9_999,
    )
    assert one.restocking_fee_minor == three.restocking_fee_minor == 300
    assert three.total_minor == 2_700


def test_a_refund_never_goes_past_what_is_left_of_the_order() -> None:
    r = calculate_refund(
        Policy(),
        [RefundUnit(3_000, Reason.WRONG_ITEM, Condition.NEW_SEALED)],
        order_paid_minor=3_000,
        already_refunded_minor=2_500,
    )
    assert r.total_minor == 500
    assert r.capped_minor == 2_500


def test_shipping_comes_back_once_per_order() -> None:
    units = [RefundUnit(1_000, Reason.DAMAGED, Condition.DAMAGED)]
    r = calculate_refund(
        Policy(), units, order_paid_minor=5_000, shipping_paid_minor=495, shipping_refunded=True
    )
    assert r.shipping_minor == 0


@pytest.mark.parametrize(
    ("reason", "condition", "expected"),
    [
        (Reason.CHANGED_MIND, Condition.NEW_SEALED, Disposition.RESTOCK),
        (Reason.CHANGED_MIND, Condition.USED, Disposition.REFURBISH),
        (Reason.CHANGED_MIND, Condition.DAMAGED, Disposition.SCRAP),
        (Reason.DAMAGED, Condition.DAMAGED, Disposition.QUARANTINE),
        (Reason.DEFECTIVE, Condition.OPENED, Disposition.QUARANTINE),
        (Reason.DEFECTIVE, Condition.DEFECTIVE, Disposition.RETURN_TO_VENDOR),
        (Reason.WRONG_ITEM, Condition.NEW_SEALED, Disposition.RESTOCK),
    ],
)
def test_default_dispositions(reason: Reason, condition: Condition, expected: Disposition) -> None:
    assert default_disposition(reason, condition) is expected


def test_every_reason_and_condition_has_a_default() -> None:
    for reason in Reason:
        for condition in Condition:
            assert isinstance(default_disposition(reason, condition), Disposition)


def test_the_window_counts_days_from_shipping() -> None:
    shipped = datetime(2026, 3, 1, 12, tzinfo=UTC)
    policy = Policy(window_days=30)
    assert not policy.is_late(shipped, shipped + timedelta(days=30))
    assert policy.is_late(shipped, shipped + timedelta(days=30, seconds=1))


def test_bad_policies_and_codes_are_refused_with_words() -> None:
    with pytest.raises(ValidationError, match="restocking fee is between"):
        Policy(restocking_fee_bp=12_000)
    with pytest.raises(ValidationError, match="zero days or more"):
        Policy(window_days=-1)
    with pytest.raises(ValidationError, match="choose one of: new_sealed"):
        parse(Condition, "smelly", "condition")
    with pytest.raises(ValidationError, match="price paid is zero or more"):
        RefundUnit(-1, Reason.DAMAGED, Condition.DAMAGED)


# ----------------------------------------------------------------------------- properties

units_st = st.lists(
    st.builds(
        RefundUnit,
        st.integers(0, 50_000),
        st.sampled_from(list(Reason)),
        st.sampled_from(list(Condition)),
    ),
    max_size=12,
)
policies = st.builds(
    Policy,
    window_days=st.integers(0, 365),
    free_reasons=st.frozensets(st.sampled_from(list(Reason))),
    restocking_fee_bp=st.integers(0, 10_000),
    restocking_fee_minor=st.integers(0, 5_000),
    refund_shipping=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(
    policy=policies,
    units=units_st,
    paid=st.integers(0, 400_000),
    already=st.integers(0, 400_000),
    shipping=st.integers(0, 2_000),
    shipping_done=st.booleans(),
)
def test_a_refund_is_never_negative_nor_above_what_is_left(
    policy: Policy,
    units: list[RefundUnit],
    paid: int,
    already: int,
    shipping: int,
    shipping_done: bool,
) -> None:
    r = calculate_refund(
        policy,
        units,
        order_paid_minor=paid,
        already_refunded_minor=already,
        shipping_paid_minor=shipping,
        shipping_refunded=shipping_done,
    )
    assert r.total_minor >= 0
    assert r.total_minor <= max(0, paid - already)
    assert r.total_minor <= r.merchandise_minor + r.shipping_minor
    assert r.restocking_fee_minor >= 0
    assert r.deductions_minor >= 0


@settings(max_examples=300, deadline=None)
@given(policy=policies, units=units_st.filter(bool), copies=st.integers(2, 4))
def test_the_fee_is_applied_once_for_the_whole_return(
    policy: Policy, units: list[RefundUnit], copies: int
) -> None:
    """The fee of one return of k× the units is at most k× the percentage part plus ONE fixed
    fee; and it never exceeds what it is taken from."""
    huge = 10**12
    one = calculate_refund(policy, units, order_paid_minor=huge)
    many = calculate_refund(policy, units * copies, order_paid_minor=huge)
    chargeable = sum(
        u.paid_minor - (u.paid_minor * policy.deductions_bp.get(u.condition, 0) + 5_000) // 10_000
        for u in units
        if not policy.is_free(u.reason)
    )
    pct_part = (chargeable * copies * policy.restocking_fee_bp + 5_000) // 10_000
    assert many.restocking_fee_minor <= pct_part + policy.restocking_fee_minor
    if policy.restocking_fee_bp == 0 and chargeable >= policy.restocking_fee_minor:
        assert many.restocking_fee_minor == one.restocking_fee_minor == policy.restocking_fee_minor
    if chargeable == 0:
        assert many.restocking_fee_minor == 0


@settings(max_examples=200, deadline=None)
@given(policy=policies, units=units_st, paid=st.integers(0, 100_000))
def test_refunding_in_two_parts_never_pays_more_than_at_once(
    policy: Policy, units: list[RefundUnit], paid: int
) -> None:
    """A partial refund first, then the rest: the two never add up to more than the order."""
    half = len(units) // 2
    first = calculate_refund(policy, units[:half], order_paid_minor=paid)
    second = calculate_refund(
        policy, units[half:], order_paid_minor=paid, already_refunded_minor=first.total_minor
    )
    assert first.total_minor + second.total_minor <= paid
