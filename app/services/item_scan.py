"""An item scanned into the open package: the bench's hot path, and what it will do.

:func:`pack_resolved` counts a resolved scan into the order, with Core statements on the
session's connection (no ORM identity map or flush per scan). :func:`predict` works out, from
the order as the screen shows it and without the database, what :func:`pack_resolved` will do
with a plain product barcode, so the screen can show the outcome while the commit runs. The two
share the rules and the words below; the committed result always has the last word.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import Table, bindparam, insert, update

from app.clock import utcnow
from app.domain.errors import (
    InvalidTransitionError,
    ScanRejectedError,
    UnknownBarcodeError,
    ValidationError,
)
from app.domain.orders import OrderStatus, check_packable
from app.domain.roles import Permission
from app.ids import new_id
from app.services import auth
from app.services.orders import read_order
from app.services.packages import open_package_ids
from app.services.resolve import Kind, Resolved, resolve
from app.services.views import LineView, OrderView, PackageView, PackScanResult, ScanOutcome
from app.store.fastexec import FastExecutor
from app.store.models import Order, OrderLine, PackageItem, PackedUnit, ScanEvent
from app.store.uow import UnitOfWork

if TYPE_CHECKING:
    from app.scanning.normalize import Scan

WORKFLOW = "pack"
MAX_TYPED_QTY = 9999
# Lengths of a GTIN as printed (GTIN-8, UPC-A, EAN-13, GTIN-14): app.scanning.gtin.GTIN_LENGTHS,
# repeated so the prediction never loads the GS1 tables on the GUI thread.
_PLAIN_GTIN_LENGTHS = frozenset({8, 12, 13, 14})

_LINE: Table = OrderLine.__table__  # type: ignore[assignment]
_ORDER: Table = Order.__table__  # type: ignore[assignment]
_ITEM: Table = PackageItem.__table__  # type: ignore[assignment]
_SCAN: Table = ScanEvent.__table__  # type: ignore[assignment]
_UNIT: Table = PackedUnit.__table__  # type: ignore[assignment]
# The scan path's writes, built once (the fast executor prepares each statement once).
_ADD_PACKED = (
    update(_LINE)
    .where(_LINE.c.id == bindparam("line_id"))
    .values(qty_packed=_LINE.c.qty_packed + bindparam("units"))
)
_BUMP_VERSION = (
    update(_ORDER).where(_ORDER.c.id == bindparam("order_id")).values(version=_ORDER.c.version + 1)
)
_ADD_TO_ITEM = (
    update(_ITEM)
    .where(
        _ITEM.c.package_id == bindparam("b_package_id"),
        _ITEM.c.order_line_id == bindparam("b_line_id"),
    )
    .values(qty=_ITEM.c.qty + bindparam("units"))
)
_INSERT_ITEM = insert(_ITEM)
_INSERT_SCAN = insert(_SCAN)
_INSERT_UNIT = insert(_UNIT)


@dataclass(frozen=True, slots=True)
class ItemScan:
    order_id: uuid.UUID
    raw: str
    qty: int | None = None  # a typed quantity for lines with many units
    gs_replacement: str | None = None
    scan_id: uuid.UUID | None = None  # the scan event's id, when the caller chose it


def scan_item(uow: UnitOfWork, cmd: ItemScan) -> PackScanResult:
    """Count one scanned item (or a case, or a typed quantity) into the open package.

    A scan that does not fit raises a typed error and counts nothing; the caller records the
    rejected scan with ``packing.record_rejected_scan`` in a transaction of its own.
    """
    from app.scanning.normalize import normalize

    scan = normalize(cmd.raw, gs_replacement=cmd.gs_replacement)
    return pack_resolved(uow, cmd, scan, resolve(uow.session, scan))


def pack_resolved(
    uow: UnitOfWork, cmd: ItemScan, scan: Scan, found: Resolved | None
) -> PackScanResult:
    """The hot path of the bench: the order is read and written with Core statements on the
    session's connection (no ORM identity map or flush per scan)."""
    auth.check(uow, Permission.PACK)
    conn = uow.session.connection()
    order = read_order(conn, cmd.order_id)
    if order.status != OrderStatus.PACKING:
        check_packable(order.number, OrderStatus(order.status))
        raise InvalidTransitionError(
            f"Order {order.number} is not open for packing — scan the order number first."
        )
    if found is None:
        raise UnknownBarcodeError(
            f"{scan.text} is not a product this station knows — set the item aside "
            "and tell a supervisor."
        )
    if found.kind is not Kind.PRODUCT:
        raise ScanRejectedError(
            f"{scan.text} is a {found.kind.value} barcode, not an item — scan the item's barcode."
        )
    lines = _lines_of(order, found.entity_id, scan.text)
    units = _units(cmd, scan, found)
    line = _line_taking(lines, units)
    if line.remaining <= 0:
        raise ScanRejectedError(
            f"Line {line.line_no} ({line.sku}) is already complete — "
            "set this item aside and scan the next one."
        )
    if units > line.remaining:
        raise ScanRejectedError(
            f"That is {units} units but line {line.line_no} ({line.sku}) needs only "
            f"{line.remaining} more — open the case and scan single items."
        )
    _check_tracking(line, scan)
    fx = FastExecutor(conn)
    filling = order.open_package
    if filling is not None:
        package_id, package_seq = filling.id, filling.seq
    else:
        package_id, package_seq = open_package_ids(conn, order.id)
    fx.run(_ADD_PACKED, {"line_id": line.id, "units": units})
    fx.run(_BUMP_VERSION, {"order_id": order.id})
    added = {"b_package_id": package_id, "b_line_id": line.id, "units": units}
    if fx.run(_ADD_TO_ITEM, added) == 0:
        fx.run(
            _INSERT_ITEM,
            {"id": new_id(), "package_id": package_id, "order_line_id": line.id, "qty": units},
        )
    event_id = cmd.scan_id or new_id()
    now = utcnow()
    fx.run(
        _INSERT_SCAN,
        {
            "id": event_id,
            "at": now,
            "station_id": uow.actor.station_id,
            "operator_id": uow.actor.operator_id,
            "workflow": WORKFLOW,
            "raw": cmd.raw[:300],
            "resolved_kind": Kind.PRODUCT.value,
            "entity_id": found.entity_id,
            "order_id": order.id,
            "outcome": ScanOutcome.ACCEPTED.value,
            "message": "",
        },
    )
    unit_id = new_id()
    fx.run(
        _INSERT_UNIT,
        {
            "id": unit_id,
            "order_id": order.id,
            "order_line_id": line.id,
            "package_id": package_id,
            "qty": units,
            "lot": scan.lot,
            "serial": scan.serial,
            "expiry": scan.expiry.isoformat() if scan.expiry else None,
            "scan_event_id": event_id,
            "undone": False,
            "at": now,
        },
    )
    uow.record(
        "order.item_packed",
        {
            "order_id": str(order.id),
            "line_id": str(line.id),
            "sku": line.sku,
            "units": units,
            "package": package_seq,
            "package_id": str(package_id),
            "unit_id": str(unit_id),
            "lot": scan.lot,
            "serial": scan.serial,
            "expiry": scan.expiry.isoformat() if scan.expiry else None,
            "scan_id": str(event_id),
            "raw": cmd.raw,
        },
        entity="order",
        entity_id=order.id,
    )
    return PackScanResult(
        order=_with_packed(order, line, units, package_id, package_seq),
        line_id=line.id,
        units=units,
        message=_packed_words(line, units),
    )


