"""What the bench shows before a scan's commit (PackBench.predict) is what the commit does,
and the prediction stays silent whenever only the database can tell."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import update

from app.bootstrap import StationContext
from app.scanning.gtin import gtin_check_digit
from app.services.bench import BenchResult, PackBench
from app.services.views import OperatorView, OrderView
from app.store.models import Barcode, Order, OrderLine, Product
from tests.conftest import find_order


@pytest.fixture
def bench(station: StationContext, packer: OperatorView) -> PackBench:
    return PackBench(station.uow, packer)


def open_order(bench: PackBench, number: str) -> OrderView:
    result = bench.scan(number)
    assert result.ok, result.message
    assert result.order is not None
    return result.order


def scan_and_compare(bench: PackBench, raw: str, qty: int | None = None) -> BenchResult:
    """Predict from the order as the bench holds it, then commit; both must agree."""
    assert bench.order is not None
    guess = bench.predict(bench.order, raw, qty)
    assert guess is not None, f"no prediction for {raw!r}"
    result = bench.scan(raw, qty)
    assert result.ok, result.message
    assert guess.shows_as(result), f"predicted {guess}, committed {result}"
    return result


def test_every_unit_of_an_order_is_predicted_as_committed(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, find_order(station, lines=3, units=5))
    # The same item as the label carries it (EAN-13) and as a GTIN-14, in turn; the last
    # scan's words say the order is all packed, and the prediction says so too.
    forms = [lambda g: g[1:], lambda g: g]
    n = 0
    for line in order.lines:
        for _ in range(line.ordered):
            scan_and_compare(bench, forms[n % 2](line.gtin))
            n += 1
    assert bench.order is not None and bench.order.all_packed


def test_the_last_scan_of_an_order_is_predicted_with_its_words(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, find_order(station, lines=3, units=5))
    for line in order.lines:
        for _ in range(line.ordered):
            last = scan_and_compare(bench, line.gtin[1:])
    assert "all items packed" in last.message


def test_a_typed_quantity_and_a_upc_a_code_are_predicted_too(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, find_order(station, lines=3, units=5))
    line = max(order.lines, key=lambda ln: ln.ordered)
    scan_and_compare(bench, line.gtin[1:], qty=line.ordered)
    # A GTIN-12 (UPC-A) product, scanned as its 12 digits.
    upc_body = "0" + line.gtin[3:13]
    upc = upc_body + str(gtin_check_digit(upc_body))
    other = next(ln for ln in order.lines if ln.id != line.id and ln.remaining > 0)
    with station.sessions.begin() as s:
        s.execute(update(Product).where(Product.id == other.product_id).values(gtin=upc.zfill(14)))
        s.merge(Barcode(code=upc.zfill(14), kind="product", entity_id=other.product_id, units=1))
    bench.order = open_order(bench, order.number)  # the order as it reads now
    scan_and_compare(bench, upc)


def test_no_prediction_where_only_the_database_can_tell(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, find_order(station, lines=3, units=5))
    line = order.lines[0]
    # A case GTIN of a line's product: how many units it holds is in the database.
    body = "1" + line.gtin[1:13]
    case = body + str(gtin_check_digit(body))
    assert bench.predict(order, case) is None
    # Codes that are no item of this order, or need what a plain barcode lacks.
    assert bench.predict(order, "ZZ-NOT-A-CODE") is None
    assert bench.predict(order, order.number) is None
    assert bench.predict(order, f"]E0{line.gtin[1:]}") is None  # framed: normalize decides
    assert bench.predict(order, line.gtin[1:], qty=line.ordered + 1) is None
    assert bench.predict(order, line.gtin[1:], qty=0) is None
    tracked = order.lines[1]
    lot_order = _with_line(order, tracked.id, needs_lot=True)
    assert bench.predict(lot_order, tracked.gtin[1:]) is None
    done = _with_line(order, line.id, packed=line.ordered)
    assert bench.predict(done, line.gtin[1:]) is None  # the commit refuses it, in words
    on_hold = replace(order, status="on_hold")
    assert bench.predict(on_hold, line.gtin[1:]) is None
    no_box = replace(order, packages=())
    assert bench.predict(no_box, line.gtin[1:]) is None  # the commit opens a package
    gs = PackBench(station.uow, bench.operator, gs_replacement="0")
    assert gs.predict(order, line.gtin[1:]) is None  # a GS stand-in may hide in the digits


def test_the_commit_has_the_last_word_when_the_order_changed_underneath(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, find_order(station, lines=3, units=5))
    line = order.lines[0]
    with station.sessions.begin() as s:  # cancelled at the central office, synced here
        s.execute(update(Order).where(Order.id == order.id).values(status="cancelled"))
    guess = bench.predict(order, line.gtin[1:])
    assert guess is not None and guess.ok
    result = bench.scan(line.gtin[1:])
    assert not result.ok
    assert "cancelled" in result.message
    assert not guess.shows_as(result)
    with station.sessions() as s:
        packed = s.get(OrderLine, line.id)
        assert packed is not None and packed.qty_packed == 0


def _with_line(order: OrderView, line_id: uuid.UUID, **changes: Any) -> OrderView:
    lines = tuple(replace(ln, **changes) if ln.id == line_id else ln for ln in order.lines)
    return replace(order, lines=lines)
