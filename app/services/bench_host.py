"""The pack bench's predicted item scans, committed in a process of their own.

A station's GUI thread and its database worker share one interpreter lock: the Python of an
item scan's commit (~3 ms) and of the screen showing it (~5 ms) take turns, and the packer waits
for the sum. A scan whose outcome the pack screen predicted (a plain product barcode of a line
with units to go) is committed here instead, on the other core, while the screen shows it. The
pack bench is the station's own (:func:`app.services.picking.sorting.station_bench`), run on
the same database file; SQLite's write lock (``BEGIN IMMEDIATE``) queues this process's
commits with the station's.

The station runs ``python -m app.services.bench_host`` and talks to it in frames (app/ipc.py).
The first frame in is a :class:`app.ipc.HostStart`; the host answers ``("ready", pid)`` once a
scan finds everything loaded. Each :class:`HostScan` is then answered, in order, with
``("ok", BenchResult)``, or with ``("error", words)`` when the scan could not be committed
(the station then settles it itself: :meth:`app.services.bench.PackBench.settle`). The host
ends when its input closes.
"""

from __future__ import annotations

import logging
import sys
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.ipc import Handler, HostStart, helper_output, serve
from app.services.views import OperatorView, OrderView

if TYPE_CHECKING:
    from app.bootstrap import StationContext
    from app.services.bench import PackBench

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HostScan:
    """One scan to commit: by ``operator``, into ``order`` as the screen shows it."""

    operator: OperatorView
    order: OrderView
    raw: str
    qty: int | None
    scan_id: uuid.UUID  # the scan event's id: the station can ask whether it was committed


def prepare(ctx: StationContext, start: HostStart) -> Handler:
    """Load what a scan needs; the handler commits one :class:`HostScan` and returns its
    :class:`app.services.bench.BenchResult`."""
    from app.scanning.normalize import warm_up
    from app.scanning.rules import StationCodes
    from app.services.picking.sorting import station_bench

    warm_up()
    codes = StationCodes.from_config(start.config.codes)
    benches: dict[uuid.UUID, PackBench] = {}

    def scan(request: HostScan) -> object:  # an error goes back; the station settles it
        bench = benches.get(request.operator.id)
        if bench is None or bench.operator != request.operator:
            bench = station_bench(ctx.uow, request.operator, start.config, codes)
            benches[request.operator.id] = bench
        bench.order = request.order
        return bench.scan(request.raw, request.qty, request.scan_id)

    return scan


def main() -> None:
    serve(sys.stdin.buffer, helper_output("bench process"), prepare)


if __name__ == "__main__":
    # Run as the module it is (not as __main__), so the frames' classes are the station's.
    from app.services import bench_host

    bench_host.main()
