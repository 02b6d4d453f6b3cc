"""The station's status bar: who is signed in, which station and database, where slips print
(and how the last one went), and what is waiting (outbox operations, print jobs).

The counts are read on the database worker on a timer; a refresh never stacks up behind a
slow one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.services.print_jobs import WaitingSummary
from ui.models import format_int
from ui.ops import DbOp, DbWorker
from ui.widgets import ElidedLabel

REFRESH_MS = 5000
# (outbox operations waiting, per kind of document: print jobs waiting and why)
Counts = tuple[int, Sequence[WaitingSummary]]


class StationStatusBar(QStatusBar):
    """Labels along the bottom of the main window; :meth:`refresh` re-reads the counts."""

    def __init__(
        self,
        worker: DbWorker,
        read_counts: Callable[[], Counts],
        *,
        station: str,
        database: str,
        printer: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self._worker = worker
        self._read_counts = read_counts
        self._busy = False
        self.operator = QLabel(self.tr("Nobody signed in"), self)
        self.station = QLabel(self.tr("Station {name}").format(name=station), self)
        self.database = ElidedLabel(self)
        self._set(self.database, self.tr("Database: {label}").format(label=database))
        self._printer = printer
        self.printer = ElidedLabel(self)
        self._set(self.printer, self.tr("Slips → {printer}").format(printer=printer))
        self.waiting = QLabel("", self)
        for label in (self.operator, self.station, self.database):
            self.addWidget(label)
        self.addPermanentWidget(self.printer)
        self.addPermanentWidget(self.waiting)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

    def set_operator(self, name: str | None) -> None:
        self.operator.setText(
            self.tr("Signed in: {name}").format(name=name) if name else self.tr("Nobody signed in")
        )

    def _set(self, label: QLabel, text: str) -> None:
        label.setToolTip(text)
        label.setText(text)

    def set_printer(self, printer: str) -> None:
        self._printer = printer
        self.refresh()

    def start(self) -> None:
        self.refresh()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def refresh(self) -> None:
        if self._busy:
            return
        self._busy = True
        DbOp(self._worker, self._read_counts).success(self._show_counts).failure(
            self._not_read
        ).run()

    def _show_counts(self, counts: Counts) -> None:
        self._busy = False
        outbox, summaries = counts
        prints = sum(s.waiting for s in summaries)
        self.waiting.setText(
            self.tr("Waiting: {ops} to sync · {prints} to print").format(
                ops=format_int(outbox), prints=format_int(prints)
            )
        )
        trouble = [s for s in summaries if s.last_error or s.uncertain]
        if trouble:
            # In words, where the eye goes when slips stop coming: "Slip printer offline — 3
            # packing slips waiting". The journal (F4) says more and can print again.
            self._set(self.printer, " · ".join(s.words() for s in trouble))
        else:
            self._set(self.printer, self.tr("Slips → {printer}").format(printer=self._printer))
        alert = "true" if trouble else "false"
        if self.printer.property("alert") != alert:
            self.printer.setProperty("alert", alert)
            self.printer.style().unpolish(self.printer)
            self.printer.style().polish(self.printer)

    def _not_read(self, _error: BaseException) -> None:
        self._busy = False
        self.waiting.setText(self.tr("Waiting: unknown"))
