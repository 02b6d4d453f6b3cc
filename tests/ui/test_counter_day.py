"""A day at the shop counter, driven the way a clerk works: badge scan, the float counted in,
twenty sales rung up by simulated scanner keystrokes (1 ms apart) and paid in cash, by card,
with a gift card and split; a return scanned from its receipt; a sale suspended and resumed;
cash taken out; the drawer counted at the close. Receipts and the cash report arrive as bytes
at a raw printer port and are read back; the cash report agrees with what the test handed over.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from counter_printer import RawPrinter
from escpos_stream import Barcode, Kick, QRCode, parse
from PySide6.QtWidgets import QApplication
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig
from app.domain.cash import CashMoveKind
from app.services import auth
from app.services.counter import store_credit
from app.store.models import CashSession, CounterSale, OpResult, Product
from tests.sync.centralkit import Central, central
from tests.sync.harness.proxy import PgProxy
from tests.sync.stationkit import station_config
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
from ui.screens.counter_dialogs import CashCountDialog, ReturnDialog

pytestmark = [
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
    pytest.mark.slow,
]

__all__ = ["central"]
SYNC_MS = 60_000
FLOAT = {2000: 5, 1000: 5, 500: 4, 200: 10, 100: 10}  # € 200.00


@pytest.fixture
def printer() -> Iterator[RawPrinter]:
    p = RawPrinter()
    yield p
    p.close()


@pytest.fixture
def till_ctx(tmp_path: Path, demo_database: Path, printer: RawPrinter) -> Iterator[StationContext]:
    ctx = counter_context(tmp_path, demo_database, printer)
    yield ctx
    ctx.dispose()


@pytest.fixture
def till(qtbot: QtBot, till_ctx: StationContext) -> Iterator[tuple[MainWindow, Goods]]:
    goods = stock_the_shop(till_ctx)
    window = show_station(qtbot, till_ctx)
    yield window, goods
    window.shutdown()


def _count(amount_minor: int) -> dict[int, int]:
    """The drawer as notes and coins (largest first), as a person counts it."""
    count, left = {}, amount_minor
    for value in (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1):
        count[value], left = divmod(left, value)
    return {v: n for v, n in count.items() if n}


def _through_dialog(qtbot: QtBot, window: MainWindow, count: dict[int, int]) -> None:
    dialog = window.counter.dialog
    assert isinstance(dialog, CashCountDialog)
    dialog.set_count(count)
    assert dialog.total_minor() == sum(v * n for v, n in count.items())
    dialog.accept()
    wait_idle(qtbot, window)
    _focus_back(qtbot, window)


def _focus_back(qtbot: QtBot, window: MainWindow) -> None:
    """After a dialog, the keyboard is the counter's again before the next scan."""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.counter.code)


def _complete(qtbot: QtBot, window: MainWindow, n: int, printer: RawPrinter) -> None:
    """The sale went through; its receipt came out of the printer before the next customer."""
    try:
        qtbot.waitUntil(lambda: len(window.counter.completed) == n, timeout=5000)
    except TimeoutError:
        raise AssertionError(window.counter.banner.message) from None
    wait_idle(qtbot, window)
    printer.wait_for(n)


