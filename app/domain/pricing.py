"""Prices, discounts and taxes of a counter basket, in integer minor units.

The rule, written once and tested as a property:

1. **A line's amount** is ``round(measure × unit price) − discount``. The measure is the
   quantity (whole units) or, for an item sold by weight, kilograms (``grams / 1000``); the
   product is rounded half away from zero to the minor unit, once per line. The amount is in
   the price list's basis: tax included or tax excluded.
2. **A basket discount** (percent or amount) is spread over the lines in proportion to what is
   left of each line (largest remainder), so it carries each line's tax rate and every line
   still adds up to whole minor units.
3. **Tax-inclusive lists**: the total is the sum of the line amounts. The tax of each rate is
   taken out of that rate's total once: ``tax = round(gross × r / (1 + r))``
   (:func:`app.domain.receipts.tax_in_gross`).
4. **Tax-exclusive lists**: the lines are net. The tax of each rate is added to that rate's
   net total once: ``tax = round(net × r)``; the total is Σ net + Σ tax.

So the total always equals the sum of the rounded lines plus (exclusive lists) the rounded tax
per rate — never a sum of separately rounded line taxes that drifts from the printed total.
Each line also gets its share of its rate's tax (largest remainder), so a line's gross is known
exactly for refunds: the shares of a rate add up to its tax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import PermissionDeniedError, ValidationError
from app.domain.money import money
from app.domain.receipts import BASIS_POINTS, tax_in_gross, tax_on_net
from app.domain.roles import Role

GRAMS_PER_KG = 1000
MAX_QTY = 9999
MAX_GRAMS = 100_000  # what a counter scale weighs at most


def round_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, integers only."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    q = (2 * abs(numerator) + denominator) // (2 * denominator)
    return q if numerator >= 0 else -q


def split(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` shared in proportion to ``weights`` (largest remainder): the shares add up to
    ``total`` exactly. Weights are ≥ 0; all zero shares nothing out."""
    whole = sum(weights)
    if whole == 0 or total == 0:
        return [0] * len(weights)
    sign = 1 if total > 0 else -1
    magnitude = abs(total)
    shares = [magnitude * w // whole for w in weights]
    rest = magnitude - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(magnitude * weights[i] % whole), i))
    for i in by_remainder[:rest]:
        shares[i] += 1
    return [sign * s for s in shares]


class PriceBasis(StrEnum):
    """Whether a price list's prices include the tax."""

    INCLUSIVE = "inclusive"
    EXCLUSIVE = "exclusive"


@dataclass(frozen=True, slots=True)
class PricedLine:
    """One basket line as the rule sees it."""

    qty: int  # units; 1 for a weighed item
    unit_price_minor: int  # per unit, or per kilogram when ``grams`` is set
    tax_rate_bp: int
    discount_minor: int = 0  # the line's own discount
    grams: int | None = None  # sold by weight
    price_minor: int | None = None  # a price the scale printed into the barcode

    def __post_init__(self) -> None:
        if not 1 <= self.qty <= MAX_QTY:
            raise ValidationError(f"A quantity of {self.qty} is not possible — 1 to {MAX_QTY}.")
        if self.unit_price_minor < 0:
            raise ValidationError("A price cannot be negative — use a discount.")
        if not 0 <= self.tax_rate_bp < BASIS_POINTS:
            raise ValidationError(f"A tax rate of {self.tax_rate_bp / 100}% is not possible.")
        if self.grams is not None and not 1 <= self.grams <= MAX_GRAMS:
            raise ValidationError(f"{self.grams} g is not a weight the scale can give.")
        if self.discount_minor < 0:
            raise ValidationError("A discount is an amount off, never negative.")
        if self.discount_minor > self.before_discount_minor:
            raise ValidationError(
                f"A discount of {money(self.discount_minor)} is more than the line is worth "
                f"({money(self.before_discount_minor)}) — make it smaller."
            )

    @property
    def before_discount_minor(self) -> int:
        if self.price_minor is not None:
            return self.qty * self.price_minor
        if self.grams is not None:
            return self.qty * round_div(self.grams * self.unit_price_minor, GRAMS_PER_KG)
        return self.qty * self.unit_price_minor

    @property
    def amount_minor(self) -> int:
        return self.before_discount_minor - self.discount_minor


@dataclass(frozen=True, slots=True)
class LineTotals:
    before_discount_minor: int
    line_discount_minor: int
    basket_discount_minor: int  # this line's share of the basket discount
    amount_minor: int  # after both discounts, in the list's basis
    tax_minor: int  # this line's share of its rate's tax
    gross_minor: int  # what the customer pays for the line, tax included

    @property
    def discount_minor(self) -> int:
        return self.line_discount_minor + self.basket_discount_minor


@dataclass(frozen=True, slots=True)
class RateTotals:
    rate_bp: int
    net_minor: int
    tax_minor: int
    gross_minor: int


