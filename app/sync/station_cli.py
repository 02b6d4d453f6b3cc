"""``waystation-admin station sync``: a station's sync without its screen — for a station
that runs headless, and for tests that run many station processes.

    waystation-admin station sync --config station.toml            runs until stopped
    waystation-admin station sync --config station.toml --once     push and pull until caught up
    waystation-admin station sync ... --until-done [--timeout S]   ...and every result is in

A station that was never loaded from the central database is loaded first. SIGTERM or Ctrl+C
stops it after the step in hand.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from app.config import load_config
from app.domain.errors import ConfigError

log = logging.getLogger(__name__)
STATUS_EVERY_S = 10.0


def run(config_path: str | None, *, once: bool, until_done: bool, timeout: float) -> int:
    from app.bootstrap import bootstrap
    from app.sync.worker import SyncWorker

    logging.getLogger("app.sync").setLevel(logging.INFO)
    config = load_config(Path(config_path) if config_path else None)
    if config.central is None:
        raise ConfigError(
            f"{config_path or 'The station settings'} has no [central] section — this station "
            "runs standalone and has nothing to sync. Add the settings `waystation-admin "
            "station add` printed for it."
        )
    ctx = bootstrap(config)  # loads the station from central the first time
    ctx.dispose()
    worker = SyncWorker(config)
    if once or until_done:
        try:
            caught_up = worker.sync_until_caught_up(all_done=until_done, timeout=timeout)
        finally:
            worker.stop()
        status = worker.status
        words = (
            f"cursor {status.cursor}, {status.waiting} operation(s) waiting, "
            f"{status.conflicts} conflict(s)"
        )
        if caught_up:
            print(f"station {config.station_name} caught up: {words}")
            return 0
        print(
            f"station {config.station_name} not caught up after {timeout:g} s "
            f"({status.reason or 'still working'}): {words}",
            file=sys.stderr,
        )
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    print(f"station {config.station_name} syncing with {config.central.describe()}", flush=True)
    try:
        while not stop.wait(STATUS_EVERY_S):
            status = worker.status
            state = "online" if status.online else f"offline ({status.reason})"
            log.info("%s; %d waiting; cursor %d", state, status.waiting, status.cursor)
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
    return 0