def predict(
    order: OrderView, raw: str, qty: int | None = None, gs_replacement: str | None = None
) -> PackScanResult | None:
    """What :func:`pack_resolved` will do with ``raw``, read from ``order`` alone; None when
    that cannot be known without the database.

    Only the common case is worked out: the product barcode (GTIN-8/12/13/14 digits, as the
    item carries it) of a line with units still to pack, no lot, serial or expiry needed, and a
    package open to take it. A case GTIN, a code that is not on the order, a refusal: None.
    Reads nothing but its arguments, so any thread may call it.
    """
    code = raw.strip()
    if order.status != OrderStatus.PACKING or not is_plain_gtin(code, gs_replacement):
        return None
    gtin = code.zfill(14)  # the GTIN-14 normalize gives it: zeros keep the check digit
    product_ids = {ln.product_id for ln in order.lines if ln.gtin == gtin}
    if len(product_ids) != 1:
        return None
    units = 1 if qty is None else qty
    line = _line_taking(_lines_of(order, product_ids.pop(), code), units)
    filling = order.open_package
    if (
        not 1 <= units <= min(line.remaining, MAX_TYPED_QTY)
        or line.needs_lot
        or line.needs_serial
        or line.needs_expiry
        or filling is None
    ):
        return None
    return PackScanResult(
        order=_with_packed(order, line, units, filling.id, filling.seq),
        line_id=line.id,
        units=units,
        message=_packed_words(line, units),
    )


