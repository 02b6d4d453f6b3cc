"""Releasing pick work (a supervisor): which orders, as what kind of list, within which limits;
and the live pick lists, one of which can be withdrawn while nothing was picked for it.

The form builds a :class:`PickWorkRequest`; :func:`create_pick_work` runs on the database
worker and the lists it made (and the orders it left, with why) come back as words.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.clock import utcnow
from app.domain.errors import WaystationError
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services.picking.lists import ListSummary
from app.services.picking.views import PickListView
from app.services.picking.work import CLUSTER_SLOTS, PickWork, PickWorkRequest
from ui import messages
from ui.feedback import Banner
from ui.models import format_int
from ui.models.pick_lists import PickListsModel
from ui.ops import DbOp, DbWorker

_KINDS = (
    (PickKind.CLUSTER, "Cluster — one order per tote"),
    (PickKind.BATCH, "Batch — sorted at the bench"),
    (PickKind.SINGLE, "Single — one list an order"),
)


class PickWorkScreen(QWidget):
    """Signals:
    back_requested(): back to the picker screen.
    released(int): pick lists were made; how many (the print queue may have work).
    """

    back_requested = Signal()
    released = Signal(int)

    def __init__(
        self,
        worker: DbWorker,
        release: Callable[[PickWorkRequest], PickWork],
        lists: Callable[[], list[ListSummary]],
        withdraw: Callable[[uuid.UUID, str], PickListView],
        free: Callable[[uuid.UUID], PickListView],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._release = release
        self._lists = lists
        self._withdraw = withdraw
        self._free = free
        self._build()

    def _build(self) -> None:
        title = QLabel(self.tr("Release pick work"), self)
        title.setObjectName("screenTitle")
        back = QPushButton(self.tr("Back to picking"), self)
        back.clicked.connect(self.back_requested.emit)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(back)
        self.banner = Banner(self)

        panel = QFrame(self)
        panel.setObjectName("panel")
        forms = QHBoxLayout(panel)
        forms.setContentsMargins(16, 12, 16, 12)
        # Three columns of four: the live lists below get the height.
        what, more, which = QFormLayout(), QFormLayout(), QFormLayout()
        for i, (form, share) in enumerate(((what, 5), (more, 3), (which, 4))):
            if i:
                forms.addSpacing(20)
            forms.addLayout(form, share)
        self.kind = QComboBox(panel)
        self.kind.setMinimumContentsLength(18)
        self.kind.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        for kind, words in _KINDS:
            self.kind.addItem(self.tr(words), kind)
        self.orders = self._spin(1, 50, 4, self.tr(" orders"))
        self.units = self._spin(0, 9999, 0, self.tr(" units"), self.tr("no limit"))
        self.weight = self._spin(0, 1000, 0, self.tr(" kg"), self.tr("no limit"))
        self.lists = self._spin(1, 200, 1, self.tr(" lists"))
        self.channels = QLineEdit(panel)
        self.channels.setPlaceholderText(self.tr("all channels (or codes: WEB, AMZ)"))
        self.cutoff = self._spin(0, 48, 0, self.tr(" h"), self.tr("any time"))
        self.priority = self._spin(0, 99, 0, "", self.tr("any"))
        self.age = self._spin(0, 10_000, 0, self.tr(" min"), self.tr("any age"))
        self.zone = QLineEdit(panel)
        self.zone.setPlaceholderText(self.tr("all zones (or: A, B)"))
        self.wave = QLineEdit(panel)
        self.wave.setMaxLength(40)
        self.wave.setPlaceholderText(self.tr("named after the time"))
        self.print_lists = QCheckBox(self.tr("Print the pick lists"), panel)
        self.print_lists.setChecked(True)
        for form, rows in (
            (
                what,
                (
                    (self.tr("Kind"), self.kind),
                    (self.tr("Per list at most"), self.orders),
                    (self.tr("Units per list"), self.units),
                    (self.tr("Weight per list"), self.weight),
                ),
            ),
            (
                more,
                (
                    (self.tr("Lists to make"), self.lists),
                    (self.tr("Wave"), self.wave),
                    (self.tr("Zones"), self.zone),
                    ("", self.print_lists),
                ),
            ),
            (
                which,
                (
                    (self.tr("Channels"), self.channels),
                    (self.tr("Carrier leaves within"), self.cutoff),
                    (self.tr("Priority at least"), self.priority),
                    (self.tr("Placed at least"), self.age),
                ),
            ),
        ):
            for label, widget in rows:
                form.addRow(label, widget)
        self.release_button = QPushButton(self.tr("Release pick work"), self)
        self.release_button.setObjectName("primary")
        self.release_button.clicked.connect(self.release)
        self.outcome = QLabel(self)
        self.outcome.setWordWrap(True)
        self.outcome.setContentsMargins(10, 8, 10, 8)
        self.outcome.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.outcome)
        made = QVBoxLayout()
        made.addWidget(self.release_button, 0, Qt.AlignmentFlag.AlignRight)
        made.addWidget(scroll, 1)
        bottom = QHBoxLayout()
        bottom.addLayout(made, 2)
        bottom.addSpacing(16)
        bottom.addLayout(self._build_lists(), 3)
        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addWidget(panel)
        page.addLayout(bottom, 1)

    def _build_lists(self) -> QVBoxLayout:
        """The live pick lists, and withdrawing one (with the reason) before it is picked."""
        heading = QLabel(self.tr("Pick lists now"), self)
        heading.setObjectName("sectionTitle")
        refresh = QPushButton(self.tr("Refresh"), self)
        refresh.clicked.connect(self.refresh)
        self.free_button = QPushButton(self.tr("Free for any picker"), self)
        self.free_button.clicked.connect(self.free)
        head = QHBoxLayout()
        head.addWidget(heading, 1)
        head.addWidget(self.free_button)
        head.addWidget(refresh)
        self.lists_model = PickListsModel(self)
        self.lists_table = QTableView(self)
        self.lists_table.setModel(self.lists_model)
        self.lists_table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.lists_table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.lists_table.verticalHeader().hide()
        self.lists_table.horizontalHeader().setStretchLastSection(True)
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(200)
        self.reason.setPlaceholderText(self.tr("Why it is withdrawn (for example: wrong wave)"))
        self.withdraw_button = QPushButton(self.tr("Withdraw the chosen list"), self)
        self.withdraw_button.clicked.connect(self.withdraw)
        row = QHBoxLayout()
        row.addWidget(self.reason, 1)
        row.addWidget(self.withdraw_button)
        box = QVBoxLayout()
        box.addLayout(head)
        box.addWidget(self.lists_table, 1)
        box.addLayout(row)
        return box

    def refresh(self) -> None:
        """Read the live lists again (on the worker)."""
        DbOp(self._worker, self._lists).success(self._show_lists).failure(self._failed).run()

    def _show_lists(self, rows: list[ListSummary]) -> None:
        chosen = self.chosen()
        self.lists_model.set_lists(rows)
        self.lists_table.resizeColumnsToContents()
        again = self.lists_model.row_of(chosen.number) if chosen is not None else None
        if again is not None:
            self.lists_table.selectRow(again)

    def chosen(self) -> ListSummary | None:
        rows = self.lists_table.selectionModel().selectedRows()
        return self.lists_model.summary(rows[0].row()) if rows else None

    def _chosen_or(self, words: str) -> ListSummary | None:
        """The list chosen in the table; None, and ``words`` on the banner, when there is none."""
        chosen = self.chosen()
        if chosen is None:
            self.banner.show_message("bad", words)
        return chosen

    def free(self) -> None:
        """The chosen list's picker left it: any picker may carry on with it."""
        chosen = self._chosen_or(self.tr("Choose the pick list to free in the table first."))
        if chosen is None:
            return

        def done(view: PickListView) -> None:
            self.banner.show_message(
                "good",
                self.tr("Pick list {number} is free: any picker can scan it and carry on.").format(
                    number=view.number
                ),
            )
            self.refresh()

        DbOp(self._worker, lambda: self._free(chosen.id)).success(done).failure(self._failed).run()

    def withdraw(self) -> None:
        chosen = self._chosen_or(self.tr("Choose the pick list to withdraw in the table first."))
        if chosen is None:
            return
        reason = self.reason.text()

        def done(view: PickListView) -> None:
            self.reason.clear()
            self.banner.show_message(
                "good",
                self.tr("Pick list {number} withdrawn: its orders can go on another list.").format(
                    number=view.number
                ),
            )
            self.refresh()

        DbOp(self._worker, lambda: self._withdraw(chosen.id, reason)).success(done).failure(
            self._failed
        ).run()

    def _spin(self, low: int, high: int, value: int, suffix: str, none: str = "") -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setSuffix(suffix)
        if none:
            spin.setSpecialValueText(none)
        return spin

    def request(self) -> PickWorkRequest:
        """The form as a request (raises ValidationError with words for impossible limits)."""
        kind = PickKind(self.kind.currentData())
        codes = tuple(c.strip().upper() for c in self.channels.text().split(",") if c.strip())
        zones = tuple(z.strip().upper() for z in self.zone.text().split(",") if z.strip())
        now = utcnow()
        orders = (
            min(self.orders.value(), CLUSTER_SLOTS)
            if kind is PickKind.CLUSTER
            else (self.orders.value())
        )
        return PickWorkRequest(
            kind=kind,
            limits=Limits(
                max_orders=orders,
                max_units=self.units.value() or None,
                max_weight_g=self.weight.value() * 1000 or None,
            ),
            max_lists=self.lists.value(),
            channels=codes,
            cutoff_before=now + timedelta(hours=self.cutoff.value())
            if self.cutoff.value()
            else None,
            min_priority=self.priority.value() or None,
            placed_before=now - timedelta(minutes=self.age.value()) if self.age.value() else None,
            zones=zones,
            wave=self.wave.text().strip(),
            print_lists=self.print_lists.isChecked(),
        )

    def release(self) -> None:
        try:
            req = self.request()
        except WaystationError as e:
            self.banner.show_message("bad", e.message)
            return
        self.release_button.setEnabled(False)
        DbOp(self._worker, lambda: self._release(req)).success(self._done).failure(
            self._failed
        ).run()

    def _done(self, work: PickWork) -> None:
        self.release_button.setEnabled(True)
        if not work.lists:
            self.banner.show_message(
                "warn", self.tr("No pick list was made: no open order fits these choices.")
            )
        else:
            self.banner.show_message(
                "good",
                self.tr("{lists} pick lists made for {orders} orders (wave {wave}).").format(
                    lists=format_int(len(work.lists)),
                    orders=format_int(work.orders),
                    wave=work.wave,
                ),
            )
            self.released.emit(len(work.lists))
            self.refresh()
        lines: list[str] = []
        for made in work.lists:
            lines.append(
                self.tr("{number}: {orders} — {stops} stops, {units} units").format(
                    number=made.number,
                    orders=", ".join(made.orders),
                    stops=format_int(made.stops),
                    units=format_int(made.units),
                )
            )
        for number, why in work.skipped[:50]:
            lines.append(self.tr("{number} not released: {why}").format(number=number, why=why))
        self.outcome.setText("\n".join(lines))

    def _failed(self, error: BaseException) -> None:
        self.release_button.setEnabled(True)
        self.banner.show_message("bad", messages.describe(error, action="action"))

    def activate(self, *_args: Any) -> None:
        self.release_button.setFocus()
        self.refresh()
