"""Packages of an order at the bench: the open box items go into, closing a box with its box
type and weight, a further box, and moving units between boxes."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.domain.errors import ValidationError
from app.domain.orders import OrderStatus
from app.domain.roles import Permission
from app.domain.sscc import make_sscc
from app.ids import new_id
from app.services import auth
from app.services.orders import load_order, order_view
from app.services.views import OrderView
from app.store.fastexec import FastExecutor
from app.store.models import Company, Order, Package, PackageItem, Station
from app.store.uow import UnitOfWork

_PKG: Table = Package.__table__  # type: ignore[assignment]
MAX_WEIGHT_G = 70_000  # a parcel carriers accept at all
BOX_TYPES = ("S-BOX 20×15×10", "M-BOX 30×25×15", "L-BOX 40×30×25", "MAILER BAG", "OWN PACKAGING")


def _newest_open(uow: UnitOfWork, order: Order) -> Package | None:
    return uow.session.scalar(
        select(Package)
        .where(Package.order_id == order.id, Package.status == "open")
        .order_by(Package.seq.desc())
        .limit(1)
    )


def open_package_for(uow: UnitOfWork, order: Order) -> Package:
    """The package items go into now: the newest open one, or a new one after the last."""
    s = uow.session
    pkg = _newest_open(uow, order)
    if pkg is not None:
        return pkg
    last = s.scalar(select(func.max(Package.seq)).where(Package.order_id == order.id)) or 0
    pkg = Package(order_id=order.id, seq=last + 1, box_type="", status="open")
    s.add(pkg)
    s.flush()
    return pkg


_OPEN_PACKAGE = (
    select(_PKG.c.id, _PKG.c.seq)
    .where(_PKG.c.order_id == bindparam("order_id"), _PKG.c.status == "open")
    .order_by(_PKG.c.seq.desc())
    .limit(1)
)
_LAST_SEQ = select(func.max(_PKG.c.seq)).where(_PKG.c.order_id == bindparam("order_id"))
_INSERT_PACKAGE = insert(_PKG)


def open_package_ids(conn: Connection, order_id: uuid.UUID) -> tuple[uuid.UUID, int]:
    """(id, number) of the package items go into now, made if needed (the scan path)."""
    fx = FastExecutor(conn)
    key = {"order_id": order_id}
    row = fx.first(_OPEN_PACKAGE, key)
    if row is not None:
        return row[0], row[1]
    last = fx.scalar(_LAST_SEQ, key) or 0
    pid = new_id()
    fx.run(
        _INSERT_PACKAGE,
        {"id": pid, "order_id": order_id, "seq": last + 1, "box_type": "", "status": "open"},
    )
    return pid, last + 1


def _package(uow: UnitOfWork, order: Order, seq: int) -> Package:
    pkg = uow.session.scalar(
        select(Package).where(Package.order_id == order.id, Package.seq == seq)
    )
    if pkg is None:
        raise ValidationError(f"Order {order.number} has no package {seq}.")
    return pkg


def _packing(uow: UnitOfWork, order_id: uuid.UUID) -> Order:
    auth.check(uow, Permission.PACK)
    order = load_order(uow.session, order_id)
    if order.status != OrderStatus.PACKING:
        raise ValidationError(
            f"Order {order.number} is not open for packing — scan the order first."
        )
    return order


def _units(uow: UnitOfWork, package_id: uuid.UUID) -> int:
    n = uow.session.scalar(
        select(func.coalesce(func.sum(PackageItem.qty), 0)).where(
            PackageItem.package_id == package_id
        )
    )
    return int(n or 0)


def parse_weight(text: str) -> int:
    """A typed weight in kilograms ("1,25", "0.8", "2") to grams, or a plain message."""
    cleaned = text.strip().lower().removesuffix("kg").strip().replace(",", ".")
    try:
        kg = float(cleaned)
    except ValueError:
        raise ValidationError(
            f"{text.strip() or 'Nothing'} is not a weight — type the weight in kilograms, "
            "for example 1.25."
        ) from None
    grams = round(kg * 1000)
    if not 1 <= grams <= MAX_WEIGHT_G:
        raise ValidationError(
            f"{text.strip()} kg is not a possible parcel weight — weigh the package again "
            f"(from 0.001 to {MAX_WEIGHT_G // 1000} kg)."
        )
    return grams


def assign_sscc(uow: UnitOfWork, pkg: Package, block: int = 0) -> str | None:
    """Give a package its SSCC (GS1 serial shipping container code) once, from this station's
    own range: serial = block (0–999, one per station in the settings) then a running number.
    None when the company has no GS1 company prefix set."""
    if pkg.sscc:
        return pkg.sscc
    company = uow.session.scalar(select(Company).limit(1))
    prefix = str(company.profile.get("gs1_company_prefix", "")) if company else ""
    if not prefix:
        return None
    station = uow.session.get(Station, uow.actor.station_id)
    assert station is not None
    serial_digits = 16 - len(prefix)
    if not 0 <= block <= 999:
        raise ValidationError(f"The station's SSCC block {block} must be 0 to 999.")
    per_block = 10 ** (serial_digits - 3)
    if station.next_sscc < 1:
        station.next_sscc = _next_in_block(uow, prefix, block * per_block, per_block)
    if station.next_sscc >= per_block:
        raise ValidationError(
            f"This station has used all {per_block - 1:,} SSCC numbers of block {block} — "
            "give it another block in the station settings."
        )
    serial = block * per_block + station.next_sscc
    station.next_sscc += 1
    pkg.sscc = make_sscc(0, prefix, serial)
    return pkg.sscc


def _next_in_block(uow: UnitOfWork, prefix: str, first: int, per_block: int) -> int:
    """The running number after the highest SSCC of the block among the packages this station
    holds: a station loaded again from central (its counter unknown) never repeats an SSCC it
    gave before, whatever it packed then is in its warehouse's packages."""
    low = "0" + prefix + str(first).zfill(16 - len(prefix))
    high = "0" + prefix + str(first + per_block - 1).zfill(16 - len(prefix)) + "9"
    top = uow.session.scalar(
        select(func.max(Package.sscc)).where(Package.sscc >= low, Package.sscc <= high)
    )
    return 1 if top is None else int(top[1 + len(prefix) : 17]) - first + 1


