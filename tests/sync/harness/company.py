"""A company for the process tests: a central database on a cluster, set up by ``central init``
(as its own role prefix), with stations added by ``station add``, each with a station.toml, a
local database loaded from central and the environment its process runs with; and the hub and
station programs (``python -m app.cli hub`` / ``station sync``) ready to start.

Set-up runs in the test's process (it is the same code the admin commands call); what is under
test — the hub and the stations syncing — runs in processes of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tests.sync.harness.procs import Proc, Runner
from tests.sync.harness.world import create_database, drop_database

if TYPE_CHECKING:
    from app.bootstrap import StationContext
    from app.sync.admin import StationLogin
    from tests.sync.harness.proxy import PgProxy
    from tests.sync.harness.stockplay import Action

WAREHOUSE = "WH1"
_TEMPLATES: dict[tuple[str, int, int], str] = {}


def template(server_url: str, products: int, orders: int) -> str:
    """A migrated database with a demo company, made once per server and size (each company
    is a copy: CREATE DATABASE ... TEMPLATE)."""
    key = (server_url, products, orders)
    if key not in _TEMPLATES:
        from app.services.demo import create_demo_data
        from tests.sync.harness.world import migrated_engine

        name = f"chaos_tpl_{uuid.uuid4().hex[:8]}"
        engine = migrated_engine(create_database(server_url, name))
        create_demo_data(engine, products=products, orders=orders, seed=5)
        engine.dispose()
        _TEMPLATES[key] = name
    return _TEMPLATES[key]


def drop_templates() -> None:
    """Drop every template this process made (on servers that are still there)."""
    import contextlib

    for key in list(_TEMPLATES):
        name = _TEMPLATES.pop(key)
        with contextlib.suppress(Exception):
            drop_database(key[0], name)


@dataclass
class Site:
    """One station: its login, its folder, its settings file and its process's environment."""

    name: str
    login: StationLogin
    folder: Path
    port: int  # where its settings say the central database is (the cluster, or a proxy)
    clock_offset_s: float = 0.0
    _reader: Engine | None = field(default=None, repr=False)

    @property
    def station_id(self) -> uuid.UUID:
        return self.login.station_id

    @property
    def db(self) -> Path:
        return self.folder / "station.db"

    @property
    def toml(self) -> Path:
        return self.folder / "station.toml"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    def write_config(self, port: int | None = None) -> None:
        import dataclasses

        import tomli_w

        from app.config import central_toml

        if port is not None:
            self.port = port
        central = dataclasses.replace(self.login.central, port=self.port, sslmode="disable")
        doc: dict[str, Any] = {
            "station": {
                "station_name": self.name,
                "warehouse_code": WAREHOUSE,
                "database_url": self.url,
                "sounds": False,
            },
            "central": central_toml(central),
        }
        self.toml.write_text(tomli_w.dumps(doc))

    @property
    def env(self) -> dict[str, str]:
        env = {
            "WAYSTATION_CONFIG": str(self.toml),
            "WAYSTATION_DATA_DIR": str(self.folder),
            # A headless station: no keyring here, libpq takes the password from PGPASSWORD.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "PGPASSWORD": self.login.password,
        }
        if self.clock_offset_s:
            env["WAYSTATION_CLOCK_OFFSET_S"] = str(self.clock_offset_s)
        return env

    def engine(self) -> Engine:
        """An engine for reading the station's database while its process writes to it (no
        write lock taken: it never holds the station up, nor waits for it); made once."""
        if self._reader is None:
            from sqlalchemy import create_engine

            self._reader = create_engine(self.url)
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.dispose()
            self._reader = None

    def context(self) -> StationContext:
        """The station's database opened in this process (to act at the station)."""
        from app.bootstrap import bootstrap
        from app.config import load_config

        return bootstrap(load_config(self.toml), upgrade=False)

    def play(
        self, actions: Sequence[Action], *, durable: bool = True
    ) -> list[tuple[uuid.UUID, Action]]:
        """Perform the actions here (one use case, one transaction, one operation each); the
        operation ids in order. ``durable=False`` skips the fsync of each commit: for filling
        a station with thousands of operations before the test proper starts."""
        from sqlalchemy import event

        from tests.sync.harness.stockplay import perform, supervisor

        ctx = self.context()
        if not durable:

            @event.listens_for(ctx.engine, "connect")
            def _no_fsync(dbapi_conn: Any, _record: object) -> None:
                dbapi_conn.execute("PRAGMA synchronous=OFF")

            ctx.engine.dispose()
        try:
            who = supervisor(ctx)
            return [(perform(ctx, who, a).op_id, a) for a in actions]
        finally:
            ctx.dispose()

    def play_elsewhere(self, actions: Sequence[Action]) -> list[tuple[uuid.UUID, Action]]:
        """Perform the actions in a process of the station's own (its environment, its clock
        offset included); the operation ids in order."""
        import json
        import os
        import subprocess
        import sys

        from tests.sync.harness.procs import ROOT

        script = self.folder / f"actions-{uuid.uuid4().hex[:8]}.json"
        script.write_text(json.dumps([a.to_json() for a in actions]))
        done = subprocess.run(
            [sys.executable, "-m", "tests.sync.harness.stockplay", str(self.toml), str(script)],
            env={**os.environ, **self.env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        ids = [uuid.UUID(line) for line in done.stdout.split()]
        assert len(ids) == len(actions), done.stdout
        return list(zip(ids, actions, strict=True))

    def connect(self) -> Any:
        """A psycopg connection to central as this station (through its proxy, if any)."""
        from app.config import load_config
        from app.sync.client import connect

        central = load_config(self.toml).central
        assert central is not None
        return connect(central, self.login.password)


@dataclass
class Company:
    server_url: str  # the cluster's admin URL (a superuser)
    workdir: Path
    runner: Runner
    products: int = 60
    orders: int = 10
    name: str = field(default_factory=lambda: f"chaos_{uuid.uuid4().hex[:10]}")
    sites: dict[str, Site] = field(default_factory=dict)
    engine: Any = None
    hub_role: str = ""
    hub_password: str = ""

    @property
    def url(self) -> str:
        return make_url(self.server_url).set(database=self.name).render_as_string(False)

    @property
    def port(self) -> int:
        return int(make_url(self.server_url).port or 5432)

    def url_via(self, port: int) -> str:
        return make_url(self.url).set(port=port).render_as_string(False)

    def create(self) -> Company:
        from app.store.db import make_engine
        from app.sync import admin

        create_database(
            self.server_url,
            self.name,
            template=template(self.server_url, self.products, self.orders),
        )
        self.engine = make_engine(self.url)
        done = admin.central_init(self.engine, prefix=self.name)
        self.hub_role, self.hub_password = done.roles.hub, done.hub_password or ""
        return self

    def destroy(self) -> None:
        from sqlalchemy import create_engine

        for site in self.sites.values():
            site.close()
        if self.engine is not None:
            self.engine.dispose()
        drop_database(self.server_url, self.name)
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            roles = conn.scalars(
                text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY oid DESC"),
                {"p": f"{self.name}\\_%"},
            ).all()
            for role in roles:
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()

    def __enter__(self) -> Company:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    # ------------------------------------------------------------------ stations

    def add_station(
        self,
        name: str,
        *,
        via: PgProxy | None = None,
        clock_offset_s: float = 0.0,
        load: bool = True,
    ) -> Site:
        from app.sync import admin

        login = admin.add_station(
            self.engine, name, WAREHOUSE, host="127.0.0.1", port=self.port, sslmode="disable"
        )
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        site = Site(name, login, folder, via.port if via else self.port, clock_offset_s)
        site.write_config()
        self.sites[name] = site
        if load:
            self.load(site)
        return site

    def load(self, site: Site) -> None:
        """The station's first download (the snapshot a new station starts from)."""
        from app.sync.snapshot import download

        with site.connect() as central:
            download(central, site.db, station_name=site.name, warehouse_code=WAREHOUSE)

    # ------------------------------------------------------------------ programs

    def hub(self, name: str = "hub", *, port: int | None = None, poll: float = 0.2) -> Proc:
        """A hub under the hub's own login; its connections carry ``name`` as their
        application_name (pg_stat_activity tells the test which hub is connected)."""
        url = make_url(self.url).set(
            username=self.hub_role, password=self.hub_password, port=port or self.port
        )
        return self.runner.program(
            name,
            "app.cli",
            ["hub", "--database-url", url.render_as_string(False), "--poll-interval", str(poll)],
            env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "PGAPPNAME": name},
        )

    def connected(self, application_name: str) -> bool:
        """True while a program with that application_name has a connection to central."""
        return bool(
            self.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :a",
                a=application_name,
            )
        )

    def in_transaction(self, application_name: str) -> bool:
        """True when one of that program's connections is inside a transaction right now."""
        return bool(
            self.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :a "
                "AND xact_start IS NOT NULL",
                a=application_name,
            )
        )

    def station(self, site: Site, *extra: str, name: str = "") -> Proc:
        """``station sync`` for the site (``extra``: ``--once``, ``--until-done``...), with the
        site's environment as it is now (its clock offset included)."""
        return self.runner.program(
            name or site.name,
            "app.cli",
            ["station", "sync", "--config", str(site.toml), *extra],
            env=site.env,
        )

    # ------------------------------------------------------------------ reading central

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.scalar(text(sql), params)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))
