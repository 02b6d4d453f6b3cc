"""Barcode decoders for camera frames: one interface, two backends.

``make_decoder("zxing")`` (zxing-cpp, the default) or ``make_decoder("zbar")`` (pyzbar over the
ZBar library) gives a :class:`Decoder`; ``decoder.decode(frame)`` takes a grey (or BGR) numpy
frame and returns every code found in it as a :class:`Decoded`, with where it is.

A camera scan must mean what the same code means from a scanner, so each result carries the
AIM symbology identifier a scanner would send (``]E0``, ``]C1``, ``]d2``, ``]Q3``...) and is
put through the very normalisation wedge scans go through
(:func:`app.scanning.normalize.normalize` of ``aim_id + text``). zxing-cpp reports the
identifier itself, GS1 flag included; ZBar does not, so it is derived from the symbology, and a
GS1-128 read by ZBar arrives as plain Code 128 (``]C0``), which normalisation still reads as
GS1 when it starts with a primary key (AI 00, 01 or 02).

The libraries (and biip, through normalisation) load on the first decode, not on import: that
happens on the camera's worker thread, off the station's start-up path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, cast

from app.config import CAMERA_DECODERS
from app.domain.errors import ConfigError, MalformedScanError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from app.scanning.normalize import Scan

    Frame = NDArray[np.uint8]

logger = logging.getLogger(__name__)

GS = "\x1d"
Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True, slots=True)
class Decoded:
    """One code found in a frame."""

    text: str
    """The data as decoded; GS1 field separators (FNC1) as ASCII 29."""
    symbology: str
    """The decoder's name for the symbology ("EAN-13", "DataMatrix", "QR Code"...)."""
    aim_id: str
    """The AIM symbology identifier a scanner would send before the data (``]E0``...)."""
    quad: Quad
    """Corners in frame pixels: top-left, top-right, bottom-right, bottom-left of the code."""
    scan: Scan | None = None
    """The scan normalised exactly as a wedge scan of ``raw`` is; None when it did not read."""
    problem: str = ""
    """Why the data is not a usable code (wrong check digit, broken GS1 data), for a person."""

    @property
    def raw(self) -> str:
        """What a scanner set to send AIM identifiers would type for this code."""
        return self.aim_id + self.text

    @property
    def centre(self) -> Point:
        return (sum(p[0] for p in self.quad) / 4, sum(p[1] for p in self.quad) / 4)


class Decoder(Protocol):
    """Finds the codes in a frame. Thread-safe: a decoder may serve any one thread at a time."""

    @property
    def name(self) -> str: ...

    def decode(self, frame: Frame) -> list[Decoded]: ...

    def warm(self) -> None:
        """Load the decoding library and the GS1 tables now (they take the GIL while they
        load), so the first code held up is read without that pause."""
        ...


class DecoderUnavailableError(ConfigError):
    """The chosen decoder's library is not installed on this station."""


def make_decoder(name: str) -> Decoder:
    """The decoder the station is set to use (``[camera] decoder``)."""
    if name == "zxing":
        return ZXingDecoder()
    if name == "zbar":
        return ZBarDecoder()
    names = ", ".join(CAMERA_DECODERS)
    msg = f"There is no barcode decoder called {name!r} — set [camera] decoder to one of {names}."
    raise ConfigError(msg)


def as_grey(frame: Any) -> Frame:
    """A 2-D uint8 frame from a grey or BGR(A) one; anything else is refused with words."""
    import numpy as np

    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        kind = getattr(frame, "dtype", type(frame).__name__)
        msg = f"A camera frame must be an 8-bit image array, not {kind}."
        raise ValueError(msg)
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] in (3, 4):
        import cv2

        code = cv2.COLOR_BGR2GRAY if frame.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        grey = cv2.cvtColor(frame, code)
        return cast("Frame", grey)
    msg = f"A camera frame must be grey or BGR; this one has shape {frame.shape}."
    raise ValueError(msg)


def normalised(found: Decoded) -> Decoded:
    """``found`` with its scan as the wedge path would read it, or the reason it does not read."""
    from app.scanning.normalize import normalize

    try:
        return replace(found, scan=normalize(found.raw))
    except MalformedScanError as e:
        return replace(found, problem=e.message)


