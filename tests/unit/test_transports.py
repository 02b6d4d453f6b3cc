"""Transports deliver the exact bytes, or fail with words a person can act on."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.errors import PrintError
from printing.transports import (
    CupsTransport,
    FolderTransport,
    QueueInfo,
    RawSocketTransport,
    _parse_lpstat,
    safe_filename,
)

DOCUMENT = b"%PDF-1.4\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"


# ----------------------------------------------------------------------------- folder


def test_folder_transport_writes_the_exact_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "out"  # created on first use
    ref = FolderTransport(folder).send(
        DOCUMENT, title="Packing slip WS-1042 / Zoë", content_type="application/pdf"
    )
    path = Path(ref)
    assert path.parent == folder
    assert path.read_bytes() == DOCUMENT
    assert path.name.endswith("-Packing_slip_WS-1042_Zoë.pdf")
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left over
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_folder_transport_never_overwrites(tmp_path: Path) -> None:
    transport = FolderTransport(tmp_path)
    refs = {transport.send(b"%d" % i, title="same", content_type="text/plain") for i in range(5)}
    assert len(refs) == 5
    assert sorted(Path(r).read_bytes() for r in refs) == [b"0", b"1", b"2", b"3", b"4"]


def test_folder_transport_failed_write_leaves_nothing_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(PrintError, match=r"No space left on device.*job is kept"):
        FolderTransport(tmp_path).send(DOCUMENT, title="x", content_type="application/pdf")
    assert list(tmp_path.iterdir()) == []


def test_folder_transport_into_a_file_is_a_print_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(PrintError, match="Could not write the document to the folder"):
        FolderTransport(blocker / "out").send(b"x", title="x", content_type="text/plain")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Packing slip 1042", "Packing_slip_1042"),
        ("../../etc/passwd", "etc_passwd"),
        ("Łódź: order #7", "Łódź_order_7"),
        ("", "document"),
        ("x" * 300, "x" * 80),
    ],
)
def test_safe_filename(title: str, expected: str) -> None:
    assert safe_filename(title) == expected


# ----------------------------------------------------------------------------- raw TCP


class Listener:
    """A printer's raw port on 127.0.0.1: accepts one connection and keeps what it receives."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.received = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while chunk := conn.recv(65536):
                self.received += chunk

    def wait(self) -> bytes:
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the printer never saw the end of the job"
        return bytes(self.received)


@pytest.fixture
def listener() -> Iterator[Listener]:
    printer = Listener()
    yield printer
    printer.sock.close()


def test_raw_socket_delivers_exact_bytes(listener: Listener) -> None:
    zpl = b"^XA^FO50,50^BCN,100,Y,N,N^FDWS-1042^FS^XZ" + bytes(range(256)) * 4096
    ref = RawSocketTransport("127.0.0.1", listener.port, timeout=5).send(
        zpl, title="label", content_type="application/x-zpl"
    )
    assert listener.wait() == zpl
    assert ref.startswith(f"127.0.0.1:{listener.port}")


def test_raw_socket_closed_port_is_a_plain_print_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]  # free again once closed: nothing listens there
    with pytest.raises(PrintError) as err:
        RawSocketTransport("127.0.0.1", port, timeout=2).send(
            b"x", title="x", content_type="application/x-zpl"
        )
    assert err.value.message == (
        f"Printer 127.0.0.1:{port} refused the connection — check it is on, connected, and "
        "that the port is right; the job is kept and will be retried"
    )


def test_raw_socket_silent_printer_times_out() -> None:
    # A listener that never accepts: the connection waits in the backlog, then the
    # printer's buffer fills and sending stalls, like a printer that has hung.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        port = s.getsockname()[1]
        with pytest.raises(PrintError, match="is not answering"):
            RawSocketTransport("127.0.0.1", port, timeout=0.5).send(
                b"x" * 50_000_000, title="x", content_type="application/x-zpl"
            )


# ----------------------------------------------------------------------------- CUPS

needs_lp = pytest.mark.skipif(
    not any((Path(d) / "lp").exists() for d in os.environ.get("PATH", "").split(os.pathsep)),
    reason="CUPS client (lp) not installed",
)


@needs_lp
def test_cups_server_that_is_not_there_is_a_plain_print_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        server = f"127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(PrintError) as err:
        CupsTransport("PACK1", server=server, timeout=10).send(
            DOCUMENT, title="x", content_type="application/pdf"
        )
    assert err.value.message == (
        f"The print server {server} is not answering — check it is on and connected; the job "
        "is kept and will be retried"
    )


@needs_lp
def test_cups_without_the_state_check_still_names_the_dead_server() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        server = f"127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(PrintError, match="is not answering"):
        CupsTransport("PACK1", server=server, check_state=False).send(
            DOCUMENT, title="x", content_type="application/pdf"
        )


def test_cups_client_missing_is_a_print_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PrintError, match="'lpstat' is not installed"):
        CupsTransport("PACK1").send(DOCUMENT, title="x", content_type="application/pdf")


def test_cups_that_hangs_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for tool in ("lp", "lpstat"):
        fake = tmp_path / tool
        fake.write_text("#!/bin/sh\nexec /bin/sleep 10\n")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrintError, match=r"Printer 'PACK1' did not answer within 0\.3 s"):
        CupsTransport("PACK1", server="print.example:631", timeout=0.3).send(
            DOCUMENT, title="x", content_type="application/pdf"
        )


def test_lpstat_output_is_read_into_queue_states() -> None:
    text = (
        "printer LABEL1 now printing LABEL1-7.  enabled since Thu Nov 26 22:48:19 2026\n"
        "printer PACK1 disabled since Thu Nov 26 22:54:17 2026 -\n"
        "\tMedia empty or jammed\n"
        "printer PDF is idle.  enabled since Thu Nov 26 22:48:16 2026\n"
        "LABEL1 accepting requests since Thu Nov 26 22:48:16 2026\n"
        "PACK1 not accepting requests since Thu Nov 26 22:54:17 2026 -\n"
        "\tRejecting Jobs\n"
        "PDF accepting requests since Thu Nov 26 22:48:16 2026\n"
        "device for LABEL1: socket://10.0.0.7:9100\n"
        "device for PACK1: ipp://10.0.0.8/ipp/print\n"
        "device for PDF: cups-pdf:/\n"
    )
    assert _parse_lpstat(text) == [
        QueueInfo("LABEL1", "printing", True, "socket://10.0.0.7:9100"),
        QueueInfo("PACK1", "stopped", False, "ipp://10.0.0.8/ipp/print", "Media empty or jammed"),
        QueueInfo("PDF", "idle", True, "cups-pdf:/"),
    ]
