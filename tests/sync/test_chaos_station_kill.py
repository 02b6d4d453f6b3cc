"""A station process killed with ``kill -9`` at 50 random points while it pushes 10,000
operations (and takes their results back), started again each time, then left to sync: every
operation is applied exactly once, the ledger adds up to what was done at the station, and its
outbox is empty (every operation done).

Real processes on a real PostgreSQL with fsync on: the hub (``waystation-admin hub``) and the
station (``waystation-admin station sync``).
"""

from __future__ import annotations

import os
import random

import pytest

from tests.sync.harness.checks import (
    Played,
    assert_exactly_once,
    outbox_states,
    wait_until_done,
)
from tests.sync.harness.company import Company
from tests.sync.harness.procs import kill_repeatedly
from tests.sync.harness.stockplay import Stockroom, read_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# The figures; the variables let a person rerun a failure smaller or with its seed.
OPERATIONS = int(os.environ.get("WAYSTATION_CHAOS_OPERATIONS", "10000"))
KILLS = int(os.environ.get("WAYSTATION_CHAOS_KILLS", "50"))
SEED = int(os.environ.get("WAYSTATION_CHAOS_SEED", "20261127"))


def test_station_killed_at_50_points_during_a_push_of_10000(company: Company) -> None:
    co = company
    rng = random.Random(SEED)
    site = co.add_station("KILLED-1")
    room = Stockroom.of(site.engine(), products=40)
    start = read_ledger(co.engine)
    played = Played(site, site.play(room.random_actions(rng, OPERATIONS), durable=False))
    assert outbox_states(site) == {f"pending/{None}": OPERATIONS}

    hub = co.hub().start()
    station = co.station(site)
    sid, role = site.station_id, site.login.role

    def connected(_proc: object) -> bool:
        return bool(co.scalar("SELECT count(*) FROM pg_stat_activity WHERE usename = :r", r=role))

    def pushed() -> float:
        return co.scalar("SELECT count(*) FROM inbox WHERE station_id = :s", s=sid) / OPERATIONS

    kills = kill_repeatedly(station, KILLS, rng, ready=connected, progress=pushed)

    during_push = [k for k in kills if k.progress_at_kill < 1]
    assert len(kills) == KILLS
    assert len(during_push) >= KILLS * 3 // 5, (
        f"only {len(during_push)} of {KILLS} kills landed while operations were still being "
        f"pushed: {[round(k.progress_at_kill, 3) for k in kills]}"
    )

    station.start()
    wait_until_done(co, [played], [station, hub], timeout=600)
    assert station.stop() == 0
    hub.check_alive()

    assert_exactly_once(co, [played], start)
