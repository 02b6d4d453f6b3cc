"""Fixtures for the integration tests: the real servers they talk to.

CUPS: ``cups_server`` uses the server named by ``CUPS_SERVER`` (scripts/test.sh starts one with
scripts/services/cups.sh and exports it), or starts a private one itself for the session, so
``pytest tests/integration`` also works alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# ----------------------------------------------------------------------------- CUPS

CUPS_SCRIPT = ROOT / "scripts" / "services" / "cups.sh"


@dataclass(frozen=True)
class CupsServer:
    """A CUPS server the tests may print to.

    ``server`` is what ``lp -h`` takes. ``pdf_out`` (where queue WS_PDF writes its PDFs) and
    ``raw_port`` (where queue WS_RAW connects) are None for a server this session did not set up.
    """

    server: str
    pdf_out: Path | None
    raw_port: int | None

    def require_pdf_out(self) -> Path:
        if self.pdf_out is None:
            pytest.skip("CUPS_SERVER is set without WAYSTATION_CUPS_PDF_OUT")
        return self.pdf_out

    def require_raw_port(self) -> int:
        if self.raw_port is None:
            pytest.skip("CUPS_SERVER is set without WAYSTATION_CUPS_RAW_PORT")
        return self.raw_port


def _cups_from(env: Mapping[str, str]) -> CupsServer:
    out = env.get("WAYSTATION_CUPS_PDF_OUT")
    port = env.get("WAYSTATION_CUPS_RAW_PORT")
    return CupsServer(env["CUPS_SERVER"], Path(out) if out else None, int(port) if port else None)


@pytest.fixture(scope="session")
def cups_server() -> Iterator[CupsServer]:
    if os.environ.get("CUPS_SERVER"):
        yield _cups_from(os.environ)
        return
    if not (shutil.which("cupsd") or Path("/usr/sbin/cupsd").exists()) or not shutil.which("lp"):
        pytest.skip("CUPS is not installed (apt-get install cups cups-client)")
    if os.geteuid() != 0:
        pytest.skip("a private CUPS server with cups-pdf needs root; or set CUPS_SERVER")
    # Under /tmp, not pytest's tmp_path: CUPS filters run as user lp and must reach the spool.
    base = Path(tempfile.mkdtemp(prefix="waystation-cups-"))
    started = subprocess.run(
        ["bash", str(CUPS_SCRIPT), "start", str(base)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        if started.returncode != 0:
            pytest.fail(f"scripts/services/cups.sh start failed:\n{started.stderr}")
        env = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
        yield _cups_from(env)
    finally:
        subprocess.run(
            ["bash", str(CUPS_SCRIPT), "stop", str(base)], capture_output=True, check=False
        )
        shutil.rmtree(base, ignore_errors=True)
