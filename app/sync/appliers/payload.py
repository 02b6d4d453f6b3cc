"""Checks on the parts of an operation's payload, for the appliers that read records out of
it (the counter's sales and cash, the returns desk's receipts and resolutions).

A part of the wrong form is a :class:`MalformedOpError` in the words of the applier's own
``malformed`` (which says whose records are unchanged and whom to tell), so each module keeps
its voice and the checks are written once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.sync.ops import MalformedOpError, Op

Malformed = Callable[[Op, str], MalformedOpError]


class Checks:
    def __init__(self, malformed: Malformed) -> None:
        self._malformed = malformed

    def record(self, op: Op, raw: object, what: str = "a part of it") -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self._malformed(op, f"{what} is not a record")
        return raw

    def whole(self, op: Op, value: object, *, at_least: int | None = None) -> int:
        """A whole number (``at_least``: and no less than that)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._malformed(op, f"{value!r} is not a whole number")
        if at_least is not None and value < at_least:
            raise self._malformed(op, f"{value!r} is not a whole number of {at_least} or more")
        return value

    def opt_whole(self, op: Op, value: object) -> int | None:
        """A whole number of zero or more, or nothing."""
        return None if value is None else self.whole(op, value, at_least=0)

    def id(self, op: Op, value: object) -> uuid.UUID:
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise self._malformed(op, f"{value!r} is not an id") from None

    def opt_id(self, op: Op, value: object) -> uuid.UUID | None:
        return None if value is None else self.id(op, value)

    def when(self, op: Op, value: object) -> datetime:
        try:
            at = datetime.fromisoformat(str(value))
        except ValueError:
            raise self._malformed(op, f"{value!r} is not a time") from None
        if at.tzinfo is None:
            raise self._malformed(op, "a time has no time zone")
        return at
