"""Sign-in: scan a badge, or choose a name and type a PIN.

The badge arrives as a scan (the wedge filter's ``scanned`` signal, routed here by the main
window while this screen is shown); the name + PIN form is for a badge left at home.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import messages
from ui.feedback import Banner, Sounds
from ui.ops import DbOp, DbWorker

if TYPE_CHECKING:
    from app.services.views import OperatorView

log = logging.getLogger(__name__)
UowFactory = Callable[[], Any]  # a fresh unit of work (app.store stays out of ui)


class SignInScreen(QWidget):
    """Signals:
    signed_in(OperatorView): an operator signed in, by badge or by name and PIN.
    """

    signed_in = Signal(object)

    def __init__(
        self,
        uow: UowFactory,
        worker: DbWorker,
        sounds: Sounds,
        *,
        station_name: str,
        badge_needs_pin: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._uow = uow
        self._worker = worker
        self._sounds = sounds
        self._badge_needs_pin = badge_needs_pin
        self._pending_badge: str | None = None

        title = QLabel(self.tr("Waystation — {station}").format(station=station_name), self)
        title.setObjectName("screenTitle")
        self.instruction = QLabel(self.tr("Scan your badge to sign in"), self)
        self.instruction.setObjectName("instruction")
        self.banner = Banner(self)
        self.banner.show_message("info", self.tr("Hold your badge under the scanner."))

        hint = QLabel(self.tr("No badge? Choose your name and type your PIN."), self)
        hint.setObjectName("hint")
        self.names = QComboBox(self)
        self.names.setAccessibleName(self.tr("Your name"))
        self.names.setMinimumWidth(420)
        self.names.setPlaceholderText(self.tr("Choose your name"))
        self.pin = QLineEdit(self)
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setInputMethodHints(
            Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData
        )
        self.pin.setValidator(QRegularExpressionValidator(r"\d{0,12}", self.pin))
        self.pin.setPlaceholderText(self.tr("PIN"))
        self.pin.setAccessibleName(self.tr("PIN"))
        self.pin.returnPressed.connect(self.sign_in_with_pin)
        self.sign_in_button = QPushButton(self.tr("Sign in"), self)
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.clicked.connect(self.sign_in_with_pin)

        form_frame = QFrame(self)
        form_frame.setObjectName("panel")
        form = QFormLayout(form_frame)
        form.setContentsMargins(24, 20, 24, 20)
        form.setVerticalSpacing(14)
        form.setHorizontalSpacing(18)
        form.addRow(hint)
        form.addRow(self._label(self.tr("Name")), self.names)
        form.addRow(self._label(self.tr("PIN")), self.pin)
        form.addRow("", self.sign_in_button)

        column = QVBoxLayout()
        column.setSpacing(18)
        column.addStretch(1)
        column.addWidget(title)
        column.addWidget(self.instruction)
        column.addWidget(self.banner)
        column.addSpacing(12)
        column.addWidget(form_frame)
        column.addStretch(2)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(32, 40, 32, 24)
        outer.addStretch(1)
        outer.addLayout(column, 6)
        outer.addStretch(1)

    def _label(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName("formLabel")
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return label

    # --- actions ---------------------------------------------------------------------------

    def load_names(self) -> None:
        """Fill the name list (on the worker; the screen works before it arrives)."""
        uow = self._uow

        def names() -> list[str]:
            from app.services.auth import operator_names  # on the worker: it loads the ORM

            with uow() as u:
                return operator_names(u)

        DbOp(self._worker, names).success(self._set_names).run()

    def _set_names(self, names: list[str]) -> None:
        current = self.names.currentText()
        self.names.clear()
        self.names.addItems(names)
        self.names.setCurrentIndex(names.index(current) if current in names else -1)

    def handle_scan(self, code: str) -> None:
        """A badge scan: sign in (or, when the station asks for a PIN, ask for it)."""
        if self._badge_needs_pin:
            self._pending_badge = code
            self.banner.show_message("info", self.tr("Badge read — now type your PIN."))
            self.pin.setFocus()
            return
        self._sign_in(lambda u, auth: auth.sign_in_badge(u, code))

    def sign_in_with_pin(self) -> None:
        pin = self.pin.text()
        if not pin:
            self._refuse(self.tr("Type your PIN, then press Sign in."))
            return
        badge, self._pending_badge = self._pending_badge, None
        if badge is not None:
            self._sign_in(lambda u, auth: auth.sign_in_badge(u, badge, pin))
            return
        name = self.names.currentText()
        if not name:
            self._refuse(self.tr("Choose your name first."))
            return
        self._sign_in(lambda u, auth: auth.sign_in_pin(u, name, pin))

    def _sign_in(self, action: Callable[[Any, Any], OperatorView]) -> None:
        """Run ``action(unit of work, app.services.auth)`` on the worker."""
        uow = self._uow

        def run() -> OperatorView:
            from app.services import auth  # on the worker: it loads the ORM

            with uow() as u:
                return action(u, auth)

        self.banner.show_message("info", self.tr("Checking…"))
        DbOp(self._worker, run).success(self._welcome).failure(self._failed).run()

    def _welcome(self, operator: OperatorView) -> None:
        self.pin.clear()
        self._sounds.play("good")
        self.banner.show_message("good", self.tr("Welcome, {name}.").format(name=operator.name))
        log.info("signed in: %s", operator.name)
        self.signed_in.emit(operator)

    def _failed(self, error: BaseException) -> None:
        self.pin.clear()
        self._refuse(messages.describe(error, action="sign-in"))

    def _refuse(self, words: str) -> None:
        self._sounds.play("bad")
        self.banner.show_message("bad", words)

    def reset(self) -> None:
        """Back to a blank sign-in (after a sign-out)."""
        self.pin.clear()
        self._pending_badge = None
        self.banner.show_message("info", self.tr("Hold your badge under the scanner."))
