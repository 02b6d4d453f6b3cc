"""Alembic migrations run up and down on SQLite and on a real PostgreSQL, and match the models."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.store.db import make_engine
from app.store.migrate import HEAD, MIGRATIONS, current_revision, downgrade, upgrade
from app.store.models import Base, CentralBase

CENTRAL_ONLY = set(CentralBase.metadata.tables)


def test_head_constant_is_the_newest_migration() -> None:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


def _round_trip(url: str, *, central: bool) -> None:
    engine = make_engine(url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == HEAD
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    if central:
        assert tables >= CENTRAL_ONLY
        metadata = [Base.metadata, CentralBase.metadata]
    else:
        assert not tables & CENTRAL_ONLY, "a station's database got central-only tables"
        metadata = [Base.metadata]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)  # type: ignore[arg-type]
    assert diff == [], "the models changed without a migration"
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_migrations_up_and_down_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}", central=False)


@pytest.mark.postgres
def test_migrations_up_and_down_on_postgres(postgres_url: str) -> None:
    _round_trip(postgres_url, central=True)


@pytest.mark.postgres
def test_demo_data_loads_into_postgres(postgres_url: str) -> None:
    from sqlalchemy import func, select

    from app.services.demo import create_demo_data
    from app.store.models import Order, Product

    engine = make_engine(postgres_url)
    upgrade(engine)
    create_demo_data(engine, products=200, orders=20, seed=3)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Product)) == 200
        assert conn.scalar(select(func.count()).select_from(Order)) == 20
    engine.dispose()


def test_order_lines_from_before_prices_were_kept_take_the_catalogue_price(tmp_path: Path) -> None:
    """A station upgraded past 0010 keeps refunding what its old orders were sold for: each
    line already there takes its product's price at the upgrade."""
    from sqlalchemy import select, text

    from app.services.demo import create_demo_data
    from app.store.models import OrderLine, Product

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    create_demo_data(engine, products=50, orders=10, seed=5)
    downgrade(engine, "0009")
    with engine.begin() as conn:  # the catalogue moves on before the upgrade
        conn.execute(text("UPDATE product SET price_minor = price_minor + 100"))
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(OrderLine.unit_price_minor, Product.price_minor).join(
                Product, Product.id == OrderLine.product_id
            )
        ).all()
    assert rows and all(paid == price for paid, price in rows)
    engine.dispose()
