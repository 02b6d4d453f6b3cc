"""The counter's dialogs: counting cash by notes and coins, cash in/out, a discount, picking
from a list (an item, a customer, a suspended sale, a past sale), and a return.

Dialogs never touch the database: a search is a function the screen passes in (it runs on the
database worker) and the dialog shows what comes back. A dialog that takes a scan (a
supervisor's badge, a receipt) has ``accept_scan``; the screen hands it scans while it is open.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.cash import MOVE_REASONS, CashMoveKind, denominations
from app.domain.money import parse_money
from app.services.counter.returns import Disposition, RefundTo, ReturnItem
from app.services.counter.views import SaleForReturn
from ui.models.basket import format_money

Search = Callable[[str, Callable[[list[tuple[Any, str]]], None]], None]


def _buttons(dialog: QDialog, ok: str) -> QDialogButtonBox:
    box = QDialogButtonBox(dialog)
    accept = box.addButton(ok, QDialogButtonBox.ButtonRole.AcceptRole)
    accept.setObjectName("primary")
    accept.setDefault(True)
    accept.style().unpolish(accept)  # the name came after the style sheet was applied
    accept.style().polish(accept)
    box.addButton(dialog.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


class CashCountDialog(QDialog):
    """Notes and coins counted one denomination at a time; the total shown as it grows."""

    def __init__(self, currency: str, title: str, prompt: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.currency = currency
        head = QLabel(prompt, self)
        head.setObjectName("sectionTitle")
        head.setWordWrap(True)
        grid = QGridLayout()
        self.pieces: dict[int, QSpinBox] = {}
        for i, value in enumerate(denominations(currency)):
            spin = QSpinBox(self)
            spin.setRange(0, 9999)
            spin.setAccessibleName(format_money(value, currency))
            spin.valueChanged.connect(self._update)
            label = QLabel(format_money(value, currency), self)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(label, i % 8, (i // 8) * 2)
            grid.addWidget(spin, i % 8, (i // 8) * 2 + 1)
            self.pieces[value] = spin
        self.total = QLabel(self)
        self.total.setObjectName("orderNumber")
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(grid)
        layout.addWidget(self.total)
        layout.addWidget(_buttons(self, self.tr("Done")))
        self._update()

    def count(self) -> dict[int, int]:
        return {v: s.value() for v, s in self.pieces.items() if s.value()}

    def set_count(self, count: dict[int, int]) -> None:
        for value, pieces in count.items():
            self.pieces[value].setValue(pieces)

    def total_minor(self) -> int:
        return sum(v * n for v, n in self.count().items())

    def _update(self) -> None:
        self.total.setText(
            self.tr("Total: {amount}").format(
                amount=format_money(self.total_minor(), self.currency)
            )
        )


class CashMoveDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Cash in or out"))
        self.paid_in = QRadioButton(self.tr("Cash in"), self)
        self.paid_out = QRadioButton(self.tr("Cash out"), self)
        self.paid_out.setChecked(True)
        self.amount = QLineEdit(self)
        self.amount.setPlaceholderText(self.tr("Amount, like 50.00"))
        self.reason = QComboBox(self)
        self.reason.setEditable(True)
        self.paid_in.toggled.connect(self._reasons)
        self._reasons()
        row = QHBoxLayout()
        row.addWidget(self.paid_in)
        row.addWidget(self.paid_out)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.amount)
        layout.addWidget(self.reason)
        layout.addWidget(_buttons(self, self.tr("Record")))

    def _reasons(self) -> None:
        self.reason.clear()
        self.reason.addItems([self.tr(r) for r in MOVE_REASONS[self.kind()]])

    def kind(self) -> CashMoveKind:
        return CashMoveKind.PAID_IN if self.paid_in.isChecked() else CashMoveKind.PAID_OUT

    def amount_minor(self) -> int:
        return parse_money(self.amount.text())


class DiscountDialog(QDialog):
    """A percentage or an amount off; over the clerk's limit, a supervisor scans their badge."""

    def __init__(self, title: str, line_chosen: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.line = QRadioButton(self.tr("On the chosen line"), self)
        self.whole = QRadioButton(self.tr("On the whole basket"), self)
        self.line.setEnabled(line_chosen)
        (self.line if line_chosen else self.whole).setChecked(True)
        scope = QButtonGroup(self)
        scope.addButton(self.line)
        scope.addButton(self.whole)
        self.percent = QRadioButton(self.tr("Percent off"), self)
        self.amount = QRadioButton(self.tr("Amount off"), self)
        self.percent.setChecked(True)
        self.value = QLineEdit(self)
        self.value.setPlaceholderText(self.tr("10 for 10 %, or 2.50"))
        self.badge = ""
        self.approval = QLabel(self.tr("Over your limit? A supervisor scans their badge."), self)
        self.approval.setObjectName("hint")
        self.approval.setWordWrap(True)
        kind = QButtonGroup(self)
        kind.addButton(self.percent)
        kind.addButton(self.amount)
        where = QHBoxLayout()
        where.addWidget(self.line)
        where.addWidget(self.whole)
        row = QHBoxLayout()
        row.addWidget(self.percent)
        row.addWidget(self.amount)
        layout = QVBoxLayout(self)
        layout.addLayout(where)
        layout.addLayout(row)
        layout.addWidget(self.value)
        layout.addWidget(self.approval)
        layout.addWidget(_buttons(self, self.tr("Give discount")))

    def accept_scan(self, code: str) -> None:
        self.badge = code
        self.approval.setText(self.tr("Supervisor badge scanned — press Give discount."))

    def on_line(self) -> bool:
        return self.line.isChecked()

    def values(self) -> tuple[int, int]:
        """(percent in basis points, amount in minor units)."""
        value = parse_money(self.value.text())  # "12.5" → 1250: basis points, or cents
        return (value, 0) if self.percent.isChecked() else (0, value)


class PickDialog(QDialog):
    """Type, see matches, pick one (an item, a customer, a suspended sale, a past sale)."""

    def __init__(
        self,
        title: str,
        placeholder: str,
        search: Search | None,
        parent: QWidget | None = None,
        *,
        rows: Sequence[tuple[Any, str]] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(760, 480)
        self._search = search
        self.field = QLineEdit(self)
        self.field.setPlaceholderText(placeholder)
        self.field.returnPressed.connect(self.search_now)
        self.field.setVisible(search is not None)
        self.results = QListWidget(self)
        self.results.itemDoubleClicked.connect(lambda _item: self.accept())
        self.message = QLabel(self)
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.box = QVBoxLayout(self)  # the screen may add a button below
        self.box.addWidget(self.field)
        self.box.addWidget(self.results, 1)
        self.box.addWidget(self.message)
        self.box.addWidget(_buttons(self, self.tr("Choose")))
        # What a scan does while the dialog is open (a receipt's code); None: it closes it.
        self.accept_scan: Callable[[str], None] | None = None
        self.show_rows(list(rows))

    def search_now(self) -> None:
        if self._search is not None and self.field.text().strip():
            self._search(self.field.text().strip(), self.show_rows)

    def show_rows(self, rows: list[tuple[Any, str]]) -> None:
        self.results.clear()
        for key, words in rows:
            item = QListWidgetItem(words, self.results)
            item.setData(Qt.ItemDataRole.UserRole, key)
        if rows:
            self.results.setCurrentRow(0)
            self.message.setText("")
        else:
            self.message.setText(self.tr("Nothing found."))

    def show_error(self, words: str) -> None:
        self.results.clear()
        self.message.setText(words)

    def chosen(self) -> Any:
        item = self.results.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)


class ReturnDialog(QDialog):
    """What comes back from a sale: units and disposition per line; where the money goes."""

    def __init__(self, sale: SaleForReturn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sale = sale
        self.setWindowTitle(self.tr("Return from receipt {n}").format(n=sale.number))
        self.resize(900, 520)
        head = QLabel(
            self.tr("Receipt {n}: {total} paid, {refunded} refunded so far").format(
                n=sale.number,
                total=format_money(sale.total_minor, sale.currency),
                refunded=format_money(sale.refunded_minor, sale.currency),
            ),
            self,
        )
        head.setObjectName("sectionTitle")
        grid = QGridLayout()
        self.units: dict[uuid.UUID, QSpinBox] = {}
        self.dispositions: dict[uuid.UUID, QComboBox] = {}
        for row, line in enumerate(sale.lines):
            name = QLabel(
                self.tr("{name} — {left} of {qty} can come back").format(
                    name=line.name, left=line.returnable_qty, qty=line.qty
                ),
                self,
            )
            spin = QSpinBox(self)
            spin.setRange(0, max(0, line.returnable_qty))
            spin.setEnabled(line.returnable_qty > 0)
            spin.setAccessibleName(line.name)
            combo = QComboBox(self)
            for d in Disposition:
                combo.addItem(self.tr(d.value.capitalize()), d)
            grid.addWidget(name, row, 0)
            grid.addWidget(spin, row, 1)
            grid.addWidget(combo, row, 2)
            self.units[line.id] = spin
            self.dispositions[line.id] = combo
        self.to_original = QRadioButton(self.tr("Refund the way it was paid"), self)
        self.to_credit = QRadioButton(self.tr("Refund to store credit"), self)
        self.to_original.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.to_original)
        group.addButton(self.to_credit)
        row_box = QHBoxLayout()
        row_box.addWidget(self.to_original)
        row_box.addWidget(self.to_credit)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(grid)
        layout.addLayout(row_box)
        layout.addStretch(1)
        layout.addWidget(_buttons(self, self.tr("Take back and refund")))

    def items(self) -> list[ReturnItem]:
        return [
            ReturnItem(
                spin.value(),
                Disposition(self.dispositions[line_id].currentData()),
                sale_line_id=line_id,
            )
            for line_id, spin in self.units.items()
            if spin.value()
        ]

    def refund_to(self) -> RefundTo:
        return RefundTo.STORE_CREDIT if self.to_credit.isChecked() else RefundTo.ORIGINAL


class NoReceiptReturnDialog(QDialog):
    """An item brought back without its receipt: today's price, a supervisor approves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Return without a receipt"))
        self.product_id: uuid.UUID | None = None
        self.badge = ""
        self.item = QLabel(self.tr("Scan the item that comes back."), self)
        self.item.setObjectName("sectionTitle")
        self.qty = QSpinBox(self)
        self.qty.setRange(1, 99)
        self.disposition = QComboBox(self)
        for d in Disposition:
            self.disposition.addItem(self.tr(d.value.capitalize()), d)
        self.to_cash = QRadioButton(self.tr("Refund in cash"), self)
        self.to_credit = QRadioButton(self.tr("Refund to store credit"), self)
        self.to_credit.setChecked(True)
        self.approval = QLabel(self.tr("A supervisor scans their badge to approve."), self)
        self.approval.setObjectName("hint")
        row = QHBoxLayout()
        row.addWidget(self.qty)
        row.addWidget(self.disposition)
        money_row = QHBoxLayout()
        money_row.addWidget(self.to_cash)
        money_row.addWidget(self.to_credit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.item)
        layout.addLayout(row)
        layout.addLayout(money_row)
        layout.addWidget(self.approval)
        layout.addWidget(_buttons(self, self.tr("Take back and refund")))
        self.identify: Callable[[str], None] = lambda _code: None

    def accept_scan(self, code: str) -> None:
        """The first scan names the item; a badge (OP-...) is the supervisor's approval."""
        if self.product_id is not None or code.upper().startswith("OP-"):
            self.badge = code
            self.approval.setText(self.tr("Approved by badge {b}.").format(b=code))
        else:
            self.identify(code)

    def set_product(self, product_id: uuid.UUID, words: str) -> None:
        self.product_id = product_id
        self.item.setText(words)

    def items(self) -> list[ReturnItem]:
        if self.product_id is None:
            return []
        return [
            ReturnItem(
                self.qty.value(),
                Disposition(self.disposition.currentData()),
                product_id=self.product_id,
            )
        ]

    def refund_to(self) -> RefundTo:
        return RefundTo.CASH if self.to_cash.isChecked() else RefundTo.STORE_CREDIT
