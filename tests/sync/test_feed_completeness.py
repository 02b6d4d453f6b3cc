"""Issue test 5, feed completeness: 16 concurrent writers with random delays before commit,
one transaction held open for seconds, some rolled back; a station reading ``pos > cursor``
with its own login sees every committed change, with no gap ever, and each entity's versions
only go up."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import defaultdict

import pytest
from sqlalchemy import select, text

from app.store.db import make_engine
from app.store.models import Product, Warehouse
from app.sync import feed
from tests.sync.centralkit import Central, central

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
__all__ = ["central"]

WRITERS = 16
TX_PER_WRITER = 12
HOLD_S = 3.0


def test_every_committed_change_reaches_a_reader_in_position_order(central: Central) -> None:
    login = central.add_station("READER")
    with central.engine.connect() as conn:
        wh = conn.scalar(select(Warehouse.id).where(Warehouse.code == "WH1"))
        products = list(conn.scalars(select(Product.id).order_by(Product.sku).limit(8)))
        start_pos = conn.scalar(
            text('SELECT "next" - 1 FROM feed_head WHERE warehouse_id = :w'), {"w": wh}
        )
    engine = make_engine(central.url, pool_size=WRITERS + 2)
    committed: list[tuple[uuid.UUID, int]] = []  # (product, price) of each committed change
    lock = threading.Lock()
    errors: list[BaseException] = []
    done = threading.Event()

    def change(
        pid: uuid.UUID,
        rng: random.Random,
        *,
        hold_before: float,
        hold_after: float,
        roll_back: bool,
    ) -> None:
        with engine.connect() as conn:
            tx = conn.begin()
            price = conn.scalar(
                text(
                    "UPDATE product SET price_minor = price_minor + 1 WHERE id = :p "
                    "RETURNING price_minor"
                ),
                {"p": pid},
            )
            time.sleep(hold_before)  # work before the feed (the counter row is not locked yet)
            feed.publish(conn, [("product", pid)])
            time.sleep(hold_after)  # a delay before commit, holding the counter row
            if roll_back:
                tx.rollback()
                return
            tx.commit()
            with lock:
                committed.append((pid, int(price)))

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            for i in range(TX_PER_WRITER):
                change(
                    rng.choice(products),
                    rng,
                    hold_before=HOLD_S if (n, i) == (0, 3) else rng.uniform(0, 0.03),
                    hold_after=HOLD_S if (n, i) == (1, 5) else rng.uniform(0, 0.02),
                    roll_back=rng.random() < 0.1,
                )
        except BaseException as e:
            errors.append(e)

    seen: list[tuple[int, uuid.UUID, int, int]] = []  # (pos, product, version, price)
    gaps: list[tuple[int, int]] = []

    def reader() -> None:
        cursor = start_pos
        try:
            with central.connect_as(login) as conn:
                conn.autocommit = True
                while True:
                    finished = done.is_set()
                    rows = conn.execute(
                        "SELECT pos, entity_id, version, payload FROM change_log "
                        "WHERE pos > %s ORDER BY pos LIMIT 500",
                        (cursor,),
                    ).fetchall()
                    for pos, eid, version, payload in rows:
                        if pos != cursor + 1:
                            gaps.append((cursor, pos))
                        cursor = pos
                        seen.append((pos, eid, version, payload["price_minor"]))
                    if finished and not rows:
                        return
                    time.sleep(0.005)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    read = threading.Thread(target=reader)
    read.start()
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    read.join(timeout=60)
    took = time.perf_counter() - began
    engine.dispose()

    assert not errors, errors
    assert took > HOLD_S, "a transaction really was held open"
    assert gaps == [], "the reader never saw a position before an earlier one had committed"
    assert [p for p, *_ in seen] == list(range(start_pos + 1, start_pos + 1 + len(seen)))
    assert len(seen) == len(committed), "every committed change, and only those"
    assert len(committed) > WRITERS * TX_PER_WRITER * 0.7
    by_product: dict[uuid.UUID, list[tuple[int, int]]] = defaultdict(list)
    for _pos, pid, version, price in seen:
        by_product[pid].append((version, price))
    for pid, history in by_product.items():
        versions = [v for v, _ in history]
        assert versions == sorted(versions) and len(set(versions)) == len(versions), pid
        prices = [p for _, p in history]
        assert prices == sorted(prices), "each row carries the state as of its position"
    with central.engine.connect() as conn:
        rows = conn.execute(select(Product.id, Product.price_minor).where(Product.id.in_(products)))
        final = dict(rows.all())
    for pid, history in by_product.items():
        assert history[-1][1] == final[pid], "the last row of an entity is its current state"
    assert sorted(committed) == sorted((pid, price) for _, pid, _, price in seen)
