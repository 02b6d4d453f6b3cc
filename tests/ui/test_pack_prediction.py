"""An item scan is on screen before its commit; the commit has the last word.

The bench shows the usual outcome of an item scan (the line counts up, green) while the
database worker commits it. When the commit comes back otherwise (the order was cancelled
underneath, the database refused the write), the screen shows what really happened and says so.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QHeaderView, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select, text, update

from app.bootstrap import StationContext
from app.services.demo import DEMO_OPERATORS
from app.services.orders import get_order
from app.services.views import OrderView
from app.store.models import Barcode, Order, PackedUnit, ScanEvent
from tests.ui.conftest import find_order, words_fit, worker_held
from ui.main_window import MainWindow
from ui.models.order_lines import SCANNED

# WORKAROUND: the offscreen platform warns on every top-level show; it means nothing here.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")


def scanner_keys(code: str) -> None:
    """The code and Enter as a wedge scanner types them, stamped 1 ms apart the way the
    windowing system stamps them, however busy this machine is while they are delivered."""
    stamp = int(time.monotonic() * 1000)
    keys = [(ord(ch.upper()), ch) for ch in code] + [(int(Qt.Key.Key_Return), "\r")]
    for key, typed in keys:
        target = QApplication.focusWidget() or QApplication.activeWindow()
        assert isinstance(target, QWidget)
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, typed)
            event.setTimestamp(stamp)
            QApplication.sendEvent(target, event)
        stamp += 1


def scan(qtbot: QtBot, window: MainWindow, code: str) -> None:
    """A scan; waits until the bench has shown its committed outcome."""
    before = len(window.pack.feedback_ms)
    scanner_keys(code)
    qtbot.waitUntil(lambda: len(window.pack.feedback_ms) > before, timeout=5000)


def open_an_order(qtbot: QtBot, window: MainWindow, ctx: StationContext) -> OrderView:
    scanner_keys(PACKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pack, timeout=5000)
    order = find_order(ctx, lines=3, units=5)
    assert order is not None
    scan(qtbot, window, order.number)
    assert window.pack.order is not None, window.pack.banner.message
    assert window.pack.order.number == order.number
    return order


def scanned_cell(window: MainWindow, row: int) -> str:
    model = window.pack.model
    return str(model.data(model.index(row, SCANNED)))


def units_in_db(ctx: StationContext, order: OrderView) -> int:
    with ctx.sessions() as s:
        return int(
            s.scalar(
                select(func.coalesce(func.sum(PackedUnit.qty), 0)).where(
                    PackedUnit.order_id == order.id, PackedUnit.undone.is_(False)
                )
            )
            or 0
        )


def test_an_item_scan_is_shown_before_its_commit_and_the_commit_confirms_it(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window, pack = station, station.pack
    order = open_an_order(qtbot, window, ctx)
    line = order.lines[0]
    row = pack.model.row_of(line.id)
    before = len(pack.feedback_ms)
    with worker_held(window) as release:
        scanner_keys(line.gtin[1:])
        qtbot.waitUntil(lambda: pack.order is not None and pack.order.units_packed == 1)
        # On screen: the line counted, green, its words; in the database: nothing yet.
        assert pack.banner.kind == "good"
        assert pack.banner.message.startswith(f"{line.sku} ✓")
        assert scanned_cell(window, row) == "1"
        assert pack.table.selectionModel().isRowSelected(row)
        assert len(pack.feedback_ms) == before  # the commit has not answered
        assert units_in_db(ctx, order) == 0
        release.set()
        qtbot.waitUntil(lambda: len(pack.feedback_ms) > before, timeout=5000)
    assert pack.predicted[-1] is True
    assert pack.corrections == 0
    assert units_in_db(ctx, order) == 1
    with ctx.uow() as uow:
        assert pack.order == get_order(uow, order.id)  # the screen holds what was committed
    assert pack.banner.message.startswith(f"{line.sku} ✓")


def test_a_scan_the_commit_refuses_is_corrected_on_screen_and_says_so(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window, pack = station, station.pack
    order = open_an_order(qtbot, window, ctx)
    line = order.lines[0]
    row = pack.model.row_of(line.id)
    with ctx.sessions.begin() as s:  # cancelled at the central office and synced here
        s.execute(update(Order).where(Order.id == order.id).values(status="cancelled"))
    before = len(pack.feedback_ms)
    with worker_held(window) as release:
        scanner_keys(line.gtin[1:])
        qtbot.waitUntil(lambda: scanned_cell(window, row) == "1")
        assert pack.banner.kind == "good"  # what the bench expected
        release.set()
        qtbot.waitUntil(lambda: len(pack.feedback_ms) > before, timeout=5000)
    assert pack.corrections == 1
    assert pack.banner.kind == "bad"
    assert pack.banner.message.startswith("Not counted after all — ")
    assert f"Order {order.number} cannot be packed: it was cancelled" in pack.banner.message
    assert scanned_cell(window, row) == "0"
    assert pack.order is not None and pack.order.units_packed == 0
    assert units_in_db(ctx, order) == 0
    with ctx.sessions() as s:  # the scan is kept, as refused
        outcome = s.scalar(
            select(ScanEvent.outcome)
            .where(ScanEvent.order_id == order.id, ScanEvent.raw == line.gtin[1:])
            .order_by(ScanEvent.at.desc())
        )
    assert outcome == "rejected"


def test_a_scan_the_commit_counts_otherwise_is_shown_as_counted(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window, pack = station, station.pack
    order = open_an_order(qtbot, window, ctx)
    line = max(order.lines, key=lambda ln: ln.ordered)
    assert line.ordered >= 2
    row = pack.model.row_of(line.id)
    with ctx.sessions.begin() as s:  # the item's barcode now stands for a pack of two
        s.merge(Barcode(code=line.gtin, kind="product", entity_id=line.product_id, units=2))
    scan(qtbot, window, line.gtin[1:])
    assert pack.corrections == 1
    assert pack.banner.kind == "good"
    assert pack.banner.message.startswith(f"Corrected — {line.sku} ✓ 2 packed")
    assert scanned_cell(window, row) == "2"
    assert units_in_db(ctx, order) == 2


def test_a_write_the_database_refuses_puts_the_screen_back(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window, pack = station, station.pack
    order = open_an_order(qtbot, window, ctx)
    line = order.lines[0]
    row = pack.model.row_of(line.id)
    with ctx.engine.begin() as conn:  # the database says no to the next packed unit
        conn.execute(
            text(
                "CREATE TRIGGER refuse_unit BEFORE INSERT ON packed_unit "
                "BEGIN SELECT RAISE(ABORT, 'the disk refused the write'); END"
            )
        )
    before = len(pack.feedback_ms)
    with worker_held(window) as release:
        scanner_keys(line.gtin[1:])
        qtbot.waitUntil(lambda: scanned_cell(window, row) == "1")
        release.set()
        qtbot.waitUntil(lambda: pack.corrections == 1, timeout=5000)
    assert len(pack.feedback_ms) == before  # no result: the scan failed as a whole
    assert pack.banner.kind == "bad"
    assert "the scan was not counted" in pack.banner.message
    assert scanned_cell(window, row) == "0"
    assert pack.order is not None and pack.order.units_packed == 0
    assert units_in_db(ctx, order) == 0
    with ctx.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse_unit"))
    scan(qtbot, window, line.gtin[1:])  # the bench carries on
    assert pack.banner.kind == "good", pack.banner.message
    assert units_in_db(ctx, order) == 1


class _Watch(QObject):
    """Counts layout passes in the pack screen and repaints of the lines table's headers."""

    def __init__(self, screen: QWidget) -> None:
        super().__init__()
        self.screen = screen
        self.layouts: list[str] = []
        self.header_paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(watched, QWidget):
            return False
        if event.type() == QEvent.Type.LayoutRequest and (
            watched is self.screen or self.screen.isAncestorOf(watched)
        ):
            self.layouts.append(type(watched).__name__)
        if event.type() == QEvent.Type.Paint and isinstance(watched.parent(), QHeaderView):
            self.header_paints += 1
        return False


