"""Totes from picking at the pack bench.

A cluster or single-order tote names its order (``tote.order_id``), so the bench opens it as
it always has. A batch tote holds several orders' units: scanning it starts the sort-to-order
step, where each item scanned from the tote opens the order it belongs to (setting the one
before aside) and counts into its box. :class:`SortingBench` is the pack bench with that step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from app.services import packing
from app.services.bench import BenchResult, PackBench
from app.services.picking import ledger
from app.services.resolve import Kind, Resolved
from app.services.views import OperatorView, OrderView, ScanOutcome
from app.store.models import Tote
from app.store.uow import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.config import StationConfig
    from app.scanning.normalize import Scan
    from app.scanning.rules import StationCodes
    from app.sync.claims import ClaimAnswer


@dataclass(frozen=True, slots=True)
class BatchTote:
    tote: str
    list_number: str
    orders: tuple[tuple[uuid.UUID, str], ...]  # (order id, number) in pick list order

    @property
    def words(self) -> str:
        numbers = ", ".join(n for _i, n in self.orders)
        return (
            f"Batch tote {self.tote} from pick list {self.list_number}: "
            f"{len(self.orders)} orders ({numbers}). Scan an item from the tote — the bench "
            "opens the order it goes to."
        )


def batch_in_tote(uow: UnitOfWork, tote_id: uuid.UUID) -> BatchTote | None:
    """The batch a tote carries, with its orders not packed yet; None for any other tote."""
    s = uow.session
    tote = s.get(Tote, tote_id)
    if tote is None or tote.order_id is not None:
        return None
    rows = s.execute(ledger.batch_units_in(tote.code)).all()
    if not rows:
        return None
    latest = rows[0][0]
    orders = dict.fromkeys((oid, number) for lst, oid, number, _at in rows if lst == latest)
    ordered = tuple(sorted(orders, key=lambda x: x[1]))
    return BatchTote(tote.code, latest, ordered)


def order_for_item(
    uow: UnitOfWork, batch: BatchTote, product_id: uuid.UUID, current: uuid.UUID | None
) -> tuple[uuid.UUID, str] | None:
    """The batch order that still waits for this item (the open one first, if it does)."""
    a, line = ledger.ALLOC, ledger.LINE
    ids = [oid for oid, _n in batch.orders]
    picked = dict(
        uow.session.execute(
            select(a.c.order_id, func.sum(a.c.picked))
            .where(a.c.order_id.in_(ids), a.c.product_id == product_id, a.c.tote_code == batch.tote)
            .group_by(a.c.order_id)
        ).all()
    )
    packed = dict(
        uow.session.execute(
            select(line.c.order_id, func.sum(line.c.qty_packed))
            .where(line.c.order_id.in_(ids), line.c.product_id == product_id)
            .group_by(line.c.order_id)
        ).all()
    )
    waiting = [
        (oid, n) for oid, n in batch.orders if int(picked.get(oid) or 0) > int(packed.get(oid) or 0)
    ]
    for oid, n in waiting:
        if oid == current:
            return oid, n
    return waiting[0] if waiting else None


class SortingBench(PackBench):
    """The pack bench, with batch totes sorted to their orders item by item."""

    batch: BatchTote | None = None

    def predict(self, order: OrderView, raw: str, qty: int | None = None) -> BenchResult | None:
        """As the pack bench's, but nothing while a batch tote is being sorted: an item may
        then belong to another of the batch's orders, which only the database can tell."""
        if self.batch is not None:
            return None
        return super().predict(order, raw, qty)

    def _scan_resolved(
        self, uow: UnitOfWork, raw: str, qty: int | None, scan: Scan, found: Resolved | None
    ) -> BenchResult:
        if found is not None and found.kind is Kind.TOTE:
            batch = batch_in_tote(uow, found.entity_id)
            self.batch = batch
            if batch is not None:
                return BenchResult(ScanOutcome.ACCEPTED, batch.words, self.order)
        elif found is not None and found.kind is Kind.PRODUCT and self.batch is not None:
            current = self.order.id if self.order is not None else None
            target = order_for_item(uow, self.batch, found.entity_id, current)
            if target is not None and target[0] != current:
                return self._sort_into(uow, target, raw, qty, scan, found)
        return super()._scan_resolved(uow, raw, qty, scan, found)

    def _sort_into(
        self,
        uow: UnitOfWork,
        target: tuple[uuid.UUID, str],
        raw: str,
        qty: int | None,
        scan: Scan,
        found: Resolved,
    ) -> BenchResult:
        from app.scanning.normalize import normalize

        assert self.batch is not None
        order_id, number = target
        order = packing.open_resolved(uow, normalize(number), Resolved(Kind.ORDER, order_id))
        cmd = packing.ItemScan(order.id, raw, qty, self.gs_replacement, self.scan_id)
        done = packing.pack_resolved(uow, cmd, scan, found)
        self.order = done.order
        words = f"Order {number} (batch tote {self.batch.tote}): {done.message}"
        return BenchResult(ScanOutcome.ACCEPTED, words, done.order, done.line_id, opened=True)


def station_bench(
    uow_factory: Callable[[OperatorView | None], UnitOfWork],
    operator: OperatorView,
    config: StationConfig,
    codes: StationCodes | None = None,
    claims: Callable[[uuid.UUID], ClaimAnswer] | None = None,
) -> SortingBench:
    """The station's pack bench for ``operator`` as its settings make it (batch totes from
    picking sorted to their orders): the same in the station and in its bench process."""
    label = config.printers.get("shipping_label")
    return SortingBench(
        uow_factory,
        operator,
        config.scanner.gs_replacement,
        config.sscc_block,
        labels=label is not None,
        label_on_last_scan=label is not None and label.label_on_last_scan,
        codes=codes,
        claims=claims,
    )
