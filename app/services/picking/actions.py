"""The picker's use cases: take a pick list, name its cart, put totes on the cart, finish a stop
(units into a tote slot, or the bin short), skip a stop, pause, hand the rest over.

Each is one unit of work with its operation(s); the central appliers make the same changes.
Picks are facts: the ledger rows go in whatever this station believes is on the shelf. A short
stop is re-allocated from other stock this station can promise, otherwise the units are
marked short for the supervisor (the hub raises a count task for the bin).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update

from app.domain.errors import (
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ScanRejectedError,
    ValidationError,
    WaystationError,
)
from app.domain.pick_docs import PickKind
from app.domain.picking import (
    LIVE_LISTS,
    ListStatus,
    StopStatus,
    place_key,
    take_some,
    zones_of,
)
from app.domain.roles import Permission, allows, parse_roles
from app.ids import new_id
from app.services import auth
from app.services.picking import (
    CART_SET,
    ENTITY,
    HANDED_OVER,
    PAUSED,
    STARTED,
    STOP_PICKED,
    STOP_SHORT,
    STOP_SKIPPED,
    TOTE_SET,
    ledger,
)
from app.services.picking.views import PickListView, StopView, read_list
from app.services.stock import movement_payload
from app.store.fastexec import FastExecutor
from app.store.models import ScanEvent, Tote
from app.store.uow import UnitOfWork

WORKFLOW = "pick"
MAX_CART_CODE = 40  # pick_list.cart
_TOTE: Table = Tote.__table__  # type: ignore[assignment]
_SCAN: Table = ScanEvent.__table__  # type: ignore[assignment]
_INSERT_MOVEMENT = insert(ledger.MOVE)
_INSERT_SCAN = insert(_SCAN)
_STOP_NOW = (
    select(ledger.ALLOC.c.status, ledger.LIST.c.status)
    .join_from(ledger.ALLOC, ledger.LIST, ledger.ALLOC.c.pick_list_id == ledger.LIST.c.id)
    .where(ledger.ALLOC.c.id == bindparam("stop_id"))
)


class StopGoneError(ScanRejectedError):
    """The stop is no longer open in the database (recorded already, at another station or
    before a restart; or its list finished or withdrawn): nothing was recorded."""


@dataclass(frozen=True, slots=True)
class Capture:
    """What the item scans of a stop said: the lot, expiry and serials, and the raw codes."""

    lot: str | None = None
    expiry: str | None = None
    serials: tuple[str, ...] = ()
    raws: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StopDone:
    view: PickListView
    picked: int
    short: int
    moved_to: tuple[str, ...]  # bins the short units were re-allocated to
    finished: bool  # the list has no open stop left
    moved: int = 0  # of the short units, how many were re-allocated (the rest are short)


def _list(uow: UnitOfWork, list_id: uuid.UUID) -> PickListView:
    return read_list(uow.session.connection(), list_id)


def _live(view: PickListView) -> None:
    if view.status == ListStatus.DONE:
        raise InvalidTransitionError(
            f"Pick list {view.number} is already finished — take the totes to packing."
        )
    if view.status == ListStatus.CANCELLED:
        why = f" ({view.notes})" if view.notes else ""
        raise InvalidTransitionError(
            f"Pick list {view.number} was withdrawn{why} — put back anything picked for it and "
            "scan another pick list."
        )


def _mine(uow: UnitOfWork, view: PickListView) -> bool:
    return view.picker_id is None or view.picker_id == uow.actor.operator_id


def take_list(uow: UnitOfWork, list_id: uuid.UUID) -> PickListView:
    """The signed-in picker takes the list (or picks it up again after a pause or restart)."""
    auth.check(uow, Permission.PICK)
    view = _list(uow, list_id)
    _live(view)
    if not _mine(uow, view):
        since = " (paused)" if view.status == ListStatus.PAUSED else ""
        raise ScanRejectedError(
            f"Pick list {view.number} is {view.picker_name}'s{since} — ask them to hand it over "
            "from their screen, or take another list."
        )
    conn = uow.session.connection()
    now = uow.now
    conn.execute(
        update(ledger.LIST)
        .where(ledger.LIST.c.id == list_id)
        .values(
            status=ListStatus.IN_PROGRESS.value,
            picker_id=uow.actor.operator_id,
            picker_name=uow.actor.operator_name[:100],
            picker_station=uow.actor.station_id,
            started_at=now,
            version=ledger.LIST.c.version + 1,
        )
    )
    uow.record(
        STARTED,
        {"pick_list_id": str(list_id), "number": view.number, "picker": uow.actor.operator_name},
        entity=ENTITY,
        entity_id=list_id,
    )
    return _list(uow, list_id)


def resumable(uow: UnitOfWork) -> uuid.UUID | None:
    """The list this picker was working on at this station (after a pause or a restart)."""
    t = ledger.LIST
    return uow.session.scalar(
        select(t.c.id)
        .where(
            t.c.picker_id == uow.actor.operator_id,
            t.c.picker_station == uow.actor.station_id,
            t.c.status.in_([ListStatus.IN_PROGRESS.value, ListStatus.PAUSED.value]),
        )
        .order_by(t.c.started_at.desc())
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class CartHolder:
    """The live pick list a cart carries."""

    list_id: uuid.UUID
    number: str
    status: str
    picker_name: str

    def words(self) -> str:
        """ "PL-000012 (Kim Picker's, paused)": whose it is and where it stands."""
        whose = f"{self.picker_name}'s, " if self.picker_name else ""
        return f"{self.number} ({whose}{self.status.replace('_', ' ')})"


def cart_code(code: str) -> str:
    """A cart's code as lists record it (upper case, no surrounding blanks)."""
    cart = code.strip().upper()
    if not cart or len(cart) > MAX_CART_CODE:
        raise ValidationError(
            f"{code.strip()[:60] or 'An empty code'} cannot name a cart — a cart's code has 1 "
            f"to {MAX_CART_CODE} characters; scan the label on the cart."
        )
    return cart


