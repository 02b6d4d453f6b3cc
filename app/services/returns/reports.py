"""The returns reports: return rate by product and reason, condition mix, refund totals and the
time from receipt to resolution, for a period; on screen and as CSV.

The return rate of a product is the units that came back (received, as expected) over the units
shipped on orders placed in the period.
"""

from __future__ import annotations

import csv
import io
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, select

from app.services.returns.rmas import RETURNABLE
from app.store.models import Order, OrderLine, Product, ReturnRefund, ReturnUnit, Rma, RmaLine
from app.store.uow import UnitOfWork

Ts = TypeVarTuple("Ts")


@dataclass(frozen=True, slots=True)
class ProductRate:
    sku: str
    name: str
    shipped: int
    returned: int
    by_reason: dict[str, int]

    @property
    def rate_bp(self) -> int:
        """Returned over shipped, in basis points (0 when nothing shipped)."""
        return 0 if self.shipped <= 0 else self.returned * 10_000 // self.shipped


@dataclass(frozen=True, slots=True)
class ReturnsReport:
    since: datetime | None
    until: datetime | None
    products: tuple[ProductRate, ...]
    conditions: dict[str, int]
    refunds: dict[tuple[str, str], tuple[int, int]]  # (resolution, state) → (count, minor)
    resolution_hours: tuple[float, ...]  # one per resolved return

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.resolution_hours) if self.resolution_hours else None


def report(
    uow: UnitOfWork, since: datetime | None = None, until: datetime | None = None
) -> ReturnsReport:
    s = uow.session

    def period(column: Any, q: Select[*Ts]) -> Select[*Ts]:
        if since is not None:
            q = q.where(column >= since)
        if until is not None:
            q = q.where(column < until)
        return q

    shipped_q = (
        select(OrderLine.product_id, func.sum(OrderLine.qty_ordered - OrderLine.qty_missing))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_(sorted(RETURNABLE)))
        .group_by(OrderLine.product_id)
    )
    shipped = dict(s.execute(period(Order.placed_at, shipped_q)).all())
    returned_q = (
        select(ReturnUnit.product_id, RmaLine.reason, func.count(ReturnUnit.id))
        .join(RmaLine, RmaLine.id == ReturnUnit.rma_line_id)
        .group_by(ReturnUnit.product_id, RmaLine.reason)
    )
    reasons: dict[uuid.UUID, dict[str, int]] = {}
    for pid, reason, n in s.execute(period(ReturnUnit.received_at, returned_q)).all():
        reasons.setdefault(pid, {})[reason] = int(n)
    names = {
        pid: (sku, name)
        for pid, sku, name in s.execute(
            select(Product.id, Product.sku, Product.name).where(Product.id.in_(list(reasons)))
        )
    }
    products = sorted(
        (
            ProductRate(
                names[pid][0],
                names[pid][1],
                int(shipped.get(pid) or 0),
                sum(by.values()),
                dict(sorted(by.items())),
            )
            for pid, by in reasons.items()
            if pid in names
        ),
        key=lambda r: (-r.returned, r.sku),
    )
    cond_q = select(ReturnUnit.condition, func.count(ReturnUnit.id)).group_by(ReturnUnit.condition)
    conditions = {c: int(n) for c, n in s.execute(period(ReturnUnit.received_at, cond_q)).all()}
    refund_q = select(
        ReturnRefund.resolution,
        ReturnRefund.state,
        func.count(ReturnRefund.id),
        func.coalesce(func.sum(ReturnRefund.amount_minor), 0),
    ).group_by(ReturnRefund.resolution, ReturnRefund.state)
    refunds = {
        (r, st): (int(n), int(total))
        for r, st, n, total in s.execute(period(ReturnRefund.created_at, refund_q)).all()
    }
    times_q = select(Rma.received_at, Rma.resolved_at).where(
        Rma.received_at.is_not(None), Rma.resolved_at.is_not(None)
    )
    hours = tuple(
        (done - got).total_seconds() / 3600
        for got, done in s.execute(period(Rma.resolved_at, times_q)).all()
        if got is not None and done is not None
    )
    return ReturnsReport(since, until, tuple(products), conditions, refunds, hours)


def to_csv(r: ReturnsReport) -> str:
    """The report as one CSV file: a section per table, each with its own header row."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    reasons = sorted({k for p in r.products for k in p.by_reason})
    w.writerow(["section", "sku", "name", "shipped", "returned", "rate_percent", *reasons])
    for p in r.products:
        w.writerow(
            [
                "return_rate",
                p.sku,
                p.name,
                p.shipped,
                p.returned,
                f"{p.rate_bp / 100:.2f}",
                *(p.by_reason.get(k, 0) for k in reasons),
            ]
        )
    w.writerow([])
    w.writerow(["section", "condition", "units"])
    for cond, n in sorted(r.conditions.items()):
        w.writerow(["condition_mix", cond, n])
    w.writerow([])
    w.writerow(["section", "resolution", "state", "count", "amount_minor"])
    for (res, st), (n, total) in sorted(r.refunds.items()):
        w.writerow(["refund_totals", res, st, n, total])
    w.writerow([])
    w.writerow(["section", "resolved_returns", "median_hours"])
    median = r.median_hours
    shown = "" if median is None else f"{median:.2f}"
    w.writerow(["receipt_to_resolution", len(r.resolution_hours), shown])
    return out.getvalue()
