"""The returns desk's tables: the lines a return expects (with the units scanned so far), the
units on the desk (condition and disposition), the candidate orders of a parcel, and the
report's return rates. Plain models over the frozen views the desk hands back."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from app.services.returns.desk_state import UnitView
from app.services.returns.reports import ProductRate
from app.services.returns.views import Candidate, RmaLineView
from ui.theme import Colors, colors

Index = QModelIndex | QPersistentModelIndex
KEY_ROLE = Qt.ItemDataRole.UserRole + 1


def _tr(text: str) -> str:
    return QCoreApplication.translate("ReturnsModels", text)


def _words(code: str | None) -> str:
    return "" if code is None else code.replace("_", " ")


class _Table(QAbstractTableModel):
    headers: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        """The rows a scan leaves: a row changed is signalled alone and rows added after the
        others (or to an empty table) are inserted, so the view repaints only them and its
        header not at all; anything else is a new list."""
        old = self._rows
        if not rows and not old:
            return
        if len(rows) == len(old):
            self._rows = rows
            for i, (a, b) in enumerate(zip(old, rows, strict=True)):
                if a != b:
                    self.dataChanged.emit(self.index(i, 0), self.index(i, self.columnCount() - 1))
            return
        if len(rows) > len(old) and rows[: len(old)] == old:
            self.beginInsertRows(QModelIndex(), len(old), len(rows) - 1)
            self._rows = rows
            self.endInsertRows()
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return _tr(self.headers[section])
        return None

    def row(self, n: int) -> Any:
        return self._rows[n]

    def cell(self, item: Any, column: int) -> Any:
        raise NotImplementedError

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(item, index.column())
        return self.extra(item, index.column(), role)

    def extra(self, item: Any, column: int, role: int) -> Any:
        return None


class ExpectedModel(_Table):
    """Item, reason, scanned of expected: a line done turns green."""

    headers = ("Item", "Reason", "Scanned")

    def __init__(self, palette: Colors | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        c = palette or colors("light")
        self._done = QBrush(QColor(c.good))

    def cell(self, item: tuple[RmaLineView, int], column: int) -> Any:
        line, scanned = item
        if column == 0:
            return f"{line.sku}  {line.name}"
        if column == 1:
            return _tr(_words(line.reason).capitalize())
        return f"{scanned} / {line.qty}"

    def extra(self, item: tuple[RmaLineView, int], column: int, role: int) -> Any:
        line, scanned = item
        if role == Qt.ItemDataRole.ForegroundRole and column == 2 and scanned >= line.qty:
            return self._done
        return None


class UnitsModel(_Table):
    """One row per unit on the desk: item, serial, condition, what happens to it."""

    headers = ("Item", "Serial", "Condition", "Goes to")

    def cell(self, u: UnitView, column: int) -> Any:
        if column == 0:
            photos = _tr("  · {n} photo(s)").format(n=len(u.photos)) if u.photos else ""
            unexpected = _tr("  (not on the return)") if u.unexpected else ""
            return f"{u.sku}  {u.name}{unexpected}{photos}"
        if column == 1:
            return u.serial or ""
        if column == 2:
            return _tr(_words(u.condition).capitalize()) if u.condition else _tr("Grade it")
        if u.disposition is None:
            return ""
        text = _tr(_words(u.disposition).capitalize())
        if u.bin_code:
            text += f" {u.bin_code}"
        return text + (f" ({u.disposition_by})" if u.disposition_by else "")

    def extra(self, u: UnitView, column: int, role: int) -> Any:
        if role == KEY_ROLE:
            return u.key
        return None


class CandidatesModel(_Table):
    headers = ("Order", "Customer", "Status", "Placed", "Found by")

    def cell(self, c: Candidate, column: int) -> Any:
        if column == 0:
            return c.order_number + (f"  ({c.rma_number})" if c.rma_number else "")
        if column == 1:
            return c.customer
        if column == 2:
            return _tr(_words(c.status).capitalize())
        if column == 3:
            return c.placed_at.strftime("%Y-%m-%d")
        return _tr(c.matched_by)


class RatesModel(_Table):
    headers = ("SKU", "Item", "Shipped", "Returned", "Rate", "Reasons")

    def cell(self, p: ProductRate, column: int) -> Any:
        if column == 0:
            return p.sku
        if column == 1:
            return p.name
        if column == 2:
            return p.shipped
        if column == 3:
            return p.returned
        if column == 4:
            return f"{p.rate_bp / 100:.1f} %"
        return ", ".join(f"{_words(k)} {n}" for k, n in p.by_reason.items())
