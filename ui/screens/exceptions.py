"""A supervisor's exception list: the oversells and disputed claims the hub raised for this
warehouse, open ones first. Resolving one takes a supervisor's badge and a note of what was
done; the resolution goes to the central database like any other operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelection, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from app.services import conflicts
from app.services.conflicts import ExceptionView
from ui import messages
from ui.models.sync_lists import ExceptionsModel
from ui.ops import DbOp, DbWorker
from ui.screens.list_screen import ListScreen

UowFactory = Callable[[], Any]
SUMMARY, TODO = 2, 3


class ExceptionsScreen(ListScreen):
    """Signals:
    back_requested(): the person wants the pack screen again.
    resolved(): a task was resolved (the station should sync it).
    """

    back_requested = Signal()
    resolved = Signal()

    def __init__(self, uow: UowFactory, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Exceptions"), ExceptionsModel(), parent)
        self._uow = uow
        self._worker = worker
        self.model: ExceptionsModel
        self.back_button.clicked.connect(self.back_requested)
        self.escape.activated.connect(self.back_requested)
        self.stretch_columns(SUMMARY, TODO)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText(self.tr("What was done (for example: counted, 3 in the bin)"))
        self.note.setAccessibleName(self.tr("What was done"))
        self.badge = QLineEdit(self)
        self.badge.setPlaceholderText(self.tr("Supervisor badge"))
        self.badge.setAccessibleName(self.tr("Supervisor badge"))
        self.badge.setEchoMode(QLineEdit.EchoMode.Password)
        self.badge.returnPressed.connect(self.resolve)
        self.resolve_button = self.button(self.tr("Resolve"), self.resolve)
        self.resolve_button.setObjectName("primary")
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 3)
        bottom.addWidget(self.badge, 1)
        bottom.addWidget(self.resolve_button)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.addLayout(bottom)
        self.banner.show_message(
            "info",
            self.tr("Choose an open exception, say what was done, then scan a supervisor badge."),
        )
        self._selected(QItemSelection(), QItemSelection())

    def selected(self) -> ExceptionView | None:
        row = self.selected_row()
        return None if row is None else self.model.task(row)

    def _selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        chosen = self.selected()
        self.resolve_button.setEnabled(chosen is not None and chosen.status == "open")

    def handle_scan(self, code: str) -> None:
        """A badge scanned while this list is open: it resolves the chosen exception."""
        self.badge.setText(code)
        self.resolve()

    def refresh(self) -> None:
        uow = self._uow

        def run() -> list[ExceptionView]:
            with uow() as u:
                return conflicts.list_exceptions(u)

        DbOp(self._worker, run).success(self._show).failure(self._failed).run()

    def _show(self, rows: list[ExceptionView]) -> None:
        chosen = self.selected()
        self.model.set_exceptions(rows)
        self.reselect([t.id for t in rows], chosen.id if chosen else None)
        if not rows:
            self.banner.show_message("good", self.tr("No exceptions for this warehouse."))
        self._selected(QItemSelection(), QItemSelection())

    def resolve(self) -> None:
        chosen = self.selected()
        badge = self.badge.text().strip()
        self.badge.clear()
        if chosen is None:
            self.banner.show_message("bad", self.tr("Choose the exception to resolve first."))
            return
        if not badge:
            self.banner.show_message("bad", self.tr("Scan a supervisor badge to resolve it."))
            return
        uow, note, task_id = self._uow, self.note.text(), chosen.id

        def run() -> ExceptionView:
            with uow() as u:
                return conflicts.resolve_exception(u, task_id, badge, note)

        def done(task: ExceptionView) -> None:
            self.note.clear()
            self.banner.show_message(
                "good",
                self.tr("{title} resolved by {name}.").format(
                    title=task.title, name=task.resolved_by or ""
                ),
            )
            self.resolved.emit()
            self.refresh()

        DbOp(self._worker, run).success(done).failure(self._failed).run()

    def _failed(self, error: BaseException) -> None:
        self.banner.show_message("bad", messages.describe(error, action="action"))
