"""SQLAlchemy 2.0 typed mappings of the entities in DESIGN §3 that the stations use today.

Ids are UUIDv7 made where the entity is born. Money is integer minor units with a currency.
Stock is a ledger (StockMovement); nothing stores an absolute on-hand quantity.
"""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.clock import utcnow
from app.ids import new_id
from app.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
    }


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=new_id)


class Company(Base):
    __tablename__ = "company"
    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(200))
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)  # address, returns url, logo


class Warehouse(Base):
    __tablename__ = "warehouse"
    id: Mapped[uuid.UUID] = _id()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("company.id"))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Location(Base):
    """A bin (or shelf, or dock) with its place in the pick path."""

    __tablename__ = "location"
    id: Mapped[uuid.UUID] = _id()
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    zone: Mapped[str] = mapped_column(String(20), default="")
    pick_seq: Mapped[int] = mapped_column(Integer, index=True)


class Product(Base):
    __tablename__ = "product"
    id: Mapped[uuid.UUID] = _id()
    sku: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    gtin: Mapped[str | None] = mapped_column(String(14))  # the unit GTIN-14, for documents
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    track_lot: Mapped[bool] = mapped_column(default=False)
    track_serial: Mapped[bool] = mapped_column(default=False)
    track_expiry: Mapped[bool] = mapped_column(default=False)
    home_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    tax_rate_bp: Mapped[int | None] = mapped_column(Integer)  # None: the company's standard rate


class Barcode(Base):
    """Any code that names something: a product (with units per scan), a bin, a tote, an
    order, a package, an RMA or an operator badge. GTINs are stored as GTIN-14."""

    __tablename__ = "barcode"
    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    units: Mapped[int] = mapped_column(Integer, default=1)  # a case GTIN counts its units


class Tote(Base):
    """A reusable crate; while it carries an order's picked items it names that order."""

    __tablename__ = "tote"
    id: Mapped[uuid.UUID] = _id()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id"))


class Customer(Base):
    __tablename__ = "customer"
    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(200), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SalesChannel(Base):
    __tablename__ = "sales_channel"
    id: Mapped[uuid.UUID] = _id()
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Order(Base):
    __tablename__ = "sales_order"
    id: Mapped[uuid.UUID] = _id()
    number: Mapped[str] = mapped_column(String(40), unique=True)
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_channel.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), index=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    ship_to: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    status_before_hold: Mapped[str | None] = mapped_column(String(20))
    packed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The online claim: which bench is packing the order (set centrally by the hub).
    claimed_by_station: Mapped[uuid.UUID | None] = mapped_column()
    claimed_by_operator: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    # For picking: higher goes first; the carrier's collection the order must make.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    cutoff_at: Mapped[datetime | None]

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", lazy="selectin"
    )
    customer: Mapped[Customer] = relationship(lazy="joined")
    channel: Mapped[SalesChannel] = relationship(lazy="joined")


class OrderLine(Base):
    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)
    id: Mapped[uuid.UUID] = _id()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"), index=True)
    qty_ordered: Mapped[int] = mapped_column(Integer)
    qty_packed: Mapped[int] = mapped_column(Integer, default=0)
    qty_missing: Mapped[int] = mapped_column(Integer, default=0)
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    # Paid per unit, in the order's currency. None only on a line the sender gave no price
    # for: the catalogue price stands in (``paid_per_unit``).
    unit_price_minor: Mapped[int | None] = mapped_column(BigInteger)

    order: Mapped["Order"] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship(lazy="joined")
    location: Mapped[Location | None] = relationship(lazy="joined")

    @property
    def paid_per_unit(self) -> int:
        """What one unit was paid: the line's price, or the catalogue's when it has none."""
        return self.product.price_minor if self.unit_price_minor is None else self.unit_price_minor


class Package(Base):
    __tablename__ = "package"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)
    id: Mapped[uuid.UUID] = _id()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    box_type: Mapped[str] = mapped_column(String(40), default="")
    weight_g: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open / closed
    sscc: Mapped[str | None] = mapped_column(String(18))
    tracking_number: Mapped[str | None] = mapped_column(String(60))
    closed_at: Mapped[datetime | None]


class PackageItem(Base):
    """Units of one order line inside one package."""

    __tablename__ = "package_item"
    __table_args__ = (UniqueConstraint("package_id", "order_line_id"),)
    id: Mapped[uuid.UUID] = _id()
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("package.id"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_line.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)


