"""Parts of the pack screen that show the open order: its header and its lines.

A scan changes only counts: the header's line ("3 of 5 units · customer · ...") repaints in
place (no new layout), and the table repaints the cells that changed; the order number and
state are touched only when another order opens or the state changes.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QItemSelectionModel, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QWidget,
)

from app.services.views import OrderView
from ui.feedback import LiveText
from ui.models import format_datetime, format_int, status_words
from ui.models.order_lines import NAME, OrderLinesModel


class LinesTable(QTableView):
    """The order's lines in large type; the line just scanned is selected."""

    def __init__(self, model: OrderLinesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines = model
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        rows = self.verticalHeader()
        rows.setDefaultSectionSize(50)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        head = self.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        head.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        head.setMinimumSectionSize(80)
        # The selected row (the line just scanned) is highlighted in the table only: headers
        # that shared its selection would repaint whole (every column of a row is selected)
        # each time the selection moves to another line.
        head.setHighlightSections(False)
        rows.setHighlightSections(False)
        for header in (head, rows):
            header.setSelectionModel(QItemSelectionModel(model, header))
        # Sized once per order, not per scan (ResizeToContents re-measures on every change).
        model.modelReset.connect(self._size_columns)

    def _size_columns(self) -> None:
        head = self.horizontalHeader()
        # Sized with the header's signals held, and laid out at once: otherwise each resized
        # column starts the table's own timer, which repaints the whole table again after the
        # order's first paint (inside the first item scan, when it comes at once). The one
        # repaint below covers it all.
        with QSignalBlocker(head):
            for col in range(1, self.lines.columnCount()):
                self.resizeColumnToContents(col)
                width = self.columnWidth(col)
                # The product name (stretching) gets what the short columns leave.
                self.setColumnWidth(col, max(width + 12, 96))
            self.executeDelayedItemsLayout()  # the headers' geometry for these lines
            head.resizeSections()  # the product name's width, in that geometry
            self.updateGeometries()  # the scroll bars for those widths
        self.viewport().update()

    def highlight(self, line_id: uuid.UUID) -> None:
        row = self.lines.row_of(line_id)
        if row < 0:
            return
        index = self.lines.index(row, 0)
        self.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.scrollTo(index)


class OrderHeader(QWidget):
    """The order number, its state, and one line about the order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = QLabel(self)
        self.number.setObjectName("orderNumber")
        self.status_chip = QLabel(self)
        self.status_chip.setObjectName("statusChip")
        self.meta = LiveText(self)
        self.meta.setObjectName("orderMeta")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.number)
        row.addWidget(self.status_chip)
        row.addSpacing(12)
        row.addWidget(self.meta, 1)
        self._head: tuple[object, ...] | None = ()  # what number and state show now
        self._placed = ""

    def show_order(self, order: OrderView | None) -> None:
        head = None if order is None else (order.id, order.status)
        if head != self._head:
            self._head = head
            self._show_head(order)
        if order is None:
            return
        meta = self.tr("{packed} of {units} units · {customer} · {channel} · placed {placed}")
        meta = meta.format(
            customer=order.customer,
            channel=order.channel,
            placed=self._placed,
            packed=format_int(order.units_packed),
            units=format_int(order.units_ordered),
        )
        if meta != self.meta.text():
            self.meta.setText(meta)
            self.meta.setToolTip(meta)

    def _show_head(self, order: OrderView | None) -> None:
        chip = self.status_chip
        if order is None:
            self.number.setText(self.tr("No order open"))
            self.meta.setText("")
            self.meta.setToolTip("")
            chip.setProperty("state", "")
            chip.hide()
            return
        self._placed = format_datetime(order.placed_at)
        self.number.setText(order.number)
        if chip.property("state") != order.status:
            chip.setText(status_words(order.status))
            chip.setProperty("state", order.status)
            chip.style().unpolish(chip)
            chip.style().polish(chip)
        chip.show()
