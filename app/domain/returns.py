"""The returns desk's rules, in plain Python: reason codes, conditions, dispositions, the
company's return policy, the default disposition per reason and condition, and the refund.

Money is integer minor units. The refund of a return is worked out once for all the units it
resolves, so a fee is taken once per return, never per unit, and the result is held between
zero and what the order was paid less what was refunded on it already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.errors import ValidationError
from app.domain.pricing import round_div

BP = 10_000  # basis points in a whole


class Reason(StrEnum):
    DAMAGED = "damaged"  # arrived damaged
    DEFECTIVE = "defective"  # does not work
    WRONG_ITEM = "wrong_item"  # we sent the wrong thing
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    TOO_LATE = "too_late"  # arrived after it was needed

    @property
    def label(self) -> str:
        return _REASON_WORDS[self]


_REASON_WORDS = {
    Reason.DAMAGED: "Arrived damaged",
    Reason.DEFECTIVE: "Defective",
    Reason.WRONG_ITEM: "Wrong item sent",
    Reason.NOT_AS_DESCRIBED: "Not as described",
    Reason.CHANGED_MIND: "Changed mind",
    Reason.TOO_LATE: "Arrived too late",
}


class Condition(StrEnum):
    NEW_SEALED = "new_sealed"
    OPENED = "opened"
    USED = "used"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    MISSING_PARTS = "missing_parts"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").replace("new sealed", "new / sealed").capitalize()


class Disposition(StrEnum):
    RESTOCK = "restock"  # back to a bin, sellable
    REFURBISH = "refurbish"
    QUARANTINE = "quarantine"  # held apart for inspection or a carrier claim
    SCRAP = "scrap"
    RETURN_TO_VENDOR = "return_to_vendor"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Resolution(StrEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"
    STORE_CREDIT = "store_credit"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def parse(enum: type[StrEnum], value: str, what: str) -> StrEnum:
    """A code from a form or an operation, or words naming the codes there are."""
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(m.value for m in enum)
        raise ValidationError(f"{value!r} is not a {what} — choose one of: {known}.") from None


# Units the seller is to blame for: the customer pays no fee and gets the shipping back.
SELLER_FAULT = frozenset({Reason.DAMAGED, Reason.DEFECTIVE, Reason.WRONG_ITEM})

# A unit's value kept back for its state when the reason is not free (basis points).
DEFAULT_DEDUCTIONS: Mapping[Condition, int] = {
    Condition.NEW_SEALED: 0,
    Condition.OPENED: 0,
    Condition.USED: 2_000,
    Condition.DAMAGED: 5_000,
    Condition.DEFECTIVE: 0,  # the customer's word "it broke" is checked by the vendor
    Condition.MISSING_PARTS: 3_000,
}


@dataclass(frozen=True, slots=True)
class Policy:
    """A company's return policy."""

    window_days: int = 30
    free_reasons: frozenset[Reason] = SELLER_FAULT
    restocking_fee_bp: int = 0  # of the merchandise refunded, for reasons that are not free
    restocking_fee_minor: int = 0  # a fixed fee per return, for reasons that are not free
    refund_shipping: bool = False  # shipping back also for reasons that are not free
    deductions_bp: Mapping[Condition, int] = field(default_factory=lambda: dict(DEFAULT_DEDUCTIONS))

    def __post_init__(self) -> None:
        if self.window_days < 0:
            raise ValidationError("The return window is zero days or more.")
        if not 0 <= self.restocking_fee_bp <= BP:
            raise ValidationError("The restocking fee is between 0 % and 100 %.")
        if self.restocking_fee_minor < 0:
            raise ValidationError("The restocking fee is an amount of zero or more.")
        if any(not 0 <= v <= BP for v in self.deductions_bp.values()):
            raise ValidationError("A deduction for a condition is between 0 % and 100 %.")

    def deadline(self, shipped_at: datetime) -> datetime:
        return shipped_at + timedelta(days=self.window_days)

    def is_late(self, shipped_at: datetime, now: datetime) -> bool:
        return now > self.deadline(shipped_at)

    def is_free(self, reason: Reason) -> bool:
        return reason in self.free_reasons


# ----------------------------------------------------------------------------- dispositions

