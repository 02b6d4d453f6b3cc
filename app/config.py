"""Station configuration: one TOML file, found in the OS's config folder.

The file is ``station.toml`` in ``platformdirs.user_config_dir("waystation")``
(``~/.config/waystation/station.toml`` on Linux), or wherever ``WAYSTATION_CONFIG`` points.
A missing file means the embedded default: a local SQLite database in the user data folder,
no central database, packing slips saved to a folder. Passwords never live here: the central
database's password is kept in the OS keyring (see :func:`database_password`).

A ``[central]`` section connects the station to the company's central PostgreSQL database (the
settings ``waystation-admin station add`` prints); without it the station runs standalone.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from app.domain.errors import ConfigError

APP_NAME = "waystation"
log = logging.getLogger(__name__)


def config_path() -> Path:
    env = os.environ.get("WAYSTATION_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME)) / "station.toml"


def data_dir() -> Path:
    env = os.environ.get("WAYSTATION_DATA_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    """Where one kind of document goes: a CUPS queue, or a folder when no printer is set."""

    kind: str = "folder"  # cups / socket / serial / usb / folder
    queue: str = ""  # CUPS queue name
    server: str = ""  # CUPS server (host:port); empty: the local one
    folder: str = ""  # for kind=folder; empty: <data dir>/printed
    host: str = ""  # for kind=socket (raw TCP 9100)
    port: int = 9100
    device: str = ""  # kind=serial: /dev/ttyUSB0; kind=usb: vendor:product in hex (04b8:0202)
    baudrate: int = 9600  # kind=serial
    paper: str = "A4"  # A4 / LETTER / 4x6
    dpi: int = 203  # label printers: 203 or 300 dots per inch; barcodes sit on this grid
    label_on_last_scan: bool = False  # shipping labels: print on the order's last scan

    def describe(self) -> str:
        if self.kind == "cups":
            return f"CUPS {self.queue}" + (f" on {self.server}" if self.server else "")
        if self.kind == "socket":
            return f"{self.host}:{self.port}"
        if self.kind in ("serial", "usb"):
            return f"{self.kind} {self.device}"
        return f"folder {self.folder or 'printed/'}"


@dataclass(frozen=True, slots=True)
class ScannerConfig:
    prefix: str = ""
    suffix: str = ""
    terminators: tuple[str, ...] = ("enter", "tab")
    max_gap_ms: float = 25.0
    min_length: int = 3
    end_timeout_ms: float = 60.0
    gs_replacement: str = ""  # a character the scanner sends instead of GS (ASCII 29)
    # The keyboard layout wedge scanners type for: "auto" reads a US-set scanner on an AZERTY
    # or QWERTZ keyboard right where its text gives it away; "us", "azerty", "qwertz" force it.
    layout: str = "auto"
    serial_port: str = ""  # a scanner on a serial port (/dev/ttyACM0, COM3); empty: none
    baudrate: int = 9600
    terminator: str = "CR"  # what ends a serial scan: CR, LF, CRLF, or none (end_timeout_ms)

    def check(self) -> None:
        from app.scanning.keyboard import LAYOUTS
        from app.scanning.serial_scanner import TERMINATORS

        if self.layout not in LAYOUTS:
            raise ValueError(f"scanner layout {self.layout!r} is not one of {', '.join(LAYOUTS)}")
        if self.terminator.upper() not in TERMINATORS:
            names = ", ".join(TERMINATORS)
            raise ValueError(f"scanner terminator {self.terminator!r} is not one of {names}")
        if self.baudrate <= 0:
            raise ValueError(f"scanner baudrate {self.baudrate} must be above 0")


CODE_KINDS = ("order", "tote", "location", "cart", "operator", "rma", "package", "product")


@dataclass(frozen=True, slots=True)
class CodesConfig:
    """The company's own codes, told apart before a look-up (``[codes]`` in station.toml).

    Each kind lists prefixes (``"SO-"``) or, starting with ``^``, regular expressions matched
    against the whole code, case-insensitively. The defaults fit the demo data. ``scale``
    gives the layout of variable-measure EAN-13s per prefix (see app/scanning/weights.py).
    """

    order: tuple[str, ...] = ("SO-", "PL-")
    tote: tuple[str, ...] = (r"^T-\d{4}$",)
    location: tuple[str, ...] = (r"^[A-Z]{1,3}-\d{2}-\d{1,2}(-[A-Z])?$",)
    cart: tuple[str, ...] = ("CART-",)
    operator: tuple[str, ...] = ("OP-",)
    rma: tuple[str, ...] = ("RMA-",)
    package: tuple[str, ...] = (r"^\d{18}$",)  # an SSCC without its (00)
    product: tuple[str, ...] = ()
    unmatched: str = "reject"  # a code that is no GTIN and fits no kind: reject / look-up
    scale: dict[str, str] = field(
        default_factory=lambda: {
            "02": "02IIIIICPPPP",
            "22": "22IIIICPPPPP",
            "23": "23IIIICPPPPP",
            "28": "28IIIICWWWWW",
            "29": "29IIIICWWWWW",
        }
    )

    def check(self) -> None:
        from app.domain.errors import ConfigError
        from app.scanning.rules import CodeRules
        from app.scanning.weights import ScaleLayouts

        try:
            CodeRules.from_config(self)
            ScaleLayouts.from_config(self.scale)
        except ConfigError as e:
            raise ValueError(e.message) from e


CAMERA_DECODERS = ("zxing", "zbar")


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """A camera that reads codes (and may film the pack bench). No source: no camera."""

    source: str = ""  # "0" (device index), a video file, or an rtsp:// / http(s):// URL
    decoder: str = "zxing"  # zxing (zxing-cpp) / zbar (pyzbar)
    width: int = 1280  # asked of a device; files and network cameras send what they send
    height: int = 720
    gone_frames: int = 6  # a code counts again after missing from this many decoded frames...
    repeat_after_s: float = 3.0  # ...or this long after it last counted (0: only by leaving)
    record: bool = False  # film the bench while each order is packed, one file per order
    record_folder: str = ""  # empty: <data dir>/videos
    keep_days: int = 30  # recordings older than this are deleted

    def check(self) -> None:
        if self.decoder not in CAMERA_DECODERS:
            names = ", ".join(CAMERA_DECODERS)
            raise ValueError(f"camera decoder {self.decoder!r} is not one of {names}")
        for name in ("gone_frames", "keep_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"camera {name} must be 1 or more")
        if self.repeat_after_s < 0:
            raise ValueError("camera repeat_after_s must be 0 (off) or more")

    def video_folder(self) -> Path:
        return Path(self.record_folder) if self.record_folder else data_dir() / "videos"


CLAIM_WAIT_S = 1.5
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True, slots=True)
class CentralConfig:
    """The central PostgreSQL database this station syncs with, as the station's own login
    role. The password is not here: it is in the OS keyring under :meth:`keyring_user`."""

    host: str = ""
    user: str = ""  # the station's login role, made by `waystation-admin station add`
    warehouse: str = ""  # the code of the warehouse whose feed the station follows
    port: int = 5432
    dbname: str = "waystation"
    sslmode: str = "prefer"  # "verify-full" where the network is not the company's own
    sslrootcert: str = ""  # the CA that signed the server's certificate (verify-ca/-full)
    claim_wait_s: float = CLAIM_WAIT_S  # online: how long opening an order waits for central

    def __post_init__(self) -> None:
        for name in ("host", "user", "warehouse", "dbname"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"[central] needs {name}")
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ValueError(f"[central] port {self.port!r} is not a TCP port (1–65535)")
        if self.sslmode not in SSL_MODES:
            raise ValueError(
                f"[central] sslmode {self.sslmode!r} is not one of {', '.join(SSL_MODES)}"
            )
        if not isinstance(self.claim_wait_s, int | float) or not 0 <= self.claim_wait_s <= 120:
            raise ValueError(
                f"[central] claim_wait_s {self.claim_wait_s!r} must be 0 to 120 seconds"
            )
        if self.sslmode in ("verify-ca", "verify-full") and not self.sslrootcert:
            raise ValueError(f"[central] sslmode {self.sslmode} needs sslrootcert (the CA file)")

    def keyring_user(self) -> str:
        """The name the password is kept under in the keyring (service ``waystation``)."""
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"

    def describe(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"

    def connect_kwargs(self, password: str | None = None) -> dict[str, Any]:
        """libpq connection parameters (psycopg.connect(**kwargs)). Without a password libpq
        falls back to its own sources (PGPASSWORD, ~/.pgpass) — how a headless station runs."""
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "sslmode": self.sslmode,
            "application_name": "waystation-station",
        }
        if self.sslrootcert:
            params["sslrootcert"] = self.sslrootcert
        if password:
            params["password"] = password
        return params


@dataclass(frozen=True, slots=True)
class StationConfig:
    station_name: str = "PACK-01"
    warehouse_code: str = "WH1"
    database_url: str = ""  # empty: <data dir>/station.db
    locale: str = ""  # empty: the system's
    theme: str = "light"  # light / dark
    sounds: bool = True
    badge_needs_pin: bool = False
    sscc_block: int = 0  # 0–999, different on every station: its own range of SSCC numbers
    # The pack bench's predicted item scans commit in a process of their own, on the other core
    # (app.services.bench_host); off: on the station's database worker.
    bench_process: bool = True
    # Documents are made and sent in a process of their own (printing/host.py), started with
    # the first job due; off: on the station's print thread.
    print_process: bool = True
    printers: dict[str, PrinterConfig] = field(default_factory=dict)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    codes: CodesConfig = field(default_factory=CodesConfig)
    central: CentralConfig | None = None  # None: standalone, no sync (the embedded default)

    def local_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{data_dir() / 'station.db'}"

    def printer_for(self, document: str) -> PrinterConfig:
        """The printer for a kind of document; unset, documents are saved to a folder."""
        printer = self.printers.get(document) or PrinterConfig()
        if printer.kind == "folder" and not printer.folder:
            printer = replace(printer, folder=str(data_dir() / "printed"))
        return printer


def load_config(path: Path | None = None) -> StationConfig:
    path = path or config_path()
    if not path.exists():
        return StationConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(
            f"The station settings in {path} cannot be read ({e}). "
            "Fix the file or move it away to start with the defaults."
        ) from e
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], *, source: str = "settings") -> StationConfig:
    try:
        station = dict(raw.get("station", {}))
        printers = {
            doc: PrinterConfig(**_known(PrinterConfig, spec))
            for doc, spec in dict(raw.get("printers", {})).items()
        }
        scanner_raw = _known(ScannerConfig, dict(raw.get("scanner", {})))
        if "terminators" in scanner_raw:
            scanner_raw["terminators"] = tuple(scanner_raw["terminators"])
        scanner = ScannerConfig(**scanner_raw)
        scanner.check()
        codes_raw = _known(CodesConfig, dict(raw.get("codes", {})))
        for kind in CODE_KINDS:
            if isinstance(codes_raw.get(kind), str):
                codes_raw[kind] = (codes_raw[kind],)
            elif kind in codes_raw:
                codes_raw[kind] = tuple(codes_raw[kind])
        codes = CodesConfig(**codes_raw)
        codes.check()
        camera = CameraConfig(**_known(CameraConfig, dict(raw.get("camera", {}))))
        camera.check()
        central_raw = raw.get("central")
        central = None
        if central_raw is not None:
            try:
                central = CentralConfig(**_known(CentralConfig, dict(central_raw)))
            except (TypeError, ValueError) as e:
                raise ValueError(
                    f"{e} — use the settings `waystation-admin station add` printed for this "
                    "station, or remove [central] to run it standalone"
                ) from e
        cfg = StationConfig(**_known(StationConfig, station))
        return replace(
            cfg, printers=printers, scanner=scanner, camera=camera, codes=codes, central=central
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"The station settings in {source} are not valid: {e}.") from e


def _known(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}")
    return {k: v for k, v in values.items() if k not in _SECTIONS}


_SECTIONS = ("printers", "scanner", "camera", "codes", "central")


def to_toml(config: StationConfig) -> dict[str, Any]:
    """The settings as the TOML file holds them (defaults left out, so they can change)."""
    default = StationConfig()
    station = {
        f.name: getattr(config, f.name)
        for f in fields(StationConfig)
        if f.name not in _SECTIONS and getattr(config, f.name) != getattr(default, f.name)
    }
    out: dict[str, Any] = {"station": station}
    blank = PrinterConfig()
    printers = {
        doc: {
            f.name: getattr(p, f.name)
            for f in fields(PrinterConfig)
            if getattr(p, f.name) != getattr(blank, f.name) or f.name == "kind"
        }
        for doc, p in sorted(config.printers.items())
    }
    if printers:
        out["printers"] = printers
    for name in ("scanner", "camera", "codes"):
        changed = _changed(getattr(config, name))
        if changed:
            out[name] = changed
    if config.central is not None:
        out["central"] = central_toml(config.central)
    return out


def _changed(section: Any) -> dict[str, Any]:
    """A section's settings that differ from its defaults (tuples as TOML lists)."""
    blank = type(section)()
    out = {}
    for f in fields(section):
        value = getattr(section, f.name)
        if value != getattr(blank, f.name):
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def central_toml(central: CentralConfig) -> dict[str, Any]:
    """The ``[central]`` section as the file holds it (an empty sslrootcert and the usual
    claim wait left out)."""
    return {
        f.name: getattr(central, f.name)
        for f in fields(CentralConfig)
        if (f.name != "sslrootcert" or central.sslrootcert)
        and (f.name != "claim_wait_s" or central.claim_wait_s != CLAIM_WAIT_S)
    }


