"""Signing in at the station: a badge scan, or a name and a typed PIN; refusals in words."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.services.demo import DEMO_OPERATORS
from tests.ui.conftest import type_keys
from ui.main_window import MainWindow

# WORKAROUND: the offscreen platform warns on every top-level show; it means nothing here.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")
RETURNS_CLERK = next(op for op in DEMO_OPERATORS if op.name == "Robin Returns")
TYPING_GAP_S = 0.08  # a quick typist: well above the scanner's 25 ms burst gap


def test_badge_scan_signs_in(qtbot: QtBot, station: MainWindow) -> None:
    assert station.signin.instruction.text() == "Scan your badge to sign in"
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pack)
    assert "Signed in: Pat Packer" in station.status.operator.text()
    assert station.pack.instruction.text() == "Scan an order to start"


def test_unknown_badge_is_refused_in_words(qtbot: QtBot, station: MainWindow) -> None:
    type_keys("OP-4242")
    qtbot.waitUntil(lambda: station.signin.banner.kind == "bad")
    assert "OP-4242 is not known" in station.signin.banner.message
    assert station.stack.currentWidget() is station.signin


def test_name_and_typed_pin_sign_in(qtbot: QtBot, station: MainWindow) -> None:
    signin = station.signin
    signin.names.setCurrentText(PACKER.name)
    signin.pin.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is signin.pin)
    type_keys("1234", gap_s=TYPING_GAP_S, enter=False)
    qtbot.waitUntil(lambda: signin.pin.text() == "1234", timeout=1000)  # typed: in the field
    signin.sign_in_button.click()
    qtbot.waitUntil(lambda: signin.banner.kind == "bad")
    assert "PIN" in signin.banner.message
    assert signin.pin.text() == ""

    type_keys(PACKER.pin, gap_s=TYPING_GAP_S, enter=False)
    qtbot.waitUntil(lambda: signin.pin.text() == PACKER.pin, timeout=1000)
    signin.sign_in_button.click()
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pack)


def test_sign_out_returns_to_sign_in(qtbot: QtBot, station: MainWindow) -> None:
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pack)
    station.pack.sign_out_button.click()
    assert station.stack.currentWidget() is station.signin
    assert "Nobody signed in" in station.status.operator.text()


def test_the_first_sign_in_puts_what_the_station_built_out_of_the_collectors_way(
    qtbot: QtBot, station: MainWindow
) -> None:
    """Whoever signs in first (here a returns clerk, whose station never shows the pack
    screen), what the station built by then is frozen: a full collection during a scan walks
    only what scans made since. Once a process: a later sign-in freezes nothing more."""
    gc.unfreeze()  # this test process froze at an earlier test's sign-in: as a new station
    assert gc.get_freeze_count() == 0
    type_keys(RETURNS_CLERK.badge)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.returns)
    frozen = gc.get_freeze_count()
    assert frozen > 10_000, "the start-up heap (modules, mappings, widgets) was not frozen"

    station.returns.sign_out_button.click()
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pack)
    assert gc.get_freeze_count() <= frozen  # (a frozen object freed since leaves the count)
