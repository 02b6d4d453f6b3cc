"""A graded unit's photo: a real JPEG written under the station's folder, that reads back as
the picture that was taken."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from app.domain.errors import CameraError
from app.services.returns.photos import save_photo


def test_a_photo_is_a_jpeg_under_the_day_of_the_return(tmp_path: Path) -> None:
    import cv2

    frame = np.zeros((120, 160, 3), dtype=np.uint8)
    frame[30:90, 40:120] = (0, 0, 255)  # a red box in the middle
    at = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
    path = Path(save_photo(frame, tmp_path, "RMA-DESK-1-00001", 2, at))
    assert path.parent == tmp_path / "return-photos" / "2026-05-04"
    assert path.name.startswith("RMA-DESK-1-00001_2_")
    back = cv2.imread(str(path))
    assert back.shape == frame.shape
    assert back[60, 80, 2] > 200 and back[60, 80, 0] < 60  # still red where the box was


def test_a_folder_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "return-photos"
    blocker.write_text("a file where the folder should be")
    frame = np.zeros((10, 10), dtype=np.uint8)
    with pytest.raises(CameraError, match="could not be written"):
        save_photo(frame, tmp_path, "RMA-1", 1, datetime(2026, 5, 4, tzinfo=UTC))
