"""The counter's use cases on a real station database (SQLite, and PostgreSQL for a sale):
selling, paying, the outbox operation a sale leaves for the hub, returns, cash sessions, and
every refusal in words a clerk can act on. Receipts go through the print queue to a raw printer
port and are read back as ESC/POS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from counter_printer import RawPrinter
from escpos_stream import Barcode, Cut, Kick, parse
from sqlalchemy import func, insert, select

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig, StationConfig
from app.domain.cash import CashMoveKind
from app.domain.errors import (
    PermissionDeniedError,
    UnknownBarcodeError,
    ValidationError,
    WaystationError,
)
from app.domain.receipts import TenderKind
from app.services import auth
from app.services.counter import catalog, checkout, documents, returns, sessions, store_credit
from app.services.counter.returns import Disposition, RefundTo, ReturnItem
from app.services.counter.till import Till
from app.services.demo import create_demo_data
from app.store.models import Barcode as BarcodeRow
from app.store.models import OutboxOp, Product, StockMovement
from printing.queue import print_pending

CLERK, SUPERVISOR = "OP-1004", "OP-9001"


@pytest.fixture
def printer() -> Iterator[RawPrinter]:
    p = RawPrinter()
    yield p
    p.close()


def _till_config(url: str, printer: RawPrinter) -> StationConfig:
    raw = PrinterConfig(kind="socket", host="127.0.0.1", port=printer.port, paper="80mm")
    return StationConfig(
        station_name="TILL-2",
        database_url=url,
        sounds=False,
        printers={"receipt": raw, "cash_report": raw},
    )


@pytest.fixture
def shop(station: StationContext, printer: RawPrinter) -> Iterator[StationContext]:
    """The demo station renamed as a till, its receipts going to the raw printer."""
    ctx = bootstrap(_till_config(str(station.engine.url), printer))
    yield ctx
    ctx.dispose()


def _clerk(ctx: StationContext, badge: str = CLERK) -> Till:
    with ctx.uow() as uow:
        op = auth.sign_in_badge(uow, badge)
    return Till(ctx.uow, op)


def _products(ctx: StationContext, n: int) -> list[Product]:
    with ctx.sessions() as s:
        return list(
            s.scalars(select(Product).where(Product.track_lot.is_(False)).order_by(Product.sku))
        )[:n]


def _code(p: Product) -> str:
    assert p.gtin
    return p.gtin[1:]


def _open(till: Till) -> None:
    till.start()
    till.open_session({5000: 2, 1000: 5})


def _ops(ctx: StationContext, kind: str) -> list[dict[str, Any]]:
    with ctx.sessions() as s:
        return [
            op.payload
            for op in s.scalars(
                select(OutboxOp).where(OutboxOp.kind == kind).order_by(OutboxOp.seq)
            )
        ]


def test_a_sale_leaves_everything_the_hub_needs(shop: StationContext) -> None:
    till = _clerk(shop)
    _open(till)
    a, b = _products(shop, 2)
    till.scan(_code(a))
    till.scan(_code(a))
    result = till.scan(_code(b))
    assert result.ok, result.message
    basket = result.basket
    assert basket is not None
    assert [x.qty for x in basket.lines] == [2, 1]
    till.pay(TenderKind.CARD, 1000, "A12345")
    done = till.pay(TenderKind.CASH, basket.total_minor)  # more than due: change
    assert done.due_minor == 0
    completed = till.complete()
    assert completed.number == "TILL-2-000001"
    assert completed.change_minor == 1000
    [payload] = _ops(shop, "counter.sale_completed")
    assert payload["receipt_number"] == "TILL-2-000001"
    assert payload["total_minor"] == basket.total_minor
    assert [line["product_id"] for line in payload["lines"]] == [str(a.id), str(b.id)]
    assert sum(line["gross_minor"] for line in payload["lines"]) == basket.total_minor
    assert sum(t["kept_minor"] for t in payload["tenders"]) == basket.total_minor
    assert payload["change_minor"] == 1000
    moves = payload["stock_movements"]
    assert [(m["product_id"], m["qty"], m["reason"]) for m in moves] == [
        (str(a.id), -2, "sale"),
        (str(b.id), -1, "sale"),
    ]
    with shop.sessions() as s:  # the same movements are in the station's ledger
        ids = {uuid.UUID(m["movement_id"]) for m in moves}
        assert s.scalar(select(func.count()).where(StockMovement.id.in_(ids))) == 2


def test_receipt_numbers_run_per_till_and_never_repeat(shop: StationContext) -> None:
    till = _clerk(shop)
    _open(till)
    [p] = _products(shop, 1)
    numbers = []
    for _ in range(3):
        till.scan(_code(p))
        till.pay(TenderKind.CASH, 100_000)
        numbers.append(till.complete().number)
    assert numbers == ["TILL-2-000001", "TILL-2-000002", "TILL-2-000003"]


def test_bad_inputs_say_what_happened_and_what_to_do(shop: StationContext) -> None:
    till = _clerk(shop)
    till.start()
    [p] = _products(shop, 1)
    closed = till.scan(_code(p))
    assert not closed.ok
    assert "No cash session is open" in closed.message
    till.open_session({1000: 1})
    unknown = till.scan("4006381333931")  # a real GTIN this shop does not sell
    assert not unknown.ok
    assert "4006381333931 is not a product this till knows" in unknown.message
    assert "F3" in unknown.message
    shapeless = till.scan("ZZ-NOT-A-CODE-42")  # no GTIN, and none of the company's own codes
    assert not shapeless.ok
    assert "ZZ-NOT-A-CODE-42 is not a product number (GTIN)" in shapeless.message
    bad_digit = till.scan("4006381333932")
    assert "wrong check digit" in bad_digit.message
    till.scan(_code(p))
    with pytest.raises(ValidationError, match="still due"):
        till.complete()
    with pytest.raises(ValidationError, match="approval code"):
        till.pay(TenderKind.CARD, 100)
    with pytest.raises(PermissionDeniedError, match="ask a supervisor to scan their badge"):
        till.basket_discount(percent_bp=2500)
    with pytest.raises(WaystationError, match="not a store credit or gift card"):
        till.pay(TenderKind.VOUCHER, 100, "GC-NOPE")
    with pytest.raises(ValidationError, match="void the line to remove it"):
        till.set_qty(till.scan(_code(p)).line_id or uuid.uuid4(), 0)
    # The packer is no counter clerk.
    with shop.uow() as uow:
        packer = auth.sign_in_badge(uow, "OP-1001")
    with shop.uow(packer) as uow, pytest.raises(PermissionDeniedError, match="sell at the counter"):
        checkout.add_payment(uow, till.sale_id or uuid.uuid4(), TenderKind.CASH, 100)
    # Every rejected scan is kept, with its outcome.
    assert len(_ops(shop, "scan.rejected")) == 4


def test_a_supervisor_approves_a_discount_over_the_clerks_limit(shop: StationContext) -> None:
    till = _clerk(shop)
    _open(till)
    [p] = _products(shop, 1)
    line = till.scan(_code(p)).line_id
    assert line is not None
    basket = till.line_discount(line, percent_bp=1000)  # 10 %: the clerk's own limit
    assert basket.lines[0].discount_minor == round(p.price_minor / 10)
    with pytest.raises(PermissionDeniedError, match="more than Chris Counter may give"):
        till.line_discount(line, percent_bp=3000)
    basket = till.line_discount(line, percent_bp=3000, approver_badge=SUPERVISOR)
    assert basket.total_minor == p.price_minor - round(p.price_minor * 3 / 10)


def test_tax_exclusive_prices_add_the_tax_per_rate(shop: StationContext) -> None:
    with shop.uow() as uow:
        catalog.save_settings(uow, prices_include_tax=False)
    a, b = _products(shop, 2)
    with shop.uow() as uow:
        catalog.set_tax_rate(uow, b.id, 700)
    till = _clerk(shop)
    _open(till)
    till.scan(_code(a))
    basket = till.scan(_code(b)).basket
    assert basket is not None
    assert basket.basis == "exclusive"
    net = a.price_minor + b.price_minor
    tax = round(a.price_minor * 19 / 100 + 1e-9) + round(b.price_minor * 7 / 100 + 1e-9)
    assert basket.total_minor == net + basket.tax_minor
    assert abs(basket.tax_minor - tax) <= 1
    till.pay(TenderKind.CASH, basket.total_minor)
    done = till.complete()
    with shop.uow() as uow:
        receipt = documents.receipt_for(uow, done.basket.id)
    assert not receipt.prices_include_tax
    assert receipt.total_minor == basket.total_minor
    assert receipt.net_minor == net


def test_weighed_and_price_embedded_labels(shop: StationContext) -> None:
    """Scale labels as the station's default layouts read them: 28 weight, 22 price."""
    cheese, olives = _products(shop, 2)
    with shop.engine.begin() as conn:
        conn.execute(
            insert(BarcodeRow),
            [  # the items' own codes: the labels with their values zeroed
                {"code": "02812340000002", "kind": "product", "entity_id": cheese.id, "units": 1},
                {"code": "02247110000003", "kind": "product", "entity_id": olives.id, "units": 1},
            ],
        )
    till = _clerk(shop)
    _open(till)
    weighed = till.scan("2812345012550")  # PLU 1234, 1.255 kg
    assert weighed.ok, weighed.message
    priced = till.scan("2247118004997")  # PLU 4711, € 4.99 printed by the scale
    assert priced.ok, priced.message
    basket = priced.basket
    assert basket is not None
    cheese_line, olive_line = basket.lines
    assert cheese_line.grams == 1255
    assert cheese_line.amount_minor == round(cheese.price_minor * 1.255 + 1e-9)
    assert olive_line.amount_minor == 499
    with pytest.raises(ValidationError, match="was weighed"):
        till.set_qty(cheese_line.id, 2)


