"""The picker screen: the next stop in large type (bin, item, quantity, tote slot), the steps
of the stop, and the list's stops in walk order.

Every scan goes to :meth:`PickScreen.handle_scan`, which runs :meth:`PickSession.scan` on the
database worker; the :class:`PickResult` comes back on the GUI thread and updates the stop
card, the banner, the sound and (after a recorded stop) the table. A scan whose answer the walk
in memory tells (:meth:`PickSession.predict`: the stop's bin, its item, its tote) is shown while
the worker runs it, and the answer is compared when it comes: the same, nothing more is
painted; otherwise the screen shows what the worker did and says so. Read from a step away, by
someone holding a scanner and an item: the bin is the biggest thing on the screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.roles import Permission, Role, allows
from app.services.picking.session import PickResult, PickSession, Step
from app.services.picking.views import PickListView, StopView
from app.services.views import OperatorView
from ui import messages
from ui.feedback import LiveText, Sounds
from ui.models import format_int
from ui.models.pick_stops import ITEM, STATE, PickStopsModel
from ui.ops import DbOp, DbWorker
from ui.screens.pick_widgets import StepChips
from ui.screens.station_screen import StationScreen
from ui.theme import Colors

log = logging.getLogger(__name__)
_STEPS = (Step.BIN, Step.ITEM, Step.TOTE)


def _style(c: Colors) -> str:
    # The working figures of this screen, larger than anything the theme sizes.
    return f"""
