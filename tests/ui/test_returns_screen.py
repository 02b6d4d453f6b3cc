"""The returns desk screen driven by simulated scanner keystrokes, as a clerk works it: an
unannounced parcel with a wrong item in it, a serial number that was not sold, a late return a
supervisor lets in, and an announced RMA resolved as an exchange. Screenshots of the states a
person would look at go to docs/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton, QTableView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.bootstrap import StationContext
from app.domain.returns import Condition
from app.services.returns.demo import ReturnsDemo, create_returns_demo
from app.store.models import Order, Product, ReturnRefund, ReturnUnit, Rma, RmaLine
from tests.returns_kit import product_not_on, serial_order
from tests.ui.conftest import show_station
from tests.ui.counter_station import scanner_keys, wait_idle
from ui.main_window import MainWindow
from ui.models.basket import format_money
from ui.screens.returns_parts import PartRefundDialog

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CLERK, SUPERVISOR = "OP-1003", "OP-9001"


@pytest.fixture
def demo(ctx: StationContext) -> ReturnsDemo:
    return create_returns_demo(ctx.engine, orders=8)


@pytest.fixture
def desk(qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo) -> Iterator[MainWindow]:
    shown = show_station(qtbot, ctx)
    window = next(shown)
    scanner_keys(CLERK)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.returns, timeout=5000)
    wait_idle(qtbot, window)
    yield window
    next(shown, None)  # its shutdown


def scan(qtbot: QtBot, window: MainWindow, code: str) -> None:
    wait_idle(qtbot, window)
    before = len(window.returns.feedback_ms)
    scanner_keys(code)
    qtbot.waitUntil(lambda: len(window.returns.feedback_ms) > before, timeout=5000)


def click(qtbot: QtBot, window: MainWindow, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)


def shot(window: MainWindow, name: str) -> None:
    assert window.width() <= 1366, f"{name}: the desk grew to {window.width()} px wide"
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / f"returns-{name}.png"))


def banner(window: MainWindow) -> tuple[str, str]:
    return window.returns.banner.kind, window.returns.banner.message


def ean(ctx: StationContext, product_id: object) -> str:
    with ctx.sessions() as s:
        gtin = s.get_one(Product, product_id).gtin
    assert gtin
    return gtin[1:]  # as the EAN-13 on the item


def words_fit(table: QTableView, stretch: int) -> None:
    """Every short column shows its heading and its rows' words whole (the stretching column
    takes what is left and may elide)."""
    model, metrics = table.model(), table.fontMetrics()
    heading = table.horizontalHeader().fontMetrics()
    for col in range(model.columnCount()):
        if col == stretch:
            continue
        title = str(model.headerData(col, Qt.Orientation.Horizontal))
        assert heading.horizontalAdvance(title) + 12 <= table.columnWidth(col), title
        for row in range(model.rowCount()):
            words = str(model.index(row, col).data() or "")
            assert metrics.horizontalAdvance(words) + 12 <= table.columnWidth(col), words


def plain_order(ctx: StationContext, demo: ReturnsDemo) -> Order:
    """A delivered order inside the window, with no RMA and no serial-tracked item."""
    with ctx.sessions() as s:
        for number in demo.delivered[3:-2]:
            order = s.scalars(select(Order).where(Order.number == number)).one()
            if not any(ln.product.track_serial for ln in order.lines):
                _ = [ln.product for ln in order.lines]
                return order
    raise LookupError("no plain delivered order in the demo")


def test_a_returns_clerk_lands_on_the_desk(desk: MainWindow, qtbot: QtBot) -> None:
    screen = desk.returns
    assert "scan the parcel" in banner(desk)[1]
    ModelTester(qtbot).check(screen.expected)
    ModelTester(qtbot).check(screen.units)
    ModelTester(qtbot).check(screen.candidates)


def test_an_unannounced_parcel_with_a_wrong_item_then_a_refund(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    screen = desk.returns
    order = plain_order(ctx, demo)
    scan(qtbot, desk, demo.tracking[order.number])
    assert banner(desk)[0] == "good" and "unannounced" in banner(desk)[1]
    assert screen.expected.rowCount() == len(order.lines)

    stranger = product_not_on(ctx, order.number)
    tables_at = screen.expected_table.geometry()
    scan(qtbot, desk, ean(ctx, stranger.id))
    kind, words = banner(desk)
    assert kind == "bad" and f"{stranger.sku}" in words and "is not on order" in words
    assert screen.aside_button.isVisible() and screen.unexpected_button.isVisible()
    QApplication.processEvents()
    assert screen.expected_table.geometry() == tables_at, "the offers moved the tables"
    shot(desk, "wrong-item")
    click(qtbot, desk, screen.aside_button)
    assert screen.units.rowCount() == 0, "a wrong item set aside is not counted"

    line = order.lines[0]
    scan(qtbot, desk, ean(ctx, line.product_id))
    assert banner(desk)[0] == "good" and "grade it" in banner(desk)[1]
    assert screen.units.rowCount() == 1
    click(qtbot, desk, screen.grade_buttons[next(iter(screen.grade_buttons))])
    assert "restock" in banner(desk)[1]
    words_fit(screen.expected_table, 0)
    words_fit(screen.units_table, 0)
    shot(desk, "graded")
    assert not screen.refund_button.isEnabled(), "nothing is booked in yet to resolve"
    click(qtbot, desk, screen.complete_button)
    assert banner(desk)[0] == "good" and "booked in" in banner(desk)[1]
    assert screen.refund_button.isVisible() and screen.refund_button.isEnabled()
    click(qtbot, desk, screen.refund_button)
    kind, words = banner(desk)
    assert kind == "good" and "recorded to be paid" in words
    with ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.order_id == order.id)).one()
        assert rma.unannounced and rma.status == "resolved"
        refund = s.scalars(select(ReturnRefund).where(ReturnRefund.rma_id == rma.id)).one()
        assert refund.state == "to_be_paid" and refund.amount_minor > 0


def test_a_serial_number_that_was_not_sold_on_the_order(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    screen = desk.returns
    number, serial, product = serial_order(ctx, demo)
    scan(qtbot, desk, number)
    scan(qtbot, desk, ean(ctx, product.id))
    assert banner(desk)[0] == "warn" and "serial number" in banner(desk)[1]
    assert "serial number" in screen.instruction.text()
    scan(qtbot, desk, "SNBOGUS1")
    kind, words = banner(desk)
    assert kind == "bad" and f"Serial SNBOGUS1 was not sold on order {number}" in words
    shot(desk, "serial-mismatch")
    assert screen.units.rowCount() == 0
    scan(qtbot, desk, serial)
    assert banner(desk)[0] == "good" and serial in banner(desk)[1]
    assert screen.units.rowCount() == 1
    words_fit(screen.units_table, 0)


def test_a_late_return_is_let_in_by_a_supervisor_badge(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    screen = desk.returns
    late = demo.late[0]
    scan(qtbot, desk, late)
    kind, words = banner(desk)
    assert kind == "bad" and "returns are taken within 30 days" in words
    assert "Supervisor" in screen.instruction.text()
    shot(desk, "late-needs-supervisor")
    scan(qtbot, desk, SUPERVISOR)
    kind, words = banner(desk)
    assert kind == "good" and "late, approved by Sam Supervisor" in words
    with ctx.sessions() as s:
        order = s.scalars(select(Order).where(Order.number == late)).one()
        first = order.lines[0].product_id
    scan(qtbot, desk, ean(ctx, first))
    click(qtbot, desk, screen.grade_buttons[next(iter(screen.grade_buttons))])
    click(qtbot, desk, screen.complete_button)
    assert "booked in" in banner(desk)[1]
    with ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.order_id == order.id)).one()
        assert rma.late_approved_by == "Sam Supervisor"


def test_an_rma_received_and_exchanged(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    screen = desk.returns
    number = demo.rmas[0]
    scan(qtbot, desk, number)
    assert banner(desk)[0] == "good" and number in banner(desk)[1]
    [(line, scanned)] = [screen.expected.row(0)]
    assert scanned == 0
    for _ in range(line.qty):
        scan(qtbot, desk, ean(ctx, line.product_id))
    for _ in range(line.qty):
        click(qtbot, desk, screen.grade_buttons[next(iter(screen.grade_buttons))])
    assert screen.expected.row(0)[1] == line.qty
    shot(desk, "rma-ready")
    click(qtbot, desk, screen.complete_button)
    click(qtbot, desk, screen.exchange_button)
    kind, words = banner(desk)
    assert kind == "good" and "goes to picking" in words
    shot(desk, "exchanged")
    with ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.number == number)).one()
        assert rma.status == "resolved"


def test_the_report_shows_and_exports_csv(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo, tmp_path: Path
) -> None:
    screen = desk.returns
    number = demo.rmas[1]
    scan(qtbot, desk, number)
    line = screen.expected.row(0)[0]
    for _ in range(line.qty):
        scan(qtbot, desk, ean(ctx, line.product_id))
    for _ in range(line.qty):
        click(qtbot, desk, screen.grade_buttons[next(iter(screen.grade_buttons))])
    click(qtbot, desk, screen.complete_button)
    click(qtbot, desk, screen.report_button)
    qtbot.waitUntil(lambda: screen.report_dialog is not None, timeout=5000)
    dialog = screen.report_dialog
    assert dialog is not None
    ModelTester(qtbot).check(dialog.rates)  # type: ignore[attr-defined]
    assert dialog.rates.rowCount() == 1  # type: ignore[attr-defined]
    assert "new sealed" in dialog.summary.text()  # type: ignore[attr-defined]
    text = dialog.csv_text()  # type: ignore[attr-defined]
    assert f"return_rate,{line.sku}," in text
    dialog.grab().save(str(SHOTS / "returns-report.png"))
    dialog.close()


def test_a_photo_of_a_graded_unit_is_kept_as_a_jpeg(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo, tmp_path: Path
) -> None:
    """The station camera is a device this machine has not got: a source that hands back a
    picture as the camera's newest frame does (a BGR numpy image) stands in for it."""
    import numpy as np

    screen = desk.returns
    picture = np.full((240, 320, 3), 200, dtype=np.uint8)
    screen.set_photo_source(lambda: picture, tmp_path)
    number = demo.rmas[0]
    scan(qtbot, desk, number)
    line = screen.expected.row(0)[0]
    scan(qtbot, desk, ean(ctx, line.product_id))
    click(qtbot, desk, screen.photo_button)
    assert "photo 1 kept" in banner(desk)[1]
    [unit] = [screen.units.row(0)]
    [path] = unit.photos
    assert Path(path).is_file() and Path(path).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert Path(path).is_relative_to(tmp_path)
    assert "1 photo" in screen.units.data(screen.units.index(0, 0))


