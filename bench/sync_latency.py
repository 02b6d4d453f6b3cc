"""p99 time for a change made at one station to be in the others' databases, with 20 stations
online (their sync workers in this process, each with its own SQLite file and connection to
PostgreSQL) and the hub in a process of its own, as a company runs it.

A supervisor at the first station adjusts stock every 100–300 ms; the time runs from the start
of the station's transaction that records the adjustment to the commit, at each other station,
of the pull that brought its ledger row. Measuring starts once the hub has started and a few
changes have gone round.
"""

from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.figures import Figure, percentile
from bench.sync_pg import hub_process, wait_until

STATIONS = 20
CHANGES = 60
WARM_UP = 3
ROOT = Path(__file__).resolve().parents[1]


class _Watch:
    """When each station's pull brought each ledger row (hooks on the client's pull/load)."""

    def __init__(self) -> None:
        from app.sync import client, feed

        self._client, self._feed = client, feed
        self._pull, self._load = client.pull, feed.load
        self._local = threading.local()
        self.seen: dict[tuple[str, uuid.UUID], float] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> _Watch:
        watch = self

        def load(conn: Any, entity: str, entity_id: uuid.UUID, payload: Any) -> None:
            watch._load(conn, entity, entity_id, payload)
            if entity == "stock_movement":
                watch._local.ids.append(entity_id)

        def pull(*args: Any, **kwargs: Any) -> Any:
            watch._local.ids = []
            pulled = watch._pull(*args, **kwargs)  # returns after the local commit
            now = time.perf_counter()
            station = threading.current_thread().name
            with watch._lock:
                for eid in watch._local.ids:
                    watch.seen.setdefault((station, eid), now)
            return pulled

        self._feed.load = load  # type: ignore[assignment]
        self._client.pull = pull  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self._feed.load = self._load  # type: ignore[assignment]
        self._client.pull = self._pull  # type: ignore[assignment]


def latency_figures(url: str, folder: Path) -> list[Figure]:
    from sqlalchemy import select

    from app.bootstrap import bootstrap
    from app.services import auth, stock
    from app.store.models import Product
    from app.sync.worker import SyncWorker
    from bench.sync import _station

    configs = [_station(url, f"LAT-{i:02d}", folder) for i in range(STATIONS)]
    print(f"  loading {STATIONS} stations from central...", file=sys.stderr)
    contexts = [bootstrap(c) for c in configs]
    with hub_process(url, folder / "hub.log"):
        writer = contexts[0]
        with writer.uow() as uow:
            boss = auth.sign_in_badge(uow, "OP-9001")
        with writer.engine.connect() as conn:
            places = conn.execute(
                select(Product.id, Product.home_location_id)
                .where(Product.home_location_id.is_not(None))
                .limit(500)
            ).all()
        rng = random.Random(6)
        made: dict[uuid.UUID, float] = {}
        with _Watch() as watch:
            workers = [SyncWorker(c, name=c.station_name) for c in configs]
            try:
                for w in workers:
                    w.start()
                wait_until(lambda: all(w.online for w in workers), 60, "20 stations online")
                others = [c.station_name for c in configs[1:]]

                def change() -> uuid.UUID:
                    product_id, bin_id = rng.choice(places)
                    with writer.uow(boss) as uow:
                        done = stock.adjust_stock(uow, product_id, bin_id, 1, "recount")
                    workers[0].wake()  # as the station's database worker does when it falls idle
                    return done.movements[0].id

                warm = [change() for _ in range(WARM_UP)]  # connections and statements ready
                wait_until(
                    lambda: all((s, m) in watch.seen for s in others for m in warm), 120, "warm-up"
                )
                for _ in range(CHANGES):
                    t0 = time.perf_counter()
                    made[change()] = t0
                    time.sleep(rng.uniform(0.1, 0.3))
                wait_until(
                    lambda: all((s, m) in watch.seen for s in others for m in made),
                    120,
                    "every change at every station",
                )
            finally:
                for w in workers:
                    w.stop()
                for ctx in contexts:
                    ctx.dispose()
    ms = [(watch.seen[(s, m)] - t) * 1000 for s in others for m, t in made.items()]
    return [
        Figure(
            f"change visible at another station p50 ({STATIONS} stations online)",
            percentile(ms, 50),
            "ms",
            note=f"{len(ms)} arrivals of {CHANGES} changes; hub in its own process",
        ),
        Figure(
            f"change visible at another station p99 ({STATIONS} stations online)",
            percentile(ms, 99),
            "ms",
            500,
        ),
        Figure("change visible, slowest", max(ms), "ms"),
    ]
