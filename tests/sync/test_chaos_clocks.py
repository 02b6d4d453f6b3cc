"""Station clocks a day wrong — one a day fast, one a day slow, one that jumps from a day fast
to a day slow between two stretches of work — change nothing: operations apply in each
station's own order, the oversells are the ones that order makes, and every station ends with
central's ledger. The clocks really were off: the times the stations wrote are a day away from
the central database's.

Every action and every sync runs in a station process of its own with its clock offset
(``WAYSTATION_CLOCK_OFFSET_S``, honoured by app/clock.py).
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests.sync.harness.checks import Played, assert_exactly_once, wait_until_done
from tests.sync.harness.company import Company
from tests.sync.harness.procs import wait_for
from tests.sync.harness.stockplay import Action, Stockroom, read_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DAY = 24 * 3600.0


def skew_hours(co: Company, ops: list[tuple[object, Action]]) -> set[int]:
    """How many hours ahead of the central clock each operation's station time was."""
    rows = co.rows(
        "SELECT created_at - received_at FROM inbox WHERE op_id = ANY(:ids)",
        ids=[op_id for op_id, _ in ops],
    )
    assert len(rows) == len(ops)
    return {round(r[0] / timedelta(hours=1)) for r in rows}


def test_station_clocks_a_day_off(company: Company) -> None:
    co = company
    rng = random.Random(9)
    start = read_ledger(co.engine)
    fast = co.add_station("CLOCK-FAST", clock_offset_s=DAY)
    slow = co.add_station("CLOCK-SLOW", clock_offset_s=-DAY)
    jumpy = co.add_station("CLOCK-JUMPS", clock_offset_s=DAY)
    room = Stockroom.of(fast.engine(), products=12)
    # One bin only the jumpy station touches: what its oversells are depends on its own order.
    (product, bin_), others = room.places[0], Stockroom(room.places[1:], room.totes)
    have = start[(product, bin_)]

    def sale(qty: int, ref: str) -> Action:
        return Action("sale", product, bin_, qty, ref=ref)

    first = jumpy.play_elsewhere([sale(have + 3, "J-1"), *others.random_actions(rng, 15)])
    slow_ops = slow.play_elsewhere(others.random_actions(rng, 15))
    jumpy.clock_offset_s = -DAY  # its clock jumps back two days
    later = jumpy.play_elsewhere(
        [
            Action("return", product, bin_, 10, ref="J-2"),  # -3 → 7
            sale(7, "J-3"),  # → 0
            sale(1, "J-4"),  # → -1: the second oversell
            *others.random_actions(rng, 15),
        ]
    )
    fast_ops = fast.play_elsewhere(others.random_actions(rng, 15))
    played = [Played(fast, fast_ops), Played(slow, slow_ops), Played(jumpy, first + later)]

    # The stations sync (with their clocks) before any hub runs: everything waits in the
    # inbox together, then the hub applies it.
    stations = [co.station(s).start() for s in (fast, slow, jumpy)]
    total = sum(len(p.ops) for p in played)
    wait_for(
        "every operation in the inbox",
        lambda: co.scalar("SELECT count(*) FROM inbox") == total,
        timeout=120,
        alive=stations,
    )
    assert skew_hours(co, first) == {24}
    assert skew_hours(co, later) == {-24}
    assert skew_hours(co, slow_ops) == {-24}
    assert skew_hours(co, fast_ops) == {24}
    hub = co.hub().start()
    wait_until_done(co, played, [hub, *stations], timeout=300)
    for proc in [hub, *stations]:
        assert proc.stop() == 0, proc.log_tail()

    assert_exactly_once(co, played, start)
    # In the jumpy station's order: J-1 oversells, J-4 does. Ordered by its clock, J-2..J-4
    # would come first and only J-1 would.
    q_ops = {
        op_id for op_id, a in first + later if (a.product_id, a.location_id) == (product, bin_)
    }
    oversold = {
        r[0]
        for r in co.rows("SELECT op_id FROM exception_task WHERE kind = 'oversell'")
        if r[0] in q_ops
    }
    assert oversold == {first[0][0], later[2][0]}