class PackedUnit(Base):
    """One accepted item scan at the bench, so the last one can be undone exactly."""

    __tablename__ = "packed_unit"
    id: Mapped[uuid.UUID] = _id()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_line.id"))
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("package.id"))
    qty: Mapped[int] = mapped_column(Integer)
    lot: Mapped[str | None] = mapped_column(String(40))
    serial: Mapped[str | None] = mapped_column(String(40))
    expiry: Mapped[str | None] = mapped_column(String(10))
    scan_event_id: Mapped[uuid.UUID | None] = mapped_column()
    undone: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Operator(Base):
    __tablename__ = "operator"
    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    badge: Mapped[str] = mapped_column(String(60), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(200))  # space-separated Role values
    active: Mapped[bool] = mapped_column(default=True)


class Station(Base):
    __tablename__ = "station"
    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(60), unique=True)
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warehouse.id"))
    next_seq: Mapped[int] = mapped_column(BigInteger, default=1)  # the outbox's sequence
    # This station's packages' running number; 0: not known (a station loaded again).
    next_sscc: Mapped[int] = mapped_column(BigInteger, default=1)
    next_receipt: Mapped[int] = mapped_column(BigInteger, default=1)  # counter receipts


class ScanEvent(Base):
    """Every scan, with where, who, how long it took and what came of it."""

    __tablename__ = "scan_event"
    id: Mapped[uuid.UUID] = _id()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    station_id: Mapped[uuid.UUID] = mapped_column()
    operator_id: Mapped[uuid.UUID | None] = mapped_column()
    workflow: Mapped[str] = mapped_column(String(20))
    raw: Mapped[str] = mapped_column(String(300))
    resolved_kind: Mapped[str | None] = mapped_column(String(20))
    entity_id: Mapped[uuid.UUID | None] = mapped_column()
    order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # accepted / rejected / unknown / malformed
    message: Mapped[str] = mapped_column(Text, default="")


class StockMovement(Base):
    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_product_location", "product_id", "location_id"),)
    id: Mapped[uuid.UUID] = _id()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    qty: Mapped[int] = mapped_column(Integer)  # signed delta
    reason: Mapped[str] = mapped_column(String(20))  # receipt / pack / adjust / count / return
    ref: Mapped[str] = mapped_column(String(60), default="")
    station_id: Mapped[uuid.UUID | None] = mapped_column()
    # The lot and its expiry (ISO date) for lot/expiry-tracked products; None for the rest.
    lot: Mapped[str | None] = mapped_column(String(40))
    expiry: Mapped[str | None] = mapped_column(String(10))


class PrintJob(Base):
    __tablename__ = "print_job"
    id: Mapped[uuid.UUID] = _id()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    station_id: Mapped[uuid.UUID] = mapped_column()
    document: Mapped[str] = mapped_column(String(30))  # packing_slip, label, receipt...
    ref_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    # queued → sending → printed; failed (retried at next_attempt_at); uncertain (the station
    # stopped while sending: it may have printed); discarded (a person decided).
    status: Mapped[str] = mapped_column(String(12), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    destination: Mapped[str] = mapped_column(String(300), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    printed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    sending_since: Mapped[datetime | None]
    possible_duplicate: Mapped[bool] = mapped_column(default=False)
    reprint_of: Mapped[uuid.UUID | None] = mapped_column()


class AuditEvent(Base):
    __tablename__ = "audit_event"
    id: Mapped[uuid.UUID] = _id()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    station_id: Mapped[uuid.UUID] = mapped_column()
    operator_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxOp(Base):
    """An operation waiting to go to the central database (pushed by the sync worker)."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("station_id", "seq"),)
    op_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column()
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # pending (not known to be in the central inbox) → sent → done (the central result is
    # stored here and the station's feed cursor has reached result_pos).
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    entity: Mapped[str] = mapped_column(String(30), default="")  # the aggregate it changes
    entity_id: Mapped[uuid.UUID | None] = mapped_column()
    result: Mapped[str | None] = mapped_column(String(10))  # applied / rejected
    reason: Mapped[str | None] = mapped_column(Text)
    result_pos: Mapped[int | None] = mapped_column(BigInteger)  # feed position of its effect
    acknowledged_at: Mapped[datetime | None]  # a person has seen the rejection


class SyncState(Base):
    """The station's one row of sync bookkeeping (id is always 1)."""

    __tablename__ = "sync_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # last feed position applied
    last_push_at: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    bootstrapped_at: Mapped[datetime | None]


class SyncDeferred(Base):
    """A pulled feed row held back behind this station's own uncovered operation on the same
    entity; applied when the operation's result covers it (app/sync/client.py)."""

    __tablename__ = "sync_deferred"
    entity: Mapped[str] = mapped_column(String(30), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    pos: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ExceptionTask(Base):
    """Something a supervisor must look at: an oversell, a recount, a disputed claim.
    Raised by the hub when a fact breaks a rule; one operation raises one task of a kind."""

    __tablename__ = "exception_task"
    __table_args__ = (UniqueConstraint("kind", "op_id"),)
    id: Mapped[uuid.UUID] = _id()
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))  # oversell / recount / disputed_claim
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID | None] = mapped_column()
    op_id: Mapped[uuid.UUID | None] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)  # open/resolved
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))


