"""The pick list as the picker screen and the printed list show it: plain frozen data read
with two Core statements (the scan path re-reads it after each confirmed stop)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.types import Uuid

from app.domain.errors import NotFoundError
from app.domain.picking import ListStatus, StopStatus
from app.services.picking.ledger import ALLOC, LIST, LOC, ORDER, PRODUCT
from app.store.fastexec import FastExecutor

_LIST_ID = bindparam("list_id", type_=Uuid())
_HEAD = select(
    LIST.c.number,
    LIST.c.kind,
    LIST.c.status,
    LIST.c.wave,
    LIST.c.zone,
    LIST.c.picker_id,
    LIST.c.picker_name,
    LIST.c.totes,
    LIST.c.notes,
    LIST.c.created_at,
    LIST.c.version,
    LIST.c.warehouse_id,
    LIST.c.cart,
).where(LIST.c.id == _LIST_ID)
_STOPS = (
    select(
        ALLOC.c.id,
        ALLOC.c.seq,
        ALLOC.c.order_id,
        ORDER.c.number,
        ALLOC.c.order_line_id,
        ALLOC.c.product_id,
        PRODUCT.c.sku,
        PRODUCT.c.name,
        PRODUCT.c.gtin,
        ALLOC.c.location_id,
        LOC.c.code,
        LOC.c.zone,
        LOC.c.pick_seq,
        ALLOC.c.lot,
        ALLOC.c.expiry,
        ALLOC.c.qty,
        ALLOC.c.picked,
        ALLOC.c.short,
        ALLOC.c.slot,
        ALLOC.c.status,
        ALLOC.c.tote_code,
        PRODUCT.c.track_lot,
        PRODUCT.c.track_serial,
        PRODUCT.c.track_expiry,
        PRODUCT.c.weight_g,
    )
    .join(PRODUCT, PRODUCT.c.id == ALLOC.c.product_id)
    .join(LOC, LOC.c.id == ALLOC.c.location_id)
    .join(ORDER, ORDER.c.id == ALLOC.c.order_id)
    .where(ALLOC.c.pick_list_id == _LIST_ID, ALLOC.c.status != StopStatus.CANCELLED.value)
    .order_by(ALLOC.c.seq, LOC.c.pick_seq, LOC.c.code, ALLOC.c.id)
)


@dataclass(frozen=True, slots=True)
class StopView:
    id: uuid.UUID  # the allocation
    seq: int
    order_id: uuid.UUID
    order_number: str
    line_id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    name: str
    gtin: str
    bin_id: uuid.UUID
    bin: str
    zone: str
    pick_seq: int
    lot: str | None
    expiry: str | None
    qty: int
    picked: int
    short: int
    slot: int
    status: str
    tote: str | None
    needs_lot: bool
    needs_serial: bool
    needs_expiry: bool
    weight_g: int = 0

    @property
    def remaining(self) -> int:
        return max(self.qty - self.picked - self.short, 0)

    @property
    def open(self) -> bool:
        return self.status == StopStatus.OPEN.value


@dataclass(frozen=True, slots=True)
class PickListView:
    id: uuid.UUID
    number: str
    kind: str
    status: str
    wave: str
    zone: str
    picker_id: uuid.UUID | None
    picker_name: str
    totes: dict[str, str]  # slot ("1", "2"...) → tote code
    notes: str
    created_at: datetime
    version: int
    warehouse_id: uuid.UUID
    stops: tuple[StopView, ...] = field(default=())
    cart: str | None = None  # the cart's code, once scanned at set-up

    @property
    def next_stop(self) -> StopView | None:
        """The first open stop on the walk (stops are kept in walk order)."""
        return next((s for s in self.stops if s.open), None)

    @property
    def slots(self) -> dict[int, tuple[str, ...]]:
        """Each tote slot with the orders whose units go into it."""
        out: dict[int, dict[str, None]] = {}
        for s in self.stops:
            out.setdefault(s.slot, {})[s.order_number] = None
        return {slot: tuple(orders) for slot, orders in sorted(out.items())}

    def tote_of(self, slot: int) -> str | None:
        return self.totes.get(str(slot))

    @property
    def slots_without_tote(self) -> list[int]:
        return [slot for slot in self.slots if not self.tote_of(slot)]

    @property
    def stops_done(self) -> int:
        return sum(1 for s in self.stops if not s.open)

    @property
    def units(self) -> int:
        return sum(s.qty for s in self.stops)

    @property
    def units_picked(self) -> int:
        return sum(s.picked for s in self.stops)

    @property
    def units_short(self) -> int:
        return sum(s.short for s in self.stops)

    @property
    def live(self) -> bool:
        return self.status in (ListStatus.OPEN, ListStatus.IN_PROGRESS, ListStatus.PAUSED)

    def stop(self, stop_id: uuid.UUID) -> StopView:
        return next(s for s in self.stops if s.id == stop_id)


def read_list(conn: Connection, list_id: uuid.UUID) -> PickListView:
    fx = FastExecutor(conn)
    key = {"list_id": list_id}
    head = fx.first(_HEAD, key)
    if head is None:
        raise NotFoundError(
            "That pick list is not on this station any more — it may have been withdrawn "
            "centrally; scan another pick list or ask a supervisor."
        )
    stops = tuple(
        StopView(
            id=r[0],
            seq=r[1],
            order_id=r[2],
            order_number=r[3],
            line_id=r[4],
            product_id=r[5],
            sku=r[6],
            name=r[7],
            gtin=r[8] or "",
            bin_id=r[9],
            bin=r[10],
            zone=r[11],
            pick_seq=r[12],
            lot=r[13],
            expiry=r[14],
            qty=r[15],
            picked=r[16],
            short=r[17],
            slot=r[18],
            status=r[19],
            tote=r[20],
            needs_lot=bool(r[21]),
            needs_serial=bool(r[22]),
            needs_expiry=bool(r[23]),
            weight_g=r[24] or 0,
        )
        for r in fx.rows(_STOPS, key)
    )
    totes = head[7] if isinstance(head[7], dict) else {}
    return PickListView(
        id=list_id,
        number=head[0],
        kind=head[1],
        status=head[2],
        wave=head[3],
        zone=head[4],
        picker_id=head[5],
        picker_name=head[6],
        totes={str(k): str(v) for k, v in totes.items()},
        notes=head[8],
        created_at=head[9],
        version=head[10],
        warehouse_id=head[11],
        stops=stops,
        cart=head[12],
    )