class _Backend:
    """The part both backends share: frame checks, loading once, normalisation."""

    name = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False

    def decode(self, frame: Frame) -> list[Decoded]:
        return [normalised(found) for found in self.read(as_grey(frame))]

    def warm(self) -> None:
        import numpy as np

        self.read(np.zeros((8, 8), np.uint8))
        normalised(Decoded("0104012345123456" + GS + "10LOT", "", "]C1", ((0, 0),) * 4))

    def read(self, grey: Frame) -> list[Decoded]:
        """The codes in a grey frame, not yet normalised (the bare library call, as the
        benchmark's floor measures it)."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._load()
                    self._loaded = True
        return self._read(grey)

    def _load(self) -> None:
        raise NotImplementedError

    def _read(self, grey: Frame) -> list[Decoded]:
        raise NotImplementedError


class ZXingDecoder(_Backend):
    """zxing-cpp: reads DataMatrix, reports AIM identifiers with the GS1 flag (``]C1``...).

    Set for a camera: the formats a warehouse meets, any orientation, downscaled copies for
    codes held close; inverted (light on dark) codes are not searched for, which almost
    doubles the frame rate at 1280×720.
    """

    name = "zxing"
    FORMATS = (
        "EAN13",
        "EAN8",
        "UPCA",
        "UPCE",
        "Code128",
        "Code39",
        "Code93",
        "ITF",
        "DataBar",
        "DataBarExpanded",
        "DataBarLimited",
        "QRCode",
        "DataMatrix",
        "PDF417",
        "Aztec",
    )

    def __init__(self, *, try_invert: bool = False) -> None:
        super().__init__()
        self._try_invert = try_invert
        self._call: Callable[[Frame], Sequence[Any]] = lambda _grey: ()

    def _load(self) -> None:
        import zxingcpp

        # A tuple of formats, not a BarcodeFormats object: no zxing-cpp instance outlives the
        # interpreter (nanobind reports those as leaks at exit).
        formats = tuple(getattr(zxingcpp.BarcodeFormat, f) for f in self.FORMATS)
        invert = self._try_invert

        def call(grey: Frame) -> Sequence[Any]:
            return zxingcpp.read_barcodes(
                grey,
                formats=formats,  # type: ignore[arg-type]  # a tuple converts
                try_rotate=True,
                try_downscale=True,
                try_invert=invert,
                # Plain: GS1 data as element strings with GS, the form a scanner sends.
                text_mode=zxingcpp.TextMode.Plain,
            )

        self._call = call

    def _read(self, grey: Frame) -> list[Decoded]:
        found = []
        for code in self._call(grey):
            p = code.position
            quad: Quad = (
                (float(p.top_left.x), float(p.top_left.y)),
                (float(p.top_right.x), float(p.top_right.y)),
                (float(p.bottom_right.x), float(p.bottom_right.y)),
                (float(p.bottom_left.x), float(p.bottom_left.y)),
            )
            found.append(
                Decoded(
                    text=code.text,
                    symbology=_ZXING_NAMES.get(code.format.name, code.format.name),
                    aim_id=code.symbology_identifier,
                    quad=quad,
                )
            )
        return found


_ZXING_NAMES = {
    "EAN13": "EAN-13",
    "EAN8": "EAN-8",
    "UPCA": "UPC-A",
    "UPCE": "UPC-E",
    "Code128": "Code 128",
    "Code39": "Code 39",
    "Code39Ext": "Code 39",
    "Code93": "Code 93",
    "ITF": "ITF",
    "ITF14": "ITF-14",
    "DataBarOmni": "DataBar",
    "DataBarStk": "DataBar",
    "DataBarStkOmni": "DataBar",
    "DataBarLtd": "DataBar Limited",
    "DataBarExp": "DataBar Expanded",
    "DataBarExpStk": "DataBar Expanded",
    "QRCode": "QR Code",
    "MicroQRCode": "QR Code",
    "DataMatrix": "DataMatrix",
    "PDF417": "PDF417",
    "Aztec": "Aztec",
}


class ZBarDecoder(_Backend):
    """pyzbar over ZBar: no DataMatrix, no GS1 flag; the identifier comes from the symbology."""

    name = "zbar"

    def __init__(self) -> None:
        super().__init__()
        self._call: Callable[[Frame], Sequence[Any]] = lambda _grey: ()

    def _load(self) -> None:
        try:
            from pyzbar import pyzbar
        except ImportError as e:  # pyzbar is there but the ZBar library is not (libzbar0)
            msg = (
                f"The ZBar barcode library is not installed on this station ({e}) — install "
                'libzbar0, or set [camera] decoder = "zxing".'
            )
            raise DecoderUnavailableError(msg) from e
        self._call = pyzbar.decode

    def _read(self, grey: Frame) -> list[Decoded]:
        found = []
        for symbol in self._call(grey):
            kind = symbol.type
            found.append(
                Decoded(
                    text=_text(symbol.data),
                    symbology=_ZBAR_NAMES.get(kind, kind),
                    aim_id=_ZBAR_AIM.get(kind, ""),
                    quad=_zbar_quad(symbol),
                )
            )
        return found


_ZBAR_AIM = {
    "EAN13": "]E0",
    "UPCA": "]E0",
    "UPCE": "]E0",
    "ISBN13": "]E0",
    "EAN8": "]E4",
    "CODE128": "]C0",
    "CODE39": "]A0",
    "CODE93": "]G0",
    "I25": "]I0",
    "CODABAR": "]F0",
    "DATABAR": "]e0",
    "DATABAR_EXP": "]e0",
    "QRCODE": "]Q1",
    "PDF417": "]L2",
}
_ZBAR_NAMES = {
    "EAN13": "EAN-13",
    "UPCA": "UPC-A",
    "UPCE": "UPC-E",
    "EAN8": "EAN-8",
    "CODE128": "Code 128",
    "CODE39": "Code 39",
    "CODE93": "Code 93",
    "I25": "ITF",
    "DATABAR": "DataBar",
    "DATABAR_EXP": "DataBar Expanded",
    "QRCODE": "QR Code",
}


def _text(data: bytes) -> str:
    # ZBar hands QR text over as UTF-8; Code 128 and Code 39 bytes are Latin-1 at most.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _zbar_quad(symbol: Any) -> Quad:
    points = [(float(p.x), float(p.y)) for p in symbol.polygon]
    if len(points) == 4:
        # ZBar lists a 2-D code's corners from the top-left, counter-clockwise.
        a, b, c, d = points
        return (a, d, c, b)
    left, top, width, height = symbol.rect
    right, bottom = float(left + width), float(top + height)
    return ((left, top), (right, top), (right, bottom), (left, bottom))
