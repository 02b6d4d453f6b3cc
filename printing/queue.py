"""The station's print worker: renders each queued job and sends it to the printer configured
for its kind of document. A printer that is off or missing leaves the job failed-and-kept; the
next run retries it. Run it on a worker thread, never on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from app.bootstrap import StationContext
from app.config import PrinterConfig
from app.domain.errors import PrintError
from app.services import print_jobs
from app.services.print_jobs import JobView
from printing.transports import CupsTransport, FolderTransport, RawSocketTransport, Transport

log = logging.getLogger(__name__)

Renderer = Callable[[StationContext, JobView, PrinterConfig], bytes]


def transport_for(printer: PrinterConfig) -> Transport:
    if printer.kind == "cups":
        return CupsTransport(printer.queue, server=printer.server or None)
    if printer.kind == "socket":
        return RawSocketTransport(printer.host, printer.port)
    if printer.kind == "folder":
        return FolderTransport(Path(printer.folder))
    raise PrintError(
        f"Printer type {printer.kind!r} is not known — use cups, socket or folder in the "
        "station settings."
    )


def _render_packing_slip(ctx: StationContext, job: JobView, printer: PrinterConfig) -> bytes:
    from printing.packing_slip import render_packing_slip

    with ctx.uow() as uow:
        slip = print_jobs.packing_slip_data(uow, job.ref_id)
        company = print_jobs.company_profile(uow)
    return render_packing_slip(slip, company, paper=printer.paper)


RENDERERS: dict[str, tuple[Renderer, str]] = {
    "packing_slip": (_render_packing_slip, "application/pdf"),
}


def print_job(ctx: StationContext, job: JobView) -> bool:
    """Render and send one job; record the outcome. True when it printed."""
    printer = ctx.config.printer_for(job.document)
    where = printer.describe()
    try:
        render, content_type = RENDERERS[job.document]
        data = render(ctx, job, printer)
        ref = transport_for(printer).send(data, title=job.title, content_type=content_type)
    except PrintError as e:
        log.warning("print job %s (%s) failed: %s", job.id, job.title, e.message)
        with ctx.uow() as uow:
            print_jobs.mark_failed(uow, job.id, where, e.message)
        return False
    except Exception as e:  # a broken document must not stop the queue behind it
        log.exception("print job %s (%s) could not be made", job.id, job.title)
        with ctx.uow() as uow:
            print_jobs.mark_failed(uow, job.id, where, f"The document could not be made: {e}")
        return False
    with ctx.uow() as uow:
        print_jobs.mark_printed(uow, job.id, f"{where}: {ref}")
    return True


def print_pending(ctx: StationContext) -> int:
    """Print every job of this station that has not printed yet; return how many printed."""
    with ctx.uow() as uow:
        jobs = print_jobs.pending_jobs(uow)
    return sum(print_job(ctx, job) for job in jobs)
