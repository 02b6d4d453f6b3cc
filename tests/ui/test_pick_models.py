"""The picker screen's table model, checked by Qt's model tester and by what a picker reads."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester

from app.services.picking.views import PickListView, StopView
from ui.models.pick_stops import BIN, ITEM, STATE, PickStopsModel


def stop(seq: int, bin_code: str, sku: str, lot: str | None = None) -> StopView:
    return StopView(
        id=uuid.uuid4(),
        seq=seq,
        order_id=uuid.uuid4(),
        order_number=f"SO-{seq}",
        line_id=uuid.uuid4(),
        product_id=uuid.uuid4(),
        sku=sku,
        name=f"Item {sku}",
        gtin="",
        bin_id=uuid.uuid4(),
        bin=bin_code,
        zone="A",
        pick_seq=seq,
        lot=lot,
        expiry=None,
        qty=2,
        picked=0,
        short=0,
        slot=seq,
        status="open",
        tote=None,
        needs_lot=lot is not None,
        needs_serial=False,
        needs_expiry=False,
    )


def pick_list(stops: tuple[StopView, ...]) -> PickListView:
    return PickListView(
        id=uuid.uuid4(),
        number="PL-0000000001",
        kind="cluster",
        status="in_progress",
        wave="",
        zone="",
        picker_id=None,
        picker_name="",
        totes={},
        notes="",
        created_at=datetime.now(UTC),
        version=1,
        warehouse_id=uuid.uuid4(),
        stops=stops,
    )


def test_the_stops_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = PickStopsModel()
    stops = (stop(1, "A-01-1", "SKU-1"), stop(2, "A-02-1", "SKU-2", lot="L1"))
    model.set_list(pick_list(stops))
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.data(model.index(0, BIN)) == "A-01-1"
    assert model.data(model.index(1, ITEM)) == "SKU-2 · lot L1"
    assert model.data(model.index(0, STATE)) == "next"


def test_a_picked_and_a_short_stop_say_so(qtmodeltester: ModelTester) -> None:
    model = PickStopsModel()
    first, second = stop(1, "A-01-1", "SKU-1"), stop(2, "A-02-1", "SKU-2")
    view = pick_list((first, second))
    model.set_list(view)
    changed: list[int] = []
    laid_out: list[bool] = []
    model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))
    model.layoutChanged.connect(lambda *_a: laid_out.append(True))
    model.modelReset.connect(lambda: laid_out.append(True))
    assert model.data(model.index(0, BIN), Qt.ItemDataRole.FontRole) is not None  # next: bold
    done = replace(first, picked=2, status="done")
    model.set_list(replace(view, stops=(done, second)))
    assert model.data(model.index(0, BIN), Qt.ItemDataRole.FontRole) is None
    assert model.data(model.index(1, BIN), Qt.ItemDataRole.FontRole) is not None
    short = replace(second, picked=1, short=1, status="done")
    model.set_list(replace(view, stops=(done, short)))
    qtmodeltester.check(model)
    assert model.data(model.index(0, STATE)) == "✓ picked"
    assert model.data(model.index(1, STATE)) == "✗ 1 short"
    assert sorted(set(changed)) == [0, 1]  # only the rows that changed
    assert changed.count(0) == 5, "one signal per cell of the row, not per role"
    assert laid_out == [], "a changed row neither resets nor lays out the table"
