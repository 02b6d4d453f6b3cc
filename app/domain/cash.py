"""The till's cash: notes and coins counted by denomination, and what the drawer should hold.

A session opens with a float (counted), takes cash sales and pays cash refunds, has cash put in
or taken out with a reason, and closes with a count. ``expected = float + cash sales − cash
refunds + paid in − paid out``; ``counted − expected`` is over (positive) or short (negative).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import ValidationError
from app.domain.money import money

#: Notes and coins per currency, in minor units, largest first.
DENOMINATIONS: dict[str, tuple[int, ...]] = {
    "EUR": (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "GBP": (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "USD": (10000, 5000, 2000, 1000, 500, 200, 100, 25, 10, 5, 1),
    "CHF": (100000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5),
}
MAX_PIECES = 100_000


class CashMoveKind(StrEnum):
    PAID_IN = "in"
    PAID_OUT = "out"


#: Reasons offered for cash in and out; a clerk may type another.
MOVE_REASONS = {
    CashMoveKind.PAID_IN: ("Change from the bank", "Float top-up", "Other"),
    CashMoveKind.PAID_OUT: ("Bank drop", "Supplier paid from the till", "Other"),
}


def denominations(currency: str) -> tuple[int, ...]:
    try:
        return DENOMINATIONS[currency]
    except KeyError:
        raise ValidationError(
            f"The till cannot count {currency} by notes and coins — type the total instead."
        ) from None


def count_total(currency: str, count: Mapping[int, int]) -> int:
    """The value of a count ``{denomination in minor units: pieces}``."""
    allowed = set(denominations(currency))
    total = 0
    for value, pieces in count.items():
        if value not in allowed:
            raise ValidationError(
                f"{money(value, currency)} is not a {currency} note or coin — check the count."
            )
        if not 0 <= pieces <= MAX_PIECES:
            raise ValidationError(
                f"{pieces} pieces of {money(value, currency)} is not a possible count — "
                "count them again."
            )
        total += value * pieces
    return total


@dataclass(frozen=True, slots=True)
class DrawerBalance:
    opening_float_minor: int
    cash_sales_minor: int
    cash_refunds_minor: int
    paid_in_minor: int
    paid_out_minor: int

    @property
    def expected_minor(self) -> int:
        return (
            self.opening_float_minor
            + self.cash_sales_minor
            - self.cash_refunds_minor
            + self.paid_in_minor
            - self.paid_out_minor
        )

    def difference(self, counted_minor: int) -> int:
        """Counted − expected: over when positive, short when negative."""
        return counted_minor - self.expected_minor


def over_short_words(difference_minor: int) -> str:
    if difference_minor == 0:
        return "balanced"
    return "over" if difference_minor > 0 else "short"


def check_move(
    kind: CashMoveKind, amount_minor: int, reason: str, in_drawer_minor: int, currency: str = "EUR"
) -> None:
    if amount_minor <= 0:
        raise ValidationError("Type the amount of cash, above zero.")
    if not reason.strip():
        raise ValidationError("Say why the cash goes in or out — choose or type a reason.")
    if kind is CashMoveKind.PAID_OUT and amount_minor > in_drawer_minor:
        raise ValidationError(
            f"The drawer should only hold {money(in_drawer_minor, currency)} — that much "
            "cannot be taken out. "
            "Count the drawer."
        )