def list_on_cart(conn: Any, cart: str, but: uuid.UUID | None = None) -> CartHolder | None:
    """The live (open, started or paused) list that carries the cart; a finished or withdrawn
    list holds no cart. Should two do (set while apart, before the hub refused one), the one
    started last."""
    t = ledger.LIST
    query = select(t.c.id, t.c.number, t.c.status, t.c.picker_name).where(
        t.c.cart == cart, t.c.status.in_([s.value for s in LIVE_LISTS])
    )
    if but is not None:
        query = query.where(t.c.id != but)
    row = conn.execute(query.order_by(t.c.started_at.desc(), t.c.number).limit(1)).first()
    return None if row is None else CartHolder(row[0], row[1], row[2], row[3] or "")


def set_cart(uow: UnitOfWork, list_id: uuid.UUID, code: str) -> PickListView:
    """The list's totes ride on this cart (its label scanned at set-up): scanning the cart
    later opens the list. A cart carries one live list; a list rides on one cart."""
    auth.check(uow, Permission.PICK)
    cart = cart_code(code)
    view = _list(uow, list_id)
    _live(view)
    if view.cart == cart:
        return view
    if view.cart:
        raise ScanRejectedError(
            f"Pick list {view.number} is on cart {view.cart} already — put its totes on "
            f"{view.cart}, not on {cart}."
        )
    conn = uow.session.connection()
    other = list_on_cart(conn, cart, but=list_id)
    if other is not None:
        raise ScanRejectedError(
            f"Cart {cart} carries pick list {other.words()} — take another cart; {cart} is "
            f"free again once {other.number} is finished."
        )
    conn.execute(
        update(ledger.LIST)
        .where(ledger.LIST.c.id == list_id)
        .values(cart=cart, version=ledger.LIST.c.version + 1)
    )
    uow.record(
        CART_SET,
        {"pick_list_id": str(list_id), "number": view.number, "cart": cart},
        entity=ENTITY,
        entity_id=list_id,
    )
    return _list(uow, list_id)