_BY_CONDITION: Mapping[Condition, Disposition] = {
    Condition.NEW_SEALED: Disposition.RESTOCK,
    Condition.OPENED: Disposition.RESTOCK,
    Condition.USED: Disposition.REFURBISH,
    Condition.DAMAGED: Disposition.SCRAP,
    Condition.DEFECTIVE: Disposition.RETURN_TO_VENDOR,
    Condition.MISSING_PARTS: Disposition.REFURBISH,
}
# Where the reason says more than the condition does.
_BY_REASON_AND_CONDITION: Mapping[tuple[Reason, Condition], Disposition] = {
    # Damaged in transit: kept for the carrier's claim before anything else happens to it.
    (Reason.DAMAGED, Condition.DAMAGED): Disposition.QUARANTINE,
    (Reason.DAMAGED, Condition.OPENED): Disposition.QUARANTINE,
    # "Defective" but it looks fine: checked before it is sold again.
    (Reason.DEFECTIVE, Condition.NEW_SEALED): Disposition.QUARANTINE,
    (Reason.DEFECTIVE, Condition.OPENED): Disposition.QUARANTINE,
    (Reason.DEFECTIVE, Condition.USED): Disposition.RETURN_TO_VENDOR,
    (Reason.NOT_AS_DESCRIBED, Condition.OPENED): Disposition.QUARANTINE,
}


def default_disposition(reason: Reason, condition: Condition) -> Disposition:
    return _BY_REASON_AND_CONDITION.get((reason, condition), _BY_CONDITION[condition])


# ----------------------------------------------------------------------------- refund


@dataclass(frozen=True, slots=True)
class RefundUnit:
    """One returned unit: what it was paid, why it came back and the state it came back in."""

    paid_minor: int
    reason: Reason
    condition: Condition

    def __post_init__(self) -> None:
        if self.paid_minor < 0:
            raise ValidationError("A unit's price paid is zero or more.")


@dataclass(frozen=True, slots=True)
class Refund:
    merchandise_minor: int  # the units' prices paid
    deductions_minor: int  # kept back for their condition
    restocking_fee_minor: int
    shipping_minor: int  # the order's shipping paid back
    capped_minor: int  # cut so the order is never refunded more than it was paid
    total_minor: int

    def as_dict(self) -> dict[str, int]:
        return {
            "merchandise_minor": self.merchandise_minor,
            "deductions_minor": self.deductions_minor,
            "restocking_fee_minor": self.restocking_fee_minor,
            "shipping_minor": self.shipping_minor,
            "capped_minor": self.capped_minor,
            "total_minor": self.total_minor,
        }


def calculate_refund(
    policy: Policy,
    units: Sequence[RefundUnit],
    *,
    order_paid_minor: int,
    already_refunded_minor: int = 0,
    shipping_paid_minor: int = 0,
    shipping_refunded: bool = False,
) -> Refund:
    """The refund of these units under ``policy``.

    A unit returned for a free reason is refunded whole; otherwise its condition's deduction
    is kept back. The restocking fee (percentage of the non-free units' refund, plus the fixed
    amount) is taken once for the return. Shipping is paid back once per order: when any unit
    came back for a free reason, or the policy refunds it anyway. The total is never below zero
    and never above what the order was paid less what it was refunded before.
    """
    if order_paid_minor < 0 or already_refunded_minor < 0 or shipping_paid_minor < 0:
        raise ValidationError("Amounts paid and refunded are zero or more.")
    merchandise = sum(u.paid_minor for u in units)
    deductions = 0
    chargeable = 0
    for u in units:
        if policy.is_free(u.reason):
            continue
        kept = round_div(u.paid_minor * policy.deductions_bp.get(u.condition, 0), BP)
        deductions += kept
        chargeable += u.paid_minor - kept
    fee = 0
    if chargeable > 0:
        fee = min(
            chargeable,
            round_div(chargeable * policy.restocking_fee_bp, BP) + policy.restocking_fee_minor,
        )
    any_free = any(policy.is_free(u.reason) for u in units)
    shipping = 0
    if units and not shipping_refunded and (any_free or policy.refund_shipping):
        shipping = shipping_paid_minor
    gross = merchandise - deductions - fee + shipping
    room = max(0, order_paid_minor - already_refunded_minor)
    total = max(0, min(gross, room))
    return Refund(merchandise, deductions, fee, shipping, max(0, gross - total), total)


# ----------------------------------------------------------------------------- documents


@dataclass(frozen=True, slots=True)
class QuarantineTag:
    """The tag on a unit that does not go back to a bin (quarantine, refurbish, scrap, return
    to vendor): what it is, where it came from, why it came back and where it goes, so nobody
    puts it on a shelf and each pile can be counted."""

    rma_number: str  # printed as Code 128: scanning it finds the return
    order_number: str
    sku: str
    name: str
    serial: str | None
    condition: Condition
    reason: Reason | None  # None: received as unexpected
    received_at: datetime
    received_by: str
    disposition: Disposition = Disposition.QUARANTINE

    @property
    def heading(self) -> str:
        """The tag's big word: where the unit goes."""
        return self.disposition.label.upper()
