"""The returns desk's sync problems in the supervisor's lists, in words: a return received at
two desks, a return resolved twice, and an RMA central refused."""

from __future__ import annotations

from datetime import UTC, datetime

from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext
from app.ids import new_id
from app.services import auth, conflicts
from app.store.models import ExceptionTask, OutboxOp
from ui.models.sync_lists import ConflictsModel, ExceptionsModel

SUPERVISOR = "OP-9001"


def _task(kind: str, message: str) -> ExceptionTask:
    return ExceptionTask(
        id=new_id(),
        kind=kind,
        entity="rma",
        entity_id=new_id(),
        details={"number": "RMA-DESK-A-00001", "message": message},
        status="open",
        raised_at=datetime.now(UTC),
    )


def test_double_receipts_and_resolutions_have_titles_and_what_to_do(
    qtbot: QtBot, ctx: StationContext
) -> None:
    with ctx.sessions.begin() as s:  # as the feed brings them from central
        s.add(_task("double_receipt", "RMA RMA-DESK-A-00001 was received at A and again at B"))
        s.add(_task("double_resolution", "RMA RMA-DESK-A-00001 was resolved twice"))
    with ctx.uow() as uow:
        boss = auth.sign_in_badge(uow, SUPERVISOR)
    with ctx.uow(boss) as uow:
        tasks = {t.kind: t for t in conflicts.list_exceptions(uow)}

    receipt, resolution = tasks["double_receipt"], tasks["double_resolution"]
    assert receipt.title == "Return received twice"
    assert "received at A and again at B" in receipt.summary
    assert "Find both parcels" in receipt.todo and "unexpected" in receipt.todo
    assert resolution.title == "Return resolved twice"
    assert resolution.todo.startswith("The second resolution is held (a refund not paid")
    assert "exchange order on hold" in resolution.todo and "decide which" in resolution.todo
    model = ExceptionsModel()
    model.set_exceptions([receipt, resolution])
    ModelTester(qtbot).check(model)
    shown = {model.data(model.index(r, 1)) for r in range(2)}
    assert shown == {"Return received twice", "Return resolved twice"}


def test_a_refused_rma_says_what_it_was_and_what_to_do(qtbot: QtBot, ctx: StationContext) -> None:
    with ctx.sessions.begin() as s:
        s.add(
            OutboxOp(
                op_id=new_id(),
                station_id=ctx.station_id,
                seq=9999,
                kind="returns.rma_created",
                payload={},
                status="done",
                result="rejected",
                reason="malformed: another RMA is numbered RMA-PACK-01-00001 centrally",
            )
        )
    with ctx.uow() as uow:
        [row] = conflicts.list_conflicts(uow)
    assert row.what == "Making a return authorisation (RMA)"
    assert "make it again" in row.advice
    model = ConflictsModel()
    model.set_conflicts([row])
    assert model.data(model.index(0, 1)) == "Making a return authorisation (RMA)"
