"""The system print dialog, for when a person wants to choose a printer themselves (a copy on
the office printer, a different tray). The document is the same PDF the queue would print; its
pages are drawn onto the printer the person chose, at that printer's resolution."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from app.domain.errors import PrintError

Ask = Callable[[QPrinter], bool]
MAX_RENDER_DPI = 300


def ask_with_dialog(parent: QWidget | None) -> Ask:
    def ask(printer: QPrinter) -> bool:
        dialog = QPrintDialog(printer, parent)
        return dialog.exec() == QDialog.DialogCode.Accepted

    return ask


def print_pdf(pdf: bytes, title: str, ask: Ask, printer: QPrinter | None = None) -> str | None:
    """Let the person choose a printer (``ask``), then print every page of ``pdf`` on it.

    Returns the printer's name, or None when the person cancelled.
    """
    printer = printer or QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(title)
    if not ask(printer):
        return None
    data = QByteArray(pdf)
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready or document.pageCount() == 0:
        raise PrintError(f"{title} could not be read to print it — print it from the queue.")
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintError(
            f"The printer {printer.printerName() or 'chosen'} could not be used — choose "
            "another one."
        )
    try:
        area = printer.pageLayout().paintRectPixels(printer.resolution())
        dpi = min(printer.resolution(), MAX_RENDER_DPI)  # a 1200 dpi A4 page is half a gigabyte
        for page in range(document.pageCount()):
            if page:
                printer.newPage()
            size = document.pagePointSize(page)
            image = document.render(
                page, QSize(int(size.width() * dpi / 72), int(size.height() * dpi / 72))
            )
            scale = min(area.width() / size.width(), area.height() / size.height())
            target = QRect(0, 0, int(size.width() * scale), int(size.height() * scale))
            painter.drawImage(target, image)
    finally:
        painter.end()
        document.close()
    return printer.printerName() or printer.outputFileName()
