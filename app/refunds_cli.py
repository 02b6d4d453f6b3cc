"""``waystation-admin refunds``: the payment system's side of return refunds, headless.

    waystation-admin refunds list [--state to_be_paid] --badge B
    waystation-admin refunds paid REF_ID --badge B [--note TEXT]
    waystation-admin refunds failed REF_ID --badge B --note TEXT

It works on a station's database (``--config station.toml``, else the station's own settings;
``--url`` names another database), as the operator whose badge is given (``--badge``, else
``WAYSTATION_BADGE``), who needs the refund permission (a supervisor). A station that asks
for PINs takes it from ``WAYSTATION_PIN`` or asks for it. Marking a refund is audited and
queued as a ``returns.refund_marked`` operation: the station's sync sends it to the central
database like any other.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from app.domain.errors import AuthenticationError, ValidationError
from app.domain.money import money

ACTIONS = ("list", "paid", "failed")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("refunds", help="list return refunds; mark them paid or failed")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("refund_id", nargs="?", default="", help="the refund (paid, failed)")
    p.add_argument("--state", help="list: only refunds in this state (to_be_paid, paid, ...)")
    p.add_argument("--note", default="", help="the payment system's words (failed: required)")
    p.add_argument("--badge", help="the operator's badge (default: $WAYSTATION_BADGE)")
    p.add_argument("--config", help="the station's settings file (default: its own)")
    p.add_argument("--url", help="the database (default: the station's local database)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.bootstrap import bootstrap
    from app.config import load_config
    from app.services import auth
    from app.services.returns import refunds, resolution

    if args.action != "list" and not args.refund_id:
        raise ValidationError(f"Say which refund: refunds {args.action} REF_ID.")
    if args.action == "failed" and not args.note.strip():
        raise ValidationError(
            "Say why it failed: --note 'card expired' (the payment system's words)."
        )
    badge = args.badge or os.environ.get("WAYSTATION_BADGE", "")
    if not badge:
        raise AuthenticationError("Whose action is it? Give --badge or set WAYSTATION_BADGE.")
    config = load_config(Path(args.config) if args.config else None)
    if args.url:
        config = replace(config, database_url=args.url, central=None)
    ctx = bootstrap(config)
    try:
        with ctx.uow() as uow:
            operator = auth.sign_in_badge(uow, badge, _pin(config.badge_needs_pin))
        if args.action == "list":
            with ctx.uow(operator) as uow:
                rows = refunds.list_refunds(uow, args.state)
            for r in rows:
                print(
                    f"{r.id}  {r.state:10} {money(r.amount_minor, r.currency):>14}  "
                    f"{r.rma_number:18} {r.order_number:14} {r.customer}"
                )
            print(f"{len(rows)} refund(s)", file=sys.stderr)
            return 0
        refund_id = refunds.parse_id(args.refund_id)
        state = resolution.PAID if args.action == "paid" else resolution.FAILED
        with ctx.uow(operator) as uow:
            resolution.mark_refund(uow, refund_id, state, args.note.strip())
        print(f"refund {refund_id} marked {state} by {operator.name}; it syncs with the station")
        return 0
    finally:
        ctx.dispose()


def _pin(needed: bool) -> str | None:
    pin = os.environ.get("WAYSTATION_PIN")
    if pin or not needed:
        return pin or None
    if not sys.stdin.isatty():
        raise AuthenticationError("This station asks for a PIN: set WAYSTATION_PIN.")
    import getpass

    return getpass.getpass("PIN: ")