class PickList(Base):
    """Pick work: one walk through the warehouse for one order (single), several orders into
    one tote (batch) or one tote slot per order on a cart (cluster). Its stops are its
    allocations; ``totes`` maps each slot ("1", "2"...) to the tote code put there, ``cart``
    names the cart they ride on."""

    __tablename__ = "pick_list"
    id: Mapped[uuid.UUID] = _id()
    number: Mapped[str] = mapped_column(String(20), unique=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    kind: Mapped[str] = mapped_column(String(10))  # single / batch / cluster
    # open → in_progress ⇄ paused → done; cancelled (its orders went to another list)
    status: Mapped[str] = mapped_column(String(12), index=True)
    wave: Mapped[str] = mapped_column(String(40), default="")
    zone: Mapped[str] = mapped_column(String(20), default="")
    picker_id: Mapped[uuid.UUID | None] = mapped_column()
    picker_name: Mapped[str] = mapped_column(String(100), default="")
    picker_station: Mapped[uuid.UUID | None] = mapped_column()
    totes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The cart's code (its label, a ``cart`` code), when the picker scanned it at set-up. A
    # cart rides with one live list at a time; a finished list frees it.
    cart: Mapped[str | None] = mapped_column(String(40), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")  # what the central side changed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    station_id: Mapped[uuid.UUID | None] = mapped_column()  # the station that made it
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)


class Allocation(Base):
    """Units of an order line promised from one bin (and lot): the reservation, and the stop
    a picker walks to. Reserved while open: ``qty - picked - short`` units."""

    __tablename__ = "allocation"
    __table_args__ = (Index("ix_allocation_product_location", "product_id", "location_id"),)
    id: Mapped[uuid.UUID] = _id()
    pick_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pick_list.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"))
    lot: Mapped[str | None] = mapped_column(String(40))
    expiry: Mapped[str | None] = mapped_column(String(10))
    qty: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    short: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(Integer)  # the stop's place in the walk
    slot: Mapped[int] = mapped_column(Integer, default=1)  # the cart's tote slot
    status: Mapped[str] = mapped_column(String(10), default="open")  # open / done / cancelled
    tote_code: Mapped[str | None] = mapped_column(String(40), index=True)
    picked_at: Mapped[datetime | None]
    picked_by: Mapped[str] = mapped_column(String(100), default="")


# ----------------------------------------------------------------------------- central only
# Tables only the central PostgreSQL has (migration 0004 creates them there and not on a
# station's SQLite): the inbox, results, the change feed and its counters, station logins.


class CentralBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSONB(),
    }


class InboxOp(CentralBase):
    """An operation a station pushed. ``station_id`` defaults to the session user's station
    (set up by ``central init``); the station cannot write the column itself."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("station_id", "seq"),)
    op_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column()
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column()
    entity: Mapped[str] = mapped_column(String(30), default="")
    entity_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()  # the station's clock: informative only
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())


class OpResult(CentralBase):
    __tablename__ = "op_result"
    __table_args__ = (Index("ix_op_result_station_seq", "station_id", "seq"),)
    op_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inbox.op_id"), primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column()
    seq: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(String(10))  # applied / rejected
    reason: Mapped[str] = mapped_column(Text, default="")
    pos: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: it changed nothing shared
    applied_at: Mapped[datetime] = mapped_column(server_default=func.now())


class StationProgress(CentralBase):
    """How far the hub has applied a station's operations; the row is the hub's lock."""

    __tablename__ = "station_progress"
    station_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    applied_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedHead(CentralBase):
    """The warehouse's feed counter: ``next`` is the next position to hand out."""

    __tablename__ = "feed_head"
    warehouse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    next: Mapped[int] = mapped_column(BigInteger, default=1)


