"""Camera scanning in the station: the preview (looked at as a picture), and camera scans
reaching the pack workflow exactly as wedge scans do, the bench filmed while an order is packed.

The camera is a network camera on this machine (tests/camera_device.py): the test holds codes
in front of it and takes them away, as a packer does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from app.bootstrap import StationContext, bootstrap
from app.config import CameraConfig
from app.scanning.camera import CameraScanner, OpenCVSource
from app.scanning.decoders import make_decoder
from app.services.demo import DEMO_OPERATORS
from bench.photos import grey, load_photos
from tests.camera_device import IpCamera, centred, drawn
from tests.ui.conftest import (
    codes_for,
    find_order,
    save_screenshot,
    show_station,
    station_config,
)
from ui.camera_preview import GOOD, OTHER, CameraFeed, CameraPreview
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

PHOTOS = load_photos()
EAN13 = next(p for p in PHOTOS if p.expected == "4000539017100")
QR = next(p for p in PHOTOS if p.expected.startswith("MEBKM"))
PACKER = next(op for op in DEMO_OPERATORS if op.name == "Pat Packer")
OPENS_S = 20_000  # ms: FFmpeg probes a new stream before the first frame


@pytest.fixture
def ip_camera() -> Iterator[IpCamera]:
    camera = IpCamera()
    yield camera
    camera.unplug()


@pytest.fixture
def feed(qtbot: QtBot, ip_camera: IpCamera) -> Iterator[CameraFeed]:
    scanner = CameraScanner(
        OpenCVSource(ip_camera.url), make_decoder("zxing"), lambda _s: None, retry_s=0.3
    )
    camera_feed = CameraFeed(scanner)
    yield camera_feed
    camera_feed.stop()


def colour_near(image: QImage, x: float, y: float, colour: QColor, reach: int = 4) -> bool:
    """Is ``colour`` (give or take) drawn within ``reach`` pixels of (x, y)?"""
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            px = image.pixelColor(round(x) + dx, round(y) + dy)
            if all(
                abs(a - b) < 40 for a, b in zip(px.getRgb()[:3], colour.getRgb()[:3], strict=True)
            ):
                return True
    return False


def test_preview_outlines_the_codes_and_says_what_it_read(
    qtbot: QtBot, feed: CameraFeed, ip_camera: IpCamera
) -> None:
    preview = CameraPreview(feed)
    qtbot.addWidget(preview)
    preview.resize(640, 400)
    preview.show()
    qtbot.waitExposed(preview)
    ean = cv2.resize(grey(EAN13), (560, 420), interpolation=cv2.INTER_AREA)
    qr = cv2.resize(grey(QR), (320, 240), interpolation=cv2.INTER_AREA)
    # The EAN-13 in the middle, a QR code off to the side: one scan, the one in the middle.
    ip_camera.hold(centred(ean), (qr, (20, 20)))
    with qtbot.waitSignal(feed.scanned, timeout=OPENS_S) as scanned:
        feed.start()
    assert scanned.args == ["]E0" + EAN13.expected]
    qtbot.waitUntil(lambda: len(getattr(feed.preview(), "found", ())) == 2, timeout=5000)
    qtbot.wait(200)  # the preview's next refresh

    shot = save_screenshot(preview, "camera_preview.png")
    image = QImage(str(shot))
    found = {d.text: d for d in feed.preview().found}  # type: ignore[union-attr]
    scale = min(640 / 1280, (400 - preview.CAPTION_PX) / 720)
    left = (640 - 1280 * scale) / 2
    top = (400 - preview.CAPTION_PX - 720 * scale) / 2

    def on_screen(point: tuple[float, float]) -> tuple[float, float]:
        return left + point[0] * scale, top + point[1] * scale

    green = found[EAN13.expected].quad[0]
    amber = found[QR.expected].quad[0]
    assert colour_near(image, *on_screen(green), GOOD), "the code just read is outlined green"
    assert colour_near(image, *on_screen(amber), OTHER), "the other code is outlined amber"
    words, _colour = preview.caption()
    assert words == f"Read {EAN13.expected} (EAN-13)"
    assert feed.scanner.stats.scans == 1  # held in the picture: still one scan

    ip_camera.unplug()
    qtbot.waitUntil(lambda: feed.state == "retrying", timeout=15000)
    words, colour = preview.caption()
    assert "network camera" in words and "check" in words
    assert colour is not None
    save_screenshot(preview, "camera_preview_lost.png")


@pytest.fixture
def camera_station(
    qtbot: QtBot, tmp_path: Path, demo_database: Path, ip_camera: IpCamera
) -> Iterator[MainWindow]:
    """The station with the camera set up, filming the bench; the camera sending pictures."""
    shutil.copy(demo_database, tmp_path / "station.db")
    camera = CameraConfig(
        source=ip_camera.url,
        record=True,
        record_folder=str(tmp_path / "videos"),
        gone_frames=2,
        repeat_after_s=0,
    )
    ctx = bootstrap(replace(station_config(tmp_path), camera=camera))
    for window in show_station(qtbot, ctx):
        assert window.camera is not None
        qtbot.waitUntil(lambda w=window: w.camera.state == "running", timeout=OPENS_S)
        yield window
    ctx.dispose()


def show_to_camera(
    qtbot: QtBot, window: MainWindow, camera: IpCamera, *codes: tuple[object, tuple[int, int]]
) -> None:
    """Hold codes in front of the camera until the bench has shown what the scan did, then
    take them away until the camera has seen the empty bench."""
    feed = window.camera
    assert feed is not None
    before = len(window.pack.feedback_ms)
    # Whether the pack screen answers this scan is known before it is made: a badge scanned
    # at sign-in may have brought the pack screen up by the time the scan is counted.
    on_pack = window.stack.currentWidget() is window.pack
    scans = feed.scanner.stats.scans
    camera.hold(*codes)
    qtbot.waitUntil(lambda: feed.scanner.stats.scans > scans, timeout=20000)
    if on_pack:
        qtbot.waitUntil(lambda: len(window.pack.feedback_ms) > before, timeout=10000)
    camera.clear()
    # A stream may still deliver pictures from before: wait for the empty bench itself,
    # decoded in more frames than the camera needs to call a code gone.
    empty: set[int] = set()

    def bench_seen_empty() -> bool:
        preview = feed.preview()
        if preview is not None and preview.found:
            empty.clear()  # still a picture from before
        elif preview is not None:
            empty.add(preview.found_seq)
        return len(empty) > feed.scanner.tracker.gone_frames

    qtbot.waitUntil(bench_seen_empty, timeout=20000)


def test_camera_scans_sign_in_open_an_order_and_pack_it_like_a_scanner(
    qtbot: QtBot, camera_station: MainWindow, ip_camera: IpCamera
) -> None:
    window, pack = camera_station, camera_station.pack
    ctx: StationContext = window.ctx
    show_to_camera(qtbot, window, ip_camera, centred(drawn(PACKER.badge, "Code128")))
    qtbot.waitUntil(lambda: window.stack.currentWidget() is pack, timeout=5000)

    order = find_order(ctx, lines=3, units=5)
    assert order is not None
    show_to_camera(qtbot, window, ip_camera, centred(drawn(order.number, "Code128")))
    assert pack.order is not None and pack.order.number == order.number, pack.banner.message

    # Each item the order needs, held up as many times as it is ordered. The first one comes
    # with another product's label in the middle of the picture: the camera takes the item the
    # order needs, not the one nearest the centre.
    other = drawn(codes_for(ctx, order).wrong_item[1:], "EAN13")
    for n, line in enumerate(order.lines):
        item = drawn(line.gtin[1:], "EAN13")  # GTIN-14 with a leading 0: an EAN-13 label
        for unit in range(line.ordered):
            if n == 0 and unit == 0:
                show_to_camera(qtbot, window, ip_camera, centred(other), (item, (30, 30)))
            else:
                show_to_camera(qtbot, window, ip_camera, centred(item))
            assert pack.banner.kind == "good", pack.banner.message
    assert pack.order is not None and pack.order.all_packed
    assert pack.order.units_packed == 5
    save_screenshot(window, "pack_with_camera.png")

    # The next order opened finishes the film of this one; its timeline opens the film.
    second = find_order(ctx, lines=1, units=None, skip=(order.number,))
    assert second is not None
    show_to_camera(qtbot, window, ip_camera, centred(drawn(second.number, "Code128")))
    assert pack.order is not None and pack.order.number == second.number
    assert window.camera is not None and window.camera.recorder is not None
    folder = window.camera.recorder.folder
    stem = order.number.replace("/", "_")
    qtbot.waitUntil(
        lambda: any('"ended_at": "' in p.read_text() for p in folder.glob(f"*/{stem}_*.json")),
        timeout=10000,
    )

    opened: list[str] = []
    window.search.open_film = lambda path: opened.append(path) or True
    window.show_search()
    window.search.field.setText(order.number)
    window.search.search_now()
    qtbot.waitUntil(lambda: window.search.timeline.rowCount() > 0, timeout=5000)
    films = window.search.timeline.films()
    assert len(films) == 1 and Path(films[0]).is_file()
    assert window.search.film_button.isVisible()
    rows = [window.search.timeline.entry(r) for r in range(window.search.timeline.rowCount())]
    film_row = next(e for e in rows if e.video)
    assert film_row.what == "bench video"
    packed = [e for e in rows if e.what == "item packed"]
    assert film_row.at <= packed[0].at, "the film starts when the order is opened"
    save_screenshot(window, "search_with_film.png")
    window.search.film_button.click()
    assert opened == films
