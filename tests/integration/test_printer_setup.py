"""Printer set-up without Qt: states in words, test pages that really print."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from app.config import PrinterConfig
from printing.setup import list_queues, make_test_page, printer_state, send_test_page
from tests.integration.conftest import CupsServer
from tests.integration.test_cups_printing import _wait_for_pdf


def test_folder_printer_state_and_test_page(tmp_path: Path) -> None:
    printer = PrinterConfig(kind="folder", folder=str(tmp_path / "out"))
    ready, words = printer_state(printer)
    assert ready
    assert "made on the first print" in words
    path = Path(send_test_page("packing_slip", "PACK-01", printer))
    pdf = pdfium.PdfDocument(path)
    try:
        image = pdf[0].render(scale=300 / 72, grayscale=True).to_pil()
        text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    assert "Waystation test page" in text
    assert "PACK-01" in text
    [code] = zxingcpp.read_barcodes(image)
    assert code.text.startswith("TEST-")


def test_a_printer_that_is_off_is_named_in_words() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ready, words = printer_state(PrinterConfig(kind="socket", host="127.0.0.1", port=port))
    assert not ready
    assert f"Printer 127.0.0.1:{port} is not answering" in words
    assert printer_state(PrinterConfig(kind="cups"))[1] == "No CUPS queue chosen."
    assert not printer_state(PrinterConfig(kind="pigeon"))[0]


def test_label_and_receipt_printers_get_their_own_language() -> None:
    label = PrinterConfig(kind="socket", host="127.0.0.1")
    zpl, kind = make_test_page("shipping_label", "PACK-01", label)
    assert kind == "application/vnd.zebra-zpl"
    assert zpl.startswith(b"^XA")
    assert zpl.endswith(b"^XZ")
    escpos, kind = make_test_page("receipt", "PACK-01", label)
    assert kind == "application/x-escpos"
    assert escpos.startswith(b"\x1b@")
    assert b"\x1dV" in escpos  # the cut


def test_test_label_reaches_a_raw_printer() -> None:
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def serve() -> None:
            for _ in range(2):  # the state probe connects first, then the job
                conn, _ = server.accept()
                with conn:
                    while chunk := conn.recv(65536):
                        received.extend(chunk)

        thread = threading.Thread(target=serve)
        thread.start()
        printer = PrinterConfig(kind="socket", host="127.0.0.1", port=port)
        assert printer_state(printer)[0]
        send_test_page("shipping_label", "PACK-01", printer)
        thread.join(10)
    assert bytes(received).startswith(b"^XA")


@pytest.mark.cups
def test_cups_queues_are_listed_and_a_test_page_prints(cups_server: CupsServer) -> None:
    out = cups_server.require_pdf_out()
    names = [q.name for q in list_queues(cups_server.server)]
    assert "WS_PDF" in names
    printer = PrinterConfig(kind="cups", queue="WS_PDF", server=cups_server.server)
    ready, words = printer_state(printer)
    assert ready, words
    job = send_test_page("packing_slip", "PACK-01", printer)
    pdf = pdfium.PdfDocument(_wait_for_pdf(out, job.rsplit("-", 1)[1]))
    try:
        image = pdf[0].render(scale=300 / 72, grayscale=True).to_pil()
    finally:
        pdf.close()
    assert zxingcpp.read_barcodes(image)[0].text.startswith("TEST-")
    unknown = PrinterConfig(kind="cups", queue="NO_SUCH_QUEUE", server=cups_server.server)
    ready, words = printer_state(unknown)
    assert not ready
    assert "NO_SUCH_QUEUE" in words


def test_only_a_role_that_may_configure_saves_printers(station: object, tmp_path: Path) -> None:
    from app.bootstrap import StationContext
    from app.config import load_config
    from app.domain.errors import PermissionDeniedError
    from app.services import auth
    from app.services.settings import save_printers

    assert isinstance(station, StationContext)
    path = tmp_path / "station.toml"
    printers = {"packing_slip": PrinterConfig(kind="cups", queue="LASER-2")}
    with station.uow() as uow:
        packer = auth.sign_in_badge(uow, "OP-1001")
        admin = auth.sign_in_badge(uow, "OP-9999")
    denied = pytest.raises(PermissionDeniedError, match="change the station's settings")
    with denied, station.uow(packer) as uow:
        save_printers(uow, station.config, printers, path)
    assert not path.exists()
    with station.uow(admin) as uow:
        new = save_printers(uow, station.config, printers, path)
    assert load_config(path).printers == new.printers == printers


def test_serial_and_usb_printer_states_in_words(tmp_path: Path) -> None:
    ready, words = printer_state(PrinterConfig(kind="serial", device=str(tmp_path / "ttyS9")))
    assert not ready
    assert "There is no serial port" in words
    ready, words = printer_state(PrinterConfig(kind="usb", device="04b8:0e15"))
    assert not ready
    assert "04b8:0e15" in words
    assert not printer_state(PrinterConfig(kind="usb", device="epson"))[0]