def test_suspend_and_resume_a_sale_and_void_another(shop: StationContext) -> None:
    till = _clerk(shop)
    _open(till)
    a, b = _products(shop, 2)
    till.scan(_code(a))
    till.suspend("red coat")
    assert till.sale_id is None
    [held] = till.suspended()
    assert held.note == "red coat"
    till.scan(_code(b))
    with pytest.raises(ValidationError, match="complete or suspend it"):
        till.resume(held.id)
    till.void("customer changed their mind")
    [voided] = _ops(shop, "counter.sale_voided")
    assert voided["lines"][0]["product_id"] == str(b.id)
    basket = till.resume(held.id)
    assert [x.product_id for x in basket.lines] == [a.id]
    till.pay(TenderKind.CASH, basket.total_minor)
    assert till.complete().number == "TILL-2-000001"


def test_returns_never_refund_more_than_was_paid(shop: StationContext) -> None:
    till = _clerk(shop)
    _open(till)
    [p] = _products(shop, 1)
    till.scan(_code(p), qty=3)
    basket = till.line_discount(till.scan(_code(p)).line_id or uuid.uuid4(), amount_minor=1)
    total = basket.total_minor
    till.pay(TenderKind.CARD, total - 500, "X1")
    till.pay(TenderKind.CASH, 500)
    done = till.complete()
    sale = till.sale_for_return(done.number)
    line = sale.lines[0]
    refunds = []
    for _ in range(4):  # one unit at a time, every unit back
        back = till.complete_return(
            [ReturnItem(1, Disposition.RESTOCK, sale_line_id=line.id)],
            sale_id=sale.id,
            refund_to=RefundTo.ORIGINAL,
        )
        refunds.append(back.refund_minor)
    assert sum(refunds) == total
    with pytest.raises(ValidationError, match="at most 0 can be returned now"):
        till.complete_return(
            [ReturnItem(1, Disposition.RESTOCK, sale_line_id=line.id)],
            sale_id=sale.id,
            refund_to=RefundTo.ORIGINAL,
        )
    payloads = _ops(shop, "counter.return_completed")
    by_kind: dict[str, int] = {}
    for payload in payloads:
        for part in payload["refunds"]:
            by_kind[part["kind"]] = by_kind.get(part["kind"], 0) + part["amount_minor"]
    assert by_kind == {"card": total - 500, "cash": 500}  # never more than each tender paid


