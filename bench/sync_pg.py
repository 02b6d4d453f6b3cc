"""A throwaway PostgreSQL server for the sync benchmarks, with durability ON (fsync,
synchronous_commit, full_page_writes): what a company's central database runs with.

Run as root, the server runs as the ``postgres`` system user, in a folder under /tmp.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_connections": "100",
    "shared_buffers": "256MB",
    "max_wal_size": "2GB",
    "log_min_messages": "warning",
}
SHOWN = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_sync_method",
    "shared_buffers",
    "max_wal_size",
    "max_connections",
)


def _bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) were not found")
    return Path(initdb).parent


def _free_port(start: int = 55470) -> int:
    for port in range(start, start + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for the benchmark's PostgreSQL")


class BenchPostgres:
    """``with BenchPostgres() as pg:`` — a running server; ``pg.url(db)`` for SQLAlchemy."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="waystation-bench-pg-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.data = self.root / "data"
        self.port = _free_port()
        self.bin = _bin()

    def _as_pg(self, argv: list[str]) -> None:
        cmd = " ".join(shlex.quote(a) for a in argv)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            subprocess.run(
                ["su", "postgres", "-s", "/bin/sh", "-c", cmd], check=True, capture_output=True
            )
        else:
            subprocess.run(argv, check=True, capture_output=True)

    def __enter__(self) -> BenchPostgres:
        self._as_pg(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        options = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
        self._as_pg(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-o",
                f"-p {self.port} -k {self.root} {options}",
                "start",
            ]
        )
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._as_pg(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def settings(self) -> dict[str, str]:
        """The settings the figures ran with, read back from the server."""
        import psycopg

        with psycopg.connect(self.conninfo()) as conn:
            return {
                name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                for name in SHOWN
            }


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {timeout:g} s: {what}")
        time.sleep(0.01)


@contextmanager
def hub_process(url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``waystation-admin hub`` on ``url`` as its own process, as a company runs it, its output
    in ``log``; yielded once it says it started, ended with the block."""
    root = Path(__file__).resolve().parents[1]
    with log.open("wb") as out:
        hub = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "hub", "--database-url", url],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: b"hub started" in log.read_bytes(), 60, "the hub started")
        yield hub
    finally:
        hub.terminate()
        hub.wait(10)
