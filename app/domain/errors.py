"""Typed errors of the core. Each carries words a person at the bench can act on.

The ui turns these into a banner, a sound and a colour in one place; nothing deep in the stack
shows a dialog. ``message`` says what happened and what to do next.
"""

from __future__ import annotations


class WaystationError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedScanError(WaystationError):
    """A scan that cannot be read: bad check digit, broken GS1 element string, empty input."""


class UnknownBarcodeError(WaystationError):
    """A well-formed code that names nothing this station knows."""


class ScanRejectedError(WaystationError):
    """A code that is known but does not fit what the active workflow expects now."""


class NotFoundError(WaystationError):
    """An order, product or other entity that does not exist."""


class InvalidTransitionError(WaystationError):
    """An order (or other state machine) asked to move to a state it cannot reach from here."""


class PermissionDeniedError(WaystationError):
    """The signed-in operator's roles do not allow the action."""


class AuthenticationError(WaystationError):
    """Sign-in failed: unknown badge, wrong PIN, inactive operator."""


class ValidationError(WaystationError):
    """A typed value that is out of range or of the wrong form (a weight, a quantity...)."""


class ConfigError(WaystationError):
    """The station's configuration file is unreadable or names something impossible."""


class PrintError(WaystationError):
    """A document could not be made or sent; the job stays queued for a retry."""


class CameraError(WaystationError):
    """A camera that cannot be opened, or stopped sending pictures."""


class SyncError(WaystationError):
    """The central database cannot be reached, or refused what the station sent or asked."""