def test_changing_where_a_unit_goes_asks_for_a_supervisor(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    screen = desk.returns
    scan(qtbot, desk, demo.rmas[0])
    line = screen.expected.row(0)[0]
    scan(qtbot, desk, ean(ctx, line.product_id))
    menu = screen.disposition_button.menu()
    [scrap] = [a for a in menu.actions() if a.text() == "Scrap"]
    scrap.trigger()
    wait_idle(qtbot, desk)
    kind, words = banner(desk)
    assert kind == "bad" and "needs a supervisor" in words
    scan(qtbot, desk, SUPERVISOR)
    kind, words = banner(desk)
    assert kind == "good" and "scrap (Sam Supervisor)" in words
    assert screen.units.row(0).disposition_by == "Sam Supervisor"


def test_a_refund_of_nothing_is_refused_on_the_screen(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    """A parcel holding only an item that was never on the order: F6 shows in red why nothing
    is paid back and what to do, records nothing, and the return can still be resolved."""
    screen = desk.returns
    order = plain_order(ctx, demo)
    scan(qtbot, desk, demo.tracking[order.number])
    stranger = product_not_on(ctx, order.number)
    scan(qtbot, desk, ean(ctx, stranger.id))
    click(qtbot, desk, screen.unexpected_button)
    click(qtbot, desk, screen.grade_buttons[next(iter(screen.grade_buttons))])
    click(qtbot, desk, screen.complete_button)
    with ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.order_id == order.id)).one()

    click(qtbot, desk, screen.refund_button)

    assert banner(desk) == (
        "bad",
        f"RMA {rma.number} refunds nothing: nothing on it came back as expected — no refund "
        "is recorded; tell the customer, and leave the items received as unexpected to a "
        "supervisor.",
    )
    assert screen.refund_button.isEnabled(), "the return still waits to be resolved"
    with ctx.sessions() as s:
        assert s.scalars(select(ReturnRefund).where(ReturnRefund.rma_id == rma.id)).all() == []