def set_tote(uow: UnitOfWork, list_id: uuid.UUID, slot: int, code: str) -> PickListView:
    """Put a tote into a slot of the cart. A tote still holding an order, or on another list,
    is refused: its units would mix."""
    auth.check(uow, Permission.PICK)
    view = _list(uow, list_id)
    _live(view)
    if slot not in view.slots:
        raise ValidationError(f"Pick list {view.number} has no slot {slot}.")
    conn = uow.session.connection()
    row = conn.execute(
        select(_TOTE.c.id, _TOTE.c.code, _TOTE.c.order_id).where(
            _TOTE.c.code == code.strip().upper()
        )
    ).first()
    if row is None:
        raise NotFoundError(f"{code} is not a tote this station knows — scan a tote's label.")
    tote_id, tote, holds = row
    orders = view.slots[slot]
    slot_order = _order_of_slot(view, slot) if view.kind != PickKind.BATCH.value else None
    if tote in view.totes.values():
        taken = next(s for s, t in view.totes.items() if t == tote)
        raise ScanRejectedError(
            f"Tote {tote} is already in slot {taken} of this cart — take another tote for "
            f"slot {slot}."
        )
    if holds is not None and holds != slot_order:
        number = conn.scalar(select(ledger.ORDER.c.number).where(ledger.ORDER.c.id == holds))
        raise ScanRejectedError(
            f"Tote {tote} still holds order {number or '?'} — it goes to packing first; take an "
            "empty tote."
        )
    unsorted = conn.execute(ledger.batch_units_in(tote).where(ledger.LIST.c.id != list_id)).first()
    if unsorted is not None:
        raise ScanRejectedError(
            f"Tote {tote} still holds units of batch {unsorted[0]} (order {unsorted[2]} among "
            "them) — sort it at the pack bench first; take an empty tote."
        )
    other = _list_holding(conn, tote, list_id)
    if other:
        raise ScanRejectedError(
            f"Tote {tote} is on pick list {other} — take an empty tote for slot {slot}."
        )
    totes = {**view.totes, str(slot): tote}
    conn.execute(
        update(ledger.LIST)
        .where(ledger.LIST.c.id == list_id)
        .values(totes=totes, version=ledger.LIST.c.version + 1)
    )
    if slot_order is not None:
        conn.execute(update(_TOTE).where(_TOTE.c.id == tote_id).values(order_id=slot_order))
    uow.record(
        TOTE_SET,
        {
            "pick_list_id": str(list_id),
            "slot": slot,
            "tote": tote,
            "order_id": None if slot_order is None else str(slot_order),
            "orders": list(orders),
        },
        entity=ENTITY,
        entity_id=list_id,
    )
    return _list(uow, list_id)


def _order_of_slot(view: PickListView, slot: int) -> uuid.UUID | None:
    return next((s.order_id for s in view.stops if s.slot == slot), None)


def _list_holding(conn: Any, tote: str, but: uuid.UUID) -> str | None:
    t = ledger.LIST
    rows = conn.execute(
        select(t.c.id, t.c.number, t.c.totes).where(
            t.c.status.in_([s.value for s in LIVE_LISTS]), t.c.id != but
        )
    )
    for _id, number, totes in rows:
        if tote in (totes or {}).values():
            return str(number)
    return None


def finish_stop(
    uow: UnitOfWork,
    view: PickListView,
    stop: StopView,
    *,
    picked: int,
    tote: str | None,
    capture: Capture,
    short: bool = False,
    reason: str = "",
) -> StopDone:
    """Units of a stop went into a tote slot (``picked``); with ``short`` the bin had no more,
    and the rest is re-allocated or marked short. One local transaction."""
    auth.check(uow, Permission.PICK)
    if not 0 <= picked <= stop.remaining:
        raise ValidationError(
            f"This stop needs {stop.remaining} × {stop.sku}; {picked} cannot be picked — "
            "count the units again."
        )
    if picked == 0 and not short:
        raise ValidationError("Nothing was picked at this stop — scan the items first.")
    conn = uow.session.connection()
    fx = FastExecutor(conn)
    _still_open(fx, view, stop, picked)
    now = uow.now
    who = uow.actor.operator_name
    # The ledger's lot is the stop's place: a lot read off a product not kept by lot is not a
    # lot of the stock, and moving it would leave the bin's units where they were.
    lot = stop.lot
    expiry = capture.expiry or stop.expiry
    rows: list[dict[str, Any]] = []
    if picked:
        assert tote is not None
        for location, qty, ref in ((stop.bin_id, -picked, tote), (None, picked, tote)):
            rows.append(
                {
                    "id": new_id(),
                    "at": now,
                    "product_id": stop.product_id,
                    "location_id": location,
                    "qty": qty,
                    "reason": "pick",
                    "ref": ref,
                    "station_id": uow.actor.station_id,
                    "lot": lot,
                    "expiry": expiry,
                }
            )
        for r in rows:
            fx.run(_INSERT_MOVEMENT, r)
    missing = stop.remaining - picked if short else 0
    ledger.resolve_stop(
        conn,
        stop.id,
        picked=picked,
        short=missing,
        tote=tote if picked else None,
        line_id=stop.line_id,
        at=now,
        by=who,
    )
    moved: list[dict[str, Any]] = []
    if missing:
        moved = _reallocate(conn, view, stop, missing)
    _statuses, finished = ledger.settle(conn, view.id, [stop.order_id], now)
    ledger.bump_list(conn, view.id)
    base = {
        "pick_list_id": str(view.id),
        "allocation_id": str(stop.id),
        "order_id": str(stop.order_id),
        "line_id": str(stop.line_id),
        "sku": stop.sku,
        "at": now.isoformat(),
    }
    if picked:
        uow.record(
            STOP_PICKED,
            {
                **base,
                "qty": picked,
                "bin": stop.bin,
                "tote": tote,
                "slot": stop.slot,
                "lot": capture.lot,
                "expiry": capture.expiry,
                "serials": list(capture.serials),
                "raw": list(capture.raws)[:50],
                "movements": [
                    {**movement_payload(r), "lot": r["lot"], "expiry": r["expiry"]} for r in rows
                ],
            },
            entity=ENTITY,
            entity_id=view.id,
        )
    if missing:
        uow.record(
            STOP_SHORT,
            {
                **base,
                "short": missing,
                "product_id": str(stop.product_id),
                "location_id": str(stop.bin_id),
                "bin": stop.bin,
                "lot": stop.lot,
                "reason": reason[:200],
                "reallocated": [ledger.encode(ledger.ALLOC, r) for r in moved],
            },
            entity=ENTITY,
            entity_id=view.id,
        )
    codes = tuple(dict.fromkeys(_bin_code(conn, r["location_id"]) for r in moved))
    # A short may have added stops: then the list is read again.
    after = _list(uow, view.id) if missing else _after_pick(view, stop, picked, tote, finished)
    return StopDone(after, picked, missing, codes, finished, sum(int(r["qty"]) for r in moved))


