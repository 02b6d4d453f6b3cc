"""The stops of the open pick list, in walk order, for the picker screen's table.

Only a recorded stop changes the list (bin and item scans are held by the session), so
:meth:`PickStopsModel.set_list` compares the new list with the one shown and replaces just the
cells of the rows that changed; a new list, or stops added or moved (a re-allocation, a skip),
resets it.

It is a :class:`QStandardItemModel`: the table asks each cell for about ten roles whenever it
paints it, and answered in C++ that costs a fraction of answering in Python (a whole viewport of
stops repaints each time the next stop scrolls into sight, on the tote scan the picker waits
for). The rows' numbers are the model's own vertical header, also answered in C++.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel

from app.services.picking.views import PickListView, StopView
from ui.models import format_int
from ui.theme import Colors, colors

BIN, ITEM, QTY, SLOT, STATE = range(5)
_HEADERS = ("Bin", "Item", "Qty", "Slot", "State")
STOP_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def _tr(text: str) -> str:
    return QCoreApplication.translate("PickStopsModel", text)


class PickStopsModel(QStandardItemModel):
    """Bin, item, quantity, tote slot and state of every stop; the next one in bold."""

    def __init__(self, palette: Colors | None = None, parent: Any = None) -> None:
        super().__init__(0, len(_HEADERS), parent)
        self.setHorizontalHeaderLabels([_tr(h) for h in _HEADERS])
        self._stops: list[StopView] = []
        self._next: uuid.UUID | None = None
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
            # One reset for the views (not a signal per row removed and added).
            self.beginResetModel()
            blocked = self.blockSignals(True)
            try:
                self._stops, self._next = new, nxt
                self.setRowCount(0)
                for stop in new:
                    self.appendRow(self._row_items(stop))
            finally:
                self.blockSignals(blocked)
            self.endResetModel()
            return
        old, old_next = self._stops, self._next
        self._stops, self._next = new, nxt
        for row, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b or b.id in (old_next, nxt):
                self._refill(row, self._row_cells(b))

    def _refill(self, row: int, cells: list[dict[int, Any]]) -> None:
        """The row's cells take their new data in place, with one ``dataChanged`` per cell:
        ``setItem`` would signal a layout change for each (the table laid out and repainted
        whole), and a multi-cell range repaints the whole viewport too."""
        for col, roles in enumerate(cells):
            cell = self.index(row, col)
            blocked = self.blockSignals(True)
            try:
                self.clearItemData(cell)
                self.setItemData(cell, roles)
            finally:
                self.blockSignals(blocked)
            self.dataChanged.emit(cell, cell)

    def stop_at(self, row: int) -> StopView:
        return self._stops[row]

    def row_of(self, stop_id: uuid.UUID) -> int:
        return next((i for i, s in enumerate(self._stops) if s.id == stop_id), -1)

    def _row_items(self, stop: StopView) -> list[QStandardItem]:
        items = []
        for roles in self._row_cells(stop):
            item = QStandardItem()
            item.setEditable(False)
            for role, value in roles.items():
                item.setData(value, role)
            items.append(item)
        return items

    def _row_cells(self, stop: StopView) -> list[dict[int, Any]]:
        """Each cell's data by role."""
        cells = []
        tip = f"{stop.sku} — {stop.name} — {stop.order_number}"
        for col in range(len(_HEADERS)):
            cell: dict[int, Any] = {
                Qt.ItemDataRole.DisplayRole: self._display(stop, col),
                Qt.ItemDataRole.ToolTipRole: tip,
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
