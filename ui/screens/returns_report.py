"""The returns report on screen: return rate by product and reason, the condition mix, refund
totals and the time from receipt to resolution, with CSV export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.returns.reports import ReturnsReport, to_csv
from ui.models.basket import format_money
from ui.models.returns import RatesModel


class ReportDialog(QDialog):
    """Shows one report; "Export CSV" hands the CSV text to ``save`` (which asks where)."""

    def __init__(
        self,
        report: ReturnsReport,
        save: Callable[[str], Path | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Returns report"))
        self.report = report
        self._save = save
        self.saved: Path | None = None
        self.rates = RatesModel(self)
        self.rates.set_rows(list(report.products))
        table = QTableView(self)
        table.setModel(self.rates)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        head = table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel(self._summary(), self)
        self.summary.setWordWrap(True)
        export = QPushButton(self.tr("Export CSV…"), self)
        export.clicked.connect(self.export)
        close = QPushButton(self.tr("Close"), self)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(export)
        buttons.addWidget(close)
        page = QVBoxLayout(self)
        page.addWidget(table, 1)
        page.addWidget(self.summary)
        page.addLayout(buttons)
        self.resize(1000, 560)

    def _summary(self) -> str:
        r = self.report
        mix = ", ".join(f"{c.replace('_', ' ')} {n}" for c, n in sorted(r.conditions.items()))
        money = "; ".join(
            self.tr("{res} {state}: {n} × {total}").format(
                res=res.replace("_", " "),
                state=state.replace("_", " "),
                n=n,
                total=format_money(total),
            )
            for (res, state), (n, total) in sorted(r.refunds.items())
        )
        median = r.median_hours
        time_words = (
            self.tr("none resolved yet")
            if median is None
            else self.tr("median {h:.1f} h over {n}").format(h=median, n=len(r.resolution_hours))
        )
        return self.tr(
            "Condition mix: {mix}\nResolutions: {money}\nReceipt to resolution: {time}"
        ).format(mix=mix or "—", money=money or "—", time=time_words)

    def csv_text(self) -> str:
        return to_csv(self.report)

    def export(self) -> None:
        self.saved = self._save(self.csv_text())
