"""The pack bench as a workflow: what a scan means depends on where the packer is.

No order open: a scan opens the order it names. An order open: a product scan packs an item,
an order or tote scan switches to that order. Every scan is committed with its outcome before
the result is returned, accepted or not. The screen calls :meth:`PackBench.scan` (on its
database worker) and shows the :class:`BenchResult`; :meth:`PackBench.predict` lets it show the
usual outcome of an item scan before that commit is back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from app.domain.errors import WaystationError
from app.services import item_scan, packing, print_jobs
from app.services.resolve import Kind, Resolved, resolve
from app.services.views import (
    CompletedOrder,
    OperatorView,
    OrderView,
    PackScanResult,
    ScanOutcome,
)
from app.store.uow import UnitOfWork

if TYPE_CHECKING:
    from app.scanning.normalize import Scan
    from app.scanning.rules import StationCodes
    from app.sync.claims import ClaimAnswer


@dataclass(frozen=True, slots=True)
class BenchResult:
    outcome: ScanOutcome
    message: str
    order: OrderView | None
    line_id: uuid.UUID | None = None
    opened: bool = False  # the scan opened (or switched to) an order
    elapsed_ms: float = 0.0
    queued_print: bool = False  # the scan queued a print job (a label on the last scan)
    claim: uuid.UUID | None = None  # the scan opened an order: its claim operation
    claim_refused: bool = False  # ...which central refused: another bench holds the order

    @property
    def ok(self) -> bool:
        return self.outcome is ScanOutcome.ACCEPTED

    def shows_as(self, other: BenchResult) -> bool:
        """True when the two put the same on screen: outcome, words, order and line."""
        return (
            self.outcome is other.outcome
            and self.message == other.message
            and self.line_id == other.line_id
            and self.order == other.order
        )


class PackBench:
    """One packer's session at one bench. Not thread-safe: use it from one worker."""

    def __init__(
        self,
        uow_factory: Callable[[OperatorView | None], UnitOfWork],
        operator: OperatorView,
        gs_replacement: str | None = None,
        sscc_block: int = 0,
        *,
        labels: bool = False,
        label_on_last_scan: bool = False,
        codes: StationCodes | None = None,
        claims: Callable[[uuid.UUID], ClaimAnswer] | None = None,
    ) -> None:
        self._factory = uow_factory
        self.codes = codes  # the station's code rules and scale layouts; None: the defaults
        # With a central database: the central answer to an order's claim, waited for briefly
        # (app.sync.claims); None on a standalone station.
        self._claims = claims
        self.scan_id: uuid.UUID | None = None  # the event id of the scan under way, if chosen
        self.operator = operator
        self.gs_replacement = gs_replacement or None
        self.sscc_block = sscc_block
        self.labels = labels  # a label printer is set up: each package gets its label
        # ...and the last package's label prints on the order's last scan, not at completion.
        self.label_on_last_scan = labels and label_on_last_scan
        self.order: OrderView | None = None

    def _uow(self) -> UnitOfWork:
        return self._factory(self.operator)

    def scan(
        self, raw: str, qty: int | None = None, scan_id: uuid.UUID | None = None
    ) -> BenchResult:
        """``scan_id``: the id the scan's event gets, chosen by a caller that may need to ask
        later whether the scan was committed (:meth:`settle`); a new one when None."""
        start = time.perf_counter()
        order_id = self.order.id if self.order else None
        self.scan_id = scan_id
        try:
            with self._uow() as uow:
                result = self._scan(uow, raw, qty)
        except WaystationError as e:
            with self._uow() as uow:
                packing.record_rejected_scan(uow, raw, order_id, e, scan_id)
            result = BenchResult(packing.outcome_of(e), e.message, self.order)
        finally:
            self.scan_id = None
        if result.claim is not None and self._claims is not None:
            result = self._settle_claim(result, result.claim)
        ms = (time.perf_counter() - start) * 1000
        return replace(result, elapsed_ms=ms)

    def settle(self, raw: str, qty: int | None, scan_id: uuid.UUID) -> BenchResult:
        """A scan handed elsewhere to be committed whose answer never came back (the process
        committing it ended): when its event is in the database it was committed, and the
        order is shown as it is now; otherwise it is scanned here, now. Counted once either
        way."""
        from sqlalchemy import select

        from app.services.orders import read_order
        from app.store.models import ScanEvent

        with self._uow() as uow:
            row = uow.session.execute(
                select(ScanEvent.outcome, ScanEvent.message, ScanEvent.order_id).where(
                    ScanEvent.id == scan_id
                )
            ).first()
            if row is not None and row.order_id is not None:
                self.order = read_order(uow.session.connection(), row.order_id)
        if row is None:
            return self.scan(raw, qty, scan_id)
        outcome = ScanOutcome(row.outcome)
        words = row.message or f"{raw} was counted."
        return BenchResult(outcome, words, self.order)

    def _scan(self, uow: UnitOfWork, raw: str, qty: int | None) -> BenchResult:
        from app.scanning.normalize import normalize  # biip loads on the first scan

        codes = self.codes
        scan = normalize(raw, gs_replacement=self.gs_replacement, codes=codes)
        found = resolve(uow.session, scan, codes.rules if codes is not None else None)
        return self._scan_resolved(uow, raw, qty, scan, found)

    def _scan_resolved(
        self, uow: UnitOfWork, raw: str, qty: int | None, scan: Scan, found: Resolved | None
    ) -> BenchResult:
        """What the scan means at the bench, once read (``scan``) and looked up (``found``)."""
        if self.order is None or (found is not None and found.kind in (Kind.ORDER, Kind.TOTE)):
            previous = self.order
            order, claim = packing.open_and_claim(uow, scan, found)
            self.order = order
            words = f"Order {order.number} open — scan the first item."
            if previous is not None and previous.id != order.id:
                words = f"Order {previous.number} set aside. " + words
            return BenchResult(ScanOutcome.ACCEPTED, words, order, opened=True, claim=claim)
        cmd = item_scan.ItemScan(self.order.id, raw, qty, self.gs_replacement, self.scan_id)
        done = item_scan.pack_resolved(uow, cmd, scan, found)
        self.order = done.order
        message = _item_words(done)
        queued = False
        if done.order.all_packed:
            filling = done.order.open_package
            if self.label_on_last_scan and filling is not None:
                from app.services import packages

                packages.assign_sscc_to(uow, filling.id, self.sscc_block)  # the label needs it
                title = f"Label {done.order.number} {filling.seq}/{len(done.order.packages)}"
                print_jobs.queue_job(uow, "shipping_label", filling.id, title)
                queued = True
        return BenchResult(
            ScanOutcome.ACCEPTED, message, done.order, done.line_id, queued_print=queued
        )

    def _settle_claim(self, opened: BenchResult, claim: uuid.UUID) -> BenchResult:
        """Online, another bench may hold the order: its central answer closes it again."""
        assert self._claims is not None
        answer = self._claims(claim)
        if not answer.refused:
            return opened
        self.order = None
        from app.services import conflicts

        with self._uow() as uow:  # the packer has read it here: no conflict left to see
            conflicts.acknowledge(uow, [claim])
        return BenchResult(ScanOutcome.REJECTED, answer.message, None, claim_refused=True)

    def predict(self, order: OrderView, raw: str, qty: int | None = None) -> BenchResult | None:
        """What :meth:`scan` will most likely answer for an item scan into ``order`` (the order
        as the screen shows it), worked out without the database; None when only the commit
        can tell. Reads only ``order`` and the bench's settings: safe on the GUI thread while
        the worker runs :meth:`scan`, whose result always has the last word."""
        done = item_scan.predict(order, raw, qty, self.gs_replacement)
        if done is None:
            return None
        return BenchResult(ScanOutcome.ACCEPTED, _item_words(done), done.order, done.line_id)

    def _run(self, fn: Callable[[UnitOfWork], OrderView]) -> OrderView:
        with self._uow() as uow:
            order = fn(uow)
        self.order = order
        return order

    def _current(self) -> uuid.UUID:
        if self.order is None:
            from app.domain.errors import ValidationError

            raise ValidationError("No order is open — scan an order first.")
        return self.order.id

    def undo(self) -> OrderView:
        oid = self._current()
        return self._run(lambda uow: packing.undo_last_scan(uow, oid))

    def report_missing(self, line_id: uuid.UUID, qty: int, reason: str) -> OrderView:
        oid = self._current()
        return self._run(lambda uow: packing.report_missing(uow, oid, line_id, qty, reason))

    def release_hold(self, supervisor_badge: str, ship_short: bool) -> OrderView:
        oid = self._current()
        return self._run(lambda uow: packing.release_hold(uow, oid, supervisor_badge, ship_short))

    def close_package(self, seq: int, weight_g: int, box_type: str) -> OrderView:
        from app.services import packages

        oid = self._current()
        block = self.sscc_block
        return self._run(
            lambda uow: packages.close_package(uow, oid, seq, weight_g, box_type, block)
        )

    def add_package(self) -> OrderView:
        from app.services import packages

        oid = self._current()
        return self._run(lambda uow: packages.add_package(uow, oid))

    def move_units(self, line_id: uuid.UUID, from_seq: int, to_seq: int, qty: int) -> OrderView:
        from app.services import packages

        oid = self._current()
        return self._run(lambda uow: packages.move_units(uow, oid, line_id, from_seq, to_seq, qty))

    def complete(self) -> CompletedOrder:
        oid = self._current()
        with self._uow() as uow:
            done = packing.complete_order(uow, oid, labels=self.labels)
        self.order = None
        return done

    def set_aside(self) -> None:
        oid = self._current()
        with self._uow() as uow:
            packing.set_aside(uow, oid)
        self.order = None

    def refresh(self) -> OrderView | None:
        if self.order is None:
            return None
        from app.services.orders import get_order

        oid = self.order.id
        return self._run(lambda uow: get_order(uow, oid))


def camera_wants(order: OrderView | None) -> Callable[[Scan], bool]:
    """Which of several codes in one camera picture the bench can use now.

    With an order being packed: an item of it still to pack. Otherwise: a code that names no
    product (an order number, a pick list, a tote). The camera counts that one rather than
    whichever code is nearest the middle of the picture. Safe to call from any thread: it
    reads only the frozen set made here.
    """
    if order is None or order.status != "packing":
        return lambda scan: scan.gtin is None
    wanted = frozenset(line.gtin for line in order.lines if not line.complete)
    return lambda scan: scan.gtin is not None and scan.gtin in wanted


def _item_words(done: PackScanResult) -> str:
    if done.order.all_packed:
        return done.message + " — all items packed: close the package and complete the order."
    return done.message
