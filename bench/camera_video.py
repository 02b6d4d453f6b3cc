"""Camera footage made from pictures of codes (the real barcode photos, or codes drawn for a
test): each code slides into the picture
(blurred by the motion), is held still with a little hand shake, slides out, and the picture
is empty for a moment before the next one. Written with OpenCV's VideoWriter, so the camera
pipeline reads it back through the very capture path a camera file or stream takes.

Used by the camera pipeline test and the camera benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BACKGROUND_SEED = 5


@dataclass(frozen=True, slots=True)
class Shot:
    """One picture's passage through the camera's view."""

    index: int  # which of the pictures given
    in_view: int  # first frame with the whole code inside the picture (still moving)
    enters: int  # first frame in which the whole code is inside the picture
    leaves: int  # first frame after it has left


def background(width: int, height: int) -> Any:
    """A bench top: smooth shading with some texture, no code-like edges."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(BACKGROUND_SEED)
    noise = rng.integers(70, 190, (height // 8, width // 8), dtype=np.uint8)
    shade = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    return cv2.GaussianBlur(shade, (0, 0), 3)


def _fit(image: Any, width: int, height: int) -> Any:
    import cv2

    h, w = image.shape
    scale = min(0.7 * height / h, 0.6 * width / w, 2.0)
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def _motion_blur(image: Any, length: int) -> Any:
    """What a sideways movement of ``length`` pixels during the exposure does to a picture."""
    import cv2

    return cv2.blur(image, (length, 1)) if length > 1 else image


def make_video(
    path: Path,
    pictures: Sequence[Any],
    *,
    size: tuple[int, int] = (1280, 720),
    fps: float = 30.0,
    move_s: float = 0.3,
    hold_s: float = 0.8,
    gap_s: float = 0.6,
    lead_s: float = 0.0,
    fourcc: str = "mp4v",
) -> list[Shot]:
    """Write the footage of ``pictures`` (grey arrays) to ``path``; return where each is."""
    import cv2

    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, size, False)
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {path} with {fourcc}")
    base = background(width, height)
    shots = []
    frame_no = 0
    move, hold, gap = (max(1, round(s * fps)) for s in (move_s, hold_s, gap_s))

    def put(picture: Any) -> None:
        nonlocal frame_no
        writer.write(picture)
        frame_no += 1

    try:
        for _ in range(round(lead_s * fps)):  # the empty bench before the first code
            put(base)
        for index, picture in enumerate(pictures):
            code = _fit(picture, width, height)
            h, w = code.shape
            cx, cy = (width - w) // 2, (height - h) // 2
            start_x, end_x = -w - 10, width + 10
            step = (cx - start_x) / move
            # in: from beyond the left edge to the centre, blurred by its speed
            in_view = -1
            blurred = _motion_blur(code, round(step / 2))
            for i in range(move):
                x = round(start_x + i * step)
                if in_view < 0 and x >= 0:
                    in_view = frame_no
                put(_place(base, blurred, x, cy))
            enters = frame_no
            in_view = enters if in_view < 0 else in_view
            for i in range(hold):  # held: a couple of pixels of hand shake
                dx, dy = round(2 * math.sin(i * 0.9)), round(2 * math.cos(i * 0.7))
                put(_place(base, code, cx + dx, cy + dy))
            step = (end_x - cx) / move
            blurred = _motion_blur(code, round(step / 2))
            for i in range(1, move + 1):
                put(_place(base, blurred, round(cx + i * step), cy))
            shots.append(Shot(index, in_view, enters, frame_no))
            for _ in range(gap):
                put(base)
    finally:
        writer.release()
    return shots


def _place(base: Any, code: Any, x: int, y: int) -> Any:
    frame = base.copy()
    h, w = code.shape
    fh, fw = frame.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, fw), min(y + h, fh)
    if x0 < x1 and y0 < y1:
        frame[y0:y1, x0:x1] = code[y0 - y : y1 - y, x0 - x : x1 - x]
    return frame
