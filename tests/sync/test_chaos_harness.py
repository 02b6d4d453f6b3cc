"""The chaos harness does what the chaos tests count on: the cluster keeps what it committed
across a fast stop, the proxy really loses a COMMIT's answer after the server committed, and a
killed process is gone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.sync.harness.pgcluster import PgCluster
from tests.sync.harness.procs import Runner, wait_for
from tests.sync.harness.proxy import PgProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def table(chaos_cluster: PgCluster, chaos_db: str) -> str:
    with psycopg.connect(chaos_cluster.conninfo(chaos_db), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    return chaos_db


@pytest.fixture
def proxy(chaos_cluster: PgCluster) -> Iterator[PgProxy]:
    with PgProxy(chaos_cluster.port, seed=7) as p:
        yield p


def via(proxy: PgProxy, db: str) -> str:
    return f"host=127.0.0.1 port={proxy.port} dbname={db} user=postgres connect_timeout=5"


def rows(cluster: PgCluster, db: str) -> list[int]:
    with psycopg.connect(cluster.conninfo(db)) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM t ORDER BY id")]


def test_cluster_runs_with_fsync_and_keeps_commits_across_a_fast_restart(
    chaos_cluster: PgCluster, table: str
) -> None:
    conn = psycopg.connect(chaos_cluster.conninfo(table), autocommit=True)
    assert conn.execute("SHOW fsync").fetchone() == ("on",)
    assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
    conn.execute("INSERT INTO t VALUES (1)")

    chaos_cluster.fast_restart()

    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")  # the restart cut the connection
    conn.close()
    assert rows(chaos_cluster, table) == [1]


def test_cluster_recovers_from_a_crash_with_what_it_committed(
    chaos_cluster: PgCluster, table: str
) -> None:
    with psycopg.connect(chaos_cluster.conninfo(table)) as conn:
        conn.execute("INSERT INTO t SELECT generate_series(1, 500)")
    open_tx = psycopg.connect(chaos_cluster.conninfo(table))
    open_tx.execute("INSERT INTO t VALUES (1000)")  # never committed

    chaos_cluster.crash_restart()

    open_tx.close()
    assert rows(chaos_cluster, table) == list(range(1, 501))


def test_proxy_passes_large_answers_through(
    chaos_cluster: PgCluster, table: str, proxy: PgProxy
) -> None:
    with psycopg.connect(via(proxy, table)) as conn:
        got = conn.execute("SELECT g, repeat('x', 300) FROM generate_series(1, 20000) g").fetchall()
        conn.execute("INSERT INTO t VALUES (5)")
    assert [g for g, _ in got] == list(range(1, 20001))
    assert rows(chaos_cluster, table) == [5]
    assert proxy.stats["commits"] == 1
    assert proxy.stats["drops"] == 0


@pytest.mark.parametrize("sslmode", ["prefer", "disable"])
def test_commit_answer_lost_after_the_server_committed(
    chaos_cluster: PgCluster, table: str, proxy: PgProxy, sslmode: str
) -> None:
    proxy.commit_drop = 1.0
    conn = psycopg.connect(via(proxy, table) + f" sslmode={sslmode}")
    conn.execute("INSERT INTO t VALUES (7)")
    with pytest.raises(psycopg.OperationalError):
        conn.commit()  # the client cannot tell whether it committed...
    conn.close()
    assert rows(chaos_cluster, table) == [7]  # ...and it did
    assert proxy.stats["commit_answers_lost"] == 1


def test_an_autocommit_write_is_a_commit_too(
    chaos_cluster: PgCluster, table: str, proxy: PgProxy
) -> None:
    proxy.commit_drop = 1.0
    conn = psycopg.connect(via(proxy, table), autocommit=True)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)  # a read passes
    with pytest.raises(psycopg.OperationalError):
        conn.execute("INSERT INTO t VALUES (9)")  # one statement, its own transaction
    conn.close()
    assert rows(chaos_cluster, table) == [9]
    assert proxy.stats["commit_answers_lost"] == 1


def test_writes_inside_a_transaction_wait_for_its_commit(
    chaos_cluster: PgCluster, table: str, proxy: PgProxy
) -> None:
    proxy.commit_drop = 1.0
    conn = psycopg.connect(via(proxy, table))
    conn.execute("INSERT INTO t VALUES (10)")  # the transaction is still open: answered
    conn.execute("UPDATE t SET id = 11")
    with pytest.raises(psycopg.OperationalError):
        conn.commit()
    conn.close()
    assert rows(chaos_cluster, table) == [11]
    assert proxy.stats["commit_answers_lost"] == 1


def test_rolled_back_transactions_are_not_taken_for_commits(
    chaos_cluster: PgCluster, table: str, proxy: PgProxy
) -> None:
    proxy.commit_drop = 1.0
    conn = psycopg.connect(via(proxy, table))
    conn.execute("INSERT INTO t VALUES (8)")
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    conn.rollback()
    conn.close()
    assert proxy.stats["drops"] == 0


def test_drop_all_and_offline(chaos_cluster: PgCluster, table: str, proxy: PgProxy) -> None:
    conn = psycopg.connect(via(proxy, table), autocommit=True)
    conn.execute("SELECT 1")
    assert proxy.drop_all() == 1
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")
    conn.close()

    proxy.offline = True
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(via(proxy, table))
    assert proxy.stats["refused"] == 1

    proxy.calm()
    with psycopg.connect(via(proxy, table)) as conn:
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_random_drops_hit_some_statements_and_spare_the_rest(
    chaos_cluster: PgCluster, table: str, proxy: PgProxy
) -> None:
    proxy.random_drop = 0.5  # half the connections die within their first 20 messages
    proxy.doom_within = 20
    ok = failed = 0
    for i in range(200):
        try:
            with psycopg.connect(via(proxy, table)) as conn:
                conn.execute("INSERT INTO t VALUES (%s)", (i,))
            ok += 1
        except psycopg.OperationalError:
            failed += 1
    assert ok > 0
    assert failed > 0
    assert proxy.stats["drops_random"] >= failed
    assert len(rows(chaos_cluster, table)) >= ok  # a lost answer may still have committed


def test_blackhole_stalls_until_lifted(
    chaos_cluster: PgCluster, table: str, proxy: PgProxy
) -> None:
    conn = psycopg.connect(via(proxy, table), autocommit=True)
    proxy.set_blackhole(True)
    answer: list[object] = []
    worker = threading.Thread(target=lambda: answer.append(conn.execute("SELECT 3").fetchone()))
    worker.start()
    worker.join(timeout=0.5)
    assert answer == []  # nothing moves, and nothing tells the client
    proxy.set_blackhole(False)
    worker.join(timeout=5)
    assert answer == [(3,)]
    conn.close()


def test_kill9_ends_a_process_at_once(tmp_path: Path) -> None:
    with Runner(tmp_path) as runner:
        sleeper = runner.program("sleeper", "timeit", ["-n", "1", "import time; time.sleep(60)"])
        sleeper.start()
        time.sleep(0.2)
        assert sleeper.alive
        sleeper.kill9()
        assert not sleeper.alive
        assert (sleeper.starts, sleeper.kills) == (1, 1)
        done = runner.program("done", "timeit", ["-n", "1", "pass"]).start()
        wait_for("a short program to end", lambda: not done.alive, timeout=30)
        assert done.exits == [0]


def test_sever_silences_connections_for_good(
    chaos_cluster: PgCluster, table: str, proxy: PgProxy
) -> None:
    old = psycopg.connect(via(proxy, table), autocommit=True)
    proxy.sever()
    answer: list[object] = []

    def ask() -> None:
        try:
            answer.append(old.execute("SELECT 4").fetchone())
        except psycopg.OperationalError as e:
            answer.append(e)

    worker = threading.Thread(target=ask)
    worker.start()
    worker.join(timeout=0.5)
    assert answer == []
    proxy.heal()
    with psycopg.connect(via(proxy, table)) as conn:  # new connections get through again
        assert conn.execute("SELECT 5").fetchone() == (5,)
    worker.join(timeout=0.5)
    assert answer == []  # the old one never hears back
    proxy.drop_all()
    worker.join(timeout=5)
    assert len(answer) == 1
    assert isinstance(answer[0], psycopg.OperationalError)
    old.close()
