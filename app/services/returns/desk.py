"""The returns desk as a workflow: what a scan means depends on where the clerk is.

Nothing open: a scan finds the orders the parcel may belong to (an RMA barcode opens its RMA;
anything else lists candidate orders, and one order with no RMA opens as an unannounced
return). A return open: each item scan counts one unit against the expected lines, a
serial-tracked item also wants its serial. Units are graded (condition, optional photos) and get
the default disposition for their reason and condition; a supervisor may change it.
Completing books everything in with one operation (app/services/returns/receiving.py).

A scan the desk refuses (an item not on the return, a serial not sold on the order or that came
back on another RMA, more units than were sold, an RMA received already or cancelled, an order
that came back whole, another parcel's code while a return is open, a return past the window)
books nothing: it is kept as a rejected scan event (``scan.rejected``, workflow ``returns``),
and the result says what happened and offers the next steps (:class:`Offer`).

Until completion the units and the accepted scans live in this object only, so an accepted
scan costs one or two indexed look-ups and no write; completing writes the scans as scan events
with the receipt. A return put away unbooked (:meth:`ReturnDesk.cancel`) keeps its refused
scans only. Not thread-safe: use it from one worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Table, bindparam, select

from app.clock import utcnow
from app.domain import returns as rules
from app.domain.errors import WaystationError
from app.domain.roles import Permission, Role, allows
from app.services import auth
from app.services.returns import lookup, opening, receiving, rmas
from app.services.returns.desk_state import (
    DeskResult,
    DeskState,
    Offer,
    OpenReturn,
    Outcome,
    Unit,
    UnitView,
)
from app.services.returns.views import Candidate, ReceiptDone, RmaLineView, ToResolve
from app.store.fastexec import FastExecutor
from app.store.models import Barcode, Location, Order, Product
from app.store.uow import UnitOfWork

_BC: Table = Barcode.__table__  # type: ignore[assignment]
_PRODUCT: Table = Product.__table__  # type: ignore[assignment]
_LOCATION: Table = Location.__table__  # type: ignore[assignment]
_BIN = select(_LOCATION.c.id, _LOCATION.c.code).where(_LOCATION.c.code == bindparam("code"))
_BY_GTIN = select(_BC.c.entity_id).where(
    _BC.c.code.in_([bindparam("k1"), bindparam("k2")]), _BC.c.kind == "product"
)
_PRODUCT_WORDS = select(_PRODUCT.c.sku, _PRODUCT.c.name, _PRODUCT.c.track_serial).where(
    _PRODUCT.c.id == bindparam("id")
)


# A well-formed GTIN no product has: the look-up goes through every kind of code.
WARM_UP_CODE = "0000000000000"


class ReturnDesk:
    """One clerk's session at the returns desk."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory
        self.open: OpenReturn | None = None
        self._want_serial: tuple[uuid.UUID, RmaLineView | None] | None = None
        self._refused: Unit | None = None  # the last refused item, for "receive as unexpected"
        self._late: Candidate | None = None  # a late order waiting for a supervisor
        self._next_key = 1
        self._scans: list[receiving.ScanIn] = []  # accepted scans, booked with the receipt

    def warm_up(self) -> None:
        """What a parcel scan does, once, while the clerk reaches for the first parcel: every
        look-up (for a code that names nothing) and the opening of a shipped order's return,
        on a desk of its own that is then dropped. Their statements are compiled and their
        pages read here, not on the first parcel's scan (it took ~8 ms more than the others).
        Only reads."""
        with self._uow().reading() as uow:
            lookup.find_candidates(uow, WARM_UP_CODE)
            number = uow.session.scalar(
                select(Order.number).where(Order.status.in_(sorted(rmas.RETURNABLE))).limit(1)
            )
        if number is not None:
            ReturnDesk(self._uow)._find(number)

    # -- reading ------------------------------------------------------------------------------

    def state(self) -> DeskState:
        """What the screen shows, as frozen copies (safe to hand to another thread)."""
        if self.open is None:
            return DeskState(None, None, (), (), self.waiting_for_supervisor, False)
        return DeskState(
            self.open.order_number,
            self.open.rma_number,
            tuple(self.expected()),
            tuple(
                UnitView(
                    u.key,
                    u.sku,
                    u.name,
                    u.serial,
                    u.reason,
                    u.condition,
                    u.disposition,
                    u.unexpected,
                    u.disposition_by,
                    u.photos,
                    u.bin_code,
                )
                for u in self.open.units
            ),
            self.waiting_for_supervisor,
            self._want_serial is not None,
        )

    @property
    def units(self) -> list[Unit]:
        return [] if self.open is None else list(self.open.units)

    def expected(self) -> list[tuple[RmaLineView, int]]:
        """Each expected line with the units counted so far."""
        if self.open is None:
            return []
        return [(ln, self._counted(ln)) for ln in self.open.lines]

    def _counted(self, line: RmaLineView) -> int:
        assert self.open is not None
        return sum(1 for u in self.open.units if u.rma_line_id == line.id)

    # -- scanning -----------------------------------------------------------------------------

    def scan(self, raw: str) -> DeskResult:
        start = time.perf_counter()
        order_id = self.open.order_id if self.open is not None else None
        try:
            result = self._scan(raw.strip())
        except WaystationError as e:
            result = DeskResult(Outcome.REFUSED, e.message, (Offer.SET_ASIDE,))
        if result.outcome is Outcome.REFUSED:
            with self._uow() as uow:
                receiving.record_refused_scan(uow, raw, order_id, result.message)
        else:
            self._scans.append(self._accepted(raw, result))
        return replace(result, elapsed_ms=(time.perf_counter() - start) * 1000)

    def _accepted(self, raw: str, result: DeskResult) -> receiving.ScanIn:
        """The scan as the desk took it, kept until the return is booked in."""
        kind: str | None = None
        entity: uuid.UUID | None = None
        if self.open is not None and result.outcome is Outcome.OPENED and not self.open.units:
            kind, entity = (
                ("rma", self.open.rma_id) if self.open.rma_id else ("order", self.open.order_id)
            )
        elif result.outcome is Outcome.WANT_SERIAL and self._want_serial is not None:
            kind, entity = "product", self._want_serial[0]
        elif result.outcome is Outcome.COUNTED and self.open is not None and self.open.units:
            kind, entity = "product", self.open.units[-1].product_id
        return receiving.ScanIn(raw.strip(), utcnow(), kind, entity, result.message)

    def _scan(self, code: str) -> DeskResult:
        if not code:
            return DeskResult(Outcome.REFUSED, "The scanner sent nothing — scan the code again.")
        if self.open is None:
            if self._late is not None and self._is_badge(code):
                return self.approve_late(code)
            self._late = None
            return self._find(code)
        if self._want_serial is not None:
            return self._serial(code)
        return self._item(code)

    def _find(self, code: str) -> DeskResult:
        # One transaction for the look-up and the opening: the parcel scan is the desk's
        # slowest, and each unit of work costs a BEGIN and a COMMIT. It only reads: it never
        # waits for a writer (the station's print process books its jobs meanwhile).
        with self._uow().reading() as uow:
            found = lookup.find_candidates(uow, code)
            if not found:
                return DeskResult(
                    Outcome.REFUSED,
                    f"{code} names no shipped order here — scan another code on the parcel "
                    "(the RMA, the packing slip, the shipping label) or an item in it.",
                    (Offer.SET_ASIDE,),
                )
            with_rma = [c for c in found if c.rma_id is not None]
            if found[0].matched_by == "rma" or (len(found) == 1 and with_rma):
                return self._open_in(uow, with_rma[0] if with_rma else found[0], None)
            if len(found) == 1:
                return self._open_in(uow, found[0], None)
        return DeskResult(
            Outcome.CHOOSE,
            f"{len(found)} orders fit {code} — choose the customer's order, or scan another "
            "code on the parcel.",
            candidates=tuple(found),
        )

    def choose(self, candidate: Candidate, approver_badge: str | None = None) -> DeskResult:
        """Open the return of a candidate order (its RMA, or unannounced without one)."""
        with self._uow() as uow:
            return self._open_in(uow, candidate, approver_badge)

    def _open_in(
        self, uow: UnitOfWork, candidate: Candidate, approver_badge: str | None
    ) -> DeskResult:
        fx = FastExecutor(uow.session.connection())
        order = opening.order_row(fx, candidate.order_id)
        if order is None:
            return DeskResult(Outcome.REFUSED, "That order is not on this station.")
        order_id, number, status, packed_at, placed_at = order
        rma_number: str | None = None
        late: str | None = None
        back: list[tuple[str, datetime]] = []
        if candidate.rma_id is not None:
            found = opening.rma(fx, candidate.rma_id)
            if found is None:
                return DeskResult(Outcome.REFUSED, "That return is not on this station.")
            rma_number, rma_status, received_at, lines = found
            if rma_status == rmas.RECEIVED:
                when = receiving.when_received(received_at)
                missing = sum(max(0, line.qty - line.received) for line in lines)
                rest = (
                    f" {missing} unit(s) of it did not come then: to book them in, scan order "
                    f"{number}'s number or label."
                    if missing
                    else ""
                )
                return DeskResult(
                    Outcome.WAITING,
                    f"RMA {rma_number} was booked in ({when}) and waits for its resolution — "
                    f"refund (F6), store credit (F7) or exchange (F8).{rest}",
                    to_resolve=ToResolve(candidate.rma_id, rma_number),
                )
            if rma_status != rmas.AUTHORISED:
                return DeskResult(
                    Outcome.REFUSED,
                    receiving.not_open_words(rma_number, rma_status, received_at),
                    (Offer.SET_ASIDE,),
                )
        else:
            if status not in rmas.RETURNABLE:
                return DeskResult(
                    Outcome.REFUSED,
                    f"Order {number} is {status.replace('_', ' ')}: it never left the "
                    "warehouse — set the parcel aside for a supervisor.",
                    (Offer.SET_ASIDE,),
                )
            lines = opening.order_lines(fx, order_id)
            back = opening.came_back(fx, order_id)
            if back and not lines:
                return DeskResult(
                    Outcome.REFUSED,
                    f"Order {number} came back already on {_rmas(back)} — nothing more of it "
                    "can come back. Set the parcel aside for a supervisor.",
                    (Offer.SET_ASIDE,),
                )
            try:
                late = rmas.check_window_for(uow, number, packed_at or placed_at, approver_badge)
            except rmas.LateReturnError as e:
                self._late = candidate
                return DeskResult(Outcome.REFUSED, e.message, (Offer.SUPERVISOR, Offer.SET_ASIDE))
        self._late = None
        serials = opening.serials(fx, order_id)
        self.open = OpenReturn(
            order_id,
            number,
            candidate.rma_id,
            rma_number,
            lines,
            serials,
            opening.returned_serials(fx, order_id) if serials else {},
            late,
        )
        units = sum(ln.qty for ln in lines)
        if rma_number:
            words = f"RMA {rma_number} for order {number}: {units} unit(s) expected"
        elif back:
            words = (
                f"Order {number} came back in part on {_rmas(back)}: an unannounced return of "
                f"the {units} unit(s) left"
            )
        else:
            words = f"Order {number} has no RMA: an unannounced return"
        if late:
            words += f" (late, approved by {late})"
        return DeskResult(Outcome.OPENED, words + " — scan each item.")

    def _is_badge(self, code: str) -> bool:
        with self._uow().reading() as uow:
            try:
                auth.find_by_badge(uow.session, code)
            except WaystationError:
                return False
        return True

    @property
    def waiting_for_supervisor(self) -> bool:
        return self._late is not None

    def approve_late(self, badge: str) -> DeskResult:
        """A supervisor's badge lets the late order waiting at the desk in."""
        if self._late is None:
            return DeskResult(Outcome.REFUSED, "Nothing is waiting for a supervisor.")
        try:
            return self.choose(self._late, badge)
        except WaystationError as e:
            return DeskResult(Outcome.REFUSED, e.message, (Offer.SUPERVISOR, Offer.SET_ASIDE))

    def _item(self, code: str) -> DeskResult:
        assert self.open is not None
        scan = lookup.read(code)
        gtin = scan.gtin if scan is not None and scan.gtin else code.upper()
        with self._uow().reading() as uow:
            fx = FastExecutor(uow.session.connection())
            product_id = fx.scalar(_BY_GTIN, {"k1": gtin, "k2": code.upper()})
            words = fx.first(_PRODUCT_WORDS, {"id": product_id}) if product_id else None
            # Not an item: perhaps a bin's label (read in the same transaction).
            shelf = fx.first(_BIN, {"code": code.upper()}) if words is None else None
        if product_id is None or words is None:
            serial_of = self.open.serials.get(code.upper())
            if serial_of is not None:
                return self._count(serial_of, code.upper())
            same = self._names_this_return(code)
            if same:
                return DeskResult(Outcome.OPENED, same)
            if shelf is not None:
                return self._bin_for_restock(shelf[0], shelf[1])
            other = self._names_another_parcel(code)
            if other is not None:
                return other
            return DeskResult(
                Outcome.REFUSED,
                f"{code} is no item of this station — scan the item's barcode, or set it aside.",
                (Offer.SET_ASIDE,),
            )
        sku, name, track_serial = words
        serial = scan.serial if scan is not None else None
        if track_serial and not serial:
            line = self._line_for(product_id)
            refused = self._check(product_id, sku, name, line)
            if refused:
                return refused
            self._want_serial = (product_id, line)
            return DeskResult(Outcome.WANT_SERIAL, f"{sku} {name}: now scan its serial number.")
        return self._count(product_id, serial.upper() if serial else None, (sku, name))

    def _bin_for_restock(self, bin_id: uuid.UUID, bin_code: str) -> DeskResult:
        """A bin's label: where the last unit going back to stock goes (a product with no home
        bin needs one; another may go elsewhere)."""
        assert self.open is not None
        restock = [u for u in self.open.units if u.disposition is rules.Disposition.RESTOCK]
        if not restock:
            return DeskResult(
                Outcome.REFUSED,
                f"{bin_code} is a bin — scan it for an item graded to go back to stock, after "
                "grading it.",
            )
        unit = next((u for u in reversed(restock) if u.bin_id is None), restock[-1])
        unit.bin_id, unit.bin_code = bin_id, bin_code
        return DeskResult(Outcome.COUNTED, f"{unit.sku} goes back to bin {bin_code}.")

    def _names_this_return(self, code: str) -> str | None:
        assert self.open is not None
        upper = code.upper()
        if upper == self.open.order_number or upper == self.open.rma_number:
            return "This return is open already — scan its items."
        return None

    def _names_another_parcel(self, code: str) -> DeskResult | None:
        """A parcel's code scanned while a return is open: another return's RMA, another
        order's number or shipping label (refused: finish the open return first), or this
        order's own label (it is open already). None for anything else."""
        assert self.open is not None
        with self._uow().reading() as uow:
            found = lookup.find_candidates(uow, code)
        found = [c for c in found if c.matched_by in ("rma", "order", "tracking")]
        if not found:
            return None
        if any(c.order_id == self.open.order_id and c.matched_by != "rma" for c in found):
            return DeskResult(Outcome.OPENED, "This return is open already — scan its items.")
        c = found[0]
        what = (
            f"the RMA of another return (order {c.order_number})"
            if c.matched_by == "rma"
            else f"order {c.order_number}'s, another parcel"
        )
        return DeskResult(
            Outcome.REFUSED,
            f"{code} is {what} — complete the open return (F10) or cancel it (Esc) first, "
            "then scan it again.",
        )

    def _serial(self, code: str) -> DeskResult:
        assert self._want_serial is not None
        product_id, _line = self._want_serial
        self._want_serial = None
        scan = lookup.read(code)
        serial = (scan.serial if scan is not None and scan.serial else code).upper()
        return self._count(product_id, serial)

    def _line_for(self, product_id: uuid.UUID) -> RmaLineView | None:
        assert self.open is not None
        for ln in self.open.lines:
            if ln.product_id == product_id and self._counted(ln) < ln.qty:
                return ln
        for ln in self.open.lines:
            if ln.product_id == product_id:
                return ln
        return None

    def _check(
        self, product_id: uuid.UUID, sku: str, name: str, line: RmaLineView | None
    ) -> DeskResult | None:
        """The refusal for this item, or None when it is expected."""
        assert self.open is not None
        what = (
            f"RMA {self.open.rma_number}"
            if self.open.rma_number
            else f"order {self.open.order_number}"
        )
        if line is None:
            self._refuse_unit(product_id, sku, name, None)
            return DeskResult(
                Outcome.REFUSED,
                f"{sku} {name} is not on {what} — set it aside, or receive it as unexpected.",
                (Offer.SET_ASIDE, Offer.RECEIVE_UNEXPECTED),
            )
        if self._counted(line) >= line.qty:
            self._refuse_unit(product_id, sku, name, None)
            return DeskResult(
                Outcome.REFUSED,
                f"{what.capitalize()} has {line.qty} of {sku} to come back and "
                f"{self._counted(line)} are scanned — set this one aside, or receive it as "
                "unexpected.",
                (Offer.SET_ASIDE, Offer.RECEIVE_UNEXPECTED),
            )
        return None

    def _count(
        self, product_id: uuid.UUID, serial: str | None, words: tuple[str, str] | None = None
    ) -> DeskResult:
        assert self.open is not None
        if words is None:
            with self._uow().reading() as uow:
                row = FastExecutor(uow.session.connection()).first(
                    _PRODUCT_WORDS, {"id": product_id}
                )
            sku, name = (row[0], row[1]) if row else ("?", "")
        else:
            sku, name = words
        line = self._line_for(product_id)
        refused = self._check(product_id, sku, name, line)
        if refused:
            return refused
        assert line is not None
        if serial is not None:
            if serial not in self.open.serials or self.open.serials[serial] != product_id:
                self._refuse_unit(product_id, sku, name, serial)
                return DeskResult(
                    Outcome.REFUSED,
                    f"Serial {serial} was not sold on order {self.open.order_number} — set the "
                    "item aside, or receive it as unexpected.",
                    (Offer.SET_ASIDE, Offer.RECEIVE_UNEXPECTED),
                )
            came_back = self.open.returned.get(serial)
            if came_back is not None:
                self._refuse_unit(product_id, sku, name, None)
                return DeskResult(
                    Outcome.REFUSED,
                    f"Serial {serial} came back on RMA {came_back} already — set this item "
                    "aside for a supervisor.",
                    (Offer.SET_ASIDE,),
                )
            if any(u.serial == serial for u in self.open.units):
                self._refuse_unit(product_id, sku, name, None)
                return DeskResult(
                    Outcome.REFUSED,
                    f"Serial {serial} is scanned already on this return — set this item aside.",
                    (Offer.SET_ASIDE,),
                )
        unit = self._new_unit(product_id, sku, name, line, serial)
        self.open.units.append(unit)
        self._refused = None
        done = self._counted(line)
        return DeskResult(
            Outcome.COUNTED,
            f"{sku} {name}: {done} of {line.qty}"
            + (f", serial {serial}" if serial else "")
            + " — grade it.",
        )

    def _new_unit(
        self,
        product_id: uuid.UUID,
        sku: str,
        name: str,
        line: RmaLineView | None,
        serial: str | None,
    ) -> Unit:
        key, self._next_key = self._next_key, self._next_key + 1
        reason = rules.Reason(line.reason) if line else rules.Reason.CHANGED_MIND
        return Unit(key, product_id, sku, name, reason, line.id if line else None, serial)

    def _refuse_unit(self, product_id: uuid.UUID, sku: str, name: str, serial: str | None) -> None:
        self._refused = self._new_unit(product_id, sku, name, None, serial)

    # -- the clerk's choices ------------------------------------------------------------------

    def set_aside(self) -> DeskResult:
        self._refused = None
        self._want_serial = None
        if self.open is None:
            self._late = None
            self._scans = []
            return DeskResult(Outcome.OPENED, "Parcel set aside — scan the next parcel.")
        return DeskResult(Outcome.OPENED, "Item set aside — scan the next item.")

    def receive_unexpected(self) -> DeskResult:
        """Take the item just refused in as unexpected (quarantined, refunded nothing)."""
        if self.open is None or self._refused is None:
            return DeskResult(Outcome.REFUSED, "There is no refused item to receive.")
        unit, self._refused = self._refused, None
        unit.condition = None
        self.open.units.append(unit)
        return DeskResult(
            Outcome.COUNTED, f"{unit.sku} {unit.name} received as unexpected — grade it."
        )

    def unit(self, key: int) -> Unit:
        for u in self.units:
            if u.key == key:
                return u
        raise KeyError(key)

    def grade(
        self, key: int, condition: rules.Condition, photos: tuple[str, ...] = ()
    ) -> DeskResult:
        unit = self.unit(key)
        unit.condition = condition
        unit.photos = unit.photos + photos
        if unit.disposition_by is None:
            unit.disposition = (
                rules.Disposition.QUARANTINE
                if unit.unexpected
                else rules.default_disposition(unit.reason, condition)
            )
        assert unit.disposition is not None
        return DeskResult(
            Outcome.COUNTED,
            f"{unit.sku}: {condition.label.lower()} → {unit.disposition.label.lower()}.",
        )

    def add_photo(self, key: int, path: str) -> DeskResult:
        unit = self.unit(key)
        unit.photos = (*unit.photos, path)
        return DeskResult(Outcome.COUNTED, f"{unit.sku}: photo {len(unit.photos)} kept.")

    def set_reason(self, key: int, reason: rules.Reason) -> DeskResult:
        """An unannounced return's reason, as the customer's note or the clerk says: it sets
        what the unit is refunded and where it goes by default. A unit on an RMA keeps the
        reason customer service recorded."""
        unit = self.unit(key)
        if self.open is not None and self.open.rma_number is not None:
            return DeskResult(
                Outcome.REFUSED,
                f"{unit.sku} came back on RMA {self.open.rma_number}, whose reason stands — "
                "customer service changes it on the RMA.",
            )
        unit.reason = reason
        if unit.condition is not None and unit.disposition_by is None and not unit.unexpected:
            unit.disposition = rules.default_disposition(reason, unit.condition)
        goes = f" → {unit.disposition.label.lower()}" if unit.disposition is not None else ""
        return DeskResult(
            Outcome.COUNTED, f"{unit.sku}: came back as {reason.label.lower()}{goes}."
        )

    def set_disposition(
        self, key: int, disposition: rules.Disposition, approver_badge: str | None = None
    ) -> DeskResult:
        """Change a unit's disposition from its default: a supervisor decides."""
        unit = self.unit(key)
        with self._uow() as uow:
            if allows([Role(r) for r in uow.actor.roles], Permission.OVERRIDE):
                who = uow.actor.operator_name
            elif not approver_badge:
                return DeskResult(
                    Outcome.REFUSED,
                    "Changing what happens to an item needs a supervisor — ask one to scan "
                    "their badge.",
                    (Offer.SUPERVISOR,),
                )
            else:
                try:
                    who = auth.authorize(uow.session, approver_badge, Permission.OVERRIDE).name
                except WaystationError as e:
                    return DeskResult(Outcome.REFUSED, e.message, (Offer.SUPERVISOR,))
        unit.disposition = disposition
        unit.disposition_by = who
        return DeskResult(Outcome.COUNTED, f"{unit.sku}: {disposition.label.lower()} ({who}).")

    def cancel(self) -> None:
        self._scans = []
        self.open = None
        self._want_serial = None
        self._refused = None
        self._late = None

    def complete(self) -> ReceiptDone:
        """Book the open return in (one transaction); raises with words when it cannot."""
        from app.domain.errors import ValidationError

        if self.open is None:
            raise ValidationError("No return is open — scan a parcel first.")
        if not self.open.units:
            raise ValidationError("Scan at least one item before completing the return.")
        ungraded = [u for u in self.open.units if u.condition is None]
        if ungraded:
            raise ValidationError(f"Grade {ungraded[0].sku} first: choose its condition.")
        with self._uow() as uow:
            rma_id, line_of = self._rma_for(uow)
            done = receiving.receive(
                uow,
                rma_id,
                [self._unit_in(u, line_of(u)) for u in self.open.units],
                late_approved_by=self.open.late_approved_by,
                scans=self._scans,
            )
        self.cancel()
        return done

    def _rma_for(self, uow: UnitOfWork) -> tuple[uuid.UUID, Callable[[Unit], uuid.UUID | None]]:
        """The RMA the units are booked under, and each unit's RMA line: the open RMA's, or
        for an unannounced return one made now (in the same transaction) with a line per order
        line and reason that came back. The desk's own units are left as they are, so a
        completion that fails can be tried again."""
        assert self.open is not None
        if self.open.rma_id is not None:
            return self.open.rma_id, lambda u: u.rma_line_id
        per_line: dict[tuple[uuid.UUID, rules.Reason], int] = {}
        for u in self.open.units:
            if u.rma_line_id is not None:
                per_line[(u.rma_line_id, u.reason)] = per_line.get((u.rma_line_id, u.reason), 0) + 1
        view = rmas.create_rma(
            uow,
            rmas.RmaRequest(
                self.open.order_id,
                [rmas.RequestLine(line, n, reason) for (line, reason), n in per_line.items()],
                unannounced=True,
            ),
            allow_empty=not per_line,
            late_approved_by=self.open.late_approved_by,
        )
        # Until now the order lines stood in for the RMA's lines.
        by_order_line = {(ln.order_line_id, ln.reason): ln.id for ln in view.lines}

        def line_of(u: Unit) -> uuid.UUID | None:
            if u.rma_line_id is None:
                return None
            return by_order_line[(u.rma_line_id, u.reason.value)]

        return view.id, line_of

    @staticmethod
    def _unit_in(u: Unit, rma_line_id: uuid.UUID | None) -> receiving.UnitIn:
        assert u.condition is not None
        assert u.disposition is not None
        return receiving.UnitIn(
            product_id=u.product_id,
            condition=u.condition,
            disposition=u.disposition,
            rma_line_id=rma_line_id,
            serial=u.serial,
            location_id=u.bin_id,
            photos=u.photos,
        )


def _rmas(back: list[tuple[str, datetime]]) -> str:
    """The returns an order came back on, for the desk's words: "RMA A, B (received …)"."""
    names = ", ".join(n for n, _at in back)
    return f"RMA {names} (received {receiving.when_received(back[0][1])})"
