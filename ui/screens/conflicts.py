"""The sync conflicts list: every operation of this station the central database refused,
with its reason and what to do. The station already shows central's state for each; a person
reads them, does what they say and marks them seen. Nothing is dropped without a person."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelection, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.services import conflicts
from app.services.conflicts import ConflictView
from ui import messages
from ui.models.sync_lists import ConflictsModel
from ui.ops import DbOp, DbWorker
from ui.screens.list_screen import ListScreen

UowFactory = Callable[[], Any]
REASON, ADVICE = 2, 3


class ConflictsScreen(ListScreen):
    """Signals:
    back_requested(): the person wants the pack screen again.
    acknowledged(): conflicts were marked seen (the status bar's count changes).
    """

    back_requested = Signal()
    acknowledged = Signal()

    def __init__(self, uow: UowFactory, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Sync conflicts"), ConflictsModel(), parent)
        self._uow = uow
        self._worker = worker
        self.model: ConflictsModel
        self.back_button.clicked.connect(self.back_requested)
        self.escape.activated.connect(self.back_requested)
        self.show_info()
        self.stretch_columns(REASON, ADVICE)
        self.seen_button = self.button(self.tr("Mark as seen"), self.acknowledge_selected)
        self.seen_button.setObjectName("primary")
        self.all_button = self.button(self.tr("Mark all as seen"), self.acknowledge_all)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.all_button)
        bottom.addWidget(self.seen_button)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.addLayout(bottom)
        self._selected(QItemSelection(), QItemSelection())

    def show_info(self) -> None:
        self.banner.show_message(
            "info",
            self.tr(
                "Central refused these. The station shows central's state for each — "
                "do what the last column says, then mark it seen."
            ),
        )

    def selected(self) -> ConflictView | None:
        row = self.selected_row()
        return None if row is None else self.model.conflict(row)

    def _selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        chosen = self.selected()
        self.seen_button.setEnabled(chosen is not None and chosen.acknowledged_at is None)
        self.all_button.setEnabled(bool(self.model.unseen()))

    def refresh(self) -> None:
        uow = self._uow

        def run() -> list[ConflictView]:
            with uow() as u:
                return conflicts.list_conflicts(u)

        DbOp(self._worker, run).success(self._show).failure(self._failed).run()

    def _show(self, rows: list[ConflictView]) -> None:
        chosen = self.selected()
        self.model.set_conflicts(rows)
        self.reselect([c.op_id for c in rows], chosen.op_id if chosen else None)
        if not rows:
            self.banner.show_message("good", self.tr("No conflicts: central took everything."))
        self._selected(QItemSelection(), QItemSelection())

    def acknowledge_selected(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self._acknowledge([chosen.op_id])

    def acknowledge_all(self) -> None:
        self._acknowledge([c.op_id for c in self.model.unseen()])

    def _acknowledge(self, ids: list[uuid.UUID]) -> None:
        uow = self._uow

        def run() -> int:
            with uow() as u:
                return conflicts.acknowledge(u, ids)

        def done(n: int) -> None:
            self.banner.show_message("good", self.tr("{n} marked as seen.").format(n=n))
            self.acknowledged.emit()
            self.refresh()

        DbOp(self._worker, run).success(done).failure(self._failed).run()

    def _failed(self, error: BaseException) -> None:
        self.banner.show_message("bad", messages.describe(error, action="action"))
