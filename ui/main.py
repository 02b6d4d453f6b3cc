"""``waystation``: the station GUI's entry point.

``main()`` parses the command line, sets up the rotating log file, the theme and the locale,
bootstraps the station (:func:`app.bootstrap.bootstrap`), builds the main window with
:func:`build_window`, puts the wedge filter on the application, shows the window and runs.
Nothing heavy is imported here: the SQLAlchemy ORM, the mappings and the print queue load on
the database worker once the window is shown, the screens other than the sign-in when first
shown, reportlab and the printer transports on the first print, QtMultimedia after the window
is shown (docs/ARCHITECTURE.md, "Start-up").

Tests and the start-up benchmark call :func:`build_station` / :func:`build_window` without
running the event loop; ``MainWindow.ready`` marks the moment the sign-in screen is on screen
and a badge scan is accepted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import logging.handlers
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from app.bootstrap import StationContext, bootstrap
from app.config import ScannerConfig, StationConfig, data_dir, load_config
from app.domain.errors import WaystationError

if TYPE_CHECKING:
    from PySide6.QtCore import QLocale
    from PySide6.QtWidgets import QApplication

    from printing.host import PrintProcess
    from ui.main_window import MainWindow

log = logging.getLogger("ui.main")
_STARTED = time.perf_counter()
LOG_BYTES = 5_000_000
LOG_FILES = 5


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="waystation", description="Waystation station")
    parser.add_argument("--config", type=Path, help="the station.toml to use")
    parser.add_argument(
        "--demo", action="store_true", help="fill an empty local database with demo data first"
    )
    parser.add_argument("--station", help="the station name (overrides the config file)")
    return parser.parse_args(argv)


def setup_logging(directory: Path) -> Path:
    """One rotating log file for the station, plus warnings on stderr."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "waystation.log"
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=LOG_BYTES, backupCount=LOG_FILES, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    root.addHandler(console)
    sys.excepthook = _log_uncaught
    return path


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: object) -> None:
    log.critical("uncaught exception", exc_info=(kind, value, tb))  # type: ignore[arg-type]


class Printing(NamedTuple):
    """The print worker's entries, bound to a station (ui/print_runner.py)."""

    print_due: Callable[[], int]  # print what is due now; how many printed
    recover: Callable[[], int]  # at start: jobs that were being sent wait for a decision
    close: Callable[[], None]  # at the end: the print process, if any, ends
    process: PrintProcess | None = None  # started at sign-in (on the print thread)


def printer_for(ctx: StationContext) -> Printing:
    """The print worker's entries for this station: in a print process of its own
    (printing/host.py) unless ``[station] print_process = false``. printing/ loads after the
    window is shown (MainWindow loads it ahead on the database worker), off the start-up path;
    the print process starts at the first sign-in, or with the first job due."""

    def print_here() -> int:
        from printing.queue import print_pending

        return print_pending(ctx)

    def recover() -> int:
        from printing.queue import recover as run

        return run(ctx)

    if not ctx.config.print_process:
        return Printing(print_here, recover, lambda: None)

    def has_due() -> bool:
        from printing.queue import has_due as due

        return due(ctx)

    from app.ipc import HostStart
    from printing.host import PrintProcess

    start = HostStart(ctx.config, ctx.url, ctx.station_id, ctx.station_name)
    process = PrintProcess(start, has_due, print_here, recover)
    return Printing(process.print_due, recover, process.close, process)


def wedge_settings(scanner: ScannerConfig) -> object:
    from app.scanning.wedge import WedgeSettings

    return WedgeSettings(
        prefix=scanner.prefix,
        suffix=scanner.suffix,
        terminators=frozenset(scanner.terminators),
        max_gap_ms=scanner.max_gap_ms,
        min_length=scanner.min_length,
        end_timeout_ms=scanner.end_timeout_ms,
        layout=scanner.layout,
    )


