"""The counter screen's right-hand panel: the total read from a step away, what it is made of,
what is still due, and the payment buttons — or, with the till closed, the button that opens it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.counter.views import Basket
from ui.models.basket import format_money


class PayPanel(QFrame):
    """Signals:
    pay_requested(str): a payment button was pressed; the tender kind (cash, card, voucher).
    open_requested(): the clerk wants to open the till.
    """

    pay_requested = Signal(str)
    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setFixedWidth(380)
        self.customer = self._label("hint")
        self.total_caption = QLabel(self.tr("TOTAL"), self)
        self.total_caption.setObjectName("sectionTitle")
        self.total = self._label("counterTotal", right=True)
        # The theme's style sheet sets every widget's font size; this one is read from afar.
        self.total.setStyleSheet("font-size: 54px; font-weight: 800;")
        self.breakdown = self._label("hint", right=True)
        self.due = self._label("orderNumber", right=True)
        self.stale = QLabel(self.tr("Prices and stock as of the last sync"), self)
        self.stale.setObjectName("hint")

        # Two blocks shown one at a time (a stacked widget would take the window's background).
        self.selling_block = QWidget(self)
        self.amount = QLineEdit(self.selling_block)
        self.amount.setPlaceholderText(self.tr("Amount given"))
        self.amount.setToolTip(self.tr("Leave it empty to take exactly what is due"))
        self.amount.setAccessibleName(self.tr("Amount given"))
        self.cash_button = self._button(self.tr("Cash (F5)"), "cash", primary=True)
        self.card_button = self._button(self.tr("Card (F6)"), "card", primary=True)
        self.voucher_button = self._button(self.tr("Store credit / gift card (F7)"), "voucher")
        sell_box = QVBoxLayout(self.selling_block)
        sell_box.setContentsMargins(0, 0, 0, 0)
        sell_box.addWidget(self.amount)
        pay_row = QHBoxLayout()
        pay_row.addWidget(self.cash_button)
        pay_row.addWidget(self.card_button)
        sell_box.addLayout(pay_row)
        sell_box.addWidget(self.voucher_button)

        self.closed_block = QWidget(self)
        self.open_button = QPushButton(self.tr("Open till"), self.closed_block)
        self.open_button.setObjectName("primary")
        self.open_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.open_button.clicked.connect(self.open_requested)
        hint = QLabel(
            self.tr("Count the float into the drawer, then press Open till."), self.closed_block
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        closed_box = QVBoxLayout(self.closed_block)
        closed_box.setContentsMargins(0, 0, 0, 0)
        closed_box.addWidget(self.open_button)
        closed_box.addWidget(hint)
        closed_box.addStretch(1)

        box = QVBoxLayout(self)
        for w in (self.customer, self.total_caption, self.total, self.breakdown, self.due):
            box.addWidget(w)
        box.addStretch(1)
        box.addWidget(self.selling_block)
        box.addWidget(self.closed_block)
        box.addWidget(self.stale)

    def _label(self, name: str, *, right: bool = False) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        if right:
            label.setAlignment(Qt.AlignmentFlag.AlignRight)
        return label

    def _button(self, text: str, kind: str, *, primary: bool = False) -> QPushButton:
        button = QPushButton(text, self.selling_block)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # scans and typing keep their field
        if primary:
            button.setObjectName("primary")
        button.clicked.connect(lambda: self.pay_requested.emit(kind))
        return button

    def show_basket(self, basket: Basket | None, *, till_open: bool) -> None:
        currency = basket.currency if basket else "EUR"
        self.total.setText(format_money(basket.total_minor if basket else 0, currency))
        breakdown = due = customer = ""
        if basket is not None and basket.live_lines:
            parts = [self.tr("{n} items").format(n=basket.items)]
            if basket.discount_minor:
                off = format_money(-basket.discount_minor, currency)
                parts.append(self.tr("discount {d}").format(d=off))
            vat = format_money(basket.tax_minor, currency)
            inclusive = basket.basis == "inclusive"
            parts.append(
                (self.tr("VAT incl. {t}") if inclusive else self.tr("+ VAT {t}")).format(t=vat)
            )
            breakdown = " · ".join(parts)
            if basket.payments:
                due = self.tr("Still to pay: {due}").format(
                    due=format_money(basket.due_minor, currency)
                )
        if basket is not None and basket.customer:
            customer = self.tr("Customer: {name}").format(name=basket.customer)
        for label, text in (
            (self.breakdown, breakdown),
            (self.due, due),
            (self.customer, customer),
        ):
            label.setText(text)
            label.setVisible(bool(text))  # no empty rows taking the panel's height
        self.selling_block.setVisible(till_open)
        self.closed_block.setVisible(not till_open)
        selling = till_open and basket is not None and bool(basket.live_lines)
        for button in (self.cash_button, self.card_button, self.voucher_button):
            button.setEnabled(selling)
