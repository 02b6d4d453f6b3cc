"""What sync leaves for people to see: the station's rejected operations (its conflicts list)
and the warehouse's exception tasks (a supervisor's list: oversells, disputed claims).

A rejection is never dropped silently: it stays in the conflicts list, with the central reason
and what to do, until someone acknowledges it. An exception task is resolved by a supervisor's
badge; the resolution is an operation like any other, applied centrally.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update

from app.clock import utcnow
from app.domain.errors import InvalidTransitionError, NotFoundError, ValidationError
from app.domain.roles import Permission
from app.services import auth
from app.store.models import AuditEvent, ExceptionTask, OutboxOp
from app.store.uow import UnitOfWork

LIST_LIMIT = 500
MAX_NOTE = 500

# What each operation is, in words, and what a person does about its rejection.
_WHAT: dict[str, tuple[str, str]] = {
    "order.pack_started": (
        "Opening an order for packing",
        "Another bench has the order: put what you packed aside for a supervisor and take "
        "another order.",
    ),
    "order.item_packed": (
        "An item packed",
        "Check the box against the order on the pack screen and scan the item again if it "
        "is missing.",
    ),
    "order.packed": (
        "Completing an order",
        "Open the order again: central shows it as it really is. Finish it, or ask a supervisor.",
    ),
    "order.item_missing": (
        "Reporting a missing item",
        "Open the order again and report the item once more if it is still missing.",
    ),
    "exception.resolved": (
        "Resolving an exception",
        "Look at the exception list: it shows the task as central has it.",
    ),
    "returns.rma_created": (
        "Making a return authorisation (RMA)",
        "Central has no such RMA: open the order on the returns desk (New RMA) and make it "
        "again if the customer still needs one.",
    ),
    "returns.received": (
        "Booking a return in",
        "Central could not read this receipt: keep the parcel aside and ask a supervisor — "
        "do not book it in a second time.",
    ),
    "returns.resolved": (
        "Resolving a return",
        "Nothing was refunded, credited or exchanged centrally: ask a supervisor before "
        "resolving the return again.",
    ),
    "returns.refund_marked": (
        "Marking a refund paid or failed",
        "List the refunds again (waystation-admin refunds list) and mark it once more if it "
        "is still needed.",
    ),
    "returns.policy_set": (
        "Setting the return policy",
        "Central keeps its own policy: set it again if it must change.",
    ),
}
_DEFAULT_ADVICE = (
    "Central keeps its own state for this, and the station now shows it. Check the result; "
    "ask a supervisor if something must be done again."
)


@dataclass(frozen=True, slots=True)
class ConflictView:
    op_id: uuid.UUID
    seq: int
    kind: str
    what: str  # the operation, in words
    reason: str  # why central refused it
    advice: str  # what to do now
    at: datetime  # when the station did it (its own clock)
    acknowledged_at: datetime | None


def _view(row: Any) -> ConflictView:
    what, advice = _WHAT.get(row.kind, (row.kind.replace(".", " ").capitalize(), _DEFAULT_ADVICE))
    return ConflictView(
        row.op_id,
        int(row.seq),
        row.kind,
        what,
        row.reason or "",
        advice,
        row.created_at,
        row.acknowledged_at,
    )


def list_conflicts(uow: UnitOfWork, *, limit: int = LIST_LIMIT) -> list[ConflictView]:
    """Every rejected operation, the ones nobody acknowledged first, newest first."""
    rows = uow.session.execute(
        select(OutboxOp)
        .where(OutboxOp.result == "rejected")
        .order_by(
            case((OutboxOp.acknowledged_at.is_(None), 0), else_=1),
            OutboxOp.seq.desc(),
        )
        .limit(limit)
    ).scalars()
    return [_view(r) for r in rows]


def acknowledge(uow: UnitOfWork, op_ids: Iterable[uuid.UUID]) -> int:
    """A person has seen these rejections (audited on the station; nothing goes central)."""
    ids = list(op_ids)
    if not ids:
        return 0
    now = utcnow()
    seen = (
        update(OutboxOp)
        .where(
            OutboxOp.op_id.in_(ids),
            OutboxOp.result == "rejected",
            OutboxOp.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=now)
    )
    done = uow.session.connection().execute(seen).rowcount
    if done:
        uow.session.add(
            AuditEvent(
                at=now,
                station_id=uow.actor.station_id,
                operator_id=uow.actor.operator_id,
                action="sync.conflicts_acknowledged",
                entity="outbox",
                entity_id=ids[0] if len(ids) == 1 else None,
                details={"op_ids": [str(i) for i in ids]},
            )
        )
    return int(done)


# ----------------------------------------------------------------------------- exceptions

_TITLES = {
    "oversell": "Oversell",
    "disputed_claim": "Disputed claim",
    "recount": "Recount",
    "double_receipt": "Return received twice",
    "double_resolution": "Return resolved twice",
    "pick_conflict": "Units picked that no stop wanted",
    "short_pick": "Short pick",
}
_TODO = {
    "oversell": "Count the bin; adjust the stock to what is there.",
    "disputed_claim": "Check both benches' boxes before the order ships.",
    "recount": "Count the bin again.",
    "pick_conflict": (
        "Take those units out of the tote and put them back in their bin: the order is picked "
        "without them."
    ),
    "short_pick": (
        "Find the missing units, or tell customer service that the order ships without them."
    ),
    "double_receipt": (
        "Find both parcels: the first desk's booking stands; the second parcel's units were "
        "kept as unexpected — check them before anything more is refunded."
    ),
    "double_resolution": (
        "The second resolution is held (a refund not paid, a store credit taken off its "
        "account again, an exchange order on hold): decide which resolution stands and tell "
        "customer service what the customer gets."
    ),
}


# Picking's tasks in words, from the details the hub gives them (and the keys they need).
_PICK_WORDS = {
    "pick_conflict": (
        "{qty} × {sku} in tote {tote} were not counted on the pick list: {why}.",
        ("qty", "sku", "tote", "why"),
    ),
    "short_pick": (
        "{short} × {sku} short on pick list {pick_list}: bin {bin} had fewer and no other "
        "stock covers them.",
        ("short", "sku", "pick_list", "bin"),
    ),
    "recount": (
        "{sku} in {bin}: the picker of {pick_list} found {reported_short} fewer than expected.",
        ("sku", "bin", "pick_list", "reported_short"),
    ),
}


@dataclass(frozen=True, slots=True)
class ExceptionView:
    id: uuid.UUID
    kind: str
    title: str
    summary: str  # what happened, in words
    todo: str  # what the supervisor does
    raised_at: datetime
    status: str  # open / resolved
    resolved_by: str | None
    resolved_at: datetime | None


def summary_of(kind: str, details: dict[str, Any]) -> str:
    if details.get("message"):
        return str(details["message"])
    if kind == "oversell":
        places = [
            f"{p.get('sku') or '?'} in {p.get('location') or 'no bin'} now {p.get('on_hand')}"
            for p in details.get("places", [])
        ]
        ref = details.get("ref") or details.get("op_kind") or ""
        return f"Stock below zero ({ref}): " + "; ".join(places)
    if kind in _PICK_WORDS and all(key in details for key in _PICK_WORDS[kind][1]):
        return _PICK_WORDS[kind][0].format(**details)
    return ", ".join(f"{k}: {v}" for k, v in sorted(details.items()))


def _exception(task: ExceptionTask) -> ExceptionView:
    return ExceptionView(
        task.id,
        task.kind,
        _TITLES.get(task.kind, task.kind.replace("_", " ").capitalize()),
        summary_of(task.kind, dict(task.details or {})),
        _TODO.get(task.kind, "Look into it and resolve it."),
        task.raised_at,
        task.status,
        task.resolved_by,
        task.resolved_at,
    )


def list_exceptions(uow: UnitOfWork, *, limit: int = LIST_LIMIT) -> list[ExceptionView]:
    """The warehouse's exception tasks: open ones first (oldest first), then resolved ones."""
    tasks = uow.session.scalars(
        select(ExceptionTask)
        .order_by(
            case((ExceptionTask.status == "open", 0), else_=1),
            ExceptionTask.raised_at,
        )
        .limit(limit)
    )
    return [_exception(t) for t in tasks]


def resolve_exception(
    uow: UnitOfWork, task_id: uuid.UUID, supervisor_badge: str, note: str
) -> ExceptionView:
    """A supervisor (their badge, permission ``override``) resolves a task, saying how."""
    s = uow.session
    supervisor = auth.authorize(s, supervisor_badge, Permission.OVERRIDE)
    task = s.get(ExceptionTask, task_id)
    if task is None:
        raise NotFoundError("That exception is not on this station — refresh the list.")
    if task.status != "open":
        raise InvalidTransitionError(
            f"This exception was already resolved by {task.resolved_by or 'someone'} — "
            "refresh the list."
        )
    note = note.strip()
    if not note:
        raise ValidationError("Say what was done about it (for example: counted, 3 in the bin).")
    if len(note) > MAX_NOTE:
        raise ValidationError(f"Keep the note under {MAX_NOTE} characters.")
    task.status = "resolved"
    task.resolved_at = utcnow()
    task.resolved_by = supervisor.name
    uow.record(
        "exception.resolved",
        {
            "task_id": str(task.id),
            "note": note,
            "supervisor": supervisor.name,
            "supervisor_id": str(supervisor.id),
        },
        entity="exception_task",
        entity_id=task.id,
    )
    s.flush()
    return _exception(task)
