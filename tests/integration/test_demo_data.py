"""The demo company is realistic: valid GTINs, bins in pick order, stock, orders of 1–8 lines
from several channels, customers with addresses, operators who can sign in."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.scanning.gtin import is_valid_gtin
from app.services.auth import verify_pin
from app.services.demo import DEMO_OPERATORS, create_demo_data, ensure_demo_data, gtin13
from app.store.db import make_engine
from app.store.migrate import upgrade
from app.store.models import (
    Barcode,
    Customer,
    Location,
    Operator,
    Order,
    OrderLine,
    Product,
    SalesChannel,
    StockMovement,
)


def test_default_demo_company(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    assert ensure_demo_data(engine)
    assert not ensure_demo_data(engine)  # a second start leaves the data alone
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 5000
        assert s.scalar(select(func.count()).select_from(Order)) == 500
        gtins = s.scalars(select(Product.gtin)).all()
        assert all(g and len(g) == 14 and is_valid_gtin(g) for g in gtins)
        assert len(set(gtins)) == 5000
        codes = s.scalars(select(Barcode.code).where(Barcode.kind == "product")).all()
        assert all(is_valid_gtin(c) for c in codes)
        seqs = s.scalars(select(Location.pick_seq).order_by(Location.pick_seq)).all()
        assert seqs == list(range(len(seqs)))
        on_hand = s.scalar(select(func.sum(StockMovement.qty)))
        assert on_hand and on_hand > 5000 * 20
        per_order = (
            s.execute(select(func.count(OrderLine.id)).group_by(OrderLine.order_id)).scalars().all()
        )
        assert min(per_order) == 1 and max(per_order) == 8
        channels = s.scalars(
            select(SalesChannel.name).join(Order, Order.channel_id == SalesChannel.id).distinct()
        ).all()
        assert len(channels) >= 3
        customer = s.scalars(select(Customer).limit(1)).one()
        assert customer.address["line1"] and customer.address["city"]
        assert "@" in customer.email
        ops = {o.badge: o for o in s.scalars(select(Operator))}
        for demo in DEMO_OPERATORS:
            assert verify_pin(ops[demo.badge].pin_hash, demo.pin)
    engine.dispose()


def test_gtins_stay_valid_and_unique_at_a_million() -> None:
    sample = [gtin13(n) for n in (0, 1, 99_999, 100_000, 543_210, 999_999)]
    assert all(len(g) == 13 and is_valid_gtin(g) for g in sample)
    assert len(set(sample)) == len(sample)


def test_demo_data_refuses_a_database_that_has_products(tmp_path: Path) -> None:
    import pytest

    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    create_demo_data(engine, products=50, orders=5)
    with pytest.raises(RuntimeError, match="already holds products"):
        create_demo_data(engine, products=50, orders=5)
    engine.dispose()
