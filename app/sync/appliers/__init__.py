"""The appliers: one function per operation kind, run by the hub on the central database.

An applier changes central state the way the station's use case changed its local state, with
the same domain rules (app/domain). It calls ``ctx.touch(entity, id)`` for every feed entity it
changed (the hub writes those to the change feed after the operation) and
``ctx.raise_task(...)`` when a fact breaks a rule a supervisor must look at. To reject the
operation it raises a :class:`~app.domain.errors.WaystationError` (any subclass); its
``message`` becomes the reason the station shows.

Every module in this package is imported when the package is, so a module's ``@applier``
decorators are all it takes to register its kinds.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.ids import new_id
from app.store.models import ExceptionTask
from app.sync import feed
from app.sync.ops import LOCAL_ONLY_KINDS, MalformedOpError, Op

Touched = tuple[str, uuid.UUID]


@dataclass
class ApplyContext:
    """What an applier works with: the central session (inside the hub's savepoint for this
    operation) and where the operation comes from."""

    session: Session
    op: Op
    station_id: uuid.UUID
    warehouse_id: uuid.UUID | None
    touched: dict[Touched, None] = field(default_factory=dict)  # an ordered set
    written: dict[Touched, dict[str, Any]] = field(default_factory=dict)

    def touch(self, entity: str, entity_id: uuid.UUID) -> None:
        """Write this entity's state to the feed after the operation (read back from the
        database, also when :meth:`wrote` gave it before: it has changed since)."""
        self.touched[(entity, entity_id)] = None
        self.written.pop((entity, entity_id), None)

    def wrote(self, entity: str, entity_id: uuid.UUID, row: dict[str, Any]) -> None:
        """Like :meth:`touch`, for a row this operation inserted whole (``row``: its columns'
        values; a column left out is NULL) and that no later operation changes, such as a
        ledger row: the feed takes it as it is instead of reading it back (``written`` holds
        its feed payload, encoded here)."""
        self.touched[(entity, entity_id)] = None
        self.written[(entity, entity_id)] = feed.encode_written(entity, row)

    def raise_task(
        self,
        kind: str,
        entity: str,
        entity_id: uuid.UUID | None,
        details: dict[str, Any],
        *,
        warehouse_id: uuid.UUID | None = None,
    ) -> uuid.UUID | None:
        """Raise an exception task for a supervisor; one per (kind, operation). Returns its id,
        or None when this operation already raised one of that kind."""
        s = self.session
        existing = s.scalar(
            select(ExceptionTask.id).where(
                ExceptionTask.kind == kind, ExceptionTask.op_id == self.op.op_id
            )
        )
        if existing is not None:
            return None
        task_id = new_id()
        s.execute(
            insert(ExceptionTask).values(
                id=task_id,
                warehouse_id=warehouse_id or self.warehouse_id,
                kind=kind,
                entity=entity,
                entity_id=entity_id,
                op_id=self.op.op_id,
                details=details,
                status="open",
                raised_at=utcnow(),
            )
        )
        self.touch("exception_task", task_id)
        return task_id


ApplyFn = Callable[[ApplyContext, Op], None]
REGISTRY: dict[str, ApplyFn] = {}
# Kinds that may also be applied many at a time: consecutive operations of such kinds (one
# function for all of them) go to it together, each with its own context.
BatchFn = Callable[[list[ApplyContext]], None]
BATCHES: dict[str, BatchFn] = {}


class BatchRefusedError(Exception):
    """Raised by a batch applier: operation ``index`` of the batch is rejected with ``error``.
    Every operation before it would have been applied; the hub applies them again without it."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(f"operation {index} of the batch: {error}")
        self.index = index
        self.error = error


def applier(kind: str) -> Callable[[ApplyFn], ApplyFn]:
    """Register the decorated function as the applier of ``kind``."""

    def register(fn: ApplyFn) -> ApplyFn:
        if kind in REGISTRY:
            raise RuntimeError(f"two appliers for {kind}: {REGISTRY[kind].__module__} and {fn}")
        REGISTRY[kind] = fn
        return fn

    return register


def batch_applier(*kinds: str) -> Callable[[BatchFn], BatchFn]:
    """Register the decorated function as the batch applier of ``kinds`` (each must have its
    one-at-a-time applier too, which gives the same result)."""

    def register(fn: BatchFn) -> BatchFn:
        for kind in kinds:
            if kind in BATCHES:
                raise RuntimeError(f"two batch appliers for {kind}")
            BATCHES[kind] = fn
        return fn

    return register


def apply(ctx: ApplyContext, op: Op) -> None:
    """Apply one operation (the caller holds the savepoint); raise to reject it."""
    fn = REGISTRY.get(op.kind)
    if fn is None:
        if op.kind in LOCAL_ONLY_KINDS:
            return
        raise MalformedOpError(
            f"This central database does not know operations of kind {op.kind!r} — "
            "the station is newer than the hub: update the hub, then resend from the station."
        )
    fn(ctx, op)


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


_load_all()