QFrame#stopCard {{ background: {c.base}; border: 2px solid {c.accent}; border-radius: 14px; }}
QLabel#stopBin {{ font-size: 88px; font-weight: 800; color: {c.accent}; }}
QLabel#stopQty {{ font-size: 64px; font-weight: 800; color: {c.text}; }}
QLabel#stopItem {{ font-size: 30px; font-weight: 700; color: {c.text}; }}
QLabel#stopName {{ font-size: 22px; color: {c.muted}; }}
QLabel#stopLot {{ font-size: 26px; font-weight: 700; color: {c.text}; }}
QLabel#stopSlot {{ font-size: 40px; font-weight: 800; color: {c.text}; }}
QLabel#cardCaption {{ font-size: 17px; font-weight: 700; color: {c.muted}; }}
QLabel#listTitle {{ font-size: 24px; font-weight: 700; color: {c.accent}; }}
QLabel#listMeta {{ font-size: 18px; color: {c.muted}; }}
"""


class PickScreen(StationScreen):
    """Signals:
    pack_requested(): the picker (or a supervisor) wants the pack bench.
    work_requested(): a supervisor wants to release pick work.
    sign_out_requested(): the picker is leaving the station.
    scan_shown(): the result of a scan is on screen.
    """

    pack_requested = Signal()
    work_requested = Signal()
    sign_out_requested = Signal()

    def __init__(
        self,
        worker: DbWorker,
        sounds: Sounds,
        session_factory: Callable[[OperatorView], PickSession],
        colors: Colors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(sounds, parent)
        self._worker = worker
        self._session_factory = session_factory
        self._session: PickSession | None = None
        self._view: PickListView | None = None
        self._step = Step.LIST
        self._in_hand = 0
        self._handing_over = False
        self._in_flight = 0  # scans and actions sent to the worker, not answered yet
        self.core_ms: list[float] = []  # of which PickSession.scan
        self.predicted: list[bool] = []  # per scan answered: shown before its answer came
        self.corrections = 0  # predicted scans the worker answered otherwise
        self._colors = colors
        self.model = PickStopsModel(colors, self)
        self.setStyleSheet(_style(colors))
        self._build()
        self._declare_shortcuts()
        self._show(None, Step.LIST, 0)

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        # The words that change on every scan are LiveText: repainted in place, never a new
        # layout of the whole window (which cost several milliseconds a scan).
        self.instruction = LiveText(self, wrap=True)
        self.instruction.setObjectName("instruction")
        self.work_button = self._button(self.tr("Release work (F10)"), self._ask_work)
        self.work_button.hide()
        self.pack_button = self._button(self.tr("Packing (F5)"), self.pack_requested.emit)
        self.sign_out_button = self._button(self.tr("Sign out"), self.sign_out_requested.emit)
        top = QHBoxLayout()
        top.addWidget(self.instruction, 1)
        top.addWidget(self.work_button)
        top.addWidget(self.pack_button)
        top.addWidget(self.sign_out_button)

        self.card = self._build_card()
        self.list_title = LiveText(self)
        self.list_title.setObjectName("listTitle")
        self.list_meta = LiveText(self, wrap=True)
        self.list_meta.setObjectName("listMeta")
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(40)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        head.setSectionResizeMode(ITEM, QHeaderView.ResizeMode.Stretch)
        # Sized once per list, not per stop (ResizeToContents re-measures on every change).
        self.model.modelReset.connect(self._size_columns)
        side = QVBoxLayout()
        side.addWidget(self.list_title)
        side.addWidget(self.list_meta)
        side.addWidget(self.table, 1)
        body = QHBoxLayout()
        body.addWidget(self.card, 3)
        body.addLayout(side, 2)

        self.qty = QSpinBox(self)
        self.qty.setRange(1, 9999)
        self.qty.setPrefix(self.tr("× "))
        self.qty.setToolTip(self.tr("Units per scan: type the count, then scan one item"))
        self.qty.setAccessibleName(self.tr("Quantity per scan"))
        self.skip_button = self._button(self.tr("Skip stop (F6)"), self.skip)
        self.short_button = self._button(self.tr("Bin short (F7)"), self.report_short)
        self.short_button.setObjectName("danger")
        self.pause_button = self._button(self.tr("Pause (F8)"), self.pause)
        self.hand_button = self._button(self.tr("Hand over"), self.ask_hand_over)
        bottom = QHBoxLayout()
        bottom.addWidget(self.code, 1)
        bottom.addWidget(self.qty)
        for b in (self.skip_button, self.short_button, self.pause_button, self.hand_button):
            bottom.addWidget(b)

        page = QVBoxLayout(self)
        page.setContentsMargins(16, 10, 16, 8)
        page.setSpacing(10)
        page.addLayout(top)
        page.addWidget(self.banner)
        page.addLayout(body, 1)
        page.addLayout(bottom)

    def _size_columns(self) -> None:
        for col in range(self.model.columnCount()):
            if col != ITEM:
                self.table.resizeColumnToContents(col)
        # A stop's state changes after the columns were sized: room for the longest words.
        widest = max(self.table.fontMetrics().horizontalAdvance(self.tr(w)) for w in _STATE_WORDS)
        self.table.setColumnWidth(STATE, max(self.table.columnWidth(STATE), widest + 24))

    def _build_card(self) -> QFrame:
        card = QFrame(self)
        card.setObjectName("stopCard")
        grid = QGridLayout(card)
        grid.setContentsMargins(20, 12, 20, 12)
        grid.setVerticalSpacing(2)

        def caption(text: str) -> QLabel:
            label = QLabel(text, card)
            label.setObjectName("cardCaption")
            return label

        self.bin_label = LiveText(card)
        self.bin_label.setObjectName("stopBin")
        self.qty_label = LiveText(card)
        self.qty_label.setObjectName("stopQty")
        self.qty_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.item_label = LiveText(card)
        self.item_label.setObjectName("stopItem")
        self.name_label = LiveText(card)
        self.name_label.setObjectName("stopName")
        self.lot_label = LiveText(card)
        self.lot_label.setObjectName("stopLot")
        self.slot_label = LiveText(card)
        self.slot_label.setObjectName("stopSlot")
        self.steps = StepChips(
            (self.tr("1 Bin"), self.tr("2 Item"), self.tr("3 Tote")), self._colors, card
        )
        grid.addWidget(caption(self.tr("BIN")), 0, 0)
        grid.addWidget(caption(self.tr("QUANTITY")), 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.bin_label, 1, 0)
        grid.addWidget(self.qty_label, 1, 1)
        grid.addWidget(caption(self.tr("ITEM")), 2, 0)
        grid.addWidget(self.item_label, 3, 0, 1, 2)
        grid.addWidget(self.name_label, 4, 0, 1, 2)
        grid.addWidget(self.lot_label, 5, 0, 1, 2)
        grid.addWidget(caption(self.tr("TOTE SLOT")), 6, 0)
        grid.addWidget(self.slot_label, 7, 0, 1, 2)
        grid.addWidget(self.steps, 8, 0, 1, 2)
        grid.setRowStretch(9, 1)
        grid.setColumnStretch(0, 3)  # the bin's code gets the room; the quantity what is left
        grid.setColumnStretch(1, 2)
        return card

    def _declare_shortcuts(self) -> None:
        for keys, slot in (
            ("F5", self.pack_requested.emit),
            ("F6", self.skip),
            ("F7", self.report_short),
            ("F8", self.pause),
            ("F10", self._ask_work),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)

    # --- session ---------------------------------------------------------------------------

    def start_session(self, operator: OperatorView) -> None:
        """A picker signed in: carry on with the list they had open here, if any."""
        session = self._session_factory(operator)
        self._session = session
        self.work_button.setVisible(allows({Role(r) for r in operator.roles}, Permission.OVERRIDE))
        self._show(None, Step.LIST, 0)
        self.banner.show_message(
            "info",
            self.tr("Hello {name} — scan a pick list or a cart to start.").format(
                name=operator.name
            ),
        )
        self._in_flight += 1
        DbOp(self._worker, session.resume).success(self._resumed).failure(self._action_failed).run()

    def _resumed(self, result: PickResult | None) -> None:
        if result is None:
            self._in_flight -= 1
        else:
            self._shown(result, time.perf_counter())

    def _ask_work(self) -> None:
        if self.work_button.isVisible():
            self.work_requested.emit()

    def end_session(self) -> None:
        self._session = None
        self._show(None, Step.LIST, 0)

    @property
    def view(self) -> PickListView | None:
        return self._view

    @property
    def step(self) -> Step:
        return self._step

    # --- scanning --------------------------------------------------------------------------

    def handle_scan(self, code: str) -> None:
        session = self._session
        if session is None:
            return
        started = time.perf_counter()
        if self._handing_over:
            self._handing_over = False
            self._run(lambda s: s.hand_over(code))
            return
        qty = self.qty.value() if self.qty.value() > 1 else None
        if qty is not None:
            self.qty.setValue(1)  # (setting it when it is 1 already still repaints it)
        # Only with nothing in flight is the session's walk the one on screen, and still.
        guess = session.predict(code, qty) if self._in_flight == 0 else None
        before = _Shown(self._view, self._step, self._in_hand)
        self._in_flight += 1
        DbOp(self._worker, lambda: session.scan(code, qty)).success(
            lambda result: self._scanned(result, started, guess)
        ).failure(lambda error: self._scan_failed(error, guess, before)).run()
        if guess is not None:  # painted while the worker runs the scan
            self._show_result(guess)

    def _scanned(self, result: PickResult, started: float, guess: PickResult | None) -> None:
        if guess is None:
            self._shown(result, started)
            return
        self._in_flight -= 1
        if not guess.shows_as(result):
            self._correct(result)
        elif self._view is guess.view:  # equal to it: nothing to repaint
            self._view = result.view
        self._answered(result, started, predicted=True)

    def _shown(self, result: PickResult, started: float) -> None:
        self._in_flight -= 1
        self._show_result(result)
        self._answered(result, started, predicted=False)

    def _show_result(self, result: PickResult) -> None:
        self._show(result.view, result.step, result.in_hand)
        self._feedback("good" if result.ok else "bad", result.message)

    def _answered(self, result: PickResult, started: float, *, predicted: bool) -> None:
        self.feedback_ms.append((time.perf_counter() - started) * 1000)
        self.core_ms.append(result.elapsed_ms)
        self.predicted.append(predicted)
        self.scan_shown.emit()

    def _correct(self, result: PickResult) -> None:
        """The worker did not do what the screen showed: show what it did, and say so."""
        self.corrections += 1
        log.warning("a pick scan shown before its answer came back otherwise: %s", result.message)
        self._show(result.view, result.step, result.in_hand)
        if result.ok:
            words = self.tr("Corrected — {words}").format(words=result.message)
        else:
            words = self.tr("Not recorded after all — {words}").format(words=result.message)
        self._feedback("good" if result.ok else "bad", words)

    def _scan_failed(self, error: BaseException, guess: PickResult | None, before: _Shown) -> None:
        if guess is not None:  # the worker changed nothing: the walk is as it was before
            self.corrections += 1
            self._show(before.view, before.step, before.in_hand)
        self._failed(error)

    def _failed(self, error: BaseException) -> None:
        self._in_flight -= 1
        self._feedback("bad", messages.describe(error, action="scan"))

    # --- actions ---------------------------------------------------------------------------

    def _run(self, fn: Callable[[PickSession], PickResult]) -> None:
        session = self._session
        if session is None:
            return
        started = time.perf_counter()
        self._in_flight += 1
        DbOp(self._worker, lambda: fn(session)).success(
            lambda result: self._shown(result, started)
        ).failure(self._action_failed).run()

    def _action_failed(self, error: BaseException) -> None:
        self._in_flight -= 1
        self._feedback("bad", messages.describe(error, action="action"))

    def skip(self) -> None:
        self._run(lambda s: s.skip())

    def report_short(self) -> None:
        self._run(lambda s: s.report_short())

    def pause(self) -> None:
        self._run(lambda s: s.pause())

    def ask_hand_over(self) -> None:
        if self._view is None:
            self._feedback("bad", self.tr("No pick list is open."))
            return
        if self._handing_over:  # pressed again: the list goes to whoever scans it next
            self._handing_over = False
            self._run(lambda s: s.hand_over(None))
            return
        self._handing_over = True
        self.banner.show_message(
            "warn",
            self.tr(
                "Scan the badge of the picker taking over — or press Hand over again to leave "
                "the list for anyone."
            ),
        )

    # --- showing ---------------------------------------------------------------------------

    def _show(self, view: PickListView | None, step: Step, in_hand: int) -> None:
        changed = view is not self._view
        if changed:
            self.model.set_list(view)
        self._view, self._step, self._in_hand = view, step, in_hand
        stop = view.next_stop if view is not None and step in _STEPS else None
        if changed and stop is not None:
            self._keep_in_view(self.model.row_of(stop.id))
        self._show_stop(view, stop)
        self.instruction.setText(self._instruction(view, stop))
        self.steps.set_current(_STEPS.index(step) if stop is not None else -1)
        working = stop is not None
        live = view is not None and view.live
        for button, on in (
            (self.skip_button, working),
            (self.short_button, working),
            (self.pause_button, live),
            (self.hand_button, live),
        ):
            if button.isEnabled() != on:  # a change re-polishes the button's style
                button.setEnabled(on)
        if view is None:
            self.list_title.setText(self.tr("No pick list open"))
            self.list_meta.setText("")
        else:
            self.list_title.setText(view.number)
            meta = self.tr("{kind} · {done} of {stops} stops · {picked} of {units} units").format(
                kind=self.tr(_KIND_WORDS.get(view.kind, view.kind)),
                done=format_int(view.stops_done),
                stops=format_int(len(view.stops)),
                picked=format_int(view.units_picked),
                units=format_int(view.units),
            )
            if view.cart:
                meta = self.tr("Cart {cart} · {meta}").format(cart=view.cart, meta=meta)
            self.list_meta.setText(meta)

    def _keep_in_view(self, row: int) -> None:
        """Scroll only when the next stop's row is out of sight, and then so that the stop just
        done is the first row: the stops ahead show below it, and the next few stops need no
        scroll (each scroll repaints the whole table)."""
        if row < 0:
            return
        index = self.model.index(row, 0)
        if self.table.viewport().rect().contains(self.table.visualRect(index)):
            return
        self.table.scrollTo(
            self.model.index(max(0, row - 1), 0), QAbstractItemView.ScrollHint.PositionAtTop
        )

    def _show_stop(self, view: PickListView | None, stop: StopView | None) -> None:
        if view is None or stop is None:
            for label in (self.bin_label, self.qty_label, self.item_label, self.name_label):
                label.setText("—" if label is self.bin_label else "")
            # At set-up the card names the cart (once its label is scanned) above the slot.
            cart = view.cart if view is not None and self._step is Step.TOTES else None
            self.lot_label.setText(self.tr("Cart {cart}").format(cart=cart) if cart else "")
            self.slot_label.setText(self._cart_words(view))
            return
        self.bin_label.setText(stop.bin)
        if self._in_hand:
            self.qty_label.setText(
                self.tr("{n} of {total}").format(n=self._in_hand, total=stop.remaining)
            )
        else:
            self.qty_label.setText(f"× {format_int(stop.remaining)}")
        self.item_label.setText(stop.sku)
        self.name_label.setText(stop.name)
        lot = ""
        if stop.lot:
            lot = self.tr("Lot {lot}").format(lot=stop.lot)
            if stop.expiry:
                lot += self.tr(" · expires {date}").format(date=stop.expiry)
        self.lot_label.setText(lot)
        tote = view.tote_of(stop.slot) or "—"
        self.slot_label.setText(
            self.tr("{slot} · {tote} · {order}").format(
                slot=stop.slot, tote=tote, order=stop.order_number
            )
        )

    def _cart_words(self, view: PickListView | None) -> str:
        if view is None or self._step is not Step.TOTES:
            return ""
        empty = view.slots_without_tote
        return self.tr("Slot {slot} needs a tote").format(slot=empty[0]) if empty else ""

    def _instruction(self, view: PickListView | None, stop: StopView | None) -> str:
        step = self._step
        if view is None:
            return self.tr("Scan a pick list or a cart to start")
        if step is Step.TOTES:
            empty = view.slots_without_tote
            slot = empty[0] if empty else 0
            orders = ", ".join(view.slots.get(slot, ()))
            if view.cart is None and not view.totes:  # the cart's label may come first
                return self.tr(
                    "Scan the cart's label, or an empty tote for slot {slot} ({orders})"
                ).format(slot=slot, orders=orders)
            return self.tr("Scan an empty tote for slot {slot} ({orders})").format(
                slot=slot, orders=orders
            )
        if stop is None or step is Step.DONE:
            return self.tr("List finished — take the totes to packing")
        if step is Step.BIN:
            return self.tr("Go to {bin} and scan the bin").format(bin=stop.bin)
        if step is Step.ITEM:
            left = stop.remaining - self._in_hand
            return self.tr("Take {n} × {sku} and scan each").format(n=left, sku=stop.sku)
        return self.tr("Put them in slot {slot} and scan tote {tote}").format(
            slot=stop.slot, tote=view.tote_of(stop.slot) or "?"
        )


class _Shown(NamedTuple):
    """The walk as the screen showed it when a scan was sent."""

    view: PickListView | None
    step: Step
    in_hand: int


_KIND_WORDS = {"single": "Single order", "batch": "Batch", "cluster": "Cluster"}
_STATE_WORDS = ("✓ picked", "✗ 99 short")
