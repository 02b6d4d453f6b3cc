"""Pack-bench video: one film per order in the video folder, its index beside it, the order's
timeline entry that opens it, and old days deleted."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.scanning.recording import BenchRecorder, prune, recordings_of, timeline_entries
from bench.camera_video import background

ORDER = uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8057")


def frames(seconds: float, fps: float = 30, start: float = 0.0) -> list[tuple[object, float]]:
    base = cv2.cvtColor(background(1280, 720), cv2.COLOR_GRAY2BGR)
    out = []
    for i in range(round(seconds * fps)):
        picture = base.copy()
        cv2.putText(picture, str(i), (100, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, (0, 0, 255), 8)
        out.append((picture, start + i / fps))
    return out


@pytest.fixture
def recorder(tmp_path: Path) -> BenchRecorder:
    r = BenchRecorder(tmp_path / "videos", keep_days=30, station="PACK-01")
    yield r  # type: ignore[misc]
    r.close()


def _film(
    recorder: BenchRecorder,
    number: str,
    seconds: float,
    order: uuid.UUID = ORDER,
    pace: float = 0.002,
) -> None:
    recorder.start(order, number)
    for picture, at in frames(seconds):
        recorder.offer(picture, at)  # type: ignore[arg-type]
        time.sleep(pace)


def test_an_order_is_filmed_into_one_file_that_plays_at_the_real_speed(
    recorder: BenchRecorder,
) -> None:
    _film(recorder, "SO-1042", 2.0, pace=1 / 30)  # as a camera delivers them
    film = recorder.stop()
    assert film is not None
    assert (film.order_id, film.order_number, film.station) == (ORDER, "SO-1042", "PACK-01")
    assert film.video.is_file() and film.video.suffix == ".mp4"
    assert film.video.name.startswith("SO-1042_")
    assert film.video.parent.name == film.started_at.astimezone().strftime("%Y-%m-%d")
    assert recorder.dropped == 0  # the writer keeps up with a camera

    played = cv2.VideoCapture(str(film.video))
    assert played.get(cv2.CAP_PROP_FPS) == pytest.approx(15)
    count = 0
    while played.read()[0]:
        count += 1
    played.release()
    # 2 s of bench at 15 frames a second, whatever rate the camera delivered
    assert count == film.frames == 30
    index = json.loads(film.video.with_suffix(".json").read_text(encoding="utf-8"))
    assert index["order_number"] == "SO-1042"
    assert index["ended_at"] is not None


def test_the_timeline_lists_the_orders_films_to_open(recorder: BenchRecorder) -> None:
    _film(recorder, "SO-1042", 0.5)
    first = recorder.stop()
    other = uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8058")
    _film(recorder, "SO-1043", 0.5, order=other)
    recorder.stop()

    entries = timeline_entries(recorder.folder, ORDER, "SO-1042")
    assert first is not None
    assert [(e.what, e.who, e.video) for e in entries] == [
        ("bench video", "PACK-01", str(first.video))
    ]
    assert "open it to watch" in entries[0].detail
    assert timeline_entries(recorder.folder, uuid.uuid4(), "SO-1042") == []
    assert timeline_entries(recorder.folder / "none-yet", ORDER, "SO-1042") == []


def test_opening_the_next_order_finishes_the_film_of_the_one_before(
    recorder: BenchRecorder,
) -> None:
    _film(recorder, "SO-1", 0.4)
    _film(recorder, "SO-2", 0.4, order=uuid.uuid4())
    recorder.stop()
    (first,) = recordings_of(recorder.folder, ORDER, "SO-1")
    assert first.ended_at is not None and first.frames >= 5


def test_an_order_number_with_a_slash_is_a_safe_file_name(recorder: BenchRecorder) -> None:
    _film(recorder, "RMA/2024/07", 0.3)
    film = recorder.stop()
    assert film is not None
    assert film.video.parent.parent == recorder.folder
    assert film.video.name.startswith("RMA_2024_07_")
    assert recordings_of(recorder.folder, ORDER, "RMA/2024/07") == [film]


def test_an_order_the_camera_saw_nothing_of_leaves_no_film(recorder: BenchRecorder) -> None:
    recorder.start(ORDER, "SO-9")
    assert recorder.stop() is None
    assert list(recorder.folder.rglob("*.json")) == []
    assert list(recorder.folder.rglob("*.mp4")) == []


def test_a_camera_silent_for_minutes_leaves_a_jump_not_minutes_of_frozen_picture(
    recorder: BenchRecorder,
) -> None:
    recorder.start(ORDER, "SO-7")
    picture = frames(0.1)[0][0]
    recorder.offer(picture, 0.0)  # type: ignore[arg-type]
    recorder.offer(picture, 300.0)  # type: ignore[arg-type]
    film = recorder.stop()
    assert film is not None and film.frames == 2


def test_days_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    today = date(2026, 3, 14)
    for days_ago in (45, 31, 30, 1):
        day = tmp_path / (today - timedelta(days=days_ago)).isoformat()
        day.mkdir()
        (day / "SO-1_120000.mp4").write_bytes(b"film")
        (day / "SO-1_120000.json").write_text("{}", encoding="utf-8")
    (tmp_path / "notes").mkdir()  # not a day of films: left alone
    assert prune(tmp_path, keep_days=30, today=today) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-02-12", "2026-03-13", "notes"]


def test_the_recorder_prunes_when_it_starts(tmp_path: Path) -> None:
    old = tmp_path / (datetime.now(UTC).date() - timedelta(days=400)).isoformat()
    old.mkdir(parents=True)
    (old / "SO-1_120000.mp4").write_bytes(b"film")
    BenchRecorder(tmp_path, keep_days=30).close()
    assert not old.exists()


def test_a_folder_that_cannot_be_written_is_reported_with_words(tmp_path: Path) -> None:
    blocker = tmp_path / "videos"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    recorder = BenchRecorder(blocker, keep_days=30)
    said: list[str] = []
    recorder.on_error = said.append
    recorder.start(ORDER, "SO-1042")
    recorder.offer(np.zeros((720, 1280, 3), np.uint8), 0.0)
    assert recorder.stop() is None
    recorder.close()
    assert len(said) == 1
    assert said[0].startswith("The bench camera film could not be written")
    assert f"check that {blocker} can be written to and has room" in said[0]
