"""The frame the sync screens share: a title with a way back, the feedback banner, and a
read-only table of rows whose long text wraps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.feedback import Banner
from ui.models.search_results import RowsModel


class ListScreen(QWidget):
    """Subclasses add their buttons under the table and implement :meth:`_selected`."""

    def __init__(self, title: str, model: RowsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        model.setParent(self)
        heading = QLabel(title, self)
        heading.setObjectName("instruction")
        self.back_button = self.button(self.tr("Back to packing (Esc)"), None)
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        top.addWidget(self.back_button)
        self.banner = Banner(self)
        self.view = QTableView(self)
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.selectionModel().selectionChanged.connect(self._selected)
        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addWidget(self.view, 1)
        self.escape = QShortcut(QKeySequence("Esc"), self)
        self.escape.setAutoRepeat(False)

    def stretch_columns(self, *columns: int) -> None:
        """Long text columns share the width left over, and wrap."""
        header = self.view.horizontalHeader()
        for col in columns:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)

    def button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # scans keep their field
        if slot is not None:
            button.clicked.connect(slot)
        return button

    def selected_row(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def reselect(self, ids: Sequence[uuid.UUID], chosen: uuid.UUID | None) -> None:
        """After a refresh, keep the same row chosen (by id) if it is still there."""
        if chosen is not None and chosen in ids:
            self.view.selectRow(list(ids).index(chosen))

    def _selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        raise NotImplementedError
