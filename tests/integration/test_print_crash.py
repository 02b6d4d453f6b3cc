"""A station killed while a job is on its way to the printer: after the restart the job is not
lost and not printed twice behind anyone's back — it waits, marked as a possible duplicate."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig
from app.services import print_jobs
from app.services.bench import PackBench
from app.services.views import OperatorView
from printing.queue import recover
from tests.conftest import find_order

ROOT = Path(__file__).resolve().parents[2]

# The station's print worker, in a process of its own that the test kills with SIGKILL.
WORKER = """
import sys
from dataclasses import replace
from app.bootstrap import bootstrap
from app.config import PrinterConfig, StationConfig
from printing.queue import print_pending
db, port = sys.argv[1], int(sys.argv[2])
printer = PrinterConfig(kind="socket", host="127.0.0.1", port=port)
ctx = bootstrap(StationConfig(database_url="sqlite:///" + db, printers={"packing_slip": printer}))
print_pending(ctx)
"""


def test_killed_mid_send_then_restarted(
    station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    bench = PackBench(station.uow, packer)
    order = bench.scan(find_order(station, lines=3, units=5)).order
    assert order is not None
    for line in order.lines:
        bench.scan(line.gtin, qty=line.ordered)
    bench.close_package(1, 800, "M-BOX 30×25×15")
    job_id = bench.complete().print_job_id
    db = str(station.engine.url.database)
    station.dispose()

    # A printer that takes the connection and then never reads: the send hangs mid-job.
    with socket.create_server(("127.0.0.1", 0)) as printer:
        printer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        port = printer.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, db, str(port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        conn, _ = printer.accept()
        with conn:
            time.sleep(0.5)  # the worker is now blocked writing the job
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)

    # The station starts again.
    restarted = bootstrap(station.config)
    try:
        with restarted.uow() as uow:
            before = print_jobs.get_job(uow, job_id)
        assert before.status == "sending"
        assert recover(restarted) == 1
        with restarted.uow() as uow:
            after = print_jobs.get_job(uow, job_id)
            [summary] = print_jobs.waiting_summary(uow)
        assert after.status == "uncertain"
        assert after.possible_duplicate
        assert summary.uncertain == 1
    finally:
        restarted.dispose()


def test_jobs_queued_before_a_kill_print_after_the_restart(
    station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    from dataclasses import replace

    from printing.queue import print_pending

    bench = PackBench(station.uow, packer)
    order = bench.scan(find_order(station, lines=3, units=5)).order
    assert order is not None
    for line in order.lines:
        bench.scan(line.gtin, qty=line.ordered)
    bench.close_package(1, 800, "M-BOX 30×25×15")
    job_id = bench.complete().print_job_id
    station.dispose()  # the power goes before the print worker ran
    restarted = bootstrap(station.config)
    folder = PrinterConfig(kind="folder", folder=str(tmp_path / "after"))
    restarted = replace(
        restarted, config=replace(restarted.config, printers={"packing_slip": folder})
    )
    try:
        assert recover(restarted) == 0
        assert print_pending(restarted) == 1
        with restarted.uow() as uow:
            assert print_jobs.get_job(uow, job_id).status == "printed"
    finally:
        restarted.dispose()
