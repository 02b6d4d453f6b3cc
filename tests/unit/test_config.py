"""Station settings: defaults, a full file, and files that cannot be used."""

from pathlib import Path

import pytest

from app.config import StationConfig, load_config
from app.domain.errors import ConfigError


def test_no_file_means_the_embedded_default(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "missing.toml")
    assert cfg == StationConfig()
    assert cfg.central_url == ""
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
