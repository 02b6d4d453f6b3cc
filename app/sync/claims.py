"""Waiting briefly for an operation's central answer: the online claim of an order.

When a packer opens an order, the bench records ``order.pack_started`` (the claim) like any
operation. A station with a central database then asks its sync worker to push it at once and
waits up to :data:`CLAIM_WAIT_S` for the hub's result. Refused: another bench holds the order,
and the bench closes it with the central message (which names that bench). Offline, or no
answer in time: the bench goes on, and a refusal that comes later appears in the conflicts list
(and the hub raises a ``disputed_claim`` task if items were packed meanwhile).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from app.sync.ops import REJECTED

CLAIM_WAIT_S = 1.5


class ResultSource(Protocol):
    """What a claim needs from the sync worker (:class:`app.sync.worker.SyncWorker`)."""

    @property
    def online(self) -> bool: ...

    def await_result(self, op_id: uuid.UUID, timeout: float) -> tuple[str, str] | None: ...


@dataclass(frozen=True, slots=True)
class ClaimAnswer:
    refused: bool  # another bench holds the order: close it
    answered: bool  # the central answer came in time (False: offline or late, go on)
    message: str = ""  # the central reason, when refused


GO_ON = ClaimAnswer(refused=False, answered=False)


def claim(
    source: ResultSource | None, op_id: uuid.UUID, wait_s: float = CLAIM_WAIT_S
) -> ClaimAnswer:
    """The central answer to the claim ``op_id``, waiting at most ``wait_s`` seconds."""
    if source is None or not source.online:
        return GO_ON
    found = source.await_result(op_id, wait_s)
    if found is None:
        return GO_ON
    result, reason = found
    if result == REJECTED:
        return ClaimAnswer(refused=True, answered=True, message=reason)
    return ClaimAnswer(refused=False, answered=True)
