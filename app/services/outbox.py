"""The station's outbox, read-only: how many operations wait to go to the central database."""

from __future__ import annotations

from sqlalchemy import func, select

from app.store.models import OutboxOp
from app.store.uow import UnitOfWork


def count_pending(uow: UnitOfWork) -> int:
    n = uow.session.scalar(
        select(func.count()).select_from(OutboxOp).where(OutboxOp.status == "pending")
    )
    return int(n or 0)