def test_an_item_scan_repaints_what_changed_without_a_new_layout(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window, pack = station, station.pack
    order = open_an_order(qtbot, window, ctx)
    first, second = order.lines[0], order.lines[1]
    scan(qtbot, window, first.gtin[1:])
    QApplication.processEvents()
    watch = _Watch(pack)
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(watch)
    try:
        scan(qtbot, window, second.gtin[1:])  # another line: the selection moves
        qtbot.wait(50)  # every repaint the scan asked for is done
    finally:
        app.removeEventFilter(watch)
    assert watch.layouts == []
    assert watch.header_paints == 0
    assert pack.header.meta.text().startswith("2 of 5 units · ")
    assert "2 units" in pack.packages.package_labels()[0]


def test_an_orders_first_and_last_item_scans_lay_nothing_out_again(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    """The first scan names the package to close and enables its buttons; the last one changes
    the instruction: like any other scan, they repaint what changed in place."""
    window, pack = station, station.pack
    order = open_an_order(qtbot, window, ctx)
    assert pack.close_button.text() == "Close package"
    qtbot.wait(50)  # the opened order is painted
    watch = _Watch(pack)
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(watch)
    try:
        for line in order.lines:
            for _ in range(line.ordered):
                scan(qtbot, window, line.gtin[1:])
        qtbot.wait(50)
    finally:
        app.removeEventFilter(watch)
    assert watch.layouts == []
    assert pack.close_button.text() == "Close package 1"
    assert pack.close_button.isEnabled()
    assert pack.instruction.text() == "All items packed — close the package"
    assert words_fit(pack.instruction)


class _TablePaints(QObject):
    def __init__(self, viewport: QWidget) -> None:
        super().__init__()
        self.viewport = viewport
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.viewport and event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_an_order_opens_with_one_paint_of_its_lines(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    """The lines are sized and laid out as the order opens: nothing is left to repaint them
    again later, inside the first item scan when it comes at once."""
    window, pack = station, station.pack
    scanner_keys(PACKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is pack, timeout=5000)
    first = find_order(ctx, lines=3, units=5)
    assert first is not None
    scan(qtbot, window, first.number)  # the table is shown with another order's lines
    qtbot.wait(50)
    second = find_order(ctx, lines=2, units=None, skip=(first.number,))
    assert second is not None
    paints = _TablePaints(pack.table.viewport())
    pack.table.viewport().installEventFilter(paints)
    try:
        scan(qtbot, window, second.number)
        qtbot.wait(100)
    finally:
        pack.table.viewport().removeEventFilter(paints)
    assert pack.model.rowCount() == 2
    assert paints.count == 1
