"""Print jobs as persistent records: queued with the action that asks for them, picked up by
the station's print worker, marked printed or failed (and retried). A dead printer never loses
a job; printing/ renders and sends, this module only keeps the books."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from app.clock import utcnow
from app.domain.documents import Address, CompanyProfile, PackingSlip, SlipLine
from app.domain.errors import NotFoundError, ValidationError
from app.domain.labels import ShippingLabel
from app.services.orders import load_order
from app.store.models import (
    AuditEvent,
    Company,
    Operator,
    OrderLine,
    Package,
    PackageItem,
    PrintJob,
    Product,
    Station,
)
from app.store.uow import UnitOfWork

MAX_ERROR_CHARS = 2000


# Seconds before retry n (1, 2, ...) of a job whose printer failed; then every 5 minutes.
BACKOFF_S = (5, 15, 30, 60, 120, 300)
WAITING = ("queued", "failed", "sending")  # still to print (sending: in hand right now)
DOCUMENT_WORDS = {
    "packing_slip": ("packing slip", "packing slips"),
    "shipping_label": ("label", "labels"),
    "receipt": ("receipt", "receipts"),
    "pick_list": ("pick list", "pick lists"),
}


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
    printed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    possible_duplicate: bool = False
    reprint_of: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class WaitingSummary:
    """What the status bar says about printing: per kind of document, how many wait and why."""

    document: str
    waiting: int
    last_error: str
    uncertain: int = 0

    def words(self) -> str:
        one, many = DOCUMENT_WORDS.get(self.document, (self.document, self.document + "s"))
        noun = one if self.waiting == 1 else many
        text = f"{self.waiting} {noun} waiting"
        if self.last_error:
            text = f"{_printer_words(self.document)} offline — {text}"
        if self.uncertain:
            text += f" · {self.uncertain} to check (may have printed)"
        return text


def _printer_words(document: str) -> str:
    return {
        "packing_slip": "Slip printer",
        "shipping_label": "Label printer",
        "receipt": "Receipt printer",
    }.get(document, "Printer")


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
        j.printed_at,
        j.next_attempt_at,
        j.possible_duplicate,
        j.reprint_of,
    )


def queue_job(uow: UnitOfWork, document: str, ref_id: uuid.UUID, title: str) -> uuid.UUID:
    """Add a job in the caller's transaction (with the action that asks for the print)."""
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


def due_jobs(uow: UnitOfWork, now: datetime | None = None, limit: int = 20) -> list[JobView]:
    """Jobs to print now: queued, or failed and past their back-off; oldest first."""
    now = now or utcnow()
    rows = uow.session.scalars(
        select(PrintJob)
        .where(
            PrintJob.station_id == uow.actor.station_id,
            PrintJob.status.in_(("queued", "failed")),
            or_(PrintJob.next_attempt_at.is_(None), PrintJob.next_attempt_at <= now),
        )
        .order_by(PrintJob.created_at)
        .limit(limit)
    )
    return [_view(j) for j in rows]


def pending_jobs(uow: UnitOfWork, limit: int = 20) -> list[JobView]:
    """Every job not printed yet (whatever its back-off)."""
    rows = uow.session.scalars(
        select(PrintJob)
        .where(PrintJob.station_id == uow.actor.station_id, PrintJob.status.in_(WAITING))
        .order_by(PrintJob.created_at)
        .limit(limit)
    )
    return [_view(j) for j in rows]


def get_job(uow: UnitOfWork, job_id: uuid.UUID) -> JobView:
    return _view(_job(uow, job_id))


def _job(uow: UnitOfWork, job_id: uuid.UUID) -> PrintJob:
    job = uow.session.get(PrintJob, job_id)
    if job is None:
        raise NotFoundError("That print job no longer exists.")
    return job


def count_waiting(uow: UnitOfWork) -> int:
    return int(
        uow.session.scalar(
            select(func.count(PrintJob.id)).where(
                PrintJob.station_id == uow.actor.station_id, PrintJob.status.in_(WAITING)
            )
        )
        or 0
    )


