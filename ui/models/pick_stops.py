"""The stops of the open pick list, in walk order, for the picker screen's table.

Only a recorded stop changes the list (bin and item scans are held by the session), so
:meth:`PickStopsModel.set_list` compares the new list with the one shown and signals just the
rows that changed; a new list, or stops added or moved (a re-allocation, a skip), resets it.
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

from app.services.picking.views import PickListView, StopView
from ui.models import format_int
from ui.theme import Colors, colors

Index = QModelIndex | QPersistentModelIndex
BIN, ITEM, QTY, SLOT, STATE = range(5)
_HEADERS = ("Bin", "Item", "Qty", "Slot", "State")
STOP_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def _tr(text: str) -> str:
    return QCoreApplication.translate("PickStopsModel", text)


class PickStopsModel(QAbstractTableModel):
    """Bin, item, quantity, tote slot and state of every stop; the next one in bold."""

    def __init__(self, palette: Colors | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._stops: list[StopView] = []
        self._next: uuid.UUID | None = None
        self._cells: list[list[dict[int, Any]]] = []
        c = palette or colors("light")
        self._done_bg = QBrush(QColor(c.done_bg))
        self._done_fg = QBrush(QColor(c.done_text))
        self._short_fg = QBrush(QColor(c.bad))
        self._bold = QFont()
        self._bold.setBold(True)

    def set_list(self, view: PickListView | None) -> None:
        new = list(view.stops) if view else []
        nxt = view.next_stop.id if view and view.next_stop else None
        if [s.id for s in new] != [s.id for s in self._stops]:
            self.beginResetModel()
            self._stops, self._next = new, nxt
            self._cells = [self._row_cells(s) for s in new]
            self.endResetModel()
            return
        old, old_next = self._stops, self._next
        self._stops, self._next = new, nxt
        for row, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b or b.id in (old_next, nxt):
                self._cells[row] = self._row_cells(b)
                # One signal per cell: a multi-cell range makes QTableView repaint its whole
                # viewport.
                for col in range(len(_HEADERS)):
                    cell = self.index(row, col)
                    self.dataChanged.emit(cell, cell)

    def stop_at(self, row: int) -> StopView:
        return self._stops[row]

    def row_of(self, stop_id: uuid.UUID) -> int:
        return next((i for i, s in enumerate(self._stops) if s.id == stop_id), -1)

    # --- Qt model interface -----------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._stops)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(_HEADERS):
            return _tr(_HEADERS[section])
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._stops):
            return format_int(section + 1)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not 0 <= row < len(self._cells):
            return None
        return self._cells[row][index.column()].get(role)

    def _row_cells(self, stop: StopView) -> list[dict[int, Any]]:
        cells = []
        for col in range(len(_HEADERS)):
            cell: dict[int, Any] = {
                Qt.ItemDataRole.DisplayRole: self._display(stop, col),
                Qt.ItemDataRole.ToolTipRole: f"{stop.sku} — {stop.name} — {stop.order_number}",
                STOP_ID_ROLE: str(stop.id),
            }
            if col in (QTY, SLOT):
                cell[Qt.ItemDataRole.TextAlignmentRole] = int(Qt.AlignmentFlag.AlignCenter)
            if not stop.open:
                cell[Qt.ItemDataRole.BackgroundRole] = self._done_bg
                cell[Qt.ItemDataRole.ForegroundRole] = (
                    self._short_fg if stop.short else self._done_fg
                )
            if stop.id == self._next:
                cell[Qt.ItemDataRole.FontRole] = self._bold
            cells.append(cell)
        return cells

    def _display(self, stop: StopView, col: int) -> str:
        if col == BIN:
            return stop.bin
        if col == ITEM:
            lot = _tr(" · lot {lot}").format(lot=stop.lot) if stop.lot else ""
            return f"{stop.sku}{lot}"
        if col == QTY:
            return format_int(stop.qty)
        if col == SLOT:
            return format_int(stop.slot)
        if stop.open:
            return _tr("next") if stop.id == self._next else ""
        if stop.short:
            return _tr("✗ {n} short").format(n=format_int(stop.short))
        return _tr("✓ picked")
