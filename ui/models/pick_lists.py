"""The live pick lists a supervisor oversees on the pick work screen."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication

from app.services.picking.lists import ListSummary
from ui.models import format_int, format_time_today
from ui.models.search_results import RowsModel

_STATUS = {"open": "Waiting", "in_progress": "Picking", "paused": "Paused"}
_KIND = {"cluster": "Cluster", "batch": "Batch", "single": "Single order"}


class PickListsModel(RowsModel):
    context = "PickListsModel"
    headers = ("Pick list", "Kind", "Wave", "Made", "State", "Stops done", "Units")

    def set_lists(self, rows: Sequence[ListSummary]) -> None:
        self._set_rows(rows)

    def summary(self, row: int) -> ListSummary:
        found: ListSummary = self._rows[row]
        return found

    def row_of(self, number: str) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.number == number), None)

    def _cell(self, row: ListSummary, col: int) -> str:
        tr = QCoreApplication.translate
        if col == 0:
            return row.number
        if col == 1:
            return tr(self.context, _KIND.get(row.kind, row.kind))
        if col == 2:
            return row.wave
        if col == 3:
            return format_time_today(row.created_at)
        if col == 4:
            state = tr(self.context, _STATUS.get(row.status, row.status))
            return f"{state} — {row.picker_name}" if row.picker_name else state
        if col == 5:
            return f"{format_int(row.stops_done)} / {format_int(row.stops)}"
        return format_int(row.units)
