"""The lines of the order at the bench, for the pack screen's table.

A scan changes one line: :meth:`OrderLinesModel.set_order` compares the new
:class:`~app.services.views.OrderView` with the one shown and emits ``dataChanged`` for the
changed rows only, so the scan path never resets the model or re-queries anything.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from app.services.views import LineView, OrderView
from ui.models import format_int
from ui.theme import Colors, colors

Index = QModelIndex | QPersistentModelIndex
NAME, SKU, BIN, ORDERED, SCANNED, REMAINING = range(6)
_HEADERS = ("Product", "SKU", "Bin", "Ordered", "Scanned", "Remaining")
_COUNT_COLUMNS = (SCANNED, REMAINING)  # what a scan changes in a line that stays open
LINE_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def _tr(text: str) -> str:
    return QCoreApplication.translate("OrderLinesModel", text)


class OrderLinesModel(QAbstractTableModel):
    """Product, SKU, bin, ordered, scanned, remaining; complete lines shown as done."""

    def __init__(self, palette: Colors | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._lines: list[LineView] = []
        # Per row, per column: {role: value}. Built when a line changes, so data() — called
        # for every cell and role on each paint — is one dictionary look-up.
        self._cells: list[list[dict[int, Any]]] = []
        c = palette or colors("light")
        self._done_bg = QBrush(QColor(c.done_bg))
        self._done_fg = QBrush(QColor(c.done_text))
        self._bold = QFont()
        self._bold.setBold(True)

    # --- updating -------------------------------------------------------------------------

    def set_order(self, order: OrderView | None) -> None:
        new = list(order.lines) if order else []
        old = self._lines
        if [ln.id for ln in new] != [ln.id for ln in old]:
            self.beginResetModel()
            self._lines = new
            self._cells = [self._row_cells(ln) for ln in new]
            self.endResetModel()
            return
        self._lines = new
        for row, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                self._cells[row] = self._row_cells(b)
        # One signal per changed cell: a multi-cell range makes QTableView repaint its whole
        # viewport (every cell, every role through data()), which is most of a scan's paint.
        for row, (a, b) in enumerate(zip(old, new, strict=True)):
            if a == b:
                continue
            # A line that completes (or reopens) changes colour in every cell.
            columns = range(len(_HEADERS)) if a.complete != b.complete else _COUNT_COLUMNS
            for col in columns:
                cell = self.index(row, col)
                self.dataChanged.emit(cell, cell)

    def line_at(self, row: int) -> LineView:
        return self._lines[row]

    def row_of(self, line_id: uuid.UUID) -> int:
        return next((i for i, ln in enumerate(self._lines) if ln.id == line_id), -1)

    # --- Qt model interface -----------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal and 0 <= section < len(_HEADERS):
                return _tr(_HEADERS[section])
            if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._lines):
                return format_int(self._lines[section].line_no)
        if role == Qt.ItemDataRole.TextAlignmentRole and orientation == Qt.Orientation.Horizontal:
            if section >= ORDERED:
                return int(Qt.AlignmentFlag.AlignCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not 0 <= row < len(self._cells):
            return None
        return self._cells[row][index.column()].get(role)

    def _row_cells(self, line: LineView) -> list[dict[int, Any]]:
        tooltip = f"{line.name} — {line.sku} — GTIN {line.gtin}" if line.gtin else line.name
        cells = []
        for col in range(len(_HEADERS)):
            cell: dict[int, Any] = {
                Qt.ItemDataRole.DisplayRole: self._display(line, col),
                Qt.ItemDataRole.TextAlignmentRole: int(Qt.AlignmentFlag.AlignCenter)
                if col >= ORDERED
                else int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                Qt.ItemDataRole.ToolTipRole: tooltip,
                LINE_ID_ROLE: str(line.id),
            }
            if line.complete:
                cell[Qt.ItemDataRole.BackgroundRole] = self._done_bg
                cell[Qt.ItemDataRole.ForegroundRole] = self._done_fg
            if col == REMAINING:
                cell[Qt.ItemDataRole.FontRole] = self._bold
            cells.append(cell)
        return cells

    def _display(self, line: LineView, col: int) -> str:
        if col == NAME:
            return line.name
        if col == SKU:
            return line.sku
        if col == BIN:
            return line.bin
        if col == ORDERED:
            return format_int(line.ordered)
        if col == SCANNED:
            if line.missing:
                return _tr("{packed} ({missing} missing)").format(
                    packed=format_int(line.packed), missing=format_int(line.missing)
                )
            return format_int(line.packed)
        if line.complete:
            return _tr("✓ done")
        return format_int(line.remaining)
