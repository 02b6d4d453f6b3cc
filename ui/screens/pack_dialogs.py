"""Dialogs of the pack screen: choose a line and a quantity (a missing item, moving units)."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.services.views import OrderView


class LineQtyDialog(QDialog):
    """Choose a line of the order and a quantity (and a reason, or two packages)."""

    def __init__(self, order: OrderView, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._order = order
        self.line = QComboBox(self)
        for line in order.lines:
            self.line.addItem(f"{line.line_no}. {line.sku} — {line.name}", str(line.id))
        self.qty = QSpinBox(self)
        self.qty.setRange(1, 9999)
        self.reason = QComboBox(self)
        self.reason.setEditable(True)
        self.from_box = QComboBox(self)
        self.to_box = QComboBox(self)
        self.form = QFormLayout()
        self.form.addRow(self.tr("Line"), self.line)
        self.form.addRow(self.tr("Quantity"), self.qty)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        box = QVBoxLayout(self)
        box.addLayout(self.form)
        box.addWidget(buttons)
        self.form.addRow(self.tr("Reason"), self.reason)

    def add_packages(self, seqs: list[int]) -> None:
        self.form.removeRow(self.reason)
        for seq in seqs:
            self.from_box.addItem(self.tr("Package {n}").format(n=seq), seq)
            self.to_box.addItem(self.tr("Package {n}").format(n=seq), seq)
        self.to_box.setCurrentIndex(len(seqs) - 1)
        self.form.addRow(self.tr("From"), self.from_box)
        self.form.addRow(self.tr("To"), self.to_box)

    def line_id(self) -> uuid.UUID:
        return uuid.UUID(self.line.currentData())

    def reason_text(self) -> str:
        return self.reason.currentText()

    def from_seq(self) -> int:
        return int(self.from_box.currentData())

    def to_seq(self) -> int:
        return int(self.to_box.currentData())
