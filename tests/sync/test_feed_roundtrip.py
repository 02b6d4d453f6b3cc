"""The feed's codec: every entity serialised centrally, carried as JSON, loaded into a station's
SQLite and serialised there gives the same dict; an order aggregate is replaced whole."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text

from app.clock import utcnow
from app.services import packing
from app.store.db import make_engine
from app.store.migrate import upgrade
from app.store.models import ExceptionTask, Package, PackageItem, StoreCreditEntry
from app.sync import feed
from tests.conftest import find_order
from tests.sync.centralkit import (
    Central,
    central,
    pack_whole_order,
    sign_in,
    station_ctx,
    unit_codes,
)

pytestmark = pytest.mark.postgres
__all__ = ["central"]


def _latest_feed(c: Central) -> dict[tuple[str, uuid.UUID], Any]:
    """Each entity's newest payload as the feed carries it (JSON from the change_log)."""
    with c.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT ON (entity, entity_id) entity, entity_id, payload::text "
                "FROM change_log ORDER BY entity, entity_id, pos DESC"
            )
        ).all()
    return {(e, i): json.loads(p) for e, i, p in rows}


def _fresh_station_db(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def test_every_entity_round_trips_exactly(central: Central, tmp_path: Path) -> None:
    # Central state with everything in it: packed orders with boxes, units and stock
    # movements, a disputed claim, stations.
    a = station_ctx(central, "BENCH-A", tmp_path)
    b = station_ctx(central, "BENCH-B", tmp_path)
    packed = pack_whole_order(a, sign_in(a), find_order(a, lines=2, units=3))
    number = find_order(a, lines=1, units=2)
    with a.uow(sign_in(a)) as uow:
        contested = packing.open_order(uow, number).id
    central.push_outbox(central.stations["BENCH-A"], a.engine)
    with central.hub() as hub:
        hub.drain()
        with b.uow(sign_in(b)) as uow:
            packing.open_order(uow, number)
        with b.uow(sign_in(b)) as uow:
            packing.scan_item(uow, packing.ItemScan(contested, unit_codes(b, contested)[0]))
        central.push_outbox(central.stations["BENCH-B"], b.engine)
        hub.drain()
    a.dispose()
    b.dispose()
    with central.engine.begin() as conn:  # a gift card loaded at a till
        conn.execute(
            insert(StoreCreditEntry).values(
                id=uuid.uuid4(),
                account="GC-TILL-1-00001",
                kind="gift_card",
                amount_minor=2500,
                currency="EUR",
                reason="gift card issued",
                at=utcnow(),
            )
        )

    local = _fresh_station_db(tmp_path / "fresh.db")
    with central.engine.connect() as src, local.begin() as dst:
        for entity in feed.LOAD_ORDER:
            if entity == "order":
                ids = src.scalars(select(feed.ORDER.c.id)).all()
            else:
                table = feed.TABLES[entity]
                ids = src.scalars(select(next(iter(table.primary_key.columns)))).all()
            assert ids, f"central has no {entity} to round-trip"
            for key in ids:
                sent = json.loads(json.dumps(feed.serialise(src, entity, key)))
                feed.load(dst, entity, key, sent)
                assert feed.serialise(dst, entity, key) == sent, (entity, key)
    with central.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExceptionTask)) == 1
        assert (
            conn.scalar(select(func.count()).select_from(Package).where(Package.order_id == packed))
            == 1
        )

    # What the feed itself carries is what central holds now, entity by entity.
    carried = _latest_feed(central)
    assert ("order", packed) in carried and ("order", contested) in carried
    with central.engine.connect() as conn:
        for (entity, key), payload in carried.items():
            assert feed.serialise(conn, entity, key) == payload, (entity, key)
    local.dispose()


def test_loading_an_order_replaces_the_whole_aggregate(central: Central, tmp_path: Path) -> None:
    a = station_ctx(central, "BENCH-A", tmp_path)
    order_id = pack_whole_order(a, sign_in(a), find_order(a, lines=2, units=3))
    with a.engine.connect() as conn:
        packed = feed.serialise(conn, "order", order_id)
    with central.engine.connect() as conn:
        untouched = feed.serialise(conn, "order", order_id)
    assert packed is not None and untouched is not None
    assert packed["package_items"] and not untouched["package_items"]

    with a.engine.begin() as conn:
        feed.load(conn, "order", order_id, untouched)  # central never saw the packing
    with a.engine.connect() as conn:
        assert feed.serialise(conn, "order", order_id) == untouched
        assert conn.scalar(select(func.count()).select_from(PackageItem)) == 0
    with a.engine.begin() as conn:
        feed.load(conn, "order", order_id, None)  # deleted centrally
    with a.engine.connect() as conn:
        assert feed.serialise(conn, "order", order_id) is None
    a.dispose()


def test_a_station_row_from_the_feed_keeps_the_stations_own_counters(
    central: Central, tmp_path: Path
) -> None:
    a = station_ctx(central, "BENCH-A", tmp_path)
    pack_whole_order(a, sign_in(a), find_order(a, lines=2, units=3))
    with a.engine.connect() as conn:
        before = conn.execute(text("SELECT next_seq, next_sscc FROM station")).all()
    with central.engine.connect() as src, a.engine.begin() as dst:
        payload = feed.serialise(src, "station", a.station_id)
        assert payload is not None and "next_seq" not in payload
        feed.load(dst, "station", a.station_id, payload)
    with a.engine.connect() as conn:
        assert conn.execute(text("SELECT next_seq, next_sscc FROM station")).all() == before
    a.dispose()
