"""The picking rules without a database: which stock a line takes, how orders group into pick
lists within their limits, and the rank orders are picked in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.errors import ValidationError
from app.domain.pick_docs import PickKind
from app.domain.picking import (
    Candidate,
    Limits,
    OrderRank,
    Place,
    group,
    list_number,
    rank_key,
    take,
    take_some,
)

P = uuid.uuid4()


def place(
    code: str, seq: int, free: int, lot: str | None = None, expiry: str | None = None
) -> Place:
    return Place.of(P, uuid.uuid5(uuid.NAMESPACE_URL, code), lot, expiry, seq, code[0], code, free)


def taken(got: list[tuple[Place, int]] | None) -> list[tuple[str, int]]:
    assert got is not None
    return [(p.code, n) for p, n in got]


def test_fefo_takes_the_first_expiry_first_whatever_the_walk() -> None:
    late = place("A-01", 1, 10, "L2", "2027-06-30")
    early = place("C-09", 50, 3, "L1", "2027-01-31")
    none = place("B-05", 20, 10, "L0", None)
    spots = [late, none, early]
    free = {p.key: p.available for p in spots}
    assert taken(take(5, spots, free, fefo=True)) == [("C-09", 3), ("A-01", 2)]
    # No expiry goes last.
    assert taken(take(14, spots, free, fefo=True)) == [("C-09", 3), ("A-01", 10), ("B-05", 1)]


def test_plain_items_come_whole_from_the_first_bin_that_has_them() -> None:
    small = place("A-01", 1, 2)
    big = place("B-02", 5, 9)
    later = place("C-03", 9, 20)
    spots = [later, big, small]
    free = {p.key: p.available for p in spots}
    assert taken(take(2, spots, free, fefo=False)) == [("A-01", 2)]
    assert taken(take(6, spots, free, fefo=False)) == [("B-02", 6)]
    # No single bin holds 30: fill along the walk.
    assert taken(take(30, spots, free, fefo=False)) == [("A-01", 2), ("B-02", 9), ("C-03", 19)]


def test_not_enough_is_none_and_nothing_is_used_up() -> None:
    spots = [place("A-01", 1, 2), place("B-02", 2, 1)]
    free = {p.key: p.available for p in spots}
    assert take(4, spots, free, fefo=False) is None
    assert free == {p.key: p.available for p in spots}
    assert taken(take_some(4, spots, free, fefo=False)) == [("A-01", 2), ("B-02", 1)]
    excluded = frozenset({spots[0].key})
    assert taken(take_some(4, spots, free, fefo=False, exclude=excluded)) == [("B-02", 1)]


def test_orders_group_into_lists_within_every_limit() -> None:
    orders = [
        Candidate(uuid.uuid4(), f"SO-{i}", units=u, weight_g=w)
        for i, (u, w) in enumerate([(2, 500), (3, 800), (1, 4000), (6, 100), (1, 100)])
    ]
    by_orders = group(orders, PickKind.BATCH, Limits(max_orders=2))
    assert [[c.number for c in g] for g in by_orders] == [
        ["SO-0", "SO-1"],
        ["SO-2", "SO-3"],
        ["SO-4"],
    ]
    by_units = group(orders, PickKind.CLUSTER, Limits(max_orders=9, max_units=6))
    assert [[c.number for c in g] for g in by_units] == [
        ["SO-0", "SO-1", "SO-2"],
        ["SO-3"],
        ["SO-4"],
    ]
    by_weight = group(orders, PickKind.BATCH, Limits(max_orders=9, max_weight_g=4500))
    assert [[c.number for c in g] for g in by_weight] == [
        ["SO-0", "SO-1"],
        ["SO-2", "SO-3", "SO-4"],
    ]
    single = group(orders, PickKind.SINGLE, Limits(max_orders=9))
    assert len(single) == 5
    # An order over a limit still gets a list of its own.
    assert [
        [c.number for c in g] for g in group(orders[3:4], PickKind.BATCH, Limits(9, max_units=2))
    ] == [["SO-3"]]


def test_limits_that_leave_nothing_to_pick_are_refused_with_words() -> None:
    with pytest.raises(ValidationError, match="at least one order"):
        Limits(max_orders=0)
    with pytest.raises(ValidationError, match="leave it empty for no limit"):
        Limits(max_orders=3, max_weight_g=0)


def test_rank_priority_then_cutoff_then_age() -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    old = OrderRank(0, None, now - timedelta(hours=5))
    new = OrderRank(0, None, now)
    urgent = OrderRank(5, None, now)
    leaving = OrderRank(0, now + timedelta(hours=1), now)
    ranked = sorted([new, old, leaving, urgent], key=rank_key)
    assert ranked == [urgent, leaving, old, new]


def test_list_numbers_are_short_and_distinct() -> None:
    from app.ids import new_id

    numbers = {list_number(new_id()) for _ in range(5000)}
    assert len(numbers) == 5000
    assert all(len(n) == 13 and n.startswith("PL-") for n in numbers)
