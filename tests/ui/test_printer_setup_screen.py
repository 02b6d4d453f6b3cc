"""The printer set-up screen: an admin points packing slips at a network printer, checks it,
prints a test page and saves; a packer may look but not save."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import load_config
from app.services.demo import DEMO_OPERATORS
from tests.ui.conftest import save_screenshot, type_keys
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
ADMIN = next(op for op in DEMO_OPERATORS if op.name == "Alex Admin")
PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")


def open_setup(qtbot: QtBot, window: MainWindow, badge: str) -> None:
    type_keys(badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pack, timeout=5000)
    window.pack.journal_button.click()
    window.journal.printers_button.click()
    assert window.stack.currentWidget() is window.printers


def test_admin_sets_a_network_printer_tests_it_and_saves(
    qtbot: QtBot, station: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYSTATION_CONFIG", str(tmp_path / "station.toml"))
    window = station
    open_setup(qtbot, window, ADMIN.badge)
    setup = window.printers
    slip = setup.rows["packing_slip"]
    qtbot.waitUntil(lambda: slip.state.text() != "", timeout=10000)
    assert slip.state.text().startswith("✓ Documents")  # the folder printer of the fixture

    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def serve() -> None:
            for _ in range(2):  # the state probe, then the test page
                conn, _ = server.accept()
                with conn:
                    while chunk := conn.recv(65536):
                        received.extend(chunk)

        thread = threading.Thread(target=serve)
        thread.start()
        slip.kind.setCurrentIndex(slip.kind.findData("socket"))
        slip.host.setText("127.0.0.1")
        slip.port.setValue(port)
        assert slip.host.isVisible()
        assert not slip.folder.isVisible()
        setup.refresh_button.click()
        qtbot.waitUntil(lambda: "is answering" in slip.state.text(), timeout=10000)
        slip.test_button.click()
        qtbot.waitUntil(lambda: setup.banner.kind == "good", timeout=10000)
        thread.join(10)
    assert bytes(received).startswith(b"%PDF")
    save_screenshot(window, "printer-setup.png")

    setup.save_button.click()
    qtbot.waitUntil(lambda: "saved" in setup.banner.message, timeout=5000)
    saved = load_config(tmp_path / "station.toml").printers["packing_slip"]
    assert (saved.kind, saved.host, saved.port) == ("socket", "127.0.0.1", port)
    assert window.ctx.config.printer_for("packing_slip").port == port  # in use at once


def test_a_packer_may_look_but_not_save(
    qtbot: QtBot, station: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYSTATION_CONFIG", str(tmp_path / "station.toml"))
    window = station
    open_setup(qtbot, window, PACKER.badge)
    qtbot.waitUntil(lambda: window.printers.cups_state.text() != "", timeout=10000)
    window.printers.save_button.click()
    qtbot.waitUntil(lambda: window.printers.banner.kind == "bad", timeout=5000)
    assert "may not change the station's settings" in window.printers.banner.message
    assert not (tmp_path / "station.toml").exists()
