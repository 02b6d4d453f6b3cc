"""The station's sync as a person sees it: the status bar (online, offline and why, what waits,
the last sync, conflicts), the conflicts list, the supervisor's exception list, and the pack
screen telling a packer who has the order — on a real central PostgreSQL with a real hub."""

from __future__ import annotations

import gc
import re
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.services import packing
from app.store.models import ExceptionTask
from tests.sync.centralkit import Central, central
from tests.sync.harness.proxy import PgProxy
from tests.sync.stationkit import Bench, add_bench, confirmed_orders, hub_running, unit_codes
from tests.ui.conftest import save_screenshot, shown_whole
from ui.main_window import MainWindow

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]
__all__ = ["central", "hub_running"]
WAIT_MS = 30_000


def open_window(qtbot: QtBot, bench: Bench, *, port: int | None = None) -> MainWindow:
    """The station's main window over the bench's database (optionally through a proxy)."""
    from ui.main import build_window
    from ui.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    ctx = bench.ctx
    if port is not None:
        ctx.config = replace(ctx.config, central=replace(bench.login.central, port=port))
    window = build_window(ctx)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=5000):
        window.show()
    qtbot.waitExposed(window)
    return window


def sign_in(qtbot: QtBot, window: MainWindow, badge: str = "OP-1001") -> None:
    qtbot.waitUntil(lambda: window.signin.names.count() > 0)
    window.handle_scan(badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.pack, timeout=5000)


def shot(widget: object, name: str) -> None:
    """Into test-artifacts/ (and docs/screenshots/ with WAYSTATION_SCREENSHOTS=docs/screenshots,
    how the pictures in the docs are made)."""
    save_screenshot(widget, name)  # type: ignore[arg-type]


def test_the_status_bar_says_online_what_waits_and_offline_why_without_stalling(
    qtbot: QtBot, central: Central, tmp_path: Path, hub_running: None
) -> None:
    bench = add_bench(central, "PACK-01", tmp_path)
    proxy = PgProxy(bench.login.central.port)
    window = open_window(qtbot, bench, port=proxy.start())
    status = window.status
    try:
        sign_in(qtbot, window)
        # A station freezes what it built by its first sign-in (MainWindow._signed_in), so a
        # full collection walks only what it made since. This process also holds what every
        # earlier test left (a full pass over it takes 200-400 ms); the same freeze here leaves
        # the collector what this station and its hub make, as at a bench. (It stays frozen,
        # as the station's own freeze does: unfreezing would hand the whole heap back to it.)
        gc.collect()
        gc.freeze()
        qtbot.waitUntil(
            lambda: status.sync_state.text().startswith("✓ Online · synced "), timeout=WAIT_MS
        )
        assert status.sync_state.property("sync") == "online"
        assert re.fullmatch(r"✓ Online · synced \d\d:\d\d", status.sync_state.text())
        assert status.conflicts.text() == "No conflicts"
        qtbot.waitUntil(lambda: "0 to sync" in status.waiting.text(), timeout=WAIT_MS)
        for label in (status.operator, status.waiting, status.sync_state, status.conflicts):
            assert shown_whole(label), label.text()
        shot(status, "sync-status-online.png")

        # The network goes: the station keeps working, and the bar says so, and why.
        proxy.offline = True
        proxy.drop_all()
        qtbot.waitUntil(
            lambda: status.sync_state.text().startswith("⚠ Offline · last sync "), timeout=WAIT_MS
        )
        assert status.sync_state.property("sync") == "offline"
        assert "central database unreachable" in status.sync_state.toolTip()
        assert "keeps working" in status.sync_state.toolTip()
        number = confirmed_orders(bench.ctx, 1)[0]
        window.handle_scan(number)
        qtbot.waitUntil(lambda: window.pack.order is not None, timeout=5000)
        qtbot.waitUntil(lambda: "1 to sync" in status.waiting.text(), timeout=WAIT_MS)
        for label in (status.operator, status.waiting, status.sync_state, status.conflicts):
            assert shown_whole(label), label.text()
        shot(status, "sync-status-offline.png")

        # Back online: what waited goes up by itself, while the screen stays responsive.
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append((now - last[0]) * 1000)
            last[0] = now

        ticker = QTimer()
        ticker.setInterval(10)
        ticker.timeout.connect(tick)
        ticker.start()
        proxy.calm()
        qtbot.waitUntil(
            lambda: (
                status.sync_state.property("sync") == "online"
                and "0 to sync" in status.waiting.text()
            ),
            timeout=WAIT_MS,
        )
        ticker.stop()
        assert len(gaps) > 10
        assert max(gaps) < 50 + 10, f"the GUI stalled {max(gaps):.0f} ms while syncing"
    finally:
        window.shutdown()
        proxy.close()
        bench.close()
    assert not window.sync or not window.sync.worker.running, "the sync worker outlived the window"


