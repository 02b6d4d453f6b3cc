"""The scanner check: scan anything and see what the scanner sent, key by key with its timing,
what the station read it as and what it names, and which setting to change when something is
off. Nothing is recorded and no workflow moves.

Scans reach it like any other screen's (the main window passes them on); their traces come
from the scan inputs' ``traced`` signals, connected only while the screen is shown so the scan
path does not pay for them otherwise. Keys that a scanner types too slowly to be recognised land
in the screen's own field, which keeps their timestamps so they can be judged too.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.scanning.trace import ScanTrace, SentKey
from app.services.scan_check import CheckResult
from ui import messages
from ui.feedback import Banner, Sounds
from ui.models.sent_keys import SentKeysModel
from ui.ops import DbOp, DbWorker

Check = Callable[[str, ScanTrace | None], CheckResult]
_ENDINGS = {
    "enter": "Enter",
    "tab": "Tab",
    "suffix": "its suffix",
    "CR": "CR",
    "LF": "LF",
    "CRLF": "CR LF",
}
_SOURCES = {
    "keyboard": "from the keyboard (wedge)",
    "serial": "from the serial port",
    "typed": "typed into the field below",
}


class ScannerCheckScreen(QWidget):
    """Signals:
    back_requested(): the person wants to leave the check.
    checked(object): a scan's ``CheckResult`` is on screen.
    """

    back_requested = Signal()
    checked = Signal(object)

    def __init__(
        self,
        check: Check,
        worker: DbWorker,
        sounds: Sounds | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._check = check
        self._worker = worker
        self._sounds = sounds
        self._sources: list[QObject] = []
        self._listening = False
        self._pending: ScanTrace | None = None
        self._typed: list[SentKey] = []
        self._enter_ms: float | None = None
        self.result: CheckResult | None = None
        self.trace: ScanTrace | None = None
        self.keys = SentKeysModel(self)
        self._build()

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        title = QLabel(self.tr("Scanner check"), self)
        title.setObjectName("instruction")
        self.back_button = QPushButton(self.tr("Back (Esc)"), self)
        self.back_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.back_button.clicked.connect(self.back_requested)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.back_button)

        self.banner = Banner(self)
        self.banner.show_message(
            "info",
            self.tr("Scan any barcode with the scanner to check. Nothing is recorded."),
        )

        self.sent = QLabel(self)
        self.sent.setObjectName("orderMeta")
        self.sent.setWordWrap(True)
        self.sent.setTextFormat(Qt.TextFormat.RichText)
        self.summary = QLabel(self)
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)
        # Room for a long scan's keys and the summary, wrapped: a page in a stacked widget
        # gets no height-for-width layout, so the lines are reserved here.
        for label, lines in ((self.sent, 3), (self.summary, 3)):
            label.ensurePolished()  # the theme's font size, not the default
            spacing = label.fontMetrics().lineSpacing()
            label.setMinimumHeight(lines * round(spacing * 1.25))
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.table = QTableView(self)
        self.table.setModel(self.keys)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(34)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        sent_panel, sent_box = self._panel(
            self.tr("What the scanner sent"), self.sent, self.summary
        )
        sent_box.addWidget(self.table, 1)

        self.read_as = QFormLayout()
        self.read_as.setHorizontalSpacing(16)
        self.read_as.setVerticalSpacing(4)
        self.read_panel, read_box = self._panel(self.tr("What it was read as"))
        read_box.addLayout(self.read_as)
        read_box.addStretch(1)
        self.advice = QLabel(self)
        self.advice.setWordWrap(True)
        self.advice.setTextFormat(Qt.TextFormat.RichText)
        self.advice.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea(self)
        scroll.setWidget(self.advice)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.viewport().setAutoFillBackground(False)
        self.advice.setAutoFillBackground(False)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        advice_panel, _advice_box = self._panel(self.tr("Settings to change"), scroll)
        right = QVBoxLayout()
        right.addWidget(self.read_panel, 4)
        right.addWidget(advice_panel, 5)
        middle = QHBoxLayout()
        middle.addWidget(sent_panel, 4)
        middle.addLayout(right, 7)

        hint = QLabel(self.tr("Keys the station took for typing land here:"), self)
        hint.setObjectName("hint")
        self.field = QLineEdit(self)
        self.field.setAccessibleName(self.tr("Typed keys"))
        self.field.returnPressed.connect(self._typed_entered)
        self.field.installEventFilter(self)
        bottom = QHBoxLayout()
        bottom.addWidget(hint)
        bottom.addWidget(self.field, 1)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(8)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addLayout(middle, 1)
        page.addLayout(bottom)

        back = QShortcut(QKeySequence("Esc"), self)
        back.setAutoRepeat(False)
        back.activated.connect(self.back_requested)
        self._show_advice(None)

    def _panel(self, heading: str, *widgets: QWidget) -> tuple[QFrame, QVBoxLayout]:
        """A titled frame holding ``widgets``, and its layout (for more to be added)."""
        panel = QFrame(self)
        panel.setObjectName("panel")
        box = QVBoxLayout(panel)
        box.setContentsMargins(12, 8, 12, 8)
        title = QLabel(heading, panel)
        title.setObjectName("sectionTitle")
        box.addWidget(title)
        for widget in widgets:
            box.addWidget(widget, 1 if isinstance(widget, QScrollArea) else 0)
        return panel, box

    # --- where scans come from ---------------------------------------------------------------

    def watch(self, source: QObject) -> None:
        """Show the traces of ``source`` (an object with a ``traced(object)`` signal)."""
        self._sources.append(source)
        if self._listening:
            source.traced.connect(self.show_trace)  # type: ignore[attr-defined]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._listen(True)

    def hideEvent(self, event: QHideEvent) -> None:
        self._listen(False)
        self._pending = None
        super().hideEvent(event)

    def _listen(self, on: bool) -> None:
        if on == self._listening:
            return  # a window shown again after being minimised: already listening
        self._listening = on
        for source in self._sources:
            signal = source.traced  # type: ignore[attr-defined]
            if on:
                signal.connect(self.show_trace)
            else:
                signal.disconnect(self.show_trace)

    def activate(self) -> None:
        self.field.setFocus()

    def show_trace(self, trace: object) -> None:
        """A scan input's trace; its scan follows through ``handle_scan``."""
        if isinstance(trace, ScanTrace):
            self._pending = trace

    def handle_scan(self, code: str) -> None:
        trace = self._pending if self._pending is not None and self._pending.text == code else None
        self._pending = None
        self._run(code, trace)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            text = event.text()
            stamp = float(event.timestamp()) or time.monotonic() * 1000.0
            if text and text.isprintable():
                self._typed.append(SentKey(text, None, stamp))
            elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._enter_ms = stamp
        return False

    def _typed_entered(self) -> None:
        text = self.field.text()
        keys = self._typed
        self._typed = []
        self.field.clear()
        if not text.strip():
            return
        if keys:
            enter_ms = self._enter_ms if self._enter_ms is not None else keys[-1].t_ms
            keys = [*keys, SentKey("", "enter", enter_ms)]
        self._run(text, ScanTrace("typed", tuple(keys), text, "enter"))

    # --- showing a result ----------------------------------------------------------------

    def _run(self, code: str, trace: ScanTrace | None) -> None:
        check = self._check
        DbOp(self._worker, lambda: check(code, trace)).success(
            lambda result: self._show(result, trace)
        ).failure(self._failed).run()

    def _failed(self, error: BaseException) -> None:
        self.banner.show_message("bad", messages.describe(error))

    def _show(self, result: CheckResult, trace: ScanTrace | None) -> None:
        self.result, self.trace = result, trace
        if result.problem is not None:
            self.banner.show_message("bad", result.problem)
        elif result.found:
            self.banner.show_message("good", self.tr("Read: {names}").format(names=result.names))
        else:
            self.banner.show_message("warn", result.names)
        if self._sounds is not None:
            self._sounds.play("good" if result.found else "bad")
        self._show_sent(result, trace)
        self._show_read_as(result)
        self._show_advice(result)
        self.checked.emit(result)

    def _show_sent(self, result: CheckResult, trace: ScanTrace | None) -> None:
        self.keys.set_trace(trace)
        if trace is None:
            self.sent.setText(html.escape(result.raw))
            self.sent.setAccessibleName(result.raw)
            self.summary.setText(self.tr("No key timings: this scan came without them."))
            return
        self.sent.setText(" ".join(_chip(key) for key in trace.keys))
        self.sent.setAccessibleName(" ".join(key.label for key in trace.keys))
        gaps = [g for g in trace.gaps_ms if g >= 0]
        ending = _ENDINGS.get(trace.ended_by or "")
        ended = self.tr(ending) if ending else self.tr("silence (no terminator)")
        parts = [
            self.tr("{n} keys in {ms:.0f} ms").format(n=len(trace.keys), ms=trace.duration_ms),
        ]
        if gaps:
            parts.append(
                self.tr("{low:.1f}–{high:.1f} ms apart").format(low=min(gaps), high=max(gaps))
            )
        parts.append(self.tr("ended by {what}").format(what=ended))
        parts.append(self.tr(_SOURCES[trace.source]))
        if trace.layout:
            parts.append(self.tr("read for {layout}").format(layout=trace.layout.upper()))
        self.summary.setText(" · ".join(parts))

    def _show_read_as(self, result: CheckResult) -> None:
        while self.read_as.rowCount():
            self.read_as.removeRow(0)
        rows: list[tuple[str, str]] = list(result.fields)
        if result.problem is not None:
            rows.append((self.tr("Problem"), result.problem))
        else:
            rows.append((self.tr("Names"), result.names))
        for label, value in rows:
            name = QLabel(label, self.read_panel)
            shown = QLabel(value, self.read_panel)
            shown.setWordWrap(True)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.read_as.addRow(name, shown)
            name.show()
            shown.show()

    def _show_advice(self, result: CheckResult | None) -> None:
        if result is None:
            self.advice.setText(self.tr("Scan a code to see how the scanner is set up."))
        elif not result.advice:
            self.advice.setText("✓ " + self.tr("Nothing to change: this scanner is set up well."))
        else:
            items = "".join(
                f"<p>⚠ {html.escape(a.problem)}<br><b>→ {html.escape(a.fix)}</b></p>"
                for a in result.advice
            )
            self.advice.setText(items)

    def advice_texts(self) -> list[str]:
        """The advice on screen, as plain words (for tests and accessibility)."""
        if self.result is None:
            return []
        return [f"{a.problem} {a.fix}" for a in self.result.advice]


def _chip(key: SentKey) -> str:
    label = html.escape(key.label)
    if key.key is not None or (len(label) > 1 and label.startswith("&lt;")):
        return f'<span style="color:#0b57a4;font-weight:700">{label}</span>'
    return label
