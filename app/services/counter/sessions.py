"""The till's cash session: open with a counted float, cash in and out with a reason, close
with a count by denomination (expected vs counted, over or short) and the cash report printed.

Each action is one local transaction with its outbox operation (``cash.session_opened``,
``cash.moved``, ``cash.session_closed``), so the central side learns every session's cash.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import Table, bindparam, func, select

from app.clock import utcnow
from app.domain.cash import CashMoveKind, check_move, count_total, over_short_words
from app.domain.errors import NotFoundError, ValidationError
from app.domain.money import money
from app.domain.roles import Permission
from app.services import auth, print_jobs
from app.services.counter import catalog
from app.services.counter.views import SessionClosed, SessionView
from app.store.fastexec import FastExecutor
from app.store.models import CashMovement, CashSession, CounterSale, CounterTender, Operator
from app.store.uow import UnitOfWork

_SESSION: Table = CashSession.__table__  # type: ignore[assignment]
_OPEN_SESSION = (
    select(_SESSION.c.id)
    .where(_SESSION.c.station_id == bindparam("station_id"), _SESSION.c.status == "open")
    .limit(1)
)
NO_SESSION = (
    "No cash session is open on this till — open the till: count the float into the drawer "
    "and press Open till."
)


def open_session_id(fx: FastExecutor, station_id: uuid.UUID) -> uuid.UUID | None:
    value = fx.scalar(_OPEN_SESSION, {"station_id": station_id})
    return value if isinstance(value, uuid.UUID) else None


def require_open(uow: UnitOfWork) -> uuid.UUID:
    """The open session's id, or the words to open one."""
    sid = open_session_id(FastExecutor(uow.session.connection()), uow.actor.station_id)
    if sid is None:
        raise ValidationError(NO_SESSION)
    return sid


def _count_json(count: Mapping[int, int]) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(count.items(), reverse=True) if v}


def open_session(
    uow: UnitOfWork,
    *,
    float_minor: int | None = None,
    float_count: Mapping[int, int] | None = None,
) -> SessionView:
    """Open the till with its float (counted by denomination, or typed as a total)."""
    auth.check(uow, Permission.SELL)
    if open_session_id(FastExecutor(uow.session.connection()), uow.actor.station_id):
        raise ValidationError("The till is already open — close it before opening it again.")
    currency = catalog.settings(uow).currency
    if float_count is not None:
        float_minor = count_total(currency, float_count)
    if float_minor is None or float_minor < 0:
        raise ValidationError("Count the float into the drawer and type what it holds.")
    session = CashSession(
        station_id=uow.actor.station_id,
        operator_id=uow.actor.operator_id,
        status="open",
        currency=currency,
        opened_at=utcnow(),
        opening_float_minor=float_minor,
        float_count=_count_json(float_count or {}),
        count={},
    )
    uow.session.add(session)
    uow.session.flush()
    uow.record(
        "cash.session_opened",
        {
            "session_id": str(session.id),
            "station_id": str(uow.actor.station_id),
            "operator_id": str(session.operator_id) if session.operator_id else None,
            "opened_at": session.opened_at.isoformat(),
            "currency": currency,
            "opening_float_minor": float_minor,
            "float_count": session.float_count,
        },
        entity="cash_session",
        entity_id=session.id,
    )
    return session_view(uow, session.id)


def move_cash(uow: UnitOfWork, kind: CashMoveKind, amount_minor: int, reason: str) -> SessionView:
    """Cash into or out of the drawer that is not a sale, with its reason."""
    auth.check(uow, Permission.SELL)
    sid = require_open(uow)
    view = session_view(uow, sid)
    check_move(kind, amount_minor, reason, view.expected_minor, view.currency)
    move = CashMovement(
        session_id=sid,
        kind=kind.value,
        amount_minor=amount_minor,
        reason=reason.strip()[:200],
        at=utcnow(),
        operator_id=uow.actor.operator_id,
    )
    uow.session.add(move)
    uow.session.flush()
    uow.record(
        "cash.moved",
        {
            "movement_id": str(move.id),
            "session_id": str(sid),
            "kind": kind.value,
            "amount_minor": amount_minor,
            "currency": view.currency,
            "reason": move.reason,
            "at": move.at.isoformat(),
            "operator_id": str(move.operator_id) if move.operator_id else None,
        },
        entity="cash_session",
        entity_id=sid,
    )
    return session_view(uow, sid)


