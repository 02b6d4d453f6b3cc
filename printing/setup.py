"""Printer set-up, without Qt: which CUPS queues there are, how each configured printer is
doing (in words), and a test page that proves a printer prints."""

from __future__ import annotations

import io
import os
import socket
from datetime import datetime
from pathlib import Path

from app.clock import utcnow
from app.config import PrinterConfig
from app.domain.errors import PrintError
from printing.transports import QueueInfo, cups_queues, queue_state

DOCUMENT_KINDS = {
    "packing_slip": "Packing slips",
    "shipping_label": "Shipping labels",
    "receipt": "Receipts",
}
PROBE_TIMEOUT_S = 1.5


def list_queues(server: str | None = None) -> list[QueueInfo]:
    """The CUPS queues a station can print to; PrintError (in words) when CUPS is not there."""
    return cups_queues(server or None, timeout=PROBE_TIMEOUT_S * 2)


def printer_state(printer: PrinterConfig) -> tuple[bool, str]:
    """(ready, words) for a configured printer. Never raises: the words say what is wrong."""
    if printer.kind == "cups":
        if not printer.queue:
            return False, "No CUPS queue chosen."
        try:
            info = queue_state(printer.queue, printer.server or None, timeout=PROBE_TIMEOUT_S * 2)
        except PrintError as e:
            return False, e.message
        if info.state == "stopped":
            why = f": {info.reason}" if info.reason else ""
            return False, f"CUPS queue {info.name} is stopped{why} — start it with cupsenable."
        if not info.accepting:
            return False, f"CUPS queue {info.name} is not accepting jobs — run cupsaccept."
        return True, f"CUPS queue {info.name}: {info.state}, accepting jobs."
    if printer.kind == "socket":
        if not printer.host:
            return False, "No printer address set."
        try:
            with socket.create_connection((printer.host, printer.port), PROBE_TIMEOUT_S):
                return True, f"Printer {printer.host}:{printer.port} is answering."
        except OSError as e:
            return False, (
                f"Printer {printer.host}:{printer.port} is not answering "
                f"({e.strerror or e}) — check it is on and connected."
            )
    if printer.kind == "serial":
        if not printer.device:
            return False, "No serial port set (for example /dev/ttyUSB0)."
        if not os.path.exists(printer.device):
            return False, f"There is no serial port {printer.device} — check the cable."
        if not os.access(printer.device, os.R_OK | os.W_OK):
            return False, f"This user may not use {printer.device} (add it to the dialout group)."
        return True, f"Serial port {printer.device} is there ({printer.baudrate} baud)."
    if printer.kind == "usb":
        return _usb_state(printer.device)
    if printer.kind == "folder":
        folder = Path(printer.folder)
        if folder.is_dir() and os.access(folder, os.W_OK):
            return True, f"Documents are saved in {folder}."
        if not folder.exists():
            return True, f"Documents will be saved in {folder} (made on the first print)."
        return False, f"{folder} cannot be written to — choose another folder."
    return False, (
        f"Printer type {printer.kind!r} is not known — use cups, socket, serial, usb or folder."
    )


def _usb_state(device: str) -> tuple[bool, str]:
    vendor, _, product = device.partition(":")
    try:
        ids = int(vendor, 16), int(product, 16)
    except ValueError:
        return False, "Write the USB printer as vendor:product in hex, like 04b8:0202 (lsusb)."
    try:
        import usb.core

        found = usb.core.find(idVendor=ids[0], idProduct=ids[1])
    except Exception as e:  # no libusb on this machine
        return False, f"USB printers cannot be used here ({e}) — install libusb-1.0-0."
    if found is None:
        return False, f"USB printer {device} is not connected — plug it in and switch it on."
    return True, f"USB printer {device} is connected."


def make_test_page(document: str, station: str, printer: PrinterConfig) -> tuple[bytes, str]:
    """(bytes, content type) of a test page in the language the printer takes."""
    now = utcnow()
    if printer.kind == "socket" and document == "shipping_label":
        return _zpl_test(station, now), "application/vnd.zebra-zpl"
    if printer.kind == "socket" and document == "receipt":
        return _escpos_test(station, now), "application/x-escpos"
    return _pdf_test(document, station, printer, now), "application/pdf"


def send_test_page(document: str, station: str, printer: PrinterConfig) -> str:
    """Print a test page now (not through the queue: a person is watching the printer)."""
    from printing.queue import transport_for

    data, content_type = make_test_page(document, station, printer)
    title = f"Waystation test page {station} {DOCUMENT_KINDS.get(document, document)}"
    return transport_for(printer).send(data, title=title, content_type=content_type)


def _code(now: datetime) -> str:
    return f"TEST-{now:%Y%m%d-%H%M%S}"


def _pdf_test(document: str, station: str, printer: PrinterConfig, now: datetime) -> bytes:
    from reportlab.graphics.barcode import code128
    from reportlab.lib.pagesizes import A4, LETTER, inch
    from reportlab.pdfgen import canvas

    size = {"LETTER": LETTER, "4X6": (4 * inch, 6 * inch)}.get(printer.paper.upper(), A4)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=size)
    _w, h = size
    c.setFont("Helvetica-Bold", 22)
    c.drawString(36, h - 60, "Waystation test page")
    c.setFont("Helvetica", 12)
    lines = [
        f"Station: {station}",
        f"Document kind: {DOCUMENT_KINDS.get(document, document)}",
        f"Printer: {printer.describe()}",
        f"Paper: {printer.paper}",
        f"Printed: {now:%Y-%m-%d %H:%M:%S} UTC",
        "If the barcode below scans, this printer is ready.",
    ]
    for i, line in enumerate(lines):
        c.drawString(36, h - 95 - 18 * i, line)
    barcode = code128.Code128(_code(now), barWidth=0.33 * 72 / 25.4, barHeight=40)
    barcode.drawOn(c, 36, h - 95 - 18 * len(lines) - 60)
    c.drawString(36, h - 95 - 18 * len(lines) - 78, _code(now))
    c.showPage()
    c.save()
    return out.getvalue()


def _zpl_test(station: str, now: datetime) -> bytes:
    code = _code(now)
    return (
        "^XA^CI28^PW812^LL1218"
        f"^FO40,40^A0N,50,50^FDWaystation test label^FS"
        f"^FO40,110^A0N,30,30^FDStation {station}^FS"
        f"^FO40,160^A0N,30,30^FD{now:%Y-%m-%d %H:%M:%S} UTC^FS"
        f"^FO40,230^BY3^BCN,120,Y,N,N^FD{code}^FS^XZ"
    ).encode()


def _escpos_test(station: str, now: datetime) -> bytes:
    esc = b"\x1b@" + b"\x1ba\x01" + b"\x1bE\x01Waystation test receipt\n\x1bE\x00"
    body = f"Station {station}\n{now:%Y-%m-%d %H:%M:%S} UTC\n{_code(now)}\n\n\n".encode()
    return esc + body + b"\x1dV\x42\x00"  # feed and partial cut
