"""Operators' roles and what each may do. A refused action names the role it needs."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from app.domain.errors import PermissionDeniedError


class Role(StrEnum):
    PACKER = "packer"
    PICKER = "picker"
    RETURNS_CLERK = "returns_clerk"
    COUNTER_CLERK = "counter_clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Permission(StrEnum):
    PACK = "pack"
    PICK = "pick"
    RECEIVE_RETURN = "receive_return"
    REFUND = "refund"
    SELL = "sell"
    OVERRIDE = "override"  # resolve exceptions, release holds, override a missing item
    ADJUST_STOCK = "adjust_stock"
    CONFIGURE = "configure"  # printers, scanner settings, operators


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.PACKER: frozenset({Permission.PACK}),
    Role.PICKER: frozenset({Permission.PICK}),
    Role.RETURNS_CLERK: frozenset({Permission.RECEIVE_RETURN}),
    Role.COUNTER_CLERK: frozenset({Permission.SELL}),
    Role.SUPERVISOR: frozenset(
        {
            Permission.PACK,
            Permission.PICK,
            Permission.RECEIVE_RETURN,
            Permission.REFUND,
            Permission.SELL,
            Permission.OVERRIDE,
            Permission.ADJUST_STOCK,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}

_ACTION_WORDS: dict[Permission, str] = {
    Permission.PACK: "pack orders",
    Permission.PICK: "pick orders",
    Permission.RECEIVE_RETURN: "receive returns",
    Permission.REFUND: "refund",
    Permission.SELL: "sell at the counter",
    Permission.OVERRIDE: "override an exception",
    Permission.ADJUST_STOCK: "adjust stock",
    Permission.CONFIGURE: "change the station's settings",
}


def parse_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in text.split() if r)


def format_roles(roles: Iterable[Role]) -> str:
    return " ".join(sorted(r.value for r in roles))


def allows(roles: Iterable[Role], permission: Permission) -> bool:
    return any(permission in _GRANTS[r] for r in roles)


def roles_granting(permission: Permission) -> list[Role]:
    return [r for r in Role if permission in _GRANTS[r]]


def require(name: str, roles: Iterable[Role], permission: Permission) -> None:
    """Raise PermissionDeniedError, naming the roles that may, unless roles allow permission."""
    roles = list(roles)
    if allows(roles, permission):
        return
    needed = " or ".join(r.label for r in roles_granting(permission) if r is not Role.ADMIN)
    raise PermissionDeniedError(
        f"{name} may not {_ACTION_WORDS[permission]}: that needs the {needed} role. "
        "Ask a supervisor to scan their badge."
    )