def test_a_bench_is_told_who_has_the_order(
    qtbot: QtBot, central: Central, tmp_path: Path, hub_running: None
) -> None:
    holder = add_bench(central, "BENCH-A", tmp_path)
    number = confirmed_orders(holder.ctx, 1)[0]
    with holder.ctx.uow(holder.sign_in()) as uow:
        packing.open_order(uow, number)
    holder.sync()
    bench = add_bench(central, "BENCH-B", tmp_path)
    window = open_window(qtbot, bench)
    try:
        sign_in(qtbot, window)
        qtbot.waitUntil(
            lambda: window.status.sync_state.property("sync") == "online", timeout=WAIT_MS
        )
        # B had not pulled A's claim: locally the order looks free (a stale view).
        from sqlalchemy import update

        from app.store.models import Order

        with bench.ctx.engine.begin() as conn:
            conn.execute(
                update(Order)
                .where(Order.number == number)
                .values(status="confirmed", claimed_by_station=None)
            )
        window.handle_scan(number)
        pack = window.pack
        qtbot.waitUntil(lambda: pack.banner.kind == "bad", timeout=10_000)
        assert pack.banner.message.startswith(f"Order {number} is being packed at BENCH-A")
        assert "by Pat Packer since" in pack.banner.message
        assert "take another order" in pack.banner.message
        assert pack.order is None
        shot(window, "sync-claim-refused.png")
    finally:
        window.shutdown()
        holder.close()
        bench.close()


def packed_while_held(central: Central, folder: Path) -> tuple[Bench, Bench, str, uuid.UUID]:
    """Bench A holds an order centrally; bench B, offline, opened it too and packed a unit:
    B's claim will be refused and its unit kept as a disputed claim."""
    holder = add_bench(central, "BENCH-A", folder)
    number = confirmed_orders(holder.ctx, 1)[0]
    with holder.ctx.uow(holder.sign_in()) as uow:
        packing.open_order(uow, number)
    holder.sync()
    bench = add_bench(central, "BENCH-B", folder)
    who = bench.sign_in()
    with bench.ctx.uow(who) as uow:
        order_id = packing.open_order(uow, number).id
    with bench.ctx.uow(who) as uow:
        packing.scan_item(uow, packing.ItemScan(order_id, unit_codes(bench.ctx, order_id)[0]))
    return holder, bench, number, order_id


def test_conflicts_list_shows_each_refusal_with_why_and_what_to_do(
    qtbot: QtBot, central: Central, tmp_path: Path, hub_running: None
) -> None:
    holder, bench, number, _order_id = packed_while_held(central, tmp_path)
    window = open_window(qtbot, bench)  # online again
    status = window.status
    try:
        sign_in(qtbot, window)
        qtbot.waitUntil(lambda: status.conflicts.text() == "1 conflict(s)", timeout=WAIT_MS)
        assert status.conflicts.property("alert") == "true"
        qtbot.waitUntil(lambda: status.exceptions.text() == "1 exception(s)", timeout=WAIT_MS)
        shot(status, "sync-status-conflict.png")
        status.conflicts.clicked.emit()
        screen = window.conflicts
        assert window.stack.currentWidget() is screen
        qtbot.waitUntil(lambda: screen.model.rowCount() == 1, timeout=5000)
        row = screen.model.conflict(0)
        assert row.what == "Opening an order for packing"
        assert f"Order {number} is being packed at BENCH-A" in row.reason
        assert "put what you packed aside for a supervisor" in row.advice
        assert screen.model.data(screen.model.index(0, 4)) == "new"
        screen.view.selectRow(0)
        shot(window, "sync-conflicts.png")
        assert screen.seen_button.isEnabled()
        screen.seen_button.click()
        qtbot.waitUntil(lambda: status.conflicts.text() == "No conflicts", timeout=WAIT_MS)
        qtbot.waitUntil(lambda: screen.model.data(screen.model.index(0, 4)) == "seen ✓")
        assert not screen.seen_button.isEnabled()
    finally:
        window.shutdown()
        holder.close()
        bench.close()