def is_plain_gtin(code: str, gs_replacement: str | None) -> bool:
    """Digits only, of a GTIN's length: normalize reads them as a GTIN and nothing else."""
    return (
        code.isascii()
        and code.isdigit()
        and len(code) in _PLAIN_GTIN_LENGTHS
        and not (gs_replacement and gs_replacement in code)
    )


def _packed_words(line: LineView, units: int) -> str:
    left = line.remaining - units
    words = f"{line.sku} ✓ {units} packed" if units > 1 else f"{line.sku} ✓"
    return words + (f" — {left} more of this item" if left else " — line complete")


def _with_packed(
    order: OrderView, line: LineView, units: int, package_id: uuid.UUID, package_seq: int
) -> OrderView:
    """The order as it stands after this scan's writes (saves reading it all back)."""
    lines = tuple(
        replace(ln, packed=ln.packed + units) if ln.id == line.id else ln for ln in order.lines
    )
    packages = list(order.packages)
    if not any(p.id == package_id for p in packages):
        packages.append(PackageView(package_id, package_seq, "", None, False, 0, ()))
    for i, p in enumerate(packages):
        if p.id == package_id:
            contents = dict(p.contents)
            contents[line.id] = contents.get(line.id, 0) + units
            packages[i] = replace(p, units=p.units + units, contents=tuple(contents.items()))
    return replace(order, version=order.version + 1, lines=lines, packages=tuple(packages))


def _lines_of(order: OrderView, product_id: uuid.UUID, code: str) -> list[LineView]:
    lines = [line for line in order.lines if line.product_id == product_id]
    if not lines:
        raise ScanRejectedError(
            f"{code} is not on order {order.number} — set it aside and scan the next item."
        )
    return lines


def _line_taking(lines: list[LineView], units: int) -> LineView:
    """The line of the product the units go to: the first with room for them all (a product
    on two lines, bought at two prices, may have room on the second only), else the first
    with room left, else the first (which refuses them in words)."""
    open_lines = [line for line in lines if line.remaining > 0]
    fits = [line for line in open_lines if line.remaining >= units]
    return (fits or open_lines or lines)[0]


def _units(cmd: ItemScan, scan: Scan, found: Resolved) -> int:
    units = found.units * (scan.count or 1)
    if cmd.qty is not None:
        if not 1 <= cmd.qty <= MAX_TYPED_QTY:
            raise ValidationError(
                f"A quantity of {cmd.qty} is not possible — type a number from 1 to "
                f"{MAX_TYPED_QTY}."
            )
        units *= cmd.qty
    return units


def _check_tracking(line: LineView, scan: Scan) -> None:
    missing = []
    if line.needs_lot and not scan.lot:
        missing.append("lot number")
    if line.needs_serial and not scan.serial:
        missing.append("serial number")
    if line.needs_expiry and not scan.expiry:
        missing.append("expiry date")
    if missing:
        raise ScanRejectedError(
            f"{line.sku} needs its {' and '.join(missing)} — scan the GS1 barcode on the item "
            "that carries it (the long one), not the plain product barcode."
        )
