"""The counter screen's refusals and approvals as a clerk meets them, and its basket model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from counter_printer import RawPrinter
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext
from app.services.counter.views import Basket, BasketLine
from tests.ui.conftest import save_screenshot
from tests.ui.counter_station import (
    SUPERVISOR_BADGE,
    Goods,
    counter_context,
    scan,
    scanner_keys,
    show_station,
    sign_in,
    stock_the_shop,
    wait_idle,
)
from ui.main_window import MainWindow
from ui.models.basket import AMOUNT, DISCOUNT, ITEM, QTY, BasketModel
from ui.screens.counter_dialogs import (
    CashCountDialog,
    DiscountDialog,
    NoReceiptReturnDialog,
    PickDialog,
    ReturnDialog,
)

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


@pytest.fixture
def till(
    qtbot: QtBot, tmp_path: Path, demo_database: Path
) -> Iterator[tuple[MainWindow, Goods, StationContext]]:
    printer = RawPrinter()
    ctx = counter_context(tmp_path, demo_database, printer)
    goods = stock_the_shop(ctx)
    window = show_station(qtbot, ctx)
    sign_in(qtbot, window)
    window.counter.open_button.click()
    dialog = window.counter.dialog
    assert isinstance(dialog, CashCountDialog)
    dialog.set_count({5000: 2})
    dialog.accept()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.counter.code)
    yield window, goods, ctx
    window.shutdown()
    ctx.dispose()
    printer.close()


def _line(i: int, **changes: object) -> BasketLine:
    import uuid

    values: dict[str, object] = {
        "id": uuid.UUID(int=i + 1),
        "line_no": i + 1,
        "product_id": uuid.UUID(int=100 + i),
        "sku": f"SKU-{i}",
        "name": f"Item {i}",
        "qty": 1 + i,
        "grams": None,
        "unit_price_minor": 250,
        "tax_rate_bp": 1900,
        "discount_minor": 0,
        "amount_minor": 250 * (1 + i),
        "gross_minor": 250 * (1 + i),
    }
    values.update(changes)
    return BasketLine(**values)  # type: ignore[arg-type]


def _basket(lines: list[BasketLine]) -> Basket:
    import uuid

    total = sum(x.gross_minor for x in lines if not x.voided)
    return Basket(uuid.UUID(int=9), "open", "inclusive", "EUR", tuple(lines), total, 0, 0, total)


def test_the_basket_model(qtmodeltester: ModelTester) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    model = BasketModel()
    model.set_basket(_basket([_line(0), _line(1)]))
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    model.set_basket(
        _basket([_line(0), _line(1, discount_minor=50, amount_minor=450), _line(2)])
    )  # a line changed, one added: no reset
    qtmodeltester.check(model)
    assert model.data(model.index(1, DISCOUNT)) == "-€0.50"
    assert model.data(model.index(2, ITEM)) == "Item 2"
    model.set_basket(_basket([_line(0, voided=True), _line(1), _line(2)]))
    assert model.data(model.index(0, ITEM)) == "Item 0 — voided"
    assert model.data(model.index(0, AMOUNT)) == ""
    model.set_basket(_basket([_line(0, grams=342, qty=1, unit_price_minor=1290)]))
    assert model.data(model.index(0, QTY)) == "0.342 kg"
    model.set_basket(None)
    assert model.rowCount() == 0


def test_a_discount_over_the_limit_needs_a_supervisors_badge(
    qtbot: QtBot, till: tuple[MainWindow, Goods, StationContext]
) -> None:
    window, goods, _ctx = till
    counter = window.counter
    code, price, _rate = goods.items[1]
    scan(qtbot, window, code)
    counter.table.selectRow(0)
    counter.discount_button.click()
    dialog = counter.dialog
    assert isinstance(dialog, DiscountDialog)
    assert dialog.on_line()
    dialog.value.setText("25")
    dialog.accept()
    wait_idle(qtbot, window)
    assert counter.banner.kind == "bad"
    assert "more than Chris Counter may give (10%)" in counter.banner.message
    assert "supervisor" in counter.banner.message
    assert counter.basket is not None
    assert counter.basket.total_minor == price

    counter.discount_button.click()
    dialog = counter.dialog
    assert isinstance(dialog, DiscountDialog)
    dialog.value.setText("25")
    scanner_keys(SUPERVISOR_BADGE)  # the supervisor's badge, scanned into the open dialog
    qtbot.waitUntil(lambda: dialog.badge == SUPERVISOR_BADGE)
    save_screenshot(dialog, "counter-discount.png")
    dialog.accept()
    wait_idle(qtbot, window)
    assert counter.banner.kind == "good", counter.banner.message
    assert counter.basket.total_minor == price - round(price / 4)


def test_a_return_without_receipt_through_the_screen(
    qtbot: QtBot, till: tuple[MainWindow, Goods, StationContext]
) -> None:
    window, goods, _ctx = till
    counter = window.counter
    code, price, _rate = goods.items[2]
    counter.ask_no_receipt_return()
    dialog = counter.dialog
    assert isinstance(dialog, NoReceiptReturnDialog)
    dialog.to_cash.setChecked(True)
    dialog.accept_scan(code)  # the item's barcode
    wait_idle(qtbot, window)
    assert dialog.product_id is not None
    dialog.accept()  # no supervisor yet
    wait_idle(qtbot, window)
    assert counter.banner.kind == "bad"
    assert "needs a supervisor" in counter.banner.message

    counter.ask_no_receipt_return()
    dialog = counter.dialog
    assert isinstance(dialog, NoReceiptReturnDialog)
    dialog.to_cash.setChecked(True)
    dialog.accept_scan(code)
    wait_idle(qtbot, window)
    dialog.accept_scan(SUPERVISOR_BADGE)
    dialog.accept()
    wait_idle(qtbot, window)
    assert counter.banner.kind == "good", counter.banner.message
    assert counter.returns[-1].refund_minor == price
    assert counter.returns[-1].opens_drawer


def test_the_return_finder_takes_a_receipts_scan_or_no_receipt(
    qtbot: QtBot, till: tuple[MainWindow, Goods, StationContext]
) -> None:
    window, goods, _ctx = till
    counter = window.counter
    scan(qtbot, window, goods.items[0][0])
    counter.cash_button.click()
    qtbot.waitUntil(lambda: len(counter.completed) == 1, timeout=5000)
    wait_idle(qtbot, window)

    counter.return_button.click()
    finder = counter.dialog
    assert isinstance(finder, PickDialog)
    window.handle_scan(counter.completed[0].number)  # the receipt's code
    qtbot.waitUntil(lambda: isinstance(counter.dialog, ReturnDialog), timeout=5000)
    assert not finder.isVisible()
    counter.dialog.reject()

    counter.return_button.click()
    finder = counter.dialog
    assert isinstance(finder, PickDialog)
    (no_receipt,) = [b for b in finder.findChildren(QPushButton) if b.text() == "No receipt…"]
    no_receipt.click()
    assert not finder.isVisible()
    assert isinstance(counter.dialog, NoReceiptReturnDialog)
    counter.dialog.reject()


def test_unknown_codes_and_empty_baskets_say_what_to_do(
    qtbot: QtBot, till: tuple[MainWindow, Goods, StationContext]
) -> None:
    window, _goods, _ctx = till
    counter = window.counter
    scan(qtbot, window, "4006381333931")  # a real GTIN this shop does not sell
    assert counter.banner.kind == "bad"
    assert "4006381333931 is not a product this till knows" in counter.banner.message
    scan(qtbot, window, "ZZ-NOT-A-CODE-42")  # no GTIN, and none of the company's own codes
    assert counter.banner.kind == "bad"
    assert "ZZ-NOT-A-CODE-42 is not a product number (GTIN)" in counter.banner.message
    counter.pay(counter_kind("cash"))
    assert counter.banner.kind == "bad"
    assert counter.banner.message == "The basket is empty — scan the first item."
    counter.ask_resume()
    wait_idle(qtbot, window)
    assert counter.banner.message == "No sale is suspended at this till."


def counter_kind(name: str) -> object:
    from app.domain.receipts import TenderKind

    return TenderKind(name)


def test_escape_gives_up_waiting_for_a_card_code(
    qtbot: QtBot, till: tuple[MainWindow, Goods, StationContext]
) -> None:
    window, goods, _ctx = till
    counter = window.counter
    first, second = goods.items[0][0], goods.items[1][0]
    scan(qtbot, window, first)
    counter.card_button.click()
    assert counter.instruction.text().startswith("Scan or type the approval code")
    counter.cancel_waiting()
    assert counter.banner.message == "No payment taken — choose how the customer pays."
    scan(qtbot, window, second)  # an item again, not an approval code
    assert counter.banner.kind == "good", counter.banner.message
    assert counter.basket is not None
    assert len(counter.basket.lines) == 2
    assert not counter.basket.payments
