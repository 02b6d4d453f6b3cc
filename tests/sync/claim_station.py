"""One pack bench in a process of its own, for the claim race: ``python -m
tests.sync.claim_station STATION_TOML ORDER_NUMBER GO_FILE``.

It loads the station from central, starts its sync worker, signs the packer in and prints
``READY``; when GO_FILE appears it scans the order number at the bench (the claim waits for the
central answer as at a real bench) and prints one JSON line with what the packer was shown.
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from pathlib import Path


def main(toml: str, number: str, go_file: str) -> int:
    from app.bootstrap import bootstrap
    from app.config import load_config
    from app.services import auth
    from app.services.bench import PackBench
    from app.sync import claims
    from app.sync.worker import SyncWorker

    config = load_config(Path(toml))
    ctx = bootstrap(config)
    worker = SyncWorker(config)
    worker.start()
    deadline = time.monotonic() + 60
    while not worker.online and time.monotonic() < deadline:
        time.sleep(0.05)
    with ctx.uow() as uow:
        packer = auth.sign_in_badge(uow, "OP-1001")
    assert config.central is not None
    wait = partial(claims.claim, worker, wait_s=config.central.claim_wait_s)
    bench = PackBench(ctx.uow, packer, claims=wait)
    from app.scanning.normalize import normalize

    normalize("]C1" + "0104061230000006")  # the GS1 tables load now, as on a bench in use
    from app.services.orders import get_order, search_orders

    with ctx.uow(packer) as uow:  # and the order queries are compiled, as on a bench in use
        for found in search_orders(uow, number):
            get_order(uow, found.id)
    print("READY", flush=True)
    go = Path(go_file)
    while not go.exists():
        time.sleep(0.005)
    result = bench.scan(number)
    print(
        json.dumps(
            {
                "station": config.station_name,
                "outcome": result.outcome.value,
                "message": result.message,
                "order_open": bench.order is not None,
                "ms": round(result.elapsed_ms, 1),
                "online": worker.online,
            }
        ),
        flush=True,
    )
    worker.stop()
    ctx.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
