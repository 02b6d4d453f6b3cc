"""How a finished document reaches a printer: a CUPS queue, a raw TCP socket, or a folder.

Every transport has one method, ``send(document, *, title, content_type) -> str``, returning a
reference to the job (a CUPS job id, a file path, ...) and raising
:class:`~app.domain.errors.PrintError` with words a person at the bench can act on. Sending
blocks (a network or a subprocess), so callers run it on a worker thread, never the GUI thread.

CUPS is driven through its command-line clients (``lp``, ``lpstat``): they are installed with
CUPS everywhere, need no compiled binding, and honour the same server settings as the rest of
the system.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal, Protocol

from app.domain.errors import PrintError

log = logging.getLogger(__name__)

#: Content types that go to CUPS untouched (``-o raw``): printer languages CUPS cannot filter.
RAW_CONTENT_TYPES = frozenset(
    {
        "application/vnd.cups-raw",
        "application/octet-stream",
        "application/x-zpl",
        "application/vnd.zebra-zpl",
        "application/x-escpos",
    }
)

_KEPT = "the job is kept and will be retried"


class Transport(Protocol):
    """Carries one finished document to a printer (or somewhere that stands for one)."""

    def send(self, document: bytes, *, title: str, content_type: str) -> str:
        """Send ``document``; return a job reference or raise PrintError."""
        ...


# ----------------------------------------------------------------------------- CUPS

QueueState = Literal["idle", "printing", "stopped", "unknown"]


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """One CUPS queue as the status bar and the printer setup screen show it."""

    name: str
    state: QueueState
    accepting: bool
    device_uri: str = ""
    reason: str = ""  # what CUPS says about a stopped queue, when it says anything


class CupsTransport:
    """Prints through a CUPS queue with ``lp``; PDFs go as they are, printer languages raw."""

    def __init__(
        self,
        queue: str,
        server: str | None = None,
        *,
        timeout: float = 15.0,
        check_state: bool = True,
    ) -> None:
        self.queue = queue
        self.server = server or None
        self.timeout = timeout
        #: Refuse to hand a job to a stopped queue: CUPS would hold it where nobody looks,
        #: while our own queue shows it as waiting and retries it when the printer is back.
        self.check_state = check_state

    def send(self, document: bytes, *, title: str, content_type: str) -> str:
        if self.check_state:
            info = queue_state(self.queue, self.server, timeout=self.timeout)
            at = f" on print server {self.server}" if self.server else ""
            if info.state == "stopped":
                why = f" ({info.reason})" if info.reason else ""
                raise PrintError(
                    f"Printer '{self.queue}'{at} is stopped{why} — check it has paper and is "
                    f"on, then resume it in the printer settings; {_KEPT}"
                )
            if not info.accepting:
                raise PrintError(
                    f"Printer '{self.queue}'{at} is not accepting jobs — ask a supervisor to "
                    f"enable it in the printer settings; {_KEPT}"
                )
        args = ["lp", *_server_args(self.server), "-d", self.queue, "-t", _one_line(title)]
        if content_type in RAW_CONTENT_TYPES:
            args += ["-o", "raw"]
        result = _run(args, self.queue, self.server, self.timeout, stdin=document)
        if result.returncode != 0:
            raise PrintError(_lp_failure(self.queue, self.server, result.stderr))
        match = re.search(r"request id is (\S+)", result.stdout)
        if match is None:
            raise PrintError(
                f"Printer '{self.queue}' took the job but CUPS gave no job number "
                f"({result.stdout.strip() or 'no answer'}) — check the printer's queue before "
                "printing it again"
            )
        job = match.group(1)
        log.info("sent %r (%d bytes, %s) to CUPS as %s", title, len(document), content_type, job)
        return job


def cups_queues(server: str | None = None, *, timeout: float = 5.0) -> list[QueueInfo]:
    """Every queue of the CUPS server (the default one when ``server`` is None)."""
    return _lpstat(server, None, timeout)


def queue_state(queue: str, server: str | None = None, *, timeout: float = 5.0) -> QueueInfo:
    """The state of one queue; PrintError when the server does not know it or is not there."""
    for info in _lpstat(server, queue, timeout):
        if info.name == queue:
            return info
    raise _no_such_queue(queue, server)


def _lpstat(server: str | None, queue: str | None, timeout: float) -> list[QueueInfo]:
    names = [queue] if queue else []
    args = ["lpstat", *_server_args(server)]
    for flag in ("-p", "-a", "-v"):
        args += [flag, *names]
    result = _run(args, queue, server, timeout, stdin=None)
    err = result.stderr.lower()
    if "scheduler is not running" in err or "unable to connect" in err:
        raise _server_down(server)
    if queue and "invalid destination" in err:
        # lpstat says this too when it cannot reach the server: tell the two apart.
        raise _server_down(server) if not _scheduler_up(server) else _no_such_queue(queue, server)
    if result.returncode != 0 and not result.stdout.strip():
        if "no destinations" in err:
            return []
        raise PrintError(
            f"Could not ask {f'print server {server}' if server else 'the print server'} about "
            f"its printers: {_cups_words(result.stderr)} — check that CUPS is running"
        )
    return _parse_lpstat(result.stdout)


def _scheduler_up(server: str | None) -> bool:
    probe = _run(["lpstat", *_server_args(server), "-r"], None, server, 5.0, stdin=None)
    return "scheduler is running" in probe.stdout.lower()


def _server_down(server: str | None) -> PrintError:
    return PrintError(
        f"The print server{' ' + server if server else ''} is not answering — check it is on "
        f"and connected; {_KEPT}"
    )


def _no_such_queue(queue: str, server: str | None) -> PrintError:
    where = f"print server {server}" if server else "this station's print server"
    return PrintError(
        f"There is no printer '{queue}' on {where} — check the printer name in the station "
        f"settings; {_KEPT}"
    )


_PRINTER = re.compile(r"^printer (\S+) (?:is )?(idle|now printing|disabled)", re.IGNORECASE)
_ACCEPTING = re.compile(r"^(\S+) (accepting|not accepting) requests", re.IGNORECASE)
_DEVICE = re.compile(r"^device for (\S+): (\S+)")


def _parse_lpstat(text: str) -> list[QueueInfo]:
    """Parse ``LC_ALL=C lpstat -p -a -v``; queues in the order lpstat lists them."""
    state: dict[str, QueueState] = {}
    reason: dict[str, str] = {}
    accepting: dict[str, bool] = {}
    device: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if m := _PRINTER.match(line):
            last = m.group(1)
            word = m.group(2).lower()
            state[last] = (
                "idle" if word == "idle" else "printing" if "printing" in word else ("stopped")
            )
        elif line.startswith(("\t", " ")) and last is not None:
            text_line = line.strip()
            if text_line and state.get(last) == "stopped" and not reason.get(last):
                reason[last] = text_line
        elif m := _ACCEPTING.match(line):
            last = None
            accepting[m.group(1)] = m.group(2).lower() == "accepting"
        elif m := _DEVICE.match(line):
            last = None
            device[m.group(1)] = m.group(2)
        else:
            last = None
    names = list(dict.fromkeys([*state, *accepting, *device]))
    return [
        QueueInfo(
            name,
            state.get(name, "unknown"),
            accepting.get(name, False),
            device.get(name, ""),
            reason.get(name, ""),
        )
        for name in names
    ]


def _server_args(server: str | None) -> list[str]:
    return ["-h", server] if server else []


def _run(
    args: list[str],
    queue: str | None,
    server: str | None,
    timeout: float,
    *,
    stdin: bytes | None,
) -> subprocess.CompletedProcess[str]:
    """Run a CUPS client in the C locale (its messages are parsed) with a timeout."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        done = subprocess.run(
            args,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except FileNotFoundError as exc:
        raise PrintError(
            f"The CUPS command '{args[0]}' is not installed on this station — install the "
            f"cups-client package; {_KEPT}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        target = f"Printer '{queue}'" if queue else "The print server"
        raise PrintError(
            f"{target} did not answer within {timeout:g} s"
            f"{f' (print server {server})' if server else ''} — check the print server is "
            f"running and reachable; {_KEPT}"
        ) from exc
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def _lp_failure(queue: str, server: str | None, stderr: str) -> str:
    """Turn lp's complaint into what happened and what to do."""
    low = stderr.lower()
    if "scheduler is not running" in low or "unable to connect" in low:
        return _server_down(server).message
    if "does not exist" in low or ("not found" in low and "destination" in low):
        # lp says this too when it cannot reach the server: tell the two apart.
        if not _scheduler_up(server):
            return _server_down(server).message
        return _no_such_queue(queue, server).message
    at = f" on print server {server}" if server else ""
    if "not accepting" in low:
        return (
            f"Printer '{queue}'{at} is not accepting jobs — ask a supervisor to enable it in "
            f"the printer settings; {_KEPT}"
        )
    return f"Printer '{queue}'{at} refused the job: {_cups_words(stderr)}; {_KEPT}"


def _cups_words(stderr: str) -> str:
    text = " ".join(stderr.split())
    return re.sub(r"^(lp|lpstat): ", "", text) or "no reason given"


def _one_line(title: str) -> str:
    return " ".join(title.split()) or "Waystation document"


# ----------------------------------------------------------------------------- folder


class FolderTransport:
    """Writes each document as a file into ``folder``: for testing, archiving, or a hot folder
    another program prints from. Files appear complete or not at all (temp file + rename)."""

    _EXTENSIONS: ClassVar[dict[str, str]] = {
        "application/pdf": ".pdf",
        "application/x-zpl": ".zpl",
        "application/vnd.zebra-zpl": ".zpl",
        "application/x-escpos": ".bin",
        "text/plain": ".txt",
    }

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def send(self, document: bytes, *, title: str, content_type: str) -> str:
        ext = self._EXTENSIONS.get(content_type, ".bin")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = self.folder / f"{stamp}-{safe_filename(title)}{ext}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(document)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise PrintError(
                f"Could not write the document to the folder {self.folder} "
                f"({exc.strerror or exc}) — check the folder exists and there is space; {_KEPT}"
            ) from exc
        return str(target)


