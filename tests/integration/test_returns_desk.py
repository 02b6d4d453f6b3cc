"""The returns desk on a station's SQLite: finding the order from anything on the parcel,
receiving with every refusal (nothing recorded, words, next step), grading and disposition
with the stock they move, the late return with a supervisor, and completion as one operation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.bootstrap import StationContext
from app.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from app.domain.returns import Condition, Disposition, Reason, Resolution
from app.services.returns import lookup, resolution, rmas
from app.services.returns.desk import Offer, Outcome
from app.services.returns.views import ToResolve
from app.store.models import Order, PackedUnit, PrintJob, ReturnUnit, Rma, ScanEvent
from tests.returns_kit import (
    PACKER,
    SUPERVISOR,
    make_rma,
    movements_by_reason,
    on_hand,
    one_product_on_two_lines,
    open_desk,
    order,
    outbox,
    plain_order_number,
    product_not_on,
    receive_every_line,
    rma_line,
    serial_order,
    sign_in,
)


def test_the_rma_barcode_opens_the_return_and_completing_books_it_in_once(
    station: StationContext,
) -> None:
    d = open_desk(station)
    number = d.demo.rmas[0]
    rma_id, line, product = rma_line(station, number)
    assert product.gtin and product.home_location_id
    before = on_hand(station, product.id, product.home_location_id)
    ops_before = len(outbox(station))

    opened = d.desk.scan(number)
    assert opened.outcome is Outcome.OPENED, opened.message
    assert number in opened.message and f"{line.qty} unit(s) expected" in opened.message
    for n in range(1, line.qty + 1):
        r = d.desk.scan(product.gtin)
        assert r.outcome is Outcome.COUNTED, r.message
        assert f"{n} of {line.qty}" in r.message
    for u in d.desk.units:
        graded = d.desk.grade(u.key, Condition.NEW_SEALED)
        assert "restock" in graded.message
    assert len(outbox(station)) == ops_before, "nothing is written before completion"

    done = d.desk.complete()

    assert done.units == line.qty
    assert on_hand(station, product.id, product.home_location_id) == before + line.qty
    ops = outbox(station)[ops_before:]
    assert [o.kind for o in ops] == ["returns.received"]
    assert [m["reason"] for m in ops[0].payload["movements"]] == ["return"] * line.qty
    with station.sessions() as s:
        rma = s.get_one(Rma, rma_id)
        assert rma.status == "received" and rma.received_op == ops[0].op_id
        labels = s.scalar(
            select(func.count()).select_from(PrintJob).where(PrintJob.document == "product_label")
        )
        assert labels == line.qty

    # Scanned again before it is resolved: it waits for its resolution here; nothing booked.
    again = d.desk.scan(number)
    assert again.outcome is Outcome.WAITING, again.message
    assert again.message.startswith(f"RMA {number} was booked in (")
    assert again.message.endswith(
        "and waits for its resolution — refund (F6), store credit (F7) or exchange (F8)."
    )
    assert again.to_resolve == ToResolve(rma_id, number)
    assert d.desk.open is None
    kinds = [o.kind for o in outbox(station)[ops_before:]]
    assert kinds == ["returns.received"], "a second scan books nothing"
    # Once resolved, the parcel's RMA is refused: it came back and was settled.
    with station.uow(d.clerk) as uow:
        resolution.resolve(uow, rma_id, Resolution.STORE_CREDIT)
    settled = d.desk.scan(number)
    assert settled.outcome is Outcome.REFUSED
    assert "was received and resolved already" in settled.message
    assert "Set the parcel aside" in settled.message
    assert settled.offers == (Offer.SET_ASIDE,)


def test_every_desk_scan_is_kept_as_a_scan_event(station: StationContext) -> None:
    """Refused scans at once, as rejected scan facts; accepted ones with the receipt."""
    d = open_desk(station)
    number = d.demo.rmas[0]
    rma_id, line, product = rma_line(station, number)
    stranger = product_not_on(station, d.demo.delivered[0])
    assert product.gtin and stranger.gtin
    ops_before = len(outbox(station))

    d.desk.scan("NO-SUCH-THING-42")
    d.desk.scan(number)
    refused = d.desk.scan(stranger.gtin)
    assert refused.outcome is Outcome.REFUSED
    d.desk.set_aside()
    for _ in range(line.qty):
        d.desk.scan(product.gtin)
    for u in d.desk.units:
        d.desk.grade(u.key, Condition.NEW_SEALED)

    with station.sessions() as s:
        early = s.scalars(select(ScanEvent).order_by(ScanEvent.at)).all()
    assert [(e.raw, e.outcome) for e in early] == [
        ("NO-SUCH-THING-42", "rejected"),
        (stranger.gtin, "rejected"),
    ], "refused scans are kept at once; accepted ones wait for the receipt"
    assert "names no shipped order" in early[0].message and early[0].order_id is None
    assert f"is not on RMA {number}" in early[1].message
    assert {e.workflow for e in early} == {"returns"}
    with station.sessions() as s:
        order_id = s.get_one(Rma, rma_id).order_id
    assert early[1].order_id == order_id, "a refusal inside an open return names its order"
    assert early[1].operator_id == d.clerk.id
    rejected = outbox(station)[ops_before:]
    assert [o.kind for o in rejected] == ["scan.rejected", "scan.rejected"]
    assert [o.payload["workflow"] for o in rejected] == ["returns", "returns"]
    assert [o.payload["scan_id"] for o in rejected] == [str(e.id) for e in early]

    d.desk.complete()

    [receipt] = [o for o in outbox(station)[ops_before:] if o.kind == "returns.received"]
    with station.sessions() as s:
        accepted = s.scalars(
            select(ScanEvent).where(ScanEvent.outcome == "accepted").order_by(ScanEvent.at)
        ).all()
    assert [e.raw for e in accepted] == [number] + [product.gtin] * line.qty
    assert {e.order_id for e in accepted} == {order_id}
    assert {e.workflow for e in accepted} == {"returns"}
    assert (accepted[0].resolved_kind, accepted[0].entity_id) == ("rma", rma_id)
    assert {(e.resolved_kind, e.entity_id) for e in accepted[1:]} == {("product", product.id)}
    assert [x["id"] for x in receipt.payload["scans"]] == [str(e.id) for e in accepted]


def test_candidates_are_found_from_anything_on_the_parcel(station: StationContext) -> None:
    d = open_desk(station)
    first = d.demo.delivered[0]
    o = order(station, first)
    gtin = o.lines[0].product.gtin
    assert gtin is not None
    number, serial, _p = serial_order(station, d.demo)
    with station.uow(d.clerk) as uow:
        by_rma = lookup.find_candidates(uow, d.demo.rmas[0])
        by_order = lookup.find_candidates(uow, first.lower())
        by_tracking = lookup.find_candidates(uow, d.demo.tracking[first])
        by_product = lookup.find_candidates(uow, gtin)
        by_serial = lookup.find_candidates(uow, serial)
        nothing = lookup.find_candidates(uow, "NO-SUCH-THING-42")
    assert [(c.order_number, c.matched_by) for c in by_rma] == [(first, "rma")]
    assert by_rma[0].rma_number == d.demo.rmas[0]
    assert [(c.order_number, c.matched_by) for c in by_order] == [(first, "order")]
    assert [(c.order_number, c.matched_by) for c in by_tracking] == [(first, "tracking")]
    assert first in [c.order_number for c in by_product]
    assert all(c.status in ("shipped", "delivered") for c in by_product)
    assert [(c.order_number, c.matched_by) for c in by_serial] == [(number, "serial")]
    assert nothing == []


def test_an_order_selling_the_scanned_product_on_two_lines_is_one_candidate(
    station: StationContext,
) -> None:
    """The same product on two lines of one order (bought at two prices, or an exchange of
    it): a scan of the product finds that order once, not once a line."""
    d = open_desk(station)
    number, first, _second = one_product_on_two_lines(d)
    assert first.product.gtin is not None
    with station.uow(d.clerk) as uow:
        found = [c.order_number for c in lookup.find_candidates(uow, first.product.gtin)]
    assert found.count(number) == 1
    assert len(found) == len(set(found)), found


def test_a_code_that_names_no_order_is_refused_with_what_to_scan_instead(
    station: StationContext,
) -> None:
    d = open_desk(station)
    r = d.desk.scan("NO-SUCH-THING-42")
    assert r.outcome is Outcome.REFUSED
    assert "names no shipped order" in r.message and "scan another code" in r.message


def test_a_wrong_item_is_refused_then_received_as_unexpected_into_quarantine(
    station: StationContext,
) -> None:
    d = open_desk(station)
    number = d.demo.rmas[0]
    rma_id, _line, _product = rma_line(station, number)
    rma_view_order = order(station, d.demo.delivered[0])
    stranger = product_not_on(station, rma_view_order.number)
    assert stranger.gtin
    d.desk.scan(number)

    r = d.desk.scan(stranger.gtin)

    assert r.outcome is Outcome.REFUSED
    assert f"{stranger.sku}" in r.message and f"is not on RMA {number}" in r.message
    assert r.offers == (Offer.SET_ASIDE, Offer.RECEIVE_UNEXPECTED)
    assert d.desk.units == [], "a refused item is not counted"

    taken = d.desk.receive_unexpected()
    assert taken.outcome is Outcome.COUNTED and "unexpected" in taken.message
    [unit] = d.desk.units
    assert unit.unexpected
    d.desk.grade(unit.key, Condition.NEW_SEALED)
    assert d.desk.unit(unit.key).disposition is Disposition.QUARANTINE
    d.desk.complete()
    assert on_hand(station, stranger.id, None) == 1
    assert movements_by_reason(station, number) == {"quarantine": 1}
    with station.sessions() as s:
        [row] = s.scalars(select(ReturnUnit).where(ReturnUnit.rma_id == rma_id)).all()
        assert row.unexpected and row.rma_line_id is None
        tags = s.scalar(
            select(func.count()).select_from(PrintJob).where(PrintJob.document == "quarantine_tag")
        )
        assert tags == 1


def test_more_units_than_the_rma_allows_are_refused(station: StationContext) -> None:
    d = open_desk(station)
    number = d.demo.rmas[0]
    _rma_id, line, product = rma_line(station, number)
    assert product.gtin
    d.desk.scan(number)
    for _ in range(line.qty):
        assert d.desk.scan(product.gtin).outcome is Outcome.COUNTED
    r = d.desk.scan(product.gtin)
    assert r.outcome is Outcome.REFUSED
    assert f"has {line.qty} of {product.sku} to come back" in r.message
    assert Offer.RECEIVE_UNEXPECTED in r.offers
    assert len(d.desk.units) == line.qty
    set_aside = d.desk.set_aside()
    assert "set aside" in set_aside.message


def test_an_unannounced_parcel_with_a_serial_that_was_not_sold_on_the_order(
    station: StationContext,
) -> None:
    d = open_desk(station)
    number, serial, product = serial_order(station, d.demo)
    assert product.gtin
    opened = d.desk.scan(d.demo.tracking[number])
    assert opened.outcome is Outcome.OPENED, opened.message
    assert "unannounced" in opened.message

    want = d.desk.scan(product.gtin)
    assert want.outcome is Outcome.WANT_SERIAL
    assert "serial number" in want.message
    bad = d.desk.scan("SN-NOT-OURS-1")
    assert bad.outcome is Outcome.REFUSED
    assert f"Serial SN-NOT-OURS-1 was not sold on order {number}" in bad.message
    assert d.desk.units == []

    assert d.desk.scan(product.gtin).outcome is Outcome.WANT_SERIAL
    good = d.desk.scan(serial)
    assert good.outcome is Outcome.COUNTED, good.message
    [unit] = d.desk.units
    assert unit.serial == serial
    d.desk.set_reason(unit.key, Reason.DEFECTIVE)
    d.desk.grade(unit.key, Condition.DEFECTIVE)
    assert d.desk.unit(unit.key).disposition is Disposition.RETURN_TO_VENDOR
    ops_before = len(outbox(station))
    done = d.desk.complete()

    ops = outbox(station)[ops_before:]
    assert [o.kind for o in ops] == ["returns.rma_created", "returns.received"]
    assert ops[0].payload["unannounced"] is True
    assert movements_by_reason(station, done.rma_number) == {"return": 1, "rtv": -1}


def test_the_same_serial_twice_on_one_return_is_refused(station: StationContext) -> None:
    d = open_desk(station)
    number, serial, product = serial_order(station, d.demo)
    assert product.gtin
    d.desk.scan(number)
    assert d.desk.scan(serial).outcome is Outcome.COUNTED
    again = d.desk.scan(serial)
    assert again.outcome is Outcome.REFUSED
    assert "scanned already" in again.message or "to come back" in again.message


def test_a_late_return_waits_for_a_supervisor_badge(station: StationContext) -> None:
    d = open_desk(station)
    late = d.demo.late[0]
    o = order(station, late)
    gtin = o.lines[0].product.gtin
    assert gtin

    refused = d.desk.scan(late)
    assert refused.outcome is Outcome.REFUSED
    assert "returns are taken within 30 days" in refused.message
    assert refused.offers[0] is Offer.SUPERVISOR
    assert d.desk.waiting_for_supervisor

    packer_badge = d.desk.scan(PACKER)
    assert packer_badge.outcome is Outcome.REFUSED
    assert "needs the supervisor" in packer_badge.message

    opened = d.desk.scan(SUPERVISOR)
    assert opened.outcome is Outcome.OPENED, opened.message
    assert "late, approved by Sam Supervisor" in opened.message
    r = d.desk.scan(gtin)
    assert r.outcome is Outcome.COUNTED, r.message
    d.desk.grade(d.desk.units[0].key, Condition.OPENED)
    done = d.desk.complete()
    with station.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.number == done.rma_number)).one()
        assert rma.unannounced and rma.late_approved_by == "Sam Supervisor"


def test_the_desk_judges_a_parcel_by_the_companys_newest_return_window(
    station: StationContext,
) -> None:
    from app.domain.returns import Policy

    d = open_desk(station)
    late = d.demo.late[0]
    boss = sign_in(station, SUPERVISOR)
    with station.uow(boss) as uow:
        rmas.set_policy(uow, Policy(window_days=5))
    with station.uow(boss) as uow:
        rmas.set_policy(uow, Policy(window_days=3650))  # the newest one counts

    opened = d.desk.scan(late)

    assert opened.outcome is Outcome.OPENED, opened.message
    assert "late" not in opened.message
    d.desk.cancel()
    with station.uow(boss) as uow:
        rmas.set_policy(uow, Policy(window_days=5))
    refused = d.desk.scan(late)
    assert refused.outcome is Outcome.REFUSED
    assert "returns are taken within 5 days" in refused.message


def test_a_late_rma_cannot_be_made_without_a_supervisor(station: StationContext) -> None:
    d = open_desk(station)
    o = order(station, d.demo.late[0])
    req = rmas.RmaRequest(o.id, [rmas.RequestLine(o.lines[0].id, 1, Reason.CHANGED_MIND)])
    with (
        pytest.raises(PermissionDeniedError, match="ask a supervisor to scan their badge"),
        station.uow(d.clerk) as uow,
    ):
        rmas.create_rma(uow, req)
    with station.uow(d.clerk) as uow:
        view = rmas.create_rma(uow, req, SUPERVISOR, print_slip=True)
    assert view.status == "authorised" and view.units == 1
    with station.sessions() as s:
        assert s.scalar(
            select(func.count()).select_from(PrintJob).where(PrintJob.document == "return_slip")
        )


def test_an_rma_for_more_than_was_shipped_is_refused(station: StationContext) -> None:
    d = open_desk(station)
    o = order(station, d.demo.delivered[4])
    line = o.lines[0]
    req = rmas.RmaRequest(o.id, [rmas.RequestLine(line.id, line.qty_ordered + 1, Reason.DAMAGED)])
    with (
        pytest.raises(ValidationError, match=f"at most {line.qty_ordered} can come back"),
        station.uow(d.clerk) as uow,
    ):
        rmas.create_rma(uow, req)


def test_an_order_that_never_shipped_has_nothing_to_return(station: StationContext) -> None:
    d = open_desk(station)
    r = d.desk.scan("SO-100001")
    assert r.outcome is Outcome.REFUSED
    assert "never left the warehouse" in r.message


@pytest.mark.parametrize(
    ("disposition", "expected", "in_bin"),
    [
        (Disposition.RESTOCK, {"return": 1}, 1),
        (Disposition.REFURBISH, {"refurbish": 1}, 0),
        (Disposition.QUARANTINE, {"quarantine": 1}, 0),
        (Disposition.SCRAP, {"return": 1, "scrap": -1}, 0),
        (Disposition.RETURN_TO_VENDOR, {"return": 1, "rtv": -1}, 0),
    ],
)
def test_stock_after_each_disposition(
    station: StationContext, disposition: Disposition, expected: dict[str, int], in_bin: int
) -> None:
    d = open_desk(station)
    number = d.demo.rmas[0]
    _rma_id, _line, product = rma_line(station, number)
    assert product.gtin and product.home_location_id
    before_bin = on_hand(station, product.id, product.home_location_id)
    before_apart = on_hand(station, product.id, None)
    d.desk.scan(number)
    d.desk.scan(product.gtin)
    key = d.desk.units[0].key
    d.desk.grade(key, Condition.OPENED)
    if d.desk.unit(key).disposition is not disposition:
        refused = d.desk.set_disposition(key, disposition)
        assert refused.outcome is Outcome.REFUSED and "needs a supervisor" in refused.message
        changed = d.desk.set_disposition(key, disposition, SUPERVISOR)
        assert changed.outcome is Outcome.COUNTED, changed.message
    d.desk.complete()

    assert movements_by_reason(station, number) == expected
    assert on_hand(station, product.id, product.home_location_id) == before_bin + in_bin
    apart = sum(expected.values()) - in_bin
    assert on_hand(station, product.id, None) == before_apart + apart
    # What the unit needs next is printed: a new label to go back on the shelf, else a tag
    # that says where it goes, so nobody shelves it.
    with station.sessions() as s:
        jobs = s.execute(
            select(PrintJob.document, PrintJob.ref_id).where(PrintJob.title.startswith(number))
        ).all()
    restocked = disposition is Disposition.RESTOCK
    assert [doc for doc, _ref in jobs] == ["product_label" if restocked else "quarantine_tag"]
    if not restocked:
        from app.services.returns import documents

        with station.uow(d.clerk) as uow:
            tag = documents.quarantine_tag(uow, jobs[0][1])
        assert tag.heading == disposition.label.upper()


def test_completing_needs_every_unit_graded_and_a_packer_cannot_receive(
    station: StationContext,
) -> None:
    d = open_desk(station)
    number = d.demo.rmas[0]
    _rma_id, _line, product = rma_line(station, number)
    assert product.gtin
    d.desk.scan(number)
    with pytest.raises(ValidationError, match="Scan at least one item"):
        d.desk.complete()
    d.desk.scan(product.gtin)
    with pytest.raises(ValidationError, match=f"Grade {product.sku} first"):
        d.desk.complete()

    from app.services.returns import receiving

    packer = sign_in(station, PACKER)
    rma_id, line, _p = rma_line(station, number)
    units = [receiving.UnitIn(product.id, Condition.OPENED, Disposition.RESTOCK, line.id)]
    with (
        pytest.raises(PermissionDeniedError, match="returns clerk or supervisor"),
        station.uow(packer) as uow,
    ):
        receiving.receive(uow, rma_id, units)


def test_customer_service_sees_what_of_an_order_may_still_come_back(
    station: StationContext,
) -> None:
    d = open_desk(station)
    number = d.demo.rmas[0]
    _rma_id, line, _product = rma_line(station, number)
    with station.sessions() as s:
        on_rma = s.scalars(select(Rma).where(Rma.number == number)).one()
        order_number = s.get_one(Order, on_rma.order_id).number
    with station.uow(d.clerk) as uow:
        found = rmas.returnable_order(uow, f"]C1{order_number}")  # as a scanner sends it
    assert found.number == order_number and found.late_by_days == 0
    [shown] = [ln for ln in found.lines if ln.order_line_id == line.order_line_id]
    assert shown.returnable == shown.shipped - line.qty, "units on the RMA are taken"
    with station.uow(d.clerk) as uow:
        late = rmas.returnable_order(uow, d.demo.late[0].lower())
    assert late.late_by_days > 0

    with (
        pytest.raises(NotFoundError, match="There is no order SO-NOPE"),
        station.uow(d.clerk) as uow,
    ):
        rmas.returnable_order(uow, "SO-NOPE")
    with station.sessions() as s:
        waiting = s.scalars(select(Order.number).where(Order.status == "confirmed")).first()
    with (
        pytest.raises(ValidationError, match="has not left the warehouse"),
        station.uow(d.clerk) as uow,
    ):
        rmas.returnable_order(uow, str(waiting))
    packer = sign_in(station, PACKER)
    with pytest.raises(PermissionDeniedError), station.uow(packer) as uow:
        rmas.returnable_order(uow, order_number)


def test_a_serial_that_came_back_on_another_rma_is_refused(station: StationContext) -> None:
    """Two RMAs for one unit each of a serial-tracked line: the unit booked in on the first
    cannot come back again on the second; the other serial sold on the order can."""
    d = open_desk(station)
    number, serial, product = serial_order(station, d.demo)
    assert product.gtin
    o = order(station, number)
    [line_no] = [ln.line_no for ln in o.lines if ln.product_id == product.id]
    with station.sessions() as s:
        sold = sorted(
            str(u.serial)
            for u in s.scalars(select(PackedUnit).where(PackedUnit.order_id == o.id))
            if u.serial
        )
    assert serial == sold[0] and len(sold) == 2
    first = make_rma(d, number, [(line_no, 1)])
    assert d.desk.scan(first).ok
    assert d.desk.scan(serial).outcome is Outcome.COUNTED
    d.desk.grade(d.desk.units[0].key, Condition.DEFECTIVE)
    d.desk.complete()
    second = make_rma(d, number, [(line_no, 1)])
    assert d.desk.scan(second).ok
    ops_before = len(outbox(station))

    assert d.desk.scan(product.gtin).outcome is Outcome.WANT_SERIAL
    again = d.desk.scan(serial)

    assert again.outcome is Outcome.REFUSED
    assert again.message == (
        f"Serial {serial} came back on RMA {first} already — set this item aside for a supervisor."
    )
    assert again.offers == (Offer.SET_ASIDE,)
    assert d.desk.units == [], "nothing is counted"
    assert [o.kind for o in outbox(station)[ops_before:]] == ["scan.rejected"]
    d.desk.set_aside()
    other = d.desk.scan(sold[1])
    assert other.outcome is Outcome.COUNTED, other.message
    assert [u.serial for u in d.desk.units] == [sold[1]]


def test_a_serial_booked_in_on_another_rma_meanwhile_is_refused_at_completion(
    station: StationContext,
) -> None:
    """Two parcels of one order open at two desks of the station: the first booked in, the
    second holding the same serial cannot be booked in, and books nothing."""
    from app.services.returns.desk import ReturnDesk

    d = open_desk(station)
    number, serial, product = serial_order(station, d.demo)
    o = order(station, number)
    [line_no] = [ln.line_no for ln in o.lines if ln.product_id == product.id]
    first = make_rma(d, number, [(line_no, 1)])
    second = make_rma(d, number, [(line_no, 1)])
    other = ReturnDesk(lambda: station.uow(d.clerk))
    for desk, rma in ((d.desk, first), (other, second)):
        assert desk.scan(rma).ok
        assert desk.scan(serial).outcome is Outcome.COUNTED
        desk.grade(desk.units[0].key, Condition.DEFECTIVE)
    d.desk.complete()
    ops_before = len(outbox(station))

    with pytest.raises(ValidationError) as refused:
        other.complete()

    assert refused.value.message == (
        f"Serial {serial} came back on RMA {first} already — set the item aside for a "
        "supervisor; nothing was booked."
    )
    assert len(outbox(station)) == ops_before
    with station.sessions() as s:
        assert s.scalars(select(Rma.status).where(Rma.number == second)).one() == "authorised"
        assert s.scalar(select(func.count()).where(ReturnUnit.serial == serial)) == 1


def _received_at(ctx: StationContext, rma: str) -> str:
    with ctx.sessions() as s:
        at = s.scalars(select(Rma.received_at).where(Rma.number == rma)).one()
    assert at is not None
    return f"{at:%d %b %Y %H:%M}"


def test_a_parcel_of_an_order_that_came_back_already_names_its_rma(
    station: StationContext,
) -> None:
    """The order's RMA was booked in and nothing more of it can come back: its label or
    packing slip is refused naming that RMA, not opened as an unannounced return."""
    d = open_desk(station)
    number = plain_order_number(d)
    lines = sorted((ln.line_no, ln.qty_ordered) for ln in order(station, number).lines)
    rma = receive_every_line(d, make_rma(d, number, lines))
    ops_before = len(outbox(station))

    for code in (d.demo.tracking[number], number):
        r = d.desk.scan(code)
        assert r.outcome is Outcome.REFUSED
        assert r.message == (
            f"Order {number} came back already on RMA {rma} (received "
            f"{_received_at(station, rma)}) — nothing more of it can come back. Set the parcel "
            "aside for a supervisor."
        )
        assert r.offers == (Offer.SET_ASIDE,)
        assert d.desk.open is None
    kinds = [o.kind for o in outbox(station)[ops_before:]]
    assert kinds == ["scan.rejected", "scan.rejected"], "nothing is booked"


def test_a_parcel_of_an_order_that_came_back_in_part_opens_what_is_left(
    station: StationContext,
) -> None:
    d = open_desk(station)
    number = plain_order_number(d)
    lines = sorted((ln.line_no, ln.qty_ordered) for ln in order(station, number).lines)
    rma = receive_every_line(d, make_rma(d, number, lines[:1]))
    left = sum(q for _n, q in lines[1:])

    r = d.desk.scan(d.demo.tracking[number])

    assert r.outcome is Outcome.OPENED
    assert r.message == (
        f"Order {number} came back in part on RMA {rma} (received {_received_at(station, rma)}): "
        f"an unannounced return of the {left} unit(s) left — scan each item."
    )
    assert sum(line.qty for line, _n in d.desk.expected()) == left


def test_a_cancelled_rma_is_refused_as_cancelled(station: StationContext) -> None:
    from app.services.returns import receiving

    d = open_desk(station)
    number = d.demo.rmas[0]
    rma_id, line, product = rma_line(station, number)
    with station.sessions() as s, s.begin():
        s.get_one(Rma, rma_id).status = "cancelled"
    words = (
        f"RMA {number} was cancelled — nothing was booked. Set the parcel aside for a supervisor."
    )

    r = d.desk.scan(number)

    assert (r.outcome, r.message, r.offers) == (Outcome.REFUSED, words, (Offer.SET_ASIDE,))
    units = [receiving.UnitIn(product.id, Condition.OPENED, Disposition.RESTOCK, line.id)]
    with pytest.raises(receiving.AlreadyReceivedError) as refused, station.uow(d.clerk) as uow:
        receiving.receive(uow, rma_id, units)
    assert refused.value.message == words


def test_another_parcels_code_while_a_return_is_open_says_to_finish_this_one_first(
    station: StationContext,
) -> None:
    d = open_desk(station)
    mine, other = d.demo.rmas[0], d.demo.rmas[1]
    with station.sessions() as s:
        other_order = s.scalars(
            select(Order.number).join(Rma, Rma.order_id == Order.id).where(Rma.number == other)
        ).one()
    elsewhere = d.demo.delivered[3]
    assert d.desk.scan(mine).ok
    ops_before = len(outbox(station))

    by_rma = d.desk.scan(other)
    by_label = d.desk.scan(d.demo.tracking[elsewhere])

    assert (by_rma.outcome, by_rma.message) == (
        Outcome.REFUSED,
        f"{other} is the RMA of another return (order {other_order}) — complete the open "
        "return (F10) or cancel it (Esc) first, then scan it again.",
    )
    assert (by_label.outcome, by_label.message) == (
        Outcome.REFUSED,
        f"{d.demo.tracking[elsewhere]} is order {elsewhere}'s, another parcel — complete the "
        "open return (F10) or cancel it (Esc) first, then scan it again.",
    )
    assert d.desk.state().rma_number == mine, "the open return stays open"
    assert [o.kind for o in outbox(station)[ops_before:]] == ["scan.rejected"] * 2
    own = d.desk.scan(d.demo.tracking[d.demo.delivered[0]])
    assert (own.outcome, own.message) == (
        Outcome.OPENED,
        "This return is open already — scan its items.",
    )


def test_a_parcel_short_of_units_leaves_them_free_to_come_back_later(
    station: StationContext,
) -> None:
    """The RMA wants every unit of a line of two or more; the parcel brings one. Completing
    says what did not come; the RMA scanned again waits for its resolution and says how the
    rest is booked in; the order's label opens the units left; a new RMA may take them."""
    d = open_desk(station)
    number, line = next(
        (n, ln)
        for n in d.demo.delivered[3:-2]
        for ln in order(station, n).lines
        if ln.qty_ordered >= 2 and not ln.product.track_serial
    )
    rma = make_rma(d, number, [(line.line_no, line.qty_ordered)])
    product = station_product(station, line.product_id)
    assert d.desk.scan(rma).outcome is Outcome.OPENED
    assert d.desk.scan(product).outcome is Outcome.COUNTED
    for u in d.desk.units:
        d.desk.grade(u.key, Condition.OPENED)
    done = d.desk.complete()
    missing = line.qty_ordered - 1
    assert (done.units, done.missing) == (1, missing)

    again = d.desk.scan(rma)
    assert again.outcome is Outcome.WAITING
    assert again.message.endswith(
        f"{missing} unit(s) of it did not come then: to book them in, scan order {number}'s "
        "number or label."
    )
    with station.uow(d.clerk) as uow:
        o = uow.session.get_one(Order, line.order_id)
        assert rmas.returnable(uow, o)[line.id] == missing
    rest = d.desk.scan(number)
    assert rest.outcome is Outcome.OPENED, rest.message
    left = sum(ln.qty_ordered - ln.qty_missing for ln in order(station, number).lines) - 1
    assert f"an unannounced return of the {left} unit(s) left" in rest.message
    [(expected, _n)] = [(x, n) for x, n in d.desk.expected() if x.order_line_id == line.id]
    assert expected.qty == missing  # the units that did not come can come now
    assert d.desk.scan(product).outcome is Outcome.COUNTED