def test_a_return_without_receipt_needs_a_supervisor(shop: StationContext) -> None:
    till = _clerk(shop)
    _open(till)
    [p] = _products(shop, 1)
    item = [ReturnItem(1, Disposition.QUARANTINE, product_id=p.id)]
    with pytest.raises(ValidationError, match="needs a supervisor"):
        till.complete_return(item, sale_id=None, refund_to=RefundTo.CASH)
    with pytest.raises(PermissionDeniedError, match="may not refund"):
        till.complete_return(item, sale_id=None, refund_to=RefundTo.CASH, approver_badge=CLERK)
    done = till.complete_return(
        item, sale_id=None, refund_to=RefundTo.STORE_CREDIT, approver_badge=SUPERVISOR
    )
    assert done.refund_minor == p.price_minor  # today's price
    assert done.store_credit is not None
    with shop.uow() as uow:
        assert store_credit.balance(uow, done.store_credit)[0] == p.price_minor
    [payload] = _ops(shop, "counter.return_completed")
    assert [(m["qty"], m["reason"]) for m in payload["stock_movements"]] == [(1, "quarantine")]
    # The credit pays for an exchange.
    till.scan(_code(p))
    basket = till.pay(TenderKind.VOUCHER, p.price_minor, done.store_credit)
    assert basket.due_minor == 0
    till.complete()
    with shop.uow() as uow:
        assert store_credit.balance(uow, done.store_credit)[0] == 0


