"""Paying at the counter: tenders, change, and paying a refund back.

A sale is paid by one or more tenders (cash, card on the external terminal, a store-credit or
gift-card balance). It completes only when the tenders cover the total. Only cash gives
change: a card or a balance is never taken for more than is still due. So, for every completed
sale, ``Σ tenders − change = total``.

A refund goes back to the tenders the sale was paid with, never more to one tender than it
paid (cash paid is net of the change given), cards first, then balances, then cash; or, when
the customer chooses, all to store credit. Refunds of one sale never add up to more than it
was paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.errors import ValidationError
from app.domain.money import money
from app.domain.receipts import TenderKind

MAX_CASH_MINOR = 10_000_000  # a note pile nobody hands over at a counter
REFUND_ORDER = (TenderKind.CARD, TenderKind.VOUCHER, TenderKind.CASH)


@dataclass(frozen=True, slots=True)
class Payment:
    """One tender given for a sale."""

    kind: TenderKind
    amount_minor: int
    reference: str = ""  # the card terminal's approval code; the balance's code

    def __post_init__(self) -> None:
        if self.amount_minor <= 0:
            raise ValidationError("A payment is an amount above zero — type what was given.")


def check_payment(due_minor: int, payment: Payment, currency: str = "EUR") -> None:
    """Refuse a payment the counter cannot take now, in words for the clerk."""
    if due_minor <= 0:
        raise ValidationError("Nothing is left to pay — complete the sale.")
    if payment.kind is TenderKind.CASH:
        if payment.amount_minor > MAX_CASH_MINOR:
            raise ValidationError("That much cash is not possible — type the amount again.")
        return
    if payment.amount_minor > due_minor:
        what = "A card payment" if payment.kind is TenderKind.CARD else "A balance"
        raise ValidationError(
            f"{what} cannot be more than is still due ({money(due_minor, currency)}) — only cash "
            "gives change."
        )
    if payment.kind is TenderKind.CARD and not payment.reference.strip():
        raise ValidationError("Type or scan the approval code from the card terminal's slip first.")


@dataclass(frozen=True, slots=True)
class Settlement:
    total_minor: int
    tendered_minor: int
    change_minor: int

    @property
    def due_minor(self) -> int:
        """Still to pay (0 once the tenders cover the total)."""
        return max(0, self.total_minor - self.tendered_minor)


def settle(total_minor: int, payments: Sequence[Payment], currency: str = "EUR") -> Settlement:
    """What the tenders come to and the change due; raises if they do not pay the sale."""
    tendered = sum(p.amount_minor for p in payments)
    if tendered < total_minor:
        raise ValidationError(
            f"The sale is not paid yet: {money(total_minor - tendered, currency)} still due — "
            "take another payment before completing."
        )
    change = tendered - total_minor
    cash = sum(p.amount_minor for p in payments if p.kind is TenderKind.CASH)
    if change > cash:
        raise ValidationError(
            "Card and balance payments give no change — take that payment again for less."
        )
    return Settlement(total_minor, tendered, change)


def cash_kept(payments: Sequence[Payment], change_minor: int) -> list[int]:
    """Per payment, what the shop keeps: each cash payment less the change it gave."""
    kept = []
    change = change_minor
    for p in payments:
        amount = p.amount_minor
        if p.kind is TenderKind.CASH and change:
            taken = min(change, amount)
            amount -= taken
            change -= taken
        kept.append(amount)
    return kept


@dataclass(frozen=True, slots=True)
class Refundable:
    """What one tender of the sale can still take back."""

    kind: TenderKind
    reference: str
    available_minor: int


@dataclass(frozen=True, slots=True)
class RefundPart:
    kind: TenderKind
    reference: str
    amount_minor: int  # positive: money going back to the customer


def refund_to_original(
    amount_minor: int, tenders: Sequence[Refundable], currency: str = "EUR"
) -> list[RefundPart]:
    """Share a refund over the sale's tenders: cards first, then balances, then cash."""
    if amount_minor <= 0:
        raise ValidationError("A refund is an amount above zero.")
    available = sum(t.available_minor for t in tenders)
    if amount_minor > available:
        raise ValidationError(
            f"A refund of {money(amount_minor, currency)} is more than the sale's payments can "
            f"take back ({money(available, currency)}) — refund less, or to store credit with a "
            "supervisor."
        )
    left = amount_minor
    parts = []
    for kind in REFUND_ORDER:
        for t in tenders:
            if t.kind is not kind or not left or t.available_minor <= 0:
                continue
            take = min(left, t.available_minor)
            parts.append(RefundPart(kind, t.reference, take))
            left -= take
    return parts
