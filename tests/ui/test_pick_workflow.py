"""A picker's walk end to end on the station, driven by scanner keystrokes 1 ms apart: a cart
named by its label and four totes, twelve stops with a wrong bin, a wrong lot and a short pick,
a pause and a hand-over after which the cart's label opens the list again, and the totes
opened at the pack bench afterwards."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.bootstrap import StationContext
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import auth
from app.services.demo import DEMO_OPERATORS
from app.services.picking.session import Step
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.store.models import Order, StockMovement
from tests.picking_kit import LATE_EXPIRY, LATE_LOT, Scene, build, code_for, gs1
from tests.ui.conftest import save_screenshot, wait_idle
from ui.main_window import MainWindow

# WORKAROUND: the offscreen platform warns on every top-level show; it means nothing here.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

PICKER = next(op for op in DEMO_OPERATORS if op.name == "Kim Picker")
PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")


@pytest.fixture
def scene(ctx: StationContext) -> Scene:
    return build(ctx.engine)


@pytest.fixture
def list_number(ctx: StationContext, scene: Scene) -> str:
    with ctx.uow() as uow:
        supervisor = auth.sign_in_badge(uow, "OP-9001")
    req = PickWorkRequest(kind=PickKind.CLUSTER, limits=Limits(4), order_ids=scene.order_ids)
    with ctx.uow(supervisor) as uow:
        work = create_pick_work(uow, req)
    assert len(work.lists) == 1
    return work.lists[0].number


@pytest.fixture
def window(list_number: str, station: MainWindow) -> MainWindow:
    return station


def scanner_types(code: str) -> None:
    """A wedge scanner typing ``code`` and Enter, one key a millisecond, its key events
    stamped with the time the scanner made them and queued as the windowing system queues
    them. (Sending each key and running the event loop in between, the test would be the
    device: a machine that holds this process up between two keys would split the scan,
    which a real scanner's queued keys never are.)"""
    start = int(time.monotonic() * 1000)
    keys = [(Qt.Key(ord(ch.upper())), ch) for ch in code] + [(Qt.Key.Key_Return, "\r")]
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert isinstance(target, QWidget)
    for i, (key, text) in enumerate(keys):
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text)
            event.setTimestamp(start + i)
            QApplication.postEvent(target, event)
        time.sleep(0.001)
    QApplication.processEvents()


def pick_scan(qtbot: QtBot, window: MainWindow, code: str) -> None:
    """A scan at scanner speed; waits until the screen has shown its feedback."""
    before = len(window.pick.feedback_ms)
    scanner_types(code)
    qtbot.waitUntil(lambda: len(window.pick.feedback_ms) > before, timeout=5000)


