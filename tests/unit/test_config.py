"""Station settings: defaults, a full file, and files that cannot be used."""

from pathlib import Path

import pytest

from app.config import StationConfig, load_config
from app.domain.errors import ConfigError


def test_no_file_means_the_embedded_default(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "missing.toml")
    assert cfg == StationConfig()
    assert cfg.central is None  # standalone: no central database, no sync
    assert cfg.printer_for("packing_slip").kind == "folder"
    assert cfg.printer_for("packing_slip").folder  # a real folder, not the working directory


def test_a_full_file_is_read(tmp_path: Path) -> None:
    f = tmp_path / "station.toml"
    f.write_text(
        """
[station]
station_name = "PACK-07"
theme = "dark"

[printers.packing_slip]
kind = "cups"
queue = "LASER1"
paper = "LETTER"

[scanner]
prefix = "~"
terminators = ["tab"]
max_gap_ms = 30
""",
        encoding="utf-8",
    )
    cfg = load_config(f)
    assert cfg.station_name == "PACK-07"
    assert cfg.theme == "dark"
    printer = cfg.printer_for("packing_slip")
    assert (printer.kind, printer.queue, printer.paper) == ("cups", "LASER1", "LETTER")
    assert printer.describe() == "CUPS LASER1"
    assert cfg.scanner.prefix == "~"
    assert cfg.scanner.terminators == ("tab",)


