"""Ringing up a basket: scan or pick items, change quantities, void lines, discounts within
the operator's limits, the customer. The basket lives in the station's database from the first
item, so a station that stops mid-sale finds it again.

The scan path (:func:`scan_item`) is module-level Core statements run by the fast executor:
normalise, one barcode look-up, one product read, one line write, the scan event, the basket
read back; one commit.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import Table, bindparam, func, insert, select, update

from app.clock import utcnow
from app.domain.errors import (
    NotFoundError,
    ScanRejectedError,
    UnknownBarcodeError,
    ValidationError,
)
from app.domain.money import money
from app.domain.pricing import (
    MAX_QTY,
    BasketTotals,
    PriceBasis,
    PricedLine,
    basket_discount_for,
    price_basket,
)
from app.domain.roles import Permission
from app.ids import new_id
from app.services import auth
from app.services.counter import catalog, sessions
from app.services.counter.scale_codes import Measure, read_variable_measure
from app.services.counter.views import Basket, BasketLine, Payment
from app.services.resolve import Kind, Resolved, resolve
from app.store.fastexec import FastExecutor
from app.store.models import (
    Barcode,
    CounterSale,
    CounterSaleLine,
    CounterTender,
    Customer,
    ScanEvent,
)
from app.store.uow import UnitOfWork

if TYPE_CHECKING:
    from app.scanning.normalize import Scan

WORKFLOW = "counter"
_SALE: Table = CounterSale.__table__  # type: ignore[assignment]
_LINE: Table = CounterSaleLine.__table__  # type: ignore[assignment]
_TENDER: Table = CounterTender.__table__  # type: ignore[assignment]
_SCAN: Table = ScanEvent.__table__  # type: ignore[assignment]
_BARCODE: Table = Barcode.__table__  # type: ignore[assignment]
_CUSTOMER: Table = Customer.__table__  # type: ignore[assignment]

_SALE_ROW = select(
    _SALE.c.status,
    _SALE.c.basis,
    _SALE.c.currency,
    _SALE.c.basket_discount_bp,
    _SALE.c.basket_discount_minor,
    _SALE.c.number,
    _SALE.c.change_minor,
    _SALE.c.customer_id,
    _SALE.c.kind,
).where(_SALE.c.id == bindparam("sale_id"))
SALE_LINES = (
    select(
        _LINE.c.id,
        _LINE.c.line_no,
        _LINE.c.product_id,
        _LINE.c.sku,
        _LINE.c.name,
        _LINE.c.qty,
        _LINE.c.grams,
        _LINE.c.unit_price_minor,
        _LINE.c.price_minor,
        _LINE.c.tax_rate_bp,
        _LINE.c.discount_minor,
        _LINE.c.voided,
    )
    .where(_LINE.c.sale_id == bindparam("sale_id"))
    .order_by(_LINE.c.line_no)
)
_TENDERS = (
    select(_TENDER.c.kind, _TENDER.c.amount_minor, _TENDER.c.reference)
    .where(_TENDER.c.sale_id == bindparam("sale_id"))
    .order_by(_TENDER.c.seq)
)
_CUSTOMER_NAME = select(_CUSTOMER.c.name).where(_CUSTOMER.c.id == bindparam("customer_id"))
_SAME_LINE = (
    select(_LINE.c.id, _LINE.c.qty)
    .where(
        _LINE.c.sale_id == bindparam("sale_id"),
        _LINE.c.product_id == bindparam("product_id"),
        _LINE.c.voided == bindparam("voided"),
        _LINE.c.grams.is_(None),
        _LINE.c.price_minor.is_(None),
        _LINE.c.discount_minor == 0,
    )
    .limit(1)
)
_LAST_LINE_NO = select(func.coalesce(func.max(_LINE.c.line_no), 0)).where(
    _LINE.c.sale_id == bindparam("sale_id")
)
_ADD_QTY = (
    update(_LINE)
    .where(_LINE.c.id == bindparam("line_id"))
    .values(qty=_LINE.c.qty + bindparam("add"))
)
_INSERT_LINE = insert(_LINE)
_INSERT_SALE = insert(_SALE)
_INSERT_SCAN = insert(_SCAN)
_HAS_TENDER = select(_TENDER.c.id).where(_TENDER.c.sale_id == bindparam("sale_id")).limit(1)
_BARCODE_KIND = select(_BARCODE.c.kind, _BARCODE.c.entity_id, _BARCODE.c.units).where(
    _BARCODE.c.code == bindparam("code")
)


# ----------------------------------------------------------------------------- reading


def read_basket(fx: FastExecutor, sale_id: uuid.UUID) -> Basket:
    """The sale as the screen shows it, priced by the rule in app.domain.pricing."""
    row = fx.first(_SALE_ROW, {"sale_id": sale_id})
    if row is None:
        raise NotFoundError("That sale no longer exists on this till.")
    status, basis, currency, disc_bp, disc_minor, number, change, customer_id, _kind = row
    rows = fx.rows(SALE_LINES, {"sale_id": sale_id})
    live = [r for r in rows if not r[11]]
    priced = [priced_line(r) for r in live]
    totals = price_basket(priced, PriceBasis(basis), basket_off(priced, disc_bp, disc_minor))
    by_id = dict(zip((r[0] for r in live), totals.lines, strict=True))
    lines = []
    for r in rows:
        t = by_id.get(r[0])
        lines.append(
            BasketLine(
                id=r[0],
                line_no=r[1],
                product_id=r[2],
                sku=r[3],
                name=r[4],
                qty=r[5],
                grams=r[6],
                unit_price_minor=r[7] if r[8] is None else r[8],
                tax_rate_bp=r[9],
                discount_minor=t.discount_minor if t else r[10],
                amount_minor=t.amount_minor if t else 0,
                gross_minor=t.gross_minor if t else 0,
                voided=bool(r[11]),
                embedded_price=r[8] is not None,
            )
        )
    payments = tuple(Payment(k, a, ref) for k, a, ref in fx.rows(_TENDERS, {"sale_id": sale_id}))
    customer = fx.scalar(_CUSTOMER_NAME, {"customer_id": customer_id}) if customer_id else ""
    return Basket(
        id=sale_id,
        status=status,
        basis=basis,
        currency=currency,
        lines=tuple(lines),
        subtotal_minor=totals.subtotal_minor,
        discount_minor=totals.discount_minor,
        tax_minor=totals.tax_minor,
        total_minor=totals.total_minor,
        payments=payments,
        customer=customer or "",
        customer_id=customer_id,
        number=number,
        change_minor=change,
        basket_discount_bp=disc_bp,
        basket_discount_minor=disc_minor,
    )


def basket_off(priced: list[PricedLine], percent_bp: int, amount_minor: int) -> int:
    """The basket discount now: its percentage of the lines, or its amount (never more than
    the lines are worth, after a line was voided)."""
    after = sum(p.amount_minor for p in priced)
    if percent_bp:
        return basket_discount_for(priced, percent_bp=percent_bp)
    return min(amount_minor, after)


def priced_line(r: tuple[object, ...]) -> PricedLine:
    return PricedLine(
        qty=int(r[5]),  # type: ignore[call-overload]
        unit_price_minor=int(r[7]),  # type: ignore[call-overload]
        tax_rate_bp=int(r[9]),  # type: ignore[call-overload]
        discount_minor=int(r[10]),  # type: ignore[call-overload]
        grams=None if r[6] is None else int(r[6]),  # type: ignore[call-overload]
        price_minor=None if r[8] is None else int(r[8]),  # type: ignore[call-overload]
    )


def totals_of(fx: FastExecutor, sale_id: uuid.UUID) -> tuple[Basket, BasketTotals, list[uuid.UUID]]:
    """The basket, its totals and the ids of its live lines in the totals' order."""
    basket = read_basket(fx, sale_id)
    live = [r for r in fx.rows(SALE_LINES, {"sale_id": sale_id}) if not r[11]]
    priced = [priced_line(r) for r in live]
    off = basket_off(priced, basket.basket_discount_bp, basket.basket_discount_minor)
    totals = price_basket(priced, PriceBasis(basket.basis), off)
    return basket, totals, [r[0] for r in live]


