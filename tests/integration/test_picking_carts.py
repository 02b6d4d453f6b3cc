"""Carts at a station (SQLite): the picker may scan the cart's label at set-up and the list
records it; with no list open, scanning the cart opens the live list it carries (as scanning
the list's number would); a cart rides with one live list at a time, and a finished list frees
it. Every refusal records nothing but the rejected scan, and its words say what to do."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.bootstrap import StationContext
from app.domain.errors import InvalidTransitionError, ValidationError
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import auth, picking
from app.services.picking import actions
from app.services.picking.session import PickSession, Step
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.services.views import OperatorView
from app.store.models import AuditEvent, OutboxOp, PickList, ScanEvent
from tests.picking_kit import Scene, build, one_stop, walk


@pytest.fixture
def scene(station: StationContext) -> Scene:
    return build(station.engine)


def sign_in(ctx: StationContext, badge: str) -> OperatorView:
    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, badge)


def release(ctx: StationContext, orders: tuple[uuid.UUID, ...]) -> tuple[uuid.UUID, str]:
    """A cluster list of ``orders``; its id and number."""
    req = PickWorkRequest(kind=PickKind.CLUSTER, limits=Limits(max_orders=4), order_ids=orders)
    with ctx.uow(sign_in(ctx, "OP-9001")) as uow:
        made = create_pick_work(uow, req).lists[0]
    return made.id, made.number


def kim(ctx: StationContext) -> PickSession:
    return PickSession(ctx.uow, sign_in(ctx, "OP-1002"))


def sam(ctx: StationContext) -> PickSession:
    return PickSession(ctx.uow, sign_in(ctx, "OP-9001"))


def cart_of(ctx: StationContext, list_id: uuid.UUID) -> str | None:
    with ctx.sessions() as s:
        return s.scalar(select(PickList.cart).where(PickList.id == list_id))


def ops(ctx: StationContext, kind: str) -> list[OutboxOp]:
    with ctx.sessions() as s:
        return list(s.scalars(select(OutboxOp).where(OutboxOp.kind == kind).order_by(OutboxOp.seq)))


def recorded(ctx: StationContext) -> int:
    """Operations other than rejected scans: what a refusal must not add."""
    with ctx.sessions() as s:
        n = s.scalar(
            select(func.count()).select_from(OutboxOp).where(OutboxOp.kind != "scan.rejected")
        )
    return int(n or 0)


def last_rejected_scan(ctx: StationContext) -> tuple[str, str, str]:
    with ctx.sessions() as s:
        row = s.execute(
            select(ScanEvent.raw, ScanEvent.outcome, ScanEvent.message)
            .where(ScanEvent.workflow == "pick")
            .order_by(ScanEvent.at.desc(), ScanEvent.id.desc())
            .limit(1)
        ).one()
    return row[0], row[1], row[2]


def put_totes(session: PickSession, first: int = 1) -> None:
    assert session.view is not None
    for n, _slot in enumerate(list(session.view.slots_without_tote), start=first):
        r = session.scan(f"T-{n:04d}")
        assert r.ok, r.message


def on_cart(
    ctx: StationContext, orders: tuple[uuid.UUID, ...], cart: str = "CART-03"
) -> tuple[PickSession, uuid.UUID, str]:
    """Kim takes a new list of ``orders`` and scans ``cart`` at its set-up."""
    list_id, number = release(ctx, orders)
    session = kim(ctx)
    assert session.scan(number).ok
    r = session.scan(cart)
    assert r.ok, r.message
    return session, list_id, number


# ----------------------------------------------------------------------------- set-up


def test_the_cart_scanned_at_set_up_is_recorded_audited_and_queued(
    station: StationContext, scene: Scene
) -> None:
    list_id, number = release(station, scene.order_ids)
    session = kim(station)
    opened = session.scan(number)
    assert opened.ok
    assert session.step is Step.TOTES
    assert opened.message.endswith("Scan the cart's label, or an empty tote for slot 1 (SO-9001).")

    r = session.scan("cart-03 ")  # as a scanner may send it: case and blanks do not matter
    assert r.ok, r.message
    assert r.message == (
        f"Cart CART-03 ✓ pick list {number} rides on it. Scan an empty tote for slot 1 (SO-9001)."
    )
    assert session.step is Step.TOTES
    assert session.view is not None and session.view.cart == "CART-03"
    assert cart_of(station, list_id) == "CART-03"
    [op] = ops(station, picking.CART_SET)
    assert (op.entity, op.entity_id) == ("pick_list", list_id)
    assert op.payload["cart"] == "CART-03"
    assert op.payload["pick_list_id"] == str(list_id)
    with station.sessions() as s:
        audit = s.execute(
            select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.operator_id).where(
                AuditEvent.action == picking.CART_SET
            )
        ).one()
    assert audit == (picking.CART_SET, list_id, session.operator.id)

    # The same cart again says so, and records nothing more.
    again = session.scan("CART-03")
    assert again.ok
    assert again.message == (
        f"Cart CART-03 carries pick list {number} — Scan an empty tote for slot 1 (SO-9001)."
    )
    assert len(ops(station, picking.CART_SET)) == 1

    put_totes(session)
    assert session.step is Step.BIN
    assert session.view.cart == "CART-03"
    # Its own cart mid-walk is no harm: the list stays where it was.
    mid = session.scan("CART-03")
    assert mid.ok
    assert session.step is Step.BIN


def test_totes_go_on_without_a_cart(station: StationContext, scene: Scene) -> None:
    list_id, number = release(station, scene.order_ids)
    session = kim(station)
    assert session.scan(number).ok
    put_totes(session)
    assert session.step is Step.BIN
    assert session.view is not None and session.view.cart is None
    assert cart_of(station, list_id) is None
    assert ops(station, picking.CART_SET) == []


@pytest.fixture
def two_lists(station: StationContext, scene: Scene) -> tuple[str, str]:
    """Sam's list on CART-03, in progress; Kim's list at its set-up. Their numbers."""
    _a, held = release(station, scene.order_ids[:2])
    _b, mine = release(station, scene.order_ids[2:])
    other = sam(station)
    assert other.scan(held).ok
    assert other.scan("CART-03").ok
    return held, mine


def test_a_cart_another_live_list_carries_is_refused_with_the_list_that_holds_it(
    station: StationContext, two_lists: tuple[str, str]
) -> None:
    held, mine = two_lists
    session = kim(station)
    assert session.scan(mine).ok
    before = recorded(station)
    r = session.scan("CART-03")
    assert not r.ok
    assert r.message == (
        f"Cart CART-03 carries pick list {held} (Sam Supervisor's, in progress) — take another "
        f"cart; CART-03 is free again once {held} is finished."
    )
    assert session.step is Step.TOTES
    assert session.view is not None and session.view.cart is None
    assert recorded(station) == before
    assert last_rejected_scan(station) == ("CART-03", "rejected", r.message)
    # Another cart is fine.
    assert session.scan("CART-04").ok
    assert session.view.cart == "CART-04"


def test_a_second_cart_for_a_list_that_has_one_is_refused(
    station: StationContext, scene: Scene
) -> None:
    session, list_id, number = on_cart(station, scene.order_ids)
    assert session.scan("T-0001").ok  # one tote on, three slots to go
    before = recorded(station)
    r = session.scan("CART-04")
    assert not r.ok
    assert r.message == (
        f"Pick list {number} is on cart CART-03 already — put its totes on CART-03, not on CART-04."
    )
    assert cart_of(station, list_id) == "CART-03"
    assert session.step is Step.TOTES and session.slot_to_fill == 2
    assert recorded(station) == before


def test_a_cart_after_set_up_is_refused(
    station: StationContext, scene: Scene, two_lists: tuple[str, str]
) -> None:
    held, mine = two_lists
    session = kim(station)
    assert session.scan(mine).ok
    put_totes(session, first=5)
    stop = session.stop
    assert session.step is Step.BIN and stop is not None
    before = recorded(station)

    free = session.scan("CART-05")
    assert not free.ok
    assert free.message == (
        f"Pick list {mine} rides on no cart; a cart is scanned at set-up, before the totes. "
        f"Go to {stop.bin} and scan the bin."
    )
    # Another list's cart while this one is open: refused as that list's number would be.
    theirs = session.scan("CART-03")
    assert not theirs.ok
    assert theirs.message == (
        f"Cart CART-03 carries pick list {held}, but pick list {mine} is still open here — "
        "finish it, pause it or hand it over before taking another."
    )
    assert session.view is not None and session.view.number == mine
    assert session.step is Step.BIN
    assert cart_of(station, session.view.id) is None
    assert recorded(station) == before


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("CART-" + "X" * 40, "cannot name a cart — a cart's code has 1 to 40 characters"),
        ("   ", "An empty code cannot name a cart"),
    ],
)
def test_a_cart_code_that_cannot_be_one_is_refused(
    station: StationContext, scene: Scene, code: str, words: str
) -> None:
    list_id, _number = release(station, scene.order_ids)
    with pytest.raises(ValidationError, match=words), station.uow(sign_in(station, "OP-1002")) as u:
        actions.set_cart(u, list_id, code)
    assert cart_of(station, list_id) is None


def test_a_too_long_cart_label_scanned_is_refused_with_words(
    station: StationContext, scene: Scene
) -> None:
    _id, number = release(station, scene.order_ids)
    session = kim(station)
    assert session.scan(number).ok
    r = session.scan("CART-" + "9" * 40)
    assert not r.ok
    assert "cannot name a cart — a cart's code has 1 to 40 characters" in r.message
    assert session.view is not None and session.view.cart is None


# ----------------------------------------------------------------------------- resume by cart


def test_after_a_pause_the_cart_opens_its_list_where_it_was(
    station: StationContext, scene: Scene
) -> None:
    session, list_id, number = on_cart(station, scene.order_ids)
    put_totes(session)
    one_stop(session, scene)
    paused = session.pause()
    assert paused.message == f"Pick list {number} paused — scan it or cart CART-03 to carry on."
    assert session.step is Step.LIST and session.view is None

    # Signed out and in again (a new session): the cart is what the picker has in hand.
    again = kim(station)
    r = again.scan("CART-03")
    assert r.ok, r.message
    assert r.message.startswith(f"Cart CART-03: Pick list {number}: 12 stops, 4 orders. Go to ")
    assert again.view is not None and again.view.id == list_id
    assert again.step is Step.BIN  # the totes are on: straight to the next stop
    assert again.view.stops_done == 1
    assert again.view.status == "in_progress"
    assert ops(station, picking.STARTED)[-1].entity_id == list_id


def test_a_cart_that_carries_no_list_says_so(station: StationContext, scene: Scene) -> None:
    release(station, scene.order_ids)
    session = kim(station)
    before = recorded(station)
    r = session.scan("CART-09")
    assert not r.ok
    assert r.message == "Cart CART-09 carries no pick list — scan a pick list to start."
    assert session.view is None and session.step is Step.LIST
    assert recorded(station) == before
    assert last_rejected_scan(station) == ("CART-09", "rejected", r.message)


def test_a_cart_of_another_pickers_list_follows_the_hand_over_rules(
    station: StationContext, scene: Scene
) -> None:
    mine, list_id, number = on_cart(station, scene.order_ids)
    assert mine.pause().ok

    other = sam(station)
    r = other.scan("CART-03")
    assert not r.ok
    assert r.message == (
        f"Pick list {number} is Kim Picker's (paused) — ask them to hand it over from their "
        "screen, or take another list."
    )
    assert other.view is None

    assert mine.scan("CART-03").ok  # Kim takes it up again, and leaves it for anyone
    left = mine.hand_over(None)
    assert left.message == (
        f"The rest of pick list {number} goes to whoever scans it or cart CART-03 next."
    )
    taken = other.scan("CART-03")
    assert taken.ok, taken.message
    assert other.view is not None and other.view.id == list_id
    assert other.view.picker_name == "Sam Supervisor"
    assert other.view.cart == "CART-03"


def test_a_finished_list_frees_its_cart(station: StationContext, scene: Scene) -> None:
    session, first_id, _first = on_cart(station, scene.order_ids[:2])
    put_totes(session)
    walk(session, scene)
    assert session.step is Step.DONE
    assert cart_of(station, first_id) == "CART-03"  # kept on the finished list, as a record
    with station.sessions() as s:
        assert actions.list_on_cart(s.connection(), "CART-03") is None

    done = session.scan("CART-03")
    assert done.message == "Cart CART-03 carries no pick list — scan a pick list to start."

    _second_id, second = release(station, scene.order_ids[2:])
    assert session.scan(second).ok
    r = session.scan("CART-03")
    assert r.ok, r.message
    assert session.view is not None and session.view.cart == "CART-03"


def test_a_finished_list_takes_no_cart(station: StationContext, scene: Scene) -> None:
    list_id, number = release(station, scene.order_ids[:1])
    session = kim(station)
    assert session.scan(number).ok
    put_totes(session)
    walk(session, scene)
    with (
        pytest.raises(InvalidTransitionError, match=f"Pick list {number} is already finished"),
        station.uow(session.operator) as uow,
    ):
        actions.set_cart(uow, list_id, "CART-07")
    assert cart_of(station, list_id) is None
