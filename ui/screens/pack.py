"""The pack bench screen: scan an order, scan its items into packages, close them, complete.

Every scan (from the scanner via the main window, or typed into "Type a code") goes to
:meth:`PackScreen.handle_scan`, which runs :meth:`PackBench.scan` on the database worker; the
:class:`BenchResult` comes back on the GUI thread and updates the lines model (only the rows
that changed), the banner, the sound and the instruction. Nothing here waits on the database.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import WaystationError
from app.services.bench import BenchResult, PackBench
from app.services.packages import parse_weight
from app.services.views import CompletedOrder, OperatorView, OrderView
from ui import messages
from ui.feedback import Banner, Sounds
from ui.models import format_datetime, format_int, format_kg, status_words
from ui.models.order_lines import NAME, OrderLinesModel
from ui.ops import DbOp, DbWorker
from ui.screens.pack_dialogs import LineQtyDialog
from ui.screens.packages_panel import PackagesPanel
from ui.theme import Colors
from ui.widgets import ElidedLabel

log = logging.getLogger(__name__)
MISSING_REASONS = ("Bin empty", "Item damaged", "Wrong item in the bin", "Not found")


class PackScreen(QWidget):
    """Signals:
    search_requested(): the packer wants the order search screen.
    journal_requested(): the packer wants the print journal.
    sign_out_requested(): the packer is leaving the bench.
    order_completed(str): an order was packed; its number.
    scan_shown(): the result of a scan is on screen (committed, model and banner updated).
    print_queued(): a scan queued a print job (a shipping label on the order's last scan).
    order_shown(object): the order on the bench changed or moved on (an OrderView, or None).
    """

    search_requested = Signal()
    journal_requested = Signal()
    sign_out_requested = Signal()
    order_completed = Signal(str)
    scan_shown = Signal()
    print_queued = Signal()
    order_shown = Signal(object)

    def __init__(
        self,
        worker: DbWorker,
        sounds: Sounds,
        bench_factory: Callable[[OperatorView], PackBench],
        colors: Colors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._sounds = sounds
        self._bench_factory = bench_factory
        self._bench: PackBench | None = None
        self._order: OrderView | None = None
        # Scan → screen updated, and the part of it spent in PackBench.scan (benchmarks, tests).
        self.feedback_ms: list[float] = []
        self.dialog: QDialog | None = None
        self.core_ms: list[float] = []
        self.model = OrderLinesModel(colors, self)
        self._build()
        self._declare_shortcuts()
        self._show_order(None)

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.instruction = QLabel(self)
        self.instruction.setObjectName("instruction")
        self.instruction.setWordWrap(True)
        self.search_button = self._button(self.tr("Search orders (F3)"), self.search_requested)
        self.journal_button = self._button(self.tr("Print jobs (F4)"), self.journal_requested)
        self.sign_out_button = self._button(self.tr("Sign out"), self.sign_out_requested)
        top = QHBoxLayout()
        top.addWidget(self.instruction, 1)
        top.addWidget(self.search_button)
        top.addWidget(self.journal_button)
        top.addWidget(self.sign_out_button)

        self.banner = Banner(self)

        self.order_number = QLabel(self)
        self.order_number.setObjectName("orderNumber")
        self.status_chip = QLabel(self)
        self.status_chip.setObjectName("statusChip")
        self.order_meta = ElidedLabel(self, mode=Qt.TextElideMode.ElideRight)
        self.order_meta.setObjectName("orderMeta")
        header = QHBoxLayout()
        header.addWidget(self.order_number)
        header.addWidget(self.status_chip)
        header.addSpacing(12)
        header.addWidget(self.order_meta, 1)

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(50)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        head.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        head.setMinimumSectionSize(80)
        # Sized once per order, not per scan (ResizeToContents re-measures on every change).
        self.model.modelReset.connect(self._size_columns)

        self.hold_panel = self._build_hold_panel()
        left = QVBoxLayout()
        left.addLayout(header)
        left.addWidget(self.table, 1)
        left.addWidget(self.hold_panel)

        self.packages = PackagesPanel(self)
        self.packages.weight.returnPressed.connect(self.close_package)
        self.packages.close_button.clicked.connect(self.close_package)
        self.packages.new_button.clicked.connect(self.new_package)
        self.packages.move_button.clicked.connect(self.ask_move)
        # Names the tests and shortcuts use.
        self.box_type, self.weight = self.packages.box_type, self.packages.weight
        self.close_button = self.packages.close_button
        self.new_button = self.packages.new_button
        self.move_button = self.packages.move_button
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(self.packages)

        self.code = QLineEdit(self)
        self.code.setObjectName("manualCode")
        self.code.setPlaceholderText(self.tr("Type a code and press Enter"))
        self.code.setAccessibleName(self.tr("Type a code"))
        self.code.returnPressed.connect(self._typed_code)
        self.qty = QSpinBox(self)
        self.qty.setRange(1, 9999)
        self.qty.setPrefix(self.tr("× "))
        self.qty.setToolTip(self.tr("Units per scan, for lines with many units"))
        self.qty.setAccessibleName(self.tr("Quantity per scan"))
        self.undo_button = self._button(self.tr("Undo last scan"), self.undo_last_scan)
        self.missing_button = self._button(self.tr("Report missing item"), self.ask_missing)
        self.missing_button.setObjectName("danger")
        self.complete_button = self._button(self.tr("Complete order"), self.complete_order)
        self.complete_button.setObjectName("primary")
        self.complete_button.setMinimumWidth(220)
        bottom = QHBoxLayout()
        bottom.addWidget(self.code, 1)
        bottom.addWidget(self.qty)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(self.missing_button)
        bottom.addWidget(self.complete_button)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addLayout(body, 1)
        page.addLayout(bottom)

    def _build_hold_panel(self) -> QFrame:
        panel = QFrame(self)
        panel.setObjectName("holdPanel")
        self.hold_reason = QLabel(panel)
        self.hold_reason.setObjectName("sectionTitle")
        self.hold_reason.setWordWrap(True)
        self.ship_short = QRadioButton(self.tr("Ship without the missing items"), panel)
        self.items_found = QRadioButton(self.tr("The items were found — keep packing"), panel)
        self.ship_short.setChecked(True)
        hint = QLabel(self.tr("Supervisor: choose, then scan your badge."), panel)
        hint.setObjectName("hint")
        box = QVBoxLayout(panel)
        box.addWidget(self.hold_reason)
        row = QHBoxLayout()
        row.addWidget(self.ship_short)
        row.addWidget(self.items_found)
        row.addStretch(1)
        box.addLayout(row)
        box.addWidget(hint)
        return panel

    def _button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text, self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # scans and typing keep their field
        button.clicked.connect(slot)
        return button

    def _declare_shortcuts(self) -> None:
        for keys, slot in (
            ("F3", self.search_requested.emit),
            ("F4", self.journal_requested.emit),
            ("Ctrl+Z", self.undo_last_scan),
            ("Ctrl+Return", self.complete_order),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)

    # --- session ---------------------------------------------------------------------------

    def start_session(self, operator: OperatorView) -> None:
        self._bench = self._bench_factory(operator)
        self._show_order(None)
        self.banner.show_message(
            "info", self.tr("Hello {name} — scan an order to start.").format(name=operator.name)
        )
        self.code.setFocus()

    def end_session(self) -> None:
        self._bench = None
        self._show_order(None)

    @property
    def order(self) -> OrderView | None:
        return self._order

    # --- scanning --------------------------------------------------------------------------

    def _typed_code(self) -> None:
        text = self.code.text().strip()
        self.code.clear()
        if text:
            self.handle_scan(text)

    def handle_scan(self, code: str) -> None:
        """A scan (or a typed code): what it means depends on where the packer is."""
        bench = self._bench
        if bench is None:
            return
        started = time.perf_counter()
        if self.dialog is not None and self.dialog.isVisible():
            # A scan means the packer moved on: the half-filled dialog is dropped, not sent.
            self.dialog.reject()
        if self._order is not None and self._order.status == "on_hold":
            self._release_hold(code)
            return
        qty = self.qty.value() if self.qty.value() > 1 else None
        self.qty.setValue(1)
        DbOp(self._worker, lambda: bench.scan(code, qty)).success(
            lambda result: self._scanned(result, started)
        ).failure(lambda error: self._failed(error, "scan")).run()

    def _scanned(self, result: BenchResult, started: float) -> None:
        self._show_order(result.order)
        if result.line_id is not None:
            self._highlight(result.line_id)
        self._feedback("good" if result.ok else "bad", result.message)
        self.feedback_ms.append((time.perf_counter() - started) * 1000)
        self.core_ms.append(result.elapsed_ms)
        self.scan_shown.emit()
        if result.queued_print:
            self.print_queued.emit()

    def _size_columns(self) -> None:
        for col in range(1, self.model.columnCount()):
            self.table.resizeColumnToContents(col)
            width = self.table.columnWidth(col)
            # The product name (stretching) gets what the short columns leave.
            self.table.setColumnWidth(col, max(width + 12, 96))

    def _highlight(self, line_id: uuid.UUID) -> None:
        row = self.model.row_of(line_id)
        if row < 0:
            return
        index = self.model.index(row, 0)
        self.table.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    def _feedback(self, kind: str, words: str) -> None:
        self.banner.show_message(kind, words)
        self._sounds.play("good" if kind == "good" else "bad")

    def _failed(self, error: BaseException, action: str) -> None:
        self._feedback("bad", messages.describe(error, action=action))

    # --- actions ---------------------------------------------------------------------------

    def _run(self, fn: Callable[[PackBench], OrderView], words: str) -> None:
        bench = self._bench
        if bench is None:
            return

        def done(order: OrderView) -> None:
            self._show_order(order)
            self._feedback("good", words)

        DbOp(self._worker, lambda: fn(bench)).success(done).failure(
            lambda error: self._failed(error, "action")
        ).run()

    def undo_last_scan(self) -> None:
        self._run(lambda b: b.undo(), self.tr("Last scan undone — take that item out again."))

    def close_package(self) -> None:
        package = self.packages.to_close(self._order)
        if package is None:
            self._feedback("bad", self.tr("There is no open package to close."))
            return
        try:
            grams = parse_weight(self.weight.text())
        except WaystationError as e:
            self._feedback("bad", messages.describe(e, action="action"))
            return
        box = self.box_type.currentText()
        self.weight.clear()
        self._run(
            lambda b: b.close_package(package.seq, grams, box),
            self.tr("Package {n} closed: {box}, {kg}.").format(
                n=package.seq, box=box, kg=format_kg(grams)
            ),
        )

    def new_package(self) -> None:
        self._run(lambda b: b.add_package(), self.tr("New package open — scan items into it."))

    def ask_missing(self) -> None:
        if self._order is None:
            self._feedback("bad", self.tr("Scan an order first."))
            return
        dialog = LineQtyDialog(self._order, self.tr("Report a missing item"), self)
        dialog.reason.addItems([self.tr(r) for r in MISSING_REASONS])
        dialog.accepted.connect(
            lambda: self.report_missing(dialog.line_id(), dialog.qty.value(), dialog.reason_text())
        )
        self._open(dialog)

    def _open(self, dialog: QDialog) -> None:
        # The wedge filter watches the main window only: once the dialog is gone, give the
        # window (and the code field) the keyboard back so the next scan is caught.
        self.dialog = dialog
        dialog.finished.connect(self._dialog_closed)
        dialog.open()

    def _dialog_closed(self, _result: int) -> None:
        self.window().activateWindow()
        self.code.setFocus()

    def report_missing(self, line_id: uuid.UUID, qty: int, reason: str) -> None:
        self._run(
            lambda b: b.report_missing(line_id, qty, reason),
            self.tr("Reported missing — the order is on hold for a supervisor."),
        )

    def ask_move(self) -> None:
        if self._order is None or len(self._order.packages) < 2:
            self._feedback("bad", self.tr("Units can move once the order has two packages."))
            return
        dialog = LineQtyDialog(self._order, self.tr("Move units between packages"), self)
        dialog.add_packages([p.seq for p in self._order.packages])
        dialog.accepted.connect(
            lambda: self.move_units(
                dialog.line_id(), dialog.from_seq(), dialog.to_seq(), dialog.qty.value()
            )
        )
        self._open(dialog)

    def move_units(self, line_id: uuid.UUID, from_seq: int, to_seq: int, qty: int) -> None:
        self._run(
            lambda b: b.move_units(line_id, from_seq, to_seq, qty),
            self.tr("Moved {qty} from package {a} to package {b}.").format(
                qty=format_int(qty), a=from_seq, b=to_seq
            ),
        )

    def _release_hold(self, badge: str) -> None:
        ship_short = self.ship_short.isChecked()
        self._run(
            lambda b: b.release_hold(badge, ship_short),
            self.tr("Hold released by the supervisor — carry on."),
        )

    def complete_order(self) -> None:
        bench = self._bench
        if bench is None or not self.complete_button.isEnabled():
            return
        DbOp(self._worker, bench.complete).success(self._completed).failure(
            lambda error: self._failed(error, "action")
        ).run()

    def _completed(self, done: CompletedOrder) -> None:
        # The slip is queued with the order in one transaction; the print worker sends it
        # (a printer that is off never holds up the bench — the status bar tells).
        number = done.order.number
        self._show_order(None)
        self._feedback(
            "good",
            self.tr("Order {n} packed — its packing slip is printing. Scan the next order.").format(
                n=number
            ),
        )
        self.order_completed.emit(number)

    # --- showing the order -----------------------------------------------------------------

    def _show_order(self, order: OrderView | None) -> None:
        self._order = order
        self.model.set_order(order)
        if order is None:
            self.order_number.setText(self.tr("No order open"))
            self.order_meta.setText("")
            self.status_chip.setProperty("state", "")
            self.status_chip.hide()
        else:
            self.order_number.setText(order.number)
            if self.status_chip.property("state") != order.status:
                self.status_chip.setText(status_words(order.status))
                self.status_chip.setProperty("state", order.status)
                self.status_chip.style().unpolish(self.status_chip)
                self.status_chip.style().polish(self.status_chip)
            self.status_chip.show()
            meta = self.tr("{packed} of {units} units · {customer} · {channel} · placed {placed}")
            meta = meta.format(
                customer=order.customer,
                channel=order.channel,
                placed=format_datetime(order.placed_at),
                packed=format_int(order.units_packed),
                units=format_int(order.units_ordered),
            )
            self.order_meta.setText(meta)
            self.order_meta.setToolTip(meta)
        on_hold = order is not None and order.status == "on_hold"
        self.hold_panel.setVisible(on_hold)
        if on_hold and order is not None:
            self.hold_reason.setText(self.tr("On hold: {why}").format(why=order.hold_reason))
        self.packages.show_order(order)
        self.instruction.setText(self._instruction(order))
        packing = order is not None and order.status == "packing"
        for w in (self.undo_button, self.missing_button):
            w.setEnabled(packing)
        self.complete_button.setEnabled(
            packing
            and order is not None
            and order.all_packed
            and not any(not p.closed and p.units for p in order.packages)
        )
        self.order_shown.emit(order)

    def _instruction(self, order: OrderView | None) -> str:
        if order is None:
            return self.tr("Scan an order to start")
        if order.status == "on_hold":
            return self.tr("{n} is on hold — a supervisor scans their badge").format(n=order.number)
        if not order.all_packed:
            return self.tr("Scan the items of {n}").format(n=order.number)
        if any(not p.closed and p.units for p in order.packages):
            return self.tr("All items packed — close the package")
        return self.tr("All packed — press Complete order")
