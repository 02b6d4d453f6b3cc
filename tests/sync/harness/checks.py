"""What "every operation applied exactly once" means, checked the way a person would check it
after a storm: count the operations, the ledger rows and the oversell tasks at both ends, add
the ledger up and compare it with what the people at the stations did."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select, text

from app.store.models import OutboxOp
from tests.sync.harness.company import Company, Site
from tests.sync.harness.procs import Proc, wait_for
from tests.sync.harness.stockplay import Action, Ledger, intended, read_ledger, replay


@dataclass
class Played:
    """What the people at one station did, operation by operation (in the station's order)."""

    site: Site
    ops: list[tuple[uuid.UUID, Action]] = field(default_factory=list)

    @property
    def actions(self) -> list[Action]:
        return [a for _, a in self.ops]

    @property
    def rows(self) -> int:
        return sum(len(a.deltas()) for a in self.actions)


def outbox_states(site: Site) -> dict[str, int]:
    with site.engine().connect() as conn:
        return {
            f"{status}/{result}": n
            for status, result, n in conn.execute(
                select(OutboxOp.status, OutboxOp.result, func.count()).group_by(
                    OutboxOp.status, OutboxOp.result
                )
            )
        }


def all_done(site: Site, total: int) -> bool:
    return outbox_states(site) == {"done/applied": total}


def wait_until_done(
    co: Company, played: Sequence[Played], programs: Sequence[Proc], timeout: float = 600
) -> None:
    """Until every station has every operation it recorded done (while ``programs`` run)."""
    wait_for(
        "every station to have every operation done",
        lambda: all(all_done(p.site, len(p.ops)) for p in played),
        timeout,
        alive=programs,
        context=lambda: f"{[outbox_states(p.site) for p in played]}\n{co.runner.logs()}",
    )


def assert_exactly_once(co: Company, played: Sequence[Played], start: Ledger) -> None:
    """Every operation in the inbox once, applied once, its rows in the ledger and the feed
    once; central's ledger is the start plus what was done; every station's outbox is done and
    its ledger equals central's; each operation that oversold raised one task, no other did."""
    for p in played:
        sid = p.site.station_id
        expected = {op_id for op_id, _ in p.ops}
        inbox = {r[0] for r in co.rows("SELECT op_id FROM inbox WHERE station_id = :s", s=sid)}
        assert inbox == expected, f"{p.site.name}: inbox differs from what the station recorded"
        results = co.rows(
            "SELECT result, count(*) FROM op_result WHERE station_id = :s GROUP BY result", s=sid
        )
        assert dict(results) == {"applied": len(expected)}, f"{p.site.name}: results {results}"
        rows, distinct = co.rows(
            "SELECT count(*), count(DISTINCT id) FROM stock_movement WHERE station_id = :s", s=sid
        )[0]
        assert rows == distinct == p.rows, f"{p.site.name}: {rows} ledger rows, {p.rows} made"
        fed = co.rows(
            "SELECT count(*), count(DISTINCT c.entity_id) FROM change_log c "
            "JOIN stock_movement m ON m.id = c.entity_id "
            "WHERE c.entity = 'stock_movement' AND m.station_id = :s",
            s=sid,
        )[0]
        assert tuple(fed) == (p.rows, p.rows), f"{p.site.name}: feed rows {tuple(fed)}"
        mine = read_ledger(co.engine, sid)
        assert mine.nonzero() == intended(p.actions).nonzero(), (
            f"{p.site.name}: central ledger of its rows is not what was done there"
        )
        assert outbox_states(p.site) == {"done/applied": len(expected)}, p.site.name

    central = read_ledger(co.engine)
    everything = Ledger(start)
    for p in played:
        for place, qty in intended(p.actions).items():
            everything[place] += qty
    assert central.nonzero() == everything.nonzero(), "central ledger is not start + all done"
    for p in played:
        local = read_ledger(p.site.engine())
        assert local.nonzero() == central.nonzero(), f"{p.site.name}'s ledger differs from central"
    assert_oversells(co, played, start)


def assert_oversells(co: Company, played: Sequence[Played], start: Ledger) -> None:
    """Replayed in the order central applied them (feed position), the operations that took a
    place below zero are exactly those with an oversell task, one each."""
    assert_oversells_in(co.engine, {p.site.name: p.ops for p in played}, start)


def assert_oversells_in(
    central: Engine, ops: Mapping[str, Sequence[tuple[uuid.UUID, Action]]], start: Ledger
) -> None:
    """:func:`assert_oversells` for operations of named stations in the ``central`` database;
    each station's operations must also have been applied in its own order."""
    by_op: dict[uuid.UUID, Action] = {op_id: a for mine in ops.values() for op_id, a in mine}
    with central.connect() as conn:
        order = list(conn.scalars(text("SELECT op_id FROM op_result WHERE pos > 0 ORDER BY pos")))
        tasks = list(conn.scalars(text("SELECT op_id FROM exception_task WHERE kind = 'oversell'")))
    assert sorted(order) == sorted(by_op), "not every operation has a feed position"
    for name, mine in ops.items():
        ids = {op_id for op_id, _ in mine}
        assert [o for o in order if o in ids] == [o for o, _ in mine], f"{name}: out of order"
    _, oversold = replay(start, [(o, by_op[o]) for o in order])
    assert len(tasks) == len(set(tasks)), "an operation raised two oversell tasks"
    assert set(tasks) == oversold, (
        f"{len(set(tasks) - oversold)} oversell task(s) too many, "
        f"{len(oversold - set(tasks))} missing"
    )
