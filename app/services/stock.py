"""Stock facts recorded at a station: an adjustment, a counter sale, a pick confirmation and a
received return.

Each is one unit of work: its ledger rows (``stock_movement``, ids made here so the central
copy is the same row) and one outbox operation carrying those rows. They are facts: the units
were sold, picked or received whatever the station's view of the bin says, so nothing here
refuses an action because stock would go below zero. The result says what the bin shows
afterwards; the central database raises an oversell task when the shared ledger goes negative.

Picking into a tote keeps the units on hand: the bin loses them and a row without a location
(its ``ref`` naming the tote) gains them, so the product's total is unchanged until the order
ships. Picking "out" (no tote) takes them off the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select

from app.clock import utcnow
from app.domain.errors import NotFoundError, ValidationError
from app.domain.roles import Permission
from app.ids import new_id
from app.services import auth
from app.store.fastexec import FastExecutor
from app.store.models import Location, Order, Product, StockMovement, Tote
from app.store.uow import UnitOfWork

_MOVEMENT: Table = StockMovement.__table__  # type: ignore[assignment]
_PRODUCT: Table = Product.__table__  # type: ignore[assignment]
_LOCATION: Table = Location.__table__  # type: ignore[assignment]
_TOTE: Table = Tote.__table__  # type: ignore[assignment]
_ORDER: Table = Order.__table__  # type: ignore[assignment]
# Built once: the fast executor prepares each statement once per process.
_INSERT_MOVEMENT = insert(_MOVEMENT)
_PRODUCT_BY_ID = select(_PRODUCT.c.id, _PRODUCT.c.sku, _PRODUCT.c.home_location_id).where(
    _PRODUCT.c.id == bindparam("id")
)
_LOCATION_BY_ID = select(_LOCATION.c.id, _LOCATION.c.code).where(_LOCATION.c.id == bindparam("id"))
_TOTE_BY_CODE = select(_TOTE.c.code).where(_TOTE.c.code == bindparam("code"))
_ORDER_NUMBER = select(_ORDER.c.number).where(_ORDER.c.id == bindparam("id"))
_SUM = func.coalesce(func.sum(_MOVEMENT.c.qty), 0)
_ON_HAND_AT = select(_SUM).where(
    _MOVEMENT.c.product_id == bindparam("product_id"),
    _MOVEMENT.c.location_id == bindparam("location_id"),
)
_ON_HAND_UNPLACED = select(_SUM).where(
    _MOVEMENT.c.product_id == bindparam("product_id"), _MOVEMENT.c.location_id.is_(None)
)

MAX_QTY = 99_999  # units in one line: more is a typing slip (a barcode typed into the qty)
MAX_NOTE = 200
MAX_REF = 60

ADJUSTED = "stock.adjusted"
SALE = "sale.completed"
PICK = "pick.confirmed"
RETURN = "return.received"
# Movement reasons each kind of operation may write (the central applier checks the same).
REASONS: dict[str, frozenset[str]] = {
    ADJUSTED: frozenset({"adjust"}),
    SALE: frozenset({"sale"}),
    PICK: frozenset({"pick"}),
    RETURN: frozenset({"return"}),
}


@dataclass(frozen=True, slots=True)
class Line:
    """Units of one product; ``location_id`` None means the product's home bin."""

    product_id: uuid.UUID
    qty: int
    location_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    location_id: uuid.UUID | None
    location: str  # the bin's code; "" for units in a tote
    qty: int  # signed
    reason: str
    ref: str


@dataclass(frozen=True, slots=True)
class StockChange:
    """What a stock fact wrote, and what this station's ledger shows afterwards."""

    op_id: uuid.UUID
    ref: str
    movements: tuple[Movement, ...]
    # (product id, location id) → units on hand in this station's view after the change,
    # for each place the change took units from.
    on_hand_after: dict[tuple[uuid.UUID, uuid.UUID | None], int]

    @property
    def short(self) -> list[Movement]:
        """Movements out of a place this station now shows below zero (count that bin)."""
        return [
            m
            for m in self.movements
            if m.qty < 0 and self.on_hand_after.get((m.product_id, m.location_id), 0) < 0
        ]


