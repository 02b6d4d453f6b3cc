"""What a scanned code names: a product (and how many units), a bin, a tote, an order, a
package, an RMA, an operator badge or a pick list. One indexed look-up on the scan path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from app.store.fastexec import FastExecutor
from app.store.models import Barcode, Order, PickList, Tote

if TYPE_CHECKING:
    from app.scanning.normalize import Scan

_BARCODE: Table = Barcode.__table__  # type: ignore[assignment]
_ORDER: Table = Order.__table__  # type: ignore[assignment]
_TOTE: Table = Tote.__table__  # type: ignore[assignment]
_PICK_LIST: Table = PickList.__table__  # type: ignore[assignment]


class Kind(StrEnum):
    PRODUCT = "product"
    LOCATION = "location"
    TOTE = "tote"
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
_LIST_BY_NUMBER = select(_PICK_LIST.c.id).where(_PICK_LIST.c.number == bindparam("code"))


def resolve(session: Session, scan: Scan) -> Resolved | None:
    """What the scan names, or None when nothing on this station has that code.

    One indexed look-up of every form of the code (GTIN-14, as sent, upper case); the GTIN
    wins, then the code as sent.
    """
    keys = list(dict.fromkeys([*([scan.gtin] if scan.gtin else []), scan.text, scan.text.upper()]))
    fx = FastExecutor(session.connection())
    padded = (keys * 3)[:3]
    rows = {r[0]: r for r in fx.rows(_BY_CODE, {"k1": padded[0], "k2": padded[1], "k3": padded[2]})}
    for key in keys:
        row = rows.get(key)
        if row is not None:
            return Resolved(Kind(row[1]), row[2], row[3])
    # Codes with no barcode row of their own: order numbers, totes and pick lists by their
    # own column.
    code = {"code": scan.text.upper()}
    order_id = fx.scalar(_ORDER_BY_NUMBER, code)
    if order_id is not None:
        return Resolved(Kind.ORDER, order_id)
    tote_id = fx.scalar(_TOTE_BY_CODE, code)
    if tote_id is not None:
        return Resolved(Kind.TOTE, tote_id)
    list_id = fx.scalar(_LIST_BY_NUMBER, code)
    if list_id is not None:
        return Resolved(Kind.PICK_LIST, list_id)
    return None
