"""Carts across stations on a real central PostgreSQL with the hub.

A cart named at one station is set on the list centrally and reaches every station through the
``pick_list`` feed aggregate. Two stations that put the same cart on two lists while apart: the
second to reach central is refused with words saying which list holds the cart, and that
station takes the list back as central holds it (no cart), as other pick-list refusals do.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import picking
from app.services.picking.session import PickSession, Step
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.store.models import OutboxOp, PickList
from app.sync import checksum
from app.sync.ops import APPLIED, Op
from tests.picking_kit import Scene, build
from tests.sync.centralkit import Central, central, make_op
from tests.sync.stationkit import Bench, add_bench

pytestmark = pytest.mark.postgres
__all__ = ["central"]


@pytest.fixture
def scene(central: Central) -> Scene:
    return build(central.engine)


def release(b: Bench, orders: tuple[uuid.UUID, ...]) -> tuple[uuid.UUID, str]:
    req = PickWorkRequest(kind=PickKind.CLUSTER, limits=Limits(max_orders=4), order_ids=orders)
    with b.ctx.uow(b.sign_in("OP-9001")) as uow:
        made = create_pick_work(uow, req).lists[0]
    return made.id, made.number


def carts(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(select(PickList.number, PickList.cart)).all()
    return {str(number): cart for number, cart in rows}


def converged(c: Central, b: Bench) -> list[str]:
    mine = checksum.station_view(b.ctx.engine)
    theirs = checksum.central_view(c.engine, b.who.warehouse_id)
    return mine.differences(theirs)


def test_a_cart_is_set_centrally_and_the_same_cart_on_a_second_list_is_refused_with_words(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    a = add_bench(central, "PICK-A", tmp_path)
    b = add_bench(central, "PICK-B", tmp_path)
    try:
        id_a, list_a = release(a, scene.order_ids[:2])
        id_b, list_b = release(b, scene.order_ids[2:])
        for bench in (a, b):
            bench.push()
        central.hub().drain()
        for bench in (a, b):
            bench.sync()

        # Apart (neither has pushed), each picker puts CART-03 on their own list.
        kim = PickSession(a.ctx.uow, a.sign_in("OP-1002"))
        assert kim.scan(list_a).ok
        assert kim.scan("CART-03").ok
        sam = PickSession(b.ctx.uow, b.sign_in("OP-9001"))
        assert sam.scan(list_b).ok
        at_b = sam.scan("CART-03")
        assert at_b.ok, at_b.message  # B cannot know: A's cart is not central yet

        a.push()
        central.hub().drain()
        b.push()
        central.hub().drain()
        a.sync()
        b.sync()

        # Central: the cart is on the list that came first, and only there.
        assert carts(central.engine) == {list_a: "CART-03", list_b: None}
        results = {r.seq: (r.result, r.reason) for r in central.results(b.login.station_id)}
        with b.ctx.engine.connect() as conn:
            seq, result, reason = conn.execute(
                select(OutboxOp.seq, OutboxOp.result, OutboxOp.reason).where(
                    OutboxOp.kind == picking.CART_SET
                )
            ).one()
        assert results[seq] == (result, reason)
        assert result == "rejected"
        assert reason == (
            f"Cart CART-03 carries pick list {list_a} (Kim Picker's, in progress) centrally — "
            f"it was not recorded for pick list {list_b}; put {list_b}'s totes on another cart "
            "and scan that cart's label."
        )
        with a.ctx.engine.connect() as conn:
            assert (
                conn.scalar(select(OutboxOp.result).where(OutboxOp.kind == picking.CART_SET))
                == APPLIED
            )

        # Both stations hold central's answer: B's list has no cart any more, A's has it.
        assert carts(a.ctx.engine) == carts(central.engine)
        assert carts(b.ctx.engine) == carts(central.engine)
        assert converged(central, a) == []
        assert converged(central, b) == []

        # At B the cart now says whose it is; another cart goes on, and centrally too.
        again = PickSession(b.ctx.uow, b.sign_in("OP-9001"))
        assert again.scan(list_b).ok
        assert again.step is Step.TOTES
        refused = again.scan("CART-03")
        assert not refused.ok
        assert refused.message.startswith(f"Cart CART-03 carries pick list {list_a} (Kim Picker")
        assert again.scan("CART-04").ok
        b.push()
        central.hub().drain()
        a.sync()
        b.sync()
        assert carts(central.engine) == {list_a: "CART-03", list_b: "CART-04"}
        assert carts(a.ctx.engine) == carts(central.engine)  # every station sees every cart
        assert converged(central, b) == []
        assert id_a != id_b
    finally:
        a.close()
        b.close()


def test_cart_operations_central_cannot_use_are_refused_with_words(
    central: Central, scene: Scene, tmp_path: Path
) -> None:
    a = add_bench(central, "PICK-A", tmp_path)
    try:
        list_id, number = release(a, scene.order_ids[:1])
        a.push()
        central.hub().drain()
    finally:
        a.close()
    with central.engine.begin() as conn:
        conn.execute(
            PickList.__table__.update().where(PickList.id == list_id).values(status="done")
        )
    login = central.add_station("ODD-1")
    sid = login.station_id
    unknown = uuid.uuid4()

    def cart_op(seq: int, target: uuid.UUID, cart: str) -> Op:
        return make_op(
            sid,
            seq,
            picking.CART_SET,
            {"pick_list_id": str(target), "cart": cart},
            "pick_list",
            target,
        )

    central.push(
        login,
        [
            cart_op(1, list_id, "CART-07"),  # the list is finished centrally
            cart_op(2, unknown, "CART-07"),  # no such list
            cart_op(3, list_id, "CART-" + "X" * 40),  # no cart has such a code
        ],
    )
    central.hub().drain()
    results = [(r.result, r.reason) for r in central.results(sid)]
    assert results[0] == (
        "rejected",
        f"Pick list {number} is done centrally — cart CART-07 was not recorded for it; it is "
        "free for another list.",
    )
    assert results[1][0] == "rejected"
    assert results[1][1].startswith("That pick list is not in the central database")
    assert results[2] == (
        "rejected",
        "Picking operation picklist.cart_set (#3) was not recorded centrally: the cart's code is "
        "empty or too long. Tell support; the station keeps what it did.",
    )
    assert carts(central.engine) == {number: None}
