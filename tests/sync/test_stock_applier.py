"""Stock facts applied on the central PostgreSQL (app/sync/appliers/stock.py).

Operations are made by the station's own use cases on a station database filled from central,
then applied centrally one by one in savepoints, as the hub does. What a supervisor would
check: the central ledger has the station's rows (same ids), facts are never refused, and each
operation that takes a place below zero raises exactly one oversell task naming the places.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app.bootstrap import StationContext, bootstrap
from app.config import StationConfig
from app.domain.errors import WaystationError
from app.services import auth, stock
from app.store.models import ExceptionTask, Location, OutboxOp, Product, StockMovement, Tote
from app.sync.appliers import ApplyContext, apply
from app.sync.ops import Op
from tests.sync.harness.world import (
    apply_outbox,
    create_database,
    drop_database,
    migrated_engine,
    pending_ops,
    station_on,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def template(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A central database with a small demo company and a counter station, made once: each
    test gets a copy of both."""
    from app.services.demo import create_demo_data

    name = f"ws_stock_tpl_{uuid.uuid4().hex[:8]}"
    engine = migrated_engine(create_database(postgres_server, name))
    create_demo_data(engine, products=30, orders=6, seed=11)
    station_file = tmp_path_factory.mktemp("stock") / "counter.db"
    station_on(engine, station_file, "COUNTER-1")
    engine.dispose()
    yield name, station_file
    drop_database(postgres_server, name)


@pytest.fixture
def central(postgres_server: str, template: tuple[str, Path]) -> Iterator[Engine]:
    name = f"ws_stock_{uuid.uuid4().hex[:10]}"
    engine = migrated_engine(create_database(postgres_server, name, template=template[0]))
    yield engine
    engine.dispose()
    drop_database(postgres_server, name)


@pytest.fixture
def counter(template: tuple[str, Path], tmp_path: Path) -> Iterator[StationContext]:
    path = tmp_path / "counter.db"
    shutil.copyfile(template[1], path)
    ctx = bootstrap(StationConfig(station_name="COUNTER-1", database_url=f"sqlite:///{path}"))
    yield ctx
    ctx.dispose()


@pytest.fixture
def boss(counter: StationContext) -> Any:
    with counter.uow() as uow:
        return auth.sign_in_badge(uow, "OP-9001")


@pytest.fixture
def product(central: Engine) -> Product:
    with Session(central) as s:
        p = s.scalars(
            select(Product).where(Product.home_location_id.is_not(None)).order_by(Product.sku)
        ).first()
        assert p is not None
        return p


def central_on_hand(central: Engine, product_id: uuid.UUID, location_id: uuid.UUID | None) -> int:
    where = (
        StockMovement.location_id.is_(None)
        if location_id is None
        else StockMovement.location_id == location_id
    )
    with central.connect() as conn:
        return int(
            conn.scalar(
                select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                    StockMovement.product_id == product_id, where
                )
            )
            or 0
        )


def tasks(central: Engine) -> list[ExceptionTask]:
    with Session(central) as s:
        return list(s.scalars(select(ExceptionTask).order_by(ExceptionTask.raised_at)))


def push(central: Engine, ctx: StationContext) -> list[str]:
    return apply_outbox(central, ctx.engine, ctx.station_id)


def test_a_sale_lands_centrally_as_the_same_rows(
    central: Engine, counter: StationContext, boss: Any, product: Product
) -> None:
    assert product.home_location_id is not None
    have = central_on_hand(central, product.id, product.home_location_id)
    with counter.uow(boss) as uow:
        sale = stock.record_sale(uow, [stock.Line(product.id, 2)], ref="R-1")

    assert push(central, counter) == ["applied"]

    assert central_on_hand(central, product.id, product.home_location_id) == have - 2
    with Session(central) as s:
        row = s.get(StockMovement, sale.movements[0].id)
        assert row is not None
        assert (row.qty, row.reason, row.ref, row.station_id) == (
            -2,
            "sale",
            "R-1",
            counter.station_id,
        )
    with counter.sessions() as s:
        local = s.get(StockMovement, sale.movements[0].id)
        assert local is not None
        assert local.at == row.at  # the same row at both ends, time included
    assert tasks(central) == []


