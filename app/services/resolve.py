"""What a scanned code names: a product (and how many units), a bin, a tote, an order, a
package, an RMA or an operator badge. One indexed look-up on the scan path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.scanning.normalize import Scan
from app.store.models import Barcode, Order, Tote


class Kind(StrEnum):
    PRODUCT = "product"
    LOCATION = "location"
    TOTE = "tote"
    ORDER = "order"
    PACKAGE = "package"
    RMA = "rma"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Resolved:
    kind: Kind
    entity_id: uuid.UUID
    units: int = 1  # for a product: how many units one scan stands for (a case GTIN > 1)


def resolve(session: Session, scan: Scan) -> Resolved | None:
    """What the scan names, or None when nothing on this station has that code."""
    keys = [scan.gtin] if scan.gtin else []
    keys += [scan.text, scan.text.upper()]
    for key in dict.fromkeys(keys):
        row = session.get(Barcode, key)
        if row is not None:
            return Resolved(Kind(row.kind), row.entity_id, row.units)
    # Codes with no barcode row of their own: order numbers and totes by their own column.
    order_id = session.scalar(select(Order.id).where(Order.number == scan.text.upper()))
    if order_id is not None:
        return Resolved(Kind.ORDER, order_id)
    tote_id = session.scalar(select(Tote.id).where(Tote.code == scan.text.upper()))
    if tote_id is not None:
        return Resolved(Kind.TOTE, tote_id)
    return None
