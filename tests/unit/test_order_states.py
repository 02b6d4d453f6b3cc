"""The order state machine: allowed moves, refused moves with words a person can act on."""

import pytest

from app.domain.errors import InvalidTransitionError
from app.domain.orders import OrderStatus, can_transition, check_packable, check_transition


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OrderStatus.PLACED, OrderStatus.CONFIRMED),
        (OrderStatus.CONFIRMED, OrderStatus.PACKING),
        (OrderStatus.PICKED, OrderStatus.PACKING),
        (OrderStatus.PACKING, OrderStatus.PACKED),
        (OrderStatus.PACKING, OrderStatus.ON_HOLD),
        (OrderStatus.ON_HOLD, OrderStatus.PACKING),
        (OrderStatus.PACKED, OrderStatus.SHIPPED),
        (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    ],
)
def test_the_lifecycle_moves_forward(current: OrderStatus, target: OrderStatus) -> None:
    assert can_transition(current, target)
    check_transition("SO-1", current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OrderStatus.PLACED, OrderStatus.PACKED),
        (OrderStatus.CONFIRMED, OrderStatus.PACKED),
        (OrderStatus.CANCELLED, OrderStatus.PACKING),
        (OrderStatus.SHIPPED, OrderStatus.PACKING),
        (OrderStatus.DELIVERED, OrderStatus.SHIPPED),
        (OrderStatus.PACKED, OrderStatus.CONFIRMED),
    ],
)
def test_a_move_that_does_not_exist_is_refused(current: OrderStatus, target: OrderStatus) -> None:
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransitionError) as e:
        check_transition("SO-1042", current, target)
    assert "SO-1042" in e.value.message


def test_every_state_has_its_rules() -> None:
    for state in OrderStatus:
        for target in OrderStatus:
            can_transition(state, target)  # no KeyError: every state is in the table


def test_cancelled_order_cannot_be_packed_and_says_what_to_do() -> None:
    with pytest.raises(InvalidTransitionError) as e:
        check_packable("SO-7", OrderStatus.CANCELLED)
    assert "cancelled" in e.value.message
    assert "put the items back" in e.value.message


def test_packed_order_cannot_be_opened_again() -> None:
    with pytest.raises(InvalidTransitionError, match="already packed"):
        check_packable("SO-7", OrderStatus.PACKED)
