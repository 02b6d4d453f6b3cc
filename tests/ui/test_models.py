"""The item models, checked with qtmodeltester, and the lean update paths of the lines model
and the returns desk's tables."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.domain.returns import Condition, Reason
from app.services.returns.desk_state import UnitView
from app.services.views import LineView, OrderSummary, OrderView, TimelineEntry
from ui.models.order_lines import LINE_ID_ROLE, REMAINING, SCANNED, OrderLinesModel
from ui.models.returns import KEY_ROLE, UnitsModel
from ui.models.search_results import SearchResultsModel, TimelineModel

NOW = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)


def line(no: int, ordered: int, packed: int = 0, missing: int = 0) -> LineView:
    return LineView(
        id=uuid.uuid4(),
        line_no=no,
        product_id=uuid.uuid4(),
        sku=f"NW-{no:07d}",
        gtin=f"0406123000000{no}",
        name=f"Product {no}",
        bin=f"A-0{no}-1",
        ordered=ordered,
        packed=packed,
        missing=missing,
        needs_lot=False,
        needs_serial=False,
    )


def order(*lines: LineView) -> OrderView:
    return OrderView(
        id=uuid.uuid4(),
        number="SO-100123",
        status="packing",
        customer="Anna Müller",
        email="anna@example.com",
        channel="Webshop",
        placed_at=NOW,
        hold_reason="",
        lines=lines,
        packages=(),
    )


def test_lines_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = OrderLinesModel()
    qtmodeltester.check(model)
    model.set_order(order(line(1, 2), line(2, 1, packed=1), line(3, 3, packed=1, missing=2)))
    qtmodeltester.check(model)
    model.set_order(None)
    qtmodeltester.check(model)


def test_a_scan_changes_one_row_without_a_reset(qtbot: QtBot) -> None:
    model = OrderLinesModel()
    first = order(line(1, 2), line(2, 1))
    model.set_order(first)
    after = replace(first, lines=(first.lines[0], replace(first.lines[1], packed=1)))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(model.dataChanged) as changed:
        model.set_order(after)
    top, bottom = changed.args[:2]
    assert (top.row(), bottom.row()) == (1, 1)
    assert not resets
    assert model.index(1, REMAINING).data() == "✓ done"
    assert model.index(1, REMAINING).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(0, REMAINING).data() == "2"
    assert model.index(1, 0).data(LINE_ID_ROLE) == str(first.lines[1].id)


def test_missing_units_are_shown_beside_the_scanned_ones() -> None:
    model = OrderLinesModel()
    model.set_order(order(line(1, 3, packed=1, missing=2)))
    assert model.index(0, SCANNED).data() == "1 (2 missing)"


@pytest.mark.parametrize("rows", [0, 1, 3])
def test_search_models_pass_the_model_tester(qtmodeltester: ModelTester, rows: int) -> None:
    results = SearchResultsModel()
    results.set_results(
        [
            OrderSummary(
                id=uuid.uuid4(),
                number=f"SO-10000{i}",
                status="on_hold",
                customer="Anna",
                email="a@example.com",
                placed_at=NOW,
                lines=i + 1,
            )
            for i in range(rows)
        ]
    )
    qtmodeltester.check(results)
    if rows:
        assert results.index(0, 3).data() == "On hold"
    timeline = TimelineModel()
    timeline.set_entries(
        [
            TimelineEntry(at=NOW, what="item packed", who="Pat", detail="sku NW-1")
            for _ in range(rows)
        ]
    )
    qtmodeltester.check(timeline)


def unit(key: int, condition: Condition | None = None) -> UnitView:
    return UnitView(
        key,
        f"NW-{key:07d}",
        f"Product {key}",
        None,
        Reason.CHANGED_MIND,
        condition,
        None,
        False,
        None,
    )


def test_a_returns_scan_inserts_its_unit_and_a_grade_changes_one_row(
    qtbot: QtBot, qtmodeltester: ModelTester
) -> None:
    model = UnitsModel()
    qtmodeltester.check(model)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    # The first unit of a parcel fills the empty table: inserted, so the view keeps its header
    # (a reset laid out and repainted the header and the whole table on the first item).
    with qtbot.waitSignal(model.rowsInserted) as first:
        model.set_rows([unit(1)])
    assert first.args[1:] == [0, 0]
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.set_rows([unit(1), unit(2)])
    assert inserted.args[1:] == [1, 1]
    with qtbot.waitSignal(model.dataChanged) as changed:
        model.set_rows([unit(1), unit(2, Condition.NEW_SEALED)])
    assert (changed.args[0].row(), changed.args[1].row()) == (1, 1)
    model.set_rows([unit(1), unit(2, Condition.NEW_SEALED)])  # nothing changed: no signal
    assert not resets
    qtmodeltester.check(model)
    model.set_rows([unit(3)])  # another parcel's units: a new list
    assert resets == [True]
    assert model.data(model.index(0, 0), KEY_ROLE) == 3
    model.set_rows([])
    model.set_rows([])
    assert resets == [True, True]