@dataclass(frozen=True, slots=True)
class BasketTotals:
    basis: PriceBasis
    lines: tuple[LineTotals, ...]
    rates: tuple[RateTotals, ...]  # highest rate first

    @property
    def subtotal_minor(self) -> int:
        """The lines before any discount, in the list's basis."""
        return sum(x.before_discount_minor for x in self.lines)

    @property
    def discount_minor(self) -> int:
        return sum(x.discount_minor for x in self.lines)

    @property
    def net_minor(self) -> int:
        return sum(r.net_minor for r in self.rates)

    @property
    def tax_minor(self) -> int:
        return sum(r.tax_minor for r in self.rates)

    @property
    def total_minor(self) -> int:
        """What the customer pays, tax included."""
        return sum(r.gross_minor for r in self.rates)


def basket_discount_for(
    lines: Sequence[PricedLine], *, percent_bp: int = 0, amount_minor: int = 0
) -> int:
    """The basket discount in minor units: a percentage of what the lines come to after their
    own discounts, or a fixed amount — never more than that."""
    after = sum(line.amount_minor for line in lines)
    if percent_bp < 0 or amount_minor < 0:
        raise ValidationError("A discount is an amount off, never negative.")
    off = round_div(after * percent_bp, BASIS_POINTS) if percent_bp else amount_minor
    if off > after:
        raise ValidationError(
            f"A basket discount of {money(off)} is more than the basket is worth "
            f"({money(after)}) — "
            "make it smaller."
        )
    return off


def price_basket(
    lines: Sequence[PricedLine], basis: PriceBasis, basket_discount_minor: int = 0
) -> BasketTotals:
    """Every line's amount, tax share and gross, and the totals per rate (see the rule)."""
    amounts = [line.amount_minor for line in lines]
    if basket_discount_minor > sum(amounts):
        raise ValidationError("The basket discount is more than the basket is worth.")
    shares = split(basket_discount_minor, amounts)
    after = [a - s for a, s in zip(amounts, shares, strict=True)]
    by_rate: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        by_rate.setdefault(line.tax_rate_bp, []).append(i)
    tax_share = [0] * len(lines)
    rates = []
    for rate in sorted(by_rate, reverse=True):
        members = by_rate[rate]
        total = sum(after[i] for i in members)
        if basis is PriceBasis.INCLUSIVE:
            tax = tax_in_gross(total, rate)
            rates.append(RateTotals(rate, total - tax, tax, total))
        else:
            tax = tax_on_net(total, rate)
            rates.append(RateTotals(rate, total, tax, total + tax))
        for i, share in zip(members, split(tax, [after[i] for i in members]), strict=True):
            tax_share[i] = share
    out = []
    for i, line in enumerate(lines):
        gross = after[i] if basis is PriceBasis.INCLUSIVE else after[i] + tax_share[i]
        out.append(
            LineTotals(
                before_discount_minor=line.before_discount_minor,
                line_discount_minor=line.discount_minor,
                basket_discount_minor=shares[i],
                amount_minor=after[i],
                tax_minor=tax_share[i],
                gross_minor=gross,
            )
        )
    return BasketTotals(basis, tuple(out), tuple(rates))


def gross_price(unit_price_minor: int, rate_bp: int, basis: PriceBasis) -> int:
    """A unit price as the customer pays it (tax included)."""
    if basis is PriceBasis.INCLUSIVE:
        return unit_price_minor
    return unit_price_minor + tax_on_net(unit_price_minor, rate_bp)


# ----------------------------------------------------------------------------- discount limits

#: The largest discount (basis points of what is discounted) each role may give on its own.
DISCOUNT_LIMIT_BP: dict[Role, int] = {
    Role.COUNTER_CLERK: 1000,  # 10 %
    Role.SUPERVISOR: 5000,  # 50 %
    Role.ADMIN: BASIS_POINTS,
}


def discount_limit_bp(roles: Sequence[Role] | frozenset[Role]) -> int:
    return max((DISCOUNT_LIMIT_BP.get(r, 0) for r in roles), default=0)


def check_discount(name: str, roles: frozenset[Role], off_minor: int, of_minor: int) -> None:
    """Refuse a discount larger than the operator's roles allow, naming the limit."""
    if off_minor <= 0:
        return
    limit = discount_limit_bp(roles)
    # off / of ≤ limit / 10000, in integers
    if off_minor * BASIS_POINTS <= of_minor * limit:
        return
    asked = off_minor * BASIS_POINTS / of_minor / 100 if of_minor else 100.0
    if limit == 0:
        raise PermissionDeniedError(
            f"{name} may not give discounts — ask a supervisor to scan their badge to approve it."
        )
    raise PermissionDeniedError(
        f"A discount of {asked:.1f}% is more than {name} may give ({limit / 100:g}%) — "
        "ask a supervisor to scan their badge to approve it."
    )
