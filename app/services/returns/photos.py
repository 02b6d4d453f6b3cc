"""Photos of a graded unit: one JPEG per photo under the station's data folder, named for the
return and the unit, referenced from the unit (``return_unit.photos``). The frame comes from the
station camera (app/scanning/camera.py: a numpy image); OpenCV, which the camera already
loads, encodes it.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from app.domain.errors import CameraError

_SAFE = re.compile(r"[^A-Za-z0-9-]+")


def photo_path(folder: Path, rma_number: str, unit_key: int, at: datetime) -> Path:
    day = at.strftime("%Y-%m-%d")
    name = f"{_SAFE.sub('_', rma_number)}_{unit_key}_{at.strftime('%H%M%S%f')}.jpg"
    return folder / "return-photos" / day / name


def save_photo(frame: Any, folder: Path, rma_number: str, unit_key: int, at: datetime) -> str:
    """Write ``frame`` (BGR or grey numpy image) as a JPEG; return its path as text."""
    import cv2

    ok, data = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), 85])
    if not ok:
        raise CameraError("The camera's picture could not be saved — take the photo again.")
    path = photo_path(folder, rma_number, unit_key, at)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(data))
    except OSError as e:
        raise CameraError(
            f"The photo could not be written to {path.parent} ({e.strerror}) — free some disk "
            "space, or carry on without it."
        ) from e
    return str(path)
