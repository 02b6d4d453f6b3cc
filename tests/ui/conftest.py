"""UI tests run without a display: the offscreen Qt platform unless one was chosen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# --- the station under test (pack bench, sign-in, search) -----------------------------------
# Imports below come after the QT_QPA_PLATFORM default above, on purpose.

import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext, bootstrap
from app.config import PrinterConfig, StationConfig
from app.services.demo import create_demo_data
from app.services.orders import get_order, search_orders
from app.services.views import OrderView
from tests.ui.wedge_keys import ENTER, Scanner
from ui.main_window import MainWindow
from ui.ops import DbOp

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCANNER_GAP_S = 0.001


def station_config(folder: Path, *, helpers: bool = False) -> StationConfig:
    """A station on ``folder``'s database. The pack bench's scans commit on the worker and
    documents print on the print thread unless ``helpers``: the product's default, both in
    processes of their own, which their own tests and the end-to-end packing test run with
    (tests/ui/test_bench_process.py, tests/ui/test_pack_workflow.py)."""
    return StationConfig(
        database_url=f"sqlite:///{folder / 'station.db'}",
        sounds=False,
        printers={"packing_slip": PrinterConfig(kind="folder", folder=str(folder / "printed"))},
        bench_process=helpers,
        print_process=helpers,
    )


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database per test session (migrations + argon2 PINs take seconds); each test
    gets its own copy."""
    folder = tmp_path_factory.mktemp("demo-template")
    ctx = bootstrap(station_config(folder))
    create_demo_data(ctx.engine, products=300, orders=40, seed=7)
    _ensure_three_line_order(ctx)
    ctx.dispose()
    return folder / "station.db"


def _ensure_three_line_order(ctx: StationContext) -> None:
    """The seed may have no confirmed order of 3 lines and 5 units: make one from a 3-line
    order (through the store; tests may)."""
    if find_order(ctx, lines=3, units=5) is not None:
        return
    from sqlalchemy import update

    from app.store.models import OrderLine

    candidate = find_order(ctx, lines=3, units=None)
    assert candidate is not None, "the demo seed has no 3-line order at all"
    first = candidate.lines[0]
    with ctx.sessions.begin() as s:
        s.execute(
            update(OrderLine)
            .where(OrderLine.id == first.id)
            .values(qty_ordered=first.ordered + 5 - candidate.units_ordered)
        )


def find_order(
    ctx: StationContext, *, lines: int, units: int | None, skip: tuple[str, ...] = ()
) -> OrderView | None:
    """A confirmed order of ``lines`` lines (and ``units`` units), with no lot-tracked item."""
    with ctx.uow() as uow:
        for summary in search_orders(uow, "SO-"):
            if summary.lines != lines or summary.status != "confirmed" or summary.number in skip:
                continue
            order = get_order(uow, summary.id)
            if any(ln.needs_lot for ln in order.lines):
                continue
            if units is None or order.units_ordered == units:
                return order
    return None


@pytest.fixture
def ctx(
    request: pytest.FixtureRequest, tmp_path: Path, demo_database: Path
) -> Iterator[StationContext]:
    """A copy of the demo database; parametrized indirectly with True, the station runs its
    helper processes (the pack bench's, the printer's) as a station does by default."""
    shutil.copy(demo_database, tmp_path / "station.db")
    helpers = bool(getattr(request, "param", False))
    context = bootstrap(station_config(tmp_path, helpers=helpers))
    yield context
    context.dispose()


@pytest.fixture
def station(qtbot: QtBot, ctx: StationContext) -> Iterator[MainWindow]:
    """The station's main window, shown at 1366×768, ready for a badge scan."""
    yield from show_station(qtbot, ctx)


def show_station(qtbot: QtBot, ctx: StationContext) -> Iterator[MainWindow]:
    """Build the window for ``ctx``, show it at 1366×768, yield it, shut it down."""
    from ui.main import build_window
    from ui.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    window = build_window(ctx)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=5000):
        window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.signin.names.count() > 0)
    assert (window.width(), window.height()) == (1366, 768), "the screen no longer fits 1366×768"
    yield window
    window.shutdown()
    app.setStyleSheet("")


SLOW_KEYS_S = 0.01  # keys further apart than this are typed by a person


def type_keys(text: str, *, gap_s: float = SCANNER_GAP_S, enter: bool = True) -> None:
    """Keystrokes into whatever has the focus, ``gap_s`` apart (1 ms: a wedge scanner).

    The events carry their own timestamps, as the windowing system stamps real ones, so a
    busy test machine cannot stretch a scanner's keys into a person's typing.
    """
    keys = Scanner(gap_ms=max(1, round(gap_s * 1000)))
    keys.types(text, terminator=ENTER if enter else None)


def scan(qtbot: QtBot, window: MainWindow, code: str) -> None:
    """A scan at scanner speed; waits until the bench has shown its feedback."""
    before = len(window.pack.feedback_ms)
    type_keys(code)
    qtbot.waitUntil(lambda: len(window.pack.feedback_ms) > before, timeout=5000)


@contextmanager
def worker_held(window: MainWindow) -> Iterator[threading.Event]:
    """The database worker busy with something slow (a checkpoint, a big print job) until the
    event is set: what the screen shows meanwhile is not committed yet."""
    release, busy = threading.Event(), threading.Event()

    def hold() -> None:
        busy.set()
        release.wait(10)

    DbOp(window.worker, hold).run()
    assert busy.wait(5)
    try:
        yield release
    finally:
        release.set()


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=5000)


def shown_whole(label: QLabel) -> bool:
    """The label has room for all its words (nothing elided or cut)."""
    room = label.contentsRect().width()
    return label.isVisible() and label.fontMetrics().horizontalAdvance(label.text()) <= room


def words_fit(label: QLabel) -> bool:
    """The label's words fit in it, on as many lines as they wrap into (nothing cut)."""
    room = label.contentsRect()
    flags = int(Qt.TextFlag.TextWordWrap)
    used = label.fontMetrics().boundingRect(room, flags, label.text())
    return label.isVisible() and used.width() <= room.width() and used.height() <= room.height()


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Into test-artifacts/, and into $WAYSTATION_SCREENSHOTS too when it is set."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    window = widget.window()
    assert window.width() <= 1366, f"{name}: the window grew to {window.width()} px wide"
    assert window.height() <= 768, f"{name}: the window grew to {window.height()} px high"
    image = widget.grab()
    assert image.save(str(path))
    extra = os.environ.get("WAYSTATION_SCREENSHOTS")
    if extra:
        folder = Path(extra)
        if not folder.is_absolute():
            folder = Path(__file__).resolve().parents[2] / folder
        folder.mkdir(parents=True, exist_ok=True)
        assert image.save(str(folder / name))
    return path


@dataclass
class Codes:
    """Barcodes a test scans."""

    wrong_item: str  # a product that is on no line of the order
    unknown: str = "ZZ-NOT-A-CODE-42"


def codes_for(ctx: StationContext, order: OrderView) -> Codes:
    from sqlalchemy import select

    from app.store.models import Product

    on_order = {ln.product_id for ln in order.lines}
    with ctx.sessions() as s:
        gtin = s.scalar(
            select(Product.gtin)
            .where(Product.id.not_in(on_order), Product.track_lot.is_(False))
            .limit(1)
        )
    assert gtin
    return Codes(wrong_item=gtin)


def order_status(ctx: StationContext, order_id: uuid.UUID) -> str:
    with ctx.uow() as uow:
        return get_order(uow, order_id).status
