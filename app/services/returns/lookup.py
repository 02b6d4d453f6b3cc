"""Which order a parcel belongs to, from anything it carries: the RMA barcode, the order
number (also what the packing slip's barcode holds), the shipping label's tracking number or
SSCC, a product's GTIN, or a serial number.

Every look-up is one indexed query (RMA and order numbers are unique; tracking numbers, SSCCs
and serials have indexes of their own, migration 0008), so a station holding 200,000 orders
answers in a few milliseconds. A product names every shipped order that carried it: the
newest come first, at most :data:`LIMIT` of them.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, or_, select

from app.domain.errors import MalformedScanError
from app.services.returns.rmas import AUTHORISED, RETURNABLE
from app.services.returns.views import Candidate
from app.store.fastexec import FastExecutor
from app.store.models import (
    Barcode,
    Customer,
    Order,
    OrderLine,
    Package,
    PackedUnit,
    Rma,
)
from app.store.uow import UnitOfWork

if TYPE_CHECKING:
    from app.scanning.normalize import Scan

LIMIT = 20


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


_RMA, _ORDER, _PKG, _UNIT, _LINE, _BC, _CUST = (
    _t(m) for m in (Rma, Order, Package, PackedUnit, OrderLine, Barcode, Customer)
)
_RMA_BY_NUMBER = select(_RMA.c.id, _RMA.c.order_id).where(_RMA.c.number == bindparam("code"))
_ORDER_BY_NUMBER = select(_ORDER.c.id).where(_ORDER.c.number == bindparam("code"))
_BY_TRACKING = select(_PKG.c.order_id).where(_PKG.c.tracking_number == bindparam("code")).limit(5)
_BY_SSCC = select(_PKG.c.order_id).where(_PKG.c.sscc == bindparam("code")).limit(5)
_BY_SERIAL = (
    select(_UNIT.c.order_id)
    .where(_UNIT.c.serial == bindparam("code"), _UNIT.c.undone.is_(False))
    .limit(5)
)
_PRODUCT_BY_CODE = select(_BC.c.entity_id).where(
    _BC.c.code.in_([bindparam("k1"), bindparam("k2")]), _BC.c.kind == "product"
)
_BY_PRODUCT = (
    # Each order once, however many of its lines sell the product (its time is the same on
    # every line, so the pair is as distinct as the order).
    select(_ORDER.c.id, _ORDER.c.placed_at)
    .distinct()
    .join(_LINE, _LINE.c.order_id == _ORDER.c.id)
    .where(
        _LINE.c.product_id == bindparam("product"),
        # Plain comparisons, not IN: the fast executor runs statements without expanding lists.
        or_(*(_ORDER.c.status == s for s in sorted(RETURNABLE))),
    )
    .order_by(_ORDER.c.placed_at.desc())
    .limit(LIMIT)
)
_ORDER_COLUMNS = select(
    _ORDER.c.id, _ORDER.c.number, _CUST.c.name, _ORDER.c.status, _ORDER.c.placed_at
).join(_CUST, _CUST.c.id == _ORDER.c.customer_id)
_OPEN_RMA_COLUMNS = select(_RMA.c.order_id, _RMA.c.id, _RMA.c.number).where(
    _RMA.c.status == AUTHORISED
)
_ORDER_ROWS = _ORDER_COLUMNS.where(_ORDER.c.id.in_(bindparam("ids", expanding=True)))
_OPEN_RMAS = _OPEN_RMA_COLUMNS.where(_RMA.c.order_id.in_(bindparam("ids", expanding=True)))
# The same for one order (a parcel's tracking number, an order or RMA number), on the fast
# path: a list of ids expands into the statement on SQLAlchemy's own path.
_ORDER_ROW = _ORDER_COLUMNS.where(_ORDER.c.id == bindparam("id"))
_OPEN_RMAS_ONE = _OPEN_RMA_COLUMNS.where(_RMA.c.order_id == bindparam("id"))


def read(raw: str) -> Scan | None:
    """The scan normalised, or None when it is not a GTIN/GS1 code at all (a carrier's
    tracking number often fails an EAN check digit it was never meant to have)."""
    from app.scanning.normalize import normalize  # biip loads with the first scan

    try:
        return normalize(raw)
    except MalformedScanError:
        return None


def find_candidates(uow: UnitOfWork, raw: str) -> list[Candidate]:
    """The orders a scanned code may belong to, best first (an empty list: none)."""
    text = raw.strip()
    if not text:
        return []
    scan = read(text)
    fx = FastExecutor(uow.session.connection())
    body = scan.text if scan is not None else text
    upper = body.upper()
    hit = fx.first(_RMA_BY_NUMBER, {"code": upper})
    if hit is not None:
        return _candidates(fx, [hit[1]], "rma", only_rma=hit[0])
    order_id = fx.scalar(_ORDER_BY_NUMBER, {"code": upper})
    if order_id is not None:
        return _candidates(fx, [order_id], "order")
    if scan is not None and scan.sscc:
        ids = [r[0] for r in fx.rows(_BY_SSCC, {"code": scan.sscc})]
        if ids:
            return _candidates(fx, ids, "tracking")
    rows = fx.rows(_BY_TRACKING, {"code": body})
    if upper != body:
        rows += fx.rows(_BY_TRACKING, {"code": upper})
    ids = _distinct(rows)
    if ids:
        return _candidates(fx, ids, "tracking")
    serial = scan.serial if scan is not None and scan.serial else body
    ids = _distinct(fx.rows(_BY_SERIAL, {"code": serial}))
    if ids:
        return _candidates(fx, ids, "serial")
    gtin = scan.gtin if scan is not None and scan.gtin else upper
    product = fx.scalar(_PRODUCT_BY_CODE, {"k1": gtin, "k2": upper})
    if product is not None:
        ids = [r[0] for r in fx.rows(_BY_PRODUCT, {"product": product})]
        return _candidates(fx, ids, "product")
    return []


def _distinct(rows: list[tuple[Any, ...]]) -> list[uuid.UUID]:
    return list(dict.fromkeys(r[0] for r in rows))


def _candidates(
    fx: FastExecutor, ids: list[uuid.UUID], matched_by: str, only_rma: uuid.UUID | None = None
) -> list[Candidate]:
    if not ids:
        return []
    if len(ids) == 1:
        order_rows: Any = fx.rows(_ORDER_ROW, {"id": ids[0]})
        rma_rows: Any = fx.rows(_OPEN_RMAS_ONE, {"id": ids[0]})
    else:
        order_rows = fx.conn.execute(_ORDER_ROWS, {"ids": ids})
        rma_rows = fx.conn.execute(_OPEN_RMAS, {"ids": ids})
    orders = {r[0]: tuple(r) for r in order_rows}
    rmas: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    for order_id, rma_id, number in rma_rows:
        if only_rma is None or rma_id == only_rma:
            rmas.setdefault(order_id, (rma_id, number))
    if only_rma is not None and not rmas:
        # The RMA scanned is no longer open (received already, or cancelled): name it all the
        # same, so the desk says which.
        return [
            Candidate(r[0], r[1], r[2], r[3], r[4], matched_by, only_rma, None)
            for r in orders.values()
        ]
    out = []
    for oid in ids:
        r = orders.get(oid)
        if r is None:
            continue
        rma = rmas.get(oid)
        out.append(
            Candidate(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                matched_by,
                rma[0] if rma else None,
                rma[1] if rma else None,
            )
        )
    return out
