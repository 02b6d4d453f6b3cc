"""Making an RMA for a customer from the returns desk (New RMA, F4), driven as an operator
works it: the order number scanned, the units typed, the reason and the resolution chosen with
the keyboard, F10. Every bad input gets words that say what happened and what to do, and makes
no RMA. The screenshot goes to docs/screenshots/returns-new-rma.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.bootstrap import StationContext
from app.domain.returns import Reason
from app.services.returns.demo import ReturnsDemo, create_returns_demo
from app.store.models import Order, PrintJob, Rma, RmaLine
from tests.ui.conftest import show_station, type_keys
from tests.ui.counter_station import scanner_keys, wait_idle
from ui.main_window import MainWindow

SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "returns-new-rma.png"
CLERK, SUPERVISOR, PACKER = "OP-1003", "OP-9001", "OP-1001"
TYPING_GAP_S = 0.08  # a person's keys, not a scanner's


@pytest.fixture
def demo(ctx: StationContext) -> ReturnsDemo:
    return create_returns_demo(ctx.engine, orders=8)


@pytest.fixture
def window(qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo) -> Iterator[MainWindow]:
    shown = show_station(qtbot, ctx)
    w = next(shown)
    scanner_keys(CLERK)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.returns, timeout=5000)
    wait_idle(qtbot, w)
    yield w
    next(shown, None)


def open_new_rma(qtbot: QtBot, w: MainWindow) -> None:
    QTest.keyClick(w, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.new_rma, timeout=5000)
    assert "scan or type the order number" in w.new_rma.instruction.text()


def scan(qtbot: QtBot, w: MainWindow, code: str) -> None:
    wait_idle(qtbot, w)
    with qtbot.waitSignal(w.new_rma.action_done, timeout=5000):
        scanner_keys(code)


def press(qtbot: QtBot, w: MainWindow, key: Qt.Key) -> None:
    """A key on whatever has the focus (the screen's shortcuts take F10 and Esc)."""
    target = QApplication.focusWidget() or w
    QTest.keyClick(target, key)
    wait_idle(qtbot, w)


def type_units(qtbot: QtBot, w: MainWindow, text: str) -> None:
    spin = QApplication.focusWidget()
    assert spin is not None and spin.metaObject().className() == "QSpinBox", spin
    spin.selectAll()  # type: ignore[attr-defined]
    type_keys(text, gap_s=TYPING_GAP_S, enter=False)
    qtbot.waitUntil(lambda: spin.value() == int(text), timeout=2000)  # type: ignore[attr-defined]


def create(qtbot: QtBot, w: MainWindow) -> None:
    with qtbot.waitSignal(w.new_rma.action_done, timeout=5000):
        QTest.keyClick(QApplication.focusWidget() or w, Qt.Key.Key_F10)


def banner(w: MainWindow) -> tuple[str, str]:
    return w.new_rma.banner.kind, w.new_rma.banner.message


def rma_count(ctx: StationContext) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Rma)) or 0)


def two_line_order(ctx: StationContext, demo: ReturnsDemo) -> Order:
    """A delivered order inside the window with no RMA and at least two lines."""
    with ctx.sessions() as s:
        on_rma = set(s.scalars(select(Rma.order_id)))
        for number in demo.delivered:
            if number in demo.late:
                continue
            order = s.scalars(select(Order).where(Order.number == number)).one()
            if order.id not in on_rma and len(order.lines) >= 2:
                _ = [ln.product for ln in order.lines]
                return order
    raise LookupError("no delivered two-line order without an RMA in the demo")


def line_of_several(ctx: StationContext, demo: ReturnsDemo) -> tuple[Order, int]:
    """A delivered order inside the window with no RMA, and a line of it of 2 units or more."""
    with ctx.sessions() as s:
        on_rma = set(s.scalars(select(Rma.order_id)))
        for number in demo.delivered:
            order = s.scalars(select(Order).where(Order.number == number)).one()
            if number in demo.late or order.id in on_rma:
                continue
            for i, ln in enumerate(order.lines):
                if ln.qty_ordered >= 2 and not ln.product.track_serial:
                    _ = [x.product for x in order.lines]
                    return order, i
    raise LookupError("no delivered order with a line of several units in the demo")


