"""The shop counter through the hub: tills on a central PostgreSQL, their sales, cash and
store credit pushed, applied and pulled. What a supervisor checks: every sale is in the central
books once (however often it is sent), the central stock ledger holds the till's own rows, an
oversell raises one task, and a card loaded at one till is spent at another."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from app.domain.cash import CashMoveKind
from app.domain.errors import ValidationError
from app.domain.receipts import TenderKind
from app.services.counter import store_credit
from app.services.counter.returns import Disposition, RefundTo, ReturnItem
from app.services.counter.till import Till
from app.store.models import (
    CashMovement,
    CashSession,
    CounterSale,
    CounterSaleLine,
    CounterTender,
    ExceptionTask,
    OpResult,
    Product,
    StockMovement,
    StoreCreditEntry,
)
from app.sync.ops import APPLIED
from tests.sync.centralkit import Central, central
from tests.sync.stationkit import Bench, add_bench, load_again

pytestmark = pytest.mark.postgres
__all__ = ["central"]

CLERK, SUPERVISOR = "OP-1004", "OP-9001"


def _till(b: Bench, badge: str = CLERK) -> Till:
    till = Till(b.ctx.uow, b.sign_in(badge))
    till.start()
    return till


def _product(engine: Engine, skip: int = 0) -> Product:
    with engine.connect() as conn:
        row = conn.execute(
            select(Product)
            .where(Product.track_lot.is_(False), Product.gtin.is_not(None))
            .order_by(Product.sku)
            .offset(skip)
            .limit(1)
        ).one()
    return Product(**row._asdict())


def _code(p: Product) -> str:
    assert p.gtin
    return p.gtin[1:]


def _sell(till: Till, p: Product, qty: int = 1, card: str | None = None) -> str:
    basket = till.scan(_code(p), qty=qty).basket
    assert basket is not None
    if card:
        basket = till.pay(TenderKind.VOUCHER, basket.total_minor, card)
    else:
        till.pay(TenderKind.CASH, basket.total_minor)
    return till.complete().number


def _rows(engine: Engine, model: Any, *where: Any) -> list[dict[str, Any]]:
    """Every column but the ones a station and central may hold differently."""
    with engine.connect() as conn:
        rows = conn.execute(select(model).where(*where).order_by(model.id)).all()
    return [r._asdict() for r in rows]


def _on_hand(engine: Engine, product_id: uuid.UUID, location_id: uuid.UUID | None) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                    StockMovement.product_id == product_id,
                    StockMovement.location_id == location_id,
                )
            )
            or 0
        )


def _tasks(c: Central, kind: str) -> list[Any]:
    with c.engine.connect() as conn:
        return list(conn.execute(select(ExceptionTask).where(ExceptionTask.kind == kind)).all())


def test_a_counter_day_is_in_the_central_books_once_as_the_till_wrote_it(
    central: Central, tmp_path: Path
) -> None:
    b = add_bench(central, "TILL-1", tmp_path)
    till = _till(b)
    till.open_session({5000: 2, 1000: 5})
    p, q = _product(b.ctx.engine), _product(b.ctx.engine, 1)
    first = _sell(till, p, 2)
    _sell(till, q, 1)
    till.scan(_code(q))
    till.void("customer changed their mind")
    sale = till.sale_for_return(first)
    till.complete_return(
        [ReturnItem(1, Disposition.RESTOCK, sale_line_id=sale.lines[0].id)],
        sale_id=sale.id,
        refund_to=RefundTo.ORIGINAL,
    )
    till.move_cash(CashMoveKind.PAID_OUT, 2000, "bank drop")
    closed = till.close_session({5000: 2})
    sent = b.push()
    hub = central.hub()
    assert hub.drain() == sent
    again = central.push_outbox(b.login, b.ctx.engine)  # the same operations sent once more
    assert len(again) == sent
    hub.drain()
    b.sync()
    with central.engine.connect() as conn:
        results = conn.execute(
            select(OpResult.result, OpResult.reason).where(OpResult.station_id == b.ctx.station_id)
        ).all()
    assert len(results) == sent, "each operation has one result"
    assert {(r, why) for r, why in results} == {(APPLIED, "")}
    for model in (CounterSale, CounterSaleLine, CounterTender, CashSession, CashMovement):
        theirs, mine = _rows(central.engine, model), _rows(b.ctx.engine, model)
        differ = [
            (k, t[k], m[k]) for t, m in zip(theirs, mine, strict=True) for k in t if t[k] != m[k]
        ]
        assert len(theirs) == len(mine)
        assert differ == [], model.__name__
    sales = {s["number"]: s for s in _rows(central.engine, CounterSale)}
    assert sales[first]["status"] == "completed"
    assert [s["status"] for s in sales.values()].count("voided") == 1
    mine = _rows(b.ctx.engine, StockMovement, StockMovement.station_id == b.ctx.station_id)
    assert mine, "the sales moved stock"
    assert _rows(central.engine, StockMovement, StockMovement.station_id == b.ctx.station_id) == (
        mine
    )
    [session] = _rows(central.engine, CashSession)
    assert session["status"] == "closed"
    assert session["expected_minor"] == closed.session.expected_minor
    b.close()


def test_a_sale_beyond_central_stock_is_kept_and_raises_one_oversell_task(
    central: Central, tmp_path: Path
) -> None:
    b = add_bench(central, "TILL-1", tmp_path)
    p = _product(b.ctx.engine, 2)
    have = _on_hand(central.engine, p.id, p.home_location_id)
    till = _till(b)
    till.open_session({5000: 1})
    number = _sell(till, p, have + 3)
    b.push()
    hub = central.hub()
    hub.drain()
    central.push_outbox(b.login, b.ctx.engine)
    hub.drain()
    assert _on_hand(central.engine, p.id, p.home_location_id) == -3
    [task] = _tasks(central, "oversell")
    assert task.details["ref"] == number
    assert [pl["qty"] for pl in task.details["places"]] == [-(have + 3)]
    with central.engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(CounterSale.number == number)) == 1
    b.close()


def test_a_till_loaded_again_goes_on_with_its_receipt_numbers(
    central: Central, tmp_path: Path
) -> None:
    b = add_bench(central, "TILL-1", tmp_path)
    p = _product(b.ctx.engine)
    till = _till(b)
    till.open_session({5000: 1})
    sold = [_sell(till, p) for _ in range(2)]
    again = load_again(central, b, tmp_path)  # its disk replaced
    try:
        till = _till(again)
        till.open_session({5000: 1})
        following = _sell(till, p)
    finally:
        again.close()
    assert sold == ["TILL-1-000001", "TILL-1-000002"]
    assert following == "TILL-1-000003"


def test_store_credit_loaded_at_one_till_is_spent_at_another(
    central: Central, tmp_path: Path
) -> None:
    a = add_bench(central, "TILL-1", tmp_path)
    b = add_bench(central, "TILL-2", tmp_path)
    with a.ctx.uow(a.sign_in(SUPERVISOR)) as uow:
        card = store_credit.issue_gift_card(uow, 100_000, "EUR")
    till_b = _till(b)
    with pytest.raises(Exception, match="not a store credit or gift card this till knows"):
        till_b.balance(card)
    a.push()
    hub = central.hub()
    hub.drain()
    b.sync()
    assert till_b.balance(card) == 100_000
    till_b.open_session({5000: 1})
    number = _sell(till_b, _product(b.ctx.engine, 3), 1, card=card)
    b.push()
    hub.drain()
    a.sync()
    spent = _rows(b.ctx.engine, StoreCreditEntry)
    assert _rows(central.engine, StoreCreditEntry) == spent
    assert _rows(a.ctx.engine, StoreCreditEntry) == spent
    with central.engine.connect() as conn:
        paid = conn.scalar(select(CounterSale.total_minor).where(CounterSale.number == number))
    assert paid, "the sale is in the central books"
    with a.ctx.uow(a.sign_in(SUPERVISOR)) as uow:
        assert store_credit.balance(uow, card)[0] == 100_000 - paid
    assert _tasks(central, "credit_overdrawn") == []
    a.close()
    b.close()


def test_one_card_spent_at_two_tills_offline_is_kept_and_raises_one_task(
    central: Central, tmp_path: Path
) -> None:
    a = add_bench(central, "TILL-1", tmp_path)
    b = add_bench(central, "TILL-2", tmp_path)
    with a.ctx.uow(a.sign_in(SUPERVISOR)) as uow:
        card = store_credit.issue_gift_card(uow, 1000, "EUR")
    a.push()
    hub = central.hub()
    hub.drain()
    b.sync()
    for bench in (a, b):  # neither till hears of the other's payment
        with bench.ctx.uow(bench.sign_in(SUPERVISOR)) as uow:
            store_credit.redeem(uow, card, 800, uuid.uuid4(), "EUR")
        with (
            bench.ctx.uow(bench.sign_in(SUPERVISOR)) as uow,
            pytest.raises(ValidationError, match="holds only"),
        ):
            store_credit.redeem(uow, card, 800, uuid.uuid4(), "EUR")
    a.push()
    b.push()
    hub.drain()
    a.sync()
    b.sync()
    with central.engine.connect() as conn:
        held = conn.scalar(
            select(func.sum(StoreCreditEntry.amount_minor)).where(StoreCreditEntry.account == card)
        )
    assert [r for r in central.results() if r.result != APPLIED] == []
    assert held == 1000 - 2 * 800, "both payments are facts"
    [task] = _tasks(central, "credit_overdrawn")
    assert task.details["account"] == card
    assert task.details["balance_minor"] == -600
    assert _rows(a.ctx.engine, StoreCreditEntry) == _rows(central.engine, StoreCreditEntry)
    a.close()
    b.close()