def get_basket(uow: UnitOfWork, sale_id: uuid.UUID) -> Basket:
    return read_basket(FastExecutor(uow.session.connection()), sale_id)


# ----------------------------------------------------------------------------- starting


def start_sale(uow: UnitOfWork, settings: catalog.CounterSettings | None = None) -> uuid.UUID:
    """A new, empty sale on this till (the till must be open)."""
    auth.check(uow, Permission.SELL)
    fx = FastExecutor(uow.session.connection())
    sessions.require_open(uow)
    conf = settings or catalog.settings(uow)
    sale_id = new_id()
    fx.run(
        _INSERT_SALE,
        {
            "id": sale_id,
            "kind": "sale",
            "number": None,
            "station_id": uow.actor.station_id,
            "session_id": None,
            "operator_id": uow.actor.operator_id,
            "customer_id": None,
            "status": "open",
            "basis": conf.basis.value,
            "currency": conf.currency,
            "basket_discount_bp": 0,
            "basket_discount_minor": 0,
            "total_minor": 0,
            "tax_minor": 0,
            "change_minor": 0,
            "original_sale_id": None,
            "note": "",
            "started_at": utcnow(),
            "completed_at": None,
        },
    )
    return sale_id


def open_sale(fx: FastExecutor, sale_id: uuid.UUID) -> None:
    """Refuse changes to a sale that is not being rung up, or that has payments taken."""
    row = fx.first(_SALE_ROW, {"sale_id": sale_id})
    if row is None:
        raise NotFoundError("That sale no longer exists on this till — start a new one.")
    if row[0] != "open":
        raise ValidationError(f"That sale is {row[0]} — start a new sale to sell more.")
    if fx.scalar(_HAS_TENDER, {"sale_id": sale_id}) is not None:
        raise ValidationError(
            "A payment was taken already — take the payments off before changing the basket."
        )


