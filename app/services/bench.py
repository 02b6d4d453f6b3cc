"""The pack bench as a workflow: what a scan means depends on where the packer is.

No order open: a scan opens the order it names. An order open: a product scan packs an item,
an order or tote scan switches to that order. Every scan is committed with its outcome before
the result is returned, accepted or not. The screen calls :meth:`PackBench.scan` (on its
database worker) and shows the :class:`BenchResult`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from app.domain.errors import WaystationError
from app.scanning.normalize import normalize
from app.services import packing
from app.services.resolve import Kind, resolve
from app.services.views import CompletedOrder, OperatorView, OrderView, ScanOutcome
from app.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class BenchResult:
    outcome: ScanOutcome
    message: str
    order: OrderView | None
    line_id: uuid.UUID | None = None
    opened: bool = False  # the scan opened (or switched to) an order
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is ScanOutcome.ACCEPTED


class PackBench:
    """One packer's session at one bench. Not thread-safe: use it from one worker."""

    def __init__(
        self,
        uow_factory: Callable[[OperatorView | None], UnitOfWork],
        operator: OperatorView,
        gs_replacement: str | None = None,
        sscc_block: int = 0,
    ) -> None:
        self._factory = uow_factory
        self.operator = operator
        self.gs_replacement = gs_replacement or None
        self.sscc_block = sscc_block
        self.order: OrderView | None = None

    def _uow(self) -> UnitOfWork:
        return self._factory(self.operator)

    def scan(self, raw: str, qty: int | None = None) -> BenchResult:
        start = time.perf_counter()
        order_id = self.order.id if self.order else None
        try:
            with self._uow() as uow:
                result = self._scan(uow, raw, qty)
        except WaystationError as e:
            with self._uow() as uow:
                packing.record_rejected_scan(uow, raw, order_id, e)
            result = BenchResult(packing.outcome_of(e), e.message, self.order)
        ms = (time.perf_counter() - start) * 1000
        return BenchResult(
            result.outcome, result.message, result.order, result.line_id, result.opened, ms
        )

    def _scan(self, uow: UnitOfWork, raw: str, qty: int | None) -> BenchResult:
        scan = normalize(raw, gs_replacement=self.gs_replacement)
        found = resolve(uow.session, scan)
        if self.order is None or (found is not None and found.kind in (Kind.ORDER, Kind.TOTE)):
            previous = self.order
            order = packing.open_resolved(uow, scan, found)
            self.order = order
            words = f"Order {order.number} open — scan the first item."
            if previous is not None and previous.id != order.id:
                words = f"Order {previous.number} set aside. " + words
            return BenchResult(ScanOutcome.ACCEPTED, words, order, opened=True)
        cmd = packing.ItemScan(self.order.id, raw, qty, self.gs_replacement)
        done = packing.pack_resolved(uow, cmd, scan, found)
        self.order = done.order
        message = done.message
        if done.order.all_packed:
            message += " — all items packed: close the package and complete the order."
        return BenchResult(ScanOutcome.ACCEPTED, message, done.order, done.line_id)

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
            done = packing.complete_order(uow, oid)
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
