"""``waystation-admin``: the headless tool (no Qt needed) — schema upgrades and demo data.

waystation-admin db upgrade [--url URL]
waystation-admin db current [--url URL]
waystation-admin demo-data [--products N] [--orders N] [--url URL]
waystation-admin central init [--database-url URL] [--role-prefix P]
waystation-admin station add NAME --warehouse CODE [--host H] [--sslmode M] [--store-password]
waystation-admin station revoke NAME | station list
waystation-admin station sync --config station.toml [--once | --until-done] [--timeout S]
waystation-admin hub [--database-url URL | --config FILE] [--once] [--poll-interval S]
waystation-admin refunds list [--state S] | refunds paid REF_ID | refunds failed REF_ID --note T

The central database's URL comes from --database-url, else WAYSTATION_CENTRAL_URL, else the
[central] section of --config (a station.toml-style file; the password from the OS keyring).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from app import refunds_cli
from app.config import SSL_MODES, load_config
from app.domain.errors import ConfigError, WaystationError


def _url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    return load_config().local_database_url()


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from app.store.db import make_engine

    url = _url(args)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(url)


def cmd_db(args: argparse.Namespace) -> int:
    from app.store import migrate

    engine = _engine(args)
    if args.action == "upgrade":
        migrate.upgrade(engine)
        print(f"database at revision {migrate.current_revision(engine)}")
    elif args.action == "downgrade":
        migrate.downgrade(engine, args.target)
        print(f"database at revision {migrate.current_revision(engine) or 'base (empty)'}")
    else:
        rev = migrate.current_revision(engine)
        state = "up to date" if rev == migrate.HEAD else f"behind (newest is {migrate.HEAD})"
        print(f"revision {rev or 'none'}: {state}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.services.demo import DEMO_OPERATORS, create_demo_data
    from app.store.migrate import upgrade_if_needed

    engine = _engine(args)
    upgrade_if_needed(engine)
    start = time.perf_counter()
    last = [0.0]

    def progress(what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 2 or done >= total:
            last[0] = now
            print(f"  {what}: {done:,} of {total:,}", file=sys.stderr)

    try:
        create_demo_data(
            engine, products=args.products, orders=args.orders, seed=args.seed, progress=progress
        )
    except RuntimeError as e:
        print(f"demo-data: {e}. Point --url at a new database file.", file=sys.stderr)
        return 1
    took = time.perf_counter() - start
    print(f"demo data written in {took:.1f} s: {args.products:,} products, {args.orders:,} orders")
    print("operators (badge / PIN):")
    for op in DEMO_OPERATORS:
        print(f"  {op.name:16} {op.badge}  PIN {op.pin}  ({', '.join(r.label for r in op.roles)})")
    return 0


def _central_url(args: argparse.Namespace) -> str:
    import os

    if getattr(args, "database_url", None):
        return str(args.database_url)
    if os.environ.get("WAYSTATION_CENTRAL_URL"):
        return os.environ["WAYSTATION_CENTRAL_URL"]
    if getattr(args, "config", None):
        from pathlib import Path

        from sqlalchemy.engine import URL

        from app.config import database_password

        central = load_config(Path(args.config)).central
        if central is None:
            raise ConfigError(
                f"{args.config} has no [central] section — add one, or give --database-url."
            )
        query = {"sslmode": central.sslmode}
        if central.sslrootcert:
            query["sslrootcert"] = central.sslrootcert
        return URL.create(
            "postgresql+psycopg",
            username=central.user,
            password=database_password(central),
            host=central.host,
            port=central.port,
            database=central.dbname,
            query=query,
        ).render_as_string(hide_password=False)
    raise ConfigError(
        "Which central database? Give --database-url postgresql+psycopg://..., "
        "set WAYSTATION_CENTRAL_URL, or --config a file with a [central] section."
    )


def _central_engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from app.store.db import make_engine

    return make_engine(_central_url(args))


def cmd_central(args: argparse.Namespace) -> int:
    from app.sync import admin

    engine = _central_engine(args)
    try:
        done = admin.central_init(engine, args.role_prefix)
    finally:
        engine.dispose()
    print(
        f"central database at revision {done.revision}; roles {done.roles.hub} (hub) and "
        f"{done.roles.station} (stations) set up"
    )
    if done.hub_password:
        print(
            f"the hub's login {done.roles.hub} has the password {done.hub_password} — "
            "keep it where the hub runs (its keyring or ~/.pgpass); it is not shown again"
        )
    return 0


def cmd_station(args: argparse.Namespace) -> int:
    if args.action == "sync":  # a station's own sync, headless (app/sync/station_cli.py)
        from app.sync.station_cli import run

        return run(args.config, once=args.once, until_done=args.until_done, timeout=args.timeout)
    from app.sync import admin

    engine = _central_engine(args)
    try:
        if args.action == "add":
            if not args.warehouse:
                raise ConfigError("Say which warehouse the station is in: --warehouse CODE.")
            login = admin.add_station(
                engine,
                args.name,
                args.warehouse,
                host=args.host,
                port=args.port,
                sslmode=args.sslmode,
                sslrootcert=args.sslrootcert or "",
            )
            print(f"# station.toml for {login.station_name} (station id {login.station_id})")
            print(login.toml(), end="")
            if args.store_password:
                from app.config import save_database_password

                save_database_password(login.central, login.password)
                print(
                    f"# password kept in the OS keyring as {login.central.keyring_user()}",
                    file=sys.stderr,
                )
            else:
                print(
                    f"# password for {login.role} (shown once; keep it in the station's "
                    f"keyring, or run with --store-password there): {login.password}",
                    file=sys.stderr,
                )
        elif args.action == "revoke":
            role = admin.revoke_station(engine, args.name)
            print(f"station {args.name}: login {role} revoked; its connections were ended")
        else:
            for name, wh, role, state in admin.list_stations(engine):
                print(f"{name:20} {wh:8} {role:40} {state}")
    finally:
        engine.dispose()
    return 0


def cmd_hub(args: argparse.Namespace) -> int:
    import signal

    from app.sync.hub import Hub

    logging.getLogger("waystation").setLevel(logging.INFO)
    hub = Hub(
        _central_url(args), poll_interval=args.poll_interval, round_deadline=args.round_deadline
    )
    signal.signal(signal.SIGTERM, lambda *_: hub.stop())
    try:
        hub.run(once=args.once)
    except KeyboardInterrupt:
        hub.stop()
    finally:
        hub.engine.dispose()
    return 0


def _add_central_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", help="the central PostgreSQL (postgresql+psycopg://...)")
    p.add_argument("--config", help="a TOML file whose [central] section names the database")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="waystation-admin", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="schema migrations")
    db.add_argument("action", choices=("upgrade", "downgrade", "current"))
    db.add_argument("target", nargs="?", default="base", help="revision for downgrade")
    db.add_argument("--url", help="database URL (default: the station's local database)")
    db.set_defaults(func=cmd_db)
    demo = sub.add_parser("demo-data", help="fill an empty database with a demo company")
    demo.add_argument("--products", type=int, default=5000)
    demo.add_argument("--orders", type=int, default=500)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--url", help="database URL (default: the station's local database)")
    demo.set_defaults(func=cmd_demo)
    central = sub.add_parser("central", help="set up the central PostgreSQL database")
    central.add_argument("action", choices=("init",))
    central.add_argument("--role-prefix", default="waystation", help="prefix of role names")
    _add_central_source(central)
    central.set_defaults(func=cmd_central)
    station = sub.add_parser("station", help="stations' logins to the central database")
    station.add_argument("action", choices=("add", "revoke", "list", "sync"))
    station.add_argument("name", nargs="?", default="")
    station.add_argument("--warehouse", help="the code of the station's warehouse (add)")
    station.add_argument("--host", help="the address stations reach the database at")
    station.add_argument("--port", type=int, help="the port stations reach the database at")
    station.add_argument("--sslmode", default="prefer", choices=SSL_MODES)
    station.add_argument("--sslrootcert", help="the CA file (with verify-ca / verify-full)")
    station.add_argument(
        "--store-password", action="store_true", help="keep the password in this OS keyring"
    )
    station.add_argument("--once", action="store_true", help="sync: push and pull, then exit")
    station.add_argument(
        "--until-done", action="store_true", help="sync: ...and wait for every result"
    )
    station.add_argument("--timeout", type=float, default=120.0, help="sync --once: give up after")
    _add_central_source(station)
    station.set_defaults(func=cmd_station)
    hub = sub.add_parser("hub", help="apply the stations' operations (runs until stopped)")
    hub.add_argument("--once", action="store_true", help="apply what is waiting, then exit")
    hub.add_argument("--poll-interval", type=float, default=1.0, help="seconds between polls")
    hub.add_argument(
        "--round-deadline",
        type=float,
        default=20.0,
        help="seconds a round may take before its connections are taken for dead",
    )
    _add_central_source(hub)
    hub.set_defaults(func=cmd_hub)
    refunds_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    if args.command == "station" and args.action in ("add", "revoke") and not args.name:
        print(f"waystation-admin: station {args.action} needs the station's name", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except WaystationError as e:
        print(f"waystation-admin: {e.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