def test_a_day_at_the_counter(
    qtbot: QtBot, till: tuple[MainWindow, Goods], till_ctx: StationContext, printer: RawPrinter
) -> None:
    window, goods = till
    counter = window.counter
    sign_in(qtbot, window)
    assert counter.instruction.text() == "The till is closed — open it with the float"

    # A scan before the till is open: refused, in words that say what to do.
    scan(qtbot, window, goods.items[0][0])
    assert counter.banner.kind == "bad"
    assert "No cash session is open" in counter.banner.message
    save_screenshot(window, "counter-closed.png")

    counter.open_button.click()
    _through_dialog(qtbot, window, FLOAT)
    assert counter.session is not None
    assert counter.session.opening_float_minor == 20000
    assert counter.banner.kind == "good"

    # A gift card a supervisor loaded earlier (sold at the office).
    with till_ctx.uow() as uow:
        boss = auth.sign_in_badge(uow, SUPERVISOR_BADGE)
    with till_ctx.uow(boss) as uow:
        gift = store_credit.issue_gift_card(uow, 2500)

    drawer_cash = 20000  # what the test knows went into the drawer
    expected_totals: list[int] = []
    items = goods.items
    for n in range(20):
        picks = [items[(n + k) % len(items)] for k in range(1 + n % 3)]
        for code, _price, _rate in picks:
            scan(qtbot, window, code)
            assert counter.banner.kind == "good", (
                counter.banner.message,
                n,
                code,
                counter.code.text(),
                QApplication.focusWidget(),
                counter.amount.text(),
                window.worker.pending,
            )
        if n == 4:  # a weighed cheese from the scale, its weight in the barcode
            scan(qtbot, window, goods.weighed)
            assert counter.banner.kind == "good", counter.banner.message
            assert "0.342 kg" in counter.banner.message
        basket = counter.basket
        assert basket is not None
        total = basket.total_minor
        assert counter.total.text() == f"€{total / 100:,.2f}"
        if n == 7:  # the customer keeps one item back: the clerk voids the line
            counter.table.selectRow(0)
            counter.void_button.click()
            wait_idle(qtbot, window)
            assert counter.basket.lines[0].voided
            total = counter.basket.total_minor
        kind = n % 5
        done_before = len(counter.completed)
        if kind == 0:  # cash, a round note
            given = (total // 1000 + 1) * 1000
            counter.amount.setText(f"{given / 100:.2f}")
            counter.cash_button.click()
            _complete(qtbot, window, done_before + 1, printer)
            assert counter.completed[-1].change_minor == given - total
            assert f"give €{(given - total) / 100:,.2f} change" in counter.banner.message
            drawer_cash += total
        elif kind == 1:  # card: the approval code scanned from the terminal's slip
            counter.card_button.click()
            assert counter.instruction.text().startswith("Scan or type the approval code")
            scanner_keys(f"{880000 + n}")
            _complete(qtbot, window, done_before + 1, printer)
        elif kind == 2:  # split: part by card, the rest in cash
            part = total // 2
            counter.amount.setText(f"{part / 100:.2f}")
            counter.card_button.click()
            scanner_keys(f"{770000 + n}")
            qtbot.waitUntil(lambda: counter.basket is not None and bool(counter.basket.payments))
            wait_idle(qtbot, window)
            assert counter.banner.kind == "good"
            assert "still to pay" in counter.banner.message
            counter.cash_button.click()
            _complete(qtbot, window, done_before + 1, printer)
            drawer_cash += total - part
        elif kind == 3 and n < 10:  # the gift card pays what it holds, cash the rest
            counter.voucher_button.click()
            scanner_keys(gift)
            wait_idle(qtbot, window)
            if counter.basket is not None and counter.basket.due_minor:
                paid_by_gift = counter.basket.paid_minor
                counter.cash_button.click()
                drawer_cash += total - paid_by_gift
            _complete(qtbot, window, done_before + 1, printer)
        else:  # cash, exact
            counter.cash_button.click()
            _complete(qtbot, window, done_before + 1, printer)
            drawer_cash += total
        expected_totals.append(total)
        if n == 6:
            save_screenshot(window, "counter-paid.png")

        if n == 9:  # a sale suspended while the customer fetches something; another served
            scan(qtbot, window, items[3][0])
            scan(qtbot, window, items[4][0])
            save_screenshot(window, "counter-basket.png")
            counter.suspend_button.click()
            wait_idle(qtbot, window)
            assert counter.basket is None
            assert "suspended" in counter.banner.message
            scan(qtbot, window, items[5][0])
            counter.cash_button.click()
            _complete(qtbot, window, len(counter.completed) + 1, printer)
            drawer_cash += counter.completed[-1].basket.total_minor
            expected_totals.append(counter.completed[-1].basket.total_minor)
            window.counter.suspended_button.click()
            qtbot.waitUntil(lambda: counter.dialog is not None and counter.dialog.isVisible())
            counter.dialog.accept()
            wait_idle(qtbot, window)
            _focus_back(qtbot, window)
            assert counter.basket is not None
            assert counter.basket.items == 2
            counter.cash_button.click()
            _complete(qtbot, window, len(counter.completed) + 1, printer)
            drawer_cash += counter.completed[-1].basket.total_minor
            expected_totals.append(counter.completed[-1].basket.total_minor)

    sales = counter.completed
    assert len(sales) == 22
    assert [s.basket.total_minor for s in sales] == expected_totals
    numbers = [s.number for s in sales]
    assert numbers == [f"TILL-1-{i:06d}" for i in range(1, 23)]

    # A customer brings back one item of the first card sale: its receipt's code is scanned.
    card_sale = sales[1]
    scan(qtbot, window, card_sale.number)
    qtbot.waitUntil(lambda: isinstance(counter.dialog, ReturnDialog), timeout=5000)
    dialog = counter.dialog
    assert isinstance(dialog, ReturnDialog)
    first_line = dialog.sale.lines[0]
    dialog.units[first_line.id].setValue(1)
    save_screenshot(dialog, "counter-return.png")
    dialog.accept()
    qtbot.waitUntil(lambda: len(counter.returns) == 1, timeout=5000)
    wait_idle(qtbot, window)
    refund = counter.returns[0]
    assert refund.refund_minor == round(first_line.gross_minor / first_line.qty)
    assert [p.kind for p in refund.refunds] == ["card"]  # back the way it was paid
    assert not refund.opens_drawer

    counter.move_cash(CashMoveKind.PAID_OUT, 5000, "Bank drop")
    wait_idle(qtbot, window)
    drawer_cash -= 5000

    # The close: the clerk counts 0.50 less than should be there.
    counter.close_till_action.trigger()
    _through_dialog(qtbot, window, _count(drawer_cash - 50))
    closed = counter.closed
    assert closed is not None
    assert closed.session.expected_minor == drawer_cash
    assert closed.session.difference_minor == -50
    assert counter.banner.kind == "warn"
    assert "short by €0.50" in counter.banner.message
    save_screenshot(window, "counter-closed-till.png")

    # Every receipt, the return and the cash report reached the printer.
    try:
        jobs = printer.wait_for(len(sales) + 2, timeout=60)
    except AssertionError:
        from app.services import print_jobs

        with till_ctx.uow() as uow:
            journal = [(j.title, j.status, j.last_error) for j in print_jobs.journal(uow)]
        raise AssertionError(journal) from None
    streams = [parse(job) for job in jobs]
    receipts = {s.of(Barcode)[0].text: s for s in streams if s.of(Barcode)}
    for sale in sales:
        assert sale.number in receipts, f"receipt {sale.number} was not printed"
        text = receipts[sale.number].text
        assert f"EUR {sale.basket.total_minor / 100:.2f}" in text
        assert bool(receipts[sale.number].of(Kick)) == sale.opens_drawer
    assert not any(s.of(QRCode) for s in receipts.values())
    report = next(s for s in streams if "CASH REPORT" in s.text)
    text = report.text
    assert f"{drawer_cash / 100:.2f}" in text  # expected in drawer
    assert f"{(drawer_cash - 50) / 100:.2f}" in text  # counted
    assert "Difference (short)" in text
    assert "-0.50" in text


@pytest.mark.postgres
def test_the_day_with_the_network_cut_halfway(
    qtbot: QtBot, central: Central, tmp_path: Path, printer: RawPrinter
) -> None:
    """A till on the central database: sales before the network goes, sales while it is away,
    the till closed once it is back. Central then has every sale exactly once, and its copy of
    the till's session says what the cash report says."""
    login = central.add_station("TILL-1")
    raw = PrinterConfig(kind="socket", host="127.0.0.1", port=printer.port, paper="80mm")
    config = replace(
        station_config(central, login, tmp_path), printers={"receipt": raw, "cash_report": raw}
    )
    ctx = bootstrap(config)
    hub = central.hub(poll_interval=0.5)
    hub_thread = threading.Thread(target=hub.run, name="test-hub", daemon=True)
    hub_thread.start()
    proxy = PgProxy(login.central.port)
    ctx.config = replace(ctx.config, central=replace(login.central, port=proxy.start()))
    window = show_station(qtbot, ctx)
    counter, status = window.counter, window.status
    try:
        sign_in(qtbot, window)
        counter.open_button.click()
        _through_dialog(qtbot, window, FLOAT)
        with ctx.sessions() as s:
            products = list(
                s.scalars(
                    select(Product)
                    .where(Product.track_lot.is_(False), Product.gtin.is_not(None))
                    .order_by(Product.sku)
                    .limit(6)
                )
            )
        codes = [(p.gtin or "")[1:] for p in products]
        drawer_cash = 20000

        def sell(n: int) -> None:
            nonlocal drawer_cash
            for code in codes[n % len(codes) : n % len(codes) + 1 + n % 2]:
                scan(qtbot, window, code)
                assert counter.banner.kind == "good", counter.banner.message
            basket = counter.basket
            assert basket is not None
            done_before = len(counter.completed)
            if n % 3 == 1:
                counter.card_button.click()
                scanner_keys(f"{660000 + n}")
            else:
                counter.cash_button.click()
                drawer_cash += basket.total_minor
            _complete(qtbot, window, done_before + 1, printer)

        for n in range(4):
            sell(n)
        qtbot.waitUntil(lambda: "0 to sync" in status.waiting.text(), timeout=SYNC_MS)

        # The network goes halfway through the day: the till sells on.
        proxy.offline = True
        proxy.drop_all()
        qtbot.waitUntil(lambda: status.sync_state.property("sync") == "offline", timeout=SYNC_MS)
        for n in range(4, 8):
            sell(n)
        # The status bar counts what waits as the sync worker reports it, a moment later.
        qtbot.waitUntil(lambda: "0 to sync" not in status.waiting.text(), timeout=SYNC_MS)
        assert status.sync_state.property("sync") == "offline"

        # It comes back; the till is closed and everything goes up by itself.
        proxy.calm()
        counter.close_till_action.trigger()
        _through_dialog(qtbot, window, _count(drawer_cash))
        closed = counter.closed
        assert closed is not None
        assert closed.session.expected_minor == drawer_cash
        qtbot.waitUntil(
            lambda: (
                status.sync_state.property("sync") == "online"
                and "0 to sync" in status.waiting.text()
            ),
            timeout=SYNC_MS,
        )
    finally:
        window.shutdown()
        hub.stop()
        hub_thread.join(10)
        proxy.close()
    numbers = [c.number for c in counter.completed]
    assert len(numbers) == 8
    with central.engine.connect() as conn:
        rows = conn.execute(
            select(CounterSale.number, CounterSale.total_minor).where(
                CounterSale.station_id == ctx.station_id, CounterSale.status == "completed"
            )
        ).all()
        session = conn.execute(
            select(CashSession).where(CashSession.station_id == ctx.station_id)
        ).one()
        refused = conn.scalar(
            select(func.count()).where(
                OpResult.station_id == ctx.station_id, OpResult.result != "applied"
            )
        )
    assert sorted(n for n, _t in rows) == sorted(numbers), "every sale once, none twice"
    assert dict(rows) == {c.number: c.basket.total_minor for c in counter.completed}
    assert refused == 0
    assert session.status == "closed"
    assert (session.expected_minor, session.counted_minor) == (drawer_cash, drawer_cash)
    report = next(parse(job) for job in printer.wait_for(9) if "CASH REPORT" in parse(job).text)
    assert f"{drawer_cash / 100:.2f}" in report.text
    ctx.dispose()