def cash_moved(uow: UnitOfWork, session_id: uuid.UUID) -> dict[str, int]:
    """Cash put in (``"in"``) and taken out (``"out"``) of a session's drawer, not sales."""
    rows = uow.session.execute(
        select(CashMovement.kind, func.coalesce(func.sum(CashMovement.amount_minor), 0))
        .where(CashMovement.session_id == session_id)
        .group_by(CashMovement.kind)
    )
    return {kind: int(total) for kind, total in rows}


def current(uow: UnitOfWork) -> SessionView | None:
    sid = open_session_id(FastExecutor(uow.session.connection()), uow.actor.station_id)
    return None if sid is None else session_view(uow, sid)


def session_view(uow: UnitOfWork, session_id: uuid.UUID) -> SessionView:
    s = uow.session
    session = s.get(CashSession, session_id)
    if session is None:
        raise NotFoundError("That cash session does not exist.")
    cash = (
        select(
            CounterSale.kind,
            func.coalesce(func.sum(CounterTender.kept_minor), 0),
        )
        .join(CounterTender, CounterTender.sale_id == CounterSale.id)
        .where(
            CounterSale.session_id == session_id,
            CounterSale.status == "completed",
            CounterTender.kind == "cash",
        )
        .group_by(CounterSale.kind)
    )
    by_kind = {kind: int(total) for kind, total in s.execute(cash)}
    moves = cash_moved(uow, session_id)
    sales = s.scalar(
        select(func.count(CounterSale.id)).where(
            CounterSale.session_id == session_id, CounterSale.status == "completed"
        )
    )
    operator = s.scalar(select(Operator.name).where(Operator.id == session.operator_id)) or ""
    return SessionView(
        id=session.id,
        status=session.status,
        currency=session.currency,
        opened_at=session.opened_at,
        operator=operator,
        opening_float_minor=session.opening_float_minor,
        cash_sales_minor=by_kind.get("sale", 0),
        cash_refunds_minor=-by_kind.get("return", 0),
        paid_in_minor=int(moves.get("in", 0)),
        paid_out_minor=int(moves.get("out", 0)),
        sales=int(sales or 0),
        closed_at=session.closed_at,
        counted_minor=session.counted_minor,
    )


def close_session(
    uow: UnitOfWork,
    *,
    count: Mapping[int, int] | None = None,
    counted_minor: int | None = None,
) -> SessionClosed:
    """Close the till with the drawer counted; the cash report is queued to print."""
    auth.check(uow, Permission.SELL)
    sid = require_open(uow)
    s = uow.session
    paying = s.scalar(
        select(func.count(CounterSale.id)).where(
            CounterSale.station_id == uow.actor.station_id,
            CounterSale.status == "open",
            select(CounterTender.id).where(CounterTender.sale_id == CounterSale.id).exists(),
        )
    )
    if paying:
        raise ValidationError(
            "A sale with a payment taken is still open — complete it before closing the till."
        )
    session = s.get_one(CashSession, sid)
    if count is not None:
        counted_minor = count_total(session.currency, count)
    if counted_minor is None or counted_minor < 0:
        raise ValidationError("Count the drawer and enter the notes and coins before closing.")
    view = session_view(uow, sid)
    difference = counted_minor - view.expected_minor
    session.status = "closed"
    session.closed_at = utcnow()
    session.closed_by = uow.actor.operator_id
    session.counted_minor = counted_minor
    session.count = _count_json(count or {})
    session.expected_minor = view.expected_minor
    title = f"Cash report {view.opened_at:%Y-%m-%d} {money(counted_minor, session.currency)}"
    job = print_jobs.queue_job(uow, "cash_report", sid, title)
    uow.record(
        "cash.session_closed",
        {
            "session_id": str(sid),
            "closed_at": session.closed_at.isoformat(),
            "closed_by": str(session.closed_by) if session.closed_by else None,
            "currency": session.currency,
            "opening_float_minor": view.opening_float_minor,
            "cash_sales_minor": view.cash_sales_minor,
            "cash_refunds_minor": view.cash_refunds_minor,
            "paid_in_minor": view.paid_in_minor,
            "paid_out_minor": view.paid_out_minor,
            "expected_minor": view.expected_minor,
            "counted_minor": counted_minor,
            "count": session.count,
            "difference_minor": difference,
            "result": over_short_words(difference),
            "sales": view.sales,
        },
        entity="cash_session",
        entity_id=sid,
    )
    return SessionClosed(session_view(uow, sid), job)


def last_closed(uow: UnitOfWork) -> SessionView | None:
    sid = uow.session.scalar(
        select(CashSession.id)
        .where(CashSession.station_id == uow.actor.station_id, CashSession.status == "closed")
        .order_by(CashSession.closed_at.desc())
        .limit(1)
    )
    return None if sid is None else session_view(uow, sid)