def assign_sscc_to(uow: UnitOfWork, package_id: uuid.UUID, block: int = 0) -> str | None:
    pkg = uow.session.get(Package, package_id)
    if pkg is None:
        raise ValidationError("That package no longer exists.")
    return assign_sscc(uow, pkg, block)


def close_package(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    seq: int,
    weight_g: int,
    box_type: str,
    sscc_block: int = 0,
) -> OrderView:
    order = _packing(uow, order_id)
    pkg = _package(uow, order, seq)
    if not 1 <= weight_g <= MAX_WEIGHT_G:
        raise ValidationError(
            f"{weight_g / 1000:g} kg is not a possible parcel weight — weigh it again."
        )
    if not box_type.strip():
        raise ValidationError("Choose the box type before closing the package.")
    if _units(uow, pkg.id) == 0:
        raise ValidationError(f"Package {seq} is empty — scan items into it before closing it.")
    pkg.weight_g = weight_g
    pkg.box_type = box_type.strip()
    pkg.status = "closed"
    pkg.closed_at = utcnow()
    assign_sscc(uow, pkg, sscc_block)
    uow.record(
        "package.closed",
        {
            "order_id": str(order.id),
            "package_id": str(pkg.id),
            "package": seq,
            "weight_g": weight_g,
            "box_type": pkg.box_type,
            "sscc": pkg.sscc,
        },
        entity="order",
        entity_id=order.id,
    )
    uow.session.flush()
    return order_view(uow.session, order)


def add_package(uow: UnitOfWork, order_id: uuid.UUID) -> OrderView:
    """Start another box; an open one must have something in it first."""
    order = _packing(uow, order_id)
    s = uow.session
    current = _newest_open(uow, order)
    if current is not None and _units(uow, current.id) == 0:
        raise ValidationError(f"Package {current.seq} is still empty — scan items into it first.")
    last = s.scalar(select(func.max(Package.seq)).where(Package.order_id == order.id)) or 0
    pkg = Package(order_id=order.id, seq=last + 1, box_type="", status="open")
    s.add(pkg)
    s.flush()
    uow.record(
        "package.added",
        {"order_id": str(order.id), "package_id": str(pkg.id), "package": pkg.seq},
        entity="order",
        entity_id=order.id,
    )
    return order_view(s, order)


def move_units(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    line_id: uuid.UUID,
    from_seq: int,
    to_seq: int,
    qty: int,
) -> OrderView:
    """Move units of one line between packages; a closed package it touches is reopened
    (its weight no longer holds)."""
    order = _packing(uow, order_id)
    if from_seq == to_seq:
        raise ValidationError("Choose two different packages to move units between.")
    src, dst = _package(uow, order, from_seq), _package(uow, order, to_seq)
    s = uow.session
    item = s.scalar(
        select(PackageItem).where(
            PackageItem.package_id == src.id, PackageItem.order_line_id == line_id
        )
    )
    have = item.qty if item else 0
    if not 1 <= qty <= have:
        raise ValidationError(
            f"Package {from_seq} holds {have} of that item — type a number from 1 to {have}."
            if have
            else f"Package {from_seq} holds none of that item."
        )
    assert item is not None
    shift_units(s, item, dst, qty)
    uow.record(
        "package.units_moved",
        {
            "order_id": str(order.id),
            "line_id": str(line_id),
            "from": from_seq,
            "to": to_seq,
            "qty": qty,
        },
        entity="order",
        entity_id=order.id,
    )
    s.flush()
    return order_view(s, order)


def shift_units(s: Session, item: PackageItem, dst: Package, qty: int) -> None:
    """Move ``qty`` units of an item's line from its package into ``dst`` (the bench and the
    hub both); a closed package either side is reopened: its weight no longer holds."""
    src = s.get(Package, item.package_id)
    line_id = item.order_line_id
    item.qty -= qty
    if item.qty == 0:
        s.delete(item)
    target = s.scalar(
        select(PackageItem).where(
            PackageItem.package_id == dst.id, PackageItem.order_line_id == line_id
        )
    )
    if target is None:
        s.add(PackageItem(package_id=dst.id, order_line_id=line_id, qty=qty))
    else:
        target.qty += qty
    for pkg in (src, dst):
        if pkg is not None and pkg.status == "closed":
            pkg.status = "open"
            pkg.weight_g = None
            pkg.closed_at = None


def reopen_package(uow: UnitOfWork, order_id: uuid.UUID, seq: int) -> OrderView:
    order = _packing(uow, order_id)
    pkg = _package(uow, order, seq)
    pkg.status, pkg.weight_g, pkg.closed_at = "open", None, None
    uow.record(
        "package.reopened",
        {"order_id": str(order.id), "package_id": str(pkg.id), "package": seq},
        entity="order",
        entity_id=order.id,
    )
    uow.session.flush()
    return order_view(uow.session, order)