def test_scrap_books_the_item_in_and_out(shop: StationContext) -> None:
    till = _clerk(shop)
    _open(till)
    [p] = _products(shop, 1)
    till.scan(_code(p))
    till.pay(TenderKind.CASH, p.price_minor)
    sale = till.sale_for_return(till.complete().number)
    till.complete_return(
        [ReturnItem(1, Disposition.SCRAP, sale_line_id=sale.lines[0].id)],
        sale_id=sale.id,
        refund_to=RefundTo.STORE_CREDIT,
    )
    [payload] = _ops(shop, "counter.return_completed")
    assert [(m["qty"], m["reason"]) for m in payload["stock_movements"]] == [
        (1, "return"),
        (-1, "scrap"),
    ]


def test_the_cash_session_adds_up(shop: StationContext) -> None:
    till = _clerk(shop)
    till.start()
    with pytest.raises(ValidationError, match="No cash session is open"):
        till.move_cash(CashMoveKind.PAID_IN, 100, "Change from the bank")
    till.open_session({5000: 2})  # 100.00
    with pytest.raises(ValidationError, match="already open"):
        till.open_session({5000: 2})
    [p] = _products(shop, 1)
    till.scan(_code(p))
    till.pay(TenderKind.CASH, p.price_minor + 1000)
    till.complete()
    till.move_cash(CashMoveKind.PAID_IN, 2000, "Change from the bank")
    with pytest.raises(ValidationError, match="cannot be taken out"):
        till.move_cash(CashMoveKind.PAID_OUT, 10**7, "Bank drop")
    session = till.move_cash(CashMoveKind.PAID_OUT, 3000, "Bank drop")
    expected = 10000 + p.price_minor + 2000 - 3000
    assert session.expected_minor == expected
    closed = till.close_session({1: expected + 7})
    assert closed.session.difference_minor == 7
    [payload] = _ops(shop, "cash.session_closed")
    assert payload["result"] == "over"
    with shop.uow() as uow:
        report = documents.cash_report_for(uow, closed.session.id)
    assert report.expected_cash_minor == expected
    assert report.difference_minor == 7
    assert report.paid_out_minor == 3000


