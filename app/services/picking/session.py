"""The picker's walk as a workflow: what a scan means depends on the step.

    list  → scan a pick list (it is taken by the signed-in picker), or the label of a cart
            that carries a live list (the same as scanning that list)
    totes → optionally the cart's label first (the list records its cart), then an empty
            tote for each slot of the cart
    bin   → scan the stop's bin label
    item  → scan the item (with its lot, expiry or serial from the GS1 code when the product
            needs them), once per unit or once with a typed quantity
    tote  → scan the tote of the stop's slot: the stop is recorded (one transaction)
    done  → the list is finished; the totes go to packing

A scan that does not fit changes nothing and says why; it is kept as a rejected scan, as at the
pack bench. Bin and item scans are held in memory until the tote scan records the stop, so
they cost no commit; a station that stops mid-stop asks for that stop again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from app.domain.errors import (
    MalformedScanError,
    ScanRejectedError,
    UnknownBarcodeError,
    ValidationError,
    WaystationError,
)
from app.services.item_scan import is_plain_gtin
from app.services.picking import actions
from app.services.picking.actions import Capture, StopDone
from app.services.picking.views import PickListView, StopView
from app.services.resolve import Kind, Resolved, kind_of, resolve
from app.services.views import OperatorView, ScanOutcome
from app.store.uow import UnitOfWork

MAX_TYPED_QTY = 9999
_KIND_WORDS = {
    Kind.PRODUCT: "an item",
    Kind.LOCATION: "a bin",
    Kind.TOTE: "a tote",
    Kind.CART: "a cart",
    Kind.ORDER: "an order",
    Kind.PACKAGE: "a package",
    Kind.RMA: "a return",
    Kind.OPERATOR: "a badge",
    Kind.PICK_LIST: "a pick list",
}


class Step(StrEnum):
    LIST = "list"
    TOTES = "totes"
    BIN = "bin"
    ITEM = "item"
    TOTE = "tote"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class PickResult:
    outcome: ScanOutcome
    message: str
    view: PickListView | None
    step: Step
    in_hand: int = 0
    stop_recorded: bool = False  # a stop was written (picked or short)
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is ScanOutcome.ACCEPTED

    def shows_as(self, other: PickResult) -> bool:
        """True when the two put the same on screen: outcome, words, list, step, units."""
        return (
            self.outcome is other.outcome
            and self.message == other.message
            and self.step is other.step
            and self.in_hand == other.in_hand
            and self.stop_recorded == other.stop_recorded
            and self.view == other.view
        )


def _outcome(error: WaystationError) -> ScanOutcome:
    if isinstance(error, MalformedScanError):
        return ScanOutcome.MALFORMED
    if isinstance(error, UnknownBarcodeError):
        return ScanOutcome.UNKNOWN
    return ScanOutcome.REJECTED


class PickSession:
    """One picker's walk at one station. Not thread-safe: use it from one worker."""

    def __init__(
        self,
        uow_factory: Callable[[OperatorView | None], UnitOfWork],
        operator: OperatorView,
        gs_replacement: str | None = None,
    ) -> None:
        self._factory = uow_factory
        self.operator = operator
        self.gs_replacement = gs_replacement or None
        self.view: PickListView | None = None
        self.step = Step.LIST
        self.in_hand = 0
        self._capture = Capture()
        self._short_pending = False

    # -- state ----------------------------------------------------------------------------

    @property
    def stop(self) -> StopView | None:
        return self.view.next_stop if self.view is not None else None

    @property
    def slot_to_fill(self) -> int | None:
        """The cart slot waiting for a tote (step ``totes``)."""
        if self.view is None or self.step is not Step.TOTES:
            return None
        empty = self.view.slots_without_tote
        return empty[0] if empty else None

    def _uow(self) -> UnitOfWork:
        return self._factory(self.operator)

    def _open(self, view: PickListView) -> None:
        self.view = view
        self.in_hand = 0
        self._capture = Capture()
        self._short_pending = False
        if view.slots_without_tote:
            self.step = Step.TOTES
        elif view.next_stop is not None:
            self.step = Step.BIN
        else:
            self.step = Step.DONE

    def _result(self, message: str, *, recorded: bool = False) -> PickResult:
        return PickResult(
            ScanOutcome.ACCEPTED, message, self.view, self.step, self.in_hand, recorded
        )

    def _guarded(self, fn: Callable[[UnitOfWork], PickResult], raw: str = "") -> PickResult:
        start = time.perf_counter()
        walk = dict(self.__dict__)  # the walk as it is: its values are never changed in place
        try:
            with self._uow() as uow:
                result = fn(uow)
        except WaystationError as e:
            outcome = _outcome(e)
            if raw:
                list_id = self.view.id if self.view else None
                with self._uow() as uow:
                    actions.record_rejected_scan(uow, raw, list_id, e, outcome.value)
            result = PickResult(outcome, e.message, self.view, self.step, self.in_hand)
        except BaseException:
            # The transaction did not commit (the database refused the write, …): nothing
            # was recorded, so the walk is as it was before the scan, not moved on.
            self.__dict__.update(walk)
            raise
        return replace(result, elapsed_ms=(time.perf_counter() - start) * 1000)

    # -- scans ----------------------------------------------------------------------------

    def scan(self, raw: str, qty: int | None = None) -> PickResult:
        return self._guarded(lambda uow: self._scan(uow, raw, qty), raw)

    def predict(self, raw: str, qty: int | None = None) -> PickResult | None:
        """What :meth:`scan` will answer for ``raw``, when the walk in memory tells it alone;
        None when only the database can.

        The common scans of a stop are told: its bin's code as printed on the label, its
        product's plain GTIN (digits only, no lot, serial or expiry to capture, one unit) and,
        with the stop's units all in hand, the tote of its slot (recorded as
        :func:`actions.pick_ahead` works out). Anything else (a refusal, a GS1 code, a typed
        quantity, a short) is None. Changes nothing and reads no database, so the screen may
        call it on its own thread, while nothing of this session's runs on the worker.
        """
        view, stop, code = self.view, self.stop, raw.strip()
        if view is None or stop is None or qty is not None or not code or not code.isascii():
            return None
        ahead = _Ahead(self)
        if self.step is Step.BIN and code == stop.bin:
            return ahead._at_bin(stop, Resolved(Kind.LOCATION, stop.bin_id), code)
        tracked = stop.needs_lot or stop.needs_serial or stop.needs_expiry or bool(stop.lot)
        if (
            self.step is Step.ITEM
            and not tracked
            and is_plain_gtin(code, self.gs_replacement)
            and code.zfill(14) == stop.gtin  # the GTIN-14 normalize makes of it
            and self.in_hand < stop.remaining
        ):
            return ahead._take_units(stop, 1, lot=None, expiry=None, serial=None, raw=raw)
        tote = code.upper()
        if (
            self.step is Step.TOTE
            and not self._short_pending
            and self.in_hand == stop.remaining
            and tote == view.tote_of(stop.slot)
        ):
            done = actions.pick_ahead(view, stop, self.in_hand, tote)
            return ahead._after(done, self._into_tote_words(stop))
        return None

    def _scan(self, uow: UnitOfWork, raw: str, qty: int | None) -> PickResult:
        from app.scanning.normalize import normalize  # biip loads on the first scan

        scan = normalize(raw, gs_replacement=self.gs_replacement)
        found = resolve(uow.session, scan)
        if found is None and kind_of(scan) == Kind.CART.value:
            return self._cart(uow, scan.text)  # carts have no table: a cart is its code
        if found is not None and found.kind is Kind.CART:
            return self._cart(uow, scan.text)
        if found is None:
            raise UnknownBarcodeError(
                f"{scan.text} is not a bin, item, tote or pick list this station knows — scan "
                "it again, or type the code printed under the bars."
            )
        if found.kind is Kind.PICK_LIST:
            return self._take(uow, found.entity_id)
        if self.view is None or self.step is Step.DONE:
            raise ScanRejectedError(
                f"{scan.text} is {_KIND_WORDS[found.kind]} — scan a pick list first."
            )
        if self.step is Step.TOTES:
            return self._tote_for_cart(uow, found, scan.text)
        stop = self.stop
        assert stop is not None
        if self.step is Step.BIN:
            return self._at_bin(stop, found, scan.text)
        if self.step is Step.ITEM:
            return self._item(stop, found, scan, qty)
        return self._into_tote(uow, stop, found, scan.text)

    def _take(self, uow: UnitOfWork, list_id: uuid.UUID) -> PickResult:
        view = self.view
        if view is not None and view.id == list_id:
            return self._result(f"Pick list {view.number} is open — {self._where()}")
        if view is not None and view.live and self.step is not Step.DONE:
            raise ScanRejectedError(
                f"Pick list {view.number} is still open here — finish it, pause it or hand it "
                "over before taking another."
            )
        self._open(actions.take_list(uow, list_id))
        assert self.view is not None
        v = self.view
        orders = len({s.order_number for s in v.stops})
        words = (
            f"Pick list {v.number}: {len(v.stops)} stops, {orders} "
            f"{'order' if orders == 1 else 'orders'}. {self._where()}"
        )
        return self._result(words)

    def _cart(self, uow: UnitOfWork, code: str) -> PickResult:
        """A cart's label: at set-up the list records it; with no list open it opens the live
        list it carries; while a list is open, another list's cart is refused."""
        cart = actions.cart_code(code)
        view = self.view
        if view is None or not view.live or self.step is Step.DONE:
            holder = actions.list_on_cart(uow.session.connection(), cart)
            if holder is None:
                raise ScanRejectedError(
                    f"Cart {cart} carries no pick list — scan a pick list to start."
                )
            result = self._take(uow, holder.list_id)
            return replace(result, message=f"Cart {cart}: {result.message}")
        if view.cart == cart:
            return self._result(f"Cart {cart} carries pick list {view.number} — {self._where()}")
        if self.step is Step.TOTES:
            self._open(actions.set_cart(uow, view.id, cart))
            return self._result(
                f"Cart {cart} ✓ pick list {view.number} rides on it. {self._where()}"
            )
        holder = actions.list_on_cart(uow.session.connection(), cart, but=view.id)
        if holder is not None:
            raise ScanRejectedError(
                f"Cart {cart} carries pick list {holder.number}, but pick list {view.number} is "
                "still open here — finish it, pause it or hand it over before taking another."
            )
        ours = f"is on cart {view.cart}" if view.cart else "rides on no cart"
        raise ScanRejectedError(
            f"Pick list {view.number} {ours}; a cart is scanned at set-up, before the totes. "
            f"{self._where()}"
        )

    def _where(self) -> str:
        """What to do next, in a few words."""
        v, stop = self.view, self.stop
        if v is None:
            return "Scan a pick list."
        if self.step is Step.TOTES:
            slot = self.slot_to_fill
            orders = ", ".join(v.slots.get(slot or 0, ()))
            if v.cart is None and not v.totes:
                return f"Scan the cart's label, or an empty tote for slot {slot} ({orders})."
            return f"Scan an empty tote for slot {slot} ({orders})."
        if stop is None or self.step is Step.DONE:
            return "All stops done — take the totes to packing."
        if self.step is Step.TOTE:
            return f"Put them in slot {stop.slot} (tote {v.tote_of(stop.slot)}) and scan the tote."
        if self.step is Step.ITEM:
            return f"Take {stop.remaining - self.in_hand} × {stop.sku}."
        return f"Go to {stop.bin} and scan the bin."

    def _tote_for_cart(self, uow: UnitOfWork, found: Resolved, code: str) -> PickResult:
        slot = self.slot_to_fill
        assert self.view is not None
        assert slot is not None
        if found.kind is not Kind.TOTE:
            raise ScanRejectedError(
                f"{code} is {_KIND_WORDS[found.kind]} — the cart needs an empty tote for slot "
                f"{slot} first: scan the tote's label."
            )
        self._open(actions.set_tote(uow, self.view.id, slot, code))
        tote = self.view.tote_of(slot)
        return self._result(f"Tote {tote} in slot {slot} ✓ {self._where()}")

    def _at_bin(self, stop: StopView, found: Resolved, code: str) -> PickResult:
        if found.kind is Kind.LOCATION and found.entity_id == stop.bin_id:
            self.step = Step.ITEM
            return self._result(f"{stop.bin} ✓ Take {stop.remaining} × {stop.sku}.")
        if found.kind is Kind.LOCATION:
            raise ScanRejectedError(
                f"Wrong bin: {code}. This stop is {stop.bin} — go to {stop.bin} and scan its label."
            )
        raise ScanRejectedError(
            f"{code} is {_KIND_WORDS[found.kind]} — scan the label of bin {stop.bin} first, "
            "then the item."
        )

    def _item(self, stop: StopView, found: Resolved, scan: object, qty: int | None) -> PickResult:
        from app.scanning.normalize import Scan

        assert isinstance(scan, Scan)
        if found.kind is Kind.LOCATION:
            if found.entity_id == stop.bin_id:
                return self._result(
                    f"{stop.bin} ✓ Take {stop.remaining - self.in_hand} × {stop.sku}."
                )
            raise ScanRejectedError(
                f"Wrong bin: {scan.text}. This stop is {stop.bin} — take the item from there."
            )
        if found.kind is Kind.TOTE:
            left = stop.remaining - self.in_hand
            raise ScanRejectedError(
                f"This stop needs {left} more × {stop.sku} — scan them, or report the bin short."
            )
        if found.kind is not Kind.PRODUCT:
            raise ScanRejectedError(
                f"{scan.text} is {_KIND_WORDS[found.kind]} — scan the item: {stop.sku}."
            )
        if found.entity_id != stop.product_id:
            raise ScanRejectedError(
                f"Wrong item: {scan.text} is not {stop.sku} — put it back and take {stop.sku} "
                f"({stop.name}) from {stop.bin}."
            )
        self._check_tracking(stop, scan)
        units = found.units * (scan.count or 1)
        if qty is not None:
            if not 1 <= qty <= MAX_TYPED_QTY:
                raise ValidationError(
                    f"A quantity of {qty} is not possible — type a number from 1 to "
                    f"{MAX_TYPED_QTY}."
                )
            units *= qty
        if stop.needs_serial and units > 1:
            raise ScanRejectedError(
                f"Each {stop.sku} has a serial number of its own — scan every unit's label, one "
                "at a time, with no quantity typed."
            )
        expiry = scan.expiry.isoformat() if scan.expiry else None
        return self._take_units(
            stop, units, lot=scan.lot, expiry=expiry, serial=scan.serial, raw=scan.raw
        )

    def _take_units(
        self,
        stop: StopView,
        units: int,
        *,
        lot: str | None,
        expiry: str | None,
        serial: str | None,
        raw: str,
    ) -> PickResult:
        need = stop.remaining
        if self.in_hand + units > need:
            extra = self.in_hand + units - need
            raise ScanRejectedError(
                f"That makes {self.in_hand + units} × {stop.sku}, but this stop needs {need} — "
                f"put {extra} back."
            )
        self.in_hand += units
        c = self._capture
        self._capture = Capture(
            lot=lot or c.lot,
            expiry=expiry or c.expiry,
            serials=(*c.serials, serial) if serial else c.serials,
            raws=(*c.raws, raw[:120]),
        )
        done = f"{stop.sku} ✓ {self.in_hand} of {need}"
        if self.in_hand == need:
            self.step = Step.TOTE
            return self._result(f"{done}. {self._where()}")
        return self._result(f"{done} — take the next one.")

    def _check_tracking(self, stop: StopView, scan: object) -> None:
        from app.scanning.normalize import Scan

        assert isinstance(scan, Scan)
        missing = []
        if stop.needs_lot and not scan.lot:
            missing.append("lot number")
        if stop.needs_serial and not scan.serial:
            missing.append("serial number")
        if stop.needs_expiry and not scan.expiry:
            missing.append("expiry date")
        if missing:
            raise ScanRejectedError(
                f"{stop.sku} needs its {' and '.join(missing)} — scan the GS1 barcode on the "
                "item that carries it (the long one), not the plain product barcode."
            )
        if stop.lot and scan.lot and scan.lot != stop.lot:
            expires = f" (expires {stop.expiry})" if stop.expiry else ""
            raise ScanRejectedError(
                f"Wrong lot: {scan.lot}. This stop takes lot {stop.lot}{expires}, the first to "
                f"expire — put it back and take lot {stop.lot}."
            )
        if scan.serial and scan.serial in self._capture.serials:
            raise ScanRejectedError(
                f"Serial {scan.serial} was already scanned at this stop — scan the next unit."
            )

    def _into_tote(self, uow: UnitOfWork, stop: StopView, found: Resolved, code: str) -> PickResult:
        view = self.view
        assert view is not None
        want = view.tote_of(stop.slot)
        if found.kind is not Kind.TOTE:
            raise ScanRejectedError(
                f"{code} is {_KIND_WORDS[found.kind]} — the {self.in_hand} × {stop.sku} in hand "
                f"go in slot {stop.slot}: scan tote {want}."
            )
        tote = code.strip().upper()
        if tote != want:
            slot = next((int(s) for s, t in view.totes.items() if t == tote), None)
            where = (
                f"is slot {slot} ({', '.join(view.slots.get(slot, ()))})"
                if slot
                else ("is not on this cart")
            )
            raise ScanRejectedError(
                f"Wrong tote: {tote} {where}. These go in slot {stop.slot} — tote {want}."
            )
        try:
            done = actions.finish_stop(
                uow,
                view,
                stop,
                picked=self.in_hand,
                tote=tote,
                capture=self._capture,
                short=self._short_pending,
                reason="short at the bin" if self._short_pending else "",
            )
        except actions.StopGoneError:
            self._open(actions.current_list(uow, view.id))  # the walk goes on from there
            raise
        return self._after(done, self._into_tote_words(stop))

    def _into_tote_words(self, stop: StopView) -> str:
        return f"{self.in_hand} × {stop.sku} in slot {stop.slot} ✓"

    def _after(self, done: StopDone, words: str) -> PickResult:
        if done.short:
            left = done.short - done.moved
            if done.moved_to:
                words += f" {done.short} short at the bin — {done.moved} to come from " + ", ".join(
                    done.moved_to
                )
                if left:
                    words += f", {left} marked short for the supervisor"
            else:
                words += f" {done.short} short — marked for the supervisor"
            words += "; the bin will be counted"
        self._open(done.view)
        if self.step is Step.DONE:
            words += ". List finished — take the totes to packing."
        else:
            words += f". {self._where()}"
        return self._result(words.strip(), recorded=True)

    # -- actions --------------------------------------------------------------------------

    def _need_stop(self) -> StopView:
        stop = self.stop
        if self.view is None or stop is None or self.step not in (Step.BIN, Step.ITEM, Step.TOTE):
            raise ValidationError("No stop is open — scan a pick list first.")
        return stop

    def report_short(self, reason: str = "bin empty") -> PickResult:
        """The bin holds fewer than the stop needs: what is in hand goes into the tote, the
        rest is re-allocated from other stock, or marked short."""

        def run(uow: UnitOfWork) -> PickResult:
            stop = self._need_stop()
            assert self.view is not None
            if self.step is Step.BIN:
                raise ScanRejectedError(
                    f"Scan the label of bin {stop.bin} first: a bin is reported short where "
                    "the picker stands."
                )
            if self.in_hand:
                self._short_pending = True
                self.step = Step.TOTE
                return self._result(
                    f"Short: {self.in_hand} of {stop.remaining} found. {self._where()}"
                )
            done = actions.finish_stop(
                uow,
                self.view,
                stop,
                picked=0,
                tote=None,
                capture=Capture(),
                short=True,
                reason=reason,
            )
            return self._after(done, f"{stop.bin}:")

        return self._guarded(run)

    def skip(self) -> PickResult:
        def run(uow: UnitOfWork) -> PickResult:
            stop = self._need_stop()
            assert self.view is not None
            if self.in_hand:
                raise ValidationError(
                    f"{self.in_hand} × {stop.sku} in hand — put them back in {stop.bin} before "
                    "skipping the stop."
                )
            if sum(1 for s in self.view.stops if s.open) == 1:
                raise ValidationError(
                    "This is the last open stop — pick it, or report the bin short."
                )
            self._open(actions.skip_stop(uow, self.view.id, stop.id))
            return self._result(
                f"Stop {stop.bin} skipped — you come back to it at the end. {self._where()}"
            )

        return self._guarded(run)

    def pause(self) -> PickResult:
        def run(uow: UnitOfWork) -> PickResult:
            view = self._need_list()
            actions.pause(uow, view.id)
            self._close()
            again = f"it or cart {view.cart}" if view.cart else "it"
            return self._result(f"Pick list {view.number} paused — scan {again} to carry on.")

        return self._guarded(run)

    def hand_over(self, to_badge: str | None) -> PickResult:
        def run(uow: UnitOfWork) -> PickResult:
            view = self._need_list()
            after = actions.hand_over(uow, view.id, to_badge)
            self._close()
            cart = f" or cart {view.cart}" if view.cart else ""
            who = after.picker_name or f"whoever scans it{cart} next"
            return self._result(f"The rest of pick list {view.number} goes to {who}.")

        return self._guarded(run)

    def resume(self) -> PickResult | None:
        """Carry on with the list this picker had open here (after a pause or restart)."""
        with self._uow() as uow:
            list_id = actions.resumable(uow)
        if list_id is None:
            return None
        return self._guarded(lambda uow: self._take(uow, list_id))

    def _need_list(self) -> PickListView:
        if self.view is None or not self.view.live:
            raise ValidationError("No pick list is open.")
        if self.in_hand:
            units = "1 unit is" if self.in_hand == 1 else f"{self.in_hand} units are"
            raise ValidationError(
                f"{units} in hand — put them in the tote or back on the shelf first."
            )
        return self.view

    def _close(self) -> None:
        self.view = None
        self.step = Step.LIST
        self.in_hand = 0
        self._capture = Capture()
        self._short_pending = False


class _Ahead(PickSession):
    """A copy of a session's walk that a prediction may move on; it has no database."""

    def __init__(self, session: PickSession) -> None:  # a copy: opens nothing
        self.__dict__.update(session.__dict__)

    def _uow(self) -> UnitOfWork:
        raise AssertionError("a prediction reads no database")
