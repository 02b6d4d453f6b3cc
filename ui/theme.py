"""The station's look: Qt's Fusion style, a light or dark palette, and a small style sheet
from resources/themes/. Colours a model needs (a finished line, the line just scanned) come
from :class:`Colors`, so the table and the style sheet agree.

Tables take their colours from a palette of their own, not from the style sheet: a box rule
on ``QTableView`` (background, border, selection colours) sends every cell through the style
sheet's slow path, about ten times the painting of a table, which is repainted on every scan.
The style sheet gives tables their type size and grid colour only (``colors().grid``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
THEMES = ("light", "dark")


@dataclass(frozen=True, slots=True)
class Colors:
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    done_bg: str
    done_text: str
    good: str
    bad: str
    grid: str
    selected: str
    selected_text: str


_COLORS = {
    "light": Colors(
        window="#eef1f4",
        base="#ffffff",
        alt_base="#f5f7f9",
        text="#14181d",
        muted="#4a5561",
        accent="#0b57a4",
        done_bg="#dcefe0",
        done_text="#1d5a2c",
        good="#1a7f37",
        bad="#b3261e",
        grid="#dde3ea",
        selected="#ffe08a",
        selected_text="#14181d",
    ),
    "dark": Colors(
        window="#1c2026",
        base="#23282f",
        alt_base="#2a3038",
        text="#eef1f4",
        muted="#b4bcc6",
        accent="#5aa0ea",
        done_bg="#1f3b27",
        done_text="#a8e0b5",
        good="#2e9e4f",
        bad="#d93a30",
        grid="#2a3038",
        selected="#6b5a1e",
        selected_text="#eef1f4",
    ),
}


def colors(name: str) -> Colors:
    return _COLORS.get(name, _COLORS["light"])


def palette(name: str) -> QPalette:
    c = colors(name)
    p = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, c.window),
        (role.WindowText, c.text),
        (role.Base, c.base),
        (role.AlternateBase, c.alt_base),
        (role.Text, c.text),
        (role.Button, c.alt_base),
        (role.ButtonText, c.text),
        (role.Highlight, c.accent),
        (role.HighlightedText, "#ffffff"),
        (role.ToolTipBase, c.base),
        (role.ToolTipText, c.text),
        (role.PlaceholderText, c.muted),
        (role.Link, c.accent),
    ):
        p.setColor(r, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, QColor(c.muted))
    return p


def table_palette(name: str) -> QPalette:
    """The app's palette with the tables' own alternate rows and selected row (their cells are
    the app's Base, which their viewport paints)."""
    c = colors(name)
    p = palette(name)
    role = QPalette.ColorRole
    for r, value in (
        (role.AlternateBase, c.alt_base),
        (role.Highlight, c.selected),
        (role.HighlightedText, c.selected_text),
    ):
        p.setColor(r, QColor(value))
    return p


def style_sheet(name: str) -> str:
    path = RESOURCES / "themes" / f"{name if name in THEMES else 'light'}.qss"
    return path.read_text(encoding="utf-8")


def apply_theme(app: QApplication, name: str) -> None:
    """Fusion, the palette and the style sheet of ``name`` (light or dark) for the whole app."""
    app.setStyle("Fusion")
    app.setPalette(palette(name))
    # The PySide6 stub types className as bytes; it is a const char* that PySide6 takes as a str.
    app.setPalette(table_palette(name), "QTableView")  # type: ignore[arg-type]
    app.setStyleSheet(style_sheet(name))
