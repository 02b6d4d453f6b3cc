"""Parts of the returns desk screen (ui/screens/returns.py): its tables, the grading bar under
them, the partial refund dialog and the words a resolution comes back with."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import WaystationError
from app.domain.money import parse_money
from app.domain.returns import Condition, Disposition, Reason, Resolution
from app.services.returns.views import RefundQuote, ResolutionDone
from ui.models.basket import format_money
from ui.screens.station_screen import focusless_button

CONDITION_KEYS = tuple(zip("123456", Condition, strict=True))


def desk_table(parent: QWidget, model: QAbstractItemModel, stretch: int) -> QTableView:
    """A read-only table of one of the desk's lists, rows chosen whole."""
    table = QTableView(parent)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(40)
    head = table.horizontalHeader()
    # Short columns as wide as their words (a reason, a condition); the item takes the rest.
    head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    head.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    fit = _ColumnFit(table, stretch)
    model.modelReset.connect(fit.all_rows)
    model.rowsInserted.connect(lambda _parent, first, last: fit.grow(first, last))
    model.dataChanged.connect(lambda top, bottom, *_: fit.grow(top.row(), bottom.row()))
    fit.all_rows()
    return table


class _ColumnFit:
    """Sizes a table's short columns to their words, measured with the font's metrics.

    ``resizeColumnToContents`` asks the delegate for every row's size hint (several calls into
    the model per cell) and repaints the whole table: milliseconds on each of the desk's scans.
    Here a new list fits its columns afresh; a row added or changed only widens a column whose
    new words do not fit, so most scans change no width at all.
    """

    PAD = 24  # the cell's margins and a little air

    def __init__(self, table: QTableView, stretch: int) -> None:
        self._table = table
        self._stretch = stretch

    def _columns(self) -> list[int]:
        return [c for c in range(self._table.model().columnCount()) if c != self._stretch]

    def _widest(self, column: int, first: int, last: int) -> int:
        model, metrics = self._table.model(), self._table.fontMetrics()
        words = (model.index(row, column).data() for row in range(first, last + 1))
        return max((metrics.horizontalAdvance(str(w)) for w in words if w), default=0)

    def all_rows(self) -> None:
        table = self._table
        table.ensurePolished()
        head = table.horizontalHeader()
        head.ensurePolished()
        model, heading = table.model(), head.fontMetrics()
        for col in self._columns():
            title = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
            rows = self._widest(col, 0, model.rowCount() - 1)
            width = max(heading.horizontalAdvance(title), rows) + self.PAD
            if width != table.columnWidth(col):
                table.setColumnWidth(col, width)

    def grow(self, first: int, last: int) -> None:
        table = self._table
        for col in self._columns():
            width = self._widest(col, first, last) + self.PAD
            if width > table.columnWidth(col):
                table.setColumnWidth(col, width)


class GradeBar(QWidget):
    """One button per condition (Ctrl+1…6 on the screen), the disposition menu, the reason
    menu (an unannounced return's) and the photo.

    Signals:
    grade_requested(object): a condition was touched (a :class:`Condition`).
    disposition_requested(object): a disposition was chosen (a :class:`Disposition`).
    reason_requested(object): why the unit came back was chosen (a :class:`Reason`).
    photo_requested(): the photo button was touched.
    """

    grade_requested = Signal(object)
    disposition_requested = Signal(object)
    reason_requested = Signal(object)
    photo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.grade_buttons: dict[Condition, QPushButton] = {}
        for key, condition in CONDITION_KEYS:
            b = focusless_button(
                self,
                f"{condition.label} (^{key})",
                lambda _checked=False, c=condition: self.grade_requested.emit(c),
            )
            self.grade_buttons[condition] = b
            row.addWidget(b)
        self.disposition_button = focusless_button(self, self.tr("Goes to…"), lambda: None)
        menu = QMenu(self.disposition_button)
        for d in Disposition:
            action = menu.addAction(d.label)
            action.setData(d.value)
        menu.triggered.connect(
            lambda action: self.disposition_requested.emit(Disposition(action.data()))
        )
        self.disposition_button.setMenu(menu)
        row.addWidget(self.disposition_button)
        # Why an unannounced return came back (a return on an RMA has the RMA's reason).
        self.reason_button = focusless_button(self, self.tr("Why back…"), lambda: None)
        reasons = QMenu(self.reason_button)
        for r in Reason:
            action = reasons.addAction(r.label)
            action.setData(r.value)
        reasons.triggered.connect(lambda action: self.reason_requested.emit(Reason(action.data())))
        self.reason_button.setMenu(reasons)  # the screen places it (the row is full)
        self.photo_button = focusless_button(self, self.tr("Photo"), self.photo_requested)
        self.photo_button.setVisible(False)
        row.addWidget(self.photo_button)
        for b in (*self.grade_buttons.values(), self.disposition_button, self.photo_button):
            b.setProperty("compact", True)

    def set_enabled(self, enabled: bool, *, reasons: bool = False) -> None:
        for b in (*self.grade_buttons.values(), self.disposition_button, self.photo_button):
            b.setEnabled(enabled)
        self.reason_button.setEnabled(enabled and reasons)


