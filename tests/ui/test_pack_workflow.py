"""The packing bench end to end, driven by simulated scanner keystrokes at scanner speed."""

from __future__ import annotations

import statistics
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext
from app.services.demo import DEMO_OPERATORS
from tests.ui.conftest import (
    codes_for,
    find_order,
    order_status,
    save_screenshot,
    scan,
    shown_whole,
    type_keys,
    wait_idle,
    words_fit,
)
from ui.main_window import MainWindow

# WORKAROUND: the offscreen platform warns on every top-level show; it means nothing here.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")
SUPERVISOR = next(op for op in DEMO_OPERATORS if op.name == "Sam Supervisor")


def sign_in(qtbot: QtBot, window: MainWindow, badge: str) -> None:
    type_keys(badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pack, timeout=5000)
    assert window.signin.pin.text() == ""


@pytest.mark.parametrize("ctx", [False, True], indirect=True, ids=["in-process", "helpers"])
def test_packer_packs_an_order_end_to_end(
    qtbot: QtBot, station: MainWindow, ctx: StationContext, tmp_path: Path
) -> None:
    window, pack = station, station.pack
    save_screenshot(window, "signin.png")
    sign_in(qtbot, window, PACKER.badge)
    assert PACKER.name in window.status.operator.text()
    remote = window.bench_process
    assert (remote is not None) is ctx.config.bench_process
    if remote is not None:  # started at sign-in; until it is ready scans use the worker
        qtbot.waitUntil(lambda: remote.ready, timeout=30_000)
    printer = window.print_process
    if printer is not None:  # started at sign-in too, so the first slip does not wait for it
        qtbot.waitUntil(lambda: printer.ready, timeout=30_000)

    order = find_order(ctx, lines=3, units=5)
    assert order is not None
    codes = codes_for(ctx, order)
    # The packer left the cursor in "Type a code": scans must not land there.
    pack.code.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is pack.code)

    scan(qtbot, window, order.number)
    assert pack.banner.kind == "good", pack.banner.message
    assert pack.order is not None and pack.order.number == order.number
    assert pack.instruction.text() == f"Scan the items of {order.number}"
    assert words_fit(pack.instruction)
    assert pack.model.rowCount() == 3
    assert pack.code.text() == ""

    first, second, third = order.lines
    scan(qtbot, window, first.gtin)
    assert pack.banner.kind == "good", pack.banner.message
    assert pack.order.units_packed == 1
    assert pack.table.selectionModel().isRowSelected(pack.model.row_of(first.id))

    # A product that is not on the order: bad, nothing counted, the words name code and order.
    scan(qtbot, window, codes.wrong_item)
    assert pack.banner.kind == "bad"
    assert codes.wrong_item.lstrip("0") in pack.banner.message  # shown as scanned: GTIN-13
    assert order.number in pack.banner.message
    assert pack.order.units_packed == 1
    assert pack.code.text() == ""
    save_screenshot(window, "pack.png")

    scan(qtbot, window, codes.unknown)
    assert pack.banner.kind == "bad"
    assert codes.unknown in pack.banner.message
    assert pack.order.units_packed == 1

    # Undo the last good scan, then scan it again.
    pack.undo_button.click()
    qtbot.waitUntil(lambda: pack.order is not None and pack.order.units_packed == 0)
    assert pack.banner.kind == "good", pack.banner.message
    scan(qtbot, window, first.gtin)
    for _ in range(first.ordered - 1):
        scan(qtbot, window, first.gtin)
    assert pack.order.line(first.id).complete
    assert pack.model.data(pack.model.index(0, 5)) == "✓ done"

    # Package 1 holds the first line; the rest goes into package 2.
    pack.new_button.click()
    qtbot.waitUntil(lambda: pack.order is not None and len(pack.order.packages) == 2)
    for line in (second, third):
        for _ in range(line.ordered):
            scan(qtbot, window, line.gtin)
    assert pack.order.all_packed
    assert pack.code.text() == ""
    assert pack.instruction.text() == "All items packed — close the package"
    assert words_fit(pack.instruction)
    assert not pack.complete_button.isEnabled()

    pack.box_type.setCurrentIndex(1)
    pack.weight.setText("1,25")
    pack.close_button.click()
    qtbot.waitUntil(lambda: pack.order is not None and pack.order.packages[0].closed)
    assert pack.order.packages[0].weight_g == 1250
    assert pack.order.packages[0].box_type == pack.box_type.itemText(1)
    assert not pack.complete_button.isEnabled()
    pack.weight.setText("0.8")
    pack.close_button.click()
    qtbot.waitUntil(lambda: pack.order is not None and pack.order.packages[1].closed)
    assert pack.complete_button.isEnabled()
    assert pack.instruction.text() == "All packed — press Complete order"
    assert words_fit(pack.instruction)

    pack.complete_button.click()
    printed = tmp_path / "printed"
    qtbot.waitUntil(lambda: printed.exists() and any(printed.glob("*.pdf")), timeout=15000)
    wait_idle(qtbot, window)
    pdf = next(printed.glob("*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF")
    doc = pdfium.PdfDocument(pdf)
    try:
        text = "".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()
    assert order.number in text
    # Made and sent in the station's print process when it has one (the default).
    assert (printer is not None) is ctx.config.print_process
    if printer is not None:
        assert printer.pid is not None
    assert order_status(ctx, order.id) == "packed"
    assert pack.banner.kind == "good", pack.banner.message
    assert f"Order {order.number} packed" in pack.banner.message
    assert pack.instruction.text() == "Scan an order to start"
    assert words_fit(pack.instruction)
    window.status.refresh()
    qtbot.waitUntil(lambda: "0 to print" in window.status.waiting.text(), timeout=5000)
    assert window.status.printer.text().startswith("Slips → folder")
    # At 1366 px, what waits and the sync state are whole; the station and paths give way.
    status = window.status
    for label in (status.operator, status.waiting, status.sync_state):
        assert shown_whole(label), label.text()

    # Each item scan whose outcome was shown at once was committed in the bench process
    # when there is one; the wrong and unknown codes, the order scan and the actions on the
    # worker. Nothing was shown that the commit then corrected.
    assert sum(pack.predicted) >= 5
    assert pack.remote_scans == (sum(pack.predicted) if remote is not None else 0)
    assert pack.corrections == 0

    feedback = sorted(pack.feedback_ms)
    ui_part = sorted(t - c for t, c in zip(pack.feedback_ms, pack.core_ms, strict=True))
    print(
        f"\nscan → feedback over {len(feedback)} scans: median "
        f"{statistics.median(feedback):.1f} ms, max {feedback[-1]:.1f} ms; outside "
        f"PackBench.scan: median {statistics.median(ui_part):.1f} ms, max {ui_part[-1]:.1f} ms"
    )

    # The station's helper processes end with it, and are not left behind.
    helpers = [p.pid for p in (window.bench_process, window.print_process) if p is not None]
    window.shutdown()
    for pid in helpers:
        assert pid is not None
        assert not Path(f"/proc/{pid}").exists()


def test_missing_item_puts_the_order_on_hold_until_a_supervisor_releases_it(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window, pack = station, station.pack
    sign_in(qtbot, window, PACKER.badge)
    order = find_order(ctx, lines=2, units=2)
    assert order is not None
    scan(qtbot, window, order.number)
    scan(qtbot, window, order.lines[0].gtin)

    pack.missing_button.click()
    dialog = pack.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.line.setCurrentIndex(1)
    dialog.qty.setValue(1)
    dialog.reason.setCurrentText("Bin empty")
    dialog.accept()
    qtbot.waitUntil(lambda: pack.order is not None and pack.order.status == "on_hold")
    assert pack.hold_panel.isVisible()
    assert "on hold" in pack.instruction.text()
    # Two lines at 1366 px: the page makes room for the second one, nothing is cut.
    qtbot.waitUntil(lambda: words_fit(pack.instruction))
    assert order_status(ctx, order.id) == "on_hold"

    # The packer's own badge cannot release the hold.
    before = len(pack.feedback_ms)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is pack.code)
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: pack.banner.kind == "bad")
    assert pack.order.status == "on_hold"
    assert len(pack.feedback_ms) == before

    pack.ship_short.setChecked(True)
    type_keys(SUPERVISOR.badge)
    qtbot.waitUntil(lambda: pack.order is not None and pack.order.status == "packing")
    assert pack.banner.kind == "good", pack.banner.message
    assert not pack.hold_panel.isVisible()
    assert pack.order.line(order.lines[1].id).missing == 1
    assert pack.order.all_packed
    assert order_status(ctx, order.id) == "packing"


def test_a_scan_while_a_dialog_is_open_reaches_the_bench_not_the_dialog(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window, pack = station, station.pack
    sign_in(qtbot, window, PACKER.badge)
    order = find_order(ctx, lines=2, units=2)
    assert order is not None
    scan(qtbot, window, order.number)
    pack.missing_button.click()
    dialog = pack.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    dialog.activateWindow()
    dialog.reason.setCurrentText("")
    dialog.reason.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.reason)
    scan(qtbot, window, order.lines[0].gtin)
    assert not dialog.isVisible()  # the packer moved on: the dialog is dropped
    assert dialog.reason.currentText() == ""  # not one character of the scan landed in it
    assert pack.order is not None
    assert pack.order.units_packed == 1
    assert pack.order.status == "packing"
    assert pack.banner.kind == "good", pack.banner.message
