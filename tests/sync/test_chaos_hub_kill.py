"""The hub applying three stations' operations is killed with ``kill -9`` at random points
while it applies (many of them inside its applying transaction) and started again each time;
then two hubs finish the work together: every operation is applied exactly once, the ledger
adds up to what was done at the stations, and every station's outbox is empty.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.sync.harness.checks import Played, assert_exactly_once, wait_until_done
from tests.sync.harness.company import Company
from tests.sync.harness.procs import Proc, kill_repeatedly, wait_for
from tests.sync.harness.stockplay import Stockroom, read_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STATIONS = 3
OPERATIONS = int(os.environ.get("WAYSTATION_CHAOS_OPERATIONS", "3000"))  # over all stations
KILLS = int(os.environ.get("WAYSTATION_CHAOS_KILLS", "15"))
SEED = int(os.environ.get("WAYSTATION_CHAOS_SEED", "20261127"))


def test_hub_killed_at_random_points_mid_apply(company: Company) -> None:
    co = company
    rng = random.Random(SEED + 2)
    start = read_ledger(co.engine)
    sites = [co.add_station(f"HUBKILL-{i}") for i in range(1, STATIONS + 1)]
    room = Stockroom.of(sites[0].engine(), products=30)
    each = OPERATIONS // STATIONS
    # The stations sell from the same bins: the oversells depend on the order central applies.
    played = [Played(s, s.play(room.random_actions(rng, each), durable=False)) for s in sites]
    stations = [co.station(s).start() for s in sites]
    hub, second = co.hub("hub-a"), co.hub("hub-b")

    def applied() -> float:
        return co.scalar("SELECT count(*) FROM op_result") / OPERATIONS

    mid_transaction: list[str] = []

    def note(victim: Proc) -> None:
        if co.in_transaction(victim.name):
            mid_transaction.append(victim.name)

    kills = kill_repeatedly(
        hub,
        KILLS,
        rng,
        ready=lambda hub: co.connected(hub.name),
        progress=applied,
        before_kill=note,
    )

    while_applying = [k for k in kills if k.progress_at_kill < 1]
    assert len(while_applying) >= KILLS * 3 // 5, [round(k.progress_at_kill, 3) for k in kills]
    assert len(mid_transaction) >= KILLS // 5, (
        f"only {len(mid_transaction)} of {KILLS} kills caught a hub inside its transaction"
    )
    # Spread over the job: kills in its first half and in its second, not only at the start.
    halves = {k.progress_at_kill < 0.5 for k in while_applying}
    assert halves == {True, False}, [round(k.progress_at_kill, 3) for k in kills]

    hubs = [hub.start(), second.start()]
    wait_until_done(co, played, [*hubs, *stations], timeout=600)
    # One may have been done before the other was up: a hub still starting dies of SIGTERM.
    wait_for("both hubs up", lambda: all(co.connected(h.name) for h in hubs), 60, alive=hubs)
    for proc in [*stations, *hubs]:
        assert proc.stop() == 0, proc.log_tail()

    assert_exactly_once(co, played, start)
