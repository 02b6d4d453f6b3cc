"""The themes' tables: their colours come from a palette, and look as the theme says."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTableView
from pytestqt.qtbot import QtBot

from ui.theme import THEMES, apply_theme, colors, style_sheet

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


@pytest.fixture
def themed(qtbot: QtBot):  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    yield lambda name: apply_theme(app, name)
    apply_theme(app, "light")  # as the other tests have it


@pytest.mark.parametrize("name", THEMES)
def test_a_table_shows_the_themes_cells_alternate_rows_grid_and_selection(
    qtbot: QtBot,
    themed,
    name: str,  # type: ignore[no-untyped-def]
) -> None:
    themed(name)
    model = QStandardItemModel(4, 2)
    for row in range(4):
        for col in range(2):
            model.setItem(row, col, QStandardItem(""))
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    table.setAlternatingRowColors(True)
    table.resize(400, 300)
    table.show()
    qtbot.waitExposed(table)
    table.selectRow(2)
    image = table.viewport().grab().toImage()
    x = table.columnViewportPosition(0) + table.columnWidth(0) // 2

    def middle(row: int) -> str:
        return QColor(image.pixel(x, table.rowViewportPosition(row) + 8)).name()

    c = colors(name)
    assert middle(0) == c.base
    assert middle(1) == c.alt_base
    assert middle(2) == c.selected
    grid_y = table.rowViewportPosition(0) + table.rowHeight(0) - 1
    assert QColor(image.pixel(x, grid_y)).name() == c.grid


@pytest.mark.parametrize("name", THEMES)
def test_the_style_sheet_gives_tables_their_type_and_grid_only(name: str) -> None:
    # A box rule on QTableView (background, border, selection colours) paints every cell
    # through the style sheet's slow path, about ten times the work on every scan.
    rules = re.findall(r"(?m)^QTableView\s*\{([^}]*)\}", style_sheet(name))
    assert rules, "the tables' type size is in the style sheet"
    for body in rules:
        properties = {p.split(":")[0].strip() for p in body.split(";") if p.strip()}
        assert properties <= {"font-size", "font-weight", "gridline-color"}, properties
    assert f"gridline-color: {colors(name).grid}" in style_sheet(name)


@pytest.mark.parametrize("name", THEMES)
def test_a_disabled_danger_button_looks_disabled(qtbot: QtBot, themed, name: str) -> None:  # type: ignore[no-untyped-def]
    """ "Report missing item" is off while an order is on hold: it must not keep its red words
    and border, or it looks as if it could be pressed."""
    from PySide6.QtWidgets import QPushButton

    themed(name)
    danger = QPushButton("Report missing item")
    danger.setObjectName("danger")
    plain = QPushButton("Report missing item")
    for button in (danger, plain):
        qtbot.addWidget(button)
        button.resize(260, 48)
        button.show()
        qtbot.waitExposed(button)

    def colours(button: QPushButton) -> set[str]:
        image = button.grab().toImage()
        return {
            QColor(image.pixel(x, y)).name()
            for x in range(image.width())
            for y in range(image.height())
        }

    red = {"#b3261e", "#8a1c15", "#ff8a80"} & colours(danger)
    assert red, "the enabled danger button shows no red"
    danger.setEnabled(False)
    plain.setEnabled(False)
    assert not ({"#b3261e", "#8a1c15", "#ff8a80"} & colours(danger))
    assert colours(danger) == colours(plain)