def on_hand(uow: UnitOfWork, product_id: uuid.UUID, location_id: uuid.UUID | None) -> int:
    """Units of a product at a place in this station's ledger (central rows pulled so far plus
    this station's own)."""
    fx = FastExecutor(uow.session.connection())
    if location_id is None:
        total = fx.scalar(_ON_HAND_UNPLACED, {"product_id": product_id})
    else:
        total = fx.scalar(_ON_HAND_AT, {"product_id": product_id, "location_id": location_id})
    return int(total or 0)


def adjust_stock(
    uow: UnitOfWork, product_id: uuid.UUID, location_id: uuid.UUID, delta: int, note: str
) -> StockChange:
    """Add (``delta`` > 0) or take away units at a bin, with the reason a person gave."""
    auth.check(uow, Permission.ADJUST_STOCK)
    note = _note(note)
    _check_qty(delta, signed=True)
    product = _product(uow, product_id)
    location = _location(uow, location_id)
    rows = [_row(product, location, delta, "adjust", note[:MAX_REF], uow)]
    return _record(uow, ADJUSTED, rows, {"note": note}, ref=note[:MAX_REF])


def record_sale(uow: UnitOfWork, lines: Sequence[Line], ref: str = "") -> StockChange:
    """A completed counter sale: its units leave the shop's bins. ``ref`` is the receipt
    number (one is made when empty)."""
    auth.check(uow, Permission.SELL)
    ref = _ref(ref, "sale") or f"SALE-{new_id().hex[-10:].upper()}"
    rows = [_row(p, loc, -qty, "sale", ref, uow) for p, loc, qty in _lines(uow, lines, "sale")]
    return _record(uow, SALE, rows, {"sale_ref": ref}, ref=ref)


def confirm_pick(
    uow: UnitOfWork,
    product_id: uuid.UUID,
    from_location_id: uuid.UUID,
    qty: int,
    *,
    tote_code: str | None = None,
    order_id: uuid.UUID | None = None,
) -> StockChange:
    """Units taken from a bin: into a tote (still on hand, in the tote) or out of stock."""
    auth.check(uow, Permission.PICK)
    _check_qty(qty)
    product = _product(uow, product_id)
    location = _location(uow, from_location_id)
    fx = FastExecutor(uow.session.connection())
    order_number = ""
    if order_id is not None:
        order_number = fx.scalar(_ORDER_NUMBER, {"id": order_id})
        if order_number is None:
            raise NotFoundError(
                "The order this pick is for is not on this station — scan the pick list again."
            )
    tote: str | None = None
    if tote_code is not None:
        tote = fx.scalar(_TOTE_BY_CODE, {"code": tote_code.strip().upper()})
        if tote is None:
            raise NotFoundError(
                f"Tote {tote_code.strip() or '(blank)'} is not known here — scan the tote's "
                "label, or take another tote."
            )
    ref = tote if tote is not None else order_number
    rows = [_row(product, location, -qty, "pick", ref, uow)]
    if tote is not None:
        rows.append(_row(product, None, qty, "pick", tote, uow))
    extra = {
        "order_id": None if order_id is None else str(order_id),
        "order_number": order_number,
        "tote": tote,
    }
    return _record(uow, PICK, rows, extra, ref=ref)


def receive_return(uow: UnitOfWork, lines: Sequence[Line], ref: str) -> StockChange:
    """Returned units put back into bins. ``ref`` is the return's RMA or order number."""
    auth.check(uow, Permission.RECEIVE_RETURN)
    ref = _ref(ref, "return")
    if not ref:
        raise ValidationError(
            "A return needs its RMA or order number — scan it from the return slip."
        )
    rows = [_row(p, loc, qty, "return", ref, uow) for p, loc, qty in _lines(uow, lines, "return")]
    return _record(uow, RETURN, rows, {"return_ref": ref}, ref=ref)


# ----------------------------------------------------------------------------- checks


def _check_qty(qty: int, *, signed: bool = False) -> None:
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise ValidationError(f"{qty!r} is not a number of units — type a whole number.")
    if qty == 0:
        raise ValidationError("A quantity of 0 changes nothing — type how many units.")
    if qty < 0 and not signed:
        raise ValidationError(
            f"{qty} is below zero — type how many units (at least 1); to take stock away, "
            "use an adjustment."
        )
    if abs(qty) > MAX_QTY:
        raise ValidationError(
            f"{qty:,} units in one line is more than {MAX_QTY:,} — check the quantity "
            "(a barcode may have been typed into it)."
        )


