"""The applier of a supervisor's resolution of an exception task (an oversell, a disputed
claim), recorded at a station by :func:`app.services.conflicts.resolve_exception`."""

from __future__ import annotations

from sqlalchemy import select

from app.clock import utcnow
from app.domain.errors import NotFoundError, PermissionDeniedError
from app.domain.roles import Permission, allows, parse_roles
from app.store.models import ExceptionTask, Operator
from app.sync.appliers import ApplyContext, applier
from app.sync.ops import Op


@applier("exception.resolved")
def exception_resolved(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    task = s.scalar(
        select(ExceptionTask)
        .where(ExceptionTask.id == op.id_of("task_id"))
        .with_for_update(of=ExceptionTask)
    )
    if task is None:
        raise NotFoundError(
            "That exception task does not exist in the central database — refresh the list."
        )
    ctx.touch("exception_task", task.id)
    supervisor = s.get(Operator, op.id_of("supervisor_id"))
    if (
        supervisor is None
        or not supervisor.active
        or not allows(parse_roles(supervisor.roles), Permission.OVERRIDE)
    ):
        raise PermissionDeniedError(
            "Only an active supervisor may resolve an exception — the badge that resolved it "
            "is not one centrally; ask a supervisor to resolve it again."
        )
    if task.status == "resolved":
        return  # two supervisors resolved it at two benches: the first resolution stands
    task.status = "resolved"
    task.resolved_at = utcnow()
    task.resolved_by = supervisor.name
    task.details = {
        **dict(task.details or {}),
        "resolution": op.str_of("note"),
        "resolved_at_station": str(ctx.station_id),
    }