class ChangeLog(CentralBase):
    __tablename__ = "change_log"
    warehouse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    pos: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    version: Mapped[int] = mapped_column(BigInteger)
    op_id: Mapped[uuid.UUID | None] = mapped_column()
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))


class EntityVersion(CentralBase):
    __tablename__ = "entity_version"
    entity: Mapped[str] = mapped_column(String(30), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class StationAccount(CentralBase):
    """A station's PostgreSQL login role (made by ``waystation-admin station add``)."""

    __tablename__ = "station_account"
    role_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


# ----------------------------------------------------------------------------- shop counter


class CashSession(Base):
    """One till's drawer from the float counted in to the count at the close."""

    __tablename__ = "cash_session"
    id: Mapped[uuid.UUID] = _id()
    station_id: Mapped[uuid.UUID] = mapped_column(index=True)
    operator_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="open")  # open / closed
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opening_float_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    float_count: Mapped[dict[str, Any]] = mapped_column(default=dict)  # denomination → pieces
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None] = mapped_column()
    counted_minor: Mapped[int | None] = mapped_column(BigInteger)
    count: Mapped[dict[str, Any]] = mapped_column(default=dict)
    expected_minor: Mapped[int | None] = mapped_column(BigInteger)


class CashMovement(Base):
    """Cash put into or taken out of the drawer that is not a sale (change, bank drop...)."""

    __tablename__ = "cash_movement"
    id: Mapped[uuid.UUID] = _id()
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cash_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(4))  # in / out
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    operator_id: Mapped[uuid.UUID | None] = mapped_column()


class CounterSale(Base):
    """A sale (or a return) at the counter: open while being rung up, suspended, completed
    with its receipt number, or voided."""

    __tablename__ = "counter_sale"
    id: Mapped[uuid.UUID] = _id()
    kind: Mapped[str] = mapped_column(String(10), default="sale")  # sale / return
    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # the receipt's
    station_id: Mapped[uuid.UUID] = mapped_column(index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cash_session.id"), index=True)
    operator_id: Mapped[uuid.UUID | None] = mapped_column()
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer.id"))
    status: Mapped[str] = mapped_column(String(10), index=True, default="open")
    basis: Mapped[str] = mapped_column(String(10), default="inclusive")  # price list's basis
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    basket_discount_bp: Mapped[int] = mapped_column(Integer, default=0)
    basket_discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    change_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    original_sale_id: Mapped[uuid.UUID | None] = mapped_column()  # a return's sale
    note: Mapped[str] = mapped_column(String(200), default="")  # suspended: whose basket
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)


class CounterSaleLine(Base):
    __tablename__ = "counter_sale_line"
    __table_args__ = (UniqueConstraint("sale_id", "line_no"),)
    id: Mapped[uuid.UUID] = _id()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counter_sale.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"), index=True)
    sku: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(300))
    qty: Mapped[int] = mapped_column(Integer)
    grams: Mapped[int | None] = mapped_column(Integer)  # sold by weight
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)  # per unit or per kg
    price_minor: Mapped[int | None] = mapped_column(BigInteger)  # printed into the barcode
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # the line's own
    discount_approved_by: Mapped[uuid.UUID | None] = mapped_column()
    voided: Mapped[bool] = mapped_column(default=False)
    # Set when the sale completes: the line's share of the basket discount and of the tax.
    basket_discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    gross_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    returned_qty: Mapped[int] = mapped_column(Integer, default=0)  # units taken back since
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # money paid back since
    original_line_id: Mapped[uuid.UUID | None] = mapped_column()  # a return line's sale line
    disposition: Mapped[str] = mapped_column(String(12), default="")  # return lines


