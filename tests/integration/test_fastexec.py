"""The fast executor writes and reads exactly what SQLAlchemy would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from app.ids import new_id
from app.store.db import make_engine
from app.store.fastexec import FastExecutor
from app.store.migrate import upgrade
from app.store.models import AuditEvent, Product

_AUDIT = AuditEvent.__table__
_INSERT_AUDIT = insert(_AUDIT)
_READ_AUDIT = select(
    _AUDIT.c.id, _AUDIT.c.at, _AUDIT.c.entity_id, _AUDIT.c.details, _AUDIT.c.action
).where(_AUDIT.c.id == bindparam("audit_id"), _AUDIT.c.action != "ignored")
_PRODUCT = Product.__table__
_READ_FLAGS = select(_PRODUCT.c.track_lot, _PRODUCT.c.sku).where(_PRODUCT.c.track_lot.is_(True))


def _round_trip(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    audit_id, entity_id = new_id(), new_id()
    at = datetime(2026, 11, 26, 21, 5, 7, 123456, tzinfo=UTC)
    details = {"sku": "NW-1", "units": 2, "name": "Zoë's mug", "nested": [1, None, True]}
    with Session(engine) as s, s.begin():
        fx = FastExecutor(s.connection())
        fx.run(
            _INSERT_AUDIT,
            {
                "id": audit_id,
                "at": at,
                "station_id": new_id(),
                "operator_id": None,
                "action": "order.item_packed",
                "entity": "order",
                "entity_id": entity_id,
                "details": details,
            },
        )
        s.add(Product(sku="NW-1", name="Mug", track_lot=True))
        s.add(Product(sku="NW-2", name="Cup", track_lot=False))
    with Session(engine) as s:
        stored = s.get(AuditEvent, audit_id)  # what the ORM reads back from the fast write
        assert stored is not None
        assert (stored.at, stored.entity_id, stored.details) == (at, entity_id, details)
        assert stored.operator_id is None
        fx = FastExecutor(s.connection())
        row = fx.first(_READ_AUDIT, {"audit_id": audit_id})
        assert row == (audit_id, at, entity_id, details, "order.item_packed")
        assert fx.first(_READ_AUDIT, {"audit_id": new_id()}) is None
        assert fx.rows(_READ_FLAGS, {}) == [(True, "NW-1")]
    engine.dispose()


def test_fast_executor_matches_sqlalchemy_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'f.db'}")


@pytest.mark.postgres
def test_fast_executor_runs_plain_sqlalchemy_on_postgres(postgres_url: str) -> None:
    _round_trip(postgres_url)
