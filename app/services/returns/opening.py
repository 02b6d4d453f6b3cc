"""What the desk reads when a parcel opens a return, as a handful of Core statements on the
fast path (app/store/fastexec.py): the order's row, its lines with what may still come back,
the RMA's lines, the serial numbers sold on the order and those of them that came back on
its RMAs already. The parcel scan is the desk's
slowest; through the ORM these reads cost several times more.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Table, bindparam, case, func, select

from app.domain import returns as rules
from app.services.returns.views import RmaLineView
from app.store.fastexec import FastExecutor
from app.store.models import Order, OrderLine, PackedUnit, Product, ReturnUnit, Rma, RmaLine


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


_O, _L, _P, _R, _RL, _U, _RU = (
    _t(m) for m in (Order, OrderLine, Product, Rma, RmaLine, PackedUnit, ReturnUnit)
)
_ID: BindParameter[Any] = bindparam("id")
_ORDER = select(_O.c.id, _O.c.number, _O.c.status, _O.c.packed_at, _O.c.placed_at).where(
    _O.c.id == _ID
)
_ORDER_LINES = (
    select(
        _L.c.id,
        _L.c.product_id,
        _P.c.sku,
        _P.c.name,
        _P.c.gtin,
        _L.c.qty_ordered - _L.c.qty_missing,
        func.coalesce(_L.c.unit_price_minor, _P.c.price_minor),  # what one was paid
        _P.c.track_serial,
    )
    .join(_P, _P.c.id == _L.c.product_id)
    .where(_L.c.order_id == _ID)
    .order_by(_L.c.line_no)
)
# An open RMA holds all its units; one booked in, those that came (the rest may come back).
_ON_RMAS = (
    select(
        _RL.c.order_line_id,
        func.sum(case((_R.c.status == "authorised", _RL.c.qty), else_=_RL.c.qty_received)),
    )
    .join(_R, _R.c.id == _RL.c.rma_id)
    .where(_R.c.order_id == _ID, _R.c.status != "cancelled")
    .group_by(_RL.c.order_line_id)
)
_RMA = select(_R.c.number, _R.c.status, _R.c.received_at).where(_R.c.id == _ID)
_RMA_LINES = (
    select(
        _RL.c.id,
        _RL.c.product_id,
        _P.c.sku,
        _P.c.name,
        _P.c.gtin,
        _RL.c.qty,
        _RL.c.qty_received,
        _RL.c.reason,
        _RL.c.unit_price_minor,
        _P.c.track_serial,
        _RL.c.order_line_id,
    )
    .join(_P, _P.c.id == _RL.c.product_id)
    .where(_RL.c.rma_id == _ID)
    .order_by(_RL.c.id)
)
_SERIALS = (
    select(_U.c.serial, _L.c.product_id)
    .join(_L, _L.c.id == _U.c.order_line_id)
    .where(_U.c.order_id == _ID, _U.c.serial.is_not(None), _U.c.undone.is_(False))
)
_CAME_BACK = (
    select(_R.c.number, _R.c.received_at)
    .where(_R.c.order_id == _ID, _R.c.received_at.is_not(None), _R.c.status != "cancelled")
    .order_by(_R.c.received_at.desc())
)
_RETURNED = (
    select(_RU.c.serial, _R.c.number)
    .join(_R, _R.c.id == _RU.c.rma_id)
    .where(_R.c.order_id == _ID, _RU.c.serial.is_not(None))
    .order_by(_RU.c.received_at)
)

OrderRow = tuple[uuid.UUID, str, str, datetime | None, datetime]


def order_row(fx: FastExecutor, order_id: uuid.UUID) -> OrderRow | None:
    """(id, number, status, packed at, placed at)."""
    row = fx.first(_ORDER, {"id": order_id})
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])


def order_lines(fx: FastExecutor, order_id: uuid.UUID) -> tuple[RmaLineView, ...]:
    """An order's lines that may still come back (shipped less those on RMAs), standing in for
    the RMA lines of a return that came without one."""
    taken = {line: int(n or 0) for line, n in fx.rows(_ON_RMAS, {"id": order_id})}
    out = []
    for lid, pid, sku, name, gtin, shipped, price, serial in fx.rows(
        _ORDER_LINES, {"id": order_id}
    ):
        left = int(shipped) - taken.get(lid, 0)
        if left > 0:
            out.append(
                RmaLineView(
                    lid,
                    pid,
                    sku,
                    name,
                    gtin,
                    left,
                    0,
                    rules.Reason.CHANGED_MIND.value,
                    int(price),
                    bool(serial),
                    lid,
                )
            )
    return tuple(out)


def rma(
    fx: FastExecutor, rma_id: uuid.UUID
) -> tuple[str, str, datetime | None, tuple[RmaLineView, ...]] | None:
    """(number, status, received at, lines) of an RMA."""
    head = fx.first(_RMA, {"id": rma_id})
    if head is None:
        return None
    lines = tuple(
        RmaLineView(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], int(r[8]), bool(r[9]), r[10])
        for r in fx.rows(_RMA_LINES, {"id": rma_id})
    )
    return head[0], head[1], head[2], lines


def serials(fx: FastExecutor, order_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """Serial number (upper case) → product, of the units sold on the order."""
    return {str(s).upper(): pid for s, pid in fx.rows(_SERIALS, {"id": order_id})}


def returned_serials(fx: FastExecutor, order_id: uuid.UUID) -> dict[str, str]:
    """Serial number (upper case) → the RMA it came back on, of the order's units booked in
    already."""
    out: dict[str, str] = {}
    for s, number in fx.rows(_RETURNED, {"id": order_id}):
        out.setdefault(str(s).upper(), number)
    return out


def came_back(fx: FastExecutor, order_id: uuid.UUID) -> list[tuple[str, datetime]]:
    """(RMA number, received at) of the order's returns booked in already, newest first."""
    return [(str(n), at) for n, at in fx.rows(_CAME_BACK, {"id": order_id})]
