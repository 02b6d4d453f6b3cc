"""Import rules import-linter cannot express: printing/ never imports QtWidgets; the core and
printing import no heavy module (reportlab, escpos, cv2) at module import time."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_printing_never_imports_qtwidgets() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "printing").rglob("*.py")
        if any(m.startswith("PySide6.QtWidgets") for m in imported_modules(p))
    ]
    assert offenders == []


def test_heavy_modules_are_imported_lazily() -> None:
    code = (
        "import sys, app.bootstrap, app.services.bench, printing.queue, printing.packing_slip;"
        "print(sorted(m for m in ('reportlab', 'escpos', 'cv2', 'alembic') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_the_gs1_tables_load_with_the_first_scan_not_at_start() -> None:
    """biip (GS1 parsing: its prefix tables take a few hundred milliseconds to import) is not
    loaded by building the station's window; the first scan loads it."""
    code = "import sys, ui.main, ui.main_window; print('biip' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    ).stdout.strip()
    assert out == "False"
