"""Several hubs at once apply nothing twice and each station's operations in order; a hub runs
as a real process; a hub whose connections are cut reconnects by itself."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.store.models import Order
from app.sync.admin import StationLogin
from app.sync.appliers import REGISTRY, ApplyContext
from app.sync.ops import APPLIED, Op
from tests.sync.centralkit import ROOT, Central, central, make_op, running, wait_for_results

pytestmark = pytest.mark.postgres
__all__ = ["central"]

STATIONS = 6
OPS_EACH = 120


@pytest.fixture
def sequence_log(central: Central) -> Iterator[None]:
    """An applier that writes down the order operations are applied in (a test's own kind)."""
    with central.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE applied_log "
                "(n bigserial PRIMARY KEY, station_id uuid NOT NULL, seq bigint NOT NULL)"
            )
        )

    def log_it(ctx: ApplyContext, op: Op) -> None:
        ctx.session.execute(
            text("INSERT INTO applied_log (station_id, seq) VALUES (:s, :q)"),
            {"s": ctx.station_id, "q": op.seq},
        )

    REGISTRY["test.sequence"] = log_it
    try:
        yield
    finally:
        REGISTRY.pop("test.sequence", None)


def _pusher(c: Central, login: StationLogin, ops: list[Op], errors: list[BaseException]) -> None:
    try:
        for i in range(0, len(ops), 17):  # small batches, as a station online pushes
            c.push(login, ops[i : i + 17])
            time.sleep(0.005)
    except BaseException as e:
        errors.append(e)


def _sequence_ops(login: StationLogin) -> list[Op]:
    return [make_op(login.station_id, s, "test.sequence", {}, "") for s in range(1, OPS_EACH + 1)]


def test_three_hubs_apply_each_operation_once_and_in_station_order(
    central: Central, sequence_log: None
) -> None:
    logins = [central.add_station(f"ST-{n}") for n in range(STATIONS)]
    hubs = [central.hub(poll_interval=0.05, batch=25) for _ in range(3)]
    errors: list[BaseException] = []
    with running(*hubs) as hub_errors:
        pushers = [
            threading.Thread(
                target=_pusher,
                args=(central, login, _sequence_ops(login), errors),
            )
            for login in logins
        ]
        for t in pushers:
            t.start()
        for t in pushers:
            t.join()
        wait_for_results(central, STATIONS * OPS_EACH)

    assert hub_errors == []
    assert errors == []
    assert sum(h.applied_total for h in hubs) == STATIONS * OPS_EACH
    assert sum(1 for h in hubs if h.applied_total) >= 2, "the work was shared"
    with central.engine.connect() as conn:
        rows = conn.execute(text("SELECT station_id, seq FROM applied_log ORDER BY n")).all()
        progress = dict(
            conn.execute(text("SELECT station_id, applied_seq FROM station_progress")).all()
        )
    per_station: dict[uuid.UUID, list[int]] = defaultdict(list)
    for sid, seq in rows:
        per_station[sid].append(seq)
    for login in logins:
        assert per_station[login.station_id] == list(range(1, OPS_EACH + 1))
        assert progress[login.station_id] == OPS_EACH
    assert {r.result for r in central.results()} == {APPLIED}


def _claim_ops(login: StationLogin, order_id: uuid.UUID, count: int) -> list[Op]:
    kinds = ("order.pack_started", "order.set_aside")
    return [
        make_op(
            login.station_id, s, kinds[(s - 1) % 2], {"order_id": str(order_id)}, "order", order_id
        )
        if s % 5
        else make_op(
            login.station_id,
            s,
            "scan.rejected",
            {"raw": f"{login.role}-{s}", "reason": "?", "scan_id": str(uuid.uuid4())},
            "scan",
        )
        for s in range(1, count + 1)
    ]


