"""Printer set-up: for each kind of document, where it prints (a CUPS queue, a network label or
receipt printer, or a folder), how that printer is doing, and a test page. Saving needs a role
that may change the station's settings. Probes and test pages run on the print worker's thread:
a printer that does not answer never freezes the screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.config import PrinterConfig, StationConfig
from app.domain.errors import PrintError
from ui import messages
from ui.feedback import Banner

KINDS = (
    ("folder", "Save to a folder"),
    ("cups", "CUPS queue"),
    ("socket", "Network printer"),
    ("serial", "Serial port"),
    ("usb", "USB printer"),
)
PAPERS = ("A4", "LETTER", "4x6")
DOCUMENTS = (
    ("packing_slip", "Packing slips"),
    ("shipping_label", "Shipping labels"),
    ("receipt", "Receipts"),
)
Run = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[BaseException], None]], None]


class _PrinterRow:
    """The widgets of one kind of document."""

    def __init__(self, grid: QGridLayout, row: int, title: str, parent: QWidget) -> None:
        self.title = QLabel(title, parent)
        self.title.setObjectName("sectionTitle")
        self.kind = QComboBox(parent)
        for key, words in KINDS:
            self.kind.addItem(parent.tr(words), key)
        self.queue = QComboBox(parent)
        self.queue.setEditable(True)
        self.queue.setMinimumWidth(200)
        self.host = QLineEdit(parent)
        self.host.setPlaceholderText(parent.tr("printer address"))
        self.port = QSpinBox(parent)
        self.port.setRange(1, 65535)
        self.port.setValue(9100)
        self.folder = QLineEdit(parent)
        self.folder.setPlaceholderText(parent.tr("folder"))
        self.device = QLineEdit(parent)
        self.device.setPlaceholderText(parent.tr("/dev/ttyUSB0, or vendor:product like 04b8:0202"))
        self.paper = QComboBox(parent)
        self.paper.addItems(PAPERS)
        self.state = QLabel("", parent)
        self.state.setWordWrap(True)
        self.state.setObjectName("hint")
        self.test_button = QPushButton(parent.tr("Test page"), parent)
        self.test_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        where = QHBoxLayout()
        for w in (self.queue, self.host, self.port, self.folder, self.device):
            where.addWidget(w)
        grid.addWidget(self.title, row * 2, 0)
        grid.addWidget(self.kind, row * 2, 1)
        grid.addLayout(where, row * 2, 2)
        grid.addWidget(self.paper, row * 2, 3)
        grid.addWidget(self.test_button, row * 2, 4)
        grid.addWidget(self.state, row * 2 + 1, 1, 1, 4)
        self.kind.currentIndexChanged.connect(lambda _i: self._show_fields())

    def _show_fields(self) -> None:
        kind = self.kind.currentData()
        self.queue.setVisible(kind == "cups")
        self.host.setVisible(kind == "socket")
        self.port.setVisible(kind == "socket")
        self.folder.setVisible(kind == "folder")
        self.device.setVisible(kind in ("serial", "usb"))

    def load(self, printer: PrinterConfig) -> None:
        self.kind.setCurrentIndex(max(0, self.kind.findData(printer.kind)))
        self.queue.setCurrentText(printer.queue)
        self.host.setText(printer.host)
        self.port.setValue(printer.port)
        self.folder.setText(printer.folder)
        self.device.setText(printer.device)
        self._baudrate = printer.baudrate
        self.paper.setCurrentText(printer.paper)
        self._show_fields()

    def printer(self, server: str) -> PrinterConfig:
        return PrinterConfig(
            kind=str(self.kind.currentData()),
            queue=self.queue.currentText().strip(),
            server=server,
            folder=self.folder.text().strip(),
            host=self.host.text().strip(),
            port=self.port.value(),
            device=self.device.text().strip(),
            baudrate=getattr(self, "_baudrate", 9600),
            paper=self.paper.currentText(),
        )


class PrinterSetupScreen(QWidget):
    """Signals:
    back_requested(): the person is done here.
    save_requested(object): a dict {document kind: PrinterConfig} to save.
    """

    back_requested = Signal()
    save_requested = Signal(object)

    def __init__(self, run: Run, station: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run = run
        self._station = station
        self._server = ""
        title = QLabel(self.tr("Printers"), self)
        title.setObjectName("instruction")
        back = QPushButton(self.tr("Back (Esc)"), self)
        back.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        back.clicked.connect(self.back_requested)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(back)
        self.banner = Banner(self)
        self.banner.show_message("info", self.tr("Choose where each kind of document prints."))
        panel = QFrame(self)
        panel.setObjectName("panel")
        grid = QGridLayout(panel)
        grid.setContentsMargins(14, 12, 14, 12)
        grid.setHorizontalSpacing(12)
        grid.setColumnStretch(2, 1)
        self.rows: dict[str, _PrinterRow] = {}
        for i, (doc, words) in enumerate(DOCUMENTS):
            row = _PrinterRow(grid, i, self.tr(words), panel)
            row.test_button.clicked.connect(lambda _c=False, d=doc: self.test_page(d))
            self.rows[doc] = row
        self.refresh_button = QPushButton(self.tr("Check printers"), self)
        self.refresh_button.clicked.connect(self.refresh)
        self.save_button = QPushButton(self.tr("Save"), self)
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(
            lambda: self.save_requested.emit(
                {d: r.printer(self._server) for d, r in self.rows.items()}
            )
        )
        self.cups_state = QLabel("", self)
        self.cups_state.setObjectName("hint")
        self.cups_state.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.refresh_button)
        bottom.addWidget(self.cups_state, 1)
        bottom.addWidget(self.save_button)
        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addWidget(panel)
        page.addStretch(1)
        page.addLayout(bottom)
        esc = QShortcut(QKeySequence("Esc"), self)
        esc.activated.connect(self.back_requested)

    def _save(self) -> None:
        self.save_requested.emit({d: r.printer(self._server) for d, r in self.rows.items()})

    def saved(self) -> None:
        self.banner.show_message("good", self.tr("Printers saved — new jobs print there."))
        self.refresh()

    def load(self, config: StationConfig) -> None:
        for doc, row in self.rows.items():
            printer = config.printer_for(doc)
            self._server = self._server or printer.server
            row.load(printer)
        self.refresh()

    def refresh(self) -> None:
        """List the CUPS queues and check every printer (on the print worker)."""
        from printing.setup import list_queues, printer_state

        server = self._server or None
        printers = {d: r.printer(self._server) for d, r in self.rows.items()}

        def probe() -> tuple[list[str], str, dict[str, tuple[bool, str]]]:
            try:
                queues, problem = [q.name for q in list_queues(server)], ""
            except PrintError as e:
                queues, problem = [], e.message
            return queues, problem, {d: printer_state(p) for d, p in printers.items()}

        self._run(probe, self._probed, self._failed)

    def _probed(self, result: tuple[list[str], str, dict[str, tuple[bool, str]]]) -> None:
        queues, problem, states = result
        for doc, row in self.rows.items():
            current = row.queue.currentText()
            row.queue.clear()
            row.queue.addItems(queues)
            row.queue.setCurrentText(current)
            ready, words = states[doc]
            row.state.setText(("✓ " if ready else "✗ ") + words)
        # CUPS's own state has its line: the banner keeps the answer to what the person did.
        self.cups_state.setText(
            ("✗ " + problem) if problem else self.tr("✓ CUPS: {n} queues").format(n=len(queues))
        )

    def test_page(self, document: str) -> None:
        from printing.setup import send_test_page

        printer = self.rows[document].printer(self._server)
        station = self._station
        self.banner.show_message("info", self.tr("Sending a test page…"))
        self._run(
            lambda: send_test_page(document, station, printer),
            lambda ref: self.banner.show_message(
                "good", self.tr("Test page sent ({ref}) — check that it printed.").format(ref=ref)
            ),
            self._failed,
        )

    def failed(self, error: BaseException) -> None:
        self._failed(error)

    def _failed(self, error: BaseException) -> None:
        self.banner.show_message("bad", messages.describe(error, action="action"))