def station_product(ctx: StationContext, product_id: object) -> str:
    from app.store.models import Product

    with ctx.sessions() as s:
        gtin = s.get_one(Product, product_id).gtin
    assert gtin
    return gtin


def test_a_unit_on_an_rma_keeps_the_reason_customer_service_recorded(
    station: StationContext,
) -> None:
    d = open_desk(station)
    number = d.demo.rmas[0]
    _rma_id, line, product = rma_line(station, number)
    assert d.desk.scan(number).outcome is Outcome.OPENED
    assert product.gtin and d.desk.scan(product.gtin).outcome is Outcome.COUNTED
    [unit] = d.desk.units
    refused = d.desk.set_reason(unit.key, Reason.CHANGED_MIND)
    assert refused.outcome is Outcome.REFUSED
    assert refused.message == (
        f"{product.sku} came back on RMA {number}, whose reason stands — customer service "
        "changes it on the RMA."
    )
    assert d.desk.units[0].reason == Reason(line.reason)


def test_a_unit_of_a_product_with_no_home_bin_goes_back_to_the_bin_scanned(
    station: StationContext,
) -> None:
    from app.store.models import Location, Product

    d = open_desk(station)
    number = d.demo.rmas[0]
    _rma_id, line, product = rma_line(station, number)
    assert product.gtin
    with station.engine.begin() as conn:  # a product nobody gave a home bin
        conn.execute(
            Product.__table__.update().where(Product.id == product.id).values(home_location_id=None)
        )
        shelf = conn.execute(select(Location.id, Location.code).limit(1).offset(5)).one()
    before = on_hand(station, product.id, shelf.id)
    assert d.desk.scan(number).outcome is Outcome.OPENED
    early = d.desk.scan(shelf.code)
    assert early.outcome is Outcome.REFUSED
    assert early.message == (
        f"{shelf.code} is a bin — scan it for an item graded to go back to stock, after grading it."
    )
    for _ in range(line.qty):
        assert d.desk.scan(product.gtin).outcome is Outcome.COUNTED
    for u in d.desk.units:
        assert "restock" in d.desk.grade(u.key, Condition.NEW_SEALED).message
    with pytest.raises(ValidationError) as no_bin:
        d.desk.complete()
    assert no_bin.value.message == (
        f"{product.sku} has no home bin — scan the label of the bin it goes back to, or change "
        "where it goes (quarantine)."
    )
    for _ in range(line.qty):
        placed = d.desk.scan(shelf.code)
        assert placed.outcome is Outcome.COUNTED
        assert placed.message == f"{product.sku} goes back to bin {shelf.code}."
    assert {u.bin_code for u in d.desk.state().units} == {shelf.code}
    d.desk.complete()
    assert on_hand(station, product.id, shelf.id) == before + line.qty


def test_warming_the_desk_up_records_nothing_and_opens_nothing(station: StationContext) -> None:
    """At sign-in the desk makes a parcel scan's look-ups once, ahead of the first parcel: it
    only reads, and the clerk's desk stays empty."""
    d = open_desk(station)

    def recorded() -> tuple[int, int]:
        with station.sessions() as s:
            events = s.scalar(select(func.count()).select_from(ScanEvent)) or 0
        return events, len(outbox(station))

    before = recorded()
    d.desk.warm_up()
    assert recorded() == before
    assert d.desk.open is None and d.desk.units == []
    opened = d.desk.scan(d.demo.rmas[0])
    assert opened.outcome is Outcome.OPENED, opened.message
