"""``waystation-admin central init`` and ``station add/revoke``: the central database's schema,
the stations' login roles and the settings a station needs to connect.

These run as a PostgreSQL role that may create roles (the database owner with CREATEROLE, or a
superuser). A station's password is made here, shown once or put in the OS keyring, and never
written to station.toml.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.engine import make_url

from app.config import CentralConfig, central_toml
from app.domain.errors import NotFoundError, ValidationError
from app.ids import new_id
from app.store import migrate
from app.store.models import Station, StationAccount, Warehouse
from app.sync import feed, schema

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InitResult:
    revision: str | None
    roles: schema.Roles
    hub_password: str | None  # made now for a new hub role; None when it already existed


@dataclass(frozen=True, slots=True)
class StationLogin:
    station_id: uuid.UUID
    station_name: str
    warehouse_code: str
    role: str
    password: str
    central: CentralConfig

    def toml(self) -> str:
        """The station.toml sections for this station (no password: that is in the keyring)."""
        import tomli_w

        doc: dict[str, Any] = {
            "station": {"station_name": self.station_name, "warehouse_code": self.warehouse_code},
            "central": central_toml(self.central),
        }
        return tomli_w.dumps(doc)


def _require_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise ValidationError(
            f"The central database must be PostgreSQL, not {engine.dialect.name} — "
            "give a postgresql:// URL."
        )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def central_init(engine: Engine, prefix: str = schema.DEFAULT_PREFIX) -> InitResult:
    """Bring the central database to the newest schema and set up roles and policies."""
    _require_postgres(engine)
    try:
        schema.check_prefix(prefix)
    except ValueError as e:
        raise ValidationError(str(e)) from None
    migrate.upgrade(engine)
    with engine.begin() as conn:
        hub_is_new = not conn.scalar(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": schema.Roles(prefix).hub}
        )
        roles = schema.apply(conn, prefix)
        password = None
        if hub_is_new:
            password = secrets.token_urlsafe(24)
            conn.execute(text(f'ALTER ROLE "{roles.hub}" PASSWORD {_quote(password)}'))
        for wid in conn.scalars(select(Warehouse.id)):
            _ensure_feed_head(conn, wid)
    return InitResult(migrate.current_revision(engine), roles, password)


def _ensure_feed_head(conn: Connection, warehouse_id: uuid.UUID) -> None:
    conn.execute(
        text(
            'INSERT INTO feed_head (warehouse_id, "next") VALUES (:w, 1) '
            "ON CONFLICT (warehouse_id) DO NOTHING"
        ),
        {"w": warehouse_id},
    )


def add_station(
    engine: Engine,
    name: str,
    warehouse_code: str,
    *,
    host: str | None = None,
    port: int | None = None,
    sslmode: str = "prefer",
    sslrootcert: str = "",
) -> StationLogin:
    """Register a station centrally and make its login role; return what it connects with."""
    _require_postgres(engine)
    name = name.strip()
    if not name:
        raise ValidationError("Give the station a name, for example PACK-07.")
    url = make_url(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        roles = schema.roles_of(conn)
        wh = conn.execute(select(Warehouse).where(Warehouse.code == warehouse_code)).first()
        if wh is None:
            codes = ", ".join(conn.scalars(select(Warehouse.code).order_by(Warehouse.code)))
            raise NotFoundError(
                f"There is no warehouse {warehouse_code} in the central database"
                + (f" (there are: {codes})" if codes else " (it has no warehouses yet)")
                + " — check the code."
            )
        role = roles.station_login(name)
        station = conn.execute(select(Station).where(Station.name == name)).first()
        if station is not None:
            account = conn.execute(
                select(StationAccount).where(StationAccount.station_id == station.id)
            ).first()
            if account is not None:
                state = "revoked" if account.revoked_at else "active"
                raise ValidationError(
                    f"Station {name} already has a login ({account.role_name}, {state}) — "
                    "choose another name for a new station."
                )
            station_id = station.id
            conn.execute(
                text("UPDATE station SET warehouse_id = :w WHERE id = :s"),
                {"w": wh.id, "s": station_id},
            )
        else:
            station_id = new_id()
            conn.execute(
                Station.__table__.insert().values(  # type: ignore[attr-defined]
                    id=station_id, name=name, warehouse_id=wh.id, next_seq=1, next_sscc=1
                )
            )
        if conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
            raise ValidationError(
                f"A database role {role} exists already — choose another station name."
            )
        password = secrets.token_urlsafe(24)
        conn.execute(
            text(
                f'CREATE ROLE "{role}" LOGIN PASSWORD {_quote(password)} IN ROLE "{roles.station}"'
            )
        )
        conn.execute(
            StationAccount.__table__.insert().values(  # type: ignore[attr-defined]
                role_name=role, station_id=station_id, warehouse_id=wh.id
            )
        )
        conn.execute(
            text(
                "INSERT INTO station_progress (station_id, applied_seq) VALUES (:s, 0) "
                "ON CONFLICT (station_id) DO NOTHING"
            ),
            {"s": station_id},
        )
        _ensure_feed_head(conn, wh.id)
        feed.publish(conn, [("station", station_id)])
    central = CentralConfig(
        host=host or url.host or "localhost",
        port=port or url.port or 5432,
        dbname=url.database or "waystation",
        user=role,
        warehouse=warehouse_code,
        sslmode=sslmode,
        sslrootcert=sslrootcert,
    )
    log.info("station %s added with login role %s", name, role)
    return StationLogin(station_id, name, warehouse_code, role, password, central)


def revoke_station(engine: Engine, name: str) -> str:
    """Take the station's login away at once: no new connections, open ones are ended."""
    _require_postgres(engine)
    with engine.begin() as conn:
        roles = schema.roles_of(conn)
        account = conn.execute(
            select(StationAccount)
            .join(Station, Station.id == StationAccount.station_id)
            .where(Station.name == name)
        ).first()
        if account is None:
            raise NotFoundError(
                f"Station {name} has no login in the central database — check the name "
                "(waystation-admin station list shows them)."
            )
        role = str(account.role_name)
        conn.execute(text(f'ALTER ROLE "{role}" NOLOGIN PASSWORD NULL'))
        conn.execute(text(f'REVOKE "{roles.station}" FROM "{role}"'))
        conn.execute(
            text("UPDATE station_account SET revoked_at = now() WHERE role_name = :r"),
            {"r": role},
        )
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
            {"r": role},
        )
    log.info("station %s revoked (role %s)", name, role)
    return role


def list_stations(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(station, warehouse, role, state) for every station with a login."""
    _require_postgres(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Station.name, Warehouse.code, StationAccount.role_name, StationAccount.revoked_at
            )
            .join(Station, Station.id == StationAccount.station_id)
            .join(Warehouse, Warehouse.id == StationAccount.warehouse_id)
            .order_by(Station.name)
        ).all()
    return [(n, w, r, "revoked" if at else "active") for n, w, r, at in rows]
