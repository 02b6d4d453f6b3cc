"""The scanner check screen in the station: what the scanner sent, what it was read as, and
what to change; reached with F9 from any screen, leaving every workflow as it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QMetaMethod, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext
from app.scanning.trace import ScanTrace, SentKey
from app.services.scan_check import CheckResult
from tests.integration.test_serial_scanner import Cable
from tests.ui.conftest import find_order, save_screenshot
from tests.ui.wedge_keys import Scanner
from ui.main_window import MainWindow
from ui.models.sent_keys import SentKeysModel
from ui.wedge_filter import WedgeFilter

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def open_check(qtbot: QtBot, window: MainWindow) -> None:
    QTest.keyClick(window, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.scanner_check)


def check(qtbot: QtBot, window: MainWindow, keys: str, **how: object) -> CheckResult:
    screen = window.scanner_check
    with qtbot.waitSignal(screen.checked, timeout=5000) as shown:
        Scanner().types(keys, **how)  # type: ignore[arg-type]
    result = shown.args[0]
    assert isinstance(result, CheckResult)
    return result


def read_as(window: MainWindow) -> dict[str, str]:
    form = window.scanner_check.read_as
    pairs = {}
    for row in range(form.rowCount()):
        label = form.itemAt(row, form.ItemRole.LabelRole).widget()
        value = form.itemAt(row, form.ItemRole.FieldRole).widget()
        assert isinstance(label, QLabel) and isinstance(value, QLabel)
        pairs[label.text()] = value.text()
    return pairs


def test_a_bin_scan_from_a_scanner_without_aim_ids(qtbot: QtBot, station: MainWindow) -> None:
    open_check(qtbot, station)
    screen = station.scanner_check
    result = check(qtbot, station, "A-01-1")
    assert screen.banner.kind == "good"
    assert screen.banner.message == "Read: Bin A-01-1"
    assert read_as(station)["Names"] == "Bin A-01-1"
    # Every key with its timing: six characters and the Enter.
    assert screen.keys.rowCount() == 7
    sent = [screen.keys.index(r, 1).data() for r in range(7)]
    assert sent == ["A", "-", "0", "1", "-", "1", "<ENTER>"]
    assert screen.keys.index(6, 2).data() == "Enter key"
    gaps = [float(screen.keys.index(r, 3).data()) for r in range(1, 7)]
    assert all(0.5 <= g <= 5 for g in gaps)
    assert "ended by Enter" in screen.summary.text()
    assert "from the keyboard (wedge)" in screen.summary.text()
    # A well-timed scanner, but it sends no AIM identifier: that is the one advice.
    assert [a.fix for a in result.advice] == [
        "Turn on “transmit AIM ID” (symbology identifier) in the scanner's settings."
    ]
    assert "transmit AIM ID" in screen.advice.text()


def test_azerty_gs1_without_terminator_gets_its_advice(qtbot: QtBot, station: MainWindow) -> None:
    open_check(qtbot, station)
    screen = station.scanner_check
    gtin = find_first_gtin(station)
    azerty = str.maketrans("1234567890", "&é\"'(-è_çà")
    keys = ("]C1" + "01" + gtin).translate(azerty) + "\x1d" + "10L7".translate(azerty)
    keys += "\x1d" + "17271231".translate(azerty)
    result = check(qtbot, station, keys, terminator=None, gs="$")
    assert result.found, result.names
    fields = read_as(station)
    assert fields["Barcode type"] == "GS1-128 (]C1)"
    assert (fields["GTIN"], fields["Lot"], fields["Expiry"]) == (gtin, "L7", "2027-12-31")
    assert "<GS>" in screen.sent.accessibleName()
    assert "read for AZERTY" in screen.summary.text()
    assert "ended by silence (no terminator)" in screen.summary.text()
    problems = " ".join(screen.advice_texts())
    assert "this computer uses AZERTY" in problems
    assert "sends nothing after the code" in problems
    assert "AIM" not in problems  # it sent ]C1
    save_screenshot(station, "scanner-check.png")  # WAYSTATION_SCREENSHOTS=docs/screenshots


def find_first_gtin(window: MainWindow) -> str:
    order = find_order(window.ctx, lines=1, units=None)
    assert order is not None
    return order.lines[0].gtin


def test_a_gs1_code_with_its_gs_left_out(qtbot: QtBot, station: MainWindow) -> None:
    open_check(qtbot, station)
    gtin = find_first_gtin(station)
    result = check(qtbot, station, f"]C101{gtin}10LOT121SN9")
    assert result.scan is not None and result.scan.lot == "LOT121SN9"
    (advice,) = result.advice
    assert "seems to end in a second field, “21SN9”" in advice.problem


def test_a_code_of_no_known_shape(qtbot: QtBot, station: MainWindow) -> None:
    open_check(qtbot, station)
    screen = station.scanner_check
    check(qtbot, station, "LPN-000123")
    assert screen.banner.kind == "bad"
    assert "not one of this company's own codes" in screen.banner.message
    assert "not one of this company's own codes" in read_as(station)["Problem"]


def test_a_scanner_too_slow_to_be_taken_for_one(qtbot: QtBot, station: MainWindow) -> None:
    open_check(qtbot, station)
    screen = station.scanner_check
    assert QApplication.focusWidget() is screen.field
    with qtbot.waitSignal(screen.checked, timeout=5000):
        Scanner(gap_ms=30).types("T-0007")  # 30 ms a key: more than max_gap_ms = 25
    assert screen.field.text() == ""
    assert screen.trace is not None and screen.trace.source == "typed"
    assert "typed into the field below" in screen.summary.text()
    (advice,) = [a for a in screen.advice_texts() if "These keys came" in a]
    assert "These keys came 30 ms apart" in advice
    assert "raise max_gap_ms under [scanner] to about 35" in advice


def test_the_check_moves_no_workflow(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    Scanner().types("OP-1001")  # sign in
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pack)
    order = find_order(ctx, lines=2, units=None)
    assert order is not None
    open_check(qtbot, station)
    result = check(qtbot, station, order.number)
    assert result.names == f"Order {order.number} (confirmed)"
    assert station.pack.order is None  # the bench opened nothing
    QTest.keyClick(station.scanner_check, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pack)


def test_f9_from_sign_in_and_back(qtbot: QtBot, station: MainWindow) -> None:
    open_check(qtbot, station)
    result = check(qtbot, station, "OP-1001")
    assert result.names == "Operator badge of Pat Packer"
    assert station.stack.currentWidget() is station.scanner_check  # nobody was signed in
    station.scanner_check.back_button.click()
    assert station.stack.currentWidget() is station.signin
    # Away from the check, no scan pays for a trace: nobody listens for one.
    wedge = station.wedge
    assert isinstance(wedge, WedgeFilter)
    assert not wedge.isSignalConnected(QMetaMethod.fromSignal(wedge.traced))
    station.check_button.click()
    assert station.stack.currentWidget() is station.scanner_check
    assert wedge.isSignalConnected(QMetaMethod.fromSignal(wedge.traced))


def test_sent_keys_model(qtmodeltester: object) -> None:
    model = SentKeysModel()
    trace = ScanTrace(
        "serial",
        (SentKey("A", None, 0.0), SentKey("\x1d", None, 1.0), SentKey("\r", None, 2.5)),
        "A\x1d",
        "CR",
    )
    model.set_trace(trace)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    rows = [[model.index(r, c).data() for c in range(4)] for r in range(3)]
    assert rows == [
        ["1", "A", "U+0041", ""],
        ["2", "<GS>", "U+001D", "1.0"],
        ["3", "<CR>", "U+000D", "1.5"],
    ]


@pytest.fixture
def serial_station(
    qtbot: QtBot, ctx: StationContext, tmp_path: Path
) -> Iterator[tuple[MainWindow, Cable]]:
    from tests.ui.conftest import show_station

    cable = Cable(tmp_path / "ttyACM0")
    ctx.config = replace(
        ctx.config, scanner=replace(ctx.config.scanner, serial_port=str(cable.path))
    )
    try:
        for window in show_station(qtbot, ctx):
            yield window, cable
    finally:
        cable.unplug()


def test_a_serial_scanner_signs_in_and_says_when_it_is_gone(
    qtbot: QtBot, serial_station: tuple[MainWindow, Cable]
) -> None:
    window, cable = serial_station
    qtbot.waitUntil(lambda: window.serial is not None and window.serial.connected, timeout=5000)
    assert window.serial_status.text() == f"Scanner {cable.path} ✓"
    cable.send(b"OP-1001\r")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pack, timeout=5000)
    assert "Pat Packer" in window.status.operator.text()
    cable.unplug()
    qtbot.waitUntil(lambda: window.serial_status.property("alert") == "true", timeout=5000)
    assert window.serial_status.text() == (
        f"The scanner on {cable.path} was disconnected — plug it back in; "
        "the station reconnects by itself."
    )
    cable.plug_in()
    qtbot.waitUntil(lambda: window.serial_status.property("alert") == "false", timeout=5000)
    open_check(qtbot, window)
    with qtbot.waitSignal(window.scanner_check.checked, timeout=5000):
        cable.send(b"]C0T-0007")  # no terminator: it ends by silence
    assert "from the serial port" in window.scanner_check.summary.text()
    assert any("sends nothing after the code" in a for a in window.scanner_check.advice_texts())


def test_gs_sent_as_a_configured_stand_in(qtbot: QtBot, station: MainWindow) -> None:
    station.ctx.config = replace(
        station.ctx.config, scanner=replace(station.ctx.config.scanner, gs_replacement="|")
    )
    open_check(qtbot, station)
    gtin = find_first_gtin(station)
    result = check(qtbot, station, f"]C101{gtin}10L7|17271231")
    assert result.found, result.names
    fields = read_as(station)
    assert (fields["Lot"], fields["Expiry"]) == ("L7", "2027-12-31")
    assert result.advice == ()