def safe_filename(title: str, max_length: int = 80) -> str:
    """``title`` as a file name on any system: letters, digits, ``-``, ``_`` and ``.`` only."""
    name = re.sub(r"[^\w.-]+", "_", title).strip("._")
    return name[:max_length] or "document"


# ----------------------------------------------------------------------------- raw TCP


CLOSE_WAIT_S = 3.0


def _await_close(conn: socket.socket, timeout: float) -> None:
    """Wait for the printer to close its side: it has then read every byte. A reset means it
    did not take the whole job. A printer that keeps the connection open until the sender
    closes is taken at its word once ``timeout`` passes (TCP delivered the bytes)."""
    conn.settimeout(timeout)
    try:
        while conn.recv(4096):
            pass  # status bytes some printers send back; the job is done at end-of-stream
    except TimeoutError:
        log.debug("printer kept the connection open; taking the job as delivered")


class RawSocketTransport:
    """Sends bytes to a printer's raw TCP port (JetDirect, usually 9100): ZPL, ESC/POS."""

    def __init__(self, host: str, port: int = 9100, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    def send(self, document: bytes, *, title: str, content_type: str) -> str:
        where = f"Printer {self.host}:{self.port}"
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as conn:
                conn.sendall(document)
                conn.shutdown(socket.SHUT_WR)  # tells the printer the job is complete
                _await_close(conn, min(self.timeout, CLOSE_WAIT_S))
        except ConnectionResetError as exc:
            raise PrintError(
                f"{where} dropped the connection before taking the whole job — check the "
                f"printer (paper, errors); {_KEPT}"
            ) from exc
        except ConnectionRefusedError as exc:
            raise PrintError(
                f"{where} refused the connection — check it is on, connected, and that the "
                f"port is right; {_KEPT}"
            ) from exc
        except TimeoutError as exc:
            raise PrintError(
                f"{where} is not answering — check it is on and connected; {_KEPT}"
            ) from exc
        except socket.gaierror as exc:
            raise PrintError(
                f"The printer address '{self.host}' is not known — check it in the station "
                f"settings; {_KEPT}"
            ) from exc
        except OSError as exc:
            raise PrintError(
                f"{where} could not be reached ({exc.strerror or exc}) — check it is on and "
                f"connected; {_KEPT}"
            ) from exc
        log.info(
            "sent %r (%d bytes, %s) to %s:%s",
            title,
            len(document),
            content_type,
            self.host,
            self.port,
        )
        return f"{self.host}:{self.port}@{time.time():.3f}"


class SerialTransport:
    """A receipt or label printer on a serial port (or a USB printer in serial mode), through
    python-escpos's Serial printer (pyserial). Flow control by XON/XOFF-free 8N1, as most
    receipt printers come; hardware DSR/DTR is off because many USB-serial cables lack it."""

    def __init__(self, device: str, baudrate: int = 9600, timeout: float = 10.0) -> None:
        self.device = device
        self.baudrate = baudrate
        self.timeout = timeout

    def send(self, document: bytes, *, title: str, content_type: str) -> str:
        import serial

        from printing.receipt import _escpos

        _escpos()  # imports python-escpos the way that leaves no temp folder or log handler
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Serial

        printer = Serial(
            devfile=self.device, baudrate=self.baudrate, timeout=self.timeout, dsrdtr=False
        )
        try:
            printer.open()
            try:
                printer._raw(document)  # the document is ready-made bytes
            finally:
                printer.close()  # flushes: returns once every byte has left the port
        except serial.SerialTimeoutException as exc:
            raise PrintError(
                f"The printer on {self.device} stopped taking data (paper out, cover open?) — "
                f"check it; {_KEPT}"
            ) from exc
        except (DeviceNotFoundError, serial.SerialException, OSError) as exc:
            raise PrintError(
                f"The printer port {self.device} cannot be opened ({exc}) — check the cable "
                f"and the port in the station settings; {_KEPT}"
            ) from exc
        log.info("sent %r (%d bytes, %s) to %s", title, len(document), content_type, self.device)
        return f"{self.device}@{time.time():.3f}"


class UsbTransport:
    """A USB receipt printer, through python-escpos (pyusb + libusb)."""

    def __init__(self, vendor_id: int, product_id: int, timeout_ms: int = 10_000) -> None:
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.timeout_ms = timeout_ms

    def send(self, document: bytes, *, title: str, content_type: str) -> str:
        where = f"USB printer {self.vendor_id:04x}:{self.product_id:04x}"
        try:
            from printing.receipt import _escpos

            _escpos()  # imports python-escpos the way that leaves no temp folder or log handler
            from escpos.exceptions import DeviceNotFoundError, USBNotFoundError
            from escpos.printer import Usb

            printer = Usb(self.vendor_id, self.product_id, timeout=self.timeout_ms)
            printer.open()
            try:
                printer._raw(document)  # the bytes as they are: the document is ready-made
            finally:
                printer.close()
        except (DeviceNotFoundError, USBNotFoundError) as exc:
            raise PrintError(
                f"{where} is not connected (or this user may not use it) — plug it in and "
                f"check it is switched on; {_KEPT}"
            ) from exc
        except Exception as exc:  # pyusb raises its own errors, and none when no libusb
            raise PrintError(f"{where} could not be used ({exc}) — {_KEPT}") from exc
        log.info("sent %r (%d bytes, %s) to %s", title, len(document), content_type, where)
        return f"usb:{self.vendor_id:04x}:{self.product_id:04x}@{time.time():.3f}"
