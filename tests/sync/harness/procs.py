"""Real station and hub processes (``python -m ...``) that a test starts, waits on and kills.

``kill -9`` is the point: no ``finally``, no atexit, no flush — the process stops between two
machine instructions, as on a power cut of that one program. Each process writes its output to
a log file of its own, whose tail goes into any failure message.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Proc:
    """One program the test runs, started again with the same arguments after each kill."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    exits: list[int] = field(default_factory=list)  # return codes of ends not caused by us

    def start(self) -> Proc:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts} at {time.time():.3f}\n".encode())
        log.flush()
        try:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a kill reaches this program and nothing of the test's
            )
        finally:
            log.close()
        return self

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    @property
    def alive(self) -> bool:
        if self.popen is None:
            return False
        code = self.popen.poll()
        if code is None:
            return True
        self.exits.append(code)
        self.popen = None
        return False

    def kill9(self) -> None:
        """SIGKILL, and wait until the kernel has reaped it."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        self.kills += 1
        self.popen = None

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, then SIGKILL if it has not ended within ``timeout``; the exit code."""
        if self.popen is None:
            return None
        popen = self.popen
        with contextlib.suppress(ProcessLookupError):
            popen.send_signal(signal.SIGTERM)
        try:
            code = popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            code = popen.wait(timeout=10)
        self.popen = None
        return code

    def restart(self) -> Proc:
        self.kill9()
        return self.start()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """Fail with the log's tail when the program ended on its own."""
        if not self.alive:
            raise AssertionError(
                f"{self.name} ended by itself (exit codes {self.exits}):\n{self.log_tail()}"
            )


class Runner:
    """Starts programs for one test and makes sure none outlives it."""

    def __init__(self, workdir: Path, env: Mapping[str, str] | None = None) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **(env or {})}
        # The package under test, whichever folder pytest was started from.
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), self.env.get("PYTHONPATH", "")) if p
        )
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.procs: list[Proc] = []

    def program(
        self, name: str, module: str, args: Sequence[str], env: Mapping[str, str] | None = None
    ) -> Proc:
        """A ``python -m module args...`` program (not started yet)."""
        proc = Proc(
            name=name,
            argv=[sys.executable, "-m", module, *args],
            env={**self.env, **(env or {})},
            log_path=self.workdir / f"{name}.log",
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            proc.kill9()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def logs(self, lines: int = 30) -> str:
        return "\n".join(f"--- {p.name}\n{p.log_tail(lines)}" for p in self.procs)


def wait_for(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    *,
    interval: float = 0.1,
    alive: Sequence[Proc] = (),
    context: Callable[[], str] | None = None,
) -> float:
    """Poll ``check`` until it is true; the seconds it took. Fails after ``timeout`` (or as
    soon as one of ``alive`` ended by itself), saying what it waited for."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        for proc in alive:
            proc.check_alive()
        if time.monotonic() - start > timeout:
            extra = f"\n{context()}" if context else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{extra}")
        time.sleep(interval)


@dataclass(frozen=True)
class Kill:
    """One ``kill -9``: of which program, how long after it was ready, the progress around it."""

    name: str
    ready_s: float  # from start until the program was ready
    after_s: float  # from ready until the signal
    progress_at_kill: float  # 0..1 of the work, read just before the signal
    progress_after: float  # read once the program was gone (what had committed)


def kill_repeatedly(
    procs: Proc | Sequence[Proc],
    kills: int,
    rng: random.Random,
    *,
    ready: Callable[[Proc], bool],
    progress: Callable[[], float],
    first_window_s: float = 0.2,
    ready_timeout_s: float = 60.0,
    before_kill: Callable[[Proc], None] | None = None,
) -> list[Kill]:
    """Keep ``procs`` running and ``kill -9`` one of them (drawn at random) ``kills`` times,
    each at a random moment after it is ``ready`` (connected, say), drawn from a window that
    spreads the kills over the whole job: from the pace so far (``progress``, 0..1, per second
    of the drawn waits) the window is sized so the remaining kills share the remaining work,
    each run doing its share on average. Work a run does before it is seen ready (between two
    looks, every 5 ms) is its own: the window is sized for what is left of the share after it,
    and is as short as it goes when that takes the whole share (on a fast machine the station
    pushed a batch before the check saw it connected, and with the window sized as if it had
    not, half the kills came after the job was done). ``before_kill`` sees the victim just
    before the signal."""
    group = [procs] if isinstance(procs, Proc) else list(procs)
    window = first_window_s
    done: list[Kill] = []
    waited_s = in_waits = before_ready = 0.0
    last = progress()
    for i in range(kills):
        victim = rng.choice(group)
        started = time.monotonic()
        for proc in group:
            if not proc.alive:
                proc.start()
        wait_for(
            f"{victim.name} to be ready (kill {i + 1})",
            lambda v=victim: ready(v),  # type: ignore[misc]
            ready_timeout_s,
            interval=0.005,
            alive=group,
        )
        ready_s = time.monotonic() - started
        at_ready = progress()
        after = rng.uniform(0, window)
        time.sleep(after)
        at_kill = progress()
        if before_kill is not None:
            before_kill(victim)
        victim.kill9()
        now = progress()
        done.append(Kill(victim.name, ready_s, after, at_kill, now))
        before_ready += at_ready - last
        in_waits += now - at_ready
        waited_s += after
        last = now
        if in_waits > 0 and waited_s > 0:
            pace = in_waits / waited_s  # of the work per second of the drawn waits
            share = (1 - now) / max(kills - i - 1, 1) - before_ready / (i + 1)
            window = 2 * max(share, 0.0) / pace
        else:
            window *= 1.5
        window = min(max(window, 0.005), 5.0)
    return done
