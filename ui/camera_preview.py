"""Camera scanning in the station: the feed that brings camera scans to the active workflow,
and the preview that shows the picture with the codes found in it.

:class:`CameraFeed` runs an :class:`app.scanning.camera.CameraScanner` (capture and decoding on
threads of their own) and emits ``scanned`` on the GUI thread with the code as a scanner set
to send AIM identifiers would type it: the main window takes it exactly as it takes a wedge
scan. No Python object crosses threads inside a Qt signal: the scanner's callbacks put what
happened in a queue and emit an argument-less queued signal, as the database worker does
(ui/ops.py). The feed also films the bench while an order is packed, when the station is set to.

:class:`CameraPreview` paints the newest frame with every code found outlined: the code just
counted as a scan in green (thick, solid), others in amber (thin), codes that did not read as
a usable code (a misread, a wrong check digit) in red and dashed, with words under the picture.
"""

from __future__ import annotations

import logging
import math
import queue
import time
import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.services.bench import camera_wants
from app.services.views import OrderView

if TYPE_CHECKING:
    from app.config import CameraConfig
    from app.scanning.camera import CameraScan, CameraScanner, Preview
    from app.scanning.decoders import Decoded, Quad
    from app.scanning.recording import BenchRecorder

log = logging.getLogger(__name__)
REFRESH_MS = 33  # the preview follows the camera at up to 30 pictures a second
JUST_SCANNED_S = 1.5  # how long the code last counted stays green
FILMED_STATES = ("packing", "on_hold")

GOOD = QColor("#1f9d55")
OTHER = QColor("#e0a100")
BAD = QColor("#d64545")