def test_an_rma_is_made_with_the_keyboard_and_its_slip_printed(
    qtbot: QtBot, window: MainWindow, ctx: StationContext, demo: ReturnsDemo
) -> None:
    order = two_line_order(ctx, demo)
    open_new_rma(qtbot, window)
    screen = window.new_rma
    scan(qtbot, window, order.number)
    kind, words = banner(window)
    assert kind == "good" and f"Order {order.number}: choose what comes back" in words
    assert screen.order_title.text() == order.number
    assert [c.line.sku for c in screen.choices] == [ln.product.sku for ln in order.lines]
    assert [c.line.returnable for c in screen.choices] == [ln.qty_ordered for ln in order.lines]
    assert QApplication.focusWidget() is screen.choices[0].units

    type_units(qtbot, window, "1")
    press(qtbot, window, Qt.Key.Key_Tab)  # to the reason
    assert QApplication.focusWidget() is screen.choices[0].reason
    press(qtbot, window, Qt.Key.Key_Home)  # the first reason: damaged
    assert screen.choices[0].chosen_reason is Reason.DAMAGED
    press(qtbot, window, Qt.Key.Key_Tab)  # the second line's units
    type_units(qtbot, window, str(order.lines[1].qty_ordered))
    press(qtbot, window, Qt.Key.Key_Tab)  # its reason stays "changed mind"
    press(qtbot, window, Qt.Key.Key_Tab)  # to what the customer asks for
    assert QApplication.focusWidget() is screen.resolution
    press(qtbot, window, Qt.Key.Key_Down)
    assert screen.resolution.currentData() == "exchange"
    assert screen.print_slip.isChecked()
    window.grab().save(str(SHOT))
    create(qtbot, window)

    kind, words = banner(window)
    assert kind == "good", words
    [made] = screen.created
    assert f"{made.number} made for order {order.number}" in words
    assert f"{1 + order.lines[1].qty_ordered} unit(s), exchange asked" in words
    assert "return slip is printing" in words
    assert screen.order is None and screen.choices == [], "ready for the next order"
    with ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.number == made.number)).one()
        assert (rma.order_id, rma.requested, rma.status) == (order.id, "exchange", "authorised")
        lines = {
            ln.order_line_id: (ln.qty, ln.reason)
            for ln in s.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id))
        }
        assert lines == {
            order.lines[0].id: (1, "damaged"),
            order.lines[1].id: (order.lines[1].qty_ordered, "changed_mind"),
        }
        slips = s.scalars(select(PrintJob).where(PrintJob.document == "return_slip")).all()
        assert [(j.ref_id, j.title) for j in slips] == [(rma.id, f"Return slip {rma.number}")]
    press(qtbot, window, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is window.returns


def test_bad_input_says_what_happened_and_makes_no_rma(
    qtbot: QtBot, window: MainWindow, ctx: StationContext, demo: ReturnsDemo
) -> None:
    before = rma_count(ctx)
    open_new_rma(qtbot, window)
    screen = window.new_rma

    scan(qtbot, window, "SO-NOPE-4242")
    kind, words = banner(window)
    assert kind == "bad" and "There is no order SO-NOPE-4242" in words
    assert "check the number with the customer" in words

    with ctx.sessions() as s:
        waiting = s.scalars(select(Order.number).where(Order.status == "confirmed")).first()
    assert waiting
    scan(qtbot, window, waiting)
    kind, words = banner(window)
    assert kind == "bad" and f"Order {waiting} is confirmed: it has not left the warehouse" in words
    assert screen.order is None

    order = two_line_order(ctx, demo)
    scan(qtbot, window, order.number)
    create(qtbot, window)
    kind, words = banner(window)
    assert kind == "bad" and "No item is chosen" in words and "Tab to it" in words

    shipped = order.lines[0].qty_ordered
    type_units(qtbot, window, str(shipped + 5))
    create(qtbot, window)
    kind, words = banner(window)
    sku = order.lines[0].product.sku
    assert kind == "bad"
    assert f"{sku}: {shipped} can still come back ({shipped} shipped, 0 on other RMAs)" in words
    assert f"not {shipped + 5} — lower its units to {shipped} or fewer" in words
    assert rma_count(ctx) == before, "no bad input made an RMA"


def test_units_on_an_earlier_rma_cannot_come_back_twice(
    qtbot: QtBot, window: MainWindow, ctx: StationContext, demo: ReturnsDemo
) -> None:
    order, i = line_of_several(ctx, demo)
    shipped = order.lines[i].qty_ordered
    before = rma_count(ctx)
    open_new_rma(qtbot, window)
    screen = window.new_rma
    scan(qtbot, window, order.number)
    for _ in range(2 * i):  # units and reason of each line before it
        press(qtbot, window, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is screen.choices[i].units
    type_units(qtbot, window, "1")
    create(qtbot, window)
    assert banner(window)[0] == "good", banner(window)[1]

    scan(qtbot, window, order.number)
    assert screen.choices[i].line.returnable == shipped - 1
    for _ in range(2 * i):
        press(qtbot, window, Qt.Key.Key_Tab)
    type_units(qtbot, window, str(shipped))
    create(qtbot, window)
    kind, words = banner(window)
    sku = order.lines[i].product.sku
    assert kind == "bad"
    assert f"{sku}: {shipped - 1} can still come back ({shipped} shipped, 1 on other RMAs)" in words
    assert rma_count(ctx) == before + 1, "only the first RMA was made"


def test_a_late_order_needs_a_supervisor_badge(
    qtbot: QtBot, window: MainWindow, ctx: StationContext, demo: ReturnsDemo
) -> None:
    late = demo.late[0]
    open_new_rma(qtbot, window)
    screen = window.new_rma
    scan(qtbot, window, late)
    kind, words = banner(window)
    assert kind == "warn" and "past the return window" in words
    type_units(qtbot, window, "1")
    create(qtbot, window)
    kind, words = banner(window)
    assert kind == "bad" and "returns are taken within 30 days" in words
    assert screen.waiting_for_supervisor
    assert "Supervisor: scan your badge" in screen.instruction.text()
    scan(qtbot, window, PACKER)
    kind, words = banner(window)
    assert kind == "bad" and "needs the supervisor" in words and screen.created == []
    scan(qtbot, window, SUPERVISOR)
    kind, words = banner(window)
    assert kind == "good", words
    with ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.number == screen.created[0].number)).one()
        assert rma.late_approved_by == "Sam Supervisor"


def test_a_packer_does_not_reach_the_new_rma_screen(
    qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    shown = show_station(qtbot, ctx)
    w = next(shown)
    scanner_keys(PACKER)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.pack, timeout=5000)
    w.show_new_rma()
    assert w.stack.currentWidget() is w.pack
    next(shown, None)
