"""Store credit and gift cards: balances kept as a ledger of entries (issued +, redeemed −).

An account is named by its code (printed on the receipt or the card as a barcode). A balance is
the sum of its entries on this station's copy; entries made at other tills arrive with the sync.
Each entry is its own outbox operation (``store_credit.issued`` / ``store_credit.redeemed``)
with its entry id, so the central ledger takes it once.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.clock import utcnow
from app.domain.errors import NotFoundError, ValidationError
from app.domain.money import money
from app.domain.roles import Permission
from app.ids import new_id
from app.services import auth
from app.store.models import Station, StoreCreditEntry
from app.store.uow import UnitOfWork

KINDS = {"store_credit": "Store credit", "gift_card": "Gift card"}


def balance(uow: UnitOfWork, account: str) -> tuple[int, str, str]:
    """(balance, kind, currency) of an account; NotFoundError when it has no entries."""
    code = account.strip().upper()
    row = uow.session.execute(
        select(
            func.coalesce(func.sum(StoreCreditEntry.amount_minor), 0),
            func.min(StoreCreditEntry.kind),
            func.min(StoreCreditEntry.currency),
            func.count(StoreCreditEntry.id),
        ).where(StoreCreditEntry.account == code)
    ).one()
    if not row[3]:
        raise NotFoundError(
            f"{code} is not a store credit or gift card this till knows — check the code, "
            "or take another payment."
        )
    return int(row[0]), str(row[1]), str(row[2])


def _new_account(uow: UnitOfWork, kind: str) -> str:
    """A code no other till makes: the kind's letters, this station's name, a running number."""
    station = uow.session.get_one(Station, uow.actor.station_id)
    prefix = "GC" if kind == "gift_card" else "SC"
    n = int(
        uow.session.scalar(
            select(func.count(func.distinct(StoreCreditEntry.account))).where(
                StoreCreditEntry.account.like(f"{prefix}-{station.name}-%")
            )
        )
        or 0
    )
    return f"{prefix}-{station.name}-{n + 1:05d}".upper()


def issue(
    uow: UnitOfWork,
    amount_minor: int,
    *,
    kind: str = "store_credit",
    currency: str = "EUR",
    reason: str,
    sale_id: uuid.UUID | None = None,
    account: str | None = None,
) -> tuple[str, uuid.UUID]:
    """Credit an account (a new one unless ``account`` is given); returns (code, entry id)."""
    if amount_minor <= 0:
        raise ValidationError("Store credit is an amount above zero.")
    if kind not in KINDS:
        raise ValidationError(f"{kind} is neither store credit nor a gift card.")
    code = account.strip().upper() if account else _new_account(uow, kind)
    entry = _entry(uow, code, kind, amount_minor, currency, sale_id, reason)
    uow.record(
        "store_credit.issued",
        _payload(entry),
        entity="store_credit",
        entity_id=entry.id,
    )
    return code, entry.id


def issue_gift_card(uow: UnitOfWork, amount_minor: int, currency: str = "EUR") -> str:
    """A supervisor loads a new gift card (paid for elsewhere, or given as goodwill)."""
    auth.check(uow, Permission.REFUND)
    code, _ = issue(
        uow, amount_minor, kind="gift_card", currency=currency, reason="gift card issued"
    )
    return code


def redeem(
    uow: UnitOfWork, account: str, amount_minor: int, sale_id: uuid.UUID, currency: str
) -> uuid.UUID:
    """Take a payment from an account's balance (in the sale's transaction)."""
    code = account.strip().upper()
    held, kind, held_currency = balance(uow, code)
    if held_currency != currency:
        raise ValidationError(f"{code} holds {held_currency}, the sale is in {currency}.")
    if amount_minor > held:
        raise ValidationError(
            f"{code} holds only {money(held, currency)} — take {money(held, currency)} from it "
            "and the rest another way."
        )
    entry = _entry(uow, code, kind, -amount_minor, currency, sale_id, "payment")
    uow.record("store_credit.redeemed", _payload(entry), entity="store_credit", entity_id=entry.id)
    return entry.id


def _entry(
    uow: UnitOfWork,
    code: str,
    kind: str,
    amount: int,
    currency: str,
    sale_id: uuid.UUID | None,
    reason: str,
) -> StoreCreditEntry:
    entry = StoreCreditEntry(
        id=new_id(),
        account=code,
        kind=kind,
        amount_minor=amount,
        currency=currency,
        sale_id=sale_id,
        reason=reason[:200],
        at=utcnow(),
        station_id=uow.actor.station_id,
    )
    uow.session.add(entry)
    uow.session.flush()
    return entry


def _payload(entry: StoreCreditEntry) -> dict[str, object]:
    return {
        "entry_id": str(entry.id),
        "account": entry.account,
        "kind": entry.kind,
        "amount_minor": entry.amount_minor,
        "currency": entry.currency,
        "sale_id": str(entry.sale_id) if entry.sale_id else None,
        "reason": entry.reason,
        "at": entry.at.isoformat(),
    }