def build_window(
    ctx: StationContext, *, print_pending: Callable[[], int] | None = None
) -> MainWindow:
    """The main window with the wedge filter on the application (a QApplication must exist)."""
    from ui.main_window import MainWindow
    from ui.wedge_filter import WedgeFilter

    printing = printer_for(ctx)
    if print_pending is not None:
        printing = printing._replace(print_due=print_pending)
    window = MainWindow(ctx, printing=printing)
    wedge = WedgeFilter(window, wedge_settings(ctx.config.scanner))  # type: ignore[arg-type]
    window.install_wedge(wedge, wedge.scanned)
    scanner = ctx.config.scanner
    if scanner.serial_port:
        from app.scanning.serial_scanner import SerialSettings
        from ui.serial_input import SerialInput

        serial = SerialSettings(
            port=scanner.serial_port,
            baudrate=scanner.baudrate,
            terminator=scanner.terminator,
            end_timeout_ms=scanner.end_timeout_ms,
            prefix=scanner.prefix,
            suffix=scanner.suffix,
        )
        window.install_serial(SerialInput(serial, window))
    camera = ctx.config.camera
    if camera.source:
        from ui.camera_preview import CameraFeed, CameraPreview

        feed = CameraFeed.from_config(camera, ctx.station_name, window)
        window.install_camera(feed, CameraPreview(feed))
    window.resize(1366, 768)
    return window


def build_station(
    config: StationConfig,
    *,
    demo: bool = False,
    print_pending: Callable[[], int] | None = None,
) -> MainWindow:
    """Bootstrap the station and build its window; the caller shows it (and runs the loop)."""
    loading = _FirstLoad.needed(config)
    try:
        ctx = bootstrap(config, progress=loading.progress if loading else None)
    finally:
        if loading is not None:
            loading.close()
    if demo:
        from app.services.demo import ensure_demo_data

        if ensure_demo_data(ctx.engine):
            log.info("demo data created")
    return build_window(ctx, print_pending=print_pending)


class _FirstLoad:
    """A station that syncs and was never loaded downloads the central data before its window
    can open (up to half a minute): a small window says what it is doing meanwhile."""

    def __init__(self, config: StationConfig) -> None:
        from PySide6.QtWidgets import QLabel

        self._where = config.central.describe() if config.central else ""
        self._note = QLabel()
        self._note.setWindowTitle("Waystation")
        self._note.setMargin(24)
        self._note.setMinimumWidth(560)
        self.progress("…", 0)

    @classmethod
    def needed(cls, config: StationConfig) -> _FirstLoad | None:
        if config.central is None:
            return None
        from PySide6.QtWidgets import QApplication

        from app.sync.snapshot import is_loaded, local_path

        if QApplication.instance() is None or is_loaded(local_path(config)):
            return None
        return cls(config)

    def progress(self, table: str, rows: int) -> None:
        from PySide6.QtCore import QCoreApplication

        self._note.setText(
            QCoreApplication.translate(
                "first_load",
                "Loading this station from the central database {db}…\n{table}: {rows} rows",
            ).format(db=self._where, table=table, rows=rows)
        )
        self._note.show()
        QCoreApplication.processEvents()

    def close(self) -> None:
        self._note.close()


def _install_translations(app: QApplication, locale: QLocale) -> None:
    from PySide6.QtCore import QTranslator

    from ui.theme import RESOURCES

    translator = QTranslator(app)
    if translator.load(locale, "waystation", "_", str(RESOURCES / "translations")):
        app.installTranslator(translator)


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    from app.ipc import HELPER_FLAGS

    for module, flag in HELPER_FLAGS.items():
        if given == [flag]:
            # One of the station's helper processes, started by a packaged station (app/ipc.py).
            importlib.import_module(module).main()
            return 0
    args = parse_args(argv)
    setup_logging(data_dir() / "logs")
    from PySide6.QtCore import QLocale
    from PySide6.QtWidgets import QApplication, QMessageBox

    from ui import messages
    from ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Waystation")
    try:
        config = load_config(args.config)
        if args.station:
            config = replace(config, station_name=args.station)
        if config.locale:
            QLocale.setDefault(QLocale(config.locale))
        _install_translations(app, QLocale())
        apply_theme(app, config.theme)
        window = build_station(config, demo=args.demo)
    except WaystationError as e:
        QMessageBox.critical(None, "Waystation", messages.describe(e, action="start"))
        return 2
    window.ready.connect(
        lambda: log.info("ready %.0f ms after start", (time.perf_counter() - _STARTED) * 1000)
    )
    window.show()
    try:
        return app.exec()
    finally:
        window.shutdown()
        window.ctx.dispose()


if __name__ == "__main__":
    sys.exit(main())