class CounterTender(Base):
    """One payment of a sale (positive), or money paid back on a return (negative)."""

    __tablename__ = "counter_tender"
    id: Mapped[uuid.UUID] = _id()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counter_sale.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))  # cash / card / voucher
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    kept_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # cash: less the change
    reference: Mapped[str] = mapped_column(String(60), default="")
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class StoreCreditEntry(Base):
    """The store-credit and gift-card ledger: balance = sum of an account's entries."""

    __tablename__ = "store_credit_entry"
    id: Mapped[uuid.UUID] = _id()
    account: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="store_credit")  # or gift_card
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # + issued, − redeemed
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    sale_id: Mapped[uuid.UUID | None] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    station_id: Mapped[uuid.UUID | None] = mapped_column()


# ----------------------------------------------------------------------------- returns desk


class ReturnPolicy(Base):
    """A company's return policy (app/domain/returns.py: Policy); the newest row counts."""

    __tablename__ = "return_policy"
    id: Mapped[uuid.UUID] = _id()
    company_id: Mapped[uuid.UUID | None] = mapped_column()
    window_days: Mapped[int] = mapped_column(Integer, default=30)
    free_reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"reasons": [...]}
    restocking_fee_bp: Mapped[int] = mapped_column(Integer, default=0)
    restocking_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_shipping: Mapped[bool] = mapped_column(default=False)
    deductions_bp: Mapped[dict[str, Any]] = mapped_column(default=dict)  # condition → bp
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rma(Base):
    """A return authorisation: which units of an order may come back, why, and what the
    customer asked for. authorised → received → resolved; cancelled."""

    __tablename__ = "rma"
    id: Mapped[uuid.UUID] = _id()
    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column()
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    requested: Mapped[str] = mapped_column(String(12))  # refund / exchange / store_credit
    unannounced: Mapped[bool] = mapped_column(default=False)  # made at the desk, no slip
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    shipping_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    station_id: Mapped[uuid.UUID | None] = mapped_column()
    late_approved_by: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime | None]
    received_station: Mapped[uuid.UUID | None] = mapped_column()
    received_op: Mapped[uuid.UUID | None] = mapped_column()  # the receipt that counted
    resolved_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)


class RmaLine(Base):
    __tablename__ = "rma_line"
    id: Mapped[uuid.UUID] = _id()
    rma_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rma.id"), index=True)
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column()
    order_line_id: Mapped[uuid.UUID | None] = mapped_column()
    product_id: Mapped[uuid.UUID] = mapped_column()
    qty: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)  # paid per unit
    qty_received: Mapped[int] = mapped_column(Integer, default=0)


class ReturnUnit(Base):
    """One unit that came back: its condition, what happens to it, its photos and serial."""

    __tablename__ = "return_unit"
    id: Mapped[uuid.UUID] = _id()
    rma_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rma.id"), index=True)
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column()
    rma_line_id: Mapped[uuid.UUID | None] = mapped_column()  # None: received as unexpected
    product_id: Mapped[uuid.UUID] = mapped_column()
    serial: Mapped[str | None] = mapped_column(String(40))
    condition: Mapped[str] = mapped_column(String(20))
    disposition: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[uuid.UUID | None] = mapped_column()  # restocked to
    photos: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"paths": [...]}
    unexpected: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    station_id: Mapped[uuid.UUID | None] = mapped_column()
    operator: Mapped[str] = mapped_column(String(100), default="")


class ReturnRefund(Base):
    """A return's resolution: money to pay back (to be paid → paid / failed, for the payment
    system to act on), store credit issued, or the exchange order made."""

    __tablename__ = "return_refund"
    id: Mapped[uuid.UUID] = _id()
    rma_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rma.id"), index=True)
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column()
    resolution: Mapped[str] = mapped_column(String(12))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    state: Mapped[str] = mapped_column(String(12))  # to_be_paid / paid / failed / done
    breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    store_credit_account: Mapped[str | None] = mapped_column(String(40))
    exchange_order_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    station_id: Mapped[uuid.UUID | None] = mapped_column()
    operator: Mapped[str] = mapped_column(String(100), default="")


class CustomerNotification(Base):
    """A message for a customer, recorded for the sender to pick up (status pending → sent)."""

    __tablename__ = "customer_notification"
    id: Mapped[uuid.UUID] = _id()
    customer_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    rma_id: Mapped[uuid.UUID | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Look-ups the returns desk makes from a parcel's tracking number or SSCC, or a serial number.
Index("ix_package_tracking_number", Package.tracking_number)
Index("ix_package_sscc", Package.sscc)
Index("ix_packed_unit_serial", PackedUnit.serial)
