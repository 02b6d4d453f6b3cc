"""waystation-admin runs headless: without PySide6 importable at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Make PySide6 (and shiboken6) impossible to import, as on a server with no Qt installed.
NO_QT = """
import sys
class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6'):
            raise ImportError('no Qt on this machine')
        return None
sys.meta_path.insert(0, NoQt())
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_QT, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_db_upgrade_and_demo_data_without_qt(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    up = admin("db", "upgrade", "--url", url)
    assert up.returncode == 0, up.stderr
    assert "database at revision" in up.stdout
    current = admin("db", "current", "--url", url)
    assert "up to date" in current.stdout
    demo = admin("demo-data", "--products", "100", "--orders", "10", "--url", url)
    assert demo.returncode == 0, demo.stderr
    assert "OP-1001  PIN 1111" in demo.stdout
    again = admin("demo-data", "--products", "100", "--orders", "10", "--url", url)
    assert again.returncode == 1
    assert "already holds products" in again.stderr


def test_db_downgrade_to_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert admin("db", "upgrade", "--url", url).returncode == 0
    down = admin("db", "downgrade", "base", "--url", url)
    assert down.returncode == 0, down.stderr
    assert "base (empty)" in down.stdout