def test_a_picker_walks_a_cart_of_four_totes_over_twelve_stops_to_the_pack_bench(
    qtbot: QtBot, window: MainWindow, ctx: StationContext, scene: Scene, list_number: str
) -> None:
    pick = window.pick
    scanner_types(PICKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is pick, timeout=5000)
    assert pick.instruction.text() == "Scan a pick list or a cart to start"
    # The picker left the cursor in "Type a code": scans must not land there.
    pick.code.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is pick.code)

    pick_scan(qtbot, window, list_number)
    assert pick.banner.kind == "good", pick.banner.message
    assert pick.step is Step.TOTES
    assert pick.instruction.text() == "Scan the cart's label, or an empty tote for slot 1 (SO-9001)"
    save_screenshot(window, "pick-setup.png")
    # The cart's label first: the list records the cart, and the screen names it.
    pick_scan(qtbot, window, "CART-03")
    assert pick.banner.kind == "good", pick.banner.message
    assert pick.banner.message.startswith(f"Cart CART-03 ✓ pick list {list_number} rides on it.")
    assert pick.step is Step.TOTES
    assert pick.instruction.text() == "Scan an empty tote for slot 1 (SO-9001)"
    assert pick.list_meta.text().startswith("Cart CART-03 · Cluster · 0 of 12 stops")
    assert pick.lot_label.text() == "Cart CART-03"
    assert pick.slot_label.text() == "Slot 1 needs a tote"
    save_screenshot(window, "pick-cart.png")
    for n in range(1, 5):
        pick_scan(qtbot, window, f"T-000{n}")
        assert pick.banner.kind == "good", pick.banner.message
    assert pick.step is Step.BIN
    assert pick.model.rowCount() == 12
    assert pick.code.text() == ""

    view = pick.view
    assert view is not None
    first = view.next_stop
    assert first is not None
    assert pick.bin_label.text() == first.bin
    # A wrong bin: bad, nothing counted, the words name both bins.
    wrong = scene.bins["b8"].code
    pick_scan(qtbot, window, wrong)
    assert pick.banner.kind == "bad"
    assert f"Wrong bin: {wrong}" in pick.banner.message
    assert first.bin in pick.banner.message
    assert pick.step is Step.BIN

    stops = 0
    wrong_lot_seen = short_seen = False
    shot_taken = paused = handed = False
    while pick.step is not Step.DONE:
        if stops == 2 and not paused:
            resume_by_cart_after_a_pause(qtbot, window, list_number)
            paused = True
        if stops == 4 and not handed:
            resume_by_cart_after_a_hand_over_and_sign_out(qtbot, window, list_number)
            handed = True
        view = pick.view
        assert view is not None
        stop = view.next_stop
        assert stop is not None
        pick_scan(qtbot, window, stop.bin)
        assert pick.banner.kind == "good", pick.banner.message
        assert pick.step is Step.ITEM
        code = code_for(scene, stop.sku, stop.lot, stop.expiry)
        if stop.lot and not wrong_lot_seen:
            pick_scan(qtbot, window, gs1(scene.items[stop.sku], LATE_LOT, LATE_EXPIRY))
            assert pick.banner.kind == "bad"
            assert f"Wrong lot: {LATE_LOT}" in pick.banner.message
            assert pick.step is Step.ITEM
            wrong_lot_seen = True
        if stop.bin == scene.bins["short_a"].code and not short_seen:
            pick_scan(qtbot, window, code)  # one unit is there, the shelf said five
            assert pick.qty_label.text() == f"1 of {stop.remaining}"
            if not shot_taken:
                save_screenshot(window, "pick.png")
                shot_taken = True
            pick.short_button.click()
            qtbot.waitUntil(lambda: pick.step is Step.TOTE)
            assert "Short: 1 of 3 found" in pick.banner.message
            pick_scan(qtbot, window, view.tote_of(stop.slot) or "")
            assert pick.banner.kind == "good", pick.banner.message
            assert "2 short at the bin — 2 to come from " in pick.banner.message
            short_seen = True
            stops += 1
            continue
        for _ in range(stop.remaining):
            pick_scan(qtbot, window, code)
            assert pick.banner.kind == "good", pick.banner.message
        assert pick.step is Step.TOTE
        pick_scan(qtbot, window, view.tote_of(stop.slot) or "")
        assert pick.banner.kind == "good", pick.banner.message
        stops += 1
    assert wrong_lot_seen and short_seen and paused and handed
    assert stops == 13  # the twelve stops of the list, and the one the short re-allocated
    assert pick.instruction.text() == "List finished — take the totes to packing"
    assert pick.model.rowCount() == 13
    wait_idle(qtbot, window)
    with ctx.sessions() as s:
        statuses = set(s.scalars(select(Order.status).where(Order.id.in_(scene.order_ids))))
        in_totes = s.scalar(
            select(func.sum(StockMovement.qty)).where(
                StockMovement.reason == "pick", StockMovement.location_id.is_(None)
            )
        )
    assert statuses == {"picked"}
    assert in_totes == 17

    # The cart goes to packing: the tote of slot 4 opens SO-9004 at the bench.
    pick.sign_out_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.signin)
    scanner_types(PACKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pack, timeout=5000)
    pack = window.pack
    before = len(pack.feedback_ms)
    scanner_types("T-0004")
    qtbot.waitUntil(lambda: len(pack.feedback_ms) > before, timeout=5000)
    assert pack.banner.kind == "good", pack.banner.message
    assert pack.order is not None and pack.order.number == "SO-9004"
    for line in pack.order.lines:
        for _ in range(line.ordered):
            before = len(pack.feedback_ms)
            scanner_types(scene.items[line.sku].ean)
            qtbot.waitUntil(lambda: len(pack.feedback_ms) > before, timeout=5000)  # noqa: B023
            assert pack.banner.kind == "good", pack.banner.message
    assert pack.order.all_packed
    pack.weight.setText("1.2")
    pack.close_button.click()
    qtbot.waitUntil(lambda: pack.complete_button.isEnabled())
    pack.complete_button.click()
    qtbot.waitUntil(lambda: pack.order is None)
    assert "Order SO-9004 packed" in pack.banner.message


