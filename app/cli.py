"""``waystation-admin``: the headless tool (no Qt needed) — schema upgrades and demo data.

waystation-admin db upgrade [--url URL]
waystation-admin db current [--url URL]
waystation-admin demo-data [--products N] [--orders N] [--url URL]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from app.config import load_config
from app.domain.errors import WaystationError


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
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except WaystationError as e:
        print(f"waystation-admin: {e.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