# ----------------------------------------------------------------------------- scanning


def scan_item(
    uow: UnitOfWork,
    sale_id: uuid.UUID,
    scan: Scan,
    qty: int = 1,
    settings: catalog.CounterSettings | None = None,
) -> tuple[Basket, uuid.UUID]:
    """Add what the scan names to the basket; returns the basket and the line it changed."""
    fx = FastExecutor(uow.session.connection())
    open_sale(fx, sale_id)
    found = resolve(uow.session, scan)
    grams = price = None
    # A scale label read by the station's layouts ([codes.scale]) or a GS1 net weight.
    if scan.price_minor is not None:
        price = scan.price_minor
    elif scan.weight_kg is not None:
        grams = int(scan.weight_kg * 1000)
    if found is None:
        measured = read_variable_measure(scan.gtin)
        if measured is not None:
            row = fx.first(_BARCODE_KIND, {"code": measured.item_gtin})
            if row is not None and row[0] == Kind.PRODUCT.value:
                found = Resolved(Kind.PRODUCT, row[1], 1)
                if measured.measure is Measure.WEIGHT:
                    grams = measured.value
                else:
                    price = measured.value
    if found is None:
        raise UnknownBarcodeError(
            f"{scan.text} is not a product this till knows — scan it again, or find the item "
            "by name or SKU (F3)."
        )
    if found.kind is not Kind.PRODUCT:
        raise ScanRejectedError(
            f"{scan.text} is a {found.kind.value}, not a product — scan the item's barcode."
        )
    units = found.units * (scan.count or 1) * qty
    line_id = _add(fx, uow, sale_id, found.entity_id, units, grams, price, settings)
    _record_scan(fx, uow, scan.raw, found, sale_id, "accepted", "")
    return read_basket(fx, sale_id), line_id


