"""Order search results and an order's timeline, for the search screen."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from app.services.views import OrderSummary, TimelineEntry
from ui.models import format_datetime, format_int, status_words

Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """A read-only table over a list of frozen rows; subclasses say how a cell reads."""

    context = "SearchResultsModel"
    headers: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def _set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.headers)
        ):
            return QCoreApplication.translate(self.context, self.headers[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._cell(self._rows[index.row()], index.column())
        return None

    def _cell(self, row: Any, col: int) -> str:
        raise NotImplementedError


class SearchResultsModel(RowsModel):
    """Orders found by number, customer name or e-mail; newest first."""

    headers = ("Order", "Customer", "E-mail", "Status", "Placed", "Lines")

    def set_results(self, rows: Sequence[OrderSummary]) -> None:
        self._set_rows(rows)

    def order_id(self, row: int) -> uuid.UUID:
        summary: OrderSummary = self._rows[row]
        return summary.id

    def summary(self, row: int) -> OrderSummary:
        result: OrderSummary = self._rows[row]
        return result

    def _cell(self, row: OrderSummary, col: int) -> str:
        return (
            row.number,
            row.customer,
            row.email,
            status_words(row.status),
            format_datetime(row.placed_at),
            format_int(row.lines),
        )[col]


class TimelineModel(RowsModel):
    """Every scan and event of one order, oldest first."""

    context = "TimelineModel"
    headers = ("When", "What", "Who", "Details")

    def set_entries(self, rows: Sequence[TimelineEntry]) -> None:
        self._set_rows(rows)

    def entry(self, row: int) -> TimelineEntry:
        entry: TimelineEntry = self._rows[row]
        return entry

    def films(self) -> list[str]:
        """The films of the packing among the entries, oldest first."""
        return [e.video for e in self._rows if e.video]

    def _cell(self, row: TimelineEntry, col: int) -> str:
        return (format_datetime(row.at), row.what, row.who, row.detail)[col]
