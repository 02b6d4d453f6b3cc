"""The print journal: every print job of this station (newest first) with its state, and the
actions a person takes on one — print it again (audited), discard it, retry the printers now."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, Qt, Signal
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

from app.domain.errors import WaystationError
from app.services import print_jobs
from app.services.print_jobs import JobView
from ui import messages
from ui.feedback import Banner
from ui.models.print_jobs import PrintJobsModel
from ui.ops import DbOp, DbWorker

if TYPE_CHECKING:
    from ui.system_print import Ask

UowFactory = Callable[[], Any]
PRINTER_COLUMN = 4


class PrintJournalScreen(QWidget):
    """Signals:
    back_requested(): the person wants the pack screen again.
    jobs_changed(): a job was queued again or discarded (the print worker should look).
    printers_requested(): the person wants the printer set-up.
    """

    back_requested = Signal()
    jobs_changed = Signal()
    printers_requested = Signal()

    def __init__(
        self,
        uow: UowFactory,
        worker: DbWorker,
        render_pdf: Callable[[JobView], bytes],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._uow = uow
        self._worker = worker
        self._render_pdf = render_pdf
        self.ask: Ask | None = None  # how a printer is chosen; None: the system print dialog
        self.model = PrintJobsModel(self)

        title = QLabel(self.tr("Print jobs"), self)
        title.setObjectName("instruction")
        self.back_button = self._button(self.tr("Back to packing (Esc)"), self.back_requested)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.back_button)
        self.banner = Banner(self)
        self.banner.show_message("info", self.tr("Choose a job to print it again or discard it."))

        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(42)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long paths keep both ends
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(PRINTER_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(True)
        self.view.setColumnWidth(PRINTER_COLUMN, 320)
        self.view.selectionModel().selectionChanged.connect(self._selected)

        self.reprint_button = self._button(self.tr("Print again"), self.reprint)
        self.reprint_button.setObjectName("primary")
        self.discard_button = self._button(self.tr("Discard"), self.discard)
        self.discard_button.setObjectName("danger")
        self.retry_button = self._button(self.tr("Retry waiting jobs now"), self.retry_now)
        bottom = QHBoxLayout()
        bottom.addWidget(self.retry_button)
        self.printers_button = self._button(self.tr("Printers…"), self.printers_requested)
        bottom.addWidget(self.printers_button)
        bottom.addStretch(1)
        bottom.addWidget(self.discard_button)
        self.dialog_button = self._button(self.tr("Print with dialog…"), self.print_with_dialog)
        bottom.addWidget(self.dialog_button)
        bottom.addWidget(self.reprint_button)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addWidget(self.view, 1)
        page.addLayout(bottom)
        back = QShortcut(QKeySequence("Esc"), self)
        back.setAutoRepeat(False)
        back.activated.connect(self.back_requested)
        self._selected(QItemSelection(), QItemSelection())

    def _button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def selected(self) -> JobView | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.job(rows[0].row()) if rows else None

    def _selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        job = self.selected()
        self.reprint_button.setEnabled(job is not None and job.status not in print_jobs.WAITING)
        self.discard_button.setEnabled(
            job is not None and job.status in (*print_jobs.WAITING, "uncertain")
        )
        self.dialog_button.setEnabled(job is not None)

    def refresh(self) -> None:
        """Read the journal again (on the database worker)."""
        uow = self._uow

        def run() -> list[JobView]:
            with uow() as u:
                return print_jobs.journal(u)

        DbOp(self._worker, run).success(self._show).failure(self._failed).run()

    def _show(self, jobs: list[JobView]) -> None:
        selected = self.selected()
        self.model.set_jobs(jobs)
        rows = [i for i, j in enumerate(jobs) if selected is not None and j.id == selected.id]
        if rows:
            self.view.selectRow(rows[0])
        self._selected(QItemSelection(), QItemSelection())

    def _act(self, fn: Callable[[Any], object], words: str) -> None:
        uow = self._uow

        def run() -> None:
            with uow() as u:
                fn(u)

        def done(_result: None) -> None:
            self.banner.show_message("good", words)
            self.jobs_changed.emit()
            self.refresh()

        DbOp(self._worker, run).success(done).failure(self._failed).run()

    def reprint(self) -> None:
        job = self.selected()
        if job is None:
            return
        job_id: uuid.UUID = job.id
        self._act(
            lambda u: print_jobs.reprint(u, job_id),
            self.tr("{title} is printing again.").format(title=job.title),
        )

    def discard(self) -> None:
        job = self.selected()
        if job is None:
            return
        job_id: uuid.UUID = job.id
        self._act(
            lambda u: print_jobs.discard(u, job_id),
            self.tr("{title} discarded.").format(title=job.title),
        )

    def print_with_dialog(self) -> None:
        """Render the chosen job's document, let the person pick a printer, print, audit."""
        job = self.selected()
        if job is None:
            return
        render = self._render_pdf
        DbOp(self._worker, lambda: render(job)).success(
            lambda pdf: self._print_rendered(job, pdf)
        ).failure(self._failed).run()

    def _print_rendered(self, job: JobView, pdf: bytes) -> None:
        # QtPrintSupport and QtPdf load here, when a person first asks: not at start-up.
        from ui.system_print import ask_with_dialog, print_pdf

        try:
            printer = print_pdf(pdf, job.title, self.ask or ask_with_dialog(self))
        except WaystationError as e:
            self._failed(e)
            return
        if printer is None:
            self.banner.show_message("info", self.tr("Printing cancelled."))
            return
        job_id = job.id
        self._act(
            lambda u: print_jobs.printed_by_hand(u, job_id, printer),
            self.tr("{title} sent to {printer}.").format(title=job.title, printer=printer),
        )

    def retry_now(self) -> None:
        self._act(print_jobs.retry_now, self.tr("Waiting jobs are being tried again now."))

    def _failed(self, error: BaseException) -> None:
        self.banner.show_message("bad", messages.describe(error, action="action"))
