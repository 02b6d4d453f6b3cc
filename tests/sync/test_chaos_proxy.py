"""The network between the programs and PostgreSQL breaks: each station and the hub reach the
central database through a TCP proxy of the test's own, which loses the server's answer to
COMMIT after the server committed, cuts connections at random, cuts them all at once, and
refuses new ones for a while. Every operation is applied exactly once."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator

import pytest

from tests.sync.harness.checks import (
    Played,
    assert_exactly_once,
    outbox_states,
    wait_until_done,
)
from tests.sync.harness.company import Company, Site
from tests.sync.harness.pgcluster import PgCluster
from tests.sync.harness.procs import wait_for
from tests.sync.harness.proxy import PgProxy
from tests.sync.harness.stockplay import Stockroom, read_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STATIONS = 2
OPERATIONS = int(os.environ.get("WAYSTATION_CHAOS_OPERATIONS", "1200"))  # over all stations
SEED = int(os.environ.get("WAYSTATION_CHAOS_SEED", "20261127"))


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
    # 1. Every answer to a station's COMMIT lost after the server committed, and a third of
    # the hub's: the stations' pushes land in the inbox while the stations still hold every
    # operation as not sent, and some of the hub's rounds commit while it takes them for failed.
    for p in station_proxies:
        p.commit_drop = 1.0
    hub_proxy.commit_drop = 0.3
    hub = co.hub(port=hub_proxy.port).start()
    stations = [co.station(s).start() for s in sites]
    programs = [hub, *stations]

    def applied() -> int:
        return int(co.scalar("SELECT count(*) FROM op_result"))

    def until(what: str, check: Callable[[], bool]) -> None:
        wait_for(
            what,
            check,
            timeout=300,
            alive=programs,
            context=lambda: f"{[dict(p.stats) for p in proxies]}\n{co.runner.logs()}",
        )

    def in_inbox(site: Site) -> int:
        return int(co.scalar("SELECT count(*) FROM inbox WHERE station_id = :s", s=site.station_id))

    for site in sites:
        until(f"{site.name}'s push committed", lambda site=site: in_inbox(site) >= 1)  # type: ignore[misc]
        assert outbox_states(site) == {"pending/None": each}, "the station heard of its push"
    until("the hub to lose a commit's answer", lambda: hub_proxy.stats["commit_answers_lost"] >= 1)
    # 2. Every connection cut within its next 30 messages (how many, drawn at random), in the
    # middle of whatever it carries then, and a third of the COMMIT answers lost.
    for p in proxies:
        p.commit_drop = 0.3
        p.doom_within = 30
        p.random_drop = 1.0
    until("random drops at every proxy", lambda: all(p.stats["drops_random"] for p in proxies))
    for p in proxies:
        p.commit_drop = p.random_drop = 0.0
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

    wait_until_done(co, played, programs, timeout=600)
    for proc in programs:
        assert proc.starts == 1
        assert proc.stop() == 0, proc.log_tail()

    for p in proxies:
        assert p.stats["commit_answers_lost"] >= 1, dict(p.stats)
    assert sum(p.stats["drops_drop_all"] for p in proxies) >= 1
    assert sum(p.stats["refused"] for p in proxies) >= 1
    assert sum(p.stats["drops_random"] for p in proxies) >= 1
    assert_exactly_once(co, played, start)


def test_a_silent_network_does_not_wedge_the_sync(company: Company, proxies: list[PgProxy]) -> None:
    """The connections in use go silent for good (a middlebox lost its state: no reset, no
    answer, ever) in the middle of the work; new connections get through again three seconds
    later. Station and hub give up on the dead connections by themselves and finish within
    40 s, with what people recorded meanwhile."""
    co = company
    rng = random.Random(SEED + 5)
    station_proxy, _, hub_proxy = proxies
    start = read_ledger(co.engine)
    site = co.add_station("SILENT-1", via=station_proxy)
    room = Stockroom.of(site.engine(), products=30)
    played = Played(site, site.play(room.random_actions(rng, 600), durable=False))
    hub = co.hub(port=hub_proxy.port).start()
    station = co.station(site).start()
    wait_for(
        "the hub's first round",
        lambda: co.scalar("SELECT count(*) FROM op_result") >= 1,
        timeout=300,
        alive=[hub, station],
    )
    for p in (station_proxy, hub_proxy):
        p.sever()
    played.ops += site.play(room.random_actions(rng, 20))
    time.sleep(3)
    for p in (station_proxy, hub_proxy):
        p.heal()
    played.ops += site.play(room.random_actions(rng, 20))

    wait_until_done(co, [played], [hub, station], timeout=40)
    assert station_proxy.stats["severed"] >= 1
    assert hub_proxy.stats["severed"] >= 1
    for proc in (hub, station):
        assert proc.stop() == 0, proc.log_tail()
    assert_exactly_once(co, [played], start)
