"""Qt item models over the core's read-only views, plus the locale formatting they share."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, QLocale


def _local(value: datetime) -> QDateTime:
    return QDateTime.fromMSecsSinceEpoch(int(value.timestamp() * 1000)).toLocalTime()


def format_datetime(value: datetime) -> str:
    """A UTC time shown in the station's local time, in the station locale's short format."""
    return QLocale().toString(_local(value), QLocale.FormatType.ShortFormat)


def format_time_today(value: datetime) -> str:
    """As :func:`format_datetime`, but the time alone when it is today."""
    local = _local(value)
    if local.date() == QDate.currentDate():
        return QLocale().toString(local.time(), QLocale.FormatType.ShortFormat)
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
