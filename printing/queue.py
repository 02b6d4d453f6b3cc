"""The station's print worker: renders each queued job and sends it to the printer configured
for its kind of document. A printer that is off or missing leaves the job failed-and-kept; the
next run retries it. Run it on a worker thread, never on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from app.bootstrap import StationContext
from app.config import PrinterConfig
from app.domain.errors import PrintError, WaystationError
from app.services import print_jobs
from app.services.print_jobs import JobView
from printing.transports import (
    CupsTransport,
    FolderTransport,
    RawSocketTransport,
    SerialTransport,
    Transport,
    UsbTransport,
)

log = logging.getLogger(__name__)

Renderer = Callable[[StationContext, JobView, PrinterConfig], tuple[bytes, str]]


def transport_for(printer: PrinterConfig) -> Transport:
    if printer.kind == "cups":
        return CupsTransport(printer.queue, server=printer.server or None)
    if printer.kind == "socket":
        return RawSocketTransport(printer.host, printer.port)
    if printer.kind == "folder":
        return FolderTransport(Path(printer.folder))
    if printer.kind == "serial":
        return SerialTransport(printer.device, printer.baudrate)
    if printer.kind == "usb":
        vendor, _, product = printer.device.partition(":")
        try:
            return UsbTransport(int(vendor, 16), int(product, 16))
        except ValueError:
            raise PrintError(
                f"USB printer {printer.device!r} should be written vendor:product in hex, "
                "like 04b8:0202 (lsusb shows it)."
            ) from None
    raise PrintError(
        f"Printer type {printer.kind!r} is not known — use cups, socket, serial, usb or folder "
        "in the station settings."
    )


def _render_packing_slip(
    ctx: StationContext, job: JobView, printer: PrinterConfig
) -> tuple[bytes, str]:
    from printing.packing_slip import render_packing_slip

    with ctx.uow() as uow:
        slip = print_jobs.packing_slip_data(uow, job.ref_id)
        company = print_jobs.company_profile(uow)
    return render_packing_slip(slip, company, paper=printer.paper), "application/pdf"


def _render_shipping_label(
    ctx: StationContext, job: JobView, printer: PrinterConfig
) -> tuple[bytes, str]:
    """ZPL for a label printer on the network, PDF (4×6) for CUPS queues and folders."""
    with ctx.uow() as uow:
        label = print_jobs.shipping_label_data(uow, job.ref_id)
        company = print_jobs.company_profile(uow)
    if printer.kind == "socket":
        from printing.zpl import shipping_label_zpl

        return shipping_label_zpl(label, company, dpi=printer.dpi), "application/vnd.zebra-zpl"
    from printing.labels import render_shipping_label

    return render_shipping_label(label, company, dpi=printer.dpi), "application/pdf"


def _receipt_width(printer: PrinterConfig) -> int:
    """58 mm paper holds 32 characters of font A; everything else is 80 mm (48)."""
    return 32 if printer.paper.lower().replace(" ", "") in ("58mm", "58") else 48


def _render_receipt(ctx: StationContext, job: JobView, printer: PrinterConfig) -> tuple[bytes, str]:
    """A counter receipt in ESC/POS; a reprint is marked COPY and leaves the drawer shut."""
    from app.services.counter import documents
    from printing.receipt import render_receipt

    copy = job.reprint_of is not None
    with ctx.uow() as uow:
        receipt = documents.receipt_for(uow, job.ref_id, copy=copy)
        drawer = not copy and documents.opens_drawer(uow, job.ref_id)
        company = print_jobs.company_profile(uow)
    data = render_receipt(receipt, company, width_chars=_receipt_width(printer), open_drawer=drawer)
    return data, "application/x-escpos"


def _render_cash_report(
    ctx: StationContext, job: JobView, printer: PrinterConfig
) -> tuple[bytes, str]:
    """The till's cash report: ESC/POS on the receipt printer, A4 PDF through CUPS or a folder."""
    from app.services.counter import documents

    with ctx.uow() as uow:
        report = documents.cash_report_for(uow, job.ref_id)
        company = print_jobs.company_profile(uow)
    if printer.kind in ("socket", "serial", "usb"):
        from printing.end_of_day import render_cash_report_escpos

        escpos = render_cash_report_escpos(report, company, width_chars=_receipt_width(printer))
        return escpos, "application/x-escpos"
    from printing.end_of_day import render_cash_report

    return render_cash_report(report, company), "application/pdf"


def _render_pick_list(
    ctx: StationContext, job: JobView, printer: PrinterConfig
) -> tuple[bytes, str]:
    from app.services.picking.docs import pick_list_doc
    from printing.pick_list import render_pick_list

    with ctx.uow() as uow:
        pick_list = pick_list_doc(uow, job.ref_id)
        company = print_jobs.company_profile(uow)
    return render_pick_list(pick_list, company, paper=printer.paper), "application/pdf"


