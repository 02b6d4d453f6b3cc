"""The pack bench's use cases on a real SQLite station database, good paths and bad."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.bootstrap import StationContext
from app.domain.errors import PermissionDeniedError, ValidationError
from app.scanning.gtin import gtin_check_digit
from app.services import auth, orders, packing
from app.services.bench import PackBench
from app.services.views import OperatorView, OrderView, ScanOutcome
from app.store.models import (
    AuditEvent,
    Barcode,
    Order,
    OutboxOp,
    PrintJob,
    Product,
    ScanEvent,
    StockMovement,
    Tote,
)
from tests.conftest import find_order


@pytest.fixture
def bench(station: StationContext, packer: OperatorView) -> PackBench:
    return PackBench(station.uow, packer)


def gtins(order: OrderView) -> list[str]:
    return [line.gtin for line in order.lines for _ in range(line.ordered)]


def count(station: StationContext, model: type, *where: object) -> int:
    with station.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def product_not_on(station: StationContext, order: OrderView) -> str:
    on = {line.product_id for line in order.lines}
    with station.sessions() as s:
        for p in s.scalars(select(Product).where(Product.track_lot.is_(False)).limit(50)):
            if p.id not in on and p.gtin:
                return p.gtin[1:]  # as an EAN-13, the way the item's label carries it
    raise LookupError


def open_order(bench: PackBench, station: StationContext) -> OrderView:
    result = bench.scan(find_order(station, lines=3, units=5))
    assert result.ok, result.message
    assert result.order is not None
    return result.order


def test_pack_an_order_from_scan_to_slip(bench: PackBench, station: StationContext) -> None:
    order = open_order(bench, station)
    assert order.status == "packing"
    for code in gtins(order):
        r = bench.scan(code[1:])  # EAN-13 on the item, GTIN-14 in the database
        assert r.ok, r.message
        with station.uow(bench.operator) as uow:
            assert r.order == orders.get_order(uow, order.id)  # what the screen shows is stored
    assert bench.order is not None and bench.order.all_packed
    bench.close_package(1, 1250, "M-BOX 30×25×15")
    done = bench.complete()
    assert done.order.status == "packed"
    with station.sessions() as s:
        job = s.get(PrintJob, done.print_job_id)
        assert job is not None and job.status == "queued" and job.document == "packing_slip"
        moves = s.scalars(select(StockMovement).where(StockMovement.ref == order.number)).all()
        assert sum(m.qty for m in moves) == -5
        assert {m.reason for m in moves} == {"pack"}
        kinds = [op.kind for op in s.scalars(select(OutboxOp).order_by(OutboxOp.seq))]
    assert kinds[0] == "order.pack_started"
    assert kinds.count("order.item_packed") == 5
    assert kinds[-1] == "order.packed"


def test_outbox_sequence_is_gapless_and_every_op_has_its_audit_event(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    for code in gtins(order)[:3]:
        bench.scan(code)
    bench.scan("0000000000000-NOPE")
    with station.sessions() as s:
        ops = s.scalars(select(OutboxOp).order_by(OutboxOp.seq)).all()
        seqs = [op.seq for op in ops]
        assert seqs == list(range(1, len(ops) + 1))
        assert len({op.op_id for op in ops}) == len(ops)
        assert all(op.op_id.version == 7 for op in ops)
        audits = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action != "operator.signed_in")
        )
    assert audits == len(ops)


def test_a_failed_action_leaves_neither_change_nor_audit_nor_outbox(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    before = (count(station, OutboxOp), count(station, AuditEvent))
    with pytest.raises(ValidationError):
        bench.close_package(1, 900, "S-BOX")  # the package is still empty
    assert (count(station, OutboxOp), count(station, AuditEvent)) == before

    class BoomError(Exception):
        pass

    # A crash after the change and its outbox row were written, before commit.
    with pytest.raises(BoomError), station.uow(bench.operator) as uow:  # noqa: PT012
        packing.pack_resolved(
            uow,
            packing.ItemScan(order.id, gtins(order)[0]),
            *_resolved(uow, gtins(order)[0]),
        )
        raise BoomError
    assert (count(station, OutboxOp), count(station, AuditEvent)) == before
    with station.uow(bench.operator) as uow:
        assert orders.get_order(uow, order.id).units_packed == 0


def _resolved(uow: object, raw: str) -> tuple[object, object]:
    from app.scanning.normalize import normalize
    from app.services.resolve import resolve

    scan = normalize(raw)
    return scan, resolve(uow.session, scan)  # type: ignore[attr-defined]


def test_wrong_item_counts_nothing_and_says_what_to_do(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    stranger = product_not_on(station, order)
    r = bench.scan(stranger)
    assert r.outcome is ScanOutcome.REJECTED
    assert r.message == (
        f"{stranger} is not on order {order.number} — set it aside and scan the next item."
    )
    assert r.order is not None and r.order.units_packed == 0
    assert count(station, ScanEvent, ScanEvent.outcome == "rejected") == 1


def test_unknown_and_malformed_codes_are_recorded_and_count_nothing(
    bench: PackBench, station: StationContext
) -> None:
    open_order(bench, station)
    unknown = bench.scan("4006381333931")
    assert unknown.outcome is ScanOutcome.UNKNOWN
    assert "4006381333931 is not a product this station knows" in unknown.message
    bad = bench.scan("4006381333932")  # wrong check digit
    assert bad.outcome is ScanOutcome.MALFORMED
    assert "check digit" in bad.message
    assert count(station, ScanEvent, ScanEvent.outcome.in_(["unknown", "malformed"])) == 2
    assert bench.order is not None and bench.order.units_packed == 0


def test_over_scan_of_a_complete_line_is_refused(bench: PackBench, station: StationContext) -> None:
    order = open_order(bench, station)
    line = order.lines[0]
    for _ in range(line.ordered):
        assert bench.scan(line.gtin).ok
    r = bench.scan(line.gtin)
    assert r.outcome is ScanOutcome.REJECTED
    assert f"Line {line.line_no} ({line.sku}) is already complete" in r.message
    assert r.order is not None and r.order.line(line.id).packed == line.ordered


def test_a_location_scanned_as_an_item_is_refused(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    r = bench.scan(order.lines[0].bin)
    assert r.outcome is ScanOutcome.REJECTED
    assert "location barcode, not an item" in r.message


def test_product_needing_a_lot_refuses_the_plain_barcode_and_takes_the_gs1_one(
    bench: PackBench, station: StationContext
) -> None:
    with station.sessions() as s:
        order = next(
            o
            for o in s.scalars(select(Order).where(Order.status == "confirmed"))
            if any(ln.product.track_lot for ln in o.lines)
        )
        line = next(ln for ln in order.lines if ln.product.track_lot)
        gtin, number = line.product.gtin, order.number
    assert gtin
    assert bench.scan(number).ok
    plain = bench.scan(gtin)
    assert plain.outcome is ScanOutcome.REJECTED
    assert "needs its lot number" in plain.message
    gs1 = bench.scan(f"]C101{gtin}10LOT4711\x1d17271231")
    assert gs1.ok, gs1.message


def test_a_case_gtin_counts_its_units_and_never_more_than_needed(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    line = order.lines[0]
    body = "1" + line.gtin[1:13]
    case = body + str(gtin_check_digit(body))
    with station.sessions.begin() as s:
        s.merge(Barcode(code=case, kind="product", entity_id=line.product_id, units=2))
        s.merge(
            Barcode(
                code="2" + case[1:13] + "0",
                kind="product",
                entity_id=line.product_id,
                units=line.ordered,
            )
        )
    r = bench.scan(case)
    if line.ordered >= 2:
        assert r.ok and r.order is not None and r.order.line(line.id).packed == 2
    else:
        assert r.outcome is ScanOutcome.REJECTED
        assert "needs only 1 more — open the case" in r.message


def test_typed_quantity_for_large_lines(bench: PackBench, station: StationContext) -> None:
    order = open_order(bench, station)
    line = max(order.lines, key=lambda ln: ln.ordered)
    r = bench.scan(line.gtin, qty=line.ordered)
    assert r.ok and r.order is not None and r.order.line(line.id).complete
    too_many = bench.scan(order.lines[0].gtin, qty=0)
    assert too_many.outcome is ScanOutcome.REJECTED
    assert "not possible" in too_many.message


def test_a_product_on_two_lines_takes_a_typed_quantity_on_the_line_with_room(
    bench: PackBench, station: StationContext
) -> None:
    """One product on two lines (bought at two prices): a typed 3 goes to the line that
    wants 3, not refused by the first line that wants 1; the screen's guess agrees."""
    from sqlalchemy import update

    from app.services import item_scan
    from app.store.models import OrderLine

    number = find_order(station, lines=3, units=5)
    with station.sessions.begin() as s:
        first, second = s.scalars(
            select(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.number == number)
            .order_by(OrderLine.line_no)
            .limit(2)
        ).all()
        s.execute(update(OrderLine).where(OrderLine.id == first.id).values(qty_ordered=1))
        s.execute(
            update(OrderLine)
            .where(OrderLine.id == second.id)
            .values(product_id=first.product_id, qty_ordered=3)
        )
        first_id, second_id = first.id, second.id
    opened = bench.scan(number)
    assert opened.ok and opened.order is not None, opened.message
    gtin = opened.order.line(first_id).gtin

    guess = item_scan.predict(opened.order, gtin, qty=3)
    assert guess is not None and guess.line_id == second_id
    three = bench.scan(gtin, qty=3)
    assert three.ok and three.order is not None, three.message
    assert (three.order.line(first_id).packed, three.order.line(second_id).packed) == (0, 3)
    one = bench.scan(gtin)
    assert one.ok and one.order is not None, one.message
    assert (one.order.line(first_id).packed, one.order.line(second_id).packed) == (1, 3)
    more = bench.scan(gtin, qty=2)
    assert more.outcome is ScanOutcome.REJECTED
    assert "already complete" in more.message


