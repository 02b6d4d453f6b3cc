"""Receipts reach a receipt printer's raw port byte for byte: straight over TCP, and through a
real CUPS raw queue; a printer that drops the connection mid-job is a PrintError in plain words.

The "printer" is a TCP listener of this test's own that keeps what it receives; the bytes are
also parsed as ESC/POS to show they are a whole receipt.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from escpos_stream import Barcode, Cut, Kick, parse

from app.domain.documents import Address, CompanyProfile
from app.domain.errors import PrintError
from app.domain.receipts import Receipt, ReceiptLine, Tender, TenderKind
from printing.receipt import render_receipt
from printing.transports import RAW_CONTENT_TYPES, CupsTransport, RawSocketTransport

if TYPE_CHECKING:  # the fixture's type; conftest is not importable as a module
    from conftest import CupsServer

WAIT = 20.0
ESCPOS = "application/x-escpos"  # the ESC/POS type printing.transports sends raw

COMPANY = CompanyProfile(
    "Northwind Outfitters", Address("Northwind Outfitters", "Lagerstraße 12", city="Hamburg")
)


def _receipt_bytes(number: str = "K1-000777") -> bytes:
    receipt = Receipt(
        number,
        datetime(2026, 11, 26, 13, 5, tzinfo=UTC),
        "TILL-1",
        "Дмитрий Иванов",
        (
            ReceiptLine("NW-1000", "Merino wool hiking socks", 2, 1290, 1900),
            ReceiptLine("BK-0007", "Wanderführer Harz", 1, 1999, 700),
        ),
        (Tender(TenderKind.CASH, 5000),),
    )
    return render_receipt(receipt, COMPANY, open_drawer=True)


class Printer:
    """A raw printer port on ``port`` (0: any free one) that keeps the bytes of one job.

    With ``drop_after`` it reads that many bytes and then resets the connection, as a printer
    does when it is switched off or its cable is pulled mid-job.
    """

    def __init__(self, port: int = 0, drop_after: int | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(WAIT)
        self.port: int = self.sock.getsockname()[1]
        self.drop_after = drop_after
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
            if self.drop_after is not None:
                received += conn.recv(self.drop_after)
                # Linger 0: close with a reset, not an orderly end of the connection.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                while chunk := conn.recv(65536):
                    received += chunk
        self.jobs.append(bytes(received))

    def job(self) -> bytes:
        self.thread.join(WAIT)
        assert self.jobs, "the printer never received the job"
        return self.jobs[0]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def printer() -> Iterator[Printer]:
    p = Printer()
    yield p
    p.close()


def test_receipt_straight_to_the_printer_port(printer: Printer) -> None:
    receipt = _receipt_bytes()
    ref = RawSocketTransport("127.0.0.1", printer.port).send(
        receipt, title="Receipt K1-000777", content_type=ESCPOS
    )
    assert ref.startswith(f"127.0.0.1:{printer.port}@")
    assert printer.job() == receipt
    stream = parse(printer.job())
    assert [b.text for b in stream.of(Barcode)] == ["K1-000777"]
    assert len(stream.of(Kick)) == 1
    assert isinstance(stream.events[-1], Cut)
    assert "Served by Дмитрий Иванов" in stream.text


@pytest.mark.cups
def test_receipt_through_the_cups_raw_queue(cups_server: CupsServer) -> None:
    assert ESCPOS in RAW_CONTENT_TYPES  # else CUPS would try to filter it
    printer = Printer(cups_server.require_raw_port())
    try:
        receipt = _receipt_bytes("K1-000778")
        job = CupsTransport("WS_RAW", cups_server.server).send(
            receipt, title="Receipt K1-000778", content_type=ESCPOS
        )
        assert job.startswith("WS_RAW-")
        assert printer.job() == receipt
    finally:
        printer.close()
    assert [b.text for b in parse(receipt).of(Barcode)] == ["K1-000778"]


def test_printer_dropping_the_connection_mid_job_is_a_print_error() -> None:
    # A long job (a day's receipts reprinted): more than the sockets' buffers hold, so the
    # transport is still sending when the printer goes away.
    job = _receipt_bytes() * (32 * 2**20 // len(_receipt_bytes()))
    printer = Printer(drop_after=4096)
    try:
        with pytest.raises(PrintError) as err:
            RawSocketTransport("127.0.0.1", printer.port, timeout=WAIT).send(
                job, title="Receipts reprint", content_type=ESCPOS
            )
        assert len(printer.job()) <= 4096
    finally:
        printer.close()
    message = err.value.message
    assert message.startswith(f"Printer 127.0.0.1:{printer.port} ")
    assert "dropped the connection before taking the whole job" in message
    assert message.endswith("the job is kept and will be retried")
    assert "Traceback" not in message and "Errno" not in message