def resume_by_cart_after_a_pause(qtbot: QtBot, window: MainWindow, number: str) -> None:
    """Pause: the screen lets the list go; the cart's label brings it back at its next stop."""
    pick = window.pick
    pick.pause_button.click()
    qtbot.waitUntil(lambda: pick.view is None, timeout=5000)
    assert (
        pick.banner.message == f"Pick list {number} paused — scan it or cart CART-03 to carry on."
    )
    assert pick.instruction.text() == "Scan a pick list or a cart to start"
    pick_scan(qtbot, window, "CART-03")
    assert pick.banner.kind == "good", pick.banner.message
    assert pick.banner.message.startswith(f"Cart CART-03: Pick list {number}: ")
    assert pick.step is Step.BIN
    assert pick.view is not None and pick.view.stops_done == 2
    assert pick.list_meta.text().startswith("Cart CART-03 · Cluster · 2 of ")


def resume_by_cart_after_a_hand_over_and_sign_out(
    qtbot: QtBot, window: MainWindow, number: str
) -> None:
    """The list left for anyone and the picker signed out: signing in opens nothing (the list
    is nobody's), and the cart's label takes the list again."""
    pick = window.pick
    pick.hand_button.click()
    assert pick.banner.kind == "warn"
    pick.hand_button.click()  # again: the list goes to whoever scans it next
    qtbot.waitUntil(lambda: pick.view is None, timeout=5000)
    assert pick.banner.message == (
        f"The rest of pick list {number} goes to whoever scans it or cart CART-03 next."
    )
    pick.sign_out_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.signin)
    scanner_types(PICKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is pick, timeout=5000)
    pick_scan(qtbot, window, "CART-03")
    assert pick.banner.kind == "good", pick.banner.message
    assert pick.banner.message.startswith(f"Cart CART-03: Pick list {number}: ")
    assert pick.step is Step.BIN
    assert pick.view is not None and pick.view.stops_done == 4
    assert pick.view.picker_name == PICKER.name
    assert pick.list_meta.text().startswith("Cart CART-03 · Cluster · 4 of ")


def test_a_supervisor_releases_a_cluster_list_from_the_picker_screen(
    qtbot: QtBot, station: MainWindow, ctx: StationContext
) -> None:
    window = station
    supervisor = next(op for op in DEMO_OPERATORS if op.name == "Sam Supervisor")
    scanner_types(supervisor.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pack, timeout=5000)
    window.show_pick()
    assert window.pick.work_button.isVisible()
    window.pick.work_button.click()
    form = window.pick_work
    assert window.stack.currentWidget() is form
    form.kind.setCurrentIndex(0)  # cluster
    form.orders.setValue(4)
    form.weight.setValue(0)
    form.lists.setValue(2)
    form.print_lists.setChecked(False)
    form.release_button.click()
    qtbot.waitUntil(lambda: form.banner.kind in ("good", "warn", "bad"), timeout=10000)
    assert form.banner.kind == "good", form.banner.message
    assert form.banner.message.startswith("2 pick lists made for 8 orders")
    assert form.outcome.text().count("PL-") == 2
    qtbot.waitUntil(lambda: form.lists_model.rowCount() == 2, timeout=5000)
    save_screenshot(window, "pick-work.png")
    form.free_button.click()  # nothing chosen yet
    qtbot.waitUntil(lambda: form.banner.kind == "bad", timeout=5000)
    assert form.banner.message == "Choose the pick list to free in the table first."
    form.lists_table.selectRow(0)
    form.free_button.click()  # nobody has it
    qtbot.waitUntil(lambda: "is free already" in form.banner.message, timeout=5000)
    assert form.banner.message == (
        f"Pick list {form.lists_model.summary(0).number} is free already: any picker can scan it."
    )
    # One of them was a mistake: it is withdrawn, with the reason asked for first.
    form.lists_table.selectRow(1)
    withdrawn = form.lists_model.summary(1).number
    form.withdraw_button.click()
    qtbot.waitUntil(lambda: "Say why" in form.banner.message, timeout=5000)
    assert form.banner.kind == "bad"
    assert form.banner.message == (
        "Say why the list is withdrawn (for example: made for the wrong wave)."
    )
    form.reason.setText("made for the wrong wave")
    form.withdraw_button.click()
    qtbot.waitUntil(lambda: form.banner.kind == "good", timeout=5000)
    assert form.banner.message == (
        f"Pick list {withdrawn} withdrawn: its orders can go on another list."
    )
    qtbot.waitUntil(lambda: form.lists_model.rowCount() == 1, timeout=5000)
    number = form.lists_model.summary(0).number
    assert number != withdrawn
    assert form.reason.text() == ""
    # A pick list's scan takes the supervisor back to picking, and opens it.
    pick_scan(qtbot, window, number)
    assert window.stack.currentWidget() is window.pick
    assert window.pick.banner.kind == "good", window.pick.banner.message
    assert window.pick.step is Step.TOTES
