"""Counter receipts, the cash report that closes a till session, and the carrier manifest.

Plain frozen data that printing/ lays out; every amount is an integer in the currency's minor
unit (cents), so nothing is ever lost to binary fractions.

Prices are tax-inclusive, as European shops show and print them. A line's amount is
``qty × unit_price_minor − discount_minor``; the receipt's total is the sum of its lines, exact.
The tax is then taken out of each rate's total once (not line by line)::

    tax = round_half_away_from_zero(gross × rate / (1 + rate))    net = gross − tax

so net + tax equals gross for each rate and for the receipt, to the cent, and ten lines of
0.99 at 19 % carry the same tax as one line of 9.90. Rates are in basis points (1900 = 19 %).

With a tax-exclusive price list (``prices_include_tax=False``, as business customers are shown
prices) the lines are net: each rate's tax is added to that rate's net total once,
``tax = round_half_away_from_zero(net × rate)``, and the total is net + tax. The counter's full
rule (weights, basket discounts) is in :mod:`app.domain.pricing`.

Refunds are the same arithmetic with the sign turned: a returned item is a line with a negative
quantity (and its discount negative too), a receipt whose total is negative is a refund, and the
money paid back is a negative tender.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from app.domain.cash import DrawerBalance
from app.domain.errors import ValidationError

BASIS_POINTS = 10_000


class TenderKind(StrEnum):
    CASH = "cash"
    CARD = "card"
    VOUCHER = "voucher"


def tax_in_gross(gross_minor: int, rate_bp: int) -> int:
    """The tax contained in a tax-inclusive amount, rounded half away from zero.

    Integer arithmetic only: ``gross × rate / (10000 + rate)`` with the rate in basis points.
    """
    if rate_bp == 0 or gross_minor == 0:
        return 0
    denominator = BASIS_POINTS + rate_bp
    tax = (2 * abs(gross_minor) * rate_bp + denominator) // (2 * denominator)
    return tax if gross_minor > 0 else -tax


def tax_on_net(net_minor: int, rate_bp: int) -> int:
    """The tax added to a tax-exclusive amount, rounded half away from zero."""
    if rate_bp == 0 or net_minor == 0:
        return 0
    tax = (2 * abs(net_minor) * rate_bp + BASIS_POINTS) // (2 * BASIS_POINTS)
    return tax if net_minor > 0 else -tax


def _check_currency(currency: str) -> None:
    if len(currency) != 3 or not currency.isascii() or not currency.isupper():
        raise ValidationError(f"Currency '{currency}' is not an ISO 4217 code such as EUR")


def _check_utc(at: datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise ValidationError(f"The {what} time {at.isoformat()} must be in UTC")


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One line as sold (or, with a negative ``qty``, as taken back)."""

    sku: str
    name: str
    qty: int
    unit_price_minor: int  # tax-inclusive (net on a receipt with prices_include_tax=False)
    tax_rate_bp: int  # 1900 = 19 %
    discount_minor: int = 0  # money off this line; negative on a returned line

    def __post_init__(self) -> None:
        if self.qty == 0:
            raise ValidationError(f"Line {self.sku} has a quantity of 0 — remove the line")
        if self.unit_price_minor < 0:
            raise ValidationError(f"Line {self.sku} has a negative price — use a discount")
        if not 0 <= self.tax_rate_bp < BASIS_POINTS:
            raise ValidationError(f"Line {self.sku} has a tax rate of {self.tax_rate_bp} bp")
        before = self.qty * self.unit_price_minor
        if self.discount_minor and (
            (self.discount_minor > 0) != (before > 0) or abs(self.discount_minor) > abs(before)
        ):
            raise ValidationError(
                f"The discount on line {self.sku} is more than the line is worth"
                if abs(self.discount_minor) > abs(before)
                else f"The discount on line {self.sku} has the wrong sign for its quantity"
            )

    @property
    def amount_before_discount_minor(self) -> int:
        return self.qty * self.unit_price_minor

    @property
    def amount_minor(self) -> int:
        """What the line costs the customer (negative: what they get back), tax included."""
        return self.qty * self.unit_price_minor - self.discount_minor


@dataclass(frozen=True, slots=True)
class TaxLine:
    """One tax rate's share of a receipt or a session: net + tax = gross."""

    rate_bp: int
    net_minor: int
    tax_minor: int
    gross_minor: int


def tax_lines(amounts: Iterable[tuple[int, int]], *, inclusive: bool = True) -> tuple[TaxLine, ...]:
    """Tax per rate from ``(rate_bp, amount_minor)`` pairs, highest rate first; the amounts
    are gross (tax included) or, with ``inclusive=False``, net."""
    summed: dict[int, int] = {}
    for rate, amount in amounts:
        summed[rate] = summed.get(rate, 0) + amount
    out = []
    for rate in sorted(summed, reverse=True):
        if inclusive:
            tax = tax_in_gross(summed[rate], rate)
            out.append(TaxLine(rate, summed[rate] - tax, tax, summed[rate]))
        else:
            tax = tax_on_net(summed[rate], rate)
            out.append(TaxLine(rate, summed[rate], tax, summed[rate] + tax))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Tender:
    """How (part of) a receipt was paid; negative when money was paid back."""

    kind: TenderKind
    amount_minor: int
    reference: str = ""  # card's last digits, voucher code... printed next to the kind


