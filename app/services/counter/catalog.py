"""What the counter sells: the price list's settings, a product's price and tax rate, and
finding a product by name or SKU when it has no barcode to scan.

The counter's settings live in the company's profile (``profile["counter"]``), so every till
of the company prices alike: ``prices_include_tax`` (default true), ``standard_tax_rate_bp``
(default 1900: a product without its own rate gets it), ``currency`` and ``receipt_footer``.
Prices and stock are the station's copy, as of the last sync.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, or_, select

from app.domain.errors import NotFoundError, ValidationError
from app.domain.pricing import PriceBasis
from app.services.counter.views import ProductHit
from app.store.fastexec import FastExecutor
from app.store.models import Company, Product, StockMovement
from app.store.uow import UnitOfWork

_PRODUCT: Table = Product.__table__  # type: ignore[assignment]
_PRICE = select(
    _PRODUCT.c.sku,
    _PRODUCT.c.name,
    _PRODUCT.c.price_minor,
    _PRODUCT.c.tax_rate_bp,
    _PRODUCT.c.home_location_id,
).where(_PRODUCT.c.id == bindparam("product_id"))
SEARCH_LIMIT = 30
DEFAULT_FOOTER = "Thank you for shopping with us!\nKeep this receipt for returns."


@dataclass(frozen=True, slots=True)
class CounterSettings:
    basis: PriceBasis = PriceBasis.INCLUSIVE
    standard_rate_bp: int = 1900
    currency: str = "EUR"
    footer: str = DEFAULT_FOOTER

    @classmethod
    def from_profile(cls, profile: dict[str, Any] | None) -> CounterSettings:
        raw = dict((profile or {}).get("counter", {}))
        inclusive = raw.get("prices_include_tax", True)
        return cls(
            basis=PriceBasis.INCLUSIVE if inclusive else PriceBasis.EXCLUSIVE,
            standard_rate_bp=int(raw.get("standard_tax_rate_bp", 1900)),
            currency=str(raw.get("currency", "EUR")),
            footer=str(raw.get("receipt_footer", DEFAULT_FOOTER)),
        )


def settings(uow: UnitOfWork) -> CounterSettings:
    profile = uow.session.scalar(select(Company.profile).limit(1))
    return CounterSettings.from_profile(profile)


def save_settings(uow: UnitOfWork, **changes: Any) -> CounterSettings:
    """Change the company's counter settings (prices_include_tax, standard_tax_rate_bp...)."""
    company = uow.session.scalar(select(Company).limit(1))
    if company is None:
        raise NotFoundError("There is no company set up yet — load the company data first.")
    profile = dict(company.profile)
    profile["counter"] = {**dict(profile.get("counter", {})), **changes}
    company.profile = profile
    return CounterSettings.from_profile(profile)


@dataclass(frozen=True, slots=True)
class Priced:
    sku: str
    name: str
    price_minor: int
    tax_rate_bp: int
    location_id: uuid.UUID | None


def priced(fx: FastExecutor, product_id: uuid.UUID, standard_rate_bp: int) -> Priced:
    row = fx.first(_PRICE, {"product_id": product_id})
    if row is None:
        raise NotFoundError("That product is no longer in this station's catalogue — sync first.")
    rate = standard_rate_bp if row[3] is None else int(row[3])
    return Priced(row[0], row[1], int(row[2]), rate, row[4])


def set_tax_rate(uow: UnitOfWork, product_id: uuid.UUID, rate_bp: int | None) -> None:
    if rate_bp is not None and not 0 <= rate_bp < 10_000:
        raise ValidationError(f"A tax rate of {rate_bp / 100}% is not possible.")
    product = uow.session.get(Product, product_id)
    if product is None:
        raise NotFoundError("That product does not exist.")
    product.tax_rate_bp = rate_bp


def search_products(uow: UnitOfWork, text: str, limit: int = SEARCH_LIMIT) -> list[ProductHit]:
    """Products whose SKU starts with, or whose name contains, ``text`` (SKU matches first)."""
    text = text.strip()
    if len(text) < 2:
        raise ValidationError("Type at least two letters or digits of the name or SKU.")
    rate = settings(uow).standard_rate_bp
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    s = uow.session
    by_sku = list(
        s.execute(
            select(Product)
            .where(func.upper(Product.sku).like(like.upper() + "%", escape="\\"))
            .order_by(Product.sku)
            .limit(limit)
        ).scalars()
    )
    seen = {p.id for p in by_sku}
    rest = limit - len(by_sku)
    by_name: list[Product] = []
    if rest > 0:
        by_name = [
            p
            for p in s.execute(
                select(Product)
                .where(
                    or_(
                        Product.name.ilike("%" + like + "%", escape="\\"),
                        Product.gtin == (text.zfill(14) if text.isdigit() else ""),
                    )
                )
                .limit(rest + len(seen))
            ).scalars()
            if p.id not in seen
        ][:rest]
    hits = by_sku + by_name
    stock = on_hand(uow, [p.id for p in hits])
    return [
        ProductHit(
            p.id,
            p.sku,
            p.name,
            (p.gtin or "").lstrip("0"),
            p.price_minor,
            rate if p.tax_rate_bp is None else p.tax_rate_bp,
            stock.get(p.id, 0),
        )
        for p in hits
    ]


def on_hand(uow: UnitOfWork, product_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Units on hand per product in this station's copy of the stock ledger."""
    if not product_ids:
        return {}
    rows = uow.session.execute(
        select(StockMovement.product_id, func.coalesce(func.sum(StockMovement.qty), 0))
        .where(StockMovement.product_id.in_(product_ids))
        .group_by(StockMovement.product_id)
    )
    return {pid: int(qty) for pid, qty in rows}