def test_each_operation_that_takes_a_place_below_zero_raises_one_oversell(
    central: Engine, counter: StationContext, boss: Any, product: Product
) -> None:
    bin_id = product.home_location_id
    assert bin_id is not None
    have = central_on_hand(central, product.id, bin_id)
    with counter.uow(boss) as uow:
        stock.record_sale(uow, [stock.Line(product.id, have + 2)], ref="R-1")  # to -2
    with counter.uow(boss) as uow:
        stock.record_sale(uow, [stock.Line(product.id, 1)], ref="R-2")  # to -3
    with counter.uow(boss) as uow:
        stock.receive_return(uow, [stock.Line(product.id, 5)], ref="RMA-1")  # to 2: no task
    with counter.uow(boss) as uow:
        stock.adjust_stock(uow, product.id, bin_id, -2, "damaged")  # to 0: no task
    ops = pending_ops(counter.engine)

    assert push(central, counter) == ["applied"] * 4

    raised = tasks(central)
    assert [t.op_id for t in raised] == [ops[0].op_id, ops[1].op_id]
    assert [t.details["places"][0]["on_hand"] for t in raised] == [-2, -3]
    with Session(central) as s:
        code = s.get(Location, bin_id).code  # type: ignore[union-attr]
    first = raised[0]
    assert (first.kind, first.entity, first.entity_id, first.status) == (
        "oversell",
        "product",
        product.id,
        "open",
    )
    assert first.details["op_kind"] == "sale.completed"
    assert first.details["ref"] == "R-1"
    assert first.details["places"] == [
        {
            "product_id": str(product.id),
            "sku": product.sku,
            "location_id": str(bin_id),
            "location": code,
            "qty": -(have + 2),
            "on_hand": -2,
        }
    ]
    assert central_on_hand(central, product.id, bin_id) == 0


def test_one_task_names_every_place_one_sale_oversold(
    central: Engine, counter: StationContext, boss: Any
) -> None:
    with Session(central) as s:
        two = list(
            s.scalars(
                select(Product).where(Product.home_location_id.is_not(None)).order_by(Product.sku)
            )
        )[:2]
    lines = [stock.Line(p.id, central_on_hand(central, p.id, p.home_location_id) + 1) for p in two]
    with counter.uow(boss) as uow:
        stock.record_sale(uow, lines, ref="R-9")

    assert push(central, counter) == ["applied"]

    [task] = tasks(central)
    assert sorted(p["sku"] for p in task.details["places"]) == sorted(p.sku for p in two)
    assert all(p["on_hand"] == -1 for p in task.details["places"])


def test_a_pick_into_a_tote_oversells_the_bin_only(
    central: Engine, counter: StationContext, boss: Any, product: Product
) -> None:
    bin_id = product.home_location_id
    assert bin_id is not None
    have = central_on_hand(central, product.id, bin_id)
    with Session(central) as s:
        tote = s.scalars(select(Tote).order_by(Tote.code)).first()
        assert tote is not None
    in_totes = central_on_hand(central, product.id, None)
    with counter.uow(boss) as uow:
        stock.confirm_pick(uow, product.id, bin_id, have + 1, tote_code=tote.code)

    assert push(central, counter) == ["applied"]

    assert central_on_hand(central, product.id, bin_id) == -1
    assert central_on_hand(central, product.id, None) == in_totes + have + 1
    [task] = tasks(central)
    assert [p["location_id"] for p in task.details["places"]] == [str(bin_id)]


# ----------------------------------------------------------------------------- malformed


def sold_op(counter: StationContext, boss: Any, product: Product) -> Op:
    with counter.uow(boss) as uow:
        stock.record_sale(uow, [stock.Line(product.id, 1)], ref="R-5")
    [row] = pending_ops(counter.engine)
    return Op.from_row(row)


def apply_one(central: Engine, op: Op, station_id: uuid.UUID) -> str:
    with Session(central) as s, s.begin():
        try:
            with s.begin_nested():
                apply(ApplyContext(s, op, station_id, None), op)
        except WaystationError as e:
            return e.message
    return "applied"


def with_row(op: Op, **change: Any) -> Op:
    row = {**op.payload["movements"][0], **change}
    return dataclasses.replace(op, payload={**op.payload, "movements": [row]})


@pytest.mark.parametrize(
    ("make", "words"),
    [
        pytest.param(
            lambda op: dataclasses.replace(op, payload={}), "has no valid 'movements'", id="no-rows"
        ),
        pytest.param(
            lambda op: dataclasses.replace(op, payload={"movements": []}),
            "it carries no ledger rows",
            id="empty-rows",
        ),
        pytest.param(
            lambda op: with_row(op, qty=0), "quantity 0 is not a whole number", id="qty-zero"
        ),
        pytest.param(
            lambda op: with_row(op, qty="2"), "quantity '2' is not a whole number", id="qty-text"
        ),
        pytest.param(
            lambda op: with_row(op, reason="adjust"),
            "reason 'adjust' does not fit sale.completed",
            id="wrong-reason",
        ),
        pytest.param(
            lambda op: with_row(op, product_id=str(uuid.uuid4())),
            "is not in the central database",
            id="unknown-product",
        ),
        pytest.param(
            lambda op: with_row(op, location_id=str(uuid.uuid4())),
            "is not in the central database",
            id="unknown-bin",
        ),
        pytest.param(
            lambda op: with_row(op, id="not-an-id"),
            "lacks its id, product, bin or time",
            id="bad-id",
        ),
        pytest.param(
            lambda op: with_row(op, at="2026-01-01T10:00:00"),
            "time has no time zone",
            id="naive-time",
        ),
        pytest.param(
            lambda op: with_row(op, ref="x" * 61), "reference is not short text", id="long-ref"
        ),
    ],
)
def test_malformed_stock_operations_are_rejected_and_write_nothing(
    central: Engine, counter: StationContext, boss: Any, product: Product, make: Any, words: str
) -> None:
    op = make(sold_op(counter, boss, product))
    with central.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(StockMovement))

    reason = apply_one(central, op, counter.station_id)

    assert words in reason
    assert reason.startswith(("Stock operation sale.completed", "Operation sale.completed"))
    with central.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(StockMovement)) == before
    assert tasks(central) == []


