"""The print journal's rows: this station's print jobs, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication

from app.services.print_jobs import JobView
from ui.models import format_datetime, format_int
from ui.models.search_results import RowsModel

_STATE = {
    "queued": "waiting",
    "sending": "sending now",
    "failed": "waiting — printer failed",
    "printed": "printed ✓",
    "uncertain": "check: may have printed",
    "discarded": "discarded",
}


class PrintJobsModel(RowsModel):
    context = "PrintJobsModel"
    headers = ("Created", "Document", "State", "Tries", "Printer", "Last problem")

    def set_jobs(self, jobs: Sequence[JobView]) -> None:
        self._set_rows(jobs)

    def job(self, row: int) -> JobView:
        job: JobView = self._rows[row]
        return job

    def _cell(self, row: JobView, col: int) -> str:
        if col == 0:
            return format_datetime(row.created_at)
        if col == 1:
            again = QCoreApplication.translate(self.context, " (printed again)")
            return row.title + (again if row.reprint_of else "")
        if col == 2:
            return QCoreApplication.translate(self.context, _STATE.get(row.status, row.status))
        if col == 3:
            return format_int(row.attempts)
        if col == 4:
            return row.destination
        return row.last_error
