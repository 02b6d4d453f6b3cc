"""The order state machine: which transitions exist, checked by every use case that moves one."""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import InvalidTransitionError


class OrderStatus(StrEnum):
    PLACED = "placed"  # received from a channel, not yet checked
    CONFIRMED = "confirmed"  # stock and payment checked: ready for picking or packing
    PICKING = "picking"
    PICKED = "picked"
    PACKING = "packing"  # open at a pack bench
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ON_HOLD = "on_hold"  # an exception (missing item, damage...) waiting for a supervisor
    CANCELLED = "cancelled"


_ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset(
        {OrderStatus.PICKING, OrderStatus.PACKING, OrderStatus.ON_HOLD, OrderStatus.CANCELLED}
    ),
    OrderStatus.PICKING: frozenset({OrderStatus.PICKED, OrderStatus.ON_HOLD}),
    OrderStatus.PICKED: frozenset({OrderStatus.PACKING, OrderStatus.ON_HOLD}),
    OrderStatus.PACKING: frozenset(
        {OrderStatus.PACKED, OrderStatus.ON_HOLD, OrderStatus.CONFIRMED, OrderStatus.PICKED}
    ),
    OrderStatus.PACKED: frozenset({OrderStatus.SHIPPED, OrderStatus.PACKING}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.ON_HOLD: frozenset(
        {OrderStatus.CONFIRMED, OrderStatus.PICKED, OrderStatus.PACKING, OrderStatus.CANCELLED}
    ),
    OrderStatus.CANCELLED: frozenset(),
}

# Orders a pack bench may open.
PACKABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.PICKED, OrderStatus.PACKING})

_WHY_NOT: dict[OrderStatus, str] = {
    OrderStatus.PLACED: "it has not been confirmed yet — ask a supervisor to release it",
    OrderStatus.PICKING: "it is still being picked — wait for the tote",
    OrderStatus.PACKED: "it is already packed — set it aside for shipping",
    OrderStatus.SHIPPED: "it has already shipped",
    OrderStatus.DELIVERED: "it has already been delivered",
    OrderStatus.ON_HOLD: "it is on hold for a supervisor — set it aside",
    OrderStatus.CANCELLED: "it was cancelled — do not ship it; put the items back",
}


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return target in _ALLOWED[current]


def check_transition(number: str, current: OrderStatus, target: OrderStatus) -> None:
    """Raise InvalidTransitionError, in words for the bench, unless current → target exists."""
    if can_transition(current, target):
        return
    why = _WHY_NOT.get(current, f"it is {current.value.replace('_', ' ')}")
    raise InvalidTransitionError(
        f"Order {number} cannot be {target.value.replace('_', ' ')} because {why}."
    )


def check_packable(number: str, current: OrderStatus) -> None:
    if current in PACKABLE:
        return
    why = _WHY_NOT.get(current, f"it is {current.value.replace('_', ' ')}")
    raise InvalidTransitionError(f"Order {number} cannot be packed: {why}.")
