"""Fixtures of the sync tests: a PostgreSQL cluster of their own (fsync on) that a test may
stop and start, with a fresh database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.harness.company import Company
from tests.sync.harness.pgcluster import PgCluster
from tests.sync.harness.procs import Runner


@pytest.fixture(scope="session", autouse=True)
def _drop_company_templates() -> Iterator[None]:
    """The template databases the chaos tests copy companies from go at the end."""
    yield
    from tests.sync.harness.company import drop_templates

    drop_templates()


@pytest.fixture(scope="session")
def chaos_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL server for the chaos tests only: restarting it hurts no other test."""
    cluster = PgCluster.create()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def chaos_db(chaos_cluster: PgCluster) -> Iterator[str]:
    """The name of a new, empty database in the chaos cluster, dropped afterwards."""
    import psycopg

    name = f"chaos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(chaos_cluster.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        if not chaos_cluster.is_running():
            chaos_cluster.start()
        with psycopg.connect(chaos_cluster.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def company(chaos_cluster: PgCluster, tmp_path: Path) -> Iterator[Company]:
    """A central database of its own on the chaos cluster (demo company, ``central init``);
    the programs the test starts are killed at the end, the database and roles dropped."""
    with Runner(tmp_path / "logs") as runner, Company(chaos_cluster.url(), tmp_path, runner) as co:
        yield co
    if not chaos_cluster.is_running():
        chaos_cluster.start()
