"""The scanner check's table: each character or key a scanner sent, with its timing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from app.scanning.trace import ScanTrace, SentKey
from ui.models.search_results import RowsModel


class SentKeysModel(RowsModel):
    """One row per key: its number, how it reads, its code, and the time since the one before."""

    context = "SentKeysModel"
    headers = ("#", "Sent", "Code", "After (ms)")

    def set_trace(self, trace: ScanTrace | None) -> None:
        rows: list[tuple[int, SentKey, float | None]] = []
        if trace is not None:
            previous: float | None = None
            for n, key in enumerate(trace.keys, start=1):
                gap = None if previous is None else key.t_ms - previous
                rows.append((n, key, gap))
                previous = key.t_ms
        self._set_rows(rows)

    def _cell(self, row: Any, col: int) -> str:
        n, key, gap = row
        if col == 0:
            return str(n)
        if col == 1:
            return str(key.label)
        if col == 2:
            if key.key is not None:
                return QCoreApplication.translate(self.context, "{key} key").format(
                    key=key.key.capitalize()
                )
            return " ".join(f"U+{ord(c):04X}" for c in key.char)
        return "" if gap is None else f"{gap:.1f}"
