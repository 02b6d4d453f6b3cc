"""Stock facts at a station (app/services/stock.py): adjustment, counter sale, pick, return.

Each is one local transaction: its ledger rows, its audit event and exactly one outbox
operation that carries the same rows. Facts are never refused for going below zero; bad input
is, with words that say what to do.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.bootstrap import StationContext
from app.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.services import auth, stock
from app.services.views import OperatorView
from app.store.models import AuditEvent, Location, OutboxOp, Product, StockMovement, Tote


def sign_in(ctx: StationContext, badge: str) -> OperatorView:
    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, badge)


@pytest.fixture
def supervisor(station: StationContext) -> OperatorView:
    return sign_in(station, "OP-9001")


@pytest.fixture
def product(station: StationContext) -> Product:
    with station.sessions() as s:
        p = s.scalars(select(Product).where(Product.home_location_id.is_not(None))).first()
        assert p is not None
        return p


@pytest.fixture
def other_bin(station: StationContext, product: Product) -> Location:
    with station.sessions() as s:
        loc = s.scalars(select(Location).where(Location.id != product.home_location_id)).first()
        assert loc is not None
        return loc


def on_hand(ctx: StationContext, product_id: uuid.UUID, location_id: uuid.UUID | None) -> int:
    with ctx.uow() as uow:
        return stock.on_hand(uow, product_id, location_id)


def outbox(ctx: StationContext) -> list[OutboxOp]:
    with ctx.sessions() as s:
        return list(s.scalars(select(OutboxOp).order_by(OutboxOp.seq)))


def test_adjustment_writes_one_row_and_one_operation(
    station: StationContext, supervisor: OperatorView, product: Product
) -> None:
    assert product.home_location_id is not None
    before = on_hand(station, product.id, product.home_location_id)
    ops_before = len(outbox(station))
    with station.uow(supervisor) as uow:
        change = stock.adjust_stock(uow, product.id, product.home_location_id, -3, "  damaged ")

    assert on_hand(station, product.id, product.home_location_id) == before - 3
    assert change.on_hand_after == {(product.id, product.home_location_id): before - 3}
    ops = outbox(station)[ops_before:]
    assert [o.kind for o in ops] == ["stock.adjusted"]
    op = ops[0]
    assert op.op_id == change.op_id
    assert op.status == "pending"
    assert op.payload["note"] == "damaged"
    [row] = op.payload["movements"]
    assert row["qty"] == -3
    assert row["reason"] == "adjust"
    assert row["product_id"] == str(product.id)
    with station.sessions() as s:
        stored = s.get(StockMovement, uuid.UUID(row["id"]))
        assert stored is not None
        assert (stored.qty, stored.ref, stored.station_id) == (-3, "damaged", station.station_id)
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "stock.adjusted")).one()
        assert audit.operator_id == supervisor.id


def test_sale_takes_units_from_home_bins_even_below_zero(
    station: StationContext, product: Product
) -> None:
    clerk = sign_in(station, "OP-1004")
    assert product.home_location_id is not None
    have = on_hand(station, product.id, product.home_location_id)
    with station.uow(clerk) as uow:
        change = stock.record_sale(uow, [stock.Line(product.id, have + 2)], ref="R-1001")

    # A sale is a fact: it is recorded, and the result says the bin now shows too few.
    assert on_hand(station, product.id, product.home_location_id) == -2
    assert [m.qty for m in change.short] == [-(have + 2)]
    assert change.short[0].sku == product.sku
    op = outbox(station)[-1]
    assert op.kind == "sale.completed"
    assert op.payload["sale_ref"] == "R-1001"
    assert [r["ref"] for r in op.payload["movements"]] == ["R-1001"]


def test_sale_without_a_receipt_number_gets_one(station: StationContext, product: Product) -> None:
    clerk = sign_in(station, "OP-1004")
    with station.uow(clerk) as uow:
        change = stock.record_sale(uow, [stock.Line(product.id, 1)])
    assert change.ref.startswith("SALE-")
    assert change.movements[0].ref == change.ref


def test_pick_into_a_tote_keeps_the_units_on_hand(
    station: StationContext, product: Product
) -> None:
    picker = sign_in(station, "OP-1002")
    assert product.home_location_id is not None
    with station.sessions() as s:
        tote = s.scalars(select(Tote)).first()
        assert tote is not None
        bin_code = s.get(Location, product.home_location_id).code  # type: ignore[union-attr]
    bin_before = on_hand(station, product.id, product.home_location_id)
    in_totes_before = on_hand(station, product.id, None)
    with station.uow(picker) as uow:
        change = stock.confirm_pick(
            uow, product.id, product.home_location_id, 2, tote_code=tote.code.lower()
        )

    assert on_hand(station, product.id, product.home_location_id) == bin_before - 2
    assert on_hand(station, product.id, None) == in_totes_before + 2
    assert [(m.qty, m.location, m.ref) for m in change.movements] == [
        (-2, bin_code, tote.code),
        (2, "", tote.code),
    ]
    op = outbox(station)[-1]
    assert op.kind == "pick.confirmed"
    assert op.payload["tote"] == tote.code
    assert len(op.payload["movements"]) == 2


def test_pick_out_of_stock_for_an_order(station: StationContext, product: Product) -> None:
    from app.store.models import Order

    picker = sign_in(station, "OP-1002")
    assert product.home_location_id is not None
    with station.sessions() as s:
        order = s.scalars(select(Order)).first()
        assert order is not None
    with station.uow(picker) as uow:
        change = stock.confirm_pick(uow, product.id, product.home_location_id, 1, order_id=order.id)
    assert [(m.qty, m.ref) for m in change.movements] == [(-1, order.number)]
    assert outbox(station)[-1].payload["order_number"] == order.number


def test_return_puts_units_into_a_chosen_bin(
    station: StationContext, product: Product, other_bin: Location
) -> None:
    clerk = sign_in(station, "OP-1003")
    before = on_hand(station, product.id, other_bin.id)
    with station.uow(clerk) as uow:
        change = stock.receive_return(
            uow, [stock.Line(product.id, 4, location_id=other_bin.id)], ref="RMA-77"
        )
    assert on_hand(station, product.id, other_bin.id) == before + 4
    assert change.on_hand_after == {}  # nothing was taken from anywhere
    op = outbox(station)[-1]
    assert op.kind == "return.received"
    assert op.payload["movements"][0]["location_id"] == str(other_bin.id)


# ----------------------------------------------------------------------------- bad input


def nothing_written(ctx: StationContext, before: tuple[int, int]) -> bool:
    with ctx.sessions() as s:
        now = (
            s.scalar(select(func.count()).select_from(StockMovement)),
            s.scalar(select(func.count()).select_from(OutboxOp)),
        )
    return now == before


def counts(ctx: StationContext) -> tuple[int, int]:
    with ctx.sessions() as s:
        return (
            int(s.scalar(select(func.count()).select_from(StockMovement)) or 0),
            int(s.scalar(select(func.count()).select_from(OutboxOp)) or 0),
        )


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (0, "A quantity of 0 changes nothing"),
        (100_000, "more than 99,999"),
        (-100_000, "more than 99,999"),
    ],
)
def test_adjustment_quantity_out_of_range(
    station: StationContext, supervisor: OperatorView, product: Product, delta: int, words: str
) -> None:
    assert product.home_location_id is not None
    before = counts(station)
    with pytest.raises(ValidationError, match=words), station.uow(supervisor) as uow:
        stock.adjust_stock(uow, product.id, product.home_location_id, delta, "recount")
    assert nothing_written(station, before)


def test_adjustment_needs_a_reason(
    station: StationContext, supervisor: OperatorView, product: Product
) -> None:
    assert product.home_location_id is not None
    with pytest.raises(ValidationError, match="needs a reason"), station.uow(supervisor) as uow:
        stock.adjust_stock(uow, product.id, product.home_location_id, 1, "   ")
    with pytest.raises(ValidationError, match="keep it to 200"), station.uow(supervisor) as uow:
        stock.adjust_stock(uow, product.id, product.home_location_id, 1, "x" * 201)


def test_unknown_product_and_bin(
    station: StationContext, supervisor: OperatorView, product: Product
) -> None:
    assert product.home_location_id is not None
    before = counts(station)
    with pytest.raises(NotFoundError, match="product is not known"), station.uow(supervisor) as u:
        stock.adjust_stock(u, uuid.uuid4(), product.home_location_id, 1, "found")
    with pytest.raises(NotFoundError, match="bin is not known"), station.uow(supervisor) as u:
        stock.adjust_stock(u, product.id, uuid.uuid4(), 1, "found")
    with pytest.raises(NotFoundError, match="scan the item again"), station.uow(supervisor) as u:
        stock.record_sale(u, [stock.Line(uuid.uuid4(), 1)])
    assert nothing_written(station, before)


@pytest.mark.parametrize("qty", [0, -1, True, 2.5])
def test_sale_and_return_quantities_are_positive_whole_numbers(
    station: StationContext, supervisor: OperatorView, product: Product, qty: object
) -> None:
    before = counts(station)
    line = stock.Line(product.id, qty)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="units"), station.uow(supervisor) as uow:
        stock.record_sale(uow, [line])
    with pytest.raises(ValidationError, match="units"), station.uow(supervisor) as uow:
        stock.receive_return(uow, [line], ref="RMA-1")
    assert nothing_written(station, before)


def test_empty_sale_and_return_without_reference(
    station: StationContext, supervisor: OperatorView, product: Product
) -> None:
    with pytest.raises(ValidationError, match="at least one item"), station.uow(supervisor) as u:
        stock.record_sale(u, [])
    with pytest.raises(ValidationError, match="RMA or order number"), station.uow(supervisor) as u:
        stock.receive_return(u, [stock.Line(product.id, 1)], ref=" ")


def test_pick_into_an_unknown_tote(station: StationContext, product: Product) -> None:
    picker = sign_in(station, "OP-1002")
    assert product.home_location_id is not None
    before = counts(station)
    with pytest.raises(NotFoundError, match="Tote T-NOPE is not known"), station.uow(picker) as u:
        stock.confirm_pick(u, product.id, product.home_location_id, 1, tote_code="T-NOPE")
    assert nothing_written(station, before)


def test_product_without_home_bin_needs_a_bin(
    station: StationContext, supervisor: OperatorView, product: Product
) -> None:
    with station.sessions.begin() as s:
        s.get(Product, product.id).home_location_id = None  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="has no home bin"), station.uow(supervisor) as u:
        stock.record_sale(u, [stock.Line(product.id, 1)])


@pytest.mark.parametrize(
    ("badge", "action"),
    [
        ("OP-1001", "adjust"),  # a packer adjusts
        ("OP-1002", "sell"),  # a picker sells
        ("OP-1004", "pick"),  # a counter clerk picks
        ("OP-1001", "return"),  # a packer receives a return
    ],
)
def test_roles(station: StationContext, product: Product, badge: str, action: str) -> None:
    who = sign_in(station, badge)
    bin_id = product.home_location_id
    assert bin_id is not None
    calls = {
        "adjust": lambda u: stock.adjust_stock(u, product.id, bin_id, 1, "found"),
        "sell": lambda u: stock.record_sale(u, [stock.Line(product.id, 1)]),
        "pick": lambda u: stock.confirm_pick(u, product.id, bin_id, 1),
        "return": lambda u: stock.receive_return(u, [stock.Line(product.id, 1)], "RMA-9"),
    }
    with pytest.raises(PermissionDeniedError, match="Ask a supervisor"), station.uow(who) as u:
        calls[action](u)
