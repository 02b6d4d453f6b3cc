"""Stock actions the chaos tests play at stations, and the model they are checked against.

An :class:`Action` is what a person did (sold 3 of a product from its bin, picked 2 into a
tote...). :func:`perform` runs it through the station's real use case; :meth:`Action.deltas`
says what it means to the ledger, worked out independently of the code under test. A
:class:`Ledger` adds those up; :func:`replay` plays operations in a given order and says which
ones took a place below zero (an oversell the central database must raise exactly once).

``python -m tests.sync.harness.stockplay STATION_TOML ACTIONS_JSON`` performs a list of actions
in a process of its own — so a station process with a skewed clock
(``WAYSTATION_CLOCK_OFFSET_S``) records them with its own times.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.bootstrap import StationContext
    from app.services.stock import StockChange
    from app.services.views import OperatorView

Place = tuple[uuid.UUID, uuid.UUID | None]
SUPERVISOR_BADGE = "OP-9001"  # the demo supervisor may sell, pick, receive and adjust
KINDS = ("sale", "pick", "return", "adjust")


@dataclass(frozen=True)
class Action:
    kind: str  # sale / pick / return / adjust
    product_id: uuid.UUID
    location_id: uuid.UUID
    qty: int  # units (signed for an adjustment)
    tote: str | None = None  # a pick into this tote (None: out of stock)
    ref: str = ""

    def deltas(self) -> list[tuple[Place, int]]:
        """What this action does to the ledger."""
        at: Place = (self.product_id, self.location_id)
        if self.kind == "sale":
            return [(at, -self.qty)]
        if self.kind == "pick":
            out = [(at, -self.qty)]
            if self.tote is not None:
                out.append(((self.product_id, None), self.qty))
            return out
        if self.kind in ("return", "adjust"):
            return [(at, self.qty)]
        raise ValueError(f"unknown action {self.kind}")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["product_id"] = str(self.product_id)
        d["location_id"] = str(self.location_id)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Action:
        return cls(
            kind=d["kind"],
            product_id=uuid.UUID(d["product_id"]),
            location_id=uuid.UUID(d["location_id"]),
            qty=int(d["qty"]),
            tote=d.get("tote"),
            ref=d.get("ref", ""),
        )


def perform(ctx: StationContext, who: OperatorView, action: Action) -> StockChange:
    """Run the action through the station's use case: one transaction, one operation."""
    from app.services import stock

    with ctx.uow(who) as uow:
        if action.kind == "sale":
            line = stock.Line(action.product_id, action.qty, action.location_id)
            return stock.record_sale(uow, [line], ref=action.ref)
        if action.kind == "pick":
            return stock.confirm_pick(
                uow, action.product_id, action.location_id, action.qty, tote_code=action.tote
            )
        if action.kind == "return":
            line = stock.Line(action.product_id, action.qty, action.location_id)
            return stock.receive_return(uow, [line], ref=action.ref or "RMA")
        if action.kind == "adjust":
            return stock.adjust_stock(
                uow, action.product_id, action.location_id, action.qty, action.ref or "recount"
            )
    raise ValueError(f"unknown action {action.kind}")


def supervisor(ctx: StationContext) -> OperatorView:
    from app.services import auth

    with ctx.uow() as uow:
        return auth.sign_in_badge(uow, SUPERVISOR_BADGE)


class Ledger(Counter[Place]):
    """Units per place."""

    def play(self, action: Action) -> list[Place]:
        """Apply the action; the places it took below zero (an oversell when any)."""
        short = []
        net: Counter[Place] = Counter()
        for place, qty in action.deltas():
            net[place] += qty
        for place, qty in net.items():
            self[place] += qty
            if qty < 0 and self[place] < 0:
                short.append(place)
        return short

    def nonzero(self) -> dict[Place, int]:
        return {k: v for k, v in self.items() if v != 0}


def replay(
    start: Ledger, actions: Iterable[tuple[uuid.UUID, Action]]
) -> tuple[Ledger, set[uuid.UUID]]:
    """Play (op id, action) pairs in order; the ledger after, and the ops that oversold."""
    ledger = Ledger(start)
    oversold = set()
    for op_id, action in actions:
        if ledger.play(action):
            oversold.add(op_id)
    return ledger, oversold


def read_ledger(engine: Engine, station_id: uuid.UUID | None = None) -> Ledger:
    """Units per place in a database's ledger (only one station's rows when given)."""
    from sqlalchemy import func, select

    from app.store.models import StockMovement

    q = select(StockMovement.product_id, StockMovement.location_id, func.sum(StockMovement.qty))
    if station_id is not None:
        q = q.where(StockMovement.station_id == station_id)
    q = q.group_by(StockMovement.product_id, StockMovement.location_id)
    with engine.connect() as conn:
        return Ledger({(p, loc): int(n) for p, loc, n in conn.execute(q)})


@dataclass(frozen=True)
class Stockroom:
    """The places a test plays with: (product, its home bin) pairs and tote codes."""

    places: tuple[tuple[uuid.UUID, uuid.UUID], ...]
    totes: tuple[str, ...]

    @classmethod
    def of(cls, engine: Engine, products: int = 20) -> Stockroom:
        from sqlalchemy import select

        from app.store.models import Product, Tote

        with engine.connect() as conn:
            rows = conn.execute(
                select(Product.id, Product.home_location_id)
                .where(Product.home_location_id.is_not(None), Product.track_lot.is_(False))
                .order_by(Product.sku)
                .limit(products)
            ).all()
            totes = conn.scalars(select(Tote.code).order_by(Tote.code).limit(5)).all()
        return cls(tuple((p, loc) for p, loc in rows), tuple(totes))

    def random_actions(self, rng: random.Random, n: int, *, max_qty: int = 5) -> list[Action]:
        out = []
        for i in range(n):
            product_id, location_id = rng.choice(self.places)
            kind = rng.choice(KINDS)
            qty = rng.randint(1, max_qty)
            if kind == "adjust" and rng.random() < 0.5:
                qty = -qty
            tote = (
                rng.choice(self.totes)
                if kind == "pick" and self.totes and rng.random() < 0.5
                else None
            )
            out.append(
                Action(kind, product_id, location_id, qty, tote, ref=f"{kind[:3].upper()}-{i}")
            )
        return out


def intended(actions: Sequence[Action]) -> Ledger:
    total = Ledger()
    for a in actions:
        for place, qty in a.deltas():
            total[place] += qty
    return total


def main(argv: list[str] | None = None) -> int:
    """Perform the actions in ACTIONS_JSON at the station STATION_TOML describes; print each
    operation id on a line of its own."""
    from pathlib import Path

    from app.bootstrap import bootstrap
    from app.config import load_config

    toml, actions_file = (argv if argv is not None else sys.argv[1:])[:2]
    ctx = bootstrap(load_config(Path(toml)), upgrade=False)
    try:
        who = supervisor(ctx)
        for raw in json.loads(Path(actions_file).read_text()):
            change = perform(ctx, who, Action.from_json(raw))
            print(change.op_id, flush=True)
    finally:
        ctx.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
