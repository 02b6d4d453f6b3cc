"""A PostgreSQL cluster of the test's own: initdb in a temporary folder, its own port, fsync on.

It is what ``scripts/services/postgres.sh`` starts, with durability left on (the chaos tests
stop the server in the middle of commits and count on what it said it committed), and with the
calls a test needs to hurt it: :meth:`PgCluster.fast_restart` (``pg_ctl -m fast`` stop, then
start: every client connection is cut) and :meth:`PgCluster.crash_restart` (``-m immediate``:
no shutdown checkpoint, recovery from the WAL at start).

Run as root, the server runs as the ``postgres`` system user (initdb refuses root), so the
folder lives under /tmp where that user can reach it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

FIRST_PORT = 55450  # the chaos tests' own clusters take ports from here up

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_connections": "120",
    "shared_buffers": "64MB",
    # A stopped hub or station can leave a transaction open: never for long.
    "idle_in_transaction_session_timeout": "'60s'",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] %u@%d '",
}


def pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2].split(".")[0])
    )
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(
            "PostgreSQL server programs (initdb, pg_ctl) were not found: apt-get install postgresql"
        )
    return Path(initdb).parent


def free_port(start: int = FIRST_PORT, tries: int = 100) -> int:
    """The first port from ``start`` up that nothing on loopback listens on."""
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}–{start + tries - 1}")


class PgCluster:
    """One PostgreSQL server: ``PgCluster.create()`` makes and starts it; ``destroy()`` ends it."""

    def __init__(self, root: Path, port: int, settings: dict[str, str] | None = None) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "server.log"
        self.settings = {**SETTINGS, **(settings or {})}
        self.bin = pg_bin()

    @classmethod
    def create(cls, port: int | None = None, settings: dict[str, str] | None = None) -> PgCluster:
        root = Path(tempfile.mkdtemp(prefix="waystation-chaos-pg-"))
        os.chmod(root, 0o755)
        cluster = cls(root, port or free_port(), settings)
        try:
            cluster.initdb()
            cluster.start()
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    # ------------------------------------------------------------------ running pg programs

    def _run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            argv = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{shlex.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n"
                f"server log:\n{self.log_tail()}"
            )
        return done

    def initdb(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
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
                # initdb's own fsync calls only: the running server keeps fsync on.
                "--no-sync",
            ]
        )
        lines = [f"{k} = {v}" for k, v in self.settings.items()]
        lines += [f"port = {self.port}", f"unix_socket_directories = '{self.root}'"]
        conf = self.data / "postgresql.conf"
        # Rewriting the existing file keeps its owner (the postgres user).
        conf.write_text(conf.read_text() + "\n# chaos harness\n" + "\n".join(lines) + "\n")

    def start(self, timeout: float = 60) -> None:
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            timeout=timeout + 10,
        )

    def stop(self, mode: str = "fast", timeout: float = 60) -> None:
        """``fast``: clients are cut, open transactions roll back, a shutdown checkpoint is
        written. ``immediate``: the server dies as in a power cut (recovery at next start)."""
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                mode,
                "-w",
                "-t",
                str(int(timeout)),
                "stop",
            ],
            timeout=timeout + 10,
        )

    def fast_restart(self, down_for: float = 0.0) -> None:
        self.stop("fast")
        if down_for:
            time.sleep(down_for)
        self.start()

    def crash_restart(self, down_for: float = 0.0) -> None:
        self.stop("immediate")
        if down_for:
            time.sleep(down_for)
        self.start()

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.is_running():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # ------------------------------------------------------------------ addresses

    def url(self, dbname: str = "postgres", user: str = "postgres", password: str = "") -> str:
        auth = user if not password else f"{user}:{password}"
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}"
