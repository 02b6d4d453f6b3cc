"""A stop's scans are on the picker screen before the worker answers; the worker has the last
word.

The screen shows what the walk in memory tells (the bin ticked, the unit counted, the stop
recorded and the next one up) while the database worker runs the scan. When the answer comes
back otherwise (the stop was recorded meanwhile at another station, the database refused the
write), the screen shows what really happened and says so.
"""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select, text, update

from app.bootstrap import StationContext
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import auth
from app.services.picking.session import Step
from app.services.picking.views import StopView
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.store.models import Allocation, StockMovement
from tests.picking_kit import Scene, build, code_for
from tests.ui.conftest import worker_held
from tests.ui.test_pick_workflow import PICKER, pick_scan, scanner_types
from ui.main_window import MainWindow
from ui.models.pick_stops import STATE
from ui.screens.pick import PickScreen

# WORKAROUND: the offscreen platform warns on every top-level show; it means nothing here.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


@pytest.fixture
def scene(ctx: StationContext) -> Scene:
    return build(ctx.engine)


@pytest.fixture
def at_first_tote(qtbot: QtBot, station: MainWindow, ctx: StationContext, scene: Scene) -> StopView:
    """The picker has the first stop's units in hand: the next scan is the slot's tote."""
    with ctx.uow() as uow:
        supervisor = auth.sign_in_badge(uow, "OP-9001")
    req = PickWorkRequest(kind=PickKind.CLUSTER, limits=Limits(4), order_ids=scene.order_ids)
    with ctx.uow(supervisor) as uow:
        number = create_pick_work(uow, req).lists[0].number
    window, pick = station, station.pick
    scanner_types(PICKER.badge)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is pick, timeout=5000)
    pick_scan(qtbot, window, number)
    for n in range(1, 5):
        pick_scan(qtbot, window, f"T-000{n}")
    stop = pick.view.next_stop if pick.view else None
    assert stop is not None
    pick_scan(qtbot, window, stop.bin)
    for _ in range(stop.remaining):
        pick_scan(qtbot, window, code_for(scene, stop.sku, stop.lot, stop.expiry))
    assert pick.step is Step.TOTE, pick.banner.message
    return stop


def tote_for(pick: PickScreen, stop: StopView) -> str:
    """The tote of the stop's slot, as the list on screen has it."""
    assert pick.view is not None
    return pick.view.tote_of(stop.slot) or ""


def state_cell(window: MainWindow, stop: StopView) -> str:
    model = window.pick.model
    return str(model.data(model.index(model.row_of(stop.id), STATE)))


def picked_in_db(ctx: StationContext, stop: StopView) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(select(Allocation.picked).where(Allocation.id == stop.id)) or 0)


def movements(ctx: StationContext) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(StockMovement)) or 0)


def test_a_tote_scan_shows_the_next_stop_before_its_commit_and_the_commit_confirms_it(
    qtbot: QtBot, station: MainWindow, ctx: StationContext, at_first_tote: StopView
) -> None:
    window, pick, stop = station, station.pick, at_first_tote
    tote = tote_for(pick, stop)
    before = len(pick.feedback_ms)
    with worker_held(window) as release:
        scanner_types(tote)
        qtbot.waitUntil(lambda: pick.step is Step.BIN)
        # On screen: the stop recorded, the next stop up, green; in the database: nothing yet.
        assert pick.banner.kind == "good"
        assert pick.banner.message.startswith(f"{stop.remaining} × {stop.sku} in slot")
        assert state_cell(window, stop) == "✓ picked"
        nxt = pick.view.next_stop if pick.view else None
        assert nxt is not None and nxt.id != stop.id
        assert pick.bin_label.text() == nxt.bin
        assert len(pick.feedback_ms) == before  # the worker has not answered
        assert picked_in_db(ctx, stop) == 0
        release.set()
        qtbot.waitUntil(lambda: len(pick.feedback_ms) > before, timeout=5000)
    assert pick.predicted[-1] is True
    assert pick.corrections == 0
    assert picked_in_db(ctx, stop) == stop.remaining
    assert pick.bin_label.text() == nxt.bin


def test_a_stop_recorded_meanwhile_elsewhere_is_corrected_on_screen_and_says_so(
    qtbot: QtBot, station: MainWindow, ctx: StationContext, at_first_tote: StopView
) -> None:
    window, pick, stop = station, station.pick, at_first_tote
    tote = tote_for(pick, stop)
    with ctx.sessions.begin() as s:  # another station's pick of the same stop, synced here
        s.execute(
            update(Allocation)
            .where(Allocation.id == stop.id)
            .values(status="done", picked=stop.qty, tote_code=tote)
        )
    ledger_rows = movements(ctx)
    before = len(pick.feedback_ms)
    with worker_held(window) as release:
        scanner_types(tote)
        qtbot.waitUntil(lambda: pick.step is Step.BIN)
        assert pick.banner.kind == "good"  # what the walk expected
        release.set()
        qtbot.waitUntil(lambda: len(pick.feedback_ms) > before, timeout=5000)
    assert pick.corrections == 1
    assert pick.banner.kind == "bad"
    assert pick.banner.message.startswith("Not recorded after all — The stop at ")
    assert f"put the {stop.remaining} × {stop.sku} back in {stop.bin}." in pick.banner.message
    assert movements(ctx) == ledger_rows  # the bin was not counted down twice
    assert pick.step is Step.BIN  # the walk goes on from what the database holds
    assert state_cell(window, stop) == "✓ picked"


def test_a_write_the_database_refuses_puts_the_stop_back(
    qtbot: QtBot, station: MainWindow, ctx: StationContext, at_first_tote: StopView
) -> None:
    window, pick, stop = station, station.pick, at_first_tote
    tote = tote_for(pick, stop)
    with ctx.engine.begin() as conn:  # the database says no to the next ledger row
        conn.execute(
            text(
                "CREATE TRIGGER refuse_move BEFORE INSERT ON stock_movement "
                "BEGIN SELECT RAISE(ABORT, 'the disk refused the write'); END"
            )
        )
    ledger_rows = movements(ctx)
    before = len(pick.feedback_ms)
    with worker_held(window) as release:
        scanner_types(tote)
        qtbot.waitUntil(lambda: pick.step is Step.BIN)  # shown as recorded
        release.set()
        qtbot.waitUntil(lambda: pick.banner.kind == "bad", timeout=5000)
    assert pick.corrections == 1
    assert pick.banner.message.startswith("Something went wrong — the scan was not counted")
    # The stop is as it was: units in hand, waiting for its tote; nothing in the database.
    assert pick.step is Step.TOTE
    assert pick.bin_label.text() == stop.bin
    assert state_cell(window, stop) != "✓ picked"
    assert picked_in_db(ctx, stop) == 0
    assert movements(ctx) == ledger_rows
    assert len(pick.feedback_ms) == before
    with ctx.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse_move"))
    pick_scan(qtbot, window, tote)  # scanned again, it is recorded
    assert pick.banner.kind == "good", pick.banner.message
    assert picked_in_db(ctx, stop) == stop.remaining
