"""PostgreSQL restarted in the middle of a sync — fast stop and start twice, and once stopped
the way a power cut stops it (immediate: recovery from the WAL at start) — while the hub and
three station processes run and people go on working at the stations: nobody touches the
programs, and every operation is applied exactly once."""

from __future__ import annotations

import os
import random
import time

import pytest

from tests.sync.harness.checks import Played, assert_exactly_once, wait_until_done
from tests.sync.harness.company import Company
from tests.sync.harness.pgcluster import PgCluster
from tests.sync.harness.procs import wait_for
from tests.sync.harness.stockplay import Stockroom, read_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STATIONS = 3
OPERATIONS = int(os.environ.get("WAYSTATION_CHAOS_OPERATIONS", "1200"))  # over all stations
SEED = int(os.environ.get("WAYSTATION_CHAOS_SEED", "20261127"))
# (how far the hub has got when the server goes down, how, for how long)
RESTARTS = ((0.2, "fast", 0.5), (0.5, "immediate", 1.5), (0.75, "fast", 3.0))


def test_postgres_restarts_mid_sync(chaos_cluster: PgCluster, company: Company) -> None:
    co = company
    rng = random.Random(SEED + 3)
    start = read_ledger(co.engine)
    sites = [co.add_station(f"PGRESTART-{i}") for i in range(1, STATIONS + 1)]
    room = Stockroom.of(sites[0].engine(), products=30)
    first = OPERATIONS // STATIONS
    played = [Played(s, s.play(room.random_actions(rng, first), durable=False)) for s in sites]
    total = OPERATIONS + STATIONS * 20 * len(RESTARTS)
    hub = co.hub().start()
    stations = [co.station(s).start() for s in sites]

    def applied() -> int:
        return int(co.scalar("SELECT count(*) FROM op_result"))

    for share, mode, down_for in RESTARTS:
        wait_for(
            f"{share:.0%} of the operations applied",
            lambda share=share: applied() >= share * OPERATIONS,  # type: ignore[misc]
            timeout=300,
            alive=[hub, *stations],
            context=co.runner.logs,
        )
        chaos_cluster.stop(mode)
        # People go on working while the central database is away.
        for p in played:
            p.ops += p.site.play(room.random_actions(rng, 20))
        time.sleep(down_for)
        chaos_cluster.start()
        co.engine.dispose()  # the test's own pooled connections died with the server

    wait_until_done(co, played, [hub, *stations], timeout=600)
    assert sum(len(p.ops) for p in played) == total
    for proc in [*stations, hub]:
        assert proc.starts == 1  # nobody restarted anything
        assert proc.stop() == 0, proc.log_tail()

    assert_exactly_once(co, played, start)
