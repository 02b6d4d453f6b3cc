"""The camera pipeline end to end: real video (made from the real barcode photos, with motion
and blur) played through OpenCV capture, the decode worker and the scan tracker, as a camera
would deliver it; and a network camera over HTTP on this machine."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.scanning.camera import CameraScan, CameraScanner, OpenCVSource
from app.scanning.decoders import make_decoder
from bench.camera_video import Shot, make_video
from bench.photos import Photo, comparable, grey, load_photos
from tests.camera_device import IpCamera

PHOTOS = load_photos()


def photo(symbology: str, start: str) -> Photo:
    return next(p for p in PHOTOS if p.symbology == symbology and p.expected.startswith(start))


EAN13 = photo("ean13", "4000539017100")
QR = photo("qrcode", "MEBKM")
GS1_DM = photo("datamatrix", "0108903819987659")
UPCA = photo("upca", "027011006951")
CODE128 = photo("code128", "CNK8181G2C")
DATABAR_EXP = photo("gs1_databar_expanded", "(01)90012345678908(3102)")
# The UPC-A passes twice, leaving the picture in between: two scans of it.
SEQUENCE = [EAN13, QR, GS1_DM, UPCA, UPCA, CODE128, DATABAR_EXP]
TIMING = {"move_s": 0.25, "hold_s": 0.5, "gap_s": 0.5}


class Run:
    def __init__(self, source: OpenCVSource, backend: str, **kwargs: float) -> None:
        self.scans: list[CameraScan] = []
        self.states: list[tuple[str, str]] = []
        self.scanner = CameraScanner(
            source,
            make_decoder(backend),
            self.scans.append,
            on_status=lambda state, message: self.states.append((state, message)),
            gone_frames=int(kwargs.get("gone_frames", 2)),
            repeat_after_s=kwargs.get("repeat_after_s", 0.0),
            retry_s=kwargs.get("retry_s", 2.0),
        )

    def play(self, timeout: float = 60) -> float:
        start = time.monotonic()
        self.scanner.start()
        try:
            assert self.scanner.wait(timeout), "the video did not play to its end"
        finally:
            self.scanner.stop()
        return time.monotonic() - start


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Shot]]:
    path = tmp_path_factory.mktemp("camera") / "bench.mp4"
    return path, make_video(path, [grey(p) for p in SEQUENCE], **TIMING)


def assert_scans_match(
    scans: list[CameraScan], shots: list[Shot], photos: list[Photo], fps: float = 30
) -> None:
    got = [s.decoded.text for s in scans]
    assert len(got) == len(shots), f"{len(got)} scans for {len(shots)} codes: {got}"
    for text, shot in zip(got, shots, strict=True):
        photo = photos[shot.index]
        assert comparable(photo.symbology, text) == comparable(photo.symbology, photo.expected)
    move = round(TIMING["move_s"] * fps)
    for scan, shot in zip(scans, shots, strict=True):
        # read while the code was in the picture: arriving, held, or leaving
        assert shot.enters - move <= scan.frame < shot.leaves, (scan, shot)


@pytest.mark.slow
def test_codes_passing_the_camera_are_scanned_once_each_in_order(
    footage: tuple[Path, list[Shot]],
) -> None:
    path, shots = footage
    run = Run(OpenCVSource(str(path)), "zxing")
    took = run.play()
    assert_scans_match(run.scans, shots, SEQUENCE)
    frames = shots[-1].leaves + round(TIMING["gap_s"] * 30)
    assert took >= 0.9 * frames / 30, "a file plays at its own frame rate, like a camera"
    assert [s for s, _ in run.states] == ["opening", "running", "ended"]
    stats = run.scanner.stats
    assert stats.captured == frames
    assert stats.decoded + stats.dropped == stats.captured  # every frame decoded or dropped
    # Each scan means what the same code means from a scanner.
    gs1 = run.scans[2].decoded
    assert (gs1.aim_id, gs1.scan and gs1.scan.gtin) == ("]d2", "08903819987659")
    upc = run.scans[3].decoded
    assert upc.scan is not None and upc.scan.gtin == "00027011006951"


@pytest.mark.slow
def test_zbar_in_the_same_pipeline(tmp_path: Path) -> None:
    sequence = [EAN13, QR, UPCA, DATABAR_EXP]  # no DataMatrix: ZBar cannot read it
    path = tmp_path / "zbar.mp4"
    shots = make_video(path, [grey(p) for p in sequence], **TIMING)
    run = Run(OpenCVSource(str(path)), "zbar")
    run.play()
    assert_scans_match(run.scans, shots, sequence)
    assert run.scans[3].decoded.aim_id == "]e0"


def test_a_decoder_slower_than_the_camera_drops_frames_and_never_queues_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fast.mp4"
    make_video(path, [grey(QR), grey(EAN13)], size=(1920, 1080), move_s=0.2, hold_s=0.3, gap_s=0.2)
    # Played as fast as it decodes: far faster than ZBar reads 1080p frames.
    run = Run(OpenCVSource(str(path), realtime=False), "zbar")
    run.play()
    stats = run.scanner.stats
    assert stats.dropped > stats.decoded / 2
    assert stats.decoded + stats.dropped == stats.captured


def test_a_missing_video_file_says_so_and_stops(tmp_path: Path) -> None:
    run = Run(OpenCVSource(str(tmp_path / "nope.mp4")), "zxing")
    run.play(timeout=10)
    assert run.states[-1][0] == "failed"
    assert "does not exist — check [camera] source" in run.states[-1][1]
    assert run.scans == []


# --- a network camera: MJPEG over HTTP on this machine -------------------------------------


@pytest.fixture
def ip_camera() -> Iterator[IpCamera]:
    camera = IpCamera()
    camera.hold((grey(EAN13), (300, 100)))
    yield camera
    camera.unplug()


def _wait_for(condition: object, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_a_network_camera_is_read_and_tried_again_when_it_goes_away(
    ip_camera: IpCamera,
) -> None:
    run = Run(OpenCVSource(ip_camera.url), "zxing", retry_s=0.5)
    run.scanner.start()
    try:
        assert _wait_for(lambda: run.scans), f"nothing read from the stream: {run.states}"
        assert run.scans[0].decoded.text == EAN13.expected
        assert len(run.scans) == 1  # the same code in every frame is one scan
        preview = run.scanner.preview()
        assert preview is not None and preview.frame.shape[:2] == (720, 1280)

        ip_camera.unplug()
        assert _wait_for(lambda: run.states[-1][0] in ("retrying", "opening")), run.states
        assert _wait_for(lambda: [m for s, m in run.states if s == "retrying"])
        retrying = [m for s, m in run.states if s == "retrying"]
        assert "network camera http://127.0.0.1" in retrying[0]
        assert "check" in retrying[0]
    finally:
        started = time.monotonic()
        run.scanner.stop()
        assert time.monotonic() - started < 6, "stopping waits at most for one network timeout"
    assert run.states[-1][0] == "stopped"


def test_a_camera_address_nobody_answers_is_retried_with_words() -> None:
    with socket.socket() as s:  # a port on this machine with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = Run(OpenCVSource(f"http://user:secret@127.0.0.1:{port}/video"), "zxing", retry_s=0.2)
    run.scanner.start()
    try:
        assert _wait_for(lambda: sum(s == "retrying" for s, _ in run.states) >= 2), run.states
    finally:
        run.scanner.stop()
    message = next(m for s, m in run.states if s == "retrying")
    assert message == (
        f"The network camera http://127.0.0.1:{port}/video could not be opened — check the "
        "address, the network and that the camera is on."
    )
    assert "secret" not in message


def test_a_camera_device_that_is_not_there_is_retried_with_words() -> None:
    run = Run(OpenCVSource("9"), "zxing", retry_s=0.2)
    run.scanner.start()
    try:
        assert _wait_for(lambda: any(s == "retrying" for s, _ in run.states)), run.states
    finally:
        run.scanner.stop()
    message = next(m for s, m in run.states if s == "retrying")
    assert message == (
        "The camera 9 could not be opened — check it is plugged in and no other program is "
        "using it."
    )


def test_zbar_missing_on_the_station_stops_the_camera_with_words(
    footage: tuple[Path, list[Shot]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyzbar", None)  # what a station without libzbar0 has
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)
    run = Run(OpenCVSource(str(footage[0])), "zbar")
    run.play(timeout=20)
    state, message = run.states[-1]
    assert state == "failed"
    assert "install libzbar0" in message
    assert run.scans == []
