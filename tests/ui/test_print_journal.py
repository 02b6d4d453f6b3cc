"""The print journal: the slip of a packed order is listed as printed; printing it again makes
a second slip (audited); the model passes Qt's model checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.bootstrap import StationContext
from app.services.demo import DEMO_OPERATORS
from app.store.models import AuditEvent
from tests.ui.conftest import find_order, save_screenshot, scan, type_keys
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")


def test_reprint_from_the_journal(
    qtbot: QtBot,
    station: MainWindow,
    ctx: StationContext,
    tmp_path: Path,
    qtmodeltester: ModelTester,
) -> None:
    window, pack = station, station.pack
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is pack, timeout=5000)
    order = find_order(ctx, lines=1, units=1)
    assert order is not None
    scan(qtbot, window, order.number)
    scan(qtbot, window, order.lines[0].gtin)
    pack.weight.setText("0.5")
    pack.close_button.click()
    qtbot.waitUntil(pack.complete_button.isEnabled, timeout=5000)
    pack.complete_button.click()
    printed = tmp_path / "printed"
    qtbot.waitUntil(lambda: len(list(printed.glob("*.pdf"))) == 1, timeout=10000)

    pack.journal_button.click()
    journal = window.journal
    assert window.stack.currentWidget() is journal
    qtbot.waitUntil(lambda: journal.model.rowCount() == 1, timeout=5000)
    qtmodeltester.check(journal.model)
    assert journal.model.data(journal.model.index(0, 2)) == "printed ✓"
    assert not journal.reprint_button.isEnabled()  # nothing chosen yet
    journal.view.selectRow(0)
    assert journal.reprint_button.isEnabled()
    assert not journal.discard_button.isEnabled()  # a printed job cannot be discarded
    save_screenshot(window, "print-journal.png")

    journal.reprint_button.click()
    qtbot.waitUntil(lambda: len(list(printed.glob("*.pdf"))) == 2, timeout=10000)
    qtbot.waitUntil(lambda: journal.model.rowCount() == 2, timeout=5000)
    assert "printed again" in journal.model.data(journal.model.index(0, 1))
    assert journal.banner.kind == "good"
    with ctx.sessions() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "print.reprinted")).one()
    assert audit.operator_id is not None  # who asked is on record

    journal.back_button.click()
    assert window.stack.currentWidget() is pack


def test_print_with_the_system_dialog_to_a_pdf_printer(
    qtbot: QtBot, station: MainWindow, ctx: StationContext, tmp_path: Path
) -> None:
    import pypdfium2 as pdfium
    import zxingcpp
    from PySide6.QtPrintSupport import QPrinter

    window, pack = station, station.pack
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is pack, timeout=5000)
    order = find_order(ctx, lines=1, units=1)
    assert order is not None
    scan(qtbot, window, order.number)
    scan(qtbot, window, order.lines[0].gtin)
    pack.weight.setText("0.5")
    pack.close_button.click()
    qtbot.waitUntil(pack.complete_button.isEnabled, timeout=5000)
    pack.complete_button.click()
    pack.journal_button.click()
    journal = window.journal
    qtbot.waitUntil(lambda: journal.model.rowCount() == 1, timeout=5000)
    journal.view.selectRow(0)

    out = tmp_path / "dialog.pdf"

    def person_chooses_a_pdf_printer(printer: QPrinter) -> bool:
        # What a person does in the dialog: picks "Print to file (PDF)" and presses Print.
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(out))
        return True

    journal.ask = person_chooses_a_pdf_printer
    journal.dialog_button.click()
    qtbot.waitUntil(lambda: "sent to" in journal.banner.message, timeout=10000)
    doc = pdfium.PdfDocument(out)
    try:
        image = doc[0].render(scale=300 / 72, grayscale=True).to_pil()
    finally:
        doc.close()
    assert order.number in {code.text for code in zxingcpp.read_barcodes(image)}
    with ctx.sessions() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "print.dialog")).one()
    assert audit.details["printer"] == str(out)

    journal.ask = lambda _printer: False  # the person cancels
    journal.dialog_button.click()
    qtbot.waitUntil(lambda: journal.banner.message == "Printing cancelled.", timeout=10000)