@dataclass(frozen=True, slots=True)
class Receipt:
    number: str
    at: datetime  # UTC
    station: str
    operator: str
    lines: tuple[ReceiptLine, ...]
    tenders: tuple[Tender, ...]
    currency: str = "EUR"
    footer: str = ""  # paragraphs separated by newlines
    prices_include_tax: bool = True  # False: the lines are net and the tax is added
    copy: bool = False  # a reprint: printed marked COPY, never the customer's original
    customer: str = ""

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        _check_utc(self.at, f"receipt {self.number}")
        if not self.number.strip():
            raise ValidationError("A receipt needs a number")
        if not self.lines:
            raise ValidationError(f"Receipt {self.number} has no lines")
        total, tendered = self.total_minor, self.tendered_minor
        if total >= 0:
            if any(t.amount_minor <= 0 for t in self.tenders):
                raise ValidationError(f"Receipt {self.number}: a sale's tenders must be positive")
            if tendered < total:
                raise ValidationError(
                    f"Receipt {self.number} is not paid in full: {tendered} of {total}"
                )
            cash = sum(t.amount_minor for t in self.tenders if t.kind is TenderKind.CASH)
            if tendered - total > cash:
                raise ValidationError(
                    f"Receipt {self.number}: change of {tendered - total} is more than the "
                    f"cash given ({cash}) — card and voucher payments give no change"
                )
        else:
            if any(t.amount_minor >= 0 for t in self.tenders):
                raise ValidationError(
                    f"Receipt {self.number}: a refund's tenders must be negative (money paid out)"
                )
            if tendered != total:
                raise ValidationError(
                    f"Receipt {self.number}: refund of {-total} paid back as {-tendered}"
                )

    @property
    def subtotal_minor(self) -> int:
        """The lines before discounts (net on a tax-exclusive receipt)."""
        return sum(line.amount_before_discount_minor for line in self.lines)

    @property
    def lines_minor(self) -> int:
        """The lines after discounts: the total, or the net total on a tax-exclusive receipt."""
        return sum(line.amount_minor for line in self.lines)

    @property
    def discount_minor(self) -> int:
        return sum(line.discount_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        """What the customer pays, tax included (negative: what they get back)."""
        if self.prices_include_tax:
            return self.lines_minor
        return self.lines_minor + self.tax_minor

    @property
    def gross_minor(self) -> int:
        return self.total_minor

    @property
    def taxes(self) -> tuple[TaxLine, ...]:
        """Tax per rate, highest rate first; see the module docstring for the rounding."""
        return tax_lines(
            ((line.tax_rate_bp, line.amount_minor) for line in self.lines),
            inclusive=self.prices_include_tax,
        )

    @property
    def tax_minor(self) -> int:
        return sum(t.tax_minor for t in self.taxes)

    @property
    def net_minor(self) -> int:
        return sum(t.net_minor for t in self.taxes)

    @property
    def tendered_minor(self) -> int:
        return sum(t.amount_minor for t in self.tenders)

    @property
    def change_minor(self) -> int:
        """Cash handed back on a sale; 0 on a refund."""
        return max(0, self.tendered_minor - self.total_minor) if self.total_minor >= 0 else 0

    @property
    def is_refund(self) -> bool:
        return self.total_minor < 0

    @property
    def item_count(self) -> int:
        return sum(line.qty for line in self.lines)


# ----------------------------------------------------------------------------- cash report


@dataclass(frozen=True, slots=True)
class TenderTotal:
    """Money taken (or paid back) by one kind of tender over a session."""

    kind: TenderKind
    count: int  # receipts
    amount_minor: int  # positive; a cash sale's change is already taken off


@dataclass(frozen=True, slots=True)
class CashReport:
    """The end of one till session: what was taken, what should be in the drawer, what is."""

    station: str
    operator: str
    opened_at: datetime  # UTC
    closed_at: datetime  # UTC
    opening_float_minor: int
    sales: tuple[TenderTotal, ...]
    refunds: tuple[TenderTotal, ...]
    counted_cash_minor: int | None  # None: the drawer was not counted
    currency: str = "EUR"
    paid_in_minor: int = 0  # cash put into the drawer during the session (not sales)
    paid_out_minor: int = 0  # cash taken out (supplier paid from the till, bank drop)
    receipts: int = 0
    first_receipt: str = ""
    last_receipt: str = ""
    taxes: tuple[TaxLine, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        _check_utc(self.opened_at, "session opening")
        _check_utc(self.closed_at, "session closing")
        if self.closed_at < self.opened_at:
            raise ValidationError("The session closes before it opens")
        if min(self.opening_float_minor, self.paid_in_minor, self.paid_out_minor) < 0:
            raise ValidationError("Float, paid in and paid out are amounts, never negative")

    @classmethod
    def from_receipts(
        cls,
        receipts: Iterable[Receipt],
        *,
        station: str,
        operator: str,
        opened_at: datetime,
        closed_at: datetime,
        opening_float_minor: int,
        counted_cash_minor: int | None,
        currency: str = "EUR",
        paid_in_minor: int = 0,
        paid_out_minor: int = 0,
    ) -> CashReport:
        """Totals of a session's receipts (in the order they were made)."""
        sales: dict[TenderKind, list[int]] = {}
        refunds: dict[TenderKind, list[int]] = {}
        taxed: list[tuple[int, int]] = []
        numbers: list[str] = []
        for receipt in receipts:
            if receipt.currency != currency:
                raise ValidationError(
                    f"Receipt {receipt.number} is in {receipt.currency}, the session in {currency}"
                )
            numbers.append(receipt.number)
            # Gross per rate, whichever way the receipt's prices were listed.
            taxed += [(tax.rate_bp, tax.gross_minor) for tax in receipt.taxes]
            book = refunds if receipt.is_refund else sales
            change = receipt.change_minor
            for tender in receipt.tenders:
                amount = abs(tender.amount_minor)
                if tender.kind is TenderKind.CASH and change:
                    taken = min(change, amount)
                    amount -= taken
                    change -= taken
                count_amount = book.setdefault(tender.kind, [0, 0])
                count_amount[0] += 1
                count_amount[1] += amount
        order = list(TenderKind)
        return cls(
            station=station,
            operator=operator,
            opened_at=opened_at,
            closed_at=closed_at,
            opening_float_minor=opening_float_minor,
            sales=tuple(TenderTotal(k, *sales[k]) for k in order if k in sales),
            refunds=tuple(TenderTotal(k, *refunds[k]) for k in order if k in refunds),
            counted_cash_minor=counted_cash_minor,
            currency=currency,
            paid_in_minor=paid_in_minor,
            paid_out_minor=paid_out_minor,
            receipts=len(numbers),
            first_receipt=numbers[0] if numbers else "",
            last_receipt=numbers[-1] if numbers else "",
            taxes=tax_lines(taxed),
        )

    @property
    def sales_minor(self) -> int:
        return sum(t.amount_minor for t in self.sales)

    @property
    def refunds_minor(self) -> int:
        return sum(t.amount_minor for t in self.refunds)

    @property
    def net_takings_minor(self) -> int:
        return self.sales_minor - self.refunds_minor

    def _by_kind(self, totals: tuple[TenderTotal, ...], kind: TenderKind) -> int:
        return sum(t.amount_minor for t in totals if t.kind is kind)

    @property
    def cash_sales_minor(self) -> int:
        return self._by_kind(self.sales, TenderKind.CASH)

    @property
    def cash_refunds_minor(self) -> int:
        return self._by_kind(self.refunds, TenderKind.CASH)

    @property
    def expected_cash_minor(self) -> int:
        """What the drawer should hold: float + cash sales − cash refunds + paid in − paid out."""
        return DrawerBalance(
            self.opening_float_minor,
            self.cash_sales_minor,
            self.cash_refunds_minor,
            self.paid_in_minor,
            self.paid_out_minor,
        ).expected_minor

    @property
    def difference_minor(self) -> int | None:
        """Counted − expected: negative when the drawer is short, None when not counted."""
        if self.counted_cash_minor is None:
            return None
        return self.counted_cash_minor - self.expected_cash_minor


# ----------------------------------------------------------------------------- manifest


@dataclass(frozen=True, slots=True)
class ManifestPackage:
    order_number: str
    tracking_number: str
    sscc: str  # 18 digits, or "" when the package has no GS1 label
    weight_g: int
    service: str  # the carrier's product: "Paket", "Express 12:00"...

    def __post_init__(self) -> None:
        if self.weight_g < 0:
            raise ValidationError(f"Package {self.tracking_number} has a negative weight")


@dataclass(frozen=True, slots=True)
class ServiceTotal:
    service: str
    packages: int
    weight_g: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """The packages one carrier collects on one day; the driver signs for them."""

    carrier: str
    date: date
    packages: tuple[ManifestPackage, ...]
    account: str = ""  # the shipper's account number with the carrier
    number: str = ""  # the manifest's own reference, if the carrier gives one
    station: str = ""

    @property
    def package_count(self) -> int:
        return len(self.packages)

    @property
    def total_weight_g(self) -> int:
        return sum(p.weight_g for p in self.packages)

    @property
    def by_service(self) -> tuple[ServiceTotal, ...]:
        """Packages and weight per service, in the order the services first appear."""
        totals: dict[str, list[int]] = {}
        for package in self.packages:
            entry = totals.setdefault(package.service, [0, 0])
            entry[0] += 1
            entry[1] += package.weight_g
        return tuple(ServiceTotal(s, n, w) for s, (n, w) in totals.items())
