"""Scanning with a camera: frames from OpenCV, decoded on a worker thread, each code counted once.

Two threads, plain Python (no Qt):

- the capture thread opens the source (a device index, a video file, or an RTSP/HTTP URL —
  opening a network camera can take seconds, so never on the GUI thread), reads frames as the
  camera delivers them and leaves the newest in a one-frame slot, replacing any frame the
  decoder has not taken yet (that frame is dropped, and counted);
- the decode worker takes the newest frame, decodes it (zxing-cpp and ZBar release the GIL, so
  the GUI thread keeps running), and hands the codes to a :class:`ScanTracker`, which decides
  which one, if any, is a new scan.

The GUI never waits on either: it reads :meth:`CameraScanner.preview` (a reference swap under
a lock) and receives scans through the ``on_scan`` callback, which runs on the worker thread
and must only hand the scan over (the ui puts it in a queue and signals its own thread).

A camera that cannot be opened or stops sending is reported through ``on_status`` and tried
again every few seconds; a video file that ends stops the scanner.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from app.domain.errors import CameraError, ConfigError
from app.scanning.decoders import Decoded, Decoder

if TYPE_CHECKING:
    from app.scanning.decoders import Frame

logger = logging.getLogger(__name__)

Accepts = Callable[[Decoded], bool]
RETRY_S = 2.0
NETWORK_TIMEOUT_MS = 5000


# --- sources ---------------------------------------------------------------------------------


class FrameSource(Protocol):
    """Where frames come from. ``open`` and ``read`` may block; only the capture thread calls
    them."""

    @property
    def live(self) -> bool:
        """A camera (tried again when lost), not a file that ends."""
        ...

    def describe(self) -> str: ...

    def open(self) -> float:
        """Open the source; return its nominal frames per second (0 when it does not say).
        Raises CameraError with words for the person at the station."""
        ...

    def read(self) -> Frame | None:
        """The next frame (BGR or grey); None at the end of a file. Raises CameraError when a
        camera stops sending."""
        ...

    def close(self) -> None: ...


class OpenCVSource:
    """A camera through OpenCV: ``"0"`` (device index), a video file, or an RTSP/HTTP URL.

    A video file plays at its own frame rate, as a camera would deliver it, unless
    ``realtime`` is False (then as fast as it decodes).
    """

    def __init__(
        self, source: str, *, width: int = 1280, height: int = 720, realtime: bool = True
    ) -> None:
        self.source = source.strip()
        if not self.source:
            msg = "No camera is set — put a device number, file or address in [camera] source."
            raise ConfigError(msg)
        self.width, self.height, self.realtime = width, height, realtime
        self._cap: Any = None
        self._fps = 0.0
        self._started = 0.0
        self._frames = 0

    @property
    def kind(self) -> str:
        if self.source.isdigit():
            return "device"
        if "://" in self.source:
            return "url"
        return "file"

    @property
    def live(self) -> bool:
        return self.kind != "file"

    def describe(self) -> str:
        if self.kind == "device":
            return f"camera {self.source}"
        if self.kind == "url":
            return f"network camera {_without_password(self.source)}"
        return f"video file {self.source}"

    def open(self) -> float:
        import cv2

        # A source that does not open is reported in our own words; OpenCV's warnings about
        # the backends it tried on the way would only repeat it on stderr.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        kind = self.kind
        if kind == "file" and not Path(self.source).is_file():
            msg = f"The {self.describe()} does not exist — check [camera] source."
            raise CameraError(msg)
        if kind == "device":
            cap = cv2.VideoCapture(int(self.source))
            if cap.isOpened():
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest picture, not a queue of old ones
        elif kind == "url":
            timeouts = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                NETWORK_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                NETWORK_TIMEOUT_MS,
            ]
            cap = cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, timeouts)
        else:
            cap = cv2.VideoCapture(self.source)
        if not cap.isOpened():
            cap.release()
            hint = {
                "device": "check it is plugged in and no other program is using it",
                "url": "check the address, the network and that the camera is on",
                "file": "check it is a video file OpenCV can play",
            }[kind]
            msg = f"The {self.describe()} could not be opened — {hint}."
            raise CameraError(msg)
        self._cap = cap
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if math.isfinite(fps) and 0 < fps < 1000 else 0.0
        self._started = time.monotonic()
        self._frames = 0
        return self._fps

    def read(self) -> Frame | None:
        if self._cap is None:
            raise CameraError(f"The {self.describe()} is not open.")
        ok, frame = self._cap.read()
        if not ok or frame is None:
            if not self.live:
                return None
            msg = (
                f"The {self.describe()} stopped sending pictures — check its cable or network; "
                "the station keeps trying."
            )
            raise CameraError(msg)
        if self.realtime and not self.live and self._fps:
            due = self._started + self._frames / self._fps
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._frames += 1
        result: Frame = frame
        return result

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def _without_password(url: str) -> str:
    """A URL fit for a message or a log: no user:password."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


