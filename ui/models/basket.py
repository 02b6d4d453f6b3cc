"""The basket on the counter screen: one row per line (item, quantity, price, discount, amount),
voided lines struck through. A scan changes one row or adds one: only those rows are signalled."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from app.services.counter.views import Basket, BasketLine
from ui.theme import Colors, colors

Index = QModelIndex | QPersistentModelIndex
ITEM, QTY, PRICE, DISCOUNT, AMOUNT = range(5)
_HEADERS = ("Item", "Qty", "Price", "Discount", "Amount")
LINE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
_DIGITS = {"JPY": 0, "KRW": 0, "ISK": 0}


def _tr(text: str) -> str:
    return QCoreApplication.translate("BasketModel", text)


def format_money(minor: int, currency: str = "EUR") -> str:
    """An amount in the station's locale with its currency code: "€12.90" / "12,90 €"."""
    digits = _DIGITS.get(currency, 2)
    locale = QLocale()
    symbol = {"EUR": "€", "GBP": "£", "USD": "$"}.get(currency, currency + " ")
    # Some locales write a negative amount in brackets; at the till a minus sign is plainer.
    text = locale.toCurrencyString(abs(minor) / 10**digits, symbol, digits)
    return f"-{text}" if minor < 0 else text


def format_qty(line: BasketLine) -> str:
    if line.grams is not None:
        return _tr("{kg} kg").format(kg=QLocale().toString(line.grams / 1000, "f", 3))
    return QLocale().toString(line.qty)


class BasketModel(QAbstractTableModel):
    """Item, Qty, Price, Discount, Amount for each line of the basket shown."""

    def __init__(self, palette: Colors | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._lines: list[BasketLine] = []
        self._currency = "EUR"
        c = palette or colors("light")
        self._voided = QBrush(QColor(c.muted))
        self._struck = QFont()
        self._struck.setStrikeOut(True)
        self._bold = QFont()
        self._bold.setBold(True)

    def set_basket(self, basket: Basket | None) -> None:
        new = list(basket.lines) if basket else []
        self._currency = basket.currency if basket else self._currency
        old = self._lines
        if [x.id for x in new[: len(old)]] != [x.id for x in old] or len(new) < len(old):
            self.beginResetModel()
            self._lines = new
            self.endResetModel()
            return
        changed = [i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b]
        if len(new) > len(old):
            self.beginInsertRows(QModelIndex(), len(old), len(new) - 1)
            self._lines = new
            self.endInsertRows()
        else:
            self._lines = new
        for row in changed:
            self.dataChanged.emit(self.index(row, 0), self.index(row, AMOUNT))

    def line_at(self, row: int) -> BasketLine | None:
        return self._lines[row] if 0 <= row < len(self._lines) else None

    def row_of(self, line_id: uuid.UUID) -> int:
        return next((i for i, x in enumerate(self._lines) if x.id == line_id), -1)

    # --- Qt ---------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _tr(_HEADERS[section])
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_align(section))
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(line, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_align(col))
        if role == Qt.ItemDataRole.FontRole:
            if line.voided:
                return self._struck
            return self._bold if col == AMOUNT else None
        if role == Qt.ItemDataRole.ForegroundRole and line.voided:
            return self._voided
        if role == Qt.ItemDataRole.ToolTipRole and col == ITEM:
            return f"{line.name} · {line.sku}"
        if role == LINE_ID_ROLE:
            return line.id
        return None

    def _text(self, line: BasketLine, col: int) -> str:
        money = self._money
        if col == ITEM:
            return _tr("{name} — voided").format(name=line.name) if line.voided else line.name
        if col == QTY:
            return format_qty(line)
        if col == PRICE:
            if line.grams is not None:
                return _tr("{price}/kg").format(price=money(line.unit_price_minor))
            return money(line.unit_price_minor)
        if col == DISCOUNT:
            return money(-line.discount_minor) if line.discount_minor and not line.voided else ""
        if col == AMOUNT:
            return "" if line.voided else money(line.amount_minor)
        return ""

    def _money(self, minor: int) -> str:
        return format_money(minor, self._currency)


def _align(col: int) -> Qt.AlignmentFlag:
    if col == ITEM:
        return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
