"""Function keys: a key the whole window answers must not also be a key of one of its screens,
or Qt finds the shortcut ambiguous and neither fires (F6 would stop paying by card)."""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtGui import QShortcut

from ui.main_window import MainWindow


def test_no_window_key_is_also_a_screen_key(station: MainWindow) -> None:
    window_keys = {
        s.key().toString(): s for s in station.findChildren(QShortcut) if s.parent() is station
    }
    screen_keys: dict[str, list[str]] = defaultdict(list)
    for screen in station.all_screens():  # the screens not shown yet are built for this
        for shortcut in screen.findChildren(QShortcut):
            screen_keys[shortcut.key().toString()].append(type(screen).__name__)
    assert {"F2", "F9", "F11", "F12", "Ctrl+F12"} <= set(window_keys)
    clashes = {key: screens for key, screens in screen_keys.items() if key in window_keys}
    assert clashes == {}


def test_no_two_window_keys_are_the_same(station: MainWindow) -> None:
    keys = [s.key().toString() for s in station.findChildren(QShortcut) if s.parent() is station]
    assert len(keys) == len(set(keys)), sorted(keys)
