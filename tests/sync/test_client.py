"""The station's sync client on a real PostgreSQL, through each station's own login: the first
download, push, pull, rejections, and the rule that a pull never hides a pending change."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update

from app.bootstrap import bootstrap
from app.domain.errors import ConfigError, SyncError
from app.services import packing
from app.store.models import InboxOp, Order, OutboxOp, SyncDeferred, SyncState, Warehouse
from app.sync import client, feed
from app.sync.checksum import central_view, station_view
from app.sync.ops import APPLIED, REJECTED
from tests.sync.centralkit import Central, central
from tests.sync.stationkit import (
    Bench,
    add_bench,
    confirmed_orders,
    load_again,
    station_config,
    unit_codes,
)

pytestmark = pytest.mark.postgres
__all__ = ["central"]


def _warehouse(c: Central, code: str = "WH1") -> uuid.UUID:
    with c.engine.connect() as conn:
        wid = conn.scalar(select(Warehouse.id).where(Warehouse.code == code))
    assert wid is not None
    return wid


def _order(engine: Engine, number: str) -> dict[str, object]:
    """The order as a person compares it: state, claim, lines and units packed."""
    with engine.connect() as conn:
        oid = conn.scalar(select(Order.id).where(Order.number == number))
        agg = feed.serialise(conn, "order", oid)
    assert agg is not None
    o = agg["order"]
    return {
        "status": o["status"],
        "claimed_by": o["claimed_by_station"],
        "lines": sorted((ln["line_no"], ln["qty_packed"]) for ln in agg["lines"]),
        "units": sorted((u["id"], u["qty"], u["undone"]) for u in agg["packed_units"]),
    }


def _outbox(b: Bench) -> list[tuple[int, str, str, str | None]]:
    with b.ctx.engine.connect() as conn:
        rows = conn.execute(
            select(OutboxOp.seq, OutboxOp.kind, OutboxOp.status, OutboxOp.result).order_by(
                OutboxOp.seq
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _open_and_scan(b: Bench, number: str, scans: int, badge: str = "OP-1001") -> uuid.UUID:
    who = b.sign_in(badge)
    with b.ctx.uow(who) as uow:
        order_id = packing.open_order(uow, number).id
    for code in unit_codes(b.ctx, order_id)[:scans]:
        with b.ctx.uow(who) as uow:
            packing.scan_item(uow, packing.ItemScan(order_id, code))
    return order_id


# ----------------------------------------------------------------------------- first download


def test_a_new_station_holds_central_state_at_the_feed_position(
    central: Central, tmp_path: Path
) -> None:
    b = add_bench(central, "PACK-01", tmp_path)
    mine, theirs = station_view(b.ctx.engine), central_view(central.engine, _warehouse(central))
    assert mine.differences(theirs) == []
    assert mine.digest == theirs.digest
    assert mine.position == theirs.position > 0, "station add published the station"
    assert theirs.tables["product"][0] == 120
    assert theirs.tables["sales_order"][0] == 40
    with b.ctx.engine.connect() as conn:
        state = conn.execute(select(SyncState)).one()
    assert state.bootstrapped_at is not None
    assert b.ctx.station_id == central.stations["PACK-01"].station_id
    # Loading it again is not needed: the next start opens the same database.
    again = bootstrap(b.ctx.config)
    assert again.station_id == b.ctx.station_id
    again.dispose()
    b.close()


def test_a_station_loaded_again_never_repeats_an_sscc(central: Central, tmp_path: Path) -> None:
    from app.services.bench import PackBench

    def pack_one(b: Bench, number: str) -> str:
        bench = PackBench(b.ctx.uow, b.sign_in(), sscc_block=7)
        opened = bench.scan(number)
        assert opened.ok and opened.order is not None, opened.message
        assert bench.scan(unit_codes(b.ctx, opened.order.id)[0]).ok
        sscc = bench.close_package(1, 500, "S-BOX 20×15×10").packages[0].sscc
        assert sscc is not None
        return sscc

    b = add_bench(central, "PACK-01", tmp_path)
    first, second = confirmed_orders(b.ctx, 2)
    given = pack_one(b, first)
    again = load_again(central, b, tmp_path)  # its disk replaced
    try:
        following = pack_one(again, second)
    finally:
        again.close()
    assert following != given
    assert int(following[11:17]) == int(given[11:17]) + 1  # the next of the block


def test_a_station_of_another_warehouse_gets_only_its_own_orders_and_bins(
    central: Central, tmp_path: Path
) -> None:
    from app.ids import new_id

    with central.engine.begin() as conn:
        company = conn.scalar(text("SELECT company_id FROM warehouse LIMIT 1"))
        wid = new_id()
        conn.execute(
            text("INSERT INTO warehouse (id, company_id, code, name) VALUES (:i, :c, 'WH2', 'B')"),
            {"i": wid, "c": company},
        )
        feed.publish(conn, [("warehouse", wid)])
    b = add_bench(central, "SHOP-2", tmp_path, warehouse="WH2")
    mine, theirs = station_view(b.ctx.engine), central_view(central.engine, wid)
    assert mine.differences(theirs) == []
    assert mine.tables["sales_order"][0] == 0, "WH1's orders stay in WH1"
    assert mine.tables["location"][0] == 0
    assert mine.tables["product"][0] == 120, "products are shared by every warehouse"
    b.close()


def test_settings_that_do_not_match_central_say_what_to_change(
    central: Central, tmp_path: Path
) -> None:
    login = central.add_station("PACK-01")
    other = central.add_station("PACK-02")
    config = station_config(central, login, tmp_path)
    with pytest.raises(ConfigError) as e:
        bootstrap(replace(config, central=other.central))
    assert "knows this login as station PACK-02" in e.value.message
    assert 'set station_name = "PACK-02"' in e.value.message
    with pytest.raises(ConfigError) as e:
        bootstrap(replace(config, central=replace(login.central, warehouse="WH9")))
    assert 'set warehouse = "WH1" in [central]' in e.value.message
    assert not (tmp_path / "PACK-01.db").exists(), "nothing half-loaded is left behind"


def test_a_central_database_that_cannot_be_reached_at_first_start_says_so(
    central: Central, tmp_path: Path
) -> None:
    login = central.add_station("PACK-01")
    config = station_config(central, login, tmp_path)
    closed = replace(config, central=replace(login.central, port=1))
    with pytest.raises(SyncError) as e:
        bootstrap(closed)
    assert "has not loaded its data from the central database" in e.value.message
    assert "Check the network and the [central] settings" in e.value.message


def test_a_standalone_database_with_unsent_work_is_not_thrown_away(
    central: Central, tmp_path: Path, demo_template: Path
) -> None:
    import shutil

    login = central.add_station("PACK-01")
    config = station_config(central, login, tmp_path)
    path = tmp_path / "PACK-01.db"
    shutil.copyfile(demo_template, path)
    standalone = bootstrap(replace(config, central=None, station_name="PACK-01"))
    with standalone.uow() as uow:
        uow.record("print.dialog", {"job": "x"}, entity="print_job", entity_id=None)
    standalone.dispose()
    with pytest.raises(ConfigError) as e:
        bootstrap(config)
    assert "holds 1 operation(s) made while the station ran standalone" in e.value.message
    assert path.exists()


def test_a_standalone_database_with_nothing_unsent_is_kept_aside(
    central: Central, tmp_path: Path, demo_template: Path
) -> None:
    import shutil

    login = central.add_station("PACK-01")
    path = tmp_path / "PACK-01.db"
    shutil.copyfile(demo_template, path)
    ctx = bootstrap(station_config(central, login, tmp_path))
    assert ctx.station_id == login.station_id
    assert [p.name for p in tmp_path.glob("PACK-01.db.standalone-*")]
    ctx.dispose()


# ----------------------------------------------------------------------------- push


def test_push_sends_every_operation_once_in_order(central: Central, tmp_path: Path) -> None:
    b = add_bench(central, "PACK-01", tmp_path)
    number = confirmed_orders(b.ctx, 1)[0]
    _open_and_scan(b, number, 2)
    assert b.push() == 3
    assert [(seq, status) for seq, _k, status, _r in _outbox(b)] == [
        (1, "sent"),
        (2, "sent"),
        (3, "sent"),
    ]
    assert b.push() == 0, "sent operations are not sent again"
    # A crash between the central commit and marking them sent: the next push resends them.
    with b.ctx.engine.begin() as conn:
        conn.execute(update(OutboxOp).values(status="pending"))
    assert b.push() == 3
    with central.engine.connect() as conn:
        inbox = conn.execute(
            select(InboxOp.station_id, InboxOp.seq, InboxOp.kind).order_by(InboxOp.seq)
        ).all()
    assert [(s, q) for s, q, _k in inbox] == [
        (b.ctx.station_id, 1),
        (b.ctx.station_id, 2),
        (b.ctx.station_id, 3),
    ]
    assert [k for _s, _q, k in inbox] == [
        "order.pack_started",
        "order.item_packed",
        "order.item_packed",
    ]
    b.close()


def test_a_long_queue_goes_up_in_batches_of_500(central: Central, tmp_path: Path) -> None:
    from app.domain.errors import ScanRejectedError

    b = add_bench(central, "PACK-01", tmp_path)
    who = b.sign_in()
    for i in range(1203):
        with b.ctx.uow(who) as uow:
            packing.record_rejected_scan(uow, f"BAD-{i}", None, ScanRejectedError("no"))
    batches: list[int] = []
    real_execute = b.conn.execute

    def counting(query: object, params: object = None, **kw: object) -> object:
        if "INSERT INTO inbox" in str(query):
            batches.append(len(params[0]))  # type: ignore[index]
        return real_execute(query, params, **kw)  # type: ignore[arg-type]

    b.conn.execute = counting  # type: ignore[method-assign]
    assert b.push() == 1203
    assert batches == [500, 500, 203]
    assert central.count("inbox") == 1203
    b.close()


# ----------------------------------------------------------------------------- pull


def test_pull_stores_results_applies_the_feed_and_marks_operations_done(
    central: Central, tmp_path: Path
) -> None:
    b = add_bench(central, "PACK-01", tmp_path)
    number = confirmed_orders(b.ctx, 1)[0]
    _open_and_scan(b, number, 2)
    b.push()
    with central.hub() as hub:
        assert hub.drain() == 3
    pulled = b.pull()
    assert pulled.results == 3
    assert pulled.done == 3
    assert [(status, result) for _s, _k, status, result in _outbox(b)] == [("done", APPLIED)] * 3
    mine, theirs = station_view(b.ctx.engine), central_view(central.engine, _warehouse(central))
    assert mine.differences(theirs) == []
    assert _order(b.ctx.engine, number)["claimed_by"] == str(b.ctx.station_id)
    again = b.pull()
    assert (again.results, again.rows) == (0, 0), "nothing is pulled twice"
    b.close()


def test_a_station_sees_what_another_station_did(central: Central, tmp_path: Path) -> None:
    a = add_bench(central, "PACK-01", tmp_path)
    b = add_bench(central, "PACK-02", tmp_path)
    number = confirmed_orders(a.ctx, 1)[0]
    _open_and_scan(a, number, 1)
    a.push()
    with central.hub() as hub:
        hub.drain()
    b.sync()
    assert _order(b.ctx.engine, number) == _order(central.engine, number)
    assert _order(b.ctx.engine, number)["claimed_by"] == str(a.ctx.station_id)
    a.close()
    b.close()


def test_a_rejected_claim_gives_the_order_back_as_central_has_it_and_waits_as_a_conflict(
    central: Central, tmp_path: Path
) -> None:
    a = add_bench(central, "PACK-01", tmp_path)
    b = add_bench(central, "PACK-02", tmp_path)
    number = confirmed_orders(a.ctx, 1)[0]
    _open_and_scan(a, number, 0)
    a.push()
    hub = central.hub()
    hub.drain()
    with b.ctx.uow(b.sign_in()) as uow:  # bench B had not heard: it opens the same order
        packing.open_order(uow, number)
    assert _order(b.ctx.engine, number)["status"] == "packing"
    b.push()
    hub.drain()
    b.pull()
    [(_seq, kind, status, result)] = _outbox(b)
    assert (kind, status, result) == ("order.pack_started", "done", REJECTED)
    with b.ctx.engine.connect() as conn:
        reason = conn.scalar(select(OutboxOp.reason))
        assert client.counts(conn).conflicts == 1
    assert f"Order {number} is being packed at PACK-01 by Pat Packer since" in str(reason)
    assert _order(b.ctx.engine, number) == _order(central.engine, number)
    assert _order(b.ctx.engine, number)["claimed_by"] == str(a.ctx.station_id)
    with b.ctx.engine.begin() as conn:
        op_id = conn.scalar(select(OutboxOp.op_id))
        assert client.acknowledge(conn, [op_id]) == 1
        assert client.counts(conn).conflicts == 0
    a.close()
    b.close()


# ----------------------------------------------------------------------------- protection


def test_a_pull_never_hides_a_pending_local_change(central: Central, tmp_path: Path) -> None:
    a = add_bench(central, "PACK-01", tmp_path)
    b = add_bench(central, "PACK-02", tmp_path)
    hub = central.hub()
    first, second = confirmed_orders(a.ctx, 2)
    # Bench B packs the first order and starts the second; both reach central.
    _open_and_scan(b, first, 2)
    _open_and_scan(b, second, 1)
    b.push()
    hub.drain()
    # Bench A, offline, opened the first order too and scanned an item into its own box.
    _open_and_scan(a, first, 1)
    mine_before = _order(a.ctx.engine, first)
    assert mine_before != _order(central.engine, first)
    pulled = a.pull()  # online again: it pulls before it has pushed
    assert pulled.held_back >= 1
    assert _order(a.ctx.engine, first) == mine_before, "the pull hid the bench's own scan"
    assert _order(a.ctx.engine, second) == _order(central.engine, second), "the rest is pulled"
    # Its operations go up; the claim is refused, the scanned unit is kept (a fact).
    a.push()
    hub.drain()
    a.sync()
    assert _order(a.ctx.engine, first) == _order(central.engine, first)
    assert set(mine_before["units"]) <= set(_order(central.engine, first)["units"])  # type: ignore[arg-type]
    mine, theirs = station_view(a.ctx.engine), central_view(central.engine, _warehouse(central))
    assert mine.differences(theirs) == []
    with a.ctx.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(SyncDeferred)) == 0
        tasks = conn.execute(
            text("SELECT kind, details FROM exception_task WHERE status = 'open'")
        ).all()
    assert [t.kind for t in tasks] == ["disputed_claim"], "the supervisor hears of it"
    a.close()
    b.close()


def test_a_row_held_back_behind_an_operation_that_changed_nothing_is_applied_when_covered(
    central: Central, tmp_path: Path
) -> None:
    from app.domain.errors import ScanRejectedError

    a = add_bench(central, "PACK-01", tmp_path)
    b = add_bench(central, "PACK-02", tmp_path)
    hub = central.hub()
    number = confirmed_orders(a.ctx, 1)[0]
    order_id = _open_and_scan(a, number, 0)
    a.sync()
    hub.drain()
    a.sync()
    # Bench A records a rejected scan on the order (a fact that changes nothing centrally)...
    with a.ctx.uow(a.sign_in()) as uow:
        packing.record_rejected_scan(uow, "WRONG-1", order_id, ScanRejectedError("not on it"))
    # ...while bench B, which had not heard of A's claim, packs a unit into it.
    _open_and_scan(b, number, 1)
    b.push()
    hub.drain()
    assert a.pull().held_back >= 1
    a.push()
    hub.drain()
    a.sync()
    with a.ctx.engine.connect() as conn:
        pos = conn.scalar(select(OutboxOp.result_pos).where(OutboxOp.kind == "scan.rejected"))
    assert pos == 0, "the rejected scan changed nothing shared"
    assert _order(a.ctx.engine, number) == _order(central.engine, number), (
        "B's unit never reached bench A"
    )
    a.close()
    b.close()


def test_a_refused_completion_takes_its_ledger_rows_back_out(
    central: Central, tmp_path: Path
) -> None:
    a = add_bench(central, "PACK-01", tmp_path)
    b = add_bench(central, "PACK-02", tmp_path)
    hub = central.hub()
    number = confirmed_orders(a.ctx, 1)[0]
    _open_and_scan(a, number, 0)
    a.push()
    hub.drain()
    # Bench B, offline, packs the whole order and completes it: its ledger shows units out.
    from app.services import packages

    order_id = _open_and_scan(b, number, 999)  # every unit
    who = b.sign_in()
    with b.ctx.uow(who) as uow:
        packages.close_package(uow, order_id, 1, 800, packages.BOX_TYPES[0])
    with b.ctx.uow(who) as uow:
        packing.complete_order(uow, order_id)
    assert _ledger(b.ctx.engine, number), "the completion wrote ledger rows at the bench"
    b.push()
    hub.drain()
    b.sync()
    with b.ctx.engine.connect() as conn:
        refused = conn.scalar(
            select(OutboxOp.reason).where(
                OutboxOp.kind == "order.packed", OutboxOp.result == REJECTED
            )
        )
    assert refused, "central let a bench that does not hold the order complete it"
    assert _ledger(b.ctx.engine, number) == [] == _ledger(central.engine, number)
    mine, theirs = station_view(b.ctx.engine), central_view(central.engine, _warehouse(central))
    assert mine.differences(theirs) == []
    a.close()
    b.close()


def _ledger(engine: Engine, number: str) -> list[tuple[str, int]]:
    from app.store.models import StockMovement

    with engine.connect() as conn:
        rows = conn.execute(
            select(StockMovement.id, StockMovement.qty).where(StockMovement.ref == number)
        )
        return sorted((str(i), q) for i, q in rows)
