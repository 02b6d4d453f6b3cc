"""Demo data for the returns desk: some of the demo company's orders delivered (packed, with a
tracking number, serial numbers for one product), a return policy, and a few RMAs waiting at
the desk. Turns existing demo orders into delivered ones, so the demo's counts stay as they are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.domain import returns as rules
from app.domain.orders import OrderStatus
from app.ids import new_id
from app.services.returns import rmas
from app.store.models import (
    Order,
    OrderLine,
    Package,
    PackageItem,
    PackedUnit,
    Product,
    ReturnPolicy,
    Rma,
    RmaLine,
)

DEMO_POLICY = rules.Policy(window_days=30, restocking_fee_bp=1_000, refund_shipping=False)
SHIPPING_MINOR = 495


@dataclass(frozen=True, slots=True)
class ReturnsDemo:
    delivered: tuple[str, ...]  # order numbers, newest first
    late: tuple[str, ...]  # delivered more than the window ago
    rmas: tuple[str, ...]
    serial_sku: str | None  # the product sold with serial numbers
    tracking: dict[str, str]  # order number → tracking number


def create_returns_demo(engine: Engine, *, orders: int = 12, seed: int = 11) -> ReturnsDemo:
    """Deliver ``orders`` of the demo's confirmed orders (two of them past the window) and make
    RMAs for three; idempotent only in the sense that it refuses to run twice."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with Session(engine) as s, s.begin():
        if s.scalar(select(ReturnPolicy.id).limit(1)) is not None:
            raise RuntimeError("the returns demo is there already")
        chosen = list(
            s.scalars(
                select(Order)
                .where(Order.status == OrderStatus.CONFIRMED.value)
                .order_by(Order.number.desc())
                .limit(orders)
            )
        )
        # The serial-tracked product: one sold only on delivered orders that are inside the
        # window and have no RMA, so a parcel of it arrives unannounced at the desk.
        plain = chosen[3:-2]
        delivered_products = {ln.product_id for o in plain for ln in o.lines}
        elsewhere = set(
            s.scalars(
                select(OrderLine.product_id).where(OrderLine.order_id.not_in([o.id for o in plain]))
            )
        )
        serial_product = next(
            (
                p
                for p in s.scalars(
                    select(Product)
                    .where(Product.id.in_(delivered_products - elsewhere))
                    .order_by(Product.sku)
                )
                if not p.track_lot
            ),
            None,
        )
        if serial_product is not None:
            serial_product.track_serial = True
        tracking: dict[str, str] = {}
        late: list[str] = []
        for n, order in enumerate(chosen):
            days = 40 + n if n >= len(chosen) - 2 else 2 + 2 * n
            if days > DEMO_POLICY.window_days:
                late.append(order.number)
            packed_at = now - timedelta(days=days, hours=rng.randint(1, 8))
            order.status = OrderStatus.DELIVERED.value
            order.packed_at = packed_at
            track = f"1ZWS{rng.randint(10**11, 10**12 - 1)}"
            tracking[order.number] = track
            pkg = Package(
                id=new_id(),
                order_id=order.id,
                seq=1,
                box_type="M",
                weight_g=sum(ln.product.weight_g * ln.qty_ordered for ln in order.lines),
                status="closed",
                tracking_number=track,
                closed_at=packed_at,
            )
            s.add(pkg)
            s.flush()
            for ln in order.lines:
                ln.qty_packed = ln.qty_ordered
                s.add(
                    PackageItem(
                        id=new_id(), package_id=pkg.id, order_line_id=ln.id, qty=ln.qty_ordered
                    )
                )
                serial = serial_product is not None and ln.product_id == serial_product.id
                for k in range(ln.qty_ordered if serial else 1):
                    s.add(
                        PackedUnit(
                            id=new_id(),
                            order_id=order.id,
                            order_line_id=ln.id,
                            package_id=pkg.id,
                            qty=1 if serial else ln.qty_ordered,
                            serial=f"SN{order.number[-4:]}{ln.line_no}{k:03d}" if serial else None,
                            undone=False,
                            at=packed_at,
                        )
                    )
        values = rmas.policy_row(DEMO_POLICY, now, None)
        s.add(
            ReturnPolicy(
                id=new_id(),
                company_id=None,
                window_days=DEMO_POLICY.window_days,
                free_reasons=values["free_reasons"],
                restocking_fee_bp=DEMO_POLICY.restocking_fee_bp,
                restocking_fee_minor=DEMO_POLICY.restocking_fee_minor,
                refund_shipping=DEMO_POLICY.refund_shipping,
                deductions_bp=values["deductions_bp"],
                updated_at=now,
            )
        )
        reasons = (rules.Reason.CHANGED_MIND, rules.Reason.DEFECTIVE, rules.Reason.WRONG_ITEM)
        numbers = []
        for n, (order, reason) in enumerate(zip(chosen[:3], reasons, strict=False), start=1):
            rma = Rma(
                id=new_id(),
                number=f"RMA-DEMO-{n:05d}",
                order_id=order.id,
                customer_id=order.customer_id,
                warehouse_id=order.warehouse_id,
                status=rmas.AUTHORISED,
                requested=rules.Resolution.REFUND.value,
                unannounced=False,
                currency="EUR",
                shipping_paid_minor=SHIPPING_MINOR,
                note="",
                created_at=now - timedelta(days=1),
                created_by="Customer service",
                version=1,
            )
            s.add(rma)
            s.flush()
            ln = order.lines[0]
            s.add(
                RmaLine(
                    id=new_id(),
                    rma_id=rma.id,
                    warehouse_id=order.warehouse_id,
                    order_line_id=ln.id,
                    product_id=ln.product_id,
                    qty=ln.qty_ordered,
                    reason=reason.value,
                    unit_price_minor=ln.paid_per_unit,
                    qty_received=0,
                )
            )
            numbers.append(rma.number)
        return ReturnsDemo(
            tuple(o.number for o in chosen),
            tuple(late),
            tuple(numbers),
            serial_product.sku if serial_product else None,
            tracking,
        )
