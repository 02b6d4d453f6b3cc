"""Making a return authorisation (RMA) for a customer: the returns desk's New RMA screen (F4).

Scan or type the order number; the order's shipped lines show with the units that may still
come back. For each line that comes back: its units (Tab to it, type the number or press Up)
and the customer's reason; then the resolution the customer asks for, whether to print the
return slip, and Create RMA (F10). The RMA is made by ``rmas.create_rma`` on the database
worker. A late order needs a supervisor: the next scan after the refusal is their badge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import PermissionDeniedError
from app.domain.returns import Reason, Resolution
from app.services.returns.rmas import LateReturnError, RequestLine, RmaRequest
from app.services.returns.views import ReturnableLine, ReturnableOrder, RmaView
from app.services.views import OperatorView
from ui import messages
from ui.feedback import Banner, Sounds
from ui.models import format_datetime
from ui.ops import DbOp, DbWorker
from ui.screens.station_screen import focusless_button

Finder = Callable[[OperatorView, str], ReturnableOrder]
Creator = Callable[[OperatorView, RmaRequest, str | None, bool], RmaView]
MAX_UNITS = 999
RESOLUTIONS = (Resolution.REFUND, Resolution.EXCHANGE, Resolution.STORE_CREDIT)


@dataclass
class LineChoice:
    """The widgets of one order line: how many units come back, and why."""

    line: ReturnableLine
    units: QSpinBox
    reason: QComboBox

    @property
    def chosen_reason(self) -> Reason:
        return Reason(self.reason.currentData())


class NewRmaScreen(QWidget):
    """Signals:
    back_requested(): the operator goes back to the returns desk.
    rma_created(str): an RMA was made; its number.
    print_queued(): the return slip was queued to print.
    action_done(): a look-up or a creation came back from the database (done or refused).
    """

    back_requested = Signal()
    rma_created = Signal(str)
    print_queued = Signal()
    action_done = Signal()

    def __init__(
        self,
        worker: DbWorker,
        sounds: Sounds,
        finder: Finder,
        creator: Creator,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._sounds = sounds
        self._finder = finder
        self._creator = creator
        self._operator: OperatorView | None = None
        self.order: ReturnableOrder | None = None
        self.choices: list[LineChoice] = []
        self.created: list[RmaView] = []
        self.waiting_for_supervisor = False
        self._build()
        shortcuts = (("F10", self.create_rma), ("Escape", self.back_requested.emit))
        for keys, slot in shortcuts:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)
        self._show_order(None)

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.instruction = QLabel(self)
        self.instruction.setObjectName("instruction")
        self.instruction.setWordWrap(True)
        self.back_button = self._button(self.tr("Back to the desk (Esc)"), self.back_requested)
        top = QHBoxLayout()
        top.addWidget(self.instruction, 1)
        top.addWidget(self.back_button)
        self.banner = Banner(self)

        self.code = QLineEdit(self)
        self.code.setObjectName("manualCode")
        self.code.setPlaceholderText(self.tr("Scan or type the order number"))
        self.code.setAccessibleName(self.tr("Order number"))
        self.code.returnPressed.connect(self._typed_code)
        self.order_title = QLabel(self)
        self.order_title.setObjectName("orderNumber")
        self.order_meta = QLabel(self)
        self.order_meta.setObjectName("orderMeta")
        self.order_meta.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.code, 2)
        head.addSpacing(16)
        head.addWidget(self.order_title)
        head.addWidget(self.order_meta, 3)

        self.lines_panel = QFrame(self)
        self.lines_panel.setObjectName("panel")
        self.grid = QGridLayout(self.lines_panel)
        self.grid.setContentsMargins(14, 10, 14, 10)
        self.grid.setHorizontalSpacing(18)
        self.grid.setVerticalSpacing(8)
        self.lines_scroll = QScrollArea(self)
        self.lines_scroll.setWidgetResizable(True)
        self.lines_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.lines_scroll.setWidget(self.lines_panel)

        self.resolution = QComboBox(self)
        self.resolution.setAccessibleName(self.tr("The customer asks for"))
        for r in RESOLUTIONS:
            self.resolution.addItem(r.value.replace("_", " ").capitalize(), r.value)
        self.print_slip = QCheckBox(self.tr("Print the return slip"), self)
        self.print_slip.setChecked(True)
        self.create_button = self._button(self.tr("Create RMA (F10)"), self.create_rma)
        self.create_button.setObjectName("primary")
        asks = QLabel(self.tr("The customer asks for:"), self)
        asks.setObjectName("sectionTitle")
        bottom = QHBoxLayout()
        bottom.addWidget(asks)
        bottom.addWidget(self.resolution)
        bottom.addSpacing(24)
        bottom.addWidget(self.print_slip)
        bottom.addStretch(1)
        bottom.addWidget(self.create_button)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addLayout(head)
        page.addWidget(self.lines_scroll, 1)
        page.addLayout(bottom)

    def _button(self, text: str, slot: object) -> QPushButton:
        return focusless_button(self, text, slot)

    def _show_order(self, order: ReturnableOrder | None) -> None:
        self.order = order
        self.choices = []
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.lines_scroll.setVisible(order is not None)
        self.create_button.setEnabled(order is not None)
        self.resolution.setEnabled(order is not None)
        self.print_slip.setEnabled(order is not None)
        if order is None:
            self.order_title.setText("")
            self.order_meta.setText("")
            self.instruction.setText(self.tr("New RMA: scan or type the order number."))
            return
        self.order_title.setText(order.number)
        meta = self.tr("{customer} · shipped {when}").format(
            customer=order.customer or self.tr("no customer"),
            when=format_datetime(order.shipped_at),
        )
        if order.late_by_days:
            meta += " · " + self.tr("{n} days past the return window").format(n=order.late_by_days)
        self.order_meta.setText(meta)
        headers = (
            self.tr("Item"),
            self.tr("Shipped"),
            self.tr("Can return"),
            self.tr("Units back"),
            self.tr("Reason"),
        )
        for col, text in enumerate(headers):
            label = QLabel(text, self.lines_panel)
            label.setObjectName("sectionTitle")
            self.grid.addWidget(label, 0, col)
        for row, line in enumerate(order.lines, start=1):
            self.choices.append(self._line_row(row, line))
        for i in range(self.grid.count()):  # at once, not on the next turn of the loop:
            item = self.grid.itemAt(i)  # the first line's units take the focus now
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.show()
        chain: list[QWidget] = [self.code]
        for c in self.choices:
            chain += [c.units, c.reason]
        chain += [self.resolution, self.print_slip]
        for before, after in pairwise(chain):
            QWidget.setTabOrder(before, after)
        self.grid.setColumnStretch(0, 1)
        self.grid.setRowStretch(len(order.lines) + 1, 1)
        if order.returnable:
            self.instruction.setText(
                self.tr("Order {n}: set the units that come back and why, then F10.").format(
                    n=order.number
                )
            )
        else:
            self.instruction.setText(
                self.tr("Order {n}: everything is on returns already.").format(n=order.number)
            )

    def _line_row(self, row: int, line: ReturnableLine) -> LineChoice:
        item = QLabel(f"{line.sku} — {line.name}", self.lines_panel)
        item.setWordWrap(True)
        self.grid.addWidget(item, row, 0)
        for col, n in ((1, line.shipped), (2, line.returnable)):
            number = QLabel(str(n), self.lines_panel)
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(number, row, col)
        units = QSpinBox(self.lines_panel)
        units.setRange(0, MAX_UNITS)
        units.setMinimumWidth(110)
        units.setAccessibleName(self.tr("Units of {sku} back").format(sku=line.sku))
        units.setEnabled(line.returnable > 0)
        self.grid.addWidget(units, row, 3)
        reason = QComboBox(self.lines_panel)
        reason.setAccessibleName(self.tr("Why {sku} comes back").format(sku=line.sku))
        for r in Reason:
            reason.addItem(r.label, r.value)
        reason.setCurrentIndex(reason.findData(Reason.CHANGED_MIND.value))
        reason.setEnabled(line.returnable > 0)
        self.grid.addWidget(reason, row, 4)
        return LineChoice(line, units, reason)

    # --- session ---------------------------------------------------------------------------

    def start_session(self, operator: OperatorView) -> None:
        self._operator = operator
        self.waiting_for_supervisor = False
        self._show_order(None)
        self.banner.show_message(
            "info", self.tr("Scan the order's packing slip, or type its number and press Enter.")
        )
        self.code.setFocus()

    def end_session(self) -> None:
        self._operator = None
        self._show_order(None)

    # --- the order -------------------------------------------------------------------------

    def _typed_code(self) -> None:
        text = self.code.text().strip()
        self.code.clear()
        if text:
            self.handle_scan(text)

    def handle_scan(self, code: str) -> None:
        """A scan or a typed order number opens the order; a supervisor's badge lets a late
        return in when one is waiting for it."""
        operator = self._operator
        if operator is None:
            return
        if self.waiting_for_supervisor and self.order is not None:
            self._create(code)
            return
        finder = self._finder
        DbOp(self._worker, lambda: finder(operator, code)).success(self._opened).failure(
            self._failed
        ).run()

    def _opened(self, order: ReturnableOrder) -> None:
        self.waiting_for_supervisor = False
        self._show_order(order)
        if not order.returnable:
            self._feedback(
                "bad",
                self.tr(
                    "Every unit of order {n} is on an RMA already — nothing more can come back. "
                    "Look the customer's RMA up on the desk instead."
                ).format(n=order.number),
            )
        else:
            words = self.tr("Order {n}: choose what comes back.").format(n=order.number)
            if order.late_by_days:
                words += " " + self.tr(
                    "It is past the return window: a supervisor scans their badge to let it in."
                )
            self._feedback("warn" if order.late_by_days else "good", words)
            first = next(c for c in self.choices if c.units.isEnabled())
            first.units.setFocus()
            first.units.selectAll()
        self.action_done.emit()

    # --- creating --------------------------------------------------------------------------

    def request(self) -> RmaRequest | str:
        """The RMA the operator asks for, or what to fix first, in words."""
        order = self.order
        if order is None:
            return self.tr("Scan or type the order number first.")
        lines = []
        for c in self.choices:
            n, line = c.units.value(), c.line
            if n == 0:
                continue
            if n > line.returnable:
                if line.returnable == 0:
                    return self.tr(
                        "{sku}: all {shipped} are on other RMAs already — nothing more of it "
                        "can come back; set its units to 0."
                    ).format(sku=line.sku, shipped=line.shipped)
                return self.tr(
                    "{sku}: {n} can still come back ({shipped} shipped, {taken} on other "
                    "RMAs), not {asked} — lower its units to {n} or fewer."
                ).format(
                    sku=line.sku,
                    n=line.returnable,
                    shipped=line.shipped,
                    taken=line.shipped - line.returnable,
                    asked=n,
                )
            lines.append(RequestLine(line.order_line_id, n, c.chosen_reason))
        if not lines:
            return self.tr(
                "No item is chosen — set the units that come back on at least one line "
                "(Tab to it and type the number)."
            )
        return RmaRequest(order.order_id, lines, Resolution(self.resolution.currentData()))

    def create_rma(self) -> None:
        self._create(None)

    def _create(self, approver_badge: str | None) -> None:
        operator = self._operator
        if operator is None or self.order is None:
            if operator is not None:
                self._feedback("bad", self.tr("Scan or type the order number first."))
                self.action_done.emit()
            return
        req = self.request()
        if isinstance(req, str):
            self._feedback("bad", req)
            self.action_done.emit()
            return
        creator, slip = self._creator, self.print_slip.isChecked()
        DbOp(self._worker, lambda: creator(operator, req, approver_badge, slip)).success(
            lambda view: self._created(view, slip)
        ).failure(self._create_failed).run()

    def _created(self, view: RmaView, slip: bool) -> None:
        self.waiting_for_supervisor = False
        self.created.append(view)
        self._show_order(None)
        words = self.tr("{rma} made for order {order}: {n} unit(s), {what} asked.").format(
            rma=view.number,
            order=view.order_number,
            n=view.units,
            what=view.requested.replace("_", " "),
        )
        if slip:
            words += " " + self.tr("The return slip is printing.")
            self.print_queued.emit()
        self._feedback("good", words + " " + self.tr("Scan the next order, or Esc."))
        self.rma_created.emit(view.number)
        self.code.setFocus()
        self.action_done.emit()

    def _create_failed(self, error: BaseException) -> None:
        waiting = self.waiting_for_supervisor
        if isinstance(error, LateReturnError):
            self.waiting_for_supervisor = True
            self.instruction.setText(self.tr("Supervisor: scan your badge to let it in."))
        elif waiting and isinstance(error, PermissionDeniedError):
            self.waiting_for_supervisor = True  # another badge may follow
        else:
            self.waiting_for_supervisor = False
        self._failed(error)

    # --- feedback --------------------------------------------------------------------------

    def _feedback(self, kind: str, words: str) -> None:
        self.banner.show_message(kind, words)
        if kind in ("good", "bad"):
            self._sounds.play(kind)

    def _failed(self, error: BaseException) -> None:
        self._feedback("bad", messages.describe(error, action="action"))
        self.action_done.emit()
