"""The ONE place where errors become words for the person at the station.

Typed core errors (:class:`app.domain.errors.WaystationError`) already carry a message that says
what happened and what to do; anything else is a bug: it is logged with its traceback and the
person gets a calm, generic sentence instead of a stack trace.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication

from app.domain.errors import WaystationError

log = logging.getLogger(__name__)


def describe(error: BaseException, *, action: str = "scan") -> str:
    """Banner text for an error raised by a use case on the database worker.

    ``action`` says what was being attempted: ``"scan"`` (the scan was not counted) or any
    other action (it was not done).
    """
    if isinstance(error, WaystationError):
        return error.message
    log.error("unexpected error during %s", action, exc_info=error)
    if action == "scan":
        return QCoreApplication.translate(
            "messages",
            "Something went wrong — the scan was not counted; try again. Details are in the log.",
        )
    return QCoreApplication.translate(
        "messages",
        "Something went wrong — that was not done; try again. Details are in the log.",
    )


def is_expected(error: BaseException) -> bool:
    """True for errors the core raises on purpose (a person can act on the message)."""
    return isinstance(error, WaystationError)