def waiting_summary(uow: UnitOfWork) -> list[WaitingSummary]:
    """Per kind of document: jobs waiting, the newest failure's words, jobs to check."""
    out = []
    rows = uow.session.execute(
        select(PrintJob.document, PrintJob.status, func.count(PrintJob.id))
        .where(
            PrintJob.station_id == uow.actor.station_id,
            PrintJob.status.in_((*WAITING, "uncertain")),
        )
        .group_by(PrintJob.document, PrintJob.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for document, status, n in rows:
        counts.setdefault(document, {})[status] = int(n)
    for document, by_status in sorted(counts.items()):
        waiting = sum(n for st, n in by_status.items() if st in WAITING)
        error = ""
        if by_status.get("failed"):
            error = (
                uow.session.scalar(
                    select(PrintJob.last_error)
                    .where(
                        PrintJob.station_id == uow.actor.station_id,
                        PrintJob.document == document,
                        PrintJob.status == "failed",
                    )
                    .order_by(PrintJob.created_at.desc())
                    .limit(1)
                )
                or "failed"
            )
        out.append(WaitingSummary(document, waiting, error, by_status.get("uncertain", 0)))
    return out


def mark_sending(uow: UnitOfWork, job_id: uuid.UUID) -> None:
    """Committed before the bytes leave: a station that dies now knows the job may have
    printed (see :func:`recover_after_restart`)."""
    job = _job(uow, job_id)
    job.status, job.sending_since = "sending", utcnow()


def mark_printed(uow: UnitOfWork, job_id: uuid.UUID, destination: str) -> None:
    job = _job(uow, job_id)
    job.status, job.destination, job.printed_at = "printed", destination, utcnow()
    job.attempts += 1
    job.last_error = ""
    job.sending_since = job.next_attempt_at = None


def mark_failed(uow: UnitOfWork, job_id: uuid.UUID, destination: str, error: str) -> None:
    """Keep the job, with the reason, and retry it after a back-off that grows to 5 minutes."""
    job = _job(uow, job_id)
    job.status, job.destination = "failed", destination
    job.attempts += 1
    job.last_error = error[:MAX_ERROR_CHARS]
    job.sending_since = None
    wait = BACKOFF_S[min(job.attempts, len(BACKOFF_S)) - 1]
    job.next_attempt_at = utcnow() + timedelta(seconds=wait)


def retry_now(uow: UnitOfWork) -> int:
    """The printer is back (a person says so, or a test page went through): no more waiting."""
    result = uow.session.execute(
        update(PrintJob)
        .where(PrintJob.station_id == uow.actor.station_id, PrintJob.status == "failed")
        .values(next_attempt_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def recover_after_restart(uow: UnitOfWork) -> int:
    """Jobs caught mid-send when the station stopped may have printed: they are not sent again
    by themselves but wait, marked as possible duplicates, for a person to print or discard."""
    jobs = list(
        uow.session.scalars(
            select(PrintJob).where(
                PrintJob.station_id == uow.actor.station_id, PrintJob.status == "sending"
            )
        )
    )
    for job in jobs:
        job.status, job.possible_duplicate, job.sending_since = "uncertain", True, None
        job.last_error = (
            "The station stopped while this was being sent: it may have printed. "
            "Check the printer, then print it again or discard it."
        )
    return len(jobs)


def journal(uow: UnitOfWork, limit: int = 200) -> list[JobView]:
    """This station's print jobs, newest first."""
    rows = uow.session.scalars(
        select(PrintJob)
        .where(PrintJob.station_id == uow.actor.station_id)
        .order_by(PrintJob.created_at.desc(), PrintJob.id.desc())
        .limit(limit)
    )
    return [_view(j) for j in rows]


def reprint(uow: UnitOfWork, job_id: uuid.UUID) -> uuid.UUID:
    """Print a past job again, as a new job (audited, with who asked)."""
    old = _job(uow, job_id)
    if old.status in WAITING:
        raise ValidationError(f"{old.title} has not printed yet — it is still waiting to print.")
    new_id = queue_job(uow, old.document, old.ref_id, old.title)
    uow.session.get_one(PrintJob, new_id).reprint_of = old.id
    if old.status == "uncertain":
        old.status = "discarded"
    uow.record(
        "print.reprinted",
        {
            "job_id": str(new_id),
            "reprint_of": str(old.id),
            "document": old.document,
            "title": old.title,
        },
        entity="print_job",
        entity_id=old.id,
    )
    return new_id


def discard(uow: UnitOfWork, job_id: uuid.UUID) -> None:
    """Drop a job that is still waiting or uncertain (audited)."""
    job = _job(uow, job_id)
    if job.status not in (*WAITING, "uncertain"):
        raise ValidationError(f"{job.title} has already printed — nothing to discard.")
    job.status = "discarded"
    uow.record(
        "print.discarded",
        {"job_id": str(job.id), "document": job.document, "title": job.title},
        entity="print_job",
        entity_id=job.id,
    )


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


def has_job(uow: UnitOfWork, document: str, ref_id: uuid.UUID) -> bool:
    """Whether this document was already queued for ``ref_id`` (by any station action)."""
    return (
        uow.session.scalar(
            select(PrintJob.id)
            .where(PrintJob.document == document, PrintJob.ref_id == ref_id)
            .limit(1)
        )
        is not None
    )


def shipping_label_data(uow: UnitOfWork, package_id: uuid.UUID) -> ShippingLabel:
    """The label of one package: from the company to the order's address, carrier and service
    from the company's shipping settings, the package's weight (or, before it is weighed, the
    weight of what is in it), its SSCC."""
    s = uow.session
    package = s.get(Package, package_id)
    if package is None:
        raise NotFoundError("That package no longer exists.")
    order = load_order(s, package.order_id)
    company = company_profile(uow)
    profile = (s.scalar(select(Company.profile).limit(1))) or {}
    count = s.scalar(select(func.count(Package.id)).where(Package.order_id == order.id)) or 1
    weight = package.weight_g
    if weight is None:
        weight = int(
            s.scalar(
                select(func.coalesce(func.sum(PackageItem.qty * Product.weight_g), 0))
                .join(OrderLine, OrderLine.id == PackageItem.order_line_id)
                .join(Product, Product.id == OrderLine.product_id)
                .where(PackageItem.package_id == package.id)
            )
            or 0
        )
    prefix = str(profile.get("gs1_company_prefix", ""))
    return ShippingLabel(
        ship_from=company.address,
        ship_to=address_from(order.ship_to, order.customer.name),
        carrier=str(profile.get("carrier", "Parcel")),
        service=str(profile.get("carrier_service", "Standard")),
        weight_g=weight,
        package_no=package.seq,
        package_count=int(count),
        tracking_number=package.tracking_number or "",
        sscc=package.sscc or "",
        order_number=order.number,
        company_prefix_length=len(prefix) if prefix else None,
    )


def printed_by_hand(uow: UnitOfWork, job_id: uuid.UUID, printer: str) -> None:
    """A person printed a job's document through the system print dialog (audited)."""
    job = _job(uow, job_id)
    uow.record(
        "print.dialog",
        {"job_id": str(job.id), "document": job.document, "title": job.title, "printer": printer},
        entity="print_job",
        entity_id=job.id,
    )
