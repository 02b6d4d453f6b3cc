"""Shipping labels from the pack bench: one per package, SSCC and all, in ZPL for a network
label printer and as PDF elsewhere; optionally on the order's last scan."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import zxingcpp

from app.bootstrap import StationContext
from app.config import PrinterConfig
from app.services import print_jobs
from app.services.bench import PackBench
from app.services.views import OperatorView
from printing.queue import print_pending
from tests.conftest import find_order


class LabelPrinter:
    """A raw TCP label printer: keeps every job's bytes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.jobs: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = bytearray()
            with conn:
                while chunk := conn.recv(65536):
                    data.extend(chunk)
            if data:
                self.jobs.append(bytes(data))


def with_printers(station: StationContext, **printers: PrinterConfig) -> StationContext:
    merged = {**station.config.printers, **printers}
    return replace(station, config=replace(station.config, printers=merged))


def pack_in_two_packages(bench: PackBench, station: StationContext) -> tuple[str, list[str]]:
    number = find_order(station, lines=3, units=5)
    order = bench.scan(number).order
    assert order is not None
    codes = [ln.gtin for ln in order.lines for _ in range(ln.ordered)]
    for code in codes[:2]:
        assert bench.scan(code).ok
    bench.close_package(1, 900, "M-BOX 30×25×15")
    for code in codes[2:]:
        assert bench.scan(code).ok
    after = bench.close_package(2, 1300, "M-BOX 30×25×15")
    ssccs = [p.sscc for p in after.packages]
    assert all(ssccs)
    bench.complete()
    return number, [s for s in ssccs if s]


def test_each_package_gets_a_zpl_label_with_its_sscc(
    station: StationContext, packer: OperatorView
) -> None:
    printer = LabelPrinter()
    labels = PrinterConfig(kind="socket", host="127.0.0.1", port=printer.port)
    ctx = with_printers(station, shipping_label=labels)
    bench = PackBench(ctx.uow, packer, labels=True)
    number, ssccs = pack_in_two_packages(bench, ctx)
    assert print_pending(ctx) == 3  # the slip (to its folder) and two labels
    zpl = sorted(printer.jobs)
    assert len(zpl) == 2
    for job, sscc in zip(zpl, sorted(ssccs), strict=True):
        assert job.startswith(b"^XA")
        assert sscc.encode() in job
        assert number.encode() in job
    printer.sock.close()


def test_a_pdf_label_scans_back_with_its_gs1_sscc(
    station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    folder = PrinterConfig(kind="folder", folder=str(tmp_path / "labels"))
    ctx = with_printers(station, shipping_label=folder)
    bench = PackBench(ctx.uow, packer, labels=True)
    _number, ssccs = pack_in_two_packages(bench, ctx)
    assert print_pending(ctx) == 3
    pdfs = sorted((tmp_path / "labels").glob("*.pdf"))
    assert len(pdfs) == 2
    found = set()
    for path in pdfs:
        doc = pdfium.PdfDocument(path)
        try:
            image = doc[0].render(scale=203 / 72, grayscale=True).to_pil()
        finally:
            doc.close()
        for code in zxingcpp.read_barcodes(image):
            if code.symbology_identifier == "]C1":
                found.add(code.text.removeprefix("(00)"))
    assert found == set(ssccs)


def test_label_on_the_last_scan_prints_before_the_order_is_complete(
    station: StationContext, packer: OperatorView
) -> None:
    printer = LabelPrinter()
    labels = PrinterConfig(
        kind="socket", host="127.0.0.1", port=printer.port, label_on_last_scan=True
    )
    ctx = with_printers(station, shipping_label=labels)
    bench = PackBench(ctx.uow, packer, labels=True, label_on_last_scan=True)
    number = find_order(ctx, lines=3, units=5)
    order = bench.scan(number).order
    assert order is not None
    codes = [ln.gtin for ln in order.lines for _ in range(ln.ordered)]
    results = [bench.scan(code) for code in codes]
    assert [r.queued_print for r in results] == [False] * 4 + [True]
    assert print_pending(ctx) == 1  # the label, while the packer closes the box
    assert len(printer.jobs) == 1
    bench.close_package(1, 1500, "M-BOX 30×25×15")
    bench.complete()
    with ctx.uow() as uow:
        waiting = print_jobs.pending_jobs(uow)
    assert [j.document for j in waiting] == ["packing_slip"]  # no second label for it
    printer.sock.close()