class CameraFeed(QObject):
    """The station's camera as a scanner.

    Signals:
        scanned(str): a code the camera counted, as a scanner would type it (AIM id first).
        status_changed(str, str): the camera's state (opening, running, retrying, failed,
            ended, stopped) and words for the person at the station.
        film_failed(str): the bench film could not be written; words for a person.
    """

    scanned = Signal(str)
    status_changed = Signal(str, str)
    film_failed = Signal(str)
    _ready = Signal()

    def __init__(
        self,
        scanner: CameraScanner,
        recorder: BenchRecorder | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.scanner = scanner
        self.recorder = recorder
        self.last_scan: CameraScan | None = None
        self.state = "stopped"
        self.message = ""
        self._filming: uuid.UUID | None = None
        self._events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._ready.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        # These run on the scanner's and recorder's threads: they only post.
        scanner.on_scan = lambda scan: self._post("scan", scan)
        scanner.on_status = lambda state, message: self._post("status", (state, message))
        if recorder is not None:
            scanner.on_frame = recorder.offer
            recorder.on_error = lambda message: self._post("film", message)

    @classmethod
    def from_config(
        cls, camera: CameraConfig, station: str, parent: QObject | None = None
    ) -> CameraFeed:
        """The feed the station's ``[camera]`` settings describe (nothing opens yet)."""
        from app.scanning.camera import CameraScanner, OpenCVSource
        from app.scanning.decoders import make_decoder

        scanner = CameraScanner(
            OpenCVSource(camera.source, width=camera.width, height=camera.height),
            make_decoder(camera.decoder),
            lambda _scan: None,
            gone_frames=camera.gone_frames,
            repeat_after_s=camera.repeat_after_s,
        )
        recorder = None
        if camera.record:
            from app.scanning.recording import BenchRecorder

            recorder = BenchRecorder(
                camera.video_folder(), keep_days=camera.keep_days, station=station
            )
        return cls(scanner, recorder, parent)

    def start(self) -> None:
        self.scanner.start()

    def stop(self) -> None:
        """Stop the camera and finish any film (waits for the threads; at shutdown)."""
        self.scanner.stop()
        if self.recorder is not None:
            self.recorder.close()

    def preview(self) -> Preview | None:
        return self.scanner.preview()

    def follow_order(self, order: OrderView | None) -> None:
        """The bench moved on: the camera prefers the codes this order needs, and the film
        follows the order being packed."""
        wants = camera_wants(order)

        def accepts(decoded: Decoded) -> bool:
            return decoded.scan is not None and wants(decoded.scan)

        self.scanner.accepts = accepts
        if self.recorder is None:
            return
        filming = order is not None and order.status in FILMED_STATES
        if filming and order is not None and order.id != self._filming:
            self.recorder.start(order.id, order.number)
            self._filming = order.id
        elif not filming and self._filming is not None:
            self.recorder.stop(wait=False)
            self._filming = None

    # --- from the scanner's threads ---------------------------------------------------------

    def _post(self, kind: str, payload: Any) -> None:
        self._events.put((kind, payload))
        self._ready.emit()

    def _deliver(self) -> None:
        while True:
            try:
                kind, payload = self._events.get_nowait()
            except queue.Empty:
                return
            if kind == "scan":
                self.last_scan = payload
                self.scanned.emit(payload.decoded.raw)
            elif kind == "status":
                self.state, self.message = payload
                self.status_changed.emit(*payload)
            elif kind == "film":
                self.film_failed.emit(payload)


class CameraPreview(QWidget):
    """The camera's picture with the codes found in it outlined, and a line of words below."""

    CAPTION_PX = 44  # two lines of words

    def __init__(self, feed: CameraFeed, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraPreview")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._feed = feed
        self._shown: tuple[int, int] = (-1, -1)
        self._preview: Preview | None = None
        self._image: QImage | None = None
        self.paint_ms: list[float] = []
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh)
        feed.status_changed.connect(lambda _state, _message: self.update())
        feed.scanned.connect(lambda _code: self.update())

    def sizeHint(self) -> QSize:
        return QSize(300, 169 + self.CAPTION_PX)  # beside the pack screen on 1366 px

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 135 + self.CAPTION_PX)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._timer.start()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        # The camera's capture thread shrinks frames to this; the GUI only draws them.
        size = (self.width(), self.height() - self.CAPTION_PX)
        self._feed.scanner.preview_size = (max(1, size[0]), max(1, size[1]))

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def _refresh(self) -> None:
        preview = self._feed.preview()
        if preview is None or (preview.seq, preview.found_seq) == self._shown:
            return
        self._shown = (preview.seq, preview.found_seq)
        self._preview = preview
        self._image = _image_of(preview.frame)
        self.update()

    def caption(self) -> tuple[str, QColor | None]:
        """The words under the picture, and their colour (None: the palette's text colour)."""
        feed = self._feed
        if feed.state in ("retrying", "failed"):
            return feed.message, BAD
        if feed.state == "opening":
            return self.tr("Connecting to the {camera}…").format(camera=feed.message), None
        if feed.state == "ended":
            return self.tr("The video has ended."), None
        if feed.state == "stopped":
            return self.tr("The camera is off."), None
        preview = self._preview
        misread = [d for d in preview.found if d.scan is None] if preview else []
        last = feed.last_scan
        if last is not None and time.monotonic() - last.captured_at < JUST_SCANNED_S * 2:
            return self.tr("Read {code} ({kind})").format(
                code=_shown_text(last.decoded), kind=last.decoded.symbology
            ), GOOD
        if misread:
            return misread[0].problem, BAD
        return self.tr("Hold a code in front of the camera."), None

    def paintEvent(self, event: QPaintEvent) -> None:
        started = time.perf_counter()
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        # The picture at the top, the words right under it; the rest of a tall dock stays empty.
        image = self._image
        aspect = image.height() / image.width() if image is not None else 9 / 16
        high = min(self.height() - self.CAPTION_PX, self.width() * aspect)
        picture = QRectF(0, 0, self.width(), max(1.0, high))
        painter.fillRect(QRectF(0, 0, self.width(), high + self.CAPTION_PX), QColor("#202124"))
        live = self._feed.state == "running"
        if self._image is not None and self._preview is not None:
            self._draw_frame(painter, picture, self._image, self._preview, outlines=live)
            if not live:  # the last picture stays, dimmed, so no one takes it for the bench now
                painter.fillRect(picture, QColor(0, 0, 0, 150))
        text, colour = self.caption()
        painter.setPen(colour or QColor("#f1f3f4"))
        font = painter.font()
        font.setPixelSize(15)
        painter.setFont(font)
        band = QRectF(8, picture.bottom(), self.width() - 16, self.CAPTION_PX)
        flags = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        painter.drawText(band, int(flags) | int(Qt.TextFlag.TextWordWrap), text)
        painter.end()
        self.paint_ms.append((time.perf_counter() - started) * 1000)
        del self.paint_ms[:-500]

    def _draw_frame(
        self, painter: QPainter, area: QRectF, image: QImage, preview: Preview, *, outlines: bool
    ) -> None:
        fit = min(area.width() / image.width(), area.height() / image.height())
        w, h = image.width() * fit, image.height() * fit
        target = QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)
        if abs(fit - 1) > 0.05:  # a frame shrunk for an older size: scale it here this once
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, image)
        scale = fit * preview.scale  # camera pixels -> widget pixels
        if not outlines:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        last = preview.last_scan
        fresh = last is not None and time.monotonic() - last.captured_at < JUST_SCANNED_S
        for decoded in preview.found:
            if decoded.scan is None:
                pen = QPen(BAD, 3, Qt.PenStyle.DashLine)
            elif fresh and last is not None and decoded.text == last.decoded.text:
                pen = QPen(GOOD, 5)
            else:
                pen = QPen(OTHER, 2)
            painter.setPen(pen)
            points = [
                QPointF(target.x() + x * scale, target.y() + y * scale)
                for x, y in _outline(decoded.quad)
            ]
            painter.drawPolygon(QPolygonF(points))


def _outline(quad: Quad) -> Quad:
    """The quad to draw. A linear code's position is the line it was read along; it is drawn
    as a band around that line, so the outline covers the bars."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad
    width = math.dist((x0, y0), (x1, y1))
    height = math.dist((x0, y0), (x3, y3))
    if width == 0 or height >= 0.1 * width:
        return quad
    # a unit vector across the line, and half the band's height
    nx, ny = -(y1 - y0) / width, (x1 - x0) / width
    half = 0.15 * width
    return (
        (x0 - nx * half, y0 - ny * half),
        (x1 - nx * half, y1 - ny * half),
        (x2 + nx * half, y2 + ny * half),
        (x3 + nx * half, y3 + ny * half),
    )


def _image_of(frame: Any) -> QImage:
    """A QImage over the frame's own memory (the Preview keeps the array alive)."""
    height, width = frame.shape[:2]
    if frame.ndim == 2:
        return QImage(frame.data, width, height, frame.strides[0], QImage.Format.Format_Grayscale8)
    return QImage(frame.data, width, height, frame.strides[0], QImage.Format.Format_BGR888)


def _shown_text(decoded: Decoded) -> str:
    text = decoded.scan.text if decoded.scan is not None else decoded.text
    text = text.replace("\x1d", "·").replace("\r", " ").replace("\n", " ")
    return text if len(text) <= 40 else text[:39] + "…"
