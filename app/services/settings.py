"""Changing a station's settings: only an operator whose role allows it, audited, saved to the
station's settings file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.config import PrinterConfig, StationConfig, save_config
from app.domain.roles import Permission
from app.services import auth
from app.store.uow import UnitOfWork


def save_printers(
    uow: UnitOfWork,
    config: StationConfig,
    printers: dict[str, PrinterConfig],
    path: Path | None = None,
) -> StationConfig:
    """The station's printers per kind of document; returns the new settings."""
    auth.check(uow, Permission.CONFIGURE)
    new = replace(config, printers=dict(printers))
    uow.record(
        "station.printers_changed",
        {doc: p.describe() for doc, p in sorted(printers.items())},
        entity="station",
        entity_id=uow.actor.station_id,
    )
    save_config(new, path)  # inside the transaction: a file that cannot be written undoes it
    return new