def add_product(
    uow: UnitOfWork, sale_id: uuid.UUID, product_id: uuid.UUID, qty: int = 1
) -> tuple[Basket, uuid.UUID]:
    """Add a product picked from the search (no barcode scanned)."""
    fx = FastExecutor(uow.session.connection())
    open_sale(fx, sale_id)
    line_id = _add(fx, uow, sale_id, product_id, qty, None, None, None)
    return read_basket(fx, sale_id), line_id


def _add(
    fx: FastExecutor,
    uow: UnitOfWork,
    sale_id: uuid.UUID,
    product_id: uuid.UUID,
    units: int,
    grams: int | None,
    price: int | None,
    settings: catalog.CounterSettings | None,
) -> uuid.UUID:
    if not 1 <= units <= MAX_QTY:
        raise ValidationError(f"A quantity of {units} is not possible — 1 to {MAX_QTY}.")
    conf = settings or catalog.settings(uow)
    item = catalog.priced(fx, product_id, conf.standard_rate_bp)
    if grams is None and price is None:
        same = fx.first(_SAME_LINE, {"sale_id": sale_id, "product_id": product_id, "voided": False})
        if same is not None:
            if same[1] + units > MAX_QTY:
                raise ValidationError(f"That makes more than {MAX_QTY} of {item.sku} — check.")
            fx.run(_ADD_QTY, {"line_id": same[0], "add": units})
            return uuid.UUID(str(same[0]))
    line_id = new_id()
    PricedLine(units, item.price_minor, item.tax_rate_bp, grams=grams, price_minor=price)
    fx.run(
        _INSERT_LINE,
        {
            "id": line_id,
            "sale_id": sale_id,
            "line_no": int(fx.scalar(_LAST_LINE_NO, {"sale_id": sale_id})) + 1,
            "product_id": product_id,
            "sku": item.sku,
            "name": item.name,
            "qty": units,
            "grams": grams,
            "unit_price_minor": item.price_minor,
            "price_minor": price,
            "tax_rate_bp": item.tax_rate_bp,
            "discount_minor": 0,
            "discount_approved_by": None,
            "voided": False,
            "basket_discount_minor": 0,
            "amount_minor": 0,
            "tax_minor": 0,
            "gross_minor": 0,
            "returned_qty": 0,
            "refunded_minor": 0,
            "original_line_id": None,
            "disposition": "",
        },
    )
    return line_id


def _record_scan(
    fx: FastExecutor,
    uow: UnitOfWork,
    raw: str,
    found: Resolved | None,
    sale_id: uuid.UUID | None,
    outcome: str,
    message: str,
) -> None:
    fx.run(
        _INSERT_SCAN,
        {
            "id": new_id(),
            "at": utcnow(),
            "station_id": uow.actor.station_id,
            "operator_id": uow.actor.operator_id,
            "workflow": WORKFLOW,
            "raw": raw[:300],
            "resolved_kind": found.kind.value if found else None,
            "entity_id": found.entity_id if found else None,
            "order_id": sale_id,
            "outcome": outcome,
            "message": message,
        },
    )


def record_rejected_scan(
    uow: UnitOfWork, raw: str, sale_id: uuid.UUID | None, outcome: str, reason: str
) -> None:
    """Keep a scan that added nothing: every scan is a fact a supervisor can review."""
    fx = FastExecutor(uow.session.connection())
    _record_scan(fx, uow, raw, None, sale_id, outcome, reason)
    uow.record(
        "scan.rejected",
        {
            "workflow": WORKFLOW,
            "raw": raw[:300],
            "sale_id": str(sale_id) if sale_id else None,
            "outcome": outcome,
            "reason": reason,
        },
        entity="counter_sale" if sale_id else "scan",
        entity_id=sale_id,
    )


def describe_total(basket: Basket) -> str:
    return money(basket.total_minor, basket.currency)