def _note(note: str) -> str:
    note = " ".join(note.split())
    if not note:
        raise ValidationError(
            "An adjustment needs a reason (damaged, found, recount...) — type one."
        )
    if len(note) > MAX_NOTE:
        raise ValidationError(
            f"The reason is {len(note)} characters; keep it to {MAX_NOTE} — shorten it."
        )
    return note


def _ref(ref: str, what: str) -> str:
    ref = ref.strip()
    if len(ref) > MAX_REF:
        raise ValidationError(
            f"The {what} reference {ref[:20]}… is longer than {MAX_REF} characters — "
            "scan or type the number again."
        )
    return ref


@dataclass(frozen=True, slots=True)
class _Product:
    id: uuid.UUID
    sku: str
    home_location_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class _Bin:
    id: uuid.UUID
    code: str


def _product(uow: UnitOfWork, product_id: uuid.UUID) -> _Product:
    row = FastExecutor(uow.session.connection()).first(_PRODUCT_BY_ID, {"id": product_id})
    if row is None:
        raise NotFoundError(
            "That product is not known at this station — scan the item again; if it is "
            "new, wait for the station to sync."
        )
    return _Product(*row)


def _location(uow: UnitOfWork, location_id: uuid.UUID) -> _Bin:
    row = FastExecutor(uow.session.connection()).first(_LOCATION_BY_ID, {"id": location_id})
    if row is None:
        raise NotFoundError(
            "That bin is not known at this station — scan the bin's label again; if it "
            "is new, wait for the station to sync."
        )
    return _Bin(*row)


def _lines(uow: UnitOfWork, lines: Sequence[Line], what: str) -> list[tuple[_Product, _Bin, int]]:
    if not lines:
        raise ValidationError(f"A {what} needs at least one item — scan the items first.")
    out = []
    for line in lines:
        _check_qty(line.qty)
        product = _product(uow, line.product_id)
        location_id = line.location_id or product.home_location_id
        if location_id is None:
            raise ValidationError(
                f"{product.sku} has no home bin — choose the bin the units "
                f"{'come from' if what == 'sale' else 'go to'}."
            )
        out.append((product, _location(uow, location_id), line.qty))
    return out


# ----------------------------------------------------------------------------- writing


def _row(
    product: _Product, location: _Bin | None, qty: int, reason: str, ref: str, uow: UnitOfWork
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "at": utcnow(),
        "product_id": product.id,
        "location_id": None if location is None else location.id,
        "qty": qty,
        "reason": reason,
        "ref": ref,
        "station_id": uow.actor.station_id,
        # Not columns: the words for the result.
        "_sku": product.sku,
        "_location": "" if location is None else location.code,
    }


def _record(
    uow: UnitOfWork,
    kind: str,
    rows: list[dict[str, Any]],
    extra: dict[str, Any],
    *,
    ref: str,
) -> StockChange:
    fx = FastExecutor(uow.session.connection())
    columns = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    for c in columns:
        fx.run(_INSERT_MOVEMENT, c)
    op_id = uow.record(
        kind,
        {**extra, "movements": [movement_payload(c) for c in columns]},
        # The ledger rows are insert-only and keep their ids centrally, so a pulled row
        # never overwrites them: the operation names its first row.
        entity="stock_movement",
        entity_id=columns[0]["id"],
    )
    movements = tuple(
        Movement(
            id=r["id"],
            product_id=r["product_id"],
            sku=r["_sku"],
            location_id=r["location_id"],
            location=r["_location"],
            qty=r["qty"],
            reason=r["reason"],
            ref=r["ref"],
        )
        for r in rows
    )
    taken = {(m.product_id, m.location_id) for m in movements if m.qty < 0}
    after = {key: on_hand(uow, *key) for key in sorted(taken, key=str)}
    return StockChange(op_id=op_id, ref=ref, movements=movements, on_hand_after=after)


def movement_payload(row: dict[str, Any]) -> dict[str, Any]:
    """A ledger row as the operation carries it (the central applier reads it back)."""
    at: datetime = row["at"]
    return {
        "id": str(row["id"]),
        "product_id": str(row["product_id"]),
        "location_id": None if row["location_id"] is None else str(row["location_id"]),
        "qty": row["qty"],
        "reason": row["reason"],
        "ref": row["ref"],
        "at": at.isoformat(),
    }
