"""The real barcode photos in tests/data/barcodes, and how a decoded value is compared with the
text each photo is known to hold (the dataset README's rules).

- UPC-A and UPC-E are commonly reported as 13-digit EAN-13: GTINs are compared as GTIN-14.
- DataBar's expected text may or may not carry AI 01; DataBar Expanded's is the human-readable
  form ``(01)...(3103)...``: both are brought to the element string a decoder reports.
- Some photos hold a second barcode: a photo is read when ANY result matches.

Used by the decoder tests (floors per symbology) and the decoder benchmark.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "barcodes"
GS = "\x1d"
_GTIN_FAMILIES = {"ean13", "ean8", "upca", "upce", "gs1_databar", "gs1_databar_stacked"}


@dataclass(frozen=True, slots=True)
class Photo:
    path: Path
    symbology: str
    expected: str
    kind: str  # photo / scan_or_clean_render / synthetic_or_binarized

    def matches(self, texts: Iterable[str]) -> bool:
        want = comparable(self.symbology, self.expected)
        return any(comparable(self.symbology, t) == want for t in texts)


def load_photos(folder: Path = PHOTOS) -> list[Photo]:
    with (folder / "manifest.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        Photo(
            path=folder / row["file"],
            symbology=row["symbology"],
            expected=_expected(row),
            kind=row["image_kind"],
        )
        for row in rows
    ]


def _expected(row: dict[str, str]) -> str:
    if row["expected_text_hex"]:
        data = bytes.fromhex(row["expected_text_hex"])
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    return row["expected_text"].replace("<GS>", GS)


def comparable(symbology: str, text: str) -> str:
    """``text`` in the form two readings of one code agree on, for a photo of ``symbology``."""
    if symbology in _GTIN_FAMILIES:
        digits = text[2:] if len(text) == 16 and text.startswith("01") else text
        if digits.isascii() and digits.isdigit():
            if symbology == "upce" and len(digits) == 8:
                from app.scanning.gtin import upce_to_upca

                digits = upce_to_upca(digits)
            return digits.zfill(14)
        return text
    if symbology == "gs1_databar_expanded" and text.startswith("("):
        from biip.gs1_messages import GS1Message

        return str(GS1Message.parse_hri(text).value)
    return text


@dataclass(frozen=True, slots=True)
class Rate:
    """How one decoder did on the photos of one symbology."""

    symbology: str
    photos: int
    read: int
    wrong: int  # photos where something was decoded but none of it was the expected text
    times_ms: tuple[float, ...]

    @property
    def rate(self) -> float:
        return self.read / self.photos if self.photos else 0.0


def grey(photo: Photo) -> Any:
    """The photo as the grey frame a decoder is given."""
    import cv2

    image = cv2.imread(str(photo.path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FileNotFoundError(f"{photo.path} is missing or is not an image")
    return image


def decode_rates(
    decode: Callable[[Any], Sequence[str]], photos: Sequence[Photo]
) -> dict[str, Rate]:
    """Decode every photo (``decode`` takes a grey frame, returns the texts found) and count,
    per symbology, the photos read right, read wrong, and each decode's time."""
    per: dict[str, list[tuple[bool, bool, float]]] = {}
    for photo in photos:
        frame = grey(photo)
        start = time.perf_counter()
        texts = decode(frame)
        took = (time.perf_counter() - start) * 1000
        ok = photo.matches(texts)
        per.setdefault(photo.symbology, []).append((ok, bool(texts) and not ok, took))
    return {
        sym: Rate(
            sym,
            len(runs),
            sum(ok for ok, _, _ in runs),
            sum(bad for _, bad, _ in runs),
            tuple(t for _, _, t in runs),
        )
        for sym, runs in sorted(per.items())
    }
