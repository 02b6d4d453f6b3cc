"""The printed pick list: the document data (``app.domain.pick_docs``) of a pick list as it
stands, and its job in the print queue (printing/pick_list.py lays it out)."""

from __future__ import annotations

import uuid

from app.domain.pick_docs import PickKind, PickList, PickStop
from app.services import print_jobs
from app.services.picking.views import read_list
from app.store.uow import UnitOfWork

DOCUMENT = "pick_list"


def pick_list_doc(uow: UnitOfWork, list_id: uuid.UUID) -> PickList:
    """The list's open stops in walk order (a reprint leaves out what is already picked)."""
    view = read_list(uow.session.connection(), list_id)
    kind = PickKind(view.kind)
    stops = tuple(
        PickStop(
            seq=i,
            bin_code=s.bin,
            sku=s.sku,
            gtin=s.gtin,
            name=s.name,
            qty=s.remaining,
            order_number=s.order_number,
            tote_slot=str(s.slot) if kind is PickKind.CLUSTER else None,
            lot=s.lot,
        )
        for i, s in enumerate((s for s in view.stops if s.open), start=1)
    )
    return PickList(
        number=view.number,
        created_at=view.created_at,
        kind=kind,
        stops=stops,
        picker=view.picker_name or None,
    )


def queue_print(uow: UnitOfWork, list_id: uuid.UUID, number: str) -> uuid.UUID:
    """Queue the list for the station's pick-list printer (in the caller's transaction)."""
    return print_jobs.queue_job(uow, DOCUMENT, list_id, f"Pick list {number}")