# --- which codes are new scans ---------------------------------------------------------------


class ScanTracker:
    """Decides, frame by frame, which code (if any) is a new scan.

    - A code seen in consecutive frames counts once. It counts again only after it was missing
      from ``gone_frames`` decoded frames in a row (it left the picture), or when
      ``repeat_after_s`` (if not 0) has passed since it counted.
    - Several new codes in one frame: the one ``accepts`` says the workflow can use; among
      those (or, if none is, among all) the one nearest the centre of the picture. The others
      are taken as seen: they do not count a frame later just because they are still there.
    - A code that did not normalise (a misread, a wrong check digit) never counts.

    Pure and single-threaded: the decode worker owns it.
    """

    def __init__(self, *, gone_frames: int = 6, repeat_after_s: float = 3.0) -> None:
        self.gone_frames = gone_frames
        self.repeat_after_s = repeat_after_s
        self._frame = 0
        self._last_seen: dict[str, int] = {}
        self._since: dict[str, float] = {}  # counted (or passed over) at

    def update(
        self,
        found: list[Decoded],
        now: float,
        size: tuple[int, int],
        accepts: Accepts | None = None,
    ) -> Decoded | None:
        """The new scan among ``found`` (codes in this frame, ``size`` = width, height)."""
        self._frame += 1
        usable = {d.text: d for d in found if d.scan is not None}
        new = [d for key, d in usable.items() if self._is_new(key, now)]
        chosen = _choose(new, size, accepts)
        for key in usable:
            self._last_seen[key] = self._frame
            if any(d.text == key for d in new):
                self._since[key] = now
        self._forget()
        return chosen

    def _is_new(self, key: str, now: float) -> bool:
        last = self._last_seen.get(key)
        if last is None or self._frame - last - 1 >= self.gone_frames:
            return True
        since = self._since.get(key, now)
        return bool(self.repeat_after_s) and now - since >= self.repeat_after_s

    def _forget(self) -> None:
        gone = [k for k, f in self._last_seen.items() if self._frame - f > self.gone_frames]
        for key in gone:
            del self._last_seen[key]
            self._since.pop(key, None)


def _choose(new: list[Decoded], size: tuple[int, int], accepts: Accepts | None) -> Decoded | None:
    if not new:
        return None
    pool = new
    if accepts is not None and len(new) > 1:
        wanted = [d for d in new if _safely(accepts, d)]
        pool = wanted or new
    cx, cy = size[0] / 2, size[1] / 2
    return min(pool, key=lambda d: math.dist(d.centre, (cx, cy)))


def _safely(accepts: Accepts, decoded: Decoded) -> bool:
    try:
        return bool(accepts(decoded))
    except Exception:
        logger.exception("the workflow's code filter failed on %r", decoded.text)
        return False


# --- the scanner -----------------------------------------------------------------------------

CAMERA_NICENESS = 5  # a third of a normal thread's share when the machine is busy


