"""The station's sync worker on a real PostgreSQL and a real hub: it pushes when the station
acts, shows the truth in its status while the network is gone, comes back by itself, and the
headless ``waystation-admin station sync`` does the same in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from app.services import packing
from app.sync.worker import SyncWorker, backoff_delays
from tests.sync.centralkit import Central, central
from tests.sync.harness.proxy import PgProxy
from tests.sync.stationkit import add_bench, confirmed_orders, hub_running, station_config

pytestmark = pytest.mark.postgres
__all__ = ["central", "hub_running"]
ROOT = Path(__file__).resolve().parents[2]


def wait_until(what: str, check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout:g} s: {what}")


def test_backoff_doubles_from_half_a_second_to_thirty_with_jitter() -> None:
    delays = backoff_delays()
    first = [next(delays) for _ in range(12)]
    nominal = [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30]
    for got, want in zip(first, nominal, strict=True):
        assert want * 0.8 <= got <= min(30, want * 1.2)
    assert len({round(d, 6) for d in first[6:]}) > 1, "every station waits the same: no jitter"
    capped = [next(delays) for _ in range(200)]
    assert all(24 <= d <= 30 for d in capped)
    assert len({round(d, 3) for d in capped}) > 190, "stations at the cap come back together"


def test_the_worker_pushes_what_the_station_does_and_shows_it_done(
    central: Central, tmp_path: Path, hub_running: None
) -> None:
    b = add_bench(central, "PACK-01", tmp_path)
    worker = SyncWorker(b.ctx.config)
    worker.start()
    try:
        wait_until("online", lambda: worker.status.online)
        assert worker.status.reason == ""
        before = worker.status.last_sync_at
        assert before is not None
        number = confirmed_orders(b.ctx, 1)[0]
        with b.ctx.uow(b.sign_in()) as uow:
            packing.open_order(uow, number)
        started = time.monotonic()
        worker.wake()
        wait_until("the claim is done", lambda: worker.status.waiting == 0 and _done(b))
        assert time.monotonic() - started < 2.0, "a local action waited for the 2 s poll"
        assert worker.status.conflicts == 0
        assert worker.status.last_sync_at is not None
        assert worker.status.last_sync_at >= before
    finally:
        worker.stop()
        b.close()
    assert not worker.running


def _done(b: object) -> bool:
    from sqlalchemy import select

    from app.store.models import OutboxOp

    with b.ctx.engine.connect() as conn:  # type: ignore[attr-defined]
        return set(conn.scalars(select(OutboxOp.status))) == {"done"}


def test_offline_the_status_says_why_counts_what_waits_and_it_comes_back_by_itself(
    central: Central, tmp_path: Path, hub_running: None
) -> None:
    b = add_bench(central, "PACK-01", tmp_path)
    proxy = PgProxy(b.login.central.port)
    port = proxy.start()
    config = replace(b.ctx.config, central=replace(b.login.central, port=port))
    worker = SyncWorker(config)
    worker.start()
    try:
        wait_until("online through the proxy", lambda: worker.status.online)
        proxy.offline = True
        proxy.drop_all()
        wait_until("offline", lambda: not worker.status.online)
        assert "central database unreachable" in worker.status.reason
        first, second = confirmed_orders(b.ctx, 2)
        who = b.sign_in()
        for number in (first, second):
            with b.ctx.uow(who) as uow:
                packing.open_order(uow, number)
            worker.wake()
        wait_until("both counted while offline", lambda: worker.status.waiting == 2)
        assert not worker.status.online
        assert worker.status.unsent == 2
        proxy.calm()
        wait_until(
            "back online, done, and the status says so",
            lambda: worker.status.online and _done(b) and worker.status.waiting == 0,
            40,
        )
    finally:
        worker.stop()
        proxy.close()
        b.close()


def test_a_stopped_worker_stops_at_once_even_while_backing_off(
    central: Central, tmp_path: Path
) -> None:
    b = add_bench(central, "PACK-01", tmp_path)
    config = replace(b.ctx.config, central=replace(b.login.central, port=1))
    worker = SyncWorker(config)
    worker.start()
    wait_until("offline", lambda: worker.status.reason.startswith("central database unreach"))
    time.sleep(1.5)  # well into a backoff
    t0 = time.monotonic()
    worker.stop()
    assert time.monotonic() - t0 < 1.0
    assert not worker.running
    b.close()


def test_a_worker_whose_connection_went_silent_stops_within_seconds(
    central: Central, tmp_path: Path
) -> None:
    """Closing the station while a push waits on a connection that never answers does not
    wait out the call deadline: after a short grace the connection is cut."""
    b = add_bench(central, "PACK-01", tmp_path)
    proxy = PgProxy(b.login.central.port)
    port = proxy.start()
    worker = SyncWorker(replace(b.ctx.config, central=replace(b.login.central, port=port)))
    worker.start()
    try:
        wait_until("online through the proxy", lambda: worker.status.online)
        proxy.sever()  # every byte from now on goes nowhere, and the sockets stay open
        with b.ctx.uow(b.sign_in()) as uow:
            packing.open_order(uow, confirmed_orders(b.ctx, 1)[0])
        worker.wake()
        time.sleep(1.0)  # the push is under way, waiting for an answer
        t0 = time.monotonic()
        worker.stop()
        took = time.monotonic() - t0
    finally:
        proxy.close()
        b.close()
    assert not worker.running
    assert took < 8, f"the worker took {took:.1f} s to stop"


def _toml(config: object, path: Path) -> Path:
    from app.config import save_config

    return save_config(config, path)  # type: ignore[arg-type]


def test_station_sync_once_in_a_process_of_its_own(central: Central, tmp_path: Path) -> None:
    login = central.add_station("PACK-01")
    config = station_config(central, login, tmp_path)
    toml = _toml(config, tmp_path / "station.toml")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "app.cli", "station", "sync", "--config", str(toml), "--once"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert "station PACK-01 caught up: cursor" in first.stdout
    # The station (loaded by that run) opens an order; --until-done waits for its result.
    from app.bootstrap import bootstrap
    from app.services import auth

    ctx = bootstrap(config)
    number = confirmed_orders(ctx, 1)[0]
    with ctx.uow() as uow:
        who = auth.sign_in_badge(uow, "OP-1001")
    with ctx.uow(who) as uow:
        packing.open_order(uow, number)
    ctx.dispose()
    hub = central.hub()
    done = threading.Thread(target=hub.run, daemon=True)
    done.start()
    try:
        second = subprocess.run(
            [*cmd[:-1], "--until-done", "--timeout", "60"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        hub.stop()
        done.join(10)
    assert second.returncode == 0, second.stderr
    assert "0 operation(s) waiting, 0 conflict(s)" in second.stdout


def test_station_sync_without_a_central_section_says_what_to_add(tmp_path: Path) -> None:
    from app.config import StationConfig

    toml = _toml(StationConfig(database_url=f"sqlite:///{tmp_path}/s.db"), tmp_path / "s.toml")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "station", "sync", "--config", str(toml), "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 1
    assert "has no [central] section" in out.stderr
    assert "waystation-admin station add" in out.stderr
