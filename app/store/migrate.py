"""Schema upgrades: Alembic migrations, run at station start and by ``waystation-admin db upgrade``.

Start-up must be fast, so the station first reads the stored revision with one query and only
loads Alembic when the database is behind :data:`HEAD` (a test keeps HEAD equal to the newest
migration).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

HEAD = "0010"
MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, target: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)


def downgrade(engine: Engine, target: str = "base") -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)


def upgrade_if_needed(engine: Engine) -> bool:
    """Bring the schema to HEAD; return True when a migration ran."""
    if current_revision(engine) == HEAD:
        return False
    log.info("upgrading database schema to %s", HEAD)
    upgrade(engine)
    return True