def test_broken_toml_says_which_file_and_what_to_do(tmp_path: Path) -> None:
    f = tmp_path / "station.toml"
    f.write_text("[station\nname = ", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(f)
    assert str(f) in e.value.message
    assert "move it away" in e.value.message


def test_unknown_setting_is_named(tmp_path: Path) -> None:
    f = tmp_path / "station.toml"
    f.write_text('[station]\nstation_nmae = "X"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="station_nmae"):
        load_config(f)


def test_settings_saved_and_read_back_are_the_same(tmp_path: Path) -> None:
    from dataclasses import replace

    from app.config import PrinterConfig, ScannerConfig, save_config

    cfg = replace(
        StationConfig(station_name="PACK-09", theme="dark"),
        printers={
            "packing_slip": PrinterConfig(kind="cups", queue="LASER-3", paper="LETTER"),
            "shipping_label": PrinterConfig(kind="socket", host="10.0.0.7", port=9100),
        },
        scanner=ScannerConfig(prefix="~", terminators=("tab",)),
    )
    path = save_config(cfg, tmp_path / "sub" / "station.toml")
    assert load_config(path) == cfg
    assert "LASER-3" in path.read_text(encoding="utf-8")


def test_settings_that_cannot_be_saved_say_where_and_what_to_do(tmp_path: Path) -> None:
    from app.config import save_config

    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="could not be saved"):
        save_config(StationConfig(), blocker / "station.toml")


def test_camera_settings_are_read_and_saved(tmp_path: Path) -> None:
    from dataclasses import replace

    from app.config import CameraConfig, save_config

    f = tmp_path / "station.toml"
    f.write_text(
        '[camera]\nsource = "rtsp://cam-3/stream"\ndecoder = "zbar"\nrecord = true\n'
        "keep_days = 7\n",
        encoding="utf-8",
    )
    cfg = load_config(f)
    assert cfg.camera.source == "rtsp://cam-3/stream"
    assert (cfg.camera.decoder, cfg.camera.record, cfg.camera.keep_days) == ("zbar", True, 7)
    assert StationConfig().camera.decoder == "zxing"  # zxing-cpp unless the station says
    assert StationConfig().camera.video_folder().name == "videos"

    saved = replace(StationConfig(), camera=CameraConfig(source="2", record_folder="/srv/v"))
    assert load_config(save_config(saved, tmp_path / "again.toml")) == saved


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('decoder = "zxingcpp"', "not one of zxing, zbar"),
        ("keep_days = 0", "keep_days must be 1 or more"),
        ("gone_frames = 0", "gone_frames must be 1 or more"),
        ("repeat_after_s = -1", "repeat_after_s must be 0"),
        ('lens = "wide"', "lens"),
    ],
)
def test_camera_settings_that_cannot_work_are_named(tmp_path: Path, line: str, named: str) -> None:
    f = tmp_path / "station.toml"
    f.write_text(f"[camera]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=named) as e:
        load_config(f)
    assert str(f) in e.value.message


CENTRAL = """
[station]
station_name = "PACK-12"

[central]
host = "central.example.com"
port = 6432
dbname = "company"
user = "ws_station_pack_12"
sslmode = "verify-full"
sslrootcert = "/etc/waystation/ca.pem"
warehouse = "WH2"
"""


def test_a_central_section_is_read(tmp_path: Path) -> None:
    f = tmp_path / "station.toml"
    f.write_text(CENTRAL, encoding="utf-8")
    central = load_config(f).central
    assert central is not None
    assert (central.host, central.port, central.dbname) == ("central.example.com", 6432, "company")
    assert (central.user, central.warehouse) == ("ws_station_pack_12", "WH2")
    params = central.connect_kwargs("s3cret")
    assert params["sslmode"] == "verify-full"
    assert params["sslrootcert"] == "/etc/waystation/ca.pem"
    assert params["password"] == "s3cret"
    assert "password" not in central.connect_kwargs(None)  # libpq's own sources then


def test_central_settings_saved_and_read_back_are_the_same(tmp_path: Path) -> None:
    from app.config import save_config

    f = tmp_path / "station.toml"
    f.write_text(CENTRAL, encoding="utf-8")
    cfg = load_config(f)
    saved = save_config(cfg, tmp_path / "again.toml")
    assert load_config(saved) == cfg
    text = saved.read_text(encoding="utf-8")
    assert "[central]" in text
    assert "password" not in text


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ('host = ""\nuser = "u"\nwarehouse = "WH1"', "[central] needs host"),
        ('host = "h"\nwarehouse = "WH1"', "[central] needs user"),
        ('host = "h"\nuser = "u"', "[central] needs warehouse"),
        ('host = "h"\nuser = "u"\nwarehouse = "W"\nport = 70000', "not a TCP port"),
        ('host = "h"\nuser = "u"\nwarehouse = "W"\nsslmode = "strict"', "verify-full"),
        ('host = "h"\nuser = "u"\nwarehouse = "W"\nsslmode = "verify-full"', "sslrootcert"),
        ('host = "h"\nuser = "u"\nwarehouse = "W"\npassword = "x"', "password"),
    ],
)
def test_a_central_section_that_cannot_be_used_says_why(
    tmp_path: Path, section: str, words: str
) -> None:
    f = tmp_path / "station.toml"
    f.write_text(f"[central]\n{section}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(f)
    assert words in e.value.message
    assert str(f) in e.value.message


class _MemoryKeyring:
    """A keyring as the OS keeps one, in memory (no Secret Service runs here)."""

    priority = 1

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.kept.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.kept[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        self.kept.pop((service, user), None)


def test_the_central_password_lives_in_the_keyring() -> None:
    import keyring
    from keyring.backend import KeyringBackend

    from app.config import CentralConfig, database_password, save_database_password

    backend = type("Memory", (_MemoryKeyring, KeyringBackend), {})()
    before = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        central = CentralConfig(host="db1", user="ws_pack_1", warehouse="WH1")
        assert database_password(central) is None
        save_database_password(central, "pa55")
        assert database_password(central) == "pa55"
        assert backend.kept == {("waystation", "ws_pack_1@db1:5432/waystation"): "pa55"}
    finally:
        keyring.set_keyring(before)


def test_no_keyring_on_the_machine_means_no_password_and_a_clear_refusal_to_save() -> None:
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    from app.config import CentralConfig, database_password, save_database_password

    before = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        central = CentralConfig(host="db1", user="ws_pack_1", warehouse="WH1")
        assert database_password(central) is None
        with pytest.raises(ConfigError) as e:
            save_database_password(central, "pa55")
        assert "keyring" in e.value.message
        assert "pgpass" in e.value.message
    finally:
        keyring.set_keyring(before)
