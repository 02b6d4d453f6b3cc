"""Pack-bench video: the bench camera filmed while each order is packed, one file per order.

Evidence for the day a customer says an item was missing. The files live in the station's
video folder (``[camera] record_folder``, by default ``<data dir>/videos``), one folder per
day::

    videos/2026-03-14/SO-1042_093015.mp4     the film (MPEG-4, plays in any player)
    videos/2026-03-14/SO-1042_093015.json    which order, station, start and end, frames

The JSON file next to each film is the index: the order's timeline lists an order's films by
reading them (no database table — the films are this station's own files, and deleting a
day's folder removes its index with it). Days older than ``keep_days`` are deleted when a
recording starts and when the station starts.

Frames arrive from the camera's capture thread (:meth:`BenchRecorder.offer`, never blocking:
when the writer falls behind, frames are dropped and counted) and are written on the
recorder's own thread at a steady rate, each frame held until the next one is due, so the
film plays at the speed things happened.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.services.views import TimelineEntry

if TYPE_CHECKING:
    from app.scanning.decoders import Frame

logger = logging.getLogger(__name__)

FPS = 15.0
MAX_WIDTH = 1280
MAX_FILL_S = 2.0  # a camera silent for longer leaves a jump in the film, not a frozen picture
_DAY = "%Y-%m-%d"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Recording:
    order_id: uuid.UUID
    order_number: str
    station: str
    started_at: datetime
    ended_at: datetime | None  # None: the station stopped before the film was finished
    video: Path
    frames: int

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() if self.ended_at else 0.0


def _now() -> datetime:
    return datetime.now(UTC)


def _safe(number: str) -> str:
    return _UNSAFE.sub("_", number).strip("._") or "order"


def recordings_of(folder: Path, order_id: uuid.UUID, order_number: str) -> list[Recording]:
    """The films of one order, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for index in folder.glob(f"*/{_safe(order_number)}_*.json"):
        recording = _read_index(index)
        if recording is not None and recording.order_id == order_id:
            found.append(recording)
    return sorted(found, key=lambda r: r.started_at)


def timeline_entries(folder: Path, order_id: uuid.UUID, order_number: str) -> list[TimelineEntry]:
    """The order's films as timeline entries; ``video`` is the file to open."""
    entries = []
    for r in recordings_of(folder, order_id, order_number):
        if r.ended_at is None:
            detail = "film of the packing (not finished: the station stopped while filming)"
        else:
            minutes, seconds = divmod(round(r.seconds), 60)
            detail = f"film of the packing, {minutes}:{seconds:02d} — open it to watch"
        entries.append(
            TimelineEntry(
                at=r.started_at,
                what="bench video",
                who=r.station,
                detail=detail,
                video=str(r.video),
            )
        )
    return entries


