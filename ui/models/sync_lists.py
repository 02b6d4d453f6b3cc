"""The rows of the sync screens: the station's rejected operations (conflicts) and the
warehouse's exception tasks."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication

from app.services.conflicts import ConflictView, ExceptionView
from ui.models import format_datetime
from ui.models.search_results import RowsModel


class ConflictsModel(RowsModel):
    context = "ConflictsModel"
    headers = ("When", "What", "Why central refused it", "What to do", "Seen")

    def set_conflicts(self, rows: Sequence[ConflictView]) -> None:
        self._set_rows(rows)

    def conflict(self, row: int) -> ConflictView:
        found: ConflictView = self._rows[row]
        return found

    def unseen(self) -> list[ConflictView]:
        return [c for c in self._rows if c.acknowledged_at is None]

    def _cell(self, row: ConflictView, col: int) -> str:
        if col == 0:
            return format_datetime(row.at)
        if col == 1:
            return QCoreApplication.translate(self.context, row.what)
        if col == 2:
            return row.reason
        if col == 3:
            return QCoreApplication.translate(self.context, row.advice)
        if row.acknowledged_at is None:
            return QCoreApplication.translate(self.context, "new")
        return QCoreApplication.translate(self.context, "seen ✓")


class ExceptionsModel(RowsModel):
    context = "ExceptionsModel"
    headers = ("Raised", "Kind", "What happened", "What to do", "State")

    def set_exceptions(self, rows: Sequence[ExceptionView]) -> None:
        self._set_rows(rows)

    def task(self, row: int) -> ExceptionView:
        found: ExceptionView = self._rows[row]
        return found

    def _cell(self, row: ExceptionView, col: int) -> str:
        if col == 0:
            return format_datetime(row.raised_at)
        if col == 1:
            return QCoreApplication.translate(self.context, row.title)
        if col == 2:
            return row.summary
        if col == 3:
            return QCoreApplication.translate(self.context, row.todo)
        if row.status == "open":
            return QCoreApplication.translate(self.context, "open")
        return QCoreApplication.translate(self.context, "resolved by {name}").format(
            name=row.resolved_by or "?"
        )