def _still_open(fx: FastExecutor, view: PickListView, stop: StopView, in_hand: int) -> None:
    """Refuse a stop the database no longer holds open: recording it again would take its
    units from the bin twice."""
    rows = fx.rows(_STOP_NOW, {"stop_id": stop.id})
    row = rows[0] if rows else None
    if row is not None and row[0] == StopStatus.OPEN.value and row[1] in LIVE_LISTS:
        return
    if row is not None and row[1] not in LIVE_LISTS:
        why = "finished" if row[1] == ListStatus.DONE.value else "withdrawn"
        said = f"Pick list {view.number} was {why} meanwhile"
    else:
        said = f"The stop at {stop.bin} ({stop.sku}) was recorded meanwhile, at another station"
    back = f" — put the {in_hand} × {stop.sku} back in {stop.bin}" if in_hand else ""
    raise StopGoneError(f"{said}; nothing was recorded now{back}.")


def current_list(uow: UnitOfWork, list_id: uuid.UUID) -> PickListView:
    """The list as the database holds it now."""
    return _list(uow, list_id)


def pick_ahead(view: PickListView, stop: StopView, picked: int, tote: str) -> StopDone:
    """What :func:`finish_stop` will answer for a stop picked whole into ``tote`` (nothing
    short), worked out from the list in memory: the list finishes when no other stop is open.
    Reads no database; a caller shows it before the commit and compares it with the answer."""
    finished = view.live and not any(s.open for s in view.stops if s.id != stop.id)
    return StopDone(_after_pick(view, stop, picked, tote, finished), picked, 0, (), finished)


def _after_pick(
    view: PickListView, stop: StopView, picked: int, tote: str | None, finished: bool
) -> PickListView:
    """The list as it stands after a stop's pick (saves reading it all back on the scan
    path; a test checks it equals a fresh read)."""
    done = stop.picked + picked + stop.short >= stop.qty
    changed = replace(
        stop, picked=stop.picked + picked, tote=tote, status="done" if done else stop.status
    )
    return replace(
        view,
        stops=tuple(changed if s.id == stop.id else s for s in view.stops),
        status=ListStatus.DONE.value if finished else view.status,
        version=view.version + 1,
    )


def _bin_code(conn: Any, location_id: uuid.UUID) -> str:
    return str(conn.scalar(select(ledger.LOC.c.code).where(ledger.LOC.c.id == location_id)))