def test_a_supervisor_resolves_an_exception_and_a_packer_cannot(
    qtbot: QtBot, central: Central, tmp_path: Path, hub_running: None
) -> None:
    holder, bench, number, order_id = packed_while_held(central, tmp_path)
    window = open_window(qtbot, bench)
    try:
        sign_in(qtbot, window)
        qtbot.waitUntil(
            lambda: window.status.exceptions.text() == "1 exception(s)", timeout=WAIT_MS
        )
        window.status.exceptions.clicked.emit()
        screen = window.exceptions
        qtbot.waitUntil(lambda: screen.model.rowCount() == 1, timeout=5000)
        task = screen.model.task(0)
        assert task.title == "Disputed claim"
        assert f"Order {number} was packed at BENCH-B while BENCH-A held it" in task.summary
        assert task.status == "open"
        screen.view.selectRow(0)
        screen.note.setText("Both boxes checked: one unit in B's box, moved to A")
        shot(window, "sync-exceptions.png")
        window.handle_scan("OP-1001")  # a packer's badge
        qtbot.waitUntil(lambda: screen.banner.kind == "bad", timeout=5000)
        assert "may not override an exception" in screen.banner.message
        assert "supervisor" in screen.banner.message
        window.handle_scan("OP-9001")  # the supervisor's
        qtbot.waitUntil(lambda: screen.banner.kind == "good", timeout=5000)
        assert screen.banner.message == "Disputed claim resolved by Sam Supervisor."
        qtbot.waitUntil(lambda: window.status.exceptions.isHidden(), timeout=WAIT_MS)
        qtbot.waitUntil(
            lambda: window.sync is not None and window.sync.status.waiting == 0, timeout=WAIT_MS
        )
        with central.engine.connect() as conn:
            central_task = conn.execute(
                select(ExceptionTask).where(ExceptionTask.entity_id == order_id)
            ).one()
        assert central_task.status == "resolved"
        assert central_task.resolved_by == "Sam Supervisor"
        assert central_task.details["resolution"].startswith("Both boxes checked")
        qtbot.waitUntil(lambda: "0 to sync" in window.status.waiting.text(), timeout=WAIT_MS)
        shot(window, "sync-exceptions-resolved.png")
    finally:
        window.shutdown()
        holder.close()
        bench.close()


def test_the_list_models_are_sound(qtmodeltester: object, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from app.ids import new_id
    from app.services.conflicts import ConflictView, ExceptionView
    from ui.models.sync_lists import ConflictsModel, ExceptionsModel

    now = datetime.now(UTC)
    conflicts = ConflictsModel()
    conflicts.set_conflicts(
        [ConflictView(new_id(), 3, "order.packed", "Completing", "No.", "Open it.", now, None)]
    )
    exceptions = ExceptionsModel()
    exceptions.set_exceptions(
        [ExceptionView(new_id(), "oversell", "Oversell", "x", "Count", now, "open", None, None)]
    )
    for model in (conflicts, exceptions):
        qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_a_standalone_station_shows_no_sync(qtbot: QtBot, station: MainWindow) -> None:
    assert station.sync is None
    assert station.status.sync_state.text() == "Standalone"
    assert station.status.conflicts.isHidden()
    qtbot.waitUntil(lambda: "to print" in station.status.waiting.text(), timeout=5000)
    assert "to sync" not in station.status.waiting.text()


def test_the_first_start_of_a_syncing_station_loads_it_and_says_so(
    qtbot: QtBot, central: Central, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.sync.stationkit import station_config
    from ui import main as station_main

    login = central.add_station("PACK-NEW")
    config = station_config(central, login, tmp_path)
    shown: list[tuple[str, int, str]] = []
    progress = station_main._FirstLoad.progress

    def watch(self: station_main._FirstLoad, table: str, rows: int) -> None:
        progress(self, table, rows)
        shown.append((table, rows, self._note.text()))

    monkeypatch.setattr(station_main._FirstLoad, "progress", watch)
    window = station_main.build_station(config)
    qtbot.addWidget(window)
    try:
        assert ("product", 120) in [(t, r) for t, r, _ in shown]
        assert shown[-1][2].startswith("Loading this station from the central database")
        assert window.ctx.station_id == login.station_id
        assert window.sync is not None
        # The second start opens the loaded database: nothing to load, nothing shown.
        assert station_main._FirstLoad.needed(config) is None
    finally:
        window.shutdown()
        window.ctx.dispose()
