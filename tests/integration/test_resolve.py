"""What a scan names, on a real station database: the company's code rules come first."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.bootstrap import StationContext
from app.config import CodesConfig
from app.domain.errors import UnknownBarcodeError
from app.scanning.normalize import normalize
from app.scanning.rules import CodeRules, StationCodes
from app.services.bench import PackBench
from app.services.resolve import Kind, Resolved, resolve
from app.services.views import OperatorView
from app.store.models import Barcode, Location, Operator, Order, Product, Tote
from tests.conftest import find_order


def look_up(station: StationContext, raw: str, rules: CodeRules | None = None) -> object:
    with station.sessions() as s:
        return resolve(s, normalize(raw), rules)


def first(station: StationContext, column: object) -> tuple[uuid.UUID, str]:
    with station.sessions() as s:
        row = s.execute(select(column.class_.id, column).limit(1)).one()  # type: ignore[attr-defined]
        return row[0], row[1]


def test_each_kind_of_demo_code(station: StationContext) -> None:
    order_id, number = first(station, Order.number)
    tote_id, tote = first(station, Tote.code)
    bin_id, bin_code = first(station, Location.code)
    product_id, gtin = first(station, Product.gtin)
    with station.sessions() as s:
        badge_id = s.scalar(select(Operator.id).where(Operator.badge == "OP-1001"))
    assert look_up(station, number).kind is Kind.ORDER  # type: ignore[attr-defined]
    assert look_up(station, number.lower()).entity_id == order_id  # type: ignore[attr-defined]
    assert look_up(station, tote).entity_id == tote_id  # type: ignore[attr-defined]
    assert look_up(station, bin_code).entity_id == bin_id  # type: ignore[attr-defined]
    assert look_up(station, gtin[1:]).entity_id == product_id  # type: ignore[attr-defined]
    found = look_up(station, "OP-1001")
    assert (found.kind, found.entity_id) == (Kind.OPERATOR, badge_id)  # type: ignore[attr-defined]


def test_a_code_of_a_known_shape_that_nobody_has_is_not_found(station: StationContext) -> None:
    assert look_up(station, "SO-999999") is None
    assert look_up(station, "T-9999") is None
    assert look_up(station, "ZZZ-99-9") is None


def test_a_code_of_no_known_shape_is_refused_before_any_look_up(station: StationContext) -> None:
    with pytest.raises(UnknownBarcodeError, match="not one of this company's own codes"):
        look_up(station, "LPN-000123")


def test_the_station_rules_decide(station: StationContext) -> None:
    _, tote = first(station, Tote.code)
    only_orders = CodeRules.from_config(CodesConfig(tote=()))
    with pytest.raises(UnknownBarcodeError):
        look_up(station, tote, only_orders)  # totes are no code of this company any more
    anything = CodeRules.from_config(CodesConfig(tote=(), unmatched="look-up"))
    assert look_up(station, tote, anything).kind is Kind.TOTE  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "number",
    [
        "10420003",  # a right EAN-8 check digit: a GTIN by its shape, but no product has it
        "10420002",  # a wrong one: a misread EAN, were it not the company's own shape
    ],
)
def test_numeric_order_numbers_of_the_company(station: StationContext, number: str) -> None:
    order_id, _ = first(station, Order.number)
    with station.sessions() as s:
        s.get(Order, order_id).number = number  # type: ignore[union-attr]
        s.commit()
    codes = StationCodes.from_config(CodesConfig(order=("^\\d{8}$",)))
    with station.sessions() as s:
        found = resolve(s, normalize(number, codes=codes), codes.rules)
    assert found == Resolved(Kind.ORDER, order_id)


def test_a_weighed_item_is_packed_from_its_scale_label(
    station: StationContext, packer: OperatorView
) -> None:
    bench = PackBench(station.uow, packer)
    opened = bench.scan(find_order(station, lines=1, units=1))
    assert opened.ok and opened.order is not None, opened.message
    line = opened.order.lines[0]
    with station.sessions() as s:
        # The cheese counter's item 1234 is this product: its code is the label, weight zeroed.
        s.add(Barcode(code="02812340000002", kind="product", entity_id=line.product_id, units=1))
        s.commit()
    result = bench.scan("2812345012550")  # 1,255 g of item 1234
    assert result.ok, result.message
    assert result.order is not None and result.order.all_packed