def test_undo_last_scan_takes_the_unit_back_and_is_audited(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    first, second = gtins(order)[:2]
    bench.scan(first)
    bench.scan(second)
    after = bench.undo()
    assert after.units_packed == 1
    assert count(station, AuditEvent, AuditEvent.action == "order.pack_undone") == 1
    bench.undo()
    with pytest.raises(Exception, match="Nothing has been scanned"):
        bench.undo()


def test_missing_item_puts_order_on_hold_until_a_supervisor_badge(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    line = order.lines[-1]
    for code in gtins(order)[: -line.ordered]:
        assert bench.scan(code).ok
    held = bench.report_missing(line.id, line.ordered, "bin empty")
    assert held.status == "on_hold"
    assert "missing: bin empty" in held.hold_reason
    r = bench.scan(order.lines[0].gtin)
    assert r.outcome is ScanOutcome.REJECTED
    assert "on hold for a supervisor" in r.message
    with pytest.raises(PermissionDeniedError, match="override"):
        bench.release_hold("OP-1001", ship_short=True)  # a packer's own badge will not do
    released = bench.release_hold("OP-9001", ship_short=True)
    assert released.status == "packing" and released.all_packed
    bench.close_package(1, 800, "S-BOX 20×15×10")
    done = bench.complete()
    assert done.order.line(line.id).missing == line.ordered


def test_missing_item_needs_a_reason_and_a_possible_quantity(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    line = order.lines[0]
    with pytest.raises(ValidationError, match="Say why"):
        bench.report_missing(line.id, 1, "  ")
    with pytest.raises(ValidationError, match="type a number from 1 to"):
        bench.report_missing(line.id, line.ordered + 1, "damaged")


def test_two_packages_and_moving_units_between_them(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    codes = gtins(order)
    for code in codes[:3]:
        bench.scan(code)
    bench.close_package(1, 1500, "M-BOX 30×25×15")
    for code in codes[3:]:
        bench.scan(code)
    assert bench.order is not None
    assert [p.units for p in bench.order.packages] == [3, 2]
    line = bench.order.line(bench.order.packages[1].contents[0][0])
    moved = bench.move_units(line.id, 2, 1, 1)
    assert [p.units for p in moved.packages] == [4, 1]
    assert not moved.packages[0].closed  # its weight no longer holds: weigh it again
    with pytest.raises(ValidationError, match="still open"):
        bench.complete()
    bench.close_package(1, 1700, "M-BOX 30×25×15")
    bench.close_package(2, 400, "MAILER BAG")
    assert bench.complete().order.status == "packed"


@pytest.mark.parametrize(
    ("weight", "box", "words"),
    [
        (0, "S-BOX", "not a possible parcel weight"),
        (80_000, "S-BOX", "not a possible"),
        (500, " ", "Choose the box type"),
    ],
)
def test_closing_a_package_checks_weight_and_box(
    bench: PackBench, station: StationContext, weight: int, box: str, words: str
) -> None:
    order = open_order(bench, station)
    bench.scan(gtins(order)[0])
    with pytest.raises(ValidationError, match=words):
        bench.close_package(1, weight, box)


def test_typed_weight_parsing() -> None:
    from app.services.packages import parse_weight

    assert parse_weight("1,25") == 1250
    assert parse_weight(" 0.8 kg") == 800
    for bad in ("", "abc", "-1", "0", "71"):
        with pytest.raises(ValidationError):
            parse_weight(bad)


def test_completing_an_unfinished_order_is_refused(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    bench.scan(gtins(order)[0])
    with pytest.raises(ValidationError, match="not fully packed"):
        bench.complete()
    assert count(station, PrintJob) == 0


def test_a_packed_order_cannot_be_opened_again(bench: PackBench, station: StationContext) -> None:
    order = open_order(bench, station)
    for code in gtins(order):
        bench.scan(code)
    bench.close_package(1, 999, "S-BOX")
    bench.complete()
    again = bench.scan(order.number)
    assert again.outcome is ScanOutcome.REJECTED
    assert "already packed" in again.message


def test_a_tote_opens_the_order_it_carries(bench: PackBench, station: StationContext) -> None:
    number = find_order(station, lines=3, units=5)
    with station.sessions.begin() as s:
        order_id = s.scalar(select(Order.id).where(Order.number == number))
        s.query(Tote).filter(Tote.code == "T-0007").update({"order_id": order_id})
    r = bench.scan("T-0007")
    assert r.ok and r.order is not None and r.order.number == number
    empty = PackBench(station.uow, bench.operator).scan("T-0008")
    assert empty.outcome is ScanOutcome.REJECTED
    assert "Tote T-0008 is empty" in empty.message


def test_a_product_scanned_with_no_order_open_asks_for_the_order(
    bench: PackBench, station: StationContext
) -> None:
    order_number = find_order(station, lines=3, units=5)
    with station.sessions() as s:
        gtin = s.scalar(select(Product.gtin).limit(1))
    assert gtin
    r = bench.scan(gtin)
    assert r.outcome is ScanOutcome.REJECTED
    assert "not an order" in r.message
    assert bench.scan(order_number).ok


def test_a_picker_may_not_pack(station: StationContext) -> None:
    with station.uow() as uow:
        picker = auth.sign_in_badge(uow, "OP-1002")
    r = PackBench(station.uow, picker).scan(find_order(station, lines=3, units=5))
    assert r.outcome is ScanOutcome.REJECTED
    assert "Kim Picker may not pack orders: that needs the packer or supervisor role" in r.message


def test_sign_in_by_badge_and_by_name_and_pin(station: StationContext) -> None:
    with station.uow() as uow:
        assert auth.sign_in_pin(uow, "pat packer", "1111").name == "Pat Packer"
    for call, words in [
        (lambda uow: auth.sign_in_badge(uow, "OP-4040"), "Badge OP-4040 is not known"),
        (lambda uow: auth.sign_in_pin(uow, "Pat Packer", "1234"), "do not match"),
        (lambda uow: auth.sign_in_pin(uow, "Nobody", "1111"), "no operator called 'Nobody'"),
        (lambda uow: auth.sign_in_badge(uow, "OP-1001", "0000"), "PIN is not right"),
    ]:
        with pytest.raises(Exception, match=words), station.uow() as uow:
            call(uow)


def test_search_and_timeline(bench: PackBench, station: StationContext) -> None:
    order = open_order(bench, station)
    bench.scan(gtins(order)[0])
    bench.scan("4006381333931")
    with station.uow() as uow:
        by_number = orders.search_orders(uow, order.number)
        by_name = orders.search_orders(uow, order.customer.split()[0].lower())
        by_mail = orders.search_orders(uow, order.email.upper())
        timeline = orders.order_timeline(uow, order.id)
        assert orders.search_orders(uow, "   ") == []
    assert [o.number for o in by_number] == [order.number]
    assert order.number in [o.number for o in by_name]
    assert order.number in [o.number for o in by_mail]
    assert {o.email for o in by_mail} == {order.email}
    whats = [t.what for t in timeline]
    assert "packing started" in whats and "item packed" in whats
    assert "scan accepted" in whats and "scan unknown" in whats
    assert all(t.who == "Pat Packer" for t in timeline)
    assert [t.at for t in timeline] == sorted(t.at for t in timeline)


def test_a_new_package_after_closing_the_only_one(
    bench: PackBench, station: StationContext
) -> None:
    order = open_order(bench, station)
    bench.scan(gtins(order)[0])
    bench.close_package(1, 500, "S-BOX 20×15×10")
    after = bench.add_package()
    assert [(p.seq, p.closed) for p in after.packages] == [(1, True), (2, False)]
    with pytest.raises(ValidationError, match="Package 2 is still empty"):
        bench.add_package()


def test_station_commits_never_checkpoint_and_an_idle_checkpoint_empties_the_log(
    bench: PackBench, station: StationContext
) -> None:
    from pathlib import Path

    from app.store.db import checkpoint

    order = open_order(bench, station)
    for code in gtins(order):
        bench.scan(code)
    wal = Path(str(station.engine.url.database) + "-wal")
    with station.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    pages, done = checkpoint(station.engine) or (0, 0)
    assert pages > 0  # the scans' commits were all still in the log
    assert done == pages  # and the idle checkpoint folded every page into the file
    assert wal.exists()


def test_a_closed_package_gets_an_sscc_from_the_stations_own_block(
    station: StationContext, packer: OperatorView
) -> None:
    from app.domain.sscc import is_valid_sscc

    bench = PackBench(station.uow, packer, sscc_block=42)
    order = open_order(bench, station)
    codes = gtins(order)
    first_line = bench.scan(codes[0]).line_id
    bench.scan(codes[1])
    first = bench.close_package(1, 700, "S-BOX 20×15×10").packages[0].sscc
    bench.scan(codes[2])
    second = bench.close_package(2, 600, "S-BOX 20×15×10").packages[1].sscc
    assert first is not None
    assert second is not None
    assert is_valid_sscc(first)
    assert is_valid_sscc(second)
    assert first.startswith("0" + "4061230" + "042")  # extension, company prefix, block 42
    assert int(second[11:17]) == int(first[11:17]) + 1
    assert first_line is not None
    moved = bench.move_units(first_line, 1, 2, 1)  # reopens both packages
    assert not moved.packages[0].closed
    again = bench.close_package(1, 400, "S-BOX 20×15×10")
    assert again.packages[0].sscc == first  # a package keeps the SSCC it was given
