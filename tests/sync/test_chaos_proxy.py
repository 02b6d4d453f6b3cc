"""The network between the programs and PostgreSQL breaks: each station and the hub reach the
central database through a TCP proxy of the test's own, which loses the server's answer to
COMMIT after the server committed, cuts connections at random, cuts them all at once, and
refuses new ones for a while. Every operation is applied exactly once."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.harness.checks import Played, all_done, assert_exactly_once, outbox_states
from tests.sync.harness.company import Company
from tests.sync.harness.pgcluster import PgCluster
from tests.sync.harness.procs import Runner, wait_for
from tests.sync.harness.proxy import PgProxy
from tests.sync.harness.stockplay import Stockroom, read_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STATIONS = 2
OPERATIONS = int(os.environ.get("WAYSTATION_CHAOS_OPERATIONS", "2000"))  # over all stations
SEED = int(os.environ.get("WAYSTATION_CHAOS_SEED", "20261127"))


@pytest.fixture
def company(chaos_cluster: PgCluster, tmp_path: Path) -> Iterator[Company]:
    with Runner(tmp_path / "logs") as runner, Company(chaos_cluster.url(), tmp_path, runner) as co:
        yield co


@pytest.fixture
def proxies(chaos_cluster: PgCluster) -> Iterator[list[PgProxy]]:
    """One proxy per station and one for the hub (the last)."""
    made = [PgProxy(chaos_cluster.port, seed=SEED + i) for i in range(STATIONS + 1)]
    for p in made:
        p.start()
    yield made
    for p in made:
        p.close()


def test_connections_dropped_even_after_a_commit(company: Company, proxies: list[PgProxy]) -> None:
    co = company
    rng = random.Random(SEED + 4)
    *station_proxies, hub_proxy = proxies
    start = read_ledger(co.engine)
    sites = [co.add_station(f"PROXY-{i}", via=proxy) for i, proxy in enumerate(station_proxies, 1)]
    room = Stockroom.of(sites[0].engine(), products=30)
    each = OPERATIONS // STATIONS
    played = [Played(s, s.play(room.random_actions(rng, each), durable=False)) for s in sites]
    hub = co.hub(port=hub_proxy.port).start()
    stations = [co.station(s).start() for s in sites]
    programs = [hub, *stations]

    def applied() -> float:
        return co.scalar("SELECT count(*) FROM op_result") / OPERATIONS

    def reached(share: float, what: str) -> None:
        wait_for(
            f"{share:.0%} applied ({what})",
            lambda: applied() >= share,
            timeout=300,
            alive=programs,
            context=lambda: f"{[dict(p.stats) for p in proxies]}\n{co.runner.logs()}",
        )

    # 1. Half the COMMIT answers lost after the server committed, both ways up.
    for p in proxies:
        p.commit_drop = 0.5
    reached(0.3, "answers to COMMIT lost")
    # 2. A third of the connections cut at random in the middle of whatever they carry.
    for p in proxies:
        p.commit_drop = 0.0
        p.random_drop = 0.3
    reached(0.55, "random drops")
    for p in proxies:
        p.random_drop = 0.0
    # 3. Every connection cut at once, again and again, and an outage: new connections
    # refused for three seconds.
    for _ in range(5):
        for p in proxies:
            p.drop_all()
        time.sleep(rng.uniform(0.1, 0.5))
    for p in proxies:
        p.offline = True
        p.drop_all()
    time.sleep(3)
    for p in proxies:
        p.calm()

    wait_for(
        "every station to have every operation done",
        lambda: all(all_done(s, each) for s in sites),
        timeout=600,
        alive=programs,
        context=lambda: f"{[outbox_states(s) for s in sites]}\n{co.runner.logs()}",
    )
    for proc in programs:
        assert proc.starts == 1
        assert proc.stop() == 0, proc.log_tail()

    # The faults did happen, where they hurt: commits whose answer never came, at the
    # stations (a pushed batch) and at the hub (an applied round).
    for p in proxies:
        assert p.stats["commit_answers_lost"] >= 1, dict(p.stats)
        assert p.stats["drops_drop_all"] >= 1, dict(p.stats)
    assert sum(p.stats["refused"] for p in proxies) >= 1
    assert sum(p.stats["drops_random"] for p in proxies) >= 1
    assert_exactly_once(co, played, start)


def test_a_silent_network_does_not_wedge_the_sync(company: Company, proxies: list[PgProxy]) -> None:
    """The connections in use go silent for good (a middlebox lost its state: no reset, no
    answer, ever); new connections work again a few seconds later. Station and hub give up on
    the dead connections by themselves and finish."""
    co = company
    rng = random.Random(SEED + 5)
    station_proxy, _, hub_proxy = proxies
    start = read_ledger(co.engine)
    site = co.add_station("SILENT-1", via=station_proxy)
    room = Stockroom.of(site.engine(), products=30)
    played = Played(site, site.play(room.random_actions(rng, 400), durable=False))
    hub = co.hub(port=hub_proxy.port).start()
    station = co.station(site).start()
    wait_for(
        "some operations applied",
        lambda: co.scalar("SELECT count(*) FROM op_result") >= 100,
        timeout=300,
        alive=[hub, station],
    )
    for p in (station_proxy, hub_proxy):
        p.sever()
    time.sleep(3)
    for p in (station_proxy, hub_proxy):
        p.heal()

    wait_for(
        "the station to have every operation done",
        lambda: all_done(site, len(played.ops)),
        timeout=60,
        alive=[hub, station],
        context=lambda: f"{outbox_states(site)}\n{co.runner.logs()}",
    )
    assert station_proxy.stats["severed"] >= 1
    assert hub_proxy.stats["severed"] >= 1
    for proc in (hub, station):
        assert proc.stop() == 0, proc.log_tail()
    assert_exactly_once(co, [played], start)
