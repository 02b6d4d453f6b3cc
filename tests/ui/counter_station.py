"""A shop-counter station for the UI tests: the demo company on its own copy of the database,
the station named TILL-1, receipts and the cash report going to a raw TCP printer the test owns,
a few products with their own tax rate, and a scale item sold by weight."""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from counter_printer import RawPrinter
from PySide6.QtCore import QEvent, QLocale, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import insert, select

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig, StationConfig
from app.services.counter import catalog
from app.services.counter.scale_codes import item_code, make_variable_measure
from app.store.models import Barcode, Product
from tests.ui.conftest import SCANNER_GAP_S
from ui.main_window import MainWindow

CLERK_BADGE = "OP-1004"
SUPERVISOR_BADGE = "OP-9001"


@dataclass
class Goods:
    """Barcodes the tests scan, with what they cost."""

    items: list[tuple[str, int, int]]  # (EAN-13 as printed, price, tax rate)
    scale_item: uuid.UUID
    weighed: str  # a scale label: the scale item, 0.342 kg


def counter_context(folder: Path, demo_database: Path, printer: RawPrinter) -> StationContext:
    shutil.copy(demo_database, folder / "station.db")
    raw = PrinterConfig(kind="socket", host="127.0.0.1", port=printer.port, paper="80mm")
    config = StationConfig(
        station_name="TILL-1",
        database_url=f"sqlite:///{folder / 'station.db'}",
        sounds=False,
        printers={"receipt": raw, "cash_report": raw},
        # Receipts print on the station's print thread, as in the other screen tests: starting
        # the print process holds the interpreter lock until it has exec'd, and the simulated
        # scanner posts its keys from a thread of this process (a real one does not need the
        # lock). The print process has its own tests (tests/integration/test_print_host.py).
        print_process=False,
    )
    return bootstrap(config)


def stock_the_shop(ctx: StationContext) -> Goods:
    """Twelve products to sell (every third at the reduced rate) and a cheese by weight."""
    with ctx.sessions() as s:
        products = list(
            s.scalars(
                select(Product).where(Product.track_lot.is_(False)).order_by(Product.sku).limit(13)
            )
        )
    with ctx.uow() as uow:
        for i, p in enumerate(products[:12]):
            catalog.set_tax_rate(uow, p.id, 700 if i % 3 == 0 else None)
        scale = products[12]
        catalog.set_tax_rate(uow, scale.id, 700)
    with ctx.engine.begin() as conn:
        conn.execute(
            insert(Barcode),
            [{"code": item_code("21", 77), "kind": "product", "entity_id": scale.id, "units": 1}],
        )
    items = [
        ((p.gtin or "")[1:], p.price_minor, 700 if i % 3 == 0 else 1900)
        for i, p in enumerate(products[:12])
    ]
    return Goods(items, scale.id, make_variable_measure("21", 77, 342))


def show_station(qtbot: QtBot, ctx: StationContext) -> MainWindow:
    from ui.main import build_window
    from ui.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    window = build_window(ctx)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=5000):
        window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.signin.names.count() > 0)
    return window


def scanner_keys(text: str, gap_s: float = SCANNER_GAP_S) -> None:
    """Keystrokes as a wedge scanner sends them, ``gap_s`` apart, each stamped with when it was
    made. Each key is queued when it is due and the GUI thread runs its event loop in between,
    as the windowing system queues a real scanner's keys while the station works. Keys that came
    due while the GUI thread was held up (a worker holding the interpreter lock) are queued
    together before anything else runs, as a real scanner's wait in the queue: a thread of this
    process posting them would itself wait for the lock, and a scan would seem to pause."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert isinstance(target, QWidget)
    t0 = time.monotonic() + 0.002
    schedule = []  # (when, press, release)
    for i, ch in enumerate([*text, "\r"]):
        due = t0 + i * gap_s
        key = Qt.Key.Key_Return if ch == "\r" else Qt.Key(ord(ch.upper()))
        pair = []
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, ch)
            event.setTimestamp(int(due * 1000))
            pair.append(event)
        schedule.append((due, *pair))
    while schedule:
        now = time.monotonic()
        while schedule and schedule[0][0] <= now:
            _due, press, release = schedule.pop(0)
            QApplication.postEvent(target, press)
            QApplication.postEvent(target, release)
        QApplication.processEvents()
        if schedule:
            time.sleep(max(0.0, min(gap_s / 4, schedule[0][0] - time.monotonic())))
    QApplication.processEvents()


def sign_in(qtbot: QtBot, window: MainWindow, badge: str = CLERK_BADGE) -> None:
    scanner_keys(badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.counter, timeout=5000)
    wait_idle(qtbot, window)


def scan(qtbot: QtBot, window: MainWindow, code: str) -> None:
    """A scan at scanner speed (1 ms between keys); waits until the counter shows its result."""
    quiet(qtbot, window)
    before = len(window.counter.feedback_ms)
    scanner_keys(code)
    qtbot.waitUntil(lambda: len(window.counter.feedback_ms) > before, timeout=5000)


def quiet(qtbot: QtBot, window: MainWindow) -> None:
    """No print running and no use case in hand before a scan.

    The wedge filter tells a scan from typing by key timing. With the GUI thread held up for
    a few tens of milliseconds while a scan arrives (receipts rendering on the print thread),
    its deadline timer can fire before the keys queued meanwhile are delivered, less than its
    10 ms "late" margin past the deadline, and the scan's first keys are replayed as typing.
    Until the filter handles that, the day's scans come when the station is quiet — as a clerk
    scans the next customer's items once the receipt is out."""
    qtbot.waitUntil(lambda: not window.printer.busy and window.worker.pending == 0, timeout=10000)


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=10000)
    time.sleep(0)