def test_the_same_rows_sent_again_under_another_operation_are_rejected(
    central: Engine, counter: StationContext, boss: Any, product: Product
) -> None:
    op = sold_op(counter, boss, product)
    assert apply_one(central, op, counter.station_id) == "applied"
    again = dataclasses.replace(op, op_id=uuid.uuid4(), seq=op.seq + 1)
    assert "already in the central ledger" in apply_one(central, again, counter.station_id)


def test_the_rows_belong_to_the_sender_whatever_the_payload_says(
    central: Engine, counter: StationContext, boss: Any, product: Product
) -> None:
    op = with_row(sold_op(counter, boss, product), station_id=str(uuid.uuid4()))
    sender = uuid.uuid4()
    assert apply_one(central, op, sender) == "applied"
    with Session(central) as s:
        row = s.get(StockMovement, uuid.UUID(op.payload["movements"][0]["id"]))
        assert row is not None
        assert row.station_id == sender


def test_two_hubs_at_once_still_notice_the_oversell(
    central: Engine, counter: StationContext, boss: Any, product: Product
) -> None:
    """Two sales that each fit, together do not: applied in two transactions at the same time,
    the second waits for the first's product lock and raises the oversell."""
    bin_id = product.home_location_id
    assert bin_id is not None
    have = central_on_hand(central, product.id, bin_id)
    first = have // 2 + 1
    with counter.uow(boss) as uow:
        stock.record_sale(uow, [stock.Line(product.id, first)], ref="R-A")
    with counter.uow(boss) as uow:
        stock.record_sale(uow, [stock.Line(product.id, have - first + 1)], ref="R-B")
    op_a, op_b = (Op.from_row(r) for r in pending_ops(counter.engine))

    a_applied = threading.Event()
    b_done = threading.Event()
    errors: list[BaseException] = []

    def hub_a() -> None:
        try:
            with Session(central) as s, s.begin():
                apply(ApplyContext(s, op_a, counter.station_id, None), op_a)
                a_applied.set()
                time.sleep(0.5)  # B must wait for this commit
                assert not b_done.is_set()
        except BaseException as e:
            errors.append(e)
            a_applied.set()

    def hub_b() -> None:
        try:
            a_applied.wait(5)
            with Session(central) as s, s.begin():
                apply(ApplyContext(s, op_b, counter.station_id, None), op_b)
            b_done.set()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=hub_a), threading.Thread(target=hub_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert central_on_hand(central, product.id, bin_id) == -1
    assert [t.op_id for t in tasks(central)] == [op_b.op_id]


def test_facts_apply_on_sqlite_too(tmp_path: Path, central: Engine) -> None:
    """The registry also runs on a station's SQLite (tests, and a standalone hub check)."""
    path = tmp_path / "a.db"
    station_on(central, path, "SOLO")
    ctx = bootstrap(StationConfig(station_name="SOLO", database_url=f"sqlite:///{path}"))
    other = tmp_path / "b.db"
    station_on(central, other, "OTHER")
    with ctx.uow() as uow:
        boss = auth.sign_in_badge(uow, "OP-9001")
    with ctx.uow(boss) as uow:
        p = uow.session.scalars(
            select(Product).where(Product.home_location_id.is_not(None))
        ).first()
        assert p is not None
        stock.record_sale(uow, [stock.Line(p.id, 10_000)])
    target = migrated_engine(f"sqlite:///{other}")
    assert apply_outbox(target, ctx.engine, ctx.station_id) == ["applied"]
    with Session(target) as s:
        assert s.scalar(select(func.count()).select_from(ExceptionTask)) == 1
        assert s.scalar(text("SELECT count(*) FROM outbox")) == 0
    with ctx.sessions() as s:
        assert {o.status for o in s.scalars(select(OutboxOp))} == {"done"}
    ctx.dispose()
    target.dispose()
