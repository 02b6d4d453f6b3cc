"""The packages panel of the pack screen: each package of the order (units, box, weight,
open or closed), and the controls to close one, start another and move units."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.packages import BOX_TYPES
from app.services.views import OrderView, PackageView
from ui.feedback import LiveText
from ui.models import format_int, format_kg

PANEL_WIDTH = 400


class PackagesPanel(QFrame):
    """Shows the packages; the pack screen connects the buttons to its actions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setFixedWidth(PANEL_WIDTH)
        self._shown: tuple[PackageView, ...] = ()
        self._labels: list[LiveText] = []
        title = QLabel(self.tr("Packages"), self)
        title.setObjectName("sectionTitle")
        self.rows = QVBoxLayout()
        self.rows.setSpacing(6)
        self.box_type = QComboBox(self)
        self.box_type.addItems(BOX_TYPES)
        self.box_type.setAccessibleName(self.tr("Box type"))
        self.weight = QLineEdit(self)
        self.weight.setPlaceholderText(self.tr("Weight in kg, e.g. 1.25"))
        self.weight.setAccessibleName(self.tr("Weight in kg"))
        self.close_button = self._button(self.tr("Close package"))
        self.close_button.setObjectName("primary")
        self.new_button = self._button(self.tr("New package"))
        self.move_button = self._button(self.tr("Move units"))
        form = QFormLayout()
        form.setVerticalSpacing(8)
        for text, field in ((self.tr("Box"), self.box_type), (self.tr("Weight"), self.weight)):
            label = QLabel(text, self)
            label.setObjectName("formLabel")
            label.setAlignment(Qt.AlignmentFlag.AlignVCenter)
            form.addRow(label, field)
        buttons = QGridLayout()
        buttons.addWidget(self.close_button, 0, 0, 1, 2)
        buttons.addWidget(self.new_button, 1, 0)
        buttons.addWidget(self.move_button, 1, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(14, 12, 14, 12)
        box.addWidget(title)
        box.addLayout(self.rows)
        box.addStretch(1)
        box.addLayout(form)
        box.addLayout(buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The Close button's words change on an order's first scan ("Close package" → "Close
        # package 1"), and new words on a button lay the whole page out again, unless its size
        # is fixed. It is as wide as the panel (whose width is fixed) and one line high: hold it
        # at the size the layout gave it.
        button = self.close_button
        if button.minimumSize() != button.maximumSize():
            button.setFixedSize(button.size())

    def _button(self, text: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # scans and typing keep their field
        return button

    @staticmethod
    def to_close(order: OrderView | None) -> PackageView | None:
        """The package the Close button closes: the first open one with items in it."""
        packages = order.packages if order else ()
        return next((p for p in packages if not p.closed and p.units > 0), None)

    def show_order(self, order: OrderView | None) -> None:
        packing = order is not None and order.status == "packing"
        newest_open = order.open_package if order else None
        to_close = self.to_close(order)
        packages = order.packages if order else ()
        if packages == self._shown and packing == self.move_button.isEnabled():
            return  # a scan changes the packages; most other updates do not
        self.move_button.setEnabled(packing)
        # A new box once the one being filled has something in it (or every box is closed).
        self.new_button.setEnabled(
            packing
            and (newest_open is None or newest_open.units > 0)
            and order is not None
            and any(p.units for p in order.packages)
        )
        self.close_button.setEnabled(packing and to_close is not None)
        self.close_button.setText(
            self.tr("Close package {n}").format(n=to_close.seq)
            if to_close is not None
            else self.tr("Close package")
        )
        self._show_rows(order)

    def _show_rows(self, order: OrderView | None) -> None:
        # On the scan path: reuse the row labels (they repaint in place), restyle one only
        # when it closes or opens.
        packages = order.packages if order else ()
        if packages == self._shown:
            return
        self._shown = packages
        while len(self._labels) > len(packages):
            self._labels.pop().deleteLater()
        while len(self._labels) < len(packages):
            row = LiveText(self, wrap=True)
            row.setObjectName("packageRow")
            self.rows.addWidget(row)
            self._labels.append(row)
        newest_open = order.open_package if order else None
        for row, p in zip(self._labels, packages, strict=True):
            row.setText(self._describe(p, p is newest_open))
            closed = "true" if p.closed else "false"
            if row.property("closed") != closed:
                row.setProperty("closed", closed)
                row.style().unpolish(row)
                row.style().polish(row)

    def _describe(self, p: PackageView, filling: bool) -> str:
        units = (
            self.tr("1 unit")
            if p.units == 1
            else self.tr("{n} units").format(n=format_int(p.units))
        )
        if p.closed:
            return self.tr("Package {n} · {units} · {box} · {kg} · closed ✓").format(
                n=p.seq, units=units, box=p.box_type, kg=format_kg(p.weight_g or 0)
            )
        words = (
            self.tr("Package {n} · {units} · filling now")
            if filling
            else self.tr("Package {n} · {units} · open")
        )
        return words.format(n=p.seq, units=units)

    def package_labels(self) -> list[str]:
        return [label.text() for label in self._labels]
