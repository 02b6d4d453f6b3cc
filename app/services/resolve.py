"""What a scanned code names: a product (and how many units), a bin, a tote, a cart, an order,
a package, an RMA, an operator badge or a pick list. One indexed look-up on the scan path.

A code that is no GTIN (and no GS1 data) is first matched against the company's own code rules
(``app.scanning.rules``, ``[codes]`` in the station settings): one that fits none is refused
with words that say so, and one that fits a kind is looked up only where that kind lives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from app.domain.errors import UnknownBarcodeError
from app.store.fastexec import FastExecutor
from app.store.models import Barcode, Operator, Order, PickList, Tote

if TYPE_CHECKING:
    from app.scanning.normalize import Scan
    from app.scanning.rules import CodeRules

_BARCODE: Table = Barcode.__table__  # type: ignore[assignment]
_ORDER: Table = Order.__table__  # type: ignore[assignment]
_TOTE: Table = Tote.__table__  # type: ignore[assignment]
_OPERATOR: Table = Operator.__table__  # type: ignore[assignment]
_PICK_LIST: Table = PickList.__table__  # type: ignore[assignment]


class Kind(StrEnum):
    PRODUCT = "product"
    LOCATION = "location"
    TOTE = "tote"
    CART = "cart"
    ORDER = "order"
    PACKAGE = "package"
    RMA = "rma"
    OPERATOR = "operator"
    PICK_LIST = "pick_list"


@dataclass(frozen=True, slots=True)
class Resolved:
    kind: Kind
    entity_id: uuid.UUID
    units: int = 1  # for a product: how many units one scan stands for (a case GTIN > 1)


_BY_CODE = select(_BARCODE.c.code, _BARCODE.c.kind, _BARCODE.c.entity_id, _BARCODE.c.units).where(
    _BARCODE.c.code.in_([bindparam("k1"), bindparam("k2"), bindparam("k3")])
)
_ORDER_BY_NUMBER = select(_ORDER.c.id).where(_ORDER.c.number == bindparam("code"))
_TOTE_BY_CODE = select(_TOTE.c.id).where(_TOTE.c.code == bindparam("code"))
_OPERATOR_BY_BADGE = select(_OPERATOR.c.id).where(_OPERATOR.c.badge == bindparam("code"))
_LIST_BY_NUMBER = select(_PICK_LIST.c.id).where(_PICK_LIST.c.number == bindparam("code"))


def kind_of(scan: Scan, rules: CodeRules | None = None) -> str | None:
    """The kind the code's shape says it is: "product" for a GTIN, "package" for an SSCC,
    else a ``[codes]`` kind, or None when nothing says.

    Raises UnknownBarcodeError for a code that is neither a GTIN, nor GS1 data, nor fits any
    of the company's code rules (unless the rules say to look such codes up anyway).
    """
    if scan.gtin is not None:
        return Kind.PRODUCT.value
    if scan.sscc is not None:
        return Kind.PACKAGE.value
    rules = rules or _default_rules()
    kind = rules.kind_of(scan.text)
    if kind is None and not scan.is_gs1 and rules.reject_unmatched:
        raise UnknownBarcodeError(rules.unmatched_message(scan.text))
    return kind


def resolve(session: Session, scan: Scan, rules: CodeRules | None = None) -> Resolved | None:
    """What the scan names, or None when nothing on this station has that code.

    One indexed look-up of every form of the code (GTIN-14 or SSCC, as sent, upper case); the
    GTIN wins, then the code as sent. Codes with no barcode row of their own are then looked
    for in their own column: order numbers, tote codes, operator badges, each only if the
    code's shape allows that kind. ``rules`` are the station's ``[codes]`` (None: the
    defaults); a code that fits none of them and is no GTIN raises UnknownBarcodeError before
    any look-up (see :func:`kind_of`).
    """
    rules = rules or _default_rules()
    plain = scan.gtin is None and scan.sscc is None
    kind = kind_of(scan, rules) if plain else None
    first = scan.gtin or scan.sscc
    keys = list(dict.fromkeys([*([first] if first else []), scan.text, scan.text.upper()]))
    fx = FastExecutor(session.connection())
    padded = (keys * 3)[:3]
    rows = {r[0]: r for r in fx.rows(_BY_CODE, {"k1": padded[0], "k2": padded[1], "k3": padded[2]})}
    for key in keys:
        row = rows.get(key)
        if row is not None:
            return Resolved(Kind(row[1]), row[2], row[3])
    if not plain:
        # Not a known product: a number shaped like a GTIN may still be an order number.
        kind = rules.kind_of(scan.text)
    code = {"code": scan.text.upper()}
    if kind in (None, "order"):
        order_id = fx.scalar(_ORDER_BY_NUMBER, code)
        if order_id is not None:
            return Resolved(Kind.ORDER, order_id)
    if kind in (None, "tote"):
        tote_id = fx.scalar(_TOTE_BY_CODE, code)
        if tote_id is not None:
            return Resolved(Kind.TOTE, tote_id)
    if kind in (None, "order"):  # pick lists are numbered like orders (PL-...)
        list_id = fx.scalar(_LIST_BY_NUMBER, code)
        if list_id is not None:
            return Resolved(Kind.PICK_LIST, list_id)
    if kind == "operator":
        operator_id = fx.scalar(_OPERATOR_BY_BADGE, code)
        if operator_id is not None:
            return Resolved(Kind.OPERATOR, operator_id)
    return None


def _default_rules() -> CodeRules:
    from app.scanning.rules import default_rules

    return default_rules()
