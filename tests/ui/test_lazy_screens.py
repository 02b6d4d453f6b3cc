"""Screens built on first use: when the station is ready, only the sign-in screen exists (the pack
screen follows once the ORM has loaded); every other screen is built the first time it is shown —
by signing in or by its key — and then takes scans, keys and its operator's session as if it had
been there from the start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext
from app.services.demo import DEMO_OPERATORS
from tests.ui.conftest import find_order, type_keys
from ui.main_window import SCREENS, MainWindow

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

ROOT = Path(__file__).resolve().parents[2]
PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")
SUPERVISOR = next(op for op in DEMO_OPERATORS if op.name == "Sam Supervisor")


def built(window: MainWindow) -> set[str]:
    """The screens the window has built so far."""
    return {type(window.stack.widget(i)).__name__ for i in range(window.stack.count())}


def test_waiting_for_a_badge_only_the_sign_in_and_pack_screens_are_built(
    station: MainWindow,
) -> None:
    # The pack screen, where most operators land, is built once the ORM has loaded.
    assert built(station) == {"SignInScreen", "PackScreen"}
    assert station.stack.widget(0) is station.signin
    assert station.stack.currentWidget() is station.signin


def test_a_screen_built_by_its_key_receives_the_next_scan(
    qtbot: QtBot, station: MainWindow
) -> None:
    assert "ScannerCheckScreen" not in built(station)
    QTest.keyClick(station, Qt.Key.Key_F9)
    assert "ScannerCheckScreen" in built(station)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.scanner_check)
    check = station.scanner_check
    with qtbot.waitSignal(check.checked, timeout=5000):
        type_keys("A-01-1")
    assert check.banner.kind == "good"
    assert check.banner.message == "Read: Bin A-01-1"
    # It watches the wedge it was built after: every key with its timing, and the Enter.
    assert check.keys.rowCount() == 7


def test_the_pack_screen_starts_the_session_at_sign_in_and_takes_scans(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    order = find_order(ctx, lines=1, units=1)
    assert order is not None
    pack = station.pack
    type_keys(PACKER.badge)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is pack, timeout=5000)
    assert pack.banner.message == "Hello Pat Packer — scan an order to start."
    type_keys(order.number)
    qtbot.waitUntil(lambda: pack.order is not None and pack.order.number == order.number)
    assert pack.instruction.text() == f"Scan the items of {order.number}"


def test_window_keys_build_and_open_screens_with_the_operator_signed_in(
    qtbot: QtBot, station: MainWindow
) -> None:
    type_keys(SUPERVISOR.badge)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pack, timeout=5000)
    assert built(station) == {"SignInScreen", "PackScreen"}

    QTest.keyClick(station, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.pick)
    # The picking session started when the screen was built, as it does at sign-in.
    assert station.pick.banner.message.startswith("Hello Sam Supervisor — scan a pick list")
    type_keys("PL-NOPE-4242")
    qtbot.waitUntil(lambda: station.pick.banner.kind == "bad", timeout=5000)

    QTest.keyClick(station, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.returns)
    assert station.returns.banner.message.startswith("Hello Sam Supervisor — scan the parcel")

    QTest.keyClick(station, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: station.stack.currentWidget() is station.counter)
    counter = station.counter  # its session starts on the worker: the till's state is read
    qtbot.waitUntil(lambda: counter.banner.message.startswith("Hello Sam Supervisor"))

    # Signing out ends the sessions of the screens built; the others never had one.
    station.counter.sign_out_requested.emit()
    assert station.stack.currentWidget() is station.signin
    assert built(station) == {
        "SignInScreen",
        "PackScreen",
        "PickScreen",
        "ReturnsScreen",
        "CounterScreen",
    }


def test_all_screens_builds_every_screen_once(station: MainWindow) -> None:
    screens = station.all_screens()
    assert len(screens) == len(SCREENS) + 1
    assert len({id(s) for s in screens}) == len(screens)
    assert station.all_screens() == screens  # asked again: the same widgets, none rebuilt


def test_the_station_is_ready_before_any_other_screen_or_sqlalchemy_loads(
    tmp_path: Path, demo_database: Path
) -> None:
    """In a fresh process, as a station starts: the window is built and shown, and ``ready``,
    without any other screen's module or SQLAlchemy (which the database worker loads once the
    window is shown, ahead of the operator names, and then the GS1 parser, ahead of the first
    scan)."""
    shutil.copy(demo_database, tmp_path / "station.db")
    script = textwrap.dedent(
        f"""
        import sys
        import time
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from app.config import PrinterConfig, StationConfig
        from ui.main import build_station

        WATCH = ("ui.screens.pack", "ui.screens.counter", "ui.screens.returns",
                 "ui.screens.pick", "sqlalchemy", "sqlalchemy.orm", "app.store.models")
        app = QApplication([])
        config = StationConfig(database_url="sqlite:///{tmp_path / "station.db"}",
                               sounds=False, printers={{"packing_slip": PrinterConfig(
                                   kind="folder", folder="{tmp_path / "printed"}")}})
        window = build_station(config)
        print(sorted(m for m in WATCH if m in sys.modules))  # the window, built

        def ready():
            print(sorted(m for m in WATCH if m in sys.modules and m.startswith("ui.")))
            window.signin.names.model().rowsInserted.connect(names_shown)

        def names_shown():
            deadline = time.monotonic() + 20
            # ...and, loaded on the worker ahead of the first scan, the GS1 parser.
            def settled():
                if "biip" in sys.modules and window.worker.pending == 0:
                    app.quit()
                elif time.monotonic() > deadline:
                    app.quit()
            poll.timeout.connect(settled)
            poll.start(20)

        poll = QTimer()
        window.ready.connect(ready)
        window.show()
        app.exec()
        print(window.signin.names.count() > 0, "app.store.models" in sys.modules,
              "biip" in sys.modules)
        window.shutdown()
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == ["[]", "[]", "True True True"]