def save_config(config: StationConfig, path: Path | None = None) -> Path:
    """Write the settings (atomically: a half-written file never replaces a good one)."""
    import tomli_w

    path = path or config_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(tomli_w.dumps(to_toml(config)), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise ConfigError(
            f"The station settings could not be saved to {path} ({e.strerror or e}). "
            "Check the folder can be written to."
        ) from e
    return path


def database_password(central: CentralConfig) -> str | None:
    """The central database's password, from the OS keyring (never from the config file).

    None when the keyring holds none or there is no keyring on this machine (a headless
    station): libpq then reads PGPASSWORD or ~/.pgpass itself.
    """
    import keyring
    from keyring.errors import KeyringError

    try:
        value: str | None = keyring.get_password(APP_NAME, central.keyring_user())
    except KeyringError as e:
        key = central.keyring_user()
        level = logging.DEBUG if key in _KEYRING_WARNED else logging.WARNING
        _KEYRING_WARNED.add(key)
        log.log(level, "no password read from the OS keyring for %s: %s", central.describe(), e)
        return None
    return value


_KEYRING_WARNED: set[str] = set()  # warn once per login, not on every reconnect


def save_database_password(central: CentralConfig, password: str) -> None:
    """Keep the central database's password in the OS keyring."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(APP_NAME, central.keyring_user(), password)
    except KeyringError as e:
        raise ConfigError(
            f"The password for {central.describe()} could not be kept in the OS keyring ({e}). "
            "Unlock or install a keyring (Secret Service, KWallet, Windows Credential Manager), "
            "or give the password to libpq in ~/.pgpass."
        ) from e
