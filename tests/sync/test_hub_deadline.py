"""A connection that stops answering cannot hold the hub: past the round's deadline its socket
is shut down, the blocked call fails like a lost connection, and the hub carries on."""

from __future__ import annotations

import logging
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.sync.deadline import Deadline
from app.sync.ops import APPLIED
from tests.sync.centralkit import Central, central, make_op, running, wait_for_results
from tests.sync.harness.proxy import PgProxy

pytestmark = pytest.mark.postgres
__all__ = ["central"]


def test_a_call_that_never_answers_is_cut_at_the_deadline(central: Central) -> None:
    deadline = Deadline(1.0, "a test query")
    conn = psycopg.connect(central.url.replace("+psycopg", ""))
    deadline.watch(conn)
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError), deadline.guard():
        conn.execute("SELECT pg_sleep(60)")  # the server says nothing for a minute
    assert time.monotonic() - started < 10
    assert deadline.cuts == 1
    conn.close()
    quick = psycopg.connect(central.url.replace("+psycopg", ""))
    deadline.watch(quick)
    with deadline.guard():
        assert quick.execute("SELECT 1").fetchone() == (1,)
    time.sleep(1.5)
    assert deadline.cuts == 1, "a block that ended in time cuts nothing later"
    quick.close()


def test_the_guard_ends_only_once_its_cut_is_complete(
    central: Central, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blocked call fails the moment its socket goes, while the cut is still noting the
    server session it leaves behind (slowed down here): the block ends after the cut, so what
    it counted and left for the next connection to end is there when the block is over."""
    from app.sync import deadline as module

    real = module._shut_down

    def slow(conn: object) -> int | None:
        pid = real(conn)
        time.sleep(0.5)
        return pid

    monkeypatch.setattr(module, "_shut_down", slow)
    deadline = Deadline(0.5, "a test query")
    conn = psycopg.connect(central.url.replace("+psycopg", ""))
    deadline.watch(conn)
    try:
        with pytest.raises(psycopg.OperationalError), deadline.guard():
            conn.execute("SELECT pg_sleep(60)")
        assert deadline.cuts == 1
        fresh = psycopg.connect(central.url.replace("+psycopg", ""), autocommit=True)
        try:
            assert deadline.reap(fresh) == 1, "the session behind the cut socket was noted"
        finally:
            fresh.close()
    finally:
        conn.close()


def test_a_cut_connections_server_session_is_ended_by_the_next_connection(
    central: Central,
) -> None:
    """The network goes silent while a connection holds a row lock in an open transaction:
    cutting the socket frees the client, but the server session behind it waits on for ever,
    lock held (no reset reaches it; in the middle of a message no idle timeout ends it either).
    The next connection the deadline watches ends that session, and only that one."""
    direct = central.url.replace("+psycopg", "")
    server = make_url(central.url)
    proxy = PgProxy(int(server.port or 5432), server.host or "127.0.0.1")
    proxy.start()
    setup = psycopg.connect(direct, autocommit=True)
    opened = [setup]
    setup.execute("CREATE TABLE probe (id int PRIMARY KEY)")
    setup.execute("INSERT INTO probe VALUES (1)")
    try:
        deadline = Deadline(1.0, "a test round")
        held = psycopg.connect(
            make_url(direct).set(port=proxy.port).render_as_string(hide_password=False)
        )
        opened.append(held)
        deadline.watch(held)
        held.execute("SELECT id FROM probe WHERE id = 1 FOR UPDATE")
        proxy.sever()
        with pytest.raises(psycopg.OperationalError), deadline.guard():
            held.execute("SELECT 1")
        assert deadline.cuts == 1
        time.sleep(1)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            setup.execute("SELECT id FROM probe WHERE id = 1 FOR UPDATE NOWAIT")

        bystander = psycopg.connect(direct)  # the same login, not cut: left alone
        fresh = psycopg.connect(direct, autocommit=True)
        opened += [bystander, fresh]
        deadline.watch(fresh)
        assert deadline.reap(fresh) == 1
        assert deadline.reap(fresh) == 0, "each stuck session is ended once"
        with setup.transaction():
            assert setup.execute("SELECT id FROM probe WHERE id = 1 FOR UPDATE NOWAIT").fetchall()
        assert bystander.execute("SELECT 1").fetchone() == (1,)
    finally:
        proxy.close()
        for conn in opened:
            conn.close()


def test_a_hub_whose_round_hangs_cuts_it_and_goes_on(
    central: Central, caplog: pytest.LogCaptureFixture
) -> None:
    """A lock held elsewhere stands in for a database that stopped answering in the middle of
    a round: the hub cuts its connection at the deadline, keeps trying, and applies everything
    once the way is clear — once."""
    login = central.add_station("HANG")
    hub = central.hub(poll_interval=0.1, round_deadline=2.0)
    caplog.set_level(logging.WARNING)
    blocker = central.engine.connect()
    tx = blocker.begin()
    blocker.execute(text("LOCK TABLE op_result IN ACCESS EXCLUSIVE MODE"))
    with running(hub) as errors:
        central.push(
            login, [make_op(login.station_id, s, "print.reprinted", {}, "") for s in (1, 2)]
        )
        time.sleep(7)  # several deadlines pass while the round cannot finish
        tx.rollback()
        blocker.close()
        wait_for_results(central, 2, timeout=60)
    assert errors == []
    assert hub.deadline.cuts >= 1
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "A hub round took longer than 2 s" in m and "1 connection(s) cut" in m for m in messages
    ), messages
    assert [(r.seq, r.result) for r in central.results()] == [(1, APPLIED), (2, APPLIED)]


def test_a_hub_stopped_while_its_round_hangs_stops_within_seconds(central: Central) -> None:
    """A stop (SIGTERM from the service manager) while the round's connection gets no answer
    does not wait out the round deadline: after a short grace the connection is cut."""
    import threading

    login = central.add_station("STOPPING")
    hub = central.hub(poll_interval=0.1, round_deadline=60.0)
    blocker = central.engine.connect()
    tx = blocker.begin()
    blocker.execute(text("LOCK TABLE op_result IN ACCESS EXCLUSIVE MODE"))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            hub.run()
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        central.push(login, [make_op(login.station_id, 1, "print.reprinted", {}, "")])
        until = time.monotonic() + 30
        while _waiting_on_locks(central) == 0:  # the round waits on the lock
            assert time.monotonic() < until, "the hub never got to the locked table"
            time.sleep(0.05)
        asked = time.monotonic()
        hub.stop()
        thread.join(30)
        took = time.monotonic() - asked
    finally:
        tx.rollback()
        blocker.close()
    assert not thread.is_alive()
    assert errors == []
    assert took < 10, f"the hub took {took:.1f} s to stop"
    assert central.results() == [], "the cut round applied nothing"


def _waiting_on_locks(c: Central) -> int:
    with c.engine.connect() as conn:
        return int(
            conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
            or 0
        )
