"""The station's status bar: who is signed in, which station (its database in the tooltip),
where slips print (and how the last one went), what is waiting (operations to sync, print
jobs), and — with a central database — the sync state: online or offline (and why), the last
sync, and the conflicts and exceptions waiting for a person (click them to open their list).

The print counts are read on the database worker, every few seconds and after each print run,
but only once the worker has been quiet for a moment (no scan answered for 100 ms: the person is
between scans), so the reading (1–4 ms) is not queued ahead of a scan, as it was when it ran
whenever a timer fired (the returns desk's scan p99 was 10.3 ms with it, 6.9 ms without). On a
bench never quiet that long, counts older than 15 s are read in the first gap between two
answers. A refresh never stacks up behind a slow one. The sync
state comes from the sync worker's status snapshot, which is read without waiting for anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime, QLocale, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from ui.models import format_int
from ui.ops import DbOp, DbWorker
from ui.widgets import ElidedLabel

if TYPE_CHECKING:  # the ORM mappings load after the window is shown, on the database worker
    from app.services.print_jobs import WaitingSummary
    from app.sync.worker import SyncStatus

REFRESH_MS = 5000
QUIET_MS = 100  # the worker answered nothing for this long: the person is between scans
STALE_S = 15.0  # counts older than this are read in any gap between two answers
# (outbox operations waiting, per kind of document: print jobs waiting and why)
Counts = tuple[int, Sequence["WaitingSummary"]]


class ClickableLabel(QLabel):
    """A status-bar label that opens something when touched.

    Signals:
        clicked(): the label was clicked or touched.
    """

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)


def _set_state(label: QLabel, name: str, value: str) -> None:
    """Set a property the style sheet colours by, re-polishing only when it changed."""
    if label.property(name) != value:
        label.setProperty(name, value)
        label.style().unpolish(label)
        label.style().polish(label)


def format_time(value: datetime) -> str:
    local = QDateTime.fromMSecsSinceEpoch(int(value.timestamp() * 1000)).toLocalTime()
    return QLocale().toString(local.time(), QLocale.FormatType.ShortFormat)


class StationStatusBar(QStatusBar):
    """Labels along the bottom of the main window; :meth:`refresh` re-reads the counts and
    :meth:`set_sync` shows the sync worker's status.

    Signals:
        conflicts_requested(): the person touched the conflicts count.
        exceptions_requested(): the person touched the exceptions count.
    """

    conflicts_requested = Signal()
    exceptions_requested = Signal()

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
        self._due = False  # the counts are to be read at the next quiet moment
        self._read_at = time.monotonic()
        self._quiet = QTimer(self)
        self._quiet.setSingleShot(True)
        self._quiet.setInterval(QUIET_MS)
        self._quiet.timeout.connect(self._read_if_quiet)
        worker.idle_changed.connect(self._worker_idle)
        self.operator = QLabel(self.tr("Nobody signed in"), self)
        # The station's name is in the window title too: this one gives way first. Its
        # database (for whoever supports the station) is in its tooltip.
        self.station = ElidedLabel(self, mode=Qt.TextElideMode.ElideRight)
        self.station.setText(self.tr("Station {name}").format(name=station))
        self.station.setToolTip(
            self.tr("Station {name} · database {label}").format(name=station, label=database)
        )
        self._printer = printer
        self.printer = ElidedLabel(self)
        self._set(self.printer, self.tr("Slips → {printer}").format(printer=printer))
        # What waits and the sync state are short and what a person looks down for: they are
        # always whole, and the station, database and printer give way to them.
        self.waiting = QLabel(self)
        self._sync: SyncStatus | None = None
        self._prints = 0
        self.sync_state = QLabel(self)
        self.sync_state.setText(self.tr("Standalone"))
        self.sync_state.setToolTip(self.tr("No central database is set up: nothing is synced."))
        self.conflicts = ClickableLabel(self)
        self.conflicts.clicked.connect(self.conflicts_requested)
        self.exceptions = ClickableLabel(self)
        self.exceptions.clicked.connect(self.exceptions_requested)
        for label in (self.operator, self.station):
            self.addWidget(label)
        self.addPermanentWidget(self.printer)
        self.addPermanentWidget(self.waiting)
        for label in (self.sync_state, self.conflicts, self.exceptions):
            self.addPermanentWidget(label)
        self.conflicts.hide()
        self.exceptions.hide()
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh_soon)

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

    def refresh_soon(self) -> None:
        """Read the counts in the database worker's next quiet moment (at once when it is
        quiet now): never ahead of a scan's work."""
        self._due = True
        if self._worker.pending == 0:
            self._quiet.start()

    def _worker_idle(self, idle: bool) -> None:
        if not idle:
            self._quiet.stop()
        elif self._due and time.monotonic() - self._read_at > STALE_S:
            self.refresh()
        elif self._due:
            self._quiet.start()

    def _read_if_quiet(self) -> None:
        if self._due and self._worker.pending == 0:
            self.refresh()

    def refresh(self) -> None:
        """Read the counts now (after the read in hand, when one is: the worker's next quiet
        moment)."""
        if self._busy:
            self._due = True
            return
        self._due = False
        self._busy = True
        self._read_at = time.monotonic()
        DbOp(self._worker, self._read_counts).success(self._show_counts).failure(
            self._not_read
        ).run()

    def _show_counts(self, counts: Counts) -> None:
        self._busy = False
        _outbox, summaries = counts
        self._prints = sum(s.waiting for s in summaries)
        self._show_waiting()
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

    def _show_waiting(self) -> None:
        prints = format_int(self._prints)
        if self._sync is None:  # standalone: nothing is ever synced
            text = self.tr("Waiting: {prints} to print").format(prints=prints)
        else:
            text = self.tr("{ops} to sync · {prints} to print").format(
                ops=format_int(self._sync.waiting), prints=prints
            )
        if self.waiting.text() != text:
            self.waiting.setText(text)

    def set_sync(self, status: SyncStatus) -> None:
        """Show the sync worker's status (called on the GUI thread when it changes)."""
        self._sync = status
        when = format_time(status.last_sync_at) if status.last_sync_at else None
        if status.online:
            text = self.tr("✓ Online · synced {time}").format(time=when or "—")
            tip = self.tr("Connected to the central database.")
        else:
            text = (
                self.tr("⚠ Offline · last sync {time}").format(time=when)
                if when
                else self.tr("⚠ Offline · never synced")
            )
            tip = self.tr(
                "Not connected to the central database: {why}. The station keeps working; "
                "what it does is sent when the connection is back."
            ).format(why=status.reason or self.tr("not connected yet"))
        if self.sync_state.text() != text:
            self.sync_state.setText(text)
        self.sync_state.setToolTip(tip)
        _set_state(self.sync_state, "sync", "online" if status.online else "offline")
        self.conflicts.setText(
            self.tr("%n conflict(s)", "", status.conflicts)
            if status.conflicts
            else self.tr("No conflicts")
        )
        self.conflicts.setToolTip(self.tr("Operations central refused — touch to see them."))
        _set_state(self.conflicts, "alert", "true" if status.conflicts else "false")
        self.conflicts.show()
        self.exceptions.setText(self.tr("%n exception(s)", "", status.exceptions))
        self.exceptions.setToolTip(self.tr("Oversells and disputed claims — touch to see them."))
        _set_state(self.exceptions, "alert", "true" if status.exceptions else "false")
        self.exceptions.setVisible(status.exceptions > 0)
        self._show_waiting()
