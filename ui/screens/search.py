"""Order search: find an order by number, customer name or e-mail, and read its timeline
(every scan and event, oldest first, with the films of its packing when the bench camera
filmed it). Queries run on the database worker; a film opens in the system's video player."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.orders import order_timeline, search_orders
from app.services.views import OrderSummary, TimelineEntry
from ui import messages
from ui.feedback import Banner
from ui.models import format_int
from ui.models.search_results import SearchResultsModel, TimelineModel
from ui.ops import DbOp, DbWorker

UowFactory = Callable[[], Any]
SEARCH_DELAY_MS = 350  # search when typing pauses, not on every key


def open_in_player(path: str) -> bool:
    """Open a film in the system's video player; False when nothing could open it."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


class SearchScreen(QWidget):
    """Signals:
    back_requested(): the person wants the pack screen again.
    """

    back_requested = Signal()

    def __init__(
        self,
        uow: UowFactory,
        worker: DbWorker,
        *,
        videos: Path | None = None,
        open_film: Callable[[str], bool] = open_in_player,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._uow = uow
        self._worker = worker
        self._videos = videos
        self.open_film = open_film
        self._asked = ""
        self.results = SearchResultsModel(self)
        self.timeline = TimelineModel(self)

        title = QLabel(self.tr("Find an order"), self)
        title.setObjectName("instruction")
        self.back_button = QPushButton(self.tr("Back to packing (Esc)"), self)
        self.back_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.back_button.clicked.connect(self.back_requested)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.back_button)

        self.field = QLineEdit(self)
        self.field.setObjectName("searchField")
        self.field.setPlaceholderText(self.tr("Order number, customer name or e-mail"))
        self.field.setAccessibleName(self.tr("Search orders"))
        self.field.setClearButtonEnabled(True)
        self.field.returnPressed.connect(self.search_now)
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(SEARCH_DELAY_MS)
        self._delay.timeout.connect(self.search_now)
        self.field.textEdited.connect(lambda _text: self._delay.start())
        self.banner = Banner(self)
        self.banner.show_message("info", self.tr("Type at least two letters or digits."))

        self.results_view = self._table(self.results)
        self.results_view.selectionModel().selectionChanged.connect(self._selected)
        self.timeline_title = QLabel(self.tr("Timeline"), self)
        self.timeline_title.setObjectName("sectionTitle")
        self.timeline_view = self._table(self.timeline)
        self.timeline_view.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch
        )
        self.timeline_view.activated.connect(self._entry_activated)
        self.timeline_view.selectionModel().selectionChanged.connect(
            lambda _selected, _deselected: self._film_button_state()
        )
        self.film_button = QPushButton(self.tr("Watch the packing film"), self)
        self.film_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.film_button.clicked.connect(self.play_selected_film)
        self.film_button.hide()
        timeline_head = QHBoxLayout()
        timeline_head.addWidget(self.timeline_title, 1)
        timeline_head.addWidget(self.film_button)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.field)
        page.addWidget(self.banner)
        page.addWidget(self.results_view, 3)
        page.addLayout(timeline_head)
        page.addWidget(self.timeline_view, 2)

        back = QShortcut(QKeySequence("Esc"), self)
        back.setAutoRepeat(False)
        back.activated.connect(self.back_requested)

    def _table(self, model: Any) -> QTableView:
        view = QTableView(self)
        view.setModel(model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(42)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setStretchLastSection(True)
        return view

    def activate(self) -> None:
        """Shown: put the cursor in the search field."""
        self.field.setFocus()
        self.field.selectAll()

    def search_now(self) -> None:
        self._delay.stop()
        text = self.field.text().strip()
        if len(text) < 2 or text == self._asked:
            return
        self._asked = text
        uow = self._uow

        def run() -> list[OrderSummary]:
            with uow() as u:
                return search_orders(u, text)

        DbOp(self._worker, run).success(lambda rows: self._found(text, rows)).failure(
            self._failed
        ).run()

    def _found(self, text: str, rows: list[OrderSummary]) -> None:
        if text != self._asked:
            return  # a newer search is on its way
        self.results.set_results(rows)
        self.timeline.set_entries([])
        if rows:
            self.banner.show_message(
                "info",
                self.tr("{n} orders found — choose one to see its timeline.").format(
                    n=format_int(len(rows))
                ),
            )
            self.results_view.selectRow(0)
        else:
            self.banner.show_message(
                "warn", self.tr("No order matches “{text}” — check the spelling.").format(text=text)
            )

    def _selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = {i.row() for i in selected.indexes()}
        if not rows:
            return
        row = min(rows)
        self.show_timeline(self.results.order_id(row), self.results.summary(row).number)

    def show_timeline(self, order_id: uuid.UUID, number: str) -> None:
        uow, videos = self._uow, self._videos

        def run() -> list[TimelineEntry]:
            with uow() as u:
                rows = order_timeline(u, order_id)
            if videos is not None:
                from app.scanning.recording import timeline_entries

                rows = sorted(rows + timeline_entries(videos, order_id, number), key=lambda t: t.at)
            return rows

        def shown(rows: list[TimelineEntry]) -> None:
            self.timeline.set_entries(rows)
            self.timeline_title.setText(self.tr("Timeline of {n}").format(n=number))
            self._film_button_state()

        DbOp(self._worker, run).success(shown).failure(self._failed).run()

    # --- films of the packing ---------------------------------------------------------------

    def _selected_film(self) -> str:
        rows = self.timeline_view.selectionModel().selectedRows()
        films = [self.timeline.entry(i.row()).video for i in rows] or self.timeline.films()
        return next((f for f in films if f), "")

    def _film_button_state(self) -> None:
        self.film_button.setVisible(bool(self.timeline.films()))

    def _entry_activated(self, index: QModelIndex) -> None:
        film = self.timeline.entry(index.row()).video
        if film:
            self.play_film(film)

    def play_selected_film(self) -> None:
        """The film of the selected timeline row, or the order's first film."""
        film = self._selected_film()
        if film:
            self.play_film(film)

    def play_film(self, path: str) -> None:
        if not Path(path).is_file():
            self.banner.show_message(
                "bad",
                self.tr(
                    "The film {path} is no longer on this station (old films are deleted)."
                ).format(path=path),
            )
        elif not self.open_film(path):
            self.banner.show_message(
                "bad",
                self.tr(
                    "No video player could open {path} — copy the file to a computer with one."
                ).format(path=path),
            )

    def _failed(self, error: BaseException) -> None:
        self._asked = ""
        self.banner.show_message("bad", messages.describe(error, action="search"))
