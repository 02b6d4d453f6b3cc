"""Issue test 10: what a station's own PostgreSQL login may and may not do. With station A's
credentials: insert as B, read warehouse W2's feed, update or delete any table, read another
station's results, connect after revoke — each refused."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.types.json import Jsonb
from sqlalchemy import insert, select, text

from app.clock import utcnow
from app.ids import new_id
from app.store.models import Company, Warehouse
from app.sync import admin
from tests.sync.centralkit import Central, central, make_op

pytestmark = pytest.mark.postgres
__all__ = ["central"]


def _world(c: Central) -> dict[str, Any]:
    with c.engine.begin() as conn:
        company = conn.scalar(select(Company.id).limit(1))
        w2 = new_id()
        conn.execute(insert(Warehouse).values(id=w2, company_id=company, code="WH2", name="South"))
        w1 = conn.scalar(select(Warehouse.id).where(Warehouse.code == "WH1"))
    a = c.add_station("BENCH-A", "WH1")
    b = c.add_station("BENCH-B", "WH1")
    c2 = c.add_station("BENCH-C", "WH2")  # publishes itself to W2's feed
    c.push(b, [make_op(b.station_id, 1, "print.reprinted", {}, "print_job")])
    c.push(a, [make_op(a.station_id, 1, "print.reprinted", {}, "print_job")])
    with c.hub() as hub:
        hub.drain()
    return {"a": a, "b": b, "c": c2, "w1": w1, "w2": w2}


def _refused(conn: psycopg.Connection[Any], statement: Any, params: Any = None) -> str:
    with pytest.raises(errors.InsufficientPrivilege) as refused:
        conn.execute(statement, params)
    conn.rollback()
    return str(refused.value)


def test_a_station_login_can_do_only_its_own_work(central: Central) -> None:
    w = _world(central)
    a, b = w["a"], w["b"]
    with central.engine.connect() as conn:
        w2_rows = conn.scalar(
            text("SELECT count(*) FROM change_log WHERE warehouse_id = :w"), {"w": w["w2"]}
        )
        b_results = conn.scalar(
            text("SELECT count(*) FROM op_result WHERE station_id = :s"), {"s": b.station_id}
        )
        tables = conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).all()
    assert w2_rows > 0 and b_results == 1, "the refusals below are about rows that exist"

    with central.connect_as(a) as conn:
        # Insert as B: the station_id column is not the station's to write.
        message = _refused(
            conn,
            "INSERT INTO inbox (op_id, station_id, seq, kind, payload, entity, created_at) "
            "VALUES (%s, %s, 2, 'print.reprinted', %s, '', now())",
            (new_id(), b.station_id, Jsonb({})),
        )
        assert "permission denied" in message
        # Its own insert lands under its own id, taken from the login.
        op_id = new_id()
        conn.execute(
            "INSERT INTO inbox (op_id, seq, kind, payload, entity, created_at) "
            "VALUES (%s, 2, 'print.reprinted', %s, '', %s)",
            (op_id, Jsonb({}), utcnow()),
        )
        conn.commit()

        # W2's feed and head: not one row visible.
        feed = conn.execute("SELECT DISTINCT warehouse_id FROM change_log").fetchall()
        assert feed == [(w["w1"],)], "only its own warehouse's feed"
        assert conn.execute(
            "SELECT count(*) FROM change_log WHERE warehouse_id = %s", (w["w2"],)
        ).fetchone() == (0,)
        heads = conn.execute("SELECT warehouse_id FROM feed_head").fetchall()
        assert heads == [(w["w1"],)]

        # Another station's results: none; its own: there.
        assert conn.execute(
            "SELECT count(*) FROM op_result WHERE station_id = %s", (b.station_id,)
        ).fetchone() == (0,)
        own = conn.execute("SELECT station_id, seq FROM op_result").fetchall()
        assert own == [(a.station_id, 1)]

        # No UPDATE, DELETE or TRUNCATE on any table; no new tables.
        assert "inbox" in tables and "product" in tables
        for table in tables:
            ident = sql.Identifier(table)
            update = sql.SQL("UPDATE {} SET {} = {}").format(
                ident,
                sql.Identifier(_first_column(central, table)),
                sql.Identifier(_first_column(central, table)),
            )
            assert "permission denied" in _refused(conn, update), table
            assert "permission denied" in _refused(conn, sql.SQL("DELETE FROM {}").format(ident))
            assert "permission denied" in _refused(conn, sql.SQL("TRUNCATE {}").format(ident))
        assert "permission denied" in _refused(conn, "CREATE TABLE mine (x int)")

    with central.engine.connect() as conn:
        landed = conn.scalar(text("SELECT station_id FROM inbox WHERE op_id = :o"), {"o": op_id})
    assert landed == a.station_id

    # Revoked: the open connection is ended and no new one is let in.
    still_open = central.connect_as(a)
    admin.revoke_station(central.engine, "BENCH-A")
    with pytest.raises(psycopg.OperationalError):
        still_open.execute("SELECT 1")
    still_open.close()
    with pytest.raises(psycopg.OperationalError) as refused:
        central.connect_as(a)
    assert "not permitted to log in" in str(refused.value)


def _first_column(c: Central, table: str) -> str:
    with c.engine.connect() as conn:
        return str(
            conn.scalar(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = :t ORDER BY ordinal_position"
                ),
                {"t": table},
            )
        )


def test_a_station_cannot_push_under_a_revoked_or_foreign_identity(central: Central) -> None:
    """Even a session opened before the revoke cannot insert once revoked."""
    login = central.add_station("BENCH-X")
    conn = central.connect_as(login)
    with central.engine.begin() as admin_conn:
        admin_conn.execute(
            text("UPDATE station_account SET revoked_at = now() WHERE role_name = :r"),
            {"r": login.role},
        )
    with pytest.raises(errors.InsufficientPrivilege) as refused:
        conn.execute(
            "INSERT INTO inbox (op_id, seq, kind, payload, entity, created_at) "
            "VALUES (%s, 1, 'print.reprinted', %s, '', now())",
            (uuid.uuid4(), Jsonb({})),
        )
    assert "row-level security" in str(refused.value)
    conn.close()


def test_station_add_refuses_an_unknown_warehouse_and_a_taken_name(central: Central) -> None:
    from app.domain.errors import NotFoundError, ValidationError

    with pytest.raises(NotFoundError) as unknown:
        admin.add_station(central.engine, "BENCH-9", "WH9")
    assert unknown.value.message == (
        "There is no warehouse WH9 in the central database (there are: WH1) — check the code."
    )
    central.add_station("BENCH-9")
    with pytest.raises(ValidationError) as taken:
        admin.add_station(central.engine, "BENCH-9", "WH1")
    assert "Station BENCH-9 already has a login" in taken.value.message
    assert "choose another name" in taken.value.message
    with pytest.raises(NotFoundError) as missing:
        admin.revoke_station(central.engine, "NO-SUCH")
    assert "Station NO-SUCH has no login in the central database" in missing.value.message
