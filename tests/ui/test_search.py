"""Order search: slow typing reaches the field; a scanner burst reaches the pack workflow."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext
from app.services.demo import DEMO_OPERATORS
from tests.ui.conftest import find_order, scan, type_keys
from ui.main_window import MainWindow

# WORKAROUND: the offscreen platform warns on every top-level show; it means nothing here.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")
SLOW_GAP_S = 0.13  # a person typing slowly: ≥ 120 ms between keys


@pytest.fixture
def signed_in(qtbot: QtBot, station: MainWindow) -> MainWindow:
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pack)
    return station


def open_search(qtbot: QtBot, window: MainWindow) -> None:
    window.pack.search_button.click()
    assert window.stack.currentWidget() is window.search
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.search.field)


def test_slow_typing_goes_into_the_search_field(
    qtbot: QtBot, signed_in: MainWindow, ctx: StationContext
) -> None:
    window, search = signed_in, signed_in.search
    order = find_order(ctx, lines=3, units=5)
    assert order is not None
    # Open the order first so its timeline has something in it.
    scan(qtbot, window, order.number)
    open_search(qtbot, window)

    type_keys(order.number, gap_s=SLOW_GAP_S, enter=False)
    qtbot.waitUntil(lambda: search.field.text() == order.number, timeout=1000)
    assert window.stack.currentWidget() is search
    assert window.pack.order is not None and len(window.pack.feedback_ms) == 1  # no scan
    qtbot.waitUntil(lambda: search.results.rowCount() == 1, timeout=5000)
    assert search.results.summary(0).number == order.number
    qtbot.waitUntil(lambda: search.timeline.rowCount() > 0, timeout=5000)
    whats = [search.timeline.index(r, 1).data() for r in range(search.timeline.rowCount())]
    assert "packing started" in whats
    assert order.number in search.timeline_title.text()

    search.back_button.click()
    assert window.stack.currentWidget() is window.pack


def test_search_by_customer_name(qtbot: QtBot, signed_in: MainWindow, ctx: StationContext) -> None:
    order = find_order(ctx, lines=3, units=5)
    assert order is not None
    search = signed_in.search
    open_search(qtbot, signed_in)
    surname = order.customer.split()[-1]
    search.field.setText(surname)
    search.search_now()
    qtbot.waitUntil(lambda: search.results.rowCount() > 0, timeout=5000)
    customers = [search.results.summary(r).customer for r in range(search.results.rowCount())]
    assert all(surname in c for c in customers)

    search.field.setText("nobody-by-this-name")
    search.search_now()
    qtbot.waitUntil(lambda: search.banner.kind == "warn", timeout=5000)
    assert search.results.rowCount() == 0


def test_a_scan_in_the_search_field_reaches_the_pack_workflow(
    qtbot: QtBot, signed_in: MainWindow, ctx: StationContext
) -> None:
    window = signed_in
    order = find_order(ctx, lines=3, units=5)
    assert order is not None
    open_search(qtbot, window)
    window.search.field.setText("Mü")
    window.search.field.setFocus()
    scan(qtbot, window, order.number)
    assert window.search.field.text() == "Mü"  # the scan never landed in the field
    assert window.stack.currentWidget() is window.pack
    assert window.pack.order is not None and window.pack.order.number == order.number
    assert window.pack.banner.kind == "good"
