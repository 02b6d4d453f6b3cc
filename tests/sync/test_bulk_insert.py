"""bulk_insert on PostgreSQL (one INSERT from arrays) writes what SQLAlchemy's own INSERT
writes: every value, the column defaults, JSON and SQL NULL, and it refuses a value too long
for its column rather than cutting it short; sent ahead (pipelined), the same."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import BigInteger, Column, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.types import Uuid

from app.store.fastexec import bulk_insert
from app.store.pipeline import sent_ahead
from app.store.types import UTCDateTime
from tests.sync.centralkit import Central, central

pytestmark = pytest.mark.postgres
__all__ = ["central"]

WHEN = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def probe(central: Central) -> Iterator[Table]:
    table = Table(
        "bulk_probe",
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("code", String(5)),
        Column("n", BigInteger),
        Column("doc", JSONB(none_as_null=True)),
        Column("at", UTCDateTime(), default=lambda: WHEN),
        Column("tag", String(10), default="plain"),
    )
    table.create(central.engine)
    yield table
    table.drop(central.engine)


def _read(central: Central, table: Table) -> dict[uuid.UUID, tuple[object, ...]]:
    with central.engine.connect() as conn:
        return {r.id: tuple(r)[1:] for r in conn.execute(select(table))}


def test_rows_go_in_as_given_with_the_column_defaults(central: Central, probe: Table) -> None:
    ids = [uuid.uuid4() for _ in range(4)]
    rows = [
        {"id": ids[0], "code": "A", "n": 7, "doc": {"x": [1, "two"], "y": None}},
        {"id": ids[1], "code": "A", "n": 2**40, "doc": None},
        {"id": ids[2], "code": "A", "n": -1, "doc": {"x": True}},
        {"id": ids[3], "code": "A", "n": 0, "doc": {"x": 1}},
    ]
    with central.engine.begin() as conn:
        bulk_insert(conn, probe, rows)
    assert _read(central, probe) == {
        ids[0]: ("A", 7, {"x": [1, "two"], "y": None}, WHEN, "plain"),
        ids[1]: ("A", 2**40, None, WHEN, "plain"),
        ids[2]: ("A", -1, {"x": True}, WHEN, "plain"),
        ids[3]: ("A", 0, {"x": 1}, WHEN, "plain"),
    }


def test_one_row_and_rows_all_alike_go_in(central: Central, probe: Table) -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    with central.engine.begin() as conn:
        bulk_insert(conn, probe, [{"id": one, "code": None, "n": 1, "tag": "t"}])
        # Every column but the key has the same value in both rows.
        same = {"code": "B", "n": 3, "doc": {"k": 1}, "at": WHEN, "tag": "u"}
        bulk_insert(conn, probe, [{"id": two, **same}, {"id": uuid.uuid4(), **same}])
    got = _read(central, probe)
    assert got[one] == (None, 1, None, WHEN, "t")
    assert got[two] == ("B", 3, {"k": 1}, WHEN, "u")
    assert len(got) == 3


def test_a_value_too_long_for_its_column_is_refused_not_cut(central: Central, probe: Table) -> None:
    rows = [
        {"id": uuid.uuid4(), "code": "ABCDEF", "n": 1},
        {"id": uuid.uuid4(), "code": "A", "n": 2},
    ]
    with pytest.raises(DataError), central.engine.begin() as conn:
        bulk_insert(conn, probe, rows)
    assert _read(central, probe) == {}


def test_rows_sent_ahead_go_in_and_a_refusal_is_the_same_error(
    central: Central, probe: Table
) -> None:
    """Sent without waiting (the hub's pipelined writes): the rows are in when the block ends;
    a refused row raises there the error SQLAlchemy raises, and the transaction goes on after
    its savepoint is rolled back, as the hub's rejection of one operation needs."""
    kept = uuid.uuid4()
    with central.engine.begin() as conn:
        with sent_ahead(conn) as ahead:
            bulk_insert(conn, probe, [{"id": kept, "code": "A", "n": 1}], ahead=ahead)
            bulk_insert(conn, probe, [{"id": uuid.uuid4(), "code": "B", "n": 2}], ahead=ahead)
        savepoint = conn.begin_nested()
        with pytest.raises(DataError), sent_ahead(conn) as ahead:
            bulk_insert(conn, probe, [{"id": uuid.uuid4(), "code": "ABCDEF", "n": 3}], ahead=ahead)
        savepoint.rollback()
        savepoint = conn.begin_nested()

        def two_sent_the_second_refused() -> None:
            with sent_ahead(conn) as ahead:
                bulk_insert(conn, probe, [{"id": uuid.uuid4(), "code": "C", "n": 4}], ahead=ahead)
                bulk_insert(conn, probe, [{"id": kept, "code": "D", "n": 5}], ahead=ahead)

        with pytest.raises(IntegrityError):
            two_sent_the_second_refused()
        savepoint.rollback()
        assert conn.scalar(select(func.count()).select_from(probe)) == 2
    assert sorted(code for code, *_ in _read(central, probe).values()) == ["A", "B"]
