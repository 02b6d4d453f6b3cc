"""The checks the counter's and the returns desk's appliers make on a payload's parts: a part
of the wrong form is refused in the applier's own words, naming the part."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from app.sync.appliers import counter, returns
from app.sync.appliers.payload import Checks
from app.sync.ops import MalformedOpError, Op


def _op() -> Op:
    return Op(
        uuid.uuid4(), uuid.uuid4(), 7, "counter.sale_completed", {}, "", None, datetime.now(UTC)
    )


def _words(op: Op, what: str) -> MalformedOpError:
    return MalformedOpError(f"#{op.seq}: {what}")


CHECK = Checks(_words)


def test_good_parts_come_back_as_values() -> None:
    op, ident = _op(), uuid.uuid4()
    assert CHECK.record(op, {"a": 1}) == {"a": 1}
    assert CHECK.whole(op, -3) == -3
    assert CHECK.whole(op, 0, at_least=0) == 0
    assert CHECK.id(op, str(ident)) == ident
    assert CHECK.opt_id(op, None) is None
    assert CHECK.when(op, "2026-11-27T08:00:00+00:00") == datetime(2026, 11, 27, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("check", "words"),
    [
        (lambda op: CHECK.record(op, [1], "a payment"), "#7: a payment is not a record"),
        (lambda op: CHECK.whole(op, "12"), "#7: '12' is not a whole number"),
        (lambda op: CHECK.whole(op, True), "#7: True is not a whole number"),
        (lambda op: CHECK.whole(op, -1, at_least=0), "#7: -1 is not a whole number of 0 or more"),
        (lambda op: CHECK.id(op, "SO-1"), "#7: 'SO-1' is not an id"),
        (lambda op: CHECK.opt_id(op, 5), "#7: 5 is not an id"),
        (lambda op: CHECK.when(op, "yesterday"), "#7: 'yesterday' is not a time"),
        (lambda op: CHECK.when(op, "2026-11-27T08:00:00"), "#7: a time has no time zone"),
    ],
)
def test_a_part_of_the_wrong_form_is_refused_with_words(check: object, words: str) -> None:
    with pytest.raises(MalformedOpError) as e:
        check(_op())  # type: ignore[operator]
    assert str(e.value) == words


def test_each_applier_keeps_its_own_voice() -> None:
    op = _op()
    with pytest.raises(MalformedOpError, match=r"^Counter operation counter.sale_completed \(#7\)"):
        counter._check.id(op, "x")
    desk = r"^Returns operation .*The desk's own records are unchanged"
    with pytest.raises(MalformedOpError, match=desk):
        returns._check.whole(op, -5, at_least=0)
