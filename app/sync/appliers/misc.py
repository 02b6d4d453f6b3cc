"""Appliers of the packages of an order at the bench, and of rejected scans (a fact: kept)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain.errors import ValidationError
from app.services.packages import MAX_WEIGHT_G, shift_units
from app.store.models import PackageItem, ScanEvent
from app.sync.appliers import ApplyContext, applier
from app.sync.appliers.orders import (
    ensure_package,
    load,
    package_by_seq,
    package_of,
    require_packing,
)
from app.sync.ops import Op


def _units(ctx: ApplyContext, package_id: object) -> int:
    n = ctx.session.scalar(
        select(func.coalesce(func.sum(PackageItem.qty), 0)).where(
            PackageItem.package_id == package_id
        )
    )
    return int(n or 0)


@applier("package.closed")
def package_closed(ctx: ApplyContext, op: Op) -> None:
    order = load(ctx, op)
    require_packing(order)
    pkg = package_of(ctx, order, op)
    weight_g = op.int_of("weight_g")
    box_type = op.str_of("box_type").strip()
    if not 1 <= weight_g <= MAX_WEIGHT_G:
        raise ValidationError(f"{weight_g / 1000:g} kg is not a possible parcel weight.")
    if not box_type:
        raise ValidationError("A package cannot be closed without its box type.")
    if _units(ctx, pkg.id) == 0:
        raise ValidationError(
            f"Package {pkg.seq} of order {order.number} is empty centrally — "
            "scan items into it before closing it."
        )
    pkg.weight_g = weight_g
    pkg.box_type = box_type
    pkg.status = "closed"
    pkg.closed_at = op.created_at
    sscc = op.opt_str("sscc")
    if sscc and not pkg.sscc:
        pkg.sscc = sscc  # from the station's own block: unique without asking central


@applier("package.added")
def package_added(ctx: ApplyContext, op: Op) -> None:
    order = load(ctx, op)
    require_packing(order)
    ensure_package(ctx, order, op.id_of("package_id"), op.int_of("package"))


@applier("package.units_moved")
def units_moved(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    order = load(ctx, op)
    require_packing(order)
    line_id = op.id_of("line_id")
    qty = op.int_of("qty")
    src = package_by_seq(ctx, order, op.int_of("from"))
    dst = package_by_seq(ctx, order, op.int_of("to"))
    if src.id == dst.id:
        raise ValidationError("Units can only move between two different packages.")
    item = s.scalar(
        select(PackageItem).where(
            PackageItem.package_id == src.id, PackageItem.order_line_id == line_id
        )
    )
    have = item.qty if item else 0
    if item is None or not 1 <= qty <= have:
        raise ValidationError(
            f"Package {src.seq} of order {order.number} holds {have} of that item centrally, "
            f"so {qty} cannot move — check the boxes and move them again."
        )
    shift_units(s, item, dst, qty)


@applier("package.reopened")
def package_reopened(ctx: ApplyContext, op: Op) -> None:
    order = load(ctx, op)
    require_packing(order)
    pkg = package_of(ctx, order, op)
    pkg.status, pkg.weight_g, pkg.closed_at = "open", None, None


@applier("scan.rejected")
def scan_rejected(ctx: ApplyContext, op: Op) -> None:
    """Every scan is a fact a supervisor can review: kept centrally, nothing else changes."""
    scan_id = op.opt_id("scan_id")
    if scan_id is None:
        return
    ctx.session.add(
        ScanEvent(
            id=scan_id,
            at=op.created_at,
            station_id=ctx.station_id,
            operator_id=op.opt_id("operator_id"),
            workflow=op.str_of("workflow", "pack")[:20],
            raw=op.str_of("raw", "")[:300],
            order_id=op.opt_id("order_id"),
            outcome=op.str_of("outcome", "rejected")[:20],
            message=op.str_of("reason", ""),
        )
    )