def _yield_to_the_gui() -> None:
    """Run the calling thread at a lower priority than the station's GUI thread, where the
    system allows it per thread (Linux): on a busy machine the picture may fall behind, the
    screen must not."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere the call would set the whole process's priority, or fail
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CAMERA_NICENESS)
    except OSError as e:
        logger.debug("camera threads run at normal priority (%s)", e)


@dataclass(frozen=True, slots=True)
class CameraScan:
    """A code the camera counted as a scan."""

    decoded: Decoded
    frame: int  # the capture number of the frame it was read in
    captured_at: float  # time.monotonic() when that frame was captured


@dataclass(frozen=True, slots=True)
class Preview:
    """What the preview shows: the newest frame, and the codes of the newest decoded frame."""

    frame: Frame
    """The newest frame, shrunk to ``CameraScanner.preview_size`` when that is set."""
    seq: int
    found: tuple[Decoded, ...]
    """Codes found, their corners in the camera's full-size pixels."""
    found_seq: int
    last_scan: CameraScan | None
    scale: float = 1.0
    """``frame``'s pixels per pixel of the camera's picture."""


@dataclass(slots=True)
class CameraStats:
    captured: int = 0
    decoded: int = 0
    dropped: int = 0  # captured frames replaced before the decoder took them
    scans: int = 0
    decode_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2000))