class PartRefundDialog(QDialog):
    """How much of what the policy gives is paid back: less than all of it (a customer kept a
    part, goodwill agreed on the phone). The amount is checked here as it is typed out, and
    the dialog stays open with words until it is one the return may pay."""

    def __init__(self, quote: RefundQuote, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.quote = quote
        self.amount_minor = 0
        self.setWindowTitle(self.tr("Part refund {rma}").format(rma=quote.rma_number))
        most = format_money(quote.most_minor, quote.currency)
        b = quote.breakdown
        parts = [
            self.tr("Items {amount}").format(
                amount=format_money(b.get("merchandise_minor", 0), quote.currency)
            )
        ]
        for key, words in (
            ("deductions_minor", self.tr("kept back for condition")),
            ("restocking_fee_minor", self.tr("restocking fee")),
            ("capped_minor", self.tr("over what was paid")),
        ):
            if b.get(key):
                parts.append(f"− {format_money(b[key], quote.currency)} {words}")
        if b.get("shipping_minor"):
            parts.append(
                self.tr("+ {amount} shipping").format(
                    amount=format_money(b["shipping_minor"], quote.currency)
                )
            )
        self.explain = QLabel(
            self.tr(
                "{rma}: the policy pays back at most {most} ({parts}). Refund how much?"
            ).format(rma=quote.rma_number, most=most, parts=" ".join(parts)),
            self,
        )
        self.explain.setObjectName("orderMeta")
        self.explain.setWordWrap(True)
        self.amount = QLineEdit(self)
        self.amount.setPlaceholderText(self.tr("e.g. 12.50"))
        self.problem = QLabel("", self)
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        box = QDialogButtonBox(self)
        ok = box.addButton(self.tr("Refund this"), QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setObjectName("primary")
        ok.setDefault(True)
        box.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explain)
        layout.addWidget(self.amount)
        layout.addWidget(self.problem)
        layout.addWidget(box)
        self.setMinimumWidth(560)
        self.amount.setFocus()

    def accept(self) -> None:
        q = self.quote
        try:
            amount = parse_money(self.amount.text(), q.currency)
        except WaystationError as e:
            self.problem.setText(e.message)
            return
        if not 0 < amount <= q.most_minor:
            self.problem.setText(
                self.tr(
                    "{amount} is not a refund {rma} may pay — type an amount above zero and "
                    "no more than {most}."
                ).format(
                    amount=format_money(amount, q.currency),
                    rma=q.rma_number,
                    most=format_money(q.most_minor, q.currency),
                )
            )
            return
        self.amount_minor = amount
        super().accept()


def resolution_words(r: ResolutionDone) -> str:
    """What the banner says once a return is resolved."""

    def tr(text: str) -> str:
        return QCoreApplication.translate("ReturnsScreen", text)

    if r.resolution == Resolution.EXCHANGE.value:
        return tr("{rma}: exchange order {order} goes to picking.").format(
            rma=r.rma_number, order=r.exchange_order_number or ""
        )
    amount = format_money(r.amount_minor, r.currency)
    if r.store_credit_account:
        return tr("{rma}: {amount} store credit on {code}.").format(
            rma=r.rma_number, amount=amount, code=r.store_credit_account
        )
    return tr("{rma}: refund of {amount} recorded to be paid.").format(
        rma=r.rma_number, amount=amount
    )
