"""A printer that is off never stops the bench: the order is packed, the slip waits, the status
bar says so in words, and the next order can be scanned at once."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig
from app.services.demo import DEMO_OPERATORS
from tests.ui.conftest import find_order, scan, station_config, type_keys
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def offline(qtbot: QtBot, tmp_path: Path, demo_database: Path) -> Iterator[MainWindow]:
    from ui.main import build_window
    from ui.theme import apply_theme

    shutil.copy(demo_database, tmp_path / "station.db")
    dead = PrinterConfig(kind="socket", host="127.0.0.1", port=closed_port())
    config = replace(station_config(tmp_path), printers={"packing_slip": dead})
    ctx: StationContext = bootstrap(config)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    window = build_window(ctx)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=5000):
        window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    yield window
    window.shutdown()
    ctx.dispose()
    app.setStyleSheet("")


def test_printer_off_the_order_is_packed_and_the_status_bar_says_so(
    qtbot: QtBot, offline: MainWindow
) -> None:
    window, pack = offline, offline.pack
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is pack, timeout=5000)
    order = find_order(window.ctx, lines=1, units=1)
    assert order is not None
    scan(qtbot, window, order.number)
    scan(qtbot, window, order.lines[0].gtin)
    pack.weight.setText("0.4")
    pack.close_button.click()
    qtbot.waitUntil(lambda: pack.complete_button.isEnabled(), timeout=5000)
    pack.complete_button.click()
    qtbot.waitUntil(lambda: pack.order is None and pack.banner.kind == "good", timeout=5000)
    assert f"Order {order.number} packed" in pack.banner.message

    # The print worker tried, failed, and the status bar says it in words.
    qtbot.waitUntil(lambda: "offline" in window.status.printer.text(), timeout=10000)
    assert window.status.printer.text() == "Slip printer offline — 1 packing slip waiting"
    assert window.status.printer.property("alert") == "true"

    # ...and the bench goes on: the next order opens at once.
    second = find_order(window.ctx, lines=1, units=1, skip=(order.number,))
    assert second is not None
    scan(qtbot, window, second.number)
    assert pack.order is not None
    assert pack.order.number == second.number
