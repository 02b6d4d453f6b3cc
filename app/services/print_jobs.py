"""Print jobs as persistent records: queued with the action that asks for them, picked up by
the station's print worker, marked printed or failed (and retried). A dead printer never loses
a job; printing/ renders and sends, this module only keeps the books."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.clock import utcnow
from app.domain.documents import Address, CompanyProfile, PackingSlip, SlipLine
from app.domain.errors import NotFoundError
from app.services.orders import load_order
from app.store.models import AuditEvent, Company, Operator, Package, PrintJob, Station
from app.store.uow import UnitOfWork

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class JobView:
    id: uuid.UUID
    document: str
    ref_id: uuid.UUID
    title: str
    status: str
    attempts: int
    destination: str
    last_error: str
    created_at: datetime


def _view(j: PrintJob) -> JobView:
    return JobView(
        j.id,
        j.document,
        j.ref_id,
        j.title,
        j.status,
        j.attempts,
        j.destination,
        j.last_error,
        j.created_at,
    )


def pending_jobs(uow: UnitOfWork, limit: int = 20) -> list[JobView]:
    rows = uow.session.scalars(
        select(PrintJob)
        .where(PrintJob.station_id == uow.actor.station_id, PrintJob.status != "printed")
        .order_by(PrintJob.created_at)
        .limit(limit)
    )
    return [_view(j) for j in rows]


def get_job(uow: UnitOfWork, job_id: uuid.UUID) -> JobView:
    job = uow.session.get(PrintJob, job_id)
    if job is None:
        raise NotFoundError("That print job no longer exists.")
    return _view(job)


def count_waiting(uow: UnitOfWork) -> int:
    return int(
        uow.session.scalar(
            select(func.count(PrintJob.id)).where(
                PrintJob.station_id == uow.actor.station_id, PrintJob.status != "printed"
            )
        )
        or 0
    )


def mark_printed(uow: UnitOfWork, job_id: uuid.UUID, destination: str) -> None:
    job = uow.session.get(PrintJob, job_id)
    assert job is not None
    job.status, job.destination, job.printed_at = "printed", destination, utcnow()
    job.attempts += 1
    job.last_error = ""


def mark_failed(uow: UnitOfWork, job_id: uuid.UUID, destination: str, error: str) -> None:
    job = uow.session.get(PrintJob, job_id)
    assert job is not None
    job.status, job.destination = "failed", destination
    job.attempts += 1
    job.last_error = error[:MAX_ERROR_CHARS]


def reprint(uow: UnitOfWork, document: str, ref_id: uuid.UUID, title: str) -> uuid.UUID:
    job = PrintJob(
        station_id=uow.actor.station_id,
        document=document,
        ref_id=ref_id,
        title=title,
        status="queued",
    )
    uow.session.add(job)
    uow.session.flush()
    return job.id


def company_profile(uow: UnitOfWork) -> CompanyProfile:
    company = uow.session.scalar(select(Company).limit(1))
    if company is None:
        return CompanyProfile(name="Waystation", address=Address(name="Waystation", line1=""))
    p = company.profile
    return CompanyProfile(
        name=company.name,
        address=address_from(p.get("address", {}), company.name),
        phone=p.get("phone", ""),
        email=p.get("email", ""),
        website=p.get("website", ""),
        returns_url=p.get("returns_url", ""),
        logo_path=p.get("logo_path"),
        paper=p.get("paper", "A4"),
        locale=p.get("locale", "en_GB"),
    )


def address_from(raw: dict[str, str], name: str = "") -> Address:
    return Address(
        name=raw.get("name", name),
        line1=raw.get("line1", ""),
        line2=raw.get("line2", ""),
        city=raw.get("city", ""),
        postcode=raw.get("postcode", ""),
        region=raw.get("region", ""),
        country=raw.get("country", ""),
    )


def packing_slip_data(uow: UnitOfWork, order_id: uuid.UUID) -> PackingSlip:
    s = uow.session
    order = load_order(s, order_id)
    packages = s.scalar(select(func.count(Package.id)).where(Package.order_id == order.id))
    station = s.get(Station, uow.actor.station_id)
    packer = s.scalar(
        select(Operator.name)
        .join(AuditEvent, AuditEvent.operator_id == Operator.id)
        .where(AuditEvent.entity_id == order.id, AuditEvent.action == "order.packed")
        .limit(1)
    )
    ship_to = address_from(order.ship_to, order.customer.name)
    bill = order.customer.address
    return PackingSlip(
        order_number=order.number,
        placed_at=order.placed_at,
        channel=order.channel.name,
        ship_to=ship_to,
        bill_to=address_from(bill, order.customer.name) if bill else None,
        lines=tuple(
            SlipLine(
                sku=ln.product.sku,
                gtin=ln.product.gtin or "",
                description=ln.product.name,
                ordered=ln.qty_ordered,
                shipped=ln.qty_packed,
            )
            for ln in order.lines
        ),
        packages=int(packages or 1),
        packed_by=packer or "",
        station=station.name if station else "",
    )
