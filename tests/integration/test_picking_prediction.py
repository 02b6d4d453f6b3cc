"""What the picker screen shows before the worker answers: :meth:`PickSession.predict` tells the
common scans of a stop from the walk in memory, and what it tells is what the scan answers.
And a stop the database no longer holds open is refused, not recorded twice."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select, update

from app.bootstrap import StationContext
from app.domain.pick_docs import PickKind
from app.domain.picking import Limits
from app.services import auth
from app.services.picking.session import PickResult, PickSession, Step
from app.services.picking.views import PickListView, StopView
from app.services.picking.work import PickWorkRequest, create_pick_work
from app.store.models import Allocation, PickList, StockMovement
from tests.picking_kit import Scene, build, code_for


@pytest.fixture
def scene(station: StationContext) -> Scene:
    return build(station.engine)


@pytest.fixture
def walking(station: StationContext, scene: Scene) -> PickSession:
    """A picker at the first stop's bin step, cart ready."""
    with station.uow() as uow:
        supervisor = auth.sign_in_badge(uow, "OP-9001")
        picker = auth.sign_in_badge(uow, "OP-1002")
    req = PickWorkRequest(kind=PickKind.CLUSTER, limits=Limits(4), order_ids=scene.order_ids)
    with station.uow(supervisor) as uow:
        number = create_pick_work(uow, req).lists[0].number
    session = PickSession(station.uow, picker)
    assert session.scan(number).ok
    for n in range(1, 5):
        assert session.scan(f"T-000{n}").ok
    assert session.step is Step.BIN
    return session


def to_the_tote(session: PickSession, scene: Scene) -> tuple[StopView, PickListView]:
    """The stop's bin and all its units scanned: the next scan is the slot's tote."""
    stop, view = session.stop, session.view
    assert stop is not None and view is not None
    assert session.scan(stop.bin).ok
    code = code_for(scene, stop.sku, stop.lot, stop.expiry)
    for _ in range(stop.remaining):
        assert session.scan(code).ok
    return stop, view


def walk_state(session: PickSession) -> dict[str, object]:
    return dict(vars(session))


def scan_as_predicted(session: PickSession, code: str) -> tuple[PickResult | None, PickResult]:
    before = walk_state(session)
    guess = session.predict(code)
    assert walk_state(session) == before  # a prediction moves nothing on
    return guess, session.scan(code)


def movements(ctx: StationContext) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(StockMovement)) or 0)


def test_every_scan_of_a_plain_walk_is_predicted_as_the_scan_answers_it(
    station: StationContext, scene: Scene, walking: PickSession
) -> None:
    told = {Step.BIN: 0, Step.ITEM: 0, Step.TOTE: 0}
    while walking.step is not Step.DONE:
        stop, view = walking.stop, walking.view
        assert stop is not None and view is not None
        step = walking.step
        if step is Step.BIN:
            code = stop.bin
        elif step is Step.ITEM:
            code = code_for(scene, stop.sku, stop.lot, stop.expiry)
        else:
            code = view.tote_of(stop.slot) or ""
        guess, result = scan_as_predicted(walking, code)
        assert result.ok, result.message
        tracked = stop.lot or stop.needs_lot or stop.needs_serial or stop.needs_expiry
        if step is Step.ITEM and tracked:
            assert guess is None  # a GS1 code: only the scan reads it
            continue
        assert guess is not None, f"{step}: {code}"
        assert guess.shows_as(result), (guess, result)
        told[step] += 1
    assert walking.view is not None and walking.view.status == "done"
    assert told[Step.BIN] == told[Step.TOTE] == len(walking.view.stops)
    assert told[Step.ITEM] > 0
    # The last tote finished the list: predicted so, and so it was.
    assert "List finished" in result.message


def test_what_only_the_database_can_tell_is_not_predicted(
    scene: Scene, walking: PickSession
) -> None:
    stop = walking.stop
    assert stop is not None
    other_bin = next(b.code for b in scene.bins.values() if b.code != stop.bin)
    assert walking.predict(other_bin) is None  # the wrong bin: refused by the scan
    assert walking.predict(stop.bin.lower()) is None  # read by the scan, not guessed
    assert walking.predict(f"]C1{stop.bin}") is None
    assert walking.predict("") is None
    assert walking.scan(stop.bin).ok
    code = code_for(scene, stop.sku, stop.lot, stop.expiry)
    assert walking.predict(code, qty=2) is None  # a typed quantity
    assert walking.predict("T-0001") is None  # a tote before the items: refused by the scan
    for _ in range(stop.remaining):
        assert walking.scan(code).ok
    assert walking.predict(code) is None  # one too many: refused by the scan
    assert walking.view is not None
    other = next(t for s, t in walking.view.totes.items() if int(s) != stop.slot)
    assert walking.predict(other) is None  # the wrong tote
    walking.report_short()  # with units in hand: they go into the tote, the rest is short
    assert walking.step is Step.TOTE
    assert walking.predict(walking.view.tote_of(stop.slot) or "") is None  # re-allocation


def test_a_stop_recorded_meanwhile_at_another_station_is_refused_not_taken_twice(
    station: StationContext, scene: Scene, walking: PickSession
) -> None:
    stop, view = to_the_tote(walking, scene)
    tote = view.tote_of(stop.slot) or ""
    guess = walking.predict(tote)
    assert guess is not None and guess.stop_recorded
    with station.sessions.begin() as s:  # the other station's pick, arrived by sync
        s.execute(
            update(Allocation)
            .where(Allocation.id == stop.id)
            .values(status="done", picked=stop.qty, tote_code=tote)
        )
    before = movements(station)
    result = walking.scan(tote)
    assert not result.ok
    assert not guess.shows_as(result)
    assert result.message == (
        f"The stop at {stop.bin} ({stop.sku}) was recorded meanwhile, at another station; "
        f"nothing was recorded now — put the {stop.remaining} × {stop.sku} back in {stop.bin}."
    )
    assert movements(station) == before  # the bin is not counted down a second time
    # The walk goes on from what the database holds: that stop is done, the next one is up.
    assert walking.in_hand == 0
    assert walking.view is not None
    assert walking.view.stop(stop.id).status == "done"
    assert walking.stop is not None and walking.stop.id != stop.id
    assert walking.step is Step.BIN


def test_a_list_withdrawn_meanwhile_is_refused_with_its_words(
    station: StationContext, scene: Scene, walking: PickSession
) -> None:
    stop, view = to_the_tote(walking, scene)
    with station.sessions.begin() as s:
        s.execute(update(PickList).where(PickList.id == view.id).values(status="cancelled"))
    before = movements(station)
    result = walking.scan(view.tote_of(stop.slot) or "")
    assert not result.ok
    assert result.message.startswith(f"Pick list {view.number} was withdrawn meanwhile;")
    assert result.message.endswith(f"put the {stop.remaining} × {stop.sku} back in {stop.bin}.")
    assert movements(station) == before
    assert walking.view is not None and not walking.view.live


def test_results_that_differ_in_anything_shown_are_not_the_same(walking: PickSession) -> None:
    stop = walking.stop
    assert stop is not None
    guess = walking.predict(stop.bin)
    assert guess is not None
    assert guess.shows_as(replace(guess, elapsed_ms=3.0))  # timing is not shown
    for changed in (
        replace(guess, message="other words"),
        replace(guess, in_hand=1),
        replace(guess, step=Step.BIN),
        replace(guess, stop_recorded=True),
        replace(guess, view=None),
    ):
        assert not guess.shows_as(changed)
