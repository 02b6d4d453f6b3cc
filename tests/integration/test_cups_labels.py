"""Labels through a real CUPS server: a PDF label through the cups-pdf queue scans back (SSCC
as GS1 with AI 00, tracking number) at 203 and 300 dpi; ZPL goes byte for byte through the raw
queue; a queue that is missing keeps the station's job waiting, with words."""

from __future__ import annotations

from dataclasses import replace

import pypdfium2 as pdfium
import pytest
import zxingcpp

from app.bootstrap import StationContext
from app.config import PrinterConfig
from app.services import print_jobs
from app.services.bench import PackBench
from app.services.views import OperatorView
from printing.labels import render_shipping_label
from printing.queue import print_pending
from printing.transports import CupsTransport
from printing.zpl import shipping_label_zpl
from tests.conftest import find_order
from tests.integration.conftest import CupsServer
from tests.integration.test_cups_printing import Printer, _wait_for_pdf
from tests.unit.test_labels_pdf import COMPANY, SSCC, TRACKING, shipping

pytestmark = pytest.mark.cups


def test_a_pdf_label_through_cups_scans_back(cups_server: CupsServer) -> None:
    out = cups_server.require_pdf_out()
    job = CupsTransport("WS_PDF", cups_server.server).send(
        render_shipping_label(shipping(), COMPANY), title="Label", content_type="application/pdf"
    )
    printed = _wait_for_pdf(out, job.rsplit("-", 1)[1])
    for dpi in (203, 300):
        doc = pdfium.PdfDocument(printed)
        try:
            image = doc[0].render(scale=dpi / 72, grayscale=True).to_pil()
        finally:
            doc.close()
        codes = zxingcpp.read_barcodes(image)
        gs1 = [c for c in codes if c.symbology_identifier == "]C1"]
        assert [c.text for c in gs1] == [f"(00){SSCC}"], dpi
        assert TRACKING in {c.text for c in codes}, dpi


def test_zpl_goes_through_the_raw_queue_byte_for_byte(cups_server: CupsServer) -> None:
    printer = Printer(cups_server.require_raw_port())
    zpl = shipping_label_zpl(shipping(), COMPANY)
    CupsTransport("WS_RAW", cups_server.server).send(
        zpl, title="Label", content_type="application/vnd.zebra-zpl"
    )
    assert printer.job() == zpl
    printer.sock.close()


def test_a_missing_cups_queue_keeps_the_job_waiting_with_words(
    station: StationContext, packer: OperatorView, cups_server: CupsServer
) -> None:
    gone = PrinterConfig(kind="cups", queue="WS_GONE", server=cups_server.server)
    ctx = replace(station, config=replace(station.config, printers={"packing_slip": gone}))
    bench = PackBench(ctx.uow, packer)
    order = bench.scan(find_order(ctx, lines=3, units=5)).order
    assert order is not None
    for line in order.lines:
        bench.scan(line.gtin, qty=line.ordered)
    bench.close_package(1, 800, "M-BOX 30×25×15")
    job_id = bench.complete().print_job_id
    assert print_pending(ctx) == 0
    with ctx.uow() as uow:
        job = print_jobs.get_job(uow, job_id)
        [summary] = print_jobs.waiting_summary(uow)
    assert job.status == "failed"
    assert "WS_GONE" in job.last_error
    assert summary.words() == "Slip printer offline — 1 packing slip waiting"
