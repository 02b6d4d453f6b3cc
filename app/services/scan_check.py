"""The scanner check: read one scan as the station would, say what it names, and what in the
scanner's set-up to change. Read-only: nothing is recorded, no workflow is moved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.domain.errors import MalformedScanError, UnknownBarcodeError
from app.scanning.diagnosis import Advice, advise, describe_scan
from app.services.resolve import Kind, Resolved, kind_of, resolve
from app.store.models import Barcode, Location, Operator, Order, Product, Tote

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.config import ScannerConfig
    from app.scanning.normalize import Scan
    from app.scanning.rules import StationCodes
    from app.scanning.trace import ScanTrace
    from app.store.uow import UnitOfWork

_KIND_WORDS = {
    "product": "a product",
    "location": "a bin",
    "tote": "a tote",
    "cart": "a cart",
    "order": "an order or pick list",
    "package": "a package",
    "rma": "a return (RMA)",
    "operator": "an operator badge",
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One scan as the scanner check shows it."""

    raw: str
    scan: Scan | None
    """None when the scan could not be read (``problem`` says why)."""
    problem: str | None
    """What is wrong with the code, in the words the workflow would show."""
    names: str
    """What the code names at this station, or that nothing does."""
    found: bool
    fields: tuple[tuple[str, str], ...]
    advice: tuple[Advice, ...]


def check_scan(
    uow: UnitOfWork,
    raw: str,
    trace: ScanTrace | None,
    settings: ScannerConfig,
    codes: StationCodes,
) -> CheckResult:
    """Normalise ``raw``, look up what it names, and advise on the scanner's settings."""
    from app.scanning.normalize import normalize

    scan: Scan | None = None
    problem: str | None = None
    names = ""
    found = False
    try:
        scan = normalize(raw, gs_replacement=settings.gs_replacement or None, codes=codes)
        resolved = resolve(uow.session, scan, codes.rules)
    except (MalformedScanError, UnknownBarcodeError) as e:
        problem = e.message
    else:
        if resolved is None:
            names = _not_found(scan, codes)
        else:
            found = True
            names = _name(uow.session, resolved, scan)
    return CheckResult(
        raw=raw,
        scan=scan,
        problem=problem,
        names=names,
        found=found,
        fields=describe_scan(scan) if scan is not None else (),
        advice=advise(trace, scan, problem, settings),
    )


def _not_found(scan: Scan, codes: StationCodes) -> str:
    kind = kind_of(scan, codes.rules)
    shaped = f", though it is shaped like {_KIND_WORDS[kind]}" if kind in _KIND_WORDS else ""
    return f"Nothing at this station has this code{shaped}."


def _name(session: Session, found: Resolved, scan: Scan) -> str:
    kind = found.kind
    if kind is Kind.PRODUCT:
        row = session.execute(
            select(Product.sku, Product.name).where(Product.id == found.entity_id)
        ).first()
        if row is not None:
            case = f" (a case of {found.units})" if found.units > 1 else ""
            return f"Product {row.sku} — {row.name}{case}"
    elif kind is Kind.LOCATION:
        code = session.scalar(select(Location.code).where(Location.id == found.entity_id))
        if code is not None:
            return f"Bin {code}"
    elif kind is Kind.ORDER:
        order = session.get(Order, found.entity_id)
        if order is not None:
            return f"Order {order.number} ({order.status.replace('_', ' ')})"
    elif kind is Kind.TOTE:
        tote = session.get(Tote, found.entity_id)
        if tote is not None:
            carrying = session.get(Order, tote.order_id) if tote.order_id else None
            load = f", carrying order {carrying.number}" if carrying else ", empty"
            return f"Tote {tote.code}{load}"
    elif kind is Kind.OPERATOR:
        name = session.scalar(select(Operator.name).where(Operator.id == found.entity_id))
        if name is not None:
            return f"Operator badge of {name}"
    code = session.scalar(select(Barcode.code).where(Barcode.entity_id == found.entity_id))
    return f"{_KIND_WORDS.get(kind.value, kind.value).capitalize()} {code or scan.text}"
