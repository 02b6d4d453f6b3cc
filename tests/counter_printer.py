"""A receipt printer's raw port for tests: a TCP listener that keeps every job's bytes.

Each connection is one job (the station's raw-socket transport opens, sends, closes); the bytes
are kept in arrival order so a test can parse them with escpos_stream.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Any


class RawPrinter:
    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.jobs: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            data = bytearray()
            with conn:
                conn.settimeout(10)
                while chunk := conn.recv(65536):
                    data += chunk
            with self._lock:
                self.jobs.append(bytes(data))

    def received(self) -> list[bytes]:
        with self._lock:
            return list(self.jobs)

    def wait_for(self, n: int, timeout: float = 30.0) -> list[bytes]:
        """Until ``n`` jobs came in. In a GUI test the station's event loop runs meanwhile: its
        print worker is kicked through it, so a plain sleep would hold back the very print
        being waited for."""
        app = _qt_app()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.received()
            if len(jobs) >= n:
                return jobs
            if app is not None:
                app.processEvents()
            time.sleep(0.02)
        raise AssertionError(f"the printer got {len(self.received())} jobs, not {n}")

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


def _qt_app() -> Any:
    """The running Qt application, if this test has one (never imports Qt itself)."""
    core = sys.modules.get("PySide6.QtCore")
    return core.QCoreApplication.instance() if core is not None else None