def _render_return_slip(
    ctx: StationContext, job: JobView, printer: PrinterConfig
) -> tuple[bytes, str]:
    from app.services.returns.documents import return_slip
    from printing.return_slip import render_return_slip

    with ctx.uow() as uow:
        slip = return_slip(uow, job.ref_id)
        company = print_jobs.company_profile(uow)
    return render_return_slip(slip, company, paper=printer.paper), "application/pdf"


def _render_returned_label(
    ctx: StationContext, job: JobView, printer: PrinterConfig
) -> tuple[bytes, str]:
    """A new product label for a unit the returns desk put back on the shelf."""
    from app.services.returns.documents import product_label
    from printing.labels import render_product_labels

    with ctx.uow() as uow:
        label = product_label(uow, job.ref_id)
        company = print_jobs.company_profile(uow)
    return render_product_labels([label], company, dpi=printer.dpi), "application/pdf"


def _render_quarantine_tag(
    ctx: StationContext, job: JobView, printer: PrinterConfig
) -> tuple[bytes, str]:
    from app.services.returns.documents import quarantine_tag
    from printing.returns_docs import render_quarantine_tag

    with ctx.uow() as uow:
        tag = quarantine_tag(uow, job.ref_id)
    return render_quarantine_tag(tag, dpi=printer.dpi), "application/pdf"


RENDERERS: dict[str, Renderer] = {
    "packing_slip": _render_packing_slip,
    "shipping_label": _render_shipping_label,
    "receipt": _render_receipt,
    "cash_report": _render_cash_report,
    "pick_list": _render_pick_list,
    "return_slip": _render_return_slip,
    "product_label": _render_returned_label,
    "quarantine_tag": _render_quarantine_tag,
}


def load_renderers() -> None:
    """Import the PDF documents' modules (reportlab with them) ahead of the first job."""
    import printing.labels
    import printing.packing_slip
    import printing.pick_list
    import printing.return_slip
    import printing.returns_docs  # noqa: F401


def render_pdf(ctx: StationContext, job: JobView) -> bytes:
    """The job's document as PDF, whatever its printer takes (for the system print dialog)."""
    printer = ctx.config.printer_for(job.document)
    as_pdf = PrinterConfig(kind="folder", paper=printer.paper, dpi=printer.dpi)
    data, content_type = RENDERERS[job.document](ctx, job, as_pdf)
    if content_type != "application/pdf":
        raise PrintError(f"{job.title} cannot be printed through the print dialog.")
    return data


def print_job(ctx: StationContext, job: JobView) -> bool:
    """Render and send one job; record the outcome. True when it printed.

    The job is marked as sending (committed) before the bytes leave, so a station that dies
    mid-send knows afterwards that the job may have printed.
    """
    printer = ctx.config.printer_for(job.document)
    where = printer.describe()
    try:
        render = RENDERERS[job.document]
        data, content_type = render(ctx, job, printer)
    except WaystationError as e:  # a print problem, or data the document cannot carry
        return _failed(ctx, job, where, e.message)
    except Exception as e:  # a broken document must not stop the queue behind it
        log.exception("print job %s (%s) could not be made", job.id, job.title)
        return _failed(ctx, job, where, f"The document could not be made: {e}")
    with ctx.uow() as uow:
        print_jobs.mark_sending(uow, job.id)
    try:
        ref = transport_for(printer).send(data, title=job.title, content_type=content_type)
    except PrintError as e:
        return _failed(ctx, job, where, e.message)
    except Exception as e:
        log.exception("print job %s (%s) could not be sent", job.id, job.title)
        return _failed(ctx, job, where, f"The printer could not be reached: {e}")
    with ctx.uow() as uow:
        print_jobs.mark_printed(uow, job.id, f"{where}: {ref}")
    return True


def _failed(ctx: StationContext, job: JobView, where: str, words: str) -> bool:
    log.warning("print job %s (%s) failed: %s", job.id, job.title, words)
    with ctx.uow() as uow:
        print_jobs.mark_failed(uow, job.id, where, words)
    return False


def recover(ctx: StationContext) -> int:
    """At start: jobs the station was sending when it stopped wait for a person's decision."""
    with ctx.uow() as uow:
        return print_jobs.recover_after_restart(uow)


def has_due(ctx: StationContext) -> bool:
    """Is a job of this station due now?"""
    with ctx.uow() as uow:
        return bool(print_jobs.due_jobs(uow, limit=1))


def print_pending(ctx: StationContext) -> int:
    """Print every job of this station that is due (queued, or failed and past its back-off);
    return how many printed. A printer that fails leaves its other jobs for the next run."""
    with ctx.uow() as uow:
        jobs = print_jobs.due_jobs(uow)
    printed, dead = 0, set()
    for job in jobs:
        if job.document in dead:
            continue  # its printer just failed: don't spend another timeout on it now
        if print_job(ctx, job):
            printed += 1
        else:
            dead.add(job.document)
    return printed