def test_receipts_and_the_cash_report_at_the_printer(
    shop: StationContext, printer: RawPrinter
) -> None:
    till = _clerk(shop)
    _open(till)
    a, b = _products(shop, 2)
    till.scan(_code(a))
    till.scan(_code(b))
    basket = till.pay(TenderKind.CASH, 100_000)
    cash = till.complete()
    till.scan(_code(a))
    till.pay(TenderKind.CARD, a.price_minor, "778899")
    card = till.complete()
    with pytest.raises(ValidationError, match="has not printed yet"):
        till.reprint_last()  # the original is still waiting: a copy would be a second original
    assert print_pending(shop) == 2
    till.reprint_last()
    assert print_pending(shop) == 1
    first, second, copy = (parse(job) for job in printer.wait_for(3))
    # The cash sale: every line, the total, change, the number as a barcode, drawer, cut.
    assert first.of(Barcode)[0].text == cash.number
    assert a.name in first.text
    assert b.name in first.text
    assert f"EUR {basket.total_minor / 100:.2f}" in first.text
    assert f"{cash.change_minor / 100:.2f}" in first.text
    assert len(first.of(Kick)) == 1
    assert first.of(Cut)
    # The card sale: approval code printed, no drawer.
    assert "approval 778899" in second.text
    assert not second.of(Kick)
    # The reprint: marked COPY, same number, drawer shut.
    assert "*** COPY ***" in copy.text
    assert copy.of(Barcode)[0].text == card.number
    assert not copy.of(Kick)
    till.close_session({5000: 2, 1000: 5, 1: basket.total_minor})
    assert print_pending(shop) == 1
    report = parse(printer.wait_for(4)[3])
    assert "CASH REPORT" in report.text
    assert "Difference (balanced)" in report.text


@pytest.mark.postgres
def test_a_sale_on_postgresql(postgres_url: str, printer: RawPrinter) -> None:
    ctx = bootstrap(_till_config(postgres_url, printer))
    try:
        create_demo_data(ctx.engine, products=50, orders=5, seed=3)
        till = _clerk(ctx)
        _open(till)
        a, b = _products(ctx, 2)
        till.scan(_code(a))
        basket = till.scan(_code(b)).basket
        assert basket is not None
        till.pay(TenderKind.CARD, basket.total_minor, "PG1")
        done = till.complete()
        assert done.number == "TILL-2-000001"
        sale = till.sale_for_return(done.number)
        back = till.complete_return(
            [ReturnItem(1, Disposition.RESTOCK, sale_line_id=sale.lines[1].id)],
            sale_id=sale.id,
            refund_to=RefundTo.ORIGINAL,
        )
        assert back.refund_minor == sale.lines[1].gross_minor
        closed = till.close_session({5000: 2, 1000: 5})
        assert closed.session.difference_minor == 0
        assert [p["receipt_number"] for p in _ops(ctx, "counter.sale_completed")] == [done.number]
    finally:
        ctx.dispose()


def test_unknown_codes_are_a_typed_error_for_the_use_case(shop: StationContext) -> None:
    from app.scanning.normalize import normalize
    from app.services.counter import basket

    till = _clerk(shop)
    _open(till)
    with shop.uow(till.operator) as uow:
        sale = basket.start_sale(uow)
        with pytest.raises(UnknownBarcodeError):
            basket.scan_item(uow, sale, normalize("ZZ-404"))
    with shop.uow(till.operator) as uow:
        assert sessions.current(uow) is not None
        assert returns.search_sales(uow, "TILL-2") == []


def test_a_named_customer_and_a_changed_quantity_reach_the_receipt(shop: StationContext) -> None:
    till = _clerk(shop)
    _open(till)
    [p] = _products(shop, 1)
    line = till.scan(_code(p)).line_id
    assert line is not None
    basket = till.set_qty(line, 3)
    assert basket.lines[0].qty == 3
    assert basket.total_minor == 3 * p.price_minor
    with pytest.raises(ValidationError, match="at least two letters"):
        till.find_customers("a")
    found = till.find_customers("example.com")
    assert found
    customer_id, words = found[0]
    basket = till.set_customer(customer_id)
    assert basket.customer
    assert basket.customer in words
    till.pay(TenderKind.CASH, basket.total_minor)
    done = till.complete()
    with shop.uow() as uow:
        receipt = documents.receipt_for(uow, done.basket.id)
    assert receipt.customer == basket.customer
    assert receipt.lines[0].qty == 3
    [payload] = _ops(shop, "counter.sale_completed")
    assert payload["customer_id"] == str(customer_id)
    assert till.search_sales(basket.customer[:5])[0].number == done.number
