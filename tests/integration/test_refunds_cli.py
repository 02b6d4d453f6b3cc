"""``waystation-admin refunds``: the payment system lists the refunds to be paid and marks each
paid or failed on the station's database, audited and queued for sync; unknown ids, illegal
state changes and operators without the refund permission get words and exit status 1."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update
from test_admin_cli import admin

from app.bootstrap import StationContext
from app.cli import main
from app.domain.returns import Resolution
from app.services.returns import resolution
from app.store.models import AuditEvent, ReturnRefund, Rma
from tests.returns_kit import CLERK, SUPERVISOR, Desk, open_desk, outbox, receive_all


def _settings(station: StationContext, tmp_path: Path) -> str:
    path = tmp_path / "station.toml"
    url = station.config.local_database_url()
    path.write_text(f'[station]\nstation_name = "{station.station_name}"\ndatabase_url = "{url}"\n')
    return str(path)


def _resolve(d: Desk, number: str, how: Resolution) -> uuid.UUID:
    rma_number = receive_all(d, number)
    with d.ctx.sessions() as s:
        rma_id = s.scalars(select(Rma.id).where(Rma.number == rma_number)).one()
    with d.ctx.uow(d.clerk) as uow:
        resolution.resolve(uow, rma_id, how)
    with d.ctx.sessions() as s:
        return s.scalars(select(ReturnRefund.id).where(ReturnRefund.rma_id == rma_id)).one()


def _state(ctx: StationContext, refund_id: uuid.UUID) -> str:
    with ctx.sessions() as s:
        return s.get_one(ReturnRefund, refund_id).state


def refunds(
    capsys: pytest.CaptureFixture[str], config: str, *args: str, badge: str = SUPERVISOR
) -> tuple[int, str, str]:
    code = main(["refunds", *args, "--config", config, "--badge", badge])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def paid_out(station: StationContext, tmp_path: Path) -> tuple[Desk, str, uuid.UUID]:
    d = open_desk(station)
    return d, _settings(station, tmp_path), _resolve(d, d.demo.rmas[0], Resolution.REFUND)


def test_finance_lists_the_refunds_to_pay_and_marks_one_paid(
    paid_out: tuple[Desk, str, uuid.UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    d, config, refund_id = paid_out
    code, out, _err = refunds(capsys, config, "list", "--state", "to_be_paid")
    assert code == 0
    [line] = out.splitlines()
    assert line.startswith(str(refund_id)) and "to_be_paid" in line and "EUR " in line
    assert d.demo.rmas[0] in line
    ops_before = len(outbox(d.ctx))

    code, out, err = refunds(capsys, config, "paid", str(refund_id), "--note", "batch 2026-11-27")
    assert code == 0, err
    assert f"refund {refund_id} marked paid by Sam Supervisor" in out
    assert _state(d.ctx, refund_id) == "paid"
    [op] = outbox(d.ctx)[ops_before:]
    assert op.kind == "returns.refund_marked" and op.status == "pending"
    assert op.payload["state"] == "paid" and op.payload["note"] == "batch 2026-11-27"
    with d.ctx.sessions() as s:
        audit = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "returns.refund_marked")
        ).one()
        assert audit.entity_id == refund_id and audit.operator_id is not None
    code, out, _err = refunds(capsys, config, "list", "--state", "to_be_paid")
    assert code == 0 and out == "", "nothing is left to pay"


def test_a_paid_refund_cannot_be_marked_failed(
    paid_out: tuple[Desk, str, uuid.UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    d, config, refund_id = paid_out
    assert refunds(capsys, config, "paid", str(refund_id))[0] == 0
    code, _out, err = refunds(capsys, config, "failed", str(refund_id), "--note", "bounced")
    assert code == 1
    assert f"Refund {refund_id} was paid already" in err and "not marked failed" in err
    assert _state(d.ctx, refund_id) == "paid"


def test_a_failed_refund_may_be_paid_on_the_next_try(
    paid_out: tuple[Desk, str, uuid.UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    d, config, refund_id = paid_out
    code, _out, err = refunds(capsys, config, "failed", str(refund_id))
    assert code == 1 and "Say why it failed: --note" in err
    assert _state(d.ctx, refund_id) == "to_be_paid"
    assert refunds(capsys, config, "failed", str(refund_id), "--note", "card expired")[0] == 0
    assert _state(d.ctx, refund_id) == "failed"
    code, out, _err = refunds(capsys, config, "list", "--state", "failed")
    assert str(refund_id) in out
    assert refunds(capsys, config, "paid", str(refund_id))[0] == 0
    assert _state(d.ctx, refund_id) == "paid"


def test_unknown_and_mistyped_ids_say_what_to_do(
    paid_out: tuple[Desk, str, uuid.UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    _d, config, _refund_id = paid_out
    stranger = uuid.uuid4()
    code, _out, err = refunds(capsys, config, "paid", str(stranger))
    assert code == 1
    assert f"Refund {stranger} is not on this station" in err and "refunds to be paid" in err
    code, _out, err = refunds(capsys, config, "paid", "12345")
    assert code == 1 and "12345 is not a refund id — copy it from `refunds list`" in err
    code, _out, err = refunds(capsys, config, "paid")
    assert code == 1 and "Say which refund" in err
    code, _out, err = refunds(capsys, config, "list", "--state", "lost")
    assert code == 1 and "not 'lost'" in err


def test_store_credit_and_held_refunds_are_not_paid(
    station: StationContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = open_desk(station)
    config = _settings(station, tmp_path)
    credit = _resolve(d, d.demo.rmas[2], Resolution.STORE_CREDIT)
    code, _out, err = refunds(capsys, config, "paid", str(credit))
    assert code == 1 and "is store credit, not a refund to pay" in err
    held = _resolve(d, d.demo.rmas[0], Resolution.REFUND)
    with station.sessions.begin() as s:  # as central sets it on a second resolution
        s.execute(update(ReturnRefund).where(ReturnRefund.id == held).values(state="held"))
    code, _out, err = refunds(capsys, config, "paid", str(held))
    assert code == 1 and f"Refund {held} is held" in err and "a supervisor decides" in err
    assert _state(station, held) == "held"


def test_a_returns_clerk_may_not_mark_refunds(
    paid_out: tuple[Desk, str, uuid.UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    d, config, refund_id = paid_out
    code, _out, err = refunds(capsys, config, "paid", str(refund_id), badge=CLERK)
    assert code == 1 and "may not refund: that needs the supervisor role" in err
    code, _out, err = refunds(capsys, config, "paid", str(refund_id), badge="NOBODY-1")
    assert code == 1 and "Badge NOBODY-1 is not known" in err
    assert _state(d.ctx, refund_id) == "to_be_paid"


def test_refunds_run_without_qt(paid_out: tuple[Desk, str, uuid.UUID]) -> None:
    _d, config, refund_id = paid_out
    done = admin("refunds", "list", "--config", config, "--badge", SUPERVISOR)
    assert done.returncode == 0, done.stderr
    assert str(refund_id) in done.stdout and "1 refund(s)" in done.stderr