def _read_index(path: Path) -> Recording | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ended = data.get("ended_at")
        return Recording(
            order_id=uuid.UUID(data["order_id"]),
            order_number=str(data["order_number"]),
            station=str(data.get("station", "")),
            started_at=datetime.fromisoformat(data["started_at"]),
            ended_at=datetime.fromisoformat(ended) if ended else None,
            video=path.with_name(str(data["video"])),
            frames=int(data.get("frames", 0)),
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        logger.warning("the film index %s cannot be read (%s); skipped", path, e)
        return None


def prune(folder: Path, keep_days: int, today: date | None = None) -> int:
    """Delete the day folders older than ``keep_days``; returns how many films went."""
    if not folder.is_dir():
        return 0
    oldest = (today or date.today()) - timedelta(days=keep_days)  # day folders are local days
    removed = 0
    for day in folder.iterdir():
        try:
            when = datetime.strptime(day.name, _DAY).date()
        except ValueError:
            continue  # not one of ours
        if day.is_dir() and when < oldest:
            removed += sum(1 for _ in day.glob("*.mp4"))
            shutil.rmtree(day, ignore_errors=True)
            logger.info("deleted the bench films of %s (kept %d days)", day.name, keep_days)
    return removed


class BenchRecorder:
    """Films one order at a time. ``start``/``stop``/``close`` from any thread; ``offer`` from
    the camera's capture thread. The writing happens on the recorder's own thread."""

    def __init__(
        self,
        folder: Path,
        *,
        keep_days: int,
        station: str = "",
        fps: float = FPS,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.folder = folder
        self.keep_days = keep_days
        self.station = station
        self.fps = fps
        self.dropped = 0
        self.on_error: Callable[[str], None] = lambda _message: None
        self._clock = clock
        self._recording = False
        # Unbounded, so start and stop never wait; frames are limited by count instead.
        self._jobs: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._frames_waiting = 0
        self._count_lock = threading.Lock()
        self._max_waiting = int(fps * 2) + 8
        self._thread = threading.Thread(target=self._run, name="waystation-recorder", daemon=True)
        self._thread.start()
        self._put(("prune", None))

    @property
    def recording(self) -> bool:
        return self._recording

    def start(self, order_id: uuid.UUID, order_number: str) -> None:
        """Film ``order_number`` from now on (finishing the film of any order before it)."""
        self._recording = True
        self._put(("start", (order_id, order_number, self._clock())))

    def offer(self, frame: Frame, at: float) -> None:
        """A camera frame captured at ``at`` (time.monotonic()); dropped when nothing is
        being filmed or the writer is behind."""
        if not self._recording:
            return
        with self._count_lock:
            if self._frames_waiting >= self._max_waiting:
                self.dropped += 1
                return
            self._frames_waiting += 1
        self._jobs.put(("frame", (frame, at)))

    def stop(self, timeout: float = 10.0, *, wait: bool = True) -> Recording | None:
        """Finish the current film; returns it once it is written (None if nothing was, or
        without ``wait``: the GUI thread asks and goes on)."""
        if not self._recording:
            return None
        self._recording = False
        done: queue.Queue[Recording | None] = queue.Queue()
        self._put(("stop", done))
        if not wait:
            return None
        try:
            return done.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.stop()
        self._put(("close", None))
        self._thread.join(10)

    def _put(self, job: tuple[str, Any]) -> None:
        self._jobs.put(job)

    # --- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        film: _Film | None = None
        while True:
            kind, arg = self._jobs.get()
            try:
                if kind == "frame":
                    with self._count_lock:
                        self._frames_waiting -= 1
                    if film is not None:
                        film.add(*arg)
                elif kind == "start":
                    if film is not None:
                        film.finish(self._clock())
                    prune(self.folder, self.keep_days)
                    film = _Film(self, *arg)
                elif kind == "stop":
                    arg.put(film.finish(self._clock()) if film is not None else None)
                    film = None
                elif kind == "prune":
                    prune(self.folder, self.keep_days)
                elif kind == "close":
                    return
            except Exception as e:
                logger.exception("bench film: %s failed", kind)
                self.on_error(
                    f"The bench camera film could not be written ({e}) — check that "
                    f"{self.folder} can be written to and has room."
                )
                film = None
                if kind == "stop":
                    arg.put(None)


class _Film:
    """One order's film, written by the recorder thread only."""

    def __init__(
        self, recorder: BenchRecorder, order_id: uuid.UUID, number: str, started: datetime
    ) -> None:
        self.recorder = recorder
        day = recorder.folder / started.astimezone().strftime(_DAY)
        day.mkdir(parents=True, exist_ok=True)
        stem = f"{_safe(number)}_{started.astimezone().strftime('%H%M%S')}"
        self.video = day / f"{stem}.mp4"
        self.index = day / f"{stem}.json"
        self.meta = {
            "order_id": str(order_id),
            "order_number": number,
            "station": recorder.station,
            "started_at": started.isoformat(),
            "ended_at": None,
            "video": self.video.name,
            "frames": 0,
        }
        self._writer: Any = None
        self._size: tuple[int, int] = (0, 0)
        self._first = 0.0
        self._slots = 0
        self._written = 0
        self._save()

    def add(self, frame: Frame, at: float) -> None:
        import cv2

        if self._writer is None:
            self._open(frame, at)
        picture: Any = frame
        if picture.ndim == 2:
            picture = cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)
        if (picture.shape[1], picture.shape[0]) != self._size:
            picture = cv2.resize(picture, self._size, interpolation=cv2.INTER_AREA)
        fps = self.recorder.fps
        due = int((at - self._first) * fps) + 1  # time slots of the film filled by now
        if due - self._slots > MAX_FILL_S * fps:
            self._slots = due - 1  # a long silence: jump rather than freeze
        while self._slots < due:
            self._writer.write(picture)
            self._slots += 1
            self._written += 1

    def _open(self, frame: Frame, at: float) -> None:
        import cv2

        height, width = frame.shape[:2]
        if width > MAX_WIDTH:
            height, width = round(height * MAX_WIDTH / width), MAX_WIDTH
        self._size = (width - width % 2, height - height % 2)
        fourcc = cv2.VideoWriter.fourcc(*"mp4v")
        self._writer = cv2.VideoWriter(str(self.video), fourcc, self.recorder.fps, self._size)
        if not self._writer.isOpened():
            msg = f"the video writer could not open {self.video}"
            raise OSError(msg)
        self._first = at

    def finish(self, ended: datetime) -> Recording | None:
        if self._writer is None:  # the camera sent nothing while the order was open
            self.index.unlink(missing_ok=True)
            return None
        self._writer.release()
        self.meta["ended_at"] = ended.isoformat()
        self.meta["frames"] = self._written
        self._save()
        return _read_index(self.index)

    def _save(self) -> None:
        tmp = self.index.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.meta, indent=1), encoding="utf-8")
        tmp.replace(self.index)
