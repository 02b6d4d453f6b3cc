"""Qt item models over the core's read-only views, plus the locale formatting they share."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, QDateTime, QLocale


def format_datetime(value: datetime) -> str:
    """A UTC time shown in the station's local time, in the station locale's short format."""
    local = QDateTime.fromMSecsSinceEpoch(int(value.timestamp() * 1000)).toLocalTime()
    return QLocale().toString(local, QLocale.FormatType.ShortFormat)


def format_int(value: int) -> str:
    return QLocale().toString(value)


def format_kg(grams: int) -> str:
    return QCoreApplication.translate("format", "{kg} kg").format(
        kg=QLocale().toString(grams / 1000, "f", 2)
    )


_STATUS = {
    "placed": "Placed",
    "confirmed": "Confirmed",
    "picking": "Picking",
    "picked": "Picked",
    "packing": "Packing",
    "packed": "Packed",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "on_hold": "On hold",
    "cancelled": "Cancelled",
}


def status_words(status: str) -> str:
    """An order status as a person reads it, translated."""
    return QCoreApplication.translate("status", _STATUS.get(status, status.replace("_", " ")))
