"""The pick lists a supervisor oversees: the live ones with their progress; freeing one its
picker left (gone home, away) for any picker to carry on; and taking one back (withdrawing
it) before anything was picked for it.

A list made by mistake (the wrong wave, the wrong limits, an order that must wait) holds its
orders and promises their units until someone picks it. Withdrawing it cancels its stops, so
their units are free to promise again and its orders can go on another list; its totes and
cart are free. Once a stop was picked or reported short the units are in a tote or the bin
was counted: the list stays, and its picker finishes it (reporting short what is not wanted).
The withdrawal is one operation (``picklist.withdrawn``); central refuses it when a station
picked from the list meanwhile, and the list comes back as central holds it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select, update

from app.domain.errors import InvalidTransitionError, ValidationError
from app.domain.picking import LIVE_LISTS, ListStatus, StopStatus
from app.domain.roles import Permission
from app.services import auth
from app.services.picking import ENTITY, WITHDRAWN, actions, ledger
from app.services.picking.views import PickListView, read_list
from app.store.uow import UnitOfWork

MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class ListSummary:
    id: uuid.UUID
    number: str
    kind: str
    status: str
    wave: str
    picker_name: str
    created_at: datetime
    stops: int
    stops_done: int
    units: int

    @property
    def started(self) -> bool:
        """Something was picked (or reported short) for it: it can no longer be withdrawn."""
        return self.stops_done > 0


def live_lists(uow: UnitOfWork) -> list[ListSummary]:
    """The open, started and paused lists, oldest first, with how far each has got."""
    auth.check(uow, Permission.OVERRIDE)
    t, a = ledger.LIST, ledger.ALLOC
    counted = a.c.status != StopStatus.CANCELLED.value
    rows = uow.session.execute(
        select(
            t.c.id,
            t.c.number,
            t.c.kind,
            t.c.status,
            t.c.wave,
            t.c.picker_name,
            t.c.created_at,
            func.count(a.c.id).filter(counted),
            func.count(a.c.id).filter(counted, a.c.status != StopStatus.OPEN.value),
            func.coalesce(func.sum(case((counted, a.c.qty), else_=0)), 0),
        )
        .outerjoin(a, a.c.pick_list_id == t.c.id)
        .where(t.c.status.in_([s.value for s in LIVE_LISTS]))
        .group_by(t.c.id)
        .order_by(t.c.created_at, t.c.number)
    )
    return [ListSummary(*row) for row in rows]


def free(uow: UnitOfWork, list_id: uuid.UUID) -> PickListView:
    """A supervisor frees a list its picker left: any picker who scans it carries on where it
    stands (what is recorded stays; units the picker had in hand were not recorded)."""
    auth.check(uow, Permission.OVERRIDE)
    view = _live(read_list(uow.session.connection(), list_id))
    if not view.picker_name:
        raise InvalidTransitionError(
            f"Pick list {view.number} is free already: any picker can scan it."
        )
    return actions.hand_over(uow, list_id, None)


def withdraw(uow: UnitOfWork, list_id: uuid.UUID, reason: str) -> PickListView:
    """A supervisor takes back a list nothing was picked for yet, saying why."""
    auth.check(uow, Permission.OVERRIDE)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError(
            "Say why the list is withdrawn (for example: made for the wrong wave)."
        )
    if len(reason) > MAX_REASON:
        raise ValidationError(f"Keep the reason under {MAX_REASON} characters.")
    conn = uow.session.connection()
    view = _live(read_list(conn, list_id))
    if view.stops_done:
        who = view.picker_name or "its picker"
        raise InvalidTransitionError(
            f"Pick list {view.number} cannot be withdrawn: {view.stops_done} of its "
            f"{len(view.stops)} stops are picked or reported short, so units are in its totes. "
            f"Let {who} finish it, reporting short what must not go."
        )
    notes = f"withdrawn by {uow.actor.operator_name}: {reason}"[:500]
    withdraw_rows(conn, list_id, notes)
    uow.record(
        WITHDRAWN,
        {"pick_list_id": str(list_id), "number": view.number, "notes": notes},
        entity=ENTITY,
        entity_id=list_id,
        details={"number": view.number, "reason": reason, "stops": len(view.stops)},
    )
    return read_list(conn, list_id)


def _live(view: PickListView) -> PickListView:
    """The list, while it is open, started or paused; refused with words otherwise."""
    if view.status not in LIVE_LISTS:
        state = "finished" if view.status == ListStatus.DONE else "withdrawn already"
        raise InvalidTransitionError(f"Pick list {view.number} is {state} — refresh the list.")
    return view


def withdraw_rows(conn: Connection, list_id: uuid.UUID, notes: str) -> None:
    """Cancel the list's open stops (their units free to promise again) and the list."""
    a, t = ledger.ALLOC, ledger.LIST
    conn.execute(
        update(a)
        .where(a.c.pick_list_id == list_id, a.c.status == StopStatus.OPEN.value)
        .values(status=StopStatus.CANCELLED.value)
    )
    conn.execute(
        update(t)
        .where(t.c.id == list_id)
        .values(
            status=ListStatus.CANCELLED.value,
            notes=notes,
            picker_id=None,
            picker_name="",
            picker_station=None,
            version=t.c.version + 1,
        )
    )
