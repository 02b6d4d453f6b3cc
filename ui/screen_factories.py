"""The station's screens with their use cases bound to this station's database.

The main window calls these the first time a screen is shown (or asked for), so a screen's
module, and the use cases behind it, load then — not before the sign-in screen is on screen.
Each function only builds; the main window connects the screen's signals to its navigation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ui.theme import colors

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.bootstrap import StationContext
    from app.scanning.rules import StationCodes
    from app.services.bench import PackBench
    from app.services.views import OperatorView
    from ui.bench_process import BenchProcess
    from ui.feedback import Sounds
    from ui.ops import DbWorker
    from ui.screens.conflicts import ConflictsScreen
    from ui.screens.counter import CounterScreen
    from ui.screens.exceptions import ExceptionsScreen
    from ui.screens.new_rma import NewRmaScreen
    from ui.screens.pack import PackScreen
    from ui.screens.pick import PickScreen
    from ui.screens.pick_work import PickWorkScreen
    from ui.screens.print_journal import PrintJournalScreen
    from ui.screens.printer_setup import PrinterSetupScreen
    from ui.screens.returns import ReturnsScreen
    from ui.screens.scanner_check import ScannerCheckScreen
    from ui.screens.search import SearchScreen

UowFactory = Callable[[], Any]  # a unit of work for the operator signed in (app.store stays out)
CurrentOperator = Callable[[], "OperatorView | None"]


def pack_screen(
    ctx: StationContext,
    worker: DbWorker,
    sounds: Sounds,
    codes: StationCodes,
    claims: Callable[..., Any] | None,
    parent: QWidget,
    remote: BenchProcess | None = None,
) -> PackScreen:
    from app.services.picking.sorting import station_bench
    from ui.screens.pack import PackScreen

    def bench_for(operator: OperatorView) -> PackBench:
        return station_bench(ctx.uow, operator, ctx.config, codes, claims)

    return PackScreen(
        worker, sounds, bench_for, colors(ctx.config.theme), parent=parent, remote=remote
    )


def search_screen(
    ctx: StationContext, uow: UowFactory, worker: DbWorker, parent: QWidget
) -> SearchScreen:
    from ui.screens.search import SearchScreen

    return SearchScreen(uow, worker, videos=ctx.config.camera.video_folder(), parent=parent)


def counter_screen(
    ctx: StationContext, worker: DbWorker, sounds: Sounds, parent: QWidget
) -> CounterScreen:
    from app.services.counter.till import Till
    from ui.screens.counter import CounterScreen

    def till_for(operator: OperatorView) -> Till:
        return Till(ctx.uow, operator, ctx.config.scanner.gs_replacement)

    return CounterScreen(worker, sounds, till_for, colors(ctx.config.theme), parent=parent)


def pick_screen(
    ctx: StationContext, worker: DbWorker, sounds: Sounds, parent: QWidget
) -> PickScreen:
    from app.services.picking.session import PickSession
    from ui.screens.pick import PickScreen

    def pick_for(operator: OperatorView) -> PickSession:
        return PickSession(ctx.uow, operator, ctx.config.scanner.gs_replacement)

    return PickScreen(worker, sounds, pick_for, colors(ctx.config.theme), parent=parent)


def pick_work_screen(
    ctx: StationContext, operator: CurrentOperator, worker: DbWorker, parent: QWidget
) -> PickWorkScreen:
    from app.services.picking import lists as pick_lists
    from app.services.picking.views import PickListView
    from app.services.picking.work import PickWork, PickWorkRequest, create_pick_work
    from ui.screens.pick_work import PickWorkScreen

    def release(req: PickWorkRequest) -> PickWork:
        with ctx.uow(operator()) as u:
            return create_pick_work(u, req)

    def live() -> list[pick_lists.ListSummary]:
        with ctx.uow(operator()).reading() as u:
            return pick_lists.live_lists(u)

    def withdraw(list_id: uuid.UUID, reason: str) -> PickListView:
        with ctx.uow(operator()) as u:
            return pick_lists.withdraw(u, list_id, reason)

    def free(list_id: uuid.UUID) -> PickListView:
        with ctx.uow(operator()) as u:
            return pick_lists.free(u, list_id)

    return PickWorkScreen(worker, release, live, withdraw, free, parent=parent)


def journal_screen(
    ctx: StationContext, uow: UowFactory, worker: DbWorker, parent: QWidget
) -> PrintJournalScreen:
    from app.services.print_jobs import JobView
    from ui.screens.print_journal import PrintJournalScreen

    def render_pdf(job: JobView) -> bytes:
        from printing.queue import render_pdf as render

        return render(ctx, job)

    return PrintJournalScreen(uow, worker, render_pdf, parent=parent)


def printers_screen(
    ctx: StationContext, run: Callable[..., None], parent: QWidget
) -> PrinterSetupScreen:
    from ui.screens.printer_setup import PrinterSetupScreen

    return PrinterSetupScreen(run, ctx.station_name, parent=parent)


def scanner_check_screen(
    ctx: StationContext, codes: StationCodes, worker: DbWorker, sounds: Sounds, parent: QWidget
) -> ScannerCheckScreen:
    from app.services.scan_check import CheckResult, check_scan
    from ui.screens.scanner_check import ScannerCheckScreen

    def check(raw: str, trace: Any) -> CheckResult:
        with ctx.uow() as u:
            return check_scan(u, raw, trace, ctx.config.scanner, codes)

    return ScannerCheckScreen(check, worker, sounds, parent=parent)


def conflicts_screen(uow: UowFactory, worker: DbWorker, parent: QWidget) -> ConflictsScreen:
    from ui.screens.conflicts import ConflictsScreen

    return ConflictsScreen(uow, worker, parent=parent)


def exceptions_screen(uow: UowFactory, worker: DbWorker, parent: QWidget) -> ExceptionsScreen:
    from ui.screens.exceptions import ExceptionsScreen

    return ExceptionsScreen(uow, worker, parent=parent)


def returns_screen(
    ctx: StationContext, worker: DbWorker, sounds: Sounds, parent: QWidget
) -> ReturnsScreen:
    """The returns desk screen with its use cases bound to this station's database."""
    from app.services.returns import reports, resolution
    from app.services.returns.desk import ReturnDesk
    from ui.screens.returns import ReturnsScreen

    def desk_for(operator: OperatorView) -> ReturnDesk:
        return ReturnDesk(lambda: ctx.uow(operator))

    def resolve(operator: OperatorView, rma_id: Any, how: Any, amount: int | None) -> Any:
        with ctx.uow(operator) as u:
            return resolution.resolve(u, rma_id, how, amount_minor=amount)

    def quote(operator: OperatorView, rma_id: Any) -> Any:
        with ctx.uow(operator) as u:
            return resolution.refund_quote(u, rma_id)

    def report(operator: OperatorView) -> reports.ReturnsReport:
        with ctx.uow(operator) as u:
            return reports.report(u)

    return ReturnsScreen(
        worker, sounds, desk_for, resolve, quote, report, colors(ctx.config.theme), parent=parent
    )


def new_rma_screen(
    ctx: StationContext, worker: DbWorker, sounds: Sounds, parent: QWidget
) -> NewRmaScreen:
    """The New RMA screen with its use cases bound to this station's database."""
    from app.services.returns import rmas
    from ui.screens.new_rma import NewRmaScreen

    def find(operator: OperatorView, code: str) -> Any:
        with ctx.uow(operator) as u:
            return rmas.returnable_order(u, code)

    def create(operator: OperatorView, req: Any, badge: str | None, slip: bool) -> Any:
        with ctx.uow(operator) as u:
            return rmas.create_rma(u, req, badge, print_slip=slip)

    return NewRmaScreen(worker, sounds, find, create, parent=parent)
