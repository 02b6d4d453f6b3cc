"""The Qt binding itself: calls a station makes millions of times a day must not leak or
over-release references. PySide6 6.12.0 released one reference to None on every
QCoreApplication.processEvents() call, which crashed a process after a few thousand calls
("none_dealloc"); this keeps such a release from coming back unnoticed."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot

CALLS = 2000


class Emitter(QObject):
    happened = Signal()


def none_refs_after(call: object) -> int:
    assert callable(call)
    call()  # warm up: caches and interned objects settle first
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        call()
    return sys.getrefcount(None) - before


def test_process_events_keeps_none_alive(qtbot: QtBot) -> None:
    assert none_refs_after(QCoreApplication.processEvents) >= 0


def test_signals_timers_and_widgets_keep_none_alive(qtbot: QtBot) -> None:
    emitter = Emitter()
    emitter.happened.connect(lambda: None, Qt.ConnectionType.QueuedConnection)
    label = QLabel()
    field = QLineEdit()
    qtbot.addWidget(label)
    qtbot.addWidget(field)

    def round_trip() -> None:
        emitter.happened.emit()
        QTimer.singleShot(0, lambda: None)
        label.setText("SO-100001")
        QTest.keyClick(field, "7")
        QCoreApplication.processEvents()

    assert none_refs_after(round_trip) >= -CALLS // 100  # noise from Python, not per call