def _reallocate(
    conn: Any, view: PickListView, stop: StopView, missing: int
) -> list[dict[str, Any]]:
    """New stops for units a bin did not have, from other stock free to promise in the list's
    zones (a list made for one zone keeps its picker there)."""
    by_product = ledger.places(
        conn, view.warehouse_id, [stop.product_id], zones=zones_of(view.zone)
    )
    places = by_product.get(stop.product_id, [])
    free = ledger.free_of(by_product)
    exclude = frozenset({place_key(stop.product_id, stop.bin_id, stop.lot)})
    got = take_some(
        missing, places, free, fefo=stop.needs_lot or stop.needs_expiry, exclude=exclude
    )
    rows = [
        ledger.allocation_row(
            list_id=view.id,
            order_id=stop.order_id,
            line_id=stop.line_id,
            place=place,
            qty=n,
            seq=stop.seq,
            slot=stop.slot,
        )
        for place, n in got
    ]
    ledger.insert_allocations(conn, rows)
    return rows


def skip_stop(uow: UnitOfWork, list_id: uuid.UUID, stop_id: uuid.UUID) -> PickListView:
    """The stop goes to the end of the walk; the picker comes back to it."""
    auth.check(uow, Permission.PICK)
    conn = uow.session.connection()
    seq = ledger.max_seq(conn, list_id) + 1
    conn.execute(update(ledger.ALLOC).where(ledger.ALLOC.c.id == stop_id).values(seq=seq))
    ledger.bump_list(conn, list_id)
    uow.record(
        STOP_SKIPPED,
        {"pick_list_id": str(list_id), "allocation_id": str(stop_id), "seq": seq},
        entity=ENTITY,
        entity_id=list_id,
    )
    return _list(uow, list_id)


def pause(uow: UnitOfWork, list_id: uuid.UUID) -> PickListView:
    auth.check(uow, Permission.PICK)
    view = _list(uow, list_id)
    _live(view)
    _set_status(uow, list_id, ListStatus.PAUSED, keep_picker=True)
    uow.record(PAUSED, {"pick_list_id": str(list_id)}, entity=ENTITY, entity_id=list_id)
    return _list(uow, list_id)


def hand_over(uow: UnitOfWork, list_id: uuid.UUID, to_badge: str | None) -> PickListView:
    """The rest of the list goes to another picker (their badge), or to whoever scans it."""
    auth.check(uow, Permission.PICK)
    view = _list(uow, list_id)
    _live(view)
    to_id: uuid.UUID | None = None
    to_name = ""
    if to_badge:
        op = auth.find_by_badge(uow.session, to_badge)
        if not op.active or not allows(parse_roles(op.roles), Permission.PICK):
            raise PermissionDeniedError(
                f"{op.name} may not pick orders — hand the list to a picker, or to anyone."
            )
        to_id, to_name = op.id, op.name
    conn = uow.session.connection()
    conn.execute(
        update(ledger.LIST)
        .where(ledger.LIST.c.id == list_id)
        .values(
            status=(ListStatus.PAUSED if to_id else ListStatus.OPEN).value,
            picker_id=to_id,
            picker_name=to_name,
            picker_station=None,
            version=ledger.LIST.c.version + 1,
        )
    )
    uow.record(
        HANDED_OVER,
        {
            "pick_list_id": str(list_id),
            "to_operator_id": None if to_id is None else str(to_id),
            "to_name": to_name,
        },
        entity=ENTITY,
        entity_id=list_id,
    )
    return _list(uow, list_id)


def _set_status(
    uow: UnitOfWork, list_id: uuid.UUID, status: ListStatus, *, keep_picker: bool
) -> None:
    values: dict[str, Any] = {"status": status.value, "version": ledger.LIST.c.version + 1}
    if not keep_picker:
        values.update(picker_id=None, picker_name="", picker_station=None)
    uow.session.connection().execute(
        update(ledger.LIST).where(ledger.LIST.c.id == list_id).values(**values)
    )


def record_rejected_scan(
    uow: UnitOfWork, raw: str, list_id: uuid.UUID | None, error: WaystationError, outcome: str
) -> None:
    """A scan that counted nothing is kept with its words, as at the pack bench."""
    scan_id = new_id()
    FastExecutor(uow.session.connection()).run(
        _INSERT_SCAN,
        {
            "id": scan_id,
            "at": uow.now,
            "station_id": uow.actor.station_id,
            "operator_id": uow.actor.operator_id,
            "workflow": WORKFLOW,
            "raw": raw[:300],
            "resolved_kind": None,
            "entity_id": list_id,
            "order_id": None,
            "outcome": outcome,
            "message": error.message,
        },
    )
    uow.record(
        "scan.rejected",
        {
            "workflow": WORKFLOW,
            "raw": raw[:300],
            "order_id": None,
            "outcome": outcome,
            "reason": error.message,
            "scan_id": str(scan_id),
        },
        entity="scan",
        entity_id=None,
    )
