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

import gc
import logging
import os
import sys
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from app.ipc import HostStart, frame, helper_output, read_frame
from app.services.views import OperatorView, OrderView

if TYPE_CHECKING:
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


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Answer the station's scans until ``inp`` ends."""
    start = read_frame(inp)
    if not isinstance(start, HostStart):
        log.error("the station sent no start frame; ending")
        return
    from app.bootstrap import StationContext
    from app.scanning.normalize import warm_up
    from app.scanning.rules import StationCodes
    from app.services.picking.sorting import station_bench

    ctx = StationContext(start.config, start.url, start.station_id, start.station_name, "")
    ctx.warm_up()
    warm_up()
    codes = StationCodes.from_config(start.config.codes)
    benches: dict[uuid.UUID, PackBench] = {}
    gc.freeze()  # what is loaded now lives as long as the process: out of the collector's way
    out.write(frame(("ready", os.getpid())))
    out.flush()
    try:
        while (request := read_frame(inp)) is not None:
            bench = benches.get(request.operator.id)
            if bench is None or bench.operator != request.operator:
                bench = station_bench(ctx.uow, request.operator, start.config, codes)
                benches[request.operator.id] = bench
            bench.order = request.order
            try:
                answer: tuple[str, object] = (
                    "ok",
                    bench.scan(request.raw, request.qty, request.scan_id),
                )
            except Exception as e:  # the station settles the scan itself
                log.exception("scan %s could not be committed here", request.scan_id)
                answer = ("error", str(e) or type(e).__name__)
            out.write(frame(answer))
            out.flush()
    finally:
        ctx.dispose()


def main() -> None:
    serve(sys.stdin.buffer, helper_output("bench process"))


if __name__ == "__main__":
    # Run as the module it is (not as __main__), so the frames' classes are the station's.
    from app.services import bench_host

    bench_host.main()
