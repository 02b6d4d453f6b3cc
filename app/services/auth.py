"""Operators: signing in with a badge or name + PIN (argon2 hashes), and supervisor overrides."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.errors import AuthenticationError
from app.domain.roles import Permission, Role, parse_roles, require
from app.services.views import OperatorView
from app.store.models import Operator
from app.store.uow import UnitOfWork

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _hasher() -> object:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_pin(pin: str) -> str:
    from argon2 import PasswordHasher

    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        from app.domain.errors import ValidationError

        raise ValidationError("A PIN is 4 to 12 digits.")
    hasher = _hasher()
    assert isinstance(hasher, PasswordHasher)
    return hasher.hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    assert isinstance(hasher, PasswordHasher)
    try:
        return hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def _view(op: Operator) -> OperatorView:
    return OperatorView(id=op.id, name=op.name, roles=frozenset(op.roles.split()))


def _active(op: Operator | None, what: str) -> Operator:
    if op is None:
        raise AuthenticationError(f"{what} — check it and try again, or ask a supervisor.")
    if not op.active:
        raise AuthenticationError(f"{op.name}'s account is switched off — ask a supervisor.")
    return op


# A scanner set to send AIM symbology identifiers, and the camera, put one before the badge.
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


def find_by_badge(session: Session, badge: str) -> Operator:
    badge = _AIM_PREFIX.sub("", badge.strip()).strip()
    op = session.scalar(select(Operator).where(Operator.badge == badge.upper()))
    return _active(op, f"Badge {badge} is not known at this station")


def sign_in_badge(uow: UnitOfWork, badge: str, pin: str | None = None) -> OperatorView:
    """Sign in by badge scan; the PIN is checked when given (or when the station requires it)."""
    op = find_by_badge(uow.session, badge)
    if pin is not None and not verify_pin(op.pin_hash, pin):
        raise AuthenticationError("That PIN is not right — type it again.")
    _audit_sign_in(uow, op, "badge")
    return _view(op)


def sign_in_pin(uow: UnitOfWork, name: str, pin: str) -> OperatorView:
    op = uow.session.scalar(
        select(Operator).where(func.lower(Operator.name) == name.strip().lower())
    )
    op = _active(op, f"There is no operator called {name.strip()!r}")
    if not verify_pin(op.pin_hash, pin):
        raise AuthenticationError("That name and PIN do not match — type the PIN again.")
    _audit_sign_in(uow, op, "pin")
    return _view(op)


def operator_names(uow: UnitOfWork) -> list[str]:
    return list(
        uow.session.scalars(select(Operator.name).where(Operator.active).order_by(Operator.name))
    )


def _audit_sign_in(uow: UnitOfWork, op: Operator, how: str) -> None:
    from app.store.models import AuditEvent

    uow.session.add(
        AuditEvent(
            station_id=uow.actor.station_id,
            operator_id=op.id,
            action="operator.signed_in",
            entity="operator",
            entity_id=op.id,
            details={"how": how},
        )
    )


def authorize(session: Session, badge: str, permission: Permission) -> Operator:
    """The operator behind a badge scanned to approve something, if their roles allow it."""
    op = find_by_badge(session, badge)
    require(op.name, parse_roles(op.roles), permission)
    return op


def check(uow: UnitOfWork, permission: Permission) -> None:
    """Refuse the action unless the signed-in operator's roles allow it."""
    roles = [Role(r) for r in uow.actor.roles]
    require(uow.actor.operator_name or "This operator", roles, permission)