def _hub_process(c: Central, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "hub",
                "--database-url",
                c.url,
                "--poll-interval",
                "0.2",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def _wait_started(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    deadline = time.monotonic() + 60
    while not all("hub started" in log.read_text() for log in logs):
        exited = [p.returncode for p in procs if p.poll() is not None]
        assert not exited, f"a hub ended while starting: {[log.read_text() for log in logs]}"
        assert time.monotonic() < deadline, "the hubs did not start within a minute"
        time.sleep(0.05)


@pytest.mark.slow
def test_two_hub_processes_share_the_inbox_and_write_a_gapless_feed(
    central: Central, tmp_path: Path
) -> None:
    logins = [central.add_station(f"PROC-{n}") for n in range(4)]
    with central.engine.connect() as conn:
        orders = list(conn.scalars(select(Order.id).where(Order.status == "confirmed").limit(4)))
    ops = {
        login.role: _claim_ops(login, oid, 150) for login, oid in zip(logins, orders, strict=True)
    }
    procs = [_hub_process(central, tmp_path / f"hub{n}.log") for n in range(2)]
    try:
        # Both hubs running before anything is pushed: otherwise the first can apply it all
        # while the second is still starting (and is then stopped before it has begun).
        _wait_started(procs, [tmp_path / f"hub{n}.log" for n in range(2)])
        errors: list[BaseException] = []
        pushers = [
            threading.Thread(target=_pusher, args=(central, login, ops[login.role], errors))
            for login in logins
        ]
        for t in pushers:
            t.start()
        for t in pushers:
            t.join()
        assert errors == []
        wait_for_results(central, 4 * 150)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=30) for p in procs]
    logs = [(tmp_path / f"hub{n}.log").read_text() for n in range(2)]
    assert codes == [0, 0], logs
    assert all("hub started" in log and "hub stopped after" in log for log in logs)
    results = central.results()
    assert len(results) == 600 and {r.result for r in results} == {APPLIED}
    with central.engine.connect() as conn:
        feed = conn.execute(
            text("SELECT pos, entity, entity_id, version FROM change_log ORDER BY pos")
        ).all()
        scans = conn.scalar(text("SELECT count(*) FROM scan_event WHERE raw LIKE '%st_proc_%'"))
        claims = dict(
            conn.execute(
                select(Order.id, Order.claimed_by_station).where(Order.id.in_(orders))
            ).all()
        )
    assert scans == 4 * 30, "each scan fact once"
    assert [r.pos for r in feed] == list(range(1, len(feed) + 1)), "positions without a gap"
    last_version: dict[tuple[str, uuid.UUID], int] = {}
    for row in feed:
        key = (row.entity, row.entity_id)
        assert row.version > last_version.get(key, 0), "versions only go up along the feed"
        last_version[key] = row.version
    # Each station's last order operation (149) is a claim: it holds its own order.
    assert claims == {oid: login.station_id for login, oid in zip(logins, orders, strict=True)}


def test_a_hub_whose_connections_are_cut_reconnects_and_goes_on(
    central: Central, caplog: pytest.LogCaptureFixture
) -> None:
    login = central.add_station("CUT")
    hub = central.hub(poll_interval=0.1)
    ops = [make_op(login.station_id, s, "print.reprinted", {}, "print_job") for s in range(1, 41)]
    caplog.set_level(logging.INFO, logger="waystation.hub")
    with running(hub) as errors:
        central.push(login, ops[:20])
        wait_for_results(central, 20)
        with central.engine.connect() as conn:
            cut = conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            )
        assert cut >= 1
        central.push(login, ops[20:])
        wait_for_results(central, 40, timeout=60)
    assert errors == []
    assert any(
        "central database unreachable" in r.getMessage() and "retrying in" in r.getMessage()
        for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
    assert [r.seq for r in central.results()] == list(range(1, 41))


def test_an_insert_wakes_the_hub_and_the_hub_wakes_the_warehouses_stations(
    central: Central,
) -> None:
    """With polling every 30 s, only the NOTIFYs can make this quick: the inbox trigger wakes
    the hub, and the hub's commit wakes a station LISTENing on its warehouse's channel."""
    from app.sync.feed import feed_channel

    login = central.add_station("WAKE")
    with central.engine.connect() as conn:
        order_id = conn.scalar(select(Order.id).where(Order.status == "confirmed").limit(1))
        warehouse = conn.scalar(text("SELECT warehouse_id FROM station WHERE name = 'WAKE'"))
    hub = central.hub(poll_interval=30)
    with running(hub) as errors, central.connect_as(login) as station:
        station.autocommit = True
        station.execute(f"LISTEN {feed_channel(warehouse)}")
        time.sleep(1.0)  # the hub has drained and is waiting on its LISTEN
        started = time.monotonic()
        central.push(
            login,
            [
                make_op(
                    login.station_id,
                    1,
                    "order.pack_started",
                    {"order_id": str(order_id)},
                    "order",
                    order_id,
                )
            ],
        )
        woke = next(station.notifies(timeout=10, stop_after=1), None)
        took = time.monotonic() - started
    assert errors == []
    assert woke is not None, "no NOTIFY reached the station"
    assert took < 5, f"{took:.1f} s: the hub was not woken by the insert"
    (result,) = central.results(login.station_id)
    assert result.result == APPLIED
    assert int(woke.payload) == result.pos, "the notification carries the feed's last position"
