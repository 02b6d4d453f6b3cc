"""Time: always UTC and timezone-aware.

A station's clock can be wrong by hours. ``WAYSTATION_CLOCK_OFFSET_S`` (seconds, may be
negative) shifts this process's clock, so a station with a skewed clock can be run on purpose;
central ordering never depends on station times (sequence numbers and feed positions do).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta


def _offset_from_env() -> timedelta:
    raw = os.environ.get("WAYSTATION_CLOCK_OFFSET_S", "").strip()
    if not raw:
        return timedelta(0)
    try:
        return timedelta(seconds=float(raw))
    except ValueError:
        logging.getLogger(__name__).warning(
            "WAYSTATION_CLOCK_OFFSET_S=%r is not a number of seconds; the clock is not shifted",
            raw,
        )
        return timedelta(0)


_OFFSET = _offset_from_env()


def utcnow() -> datetime:
    return datetime.now(UTC) + _OFFSET
