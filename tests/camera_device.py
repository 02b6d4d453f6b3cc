"""A network camera for tests: an MJPEG stream over HTTP on 127.0.0.1, as IP cameras serve it
(``multipart/x-mixed-replace``, one JPEG per part, at the camera's frame rate).

No camera exists on a test machine, so this stands in for one, behaving as one does: OpenCV
opens it through FFmpeg by its URL, it sends pictures until it is unplugged, and a test holds
a code in front of it with :meth:`IpCamera.show` (what it sees next) and takes it away again.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

from bench.camera_video import background


class IpCamera:
    def __init__(self, size: tuple[int, int] = (1280, 720), fps: float = 15) -> None:
        self.size = size
        self.fps = fps
        self.running = True
        self._jpeg = b""
        self.empty = background(*size)
        self.show(self.empty)
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                deadline = time.monotonic() + 120  # a stream nobody stops ends on its own
                try:
                    while camera.running and time.monotonic() < deadline:
                        jpeg = camera._jpeg
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                            + str(len(jpeg)).encode()
                            + b"\r\n\r\n"
                            + jpeg
                            + b"\r\n"
                        )
                        time.sleep(1 / camera.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/video.mjpg"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def show(self, picture: Any) -> None:
        """What the camera sees from its next frame on (grey or BGR, the camera's size)."""
        ok, jpeg = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 92])
        assert ok
        self._jpeg = jpeg.tobytes()

    def hold(self, *codes: tuple[Any, tuple[int, int]]) -> Any:
        """Hold codes (grey pictures) in front of it, each with its top-left corner at (x, y)."""
        picture = self.empty.copy()
        for code, (x, y) in codes:
            h, w = code.shape
            picture[y : y + h, x : x + w] = code
        self.show(picture)
        return picture

    def clear(self) -> None:
        """Nothing in front of it but the bench."""
        self.show(self.empty)

    def unplug(self) -> None:
        if self.running:
            self.running = False
            self.server.shutdown()
            self.server.server_close()


def centred(code: Any, size: tuple[int, int] = (1280, 720)) -> tuple[Any, tuple[int, int]]:
    h, w = code.shape
    return code, ((size[0] - w) // 2, (size[1] - h) // 2)


def drawn(text: str, kind: str, scale: int = 3) -> Any:
    """A code drawn as a label printer would print it (zxing-cpp's writer), grey."""
    import zxingcpp

    barcode = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, kind))
    return np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=scale))
