"""The station's print queue: a packed order's slip goes to the configured printer; a printer
that is off keeps the job (failed, with the reason) and the next run prints it."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from app.bootstrap import StationContext
from app.config import PrinterConfig
from app.services import print_jobs
from app.services.bench import PackBench
from app.services.views import OperatorView
from printing.queue import print_pending
from tests.conftest import find_order
from tests.integration.conftest import CupsServer
from tests.integration.test_cups_printing import _wait_for_pdf


def pack_one(
    station: StationContext, packer: OperatorView, *, lines: int = 3, units: int = 5
) -> tuple[str, object]:
    bench = PackBench(station.uow, packer)
    number = find_order(station, lines=lines, units=units)
    order = bench.scan(number).order
    assert order is not None
    for line in order.lines:
        for _ in range(line.ordered):
            assert bench.scan(line.gtin).ok
    bench.close_package(1, 1100, "M-BOX 30×25×15")
    return number, bench.complete().print_job_id


def with_printer(station: StationContext, printer: PrinterConfig) -> StationContext:
    config = replace(station.config, printers={"packing_slip": printer})
    return replace(station, config=config)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_slip_saved_to_the_folder_when_no_printer_is_set(
    station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    number, job_id = pack_one(station, packer)
    assert print_pending(station) == 1
    pdfs = list((tmp_path / "printed").glob("*.pdf"))
    assert len(pdfs) == 1
    assert number in pdfs[0].name
    with station.uow() as uow:
        job = print_jobs.get_job(uow, job_id)  # type: ignore[arg-type]
        assert print_jobs.count_waiting(uow) == 0
    assert job.status == "printed"
    assert str(pdfs[0]) in job.destination
    assert print_pending(station) == 0  # printed once, never twice


def test_a_printer_that_is_off_keeps_the_job_and_retries_it_when_back(
    station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    _number, job_id = pack_one(station, packer)
    port = free_port()
    off = with_printer(station, PrinterConfig(kind="socket", host="127.0.0.1", port=port))
    assert print_pending(off) == 0
    with station.uow() as uow:
        job = print_jobs.get_job(uow, job_id)  # type: ignore[arg-type]
        assert print_jobs.count_waiting(uow) == 1
        [summary] = print_jobs.waiting_summary(uow)
    assert job.status == "failed"
    assert job.attempts == 1
    assert "not answering" in job.last_error or "refused" in job.last_error.lower()
    assert job.next_attempt_at is not None  # backs off instead of hammering a dead printer
    assert summary.words() == "Slip printer offline — 1 packing slip waiting"

    with socket.create_server(("127.0.0.1", port)) as printer:
        printer.settimeout(10)
        assert print_pending(off) == 0  # still inside its back-off: not tried again yet
        with station.uow() as uow:
            assert print_jobs.retry_now(uow) == 1  # the printer is back
        received = bytearray()

        def serve() -> None:
            conn, _ = printer.accept()
            with conn:
                while chunk := conn.recv(65536):
                    received.extend(chunk)

        import threading

        thread = threading.Thread(target=serve)
        thread.start()
        assert print_pending(off) == 1
        thread.join(10)
    assert bytes(received).startswith(b"%PDF")
    with station.uow() as uow:
        job = print_jobs.get_job(uow, job_id)  # type: ignore[arg-type]
        assert print_jobs.waiting_summary(uow) == []
    assert (job.status, job.attempts, job.last_error) == ("printed", 2, "")


def test_a_job_caught_mid_send_by_a_restart_waits_as_a_possible_duplicate(
    station: StationContext, packer: OperatorView, tmp_path: Path
) -> None:
    from printing.queue import recover

    _number, job_id = pack_one(station, packer)
    with station.uow() as uow:
        print_jobs.mark_sending(uow, job_id)  # type: ignore[arg-type]
    # ... and the station dies here. At the next start:
    assert recover(station) == 1
    with station.uow() as uow:
        job = print_jobs.get_job(uow, job_id)  # type: ignore[arg-type]
        [summary] = print_jobs.waiting_summary(uow)
    assert job.status == "uncertain"
    assert job.possible_duplicate
    assert "may have printed" in job.last_error
    assert "1 to check (may have printed)" in summary.words()
    assert print_pending(station) == 0  # never printed twice behind a person's back

    with station.uow(packer) as uow:
        again = print_jobs.reprint(uow, job_id)  # type: ignore[arg-type]
    assert print_pending(station) == 1
    with station.uow() as uow:
        old, new = print_jobs.get_job(uow, job_id), print_jobs.get_job(uow, again)  # type: ignore[arg-type]
        journal = print_jobs.journal(uow)
    assert old.status == "discarded"
    assert (new.status, new.reprint_of) == ("printed", old.id)
    assert [j.id for j in journal][:2] == [new.id, old.id]
    with station.sessions() as s:
        from sqlalchemy import select

        from app.store.models import AuditEvent

        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "print.reprinted")).one()
    assert audit.operator_id == packer.id


def test_discard_and_reprint_say_what_is_not_possible(
    station: StationContext, packer: OperatorView
) -> None:
    from app.domain.errors import ValidationError

    _number, job_id = pack_one(station, packer)
    with pytest.raises(ValidationError, match="still waiting to print"), station.uow() as uow:
        print_jobs.reprint(uow, job_id)  # type: ignore[arg-type]
    assert print_pending(station) == 1
    with pytest.raises(ValidationError, match="already printed"), station.uow() as uow:
        print_jobs.discard(uow, job_id)  # type: ignore[arg-type]


def test_a_printer_that_drops_the_connection_mid_job_keeps_the_job(
    station: StationContext, packer: OperatorView
) -> None:
    import threading

    _number, job_id = pack_one(station, packer)
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def drop() -> None:
            conn, _ = server.accept()
            conn.recv(100)  # take a little, then hang up with a reset
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            conn.close()

        thread = threading.Thread(target=drop)
        thread.start()
        flaky = with_printer(station, PrinterConfig(kind="socket", host="127.0.0.1", port=port))
        printed = print_pending(flaky)
        thread.join(10)
    with station.uow() as uow:
        job = print_jobs.get_job(uow, job_id)  # type: ignore[arg-type]
    assert printed == 0
    assert job.status == "failed"
    assert job.last_error


def test_an_unknown_printer_kind_is_a_failed_job_with_words(
    station: StationContext, packer: OperatorView
) -> None:
    _number, job_id = pack_one(station, packer)
    assert print_pending(with_printer(station, PrinterConfig(kind="carrier-pigeon"))) == 0
    with station.uow() as uow:
        job = print_jobs.get_job(uow, job_id)  # type: ignore[arg-type]
    assert job.status == "failed"
    assert "carrier-pigeon" in job.last_error
    assert "cups, socket, serial, usb or folder" in job.last_error


@pytest.mark.cups
def test_packed_order_slip_prints_through_cups_and_scans_back(
    station: StationContext, packer: OperatorView, cups_server: CupsServer
) -> None:
    out = cups_server.require_pdf_out()
    number, job_id = pack_one(station, packer)
    cups = with_printer(
        station, PrinterConfig(kind="cups", queue="WS_PDF", server=cups_server.server)
    )
    assert print_pending(cups) == 1
    with station.uow() as uow:
        job = print_jobs.get_job(uow, job_id)  # type: ignore[arg-type]
    assert job.status == "printed"
    cups_job = job.destination.rsplit("WS_PDF-", 1)[1]
    pdf = pdfium.PdfDocument(_wait_for_pdf(out, cups_job))
    try:
        image = pdf[0].render(scale=300 / 72, grayscale=True).to_pil()
    finally:
        pdf.close()
    codes = {r.format.name: r.text for r in zxingcpp.read_barcodes(image)}
    assert codes["Code128"] == number
