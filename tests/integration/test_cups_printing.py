"""Printing through a real CUPS server: a PDF queue whose output is read back, a raw queue
feeding a TCP listener, and queues that are stopped, rejecting or missing."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
import pytest
import zxingcpp

from app.domain.documents import Address, CompanyProfile, PackingSlip, SlipLine
from app.domain.errors import PrintError
from printing.packing_slip import render_packing_slip
from printing.transports import CupsTransport, cups_queues, queue_state

if TYPE_CHECKING:  # the fixture's type; conftest is not importable as a module
    from conftest import CupsServer


pytestmark = pytest.mark.cups

WAIT = 20.0  # seconds a job may take through CUPS (ghostscript runs for the PDF queue)


def _slip(order_number: str) -> tuple[PackingSlip, CompanyProfile]:
    address = Address("Zoë Martin", "Flat 2, 17 Baker Street", "", "London", "NW1 6XE", "", "GB")
    company = CompanyProfile("Northwind Outfitters Ltd", address, returns_url="https://n.example/r")
    lines = (SlipLine("NW-1000", "04006381333931", "Merino wool hiking socks", 2, 2),)
    slip = PackingSlip(order_number, datetime(2026, 11, 26), "Web shop", address, None, lines)
    return slip, company


def _wait_for_pdf(folder: Path, job_number: str) -> bytes:
    """The PDF cups-pdf wrote for the job, once complete (its name ends in job_<n>.pdf)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for path in folder.glob(f"*job_{job_number}.pdf"):
            data = path.read_bytes()
            if data.rstrip().endswith(b"%%EOF"):
                return data
        time.sleep(0.1)
    raise AssertionError(f"no PDF for job {job_number} in {folder} after {WAIT:g} s")


def test_packing_slip_through_the_pdf_queue_scans_back(cups_server: CupsServer) -> None:
    out = cups_server.require_pdf_out()
    order = f"WS-{uuid.uuid4().int % 10**6:06d}"
    slip, company = _slip(order)
    job = CupsTransport("WS_PDF", cups_server.server).send(
        render_packing_slip(slip, company, paper="A4"),
        title=f"Packing slip {order}",
        content_type="application/pdf",
    )
    assert job.startswith("WS_PDF-")
    printed = _wait_for_pdf(out, job.rsplit("-", 1)[1])

    doc = pdfium.PdfDocument(printed)
    try:
        image = doc[0].render(scale=300 / 72, grayscale=True).to_pil()
    finally:
        doc.close()
    codes = {r.format.name: r.text for r in zxingcpp.read_barcodes(image)}
    assert codes["Code128"] == order
    assert codes["QRCode"] == f"https://n.example/r?order={order}"


class Printer:
    """A raw printer port: accepts connections on ``port`` and keeps each job's bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.sock.settimeout(WAIT)
        self.jobs: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        received = bytearray()
        with conn:
            while chunk := conn.recv(65536):
                received += chunk
        self.jobs.append(bytes(received))

    def job(self) -> bytes:
        self.thread.join(WAIT)
        assert self.jobs, "the raw queue never delivered the job"
        return self.jobs[0]


@pytest.fixture
def raw_printer(cups_server: CupsServer) -> Iterator[Printer]:
    printer = Printer(cups_server.require_raw_port())
    yield printer
    printer.sock.close()


def test_raw_queue_delivers_the_exact_bytes(cups_server: CupsServer, raw_printer: Printer) -> None:
    zpl = b"^XA^FO50,50^BCN,100,Y,N,N^FDWS-1042^FS^XZ\r\n" + bytes(range(256)) * 16
    job = CupsTransport("WS_RAW", cups_server.server).send(
        zpl, title="Label WS-1042", content_type="application/vnd.cups-raw"
    )
    assert job.startswith("WS_RAW-")
    assert raw_printer.job() == zpl


def test_queues_are_listed_with_state_and_device(cups_server: CupsServer) -> None:
    queues = {q.name: q for q in cups_queues(cups_server.server)}
    assert queues["WS_PDF"].device_uri.startswith("cups-pdf:/")
    assert queues["WS_RAW"].device_uri.startswith("socket://127.0.0.1:")
    assert queue_state("WS_PDF", cups_server.server).accepting


@pytest.fixture
def spare_queue(cups_server: CupsServer) -> Iterator[str]:
    """A queue of our own to stop and reject, so the shared ones stay usable."""
    name = f"WS_SPARE_{uuid.uuid4().hex[:8]}"
    admin = ["lpadmin", "-h", cups_server.server]
    subprocess.run(
        [*admin, "-p", name, "-E", "-v", "socket://127.0.0.1:9", "-m", "raw"],
        check=True,
        capture_output=True,
    )
    yield name
    subprocess.run([*admin, "-x", name], check=False, capture_output=True)


def test_stopped_queue_keeps_the_job_and_says_why(
    cups_server: CupsServer, spare_queue: str
) -> None:
    subprocess.run(
        ["cupsdisable", "-h", cups_server.server, "-r", "Out of labels", spare_queue], check=True
    )
    assert queue_state(spare_queue, cups_server.server).state == "stopped"
    with pytest.raises(PrintError) as err:
        CupsTransport(spare_queue, cups_server.server).send(
            b"x", title="x", content_type="application/pdf"
        )
    assert err.value.message == (
        f"Printer '{spare_queue}' on print server {cups_server.server} is stopped "
        "(Out of labels) — check it has paper and is on, then resume it in the printer "
        "settings; the job is kept and will be retried"
    )


def test_rejecting_queue_is_a_print_error(cups_server: CupsServer, spare_queue: str) -> None:
    subprocess.run(["cupsreject", "-h", cups_server.server, spare_queue], check=True)
    for check_state in (True, False):  # our check, and lp's own refusal
        with pytest.raises(PrintError, match="is not accepting jobs — ask a supervisor"):
            CupsTransport(spare_queue, cups_server.server, check_state=check_state).send(
                b"x", title="x", content_type="application/pdf"
            )


def test_unknown_queue_is_a_print_error(cups_server: CupsServer) -> None:
    for check_state in (True, False):
        with pytest.raises(PrintError) as err:
            CupsTransport("NO_SUCH_QUEUE", cups_server.server, check_state=check_state).send(
                b"x", title="x", content_type="application/pdf"
            )
        assert err.value.message == (
            f"There is no printer 'NO_SUCH_QUEUE' on print server {cups_server.server} — check "
            "the printer name in the station settings; the job is kept and will be retried"
        )
