"""Wedge scanners typing for another keyboard layout, GS as a Ctrl key, every terminator: keys
typed 1 ms apart into a real (offscreen) window come out as the code the scanner meant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.scanning.trace import ScanTrace
from app.scanning.wedge import WedgeSettings
from tests.ui.wedge_keys import ENTER, TAB, Scanner
from ui.wedge_filter import WedgeFilter

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


@dataclass
class Desk:
    edit: QLineEdit
    wedge: WedgeFilter
    scans: list[str]
    traces: list[ScanTrace]


@pytest.fixture
def desk(qtbot: QtBot) -> Iterator[Callable[[WedgeSettings], Desk]]:
    made: list[WedgeFilter] = []

    def make(settings: WedgeSettings) -> Desk:
        window = QWidget()
        edit = QLineEdit()
        QVBoxLayout(window).addWidget(edit)
        qtbot.addWidget(window)
        wedge = WedgeFilter(window, settings)
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(wedge)
        made.append(wedge)
        scans: list[str] = []
        traces: list[ScanTrace] = []
        wedge.scanned.connect(scans.append)
        wedge.traced.connect(traces.append)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        edit.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is edit)
        return Desk(edit, wedge, scans, traces)

    yield make
    app = QApplication.instance()
    assert app is not None
    for wedge in made:
        app.removeEventFilter(wedge)


def scanner_types(qtbot: QtBot, keys: str, terminator: Qt.Key | None, gs: str = "]") -> None:
    Scanner().types(keys, terminator, gs)


@pytest.mark.parametrize(
    ("layout", "typed", "terminator", "meant"),
    [
        # A US-set scanner on AZERTY: the digit row without Shift.
        ("auto", "SO)&àààà&", ENTER, "SO-100001"),
        ("auto", "Q)à&)&", TAB, "A-01-1"),
        ("auto", "'àà(-è&_&'è(&", None, "4005671814751"),
        ("azerty", "T)àààè", ENTER, "T-0007"),
        # ... on QWERTZ: the dash is ß, Y and Z swap.
        ("auto", "SOß1042", ENTER, "SO-1042"),
        ("qwertz", "YONE1ß07", TAB, "ZONE1-07"),
        # Scanners set right for the PC's keyboard, and a station that says so.
        ("auto", "SO-100001", ENTER, "SO-100001"),
        ("us", "é&&'(", None, "é&&'("),
    ],
)
def test_layouts_and_terminators(
    qtbot: QtBot,
    desk: Callable[[WedgeSettings], Desk],
    layout: str,
    typed: str,
    terminator: Qt.Key | None,
    meant: str,
) -> None:
    d = desk(WedgeSettings(layout=layout))
    scanner_types(qtbot, typed, terminator)
    qtbot.waitUntil(lambda: d.scans == [meant], timeout=2000)
    qtbot.wait(80)  # nothing more arrives: no second scan, no late replay
    assert d.scans == [meant]
    assert d.edit.text() == ""
    assert QApplication.focusWidget() is d.edit  # a Tab that ended a scan moved nothing


@pytest.mark.parametrize(
    ("layout", "gs"),
    [("auto", "]"), ("auto", "$"), ("auto", "+"), ("azerty", "$"), ("qwertz", "+"), ("us", "]")],
)
def test_gs_typed_as_ctrl_key(
    qtbot: QtBot, desk: Callable[[WedgeSettings], Desk], layout: str, gs: str
) -> None:
    d = desk(WedgeSettings(layout=layout))
    code = "0104006381333931\x1d10LOT1\x1d21SN9"
    scanner_types(qtbot, code, ENTER, gs=gs)
    qtbot.waitUntil(lambda: d.scans == [code], timeout=2000)


def test_gs_typed_on_azerty_with_azerty_digits(
    qtbot: QtBot, desk: Callable[[WedgeSettings], Desk]
) -> None:
    d = desk(WedgeSettings())
    azerty = str.maketrans("1234567890", "&é\"'(-è_çà")  # the digit row without Shift
    typed = "0104006381333931".translate(azerty) + "\x1d" + "10LOT1".translate(azerty)
    assert not any(c.isdigit() for c in typed)
    scanner_types(qtbot, typed, ENTER, gs="$")
    qtbot.waitUntil(lambda: d.scans == ["0104006381333931\x1d10LOT1"], timeout=2000)


@pytest.mark.parametrize("terminator", [ENTER, TAB, None])
def test_trace_has_every_key_with_its_time(
    qtbot: QtBot, desk: Callable[[WedgeSettings], Desk], terminator: Qt.Key | None
) -> None:
    d = desk(WedgeSettings())
    scanner_types(qtbot, "Q)à&)&", terminator)
    qtbot.waitUntil(lambda: len(d.traces) == 1, timeout=2000)
    trace = d.traces[0]
    assert (trace.text, trace.layout, trace.source) == ("A-01-1", "azerty", "keyboard")
    assert "".join(k.char for k in trace.keys) == "Q)à&)&"
    assert trace.ended_by == {ENTER: "enter", TAB: "tab", None: None}[terminator]
    assert [k.key for k in trace.keys if k.key] == ([trace.ended_by] if terminator else [])
    assert all(0 <= gap < 25 for gap in trace.gaps_ms)  # a scanner's pace


@pytest.mark.parametrize("layout", ["auto", "azerty", "qwertz"])
def test_slow_typing_stays_text_in_every_layout(
    qtbot: QtBot, desk: Callable[[WedgeSettings], Desk], layout: str
) -> None:
    d = desk(WedgeSettings(layout=layout))
    person = Scanner()
    for char in "é&ß(":
        person.press(char)
        person.stamp += 150
        qtbot.wait(150)
    qtbot.wait(100)
    assert d.edit.text() == "é&ß("  # as typed: a person's keys are never "corrected"
    assert d.scans == []