def test_another_rma_scanned_while_a_return_is_open(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    screen = desk.returns
    scan(qtbot, desk, demo.rmas[0])
    expected = screen.expected.rowCount()
    with ctx.sessions() as s:
        other_order = s.scalars(
            select(Order.number)
            .join(Rma, Rma.order_id == Order.id)
            .where(Rma.number == demo.rmas[1])
        ).one()

    scan(qtbot, desk, demo.rmas[1])

    assert banner(desk) == (
        "bad",
        f"{demo.rmas[1]} is the RMA of another return (order {other_order}) — complete the "
        "open return (F10) or cancel it (Esc) first, then scan it again.",
    )
    assert screen.expected.rowCount() == expected, "the open return is still on the desk"
    assert screen.complete_button.isEnabled() and screen.cancel_button.isEnabled()
    assert not screen.aside_button.isVisible()


def book_in(qtbot: QtBot, desk: MainWindow, ctx: StationContext, number: str) -> None:
    """Receive RMA ``number`` whole, graded new, and complete it (not resolved)."""
    screen = desk.returns
    scan(qtbot, desk, number)
    line, _scanned = screen.expected.row(0)
    for _ in range(line.qty):
        scan(qtbot, desk, ean(ctx, line.product_id))
    for _ in range(line.qty):
        click(qtbot, desk, screen.grade_buttons[next(iter(screen.grade_buttons))])
    click(qtbot, desk, screen.complete_button)


def test_a_return_booked_in_earlier_is_resolved_when_its_rma_is_scanned_again(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    """The clerk booked two parcels in one after the other; the first waits: scanning its RMA
    again brings it back for its resolution."""
    screen = desk.returns
    first, second = demo.rmas[0], demo.rmas[1]
    book_in(qtbot, desk, ctx, first)
    book_in(qtbot, desk, ctx, second)
    assert screen.received is not None and screen.received.rma_number == second
    scan(qtbot, desk, first)
    kind, words = banner(desk)
    assert kind == "good", words
    assert words.startswith(f"RMA {first} was booked in (")
    assert words.endswith(
        "waits for its resolution — refund (F6), store credit (F7) or exchange (F8)."
    )
    assert screen.credit_button.isEnabled()
    click(qtbot, desk, screen.credit_button)
    assert banner(desk)[0] == "good", banner(desk)[1]
    with ctx.sessions() as s:
        statuses = dict(
            s.execute(select(Rma.number, Rma.status).where(Rma.number.in_([first, second]))).all()
        )
    assert statuses == {first: "resolved", second: "received"}


def test_an_unannounced_parcel_says_why_it_came_back(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    """A parcel with no RMA, its item damaged in transit: the clerk says why it came back, so
    it is kept for the carrier's claim (not scrapped) and the return carries that reason."""
    screen = desk.returns
    order = plain_order(ctx, demo)
    assert not screen.reason_button.isEnabled(), "nothing on the desk yet"
    scan(qtbot, desk, demo.tracking[order.number])
    line = order.lines[0]
    scan(qtbot, desk, ean(ctx, line.product_id))
    click(qtbot, desk, screen.grade_buttons[Condition.DAMAGED])
    assert banner(desk)[1].endswith("damaged → scrap.")
    assert screen.reason_button.isEnabled()
    [damaged] = [a for a in screen.reason_button.menu().actions() if a.data() == "damaged"]
    damaged.trigger()
    wait_idle(qtbot, desk)
    kind, words = banner(desk)
    assert kind == "good" and words.endswith(": came back as arrived damaged → quarantine.")
    click(qtbot, desk, screen.complete_button)
    with ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.order_id == order.id)).one()
        reasons = set(s.scalars(select(RmaLine.reason).where(RmaLine.rma_id == rma.id)))
        where = set(s.scalars(select(ReturnUnit.disposition).where(ReturnUnit.rma_id == rma.id)))
    assert (reasons, where) == ({"damaged"}, {"quarantine"})


def test_a_return_on_an_rma_keeps_the_rmas_reason(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    screen = desk.returns
    scan(qtbot, desk, demo.rmas[0])
    line, _n = screen.expected.row(0)
    scan(qtbot, desk, ean(ctx, line.product_id))
    assert screen.grade_buttons[Condition.OPENED].isEnabled()
    assert not screen.reason_button.isEnabled()


def _asked_for_part_of_the_refund(
    qtbot: QtBot, desk: MainWindow, ctx: StationContext, number: str
) -> tuple[Any, PartRefundDialog]:
    """RMA ``number``'s units scanned in, graded defective and booked in, then Shift+F6: the
    RMA's line and the part refund dialog."""
    screen = desk.returns
    scan(qtbot, desk, number)
    [(line, _scanned)] = [screen.expected.row(0)]
    for _ in range(line.qty):
        scan(qtbot, desk, ean(ctx, line.product_id))
    for _ in range(line.qty):
        click(qtbot, desk, screen.grade_buttons[Condition.DEFECTIVE])
    click(qtbot, desk, screen.complete_button)
    qtbot.keyClick(desk, Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: screen.part_refund_dialog is not None, timeout=5000)
    dialog = screen.part_refund_dialog
    assert dialog is not None
    return line, dialog


def test_part_of_a_refund_typed_by_the_clerk(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    """Shift+F6 shows what the policy gives; an amount that is no amount, or more than that,
    keeps the dialog open with words and records nothing; a lower one is the refund."""
    screen = desk.returns
    number = demo.rmas[1]  # defective: free, shipping paid back
    line, dialog = _asked_for_part_of_the_refund(qtbot, desk, ctx, number)
    assert dialog.isVisible()
    most = dialog.quote.most_minor
    assert most == line.unit_price_minor * line.qty + 495
    assert f"the policy pays back at most {format_money(most)} (" in dialog.explain.text()
    qtbot.wait(50)
    dialog.grab().save(str(SHOTS / "returns-part-refund.png"))

    def typed(text: str) -> str:
        dialog.amount.setText(text)
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
        return dialog.problem.text()

    assert typed("twelve") == "twelve is not an amount — type it like 12.90."
    over = most + 1
    assert typed(f"{over // 100}.{over % 100:02d}") == (
        f"{format_money(over)} is not a refund {number} may pay — type an amount above zero "
        f"and no more than {format_money(most)}."
    )
    assert typed("0").startswith(f"{format_money(0)} is not a refund")
    assert dialog.isVisible()
    with ctx.sessions() as s:
        assert s.scalars(select(ReturnRefund)).all() == []

    typed("10,50")
    qtbot.waitUntil(lambda: bool(screen.resolved), timeout=5000)
    wait_idle(qtbot, desk)
    assert not dialog.isVisible()
    assert banner(desk) == (
        "good",
        f"{number}: refund of {format_money(1050)} recorded to be paid.",
    )
    with ctx.sessions() as s:
        refund = s.scalars(select(ReturnRefund)).one()
        assert (refund.amount_minor, refund.state) == (1050, "to_be_paid")
        assert refund.breakdown["total_minor"] == most
    assert not screen.part_refund_button.isEnabled(), "resolved: nothing left to refund"


def test_a_part_refund_typed_after_the_next_parcel_opened_refunds_nothing(
    desk: MainWindow, qtbot: QtBot, ctx: StationContext, demo: ReturnsDemo
) -> None:
    """The dialog was left open while the next parcel was scanned: the amount is for a return
    no longer waiting, so nothing is refunded, and the words say how to get back to it."""
    screen = desk.returns
    _line, dialog = _asked_for_part_of_the_refund(qtbot, desk, ctx, demo.rmas[1])
    qtbot.keyClick(desk, Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
    wait_idle(qtbot, desk)
    assert screen.part_refund_dialog is dialog, "one dialog at a time"

    scan(qtbot, desk, demo.rmas[0])  # the next parcel, while the dialog is still open
    assert not screen.refund_button.isEnabled()
    dialog.amount.setText("1.00")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    wait_idle(qtbot, desk)
    kind, words = banner(desk)
    assert kind == "bad" and words.startswith("Nothing was refunded: the return that amount")
    with ctx.sessions() as s:
        assert s.scalars(select(ReturnRefund)).all() == []