class CameraScanner:
    """A camera source, its capture thread and its decode worker.

    ``on_scan(CameraScan)`` and ``on_status(state, message)`` run on the scanner's threads.
    States: ``opening``, ``running``, ``retrying`` (message says why), ``failed`` (the decoder
    cannot run; message says why), ``ended`` (a video file played to its end), ``stopped``.
    """

    def __init__(
        self,
        source: FrameSource,
        decoder: Decoder,
        on_scan: Callable[[CameraScan], None],
        *,
        on_status: Callable[[str, str], None] | None = None,
        gone_frames: int = 6,
        repeat_after_s: float = 3.0,
        retry_s: float = RETRY_S,
    ) -> None:
        self.source = source
        self.decoder = decoder
        self.on_scan = on_scan
        self.on_status = on_status or (lambda _state, _message: None)
        self.on_frame: Callable[[Frame, float], None] | None = None
        """Called on the capture thread with every frame (the bench recorder); must not block."""
        self.accepts: Accepts | None = None
        """Which code the active workflow can use; read on the worker thread at each frame."""
        self.preview_size: tuple[int, int] | None = None
        """Where the picture is shown (width, height): frames for the preview are shrunk to
        fit on the capture thread, so the GUI thread only draws them."""
        self.retry_s = retry_s
        self.stats = CameraStats()
        self.fps = 0.0
        self.state = "stopped"
        self.tracker = ScanTracker(gone_frames=gone_frames, repeat_after_s=repeat_after_s)
        self._cond = threading.Condition()
        self._slot: tuple[int, float, Frame] | None = None
        self._preview: Preview | None = None
        self._last_scan: CameraScan | None = None
        self._stop = threading.Event()
        self._ended = threading.Event()
        self._capture_done = False
        self._threads: list[threading.Thread] = []

    # --- control (any thread) ---------------------------------------------------------------

    def start(self) -> None:
        if self._threads:
            return
        self.state = "starting"
        self._stop.clear()
        self._ended.clear()
        self._slot, self._capture_done = None, False
        self._threads = [
            threading.Thread(target=self._capture, name="waystation-camera", daemon=True),
            threading.Thread(target=self._work, name="waystation-decode", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop both threads and close the source (waits at most ``timeout`` seconds)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout)
        self._threads = []
        if self.state not in ("ended", "failed"):
            self._status("stopped", "")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a video file to play to its end and its last frame to be decoded."""
        return self._ended.wait(timeout)

    def preview(self) -> Preview | None:
        return self._preview

    @property
    def threads(self) -> tuple[threading.Thread, ...]:
        """The capture thread and the decode worker, while running (for measuring)."""
        return tuple(self._threads)

    # --- capture thread ---------------------------------------------------------------------

    def _capture(self) -> None:
        _yield_to_the_gui()
        seq = 0
        try:
            while not self._stop.is_set():
                self._status("opening", self.source.describe())
                try:
                    self.fps = self.source.open()
                except CameraError as e:
                    self._retry(e)
                    continue
                self._status("running", self.source.describe())
                try:
                    while not self._stop.is_set():
                        frame = self.source.read()
                        if frame is None:
                            return  # the file ended
                        seq += 1
                        self._put(seq, time.monotonic(), frame)
                except CameraError as e:
                    self._retry(e)
                finally:
                    self.source.close()
        except Exception:
            logger.exception("the camera's capture thread failed")
            self._status("retrying", "The camera failed — see the station log.")
        finally:
            with self._cond:
                self._capture_done = True
                self._cond.notify_all()

    def _put(self, seq: int, at: float, frame: Frame) -> None:
        picture, scale = self._shrink(frame)
        with self._cond:
            if self._slot is not None:
                self.stats.dropped += 1
            self._slot = (seq, at, frame)
            self.stats.captured += 1
            previous = self._preview
            self._preview = Preview(
                picture,
                seq,
                previous.found if previous else (),
                previous.found_seq if previous else 0,
                self._last_scan,
                scale,
            )
            self._cond.notify()
        listener = self.on_frame
        if listener is not None:
            try:
                listener(frame, at)
            except Exception:
                logger.exception("a camera frame listener failed")

    def _shrink(self, frame: Frame) -> tuple[Frame, float]:
        size = self.preview_size
        if size is None:
            return frame, 1.0
        height, width = frame.shape[:2]
        scale = min(size[0] / width, size[1] / height)
        if scale >= 1 or scale <= 0:
            return frame, 1.0
        import cv2

        wanted = (max(1, round(width * scale)), max(1, round(height * scale)))
        return cast("Frame", cv2.resize(frame, wanted, interpolation=cv2.INTER_AREA)), scale

    def _retry(self, error: CameraError) -> None:
        logger.warning("%s", error.message)
        if not self.source.live:
            self._status("failed", error.message)
            self._stop.set()
            return
        self._status("retrying", error.message)
        self._stop.wait(self.retry_s)

    # --- decode worker ----------------------------------------------------------------------

    def _work(self) -> None:
        _yield_to_the_gui()
        try:
            self.decoder.warm()
            while True:
                with self._cond:
                    while self._slot is None and not self._stop.is_set():
                        if self._capture_done:
                            break
                        self._cond.wait()
                    taken, self._slot = self._slot, None
                    finished = taken is None and (self._capture_done or self._stop.is_set())
                if finished:
                    break
                if taken is not None:
                    self._decode(*taken)
        except ConfigError as e:  # the decoder's library is missing: retrying will not help
            logger.error("%s", e.message)
            self._status("failed", e.message)
            self._stop.set()
        except Exception:
            logger.exception("the camera's decode worker failed")
            self._status("failed", "Camera decoding failed — see the station log.")
            self._stop.set()
        finally:
            if not self._stop.is_set():
                self._status("ended", self.source.describe())
            self._ended.set()

    def _decode(self, seq: int, at: float, frame: Frame) -> None:
        start = time.perf_counter()
        found = self.decoder.decode(frame)
        took = (time.perf_counter() - start) * 1000
        stats = self.stats
        stats.decoded += 1
        stats.decode_ms.append(took)
        height, width = frame.shape[:2]
        chosen = self.tracker.update(found, time.monotonic(), (width, height), self.accepts)
        scan = None
        if chosen is not None:
            scan = CameraScan(chosen, seq, at)
            self._last_scan = scan
            stats.scans += 1
        with self._cond:
            current = self._preview
            if current is not None:
                self._preview = Preview(
                    current.frame, current.seq, tuple(found), seq, self._last_scan, current.scale
                )
        if scan is not None:
            self.on_scan(scan)

    def _status(self, state: str, message: str) -> None:
        if self.state == "failed" and state in ("opening", "running", "retrying"):
            return  # the other thread has not seen the failure yet: it stands
        self.state = state
        try:
            self.on_status(state, message)
        except Exception:
            logger.exception("the camera status listener failed")
