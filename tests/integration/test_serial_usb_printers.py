"""Receipt printers on a serial port and on USB. The serial printer is a real pseudo-terminal
pair (bytes cross a tty as they would a cable); a USB printer cannot exist on this machine, so
the test is what a station says when it is not there."""

from __future__ import annotations

import os
import pty
import threading
import tty
from pathlib import Path

import pytest

from app.config import PrinterConfig
from app.domain.errors import PrintError
from printing.queue import transport_for


def test_escpos_bytes_reach_a_serial_printer_exactly() -> None:
    controller, device = pty.openpty()
    tty.setraw(device)  # a printer port: no echo, no line editing, bytes as they are
    path = os.ttyname(device)
    job = b"\x1b@Waystation\n" + bytes(range(256)) * 40 + b"\x1dV\x42\x00"
    received = bytearray()

    def printer() -> None:
        while len(received) < len(job):
            received.extend(os.read(controller, 65536))

    thread = threading.Thread(target=printer)
    thread.start()
    ref = transport_for(PrinterConfig(kind="serial", device=path, baudrate=115200)).send(
        job, title="receipt", content_type="application/x-escpos"
    )
    thread.join(10)
    os.close(controller)
    os.close(device)
    assert ref.startswith(path)
    assert bytes(received) == job


def test_a_serial_port_that_is_not_there_says_so(tmp_path: Path) -> None:
    missing = PrinterConfig(kind="serial", device=str(tmp_path / "ttyUSB9"))
    with pytest.raises(PrintError) as e:
        transport_for(missing).send(b"x", title="receipt", content_type="application/x-escpos")
    assert "cannot be opened" in e.value.message
    assert "will be retried" in e.value.message


def test_a_usb_printer_that_is_not_plugged_in_says_so() -> None:
    usb = PrinterConfig(kind="usb", device="04b8:0e15")
    with pytest.raises(PrintError) as e:
        transport_for(usb).send(b"x", title="receipt", content_type="application/x-escpos")
    assert "USB printer 04b8:0e15" in e.value.message
    assert "will be retried" in e.value.message


def test_a_usb_printer_written_wrong_says_how_to_write_it() -> None:
    with pytest.raises(PrintError, match="like 04b8:0202"):
        transport_for(PrinterConfig(kind="usb", device="epson"))
