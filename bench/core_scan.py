"""Scan path without the GUI: PackBench.scan (normalise, resolve, count, commit) on the big
database, beside the floor of one bare SQLite commit on the same disk."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from app.bootstrap import bootstrap
from app.config import StationConfig
from app.services import auth
from app.services.bench import PackBench
from app.store.models import Order, OrderLine
from bench.data import fresh_copy
from bench.figures import Figure, percentile
from bench.floors import sqlite_commit_ms


def pick_orders(ctx_sessions: object, n: int, seed: int = 5) -> list[str]:
    """Orders of several units without lot tracking, spread over the whole database."""
    from sqlalchemy.orm import Session, sessionmaker

    assert isinstance(ctx_sessions, sessionmaker)
    rng = random.Random(seed)
    out: list[str] = []
    s: Session
    with ctx_sessions() as s:
        total = s.scalar(select(func.count()).select_from(Order)) or 0
        while len(out) < n:
            number = f"SO-{100001 + rng.randrange(total)}"
            order = s.scalar(select(Order).where(Order.number == number))
            if order is None or order.status != "confirmed" or number in out:
                continue
            units = s.scalar(
                select(func.sum(OrderLine.qty_ordered)).where(OrderLine.order_id == order.id)
            )
            if any(ln.product.track_lot for ln in order.lines) or not units or units < 3:
                continue
            out.append(number)
    return out


def run(products: int, orders: int, n_orders: int = 60) -> list[Figure]:
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1] / ".bench-cache") as d:
        db = fresh_copy(products, orders, Path(d))
        ctx = bootstrap(StationConfig(database_url=f"sqlite:///{db}", sounds=False))
        with ctx.uow() as uow:
            op = auth.sign_in_badge(uow, "OP-1001")
        numbers = pick_orders(ctx.sessions, n_orders)
        bench = PackBench(ctx.uow, op)
        times: list[float] = []
        for number in numbers:
            r = bench.scan(number)
            assert r.ok, r.message
            assert r.order is not None
            for line in r.order.lines:
                for _ in range(line.ordered):
                    res = bench.scan(line.gtin[1:])
                    assert res.ok, res.message
                    times.append(res.elapsed_ms)
        floor = sqlite_commit_ms(Path(d))
        ctx.dispose()
    p99, f99 = percentile(times, 99), percentile(floor, 99)
    return [
        Figure("core scan p50 (no GUI)", percentile(times, 50), "ms", note=f"{len(times)} scans"),
        Figure("core scan p99 (no GUI)", p99, "ms", 10.0),
        Figure("floor: bare SQLite FULL commit p99 (core run)", f99, "ms"),
        Figure("core scan p99 / floor p99", p99 / f99, "×", 20.0),
    ]
