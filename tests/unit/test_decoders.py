"""Both decoder backends on 237 real barcode photos nobody here made (tests/data/barcodes).

Floors per symbology sit a little under what each backend was measured to read, so a
regression (a format dropped from the list, a wrong option, a broken conversion) fails here.
Measured with the station's camera settings: zxing-cpp 209/237, ZBar 160/237.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.config import StationConfig
from app.domain.errors import ConfigError
from app.scanning.decoders import Decoder, DecoderUnavailableError, make_decoder
from app.scanning.normalize import normalize
from bench.photos import Photo, decode_rates, grey, load_photos

PHOTOS = load_photos()

# symbology: lowest share of its photos the backend must read (measured rate in the comment)
FLOORS = {
    "zxing": {
        "code128": 0.92,  # 14/14
        "code39": 0.8,  # 5/5
        "datamatrix": 0.9,  # 33/34
        "ean13": 0.86,  # 33/36
        "ean8": 1.0,  # 1/1
        "gs1_databar": 0.75,  # 4/4
        "gs1_databar_expanded": 0.93,  # 16/16
        "gs1_databar_stacked": 0.6,  # 3/5
        "itf": 0.83,  # 6/6
        "qrcode": 0.9,  # 52/55
        "upca": 0.62,  # 33/50
        "upce": 0.72,  # 9/11
    },
    "zbar": {
        "code128": 0.85,  # 13/14
        "code39": 0.6,  # 4/5
        # DataMatrix: ZBar does not read it at all (0/34); that is why zxing-cpp is the default.
        "ean13": 0.7,  # 27/36
        "ean8": 1.0,  # 1/1
        "gs1_databar": 0.5,  # 3/4
        "gs1_databar_expanded": 0.87,  # 15/16
        "gs1_databar_stacked": 0.6,  # 3/5
        "itf": 0.66,  # 5/6
        "qrcode": 0.76,  # 45/55
        "upca": 0.62,  # 34/50
        "upce": 0.81,  # 10/11
    },
}
# Photos where something was read but not the expected text (measured: zxing 1, ZBar 8).
WRONG_AT_MOST = {"zxing": 2, "zbar": 10}


def _texts(decoder: Decoder) -> object:
    return lambda frame: [d.text for d in decoder.decode(frame)]


def _photo(symbology: str, expected_start: str = "") -> Photo:
    return next(
        p for p in PHOTOS if p.symbology == symbology and p.expected.startswith(expected_start)
    )


def test_the_photos_are_all_there() -> None:
    assert len(PHOTOS) == 237
    assert all(p.path.is_file() for p in PHOTOS)
    assert {p.symbology for p in PHOTOS} == set(FLOORS["zxing"])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["zxing", "zbar"])
def test_each_backend_reads_the_real_photos_at_least_as_well_as_measured(backend: str) -> None:
    rates = decode_rates(_texts(make_decoder(backend)), PHOTOS)  # type: ignore[arg-type]
    below = {
        sym: f"{rate.read}/{rate.photos}"
        for sym, rate in rates.items()
        if rate.rate < FLOORS[backend].get(sym, 0.0)
    }
    assert not below, f"{backend} reads fewer photos than it did: {below}"
    wrong = sum(rate.wrong for rate in rates.values())
    assert wrong <= WRONG_AT_MOST[backend], f"{backend} misread {wrong} photos"


def test_zxing_reads_gs1_datamatrix_as_a_scanner_sends_it() -> None:
    photo = _photo("datamatrix", "0108903819987659")
    (found,) = make_decoder("zxing").decode(grey(photo))
    assert found.aim_id == "]d2"
    assert found.symbology == "DataMatrix"
    assert found.text == photo.expected  # GS between the fields, as a scanner sends it
    # The same meaning as the same code from a wedge scanner sending AIM identifiers.
    assert found.scan == normalize("]d2" + photo.expected)
    assert found.scan is not None
    assert photo.expected.endswith("\x1d1731063010BNav4Cam2")
    assert (found.scan.gtin, found.scan.lot) == ("08903819987659", "BNav4Cam2")
    assert found.scan.expiry is not None and found.scan.expiry.isoformat() == "2031-06-30"


@pytest.mark.parametrize("backend", ["zxing", "zbar"])
def test_upc_a_from_either_backend_is_the_gtin_a_scanner_gives(backend: str) -> None:
    photo = _photo("upca", "027011006951")
    found = make_decoder(backend).decode(grey(photo))
    assert [d.aim_id for d in found] == ["]E0"]
    scan = found[0].scan
    assert scan is not None
    assert scan.gtin == normalize("]E0027011006951").gtin == "00027011006951"


@pytest.mark.parametrize("backend", ["zxing", "zbar"])
def test_databar_expanded_is_gs1_data_from_either_backend(backend: str) -> None:
    photo = _photo("gs1_databar_expanded", "(01)90012345678908(3102)")
    (found,) = make_decoder(backend).decode(grey(photo))
    assert found.aim_id == "]e0"
    assert found.scan is not None and found.scan.is_gs1
    assert found.scan.gtin == "90012345678908"


def test_a_colour_frame_is_read_by_zbar_too() -> None:
    """pyzbar reads one channel of a colour array: the decoder converts to grey first."""
    photo = _photo("qrcode", "MEBKM")
    colour = cv2.imread(str(photo.path), cv2.IMREAD_COLOR)
    tinted = colour.copy()
    tinted[:, :, 0] //= 3  # a warm light: the blue channel alone no longer holds the code
    texts = {
        name: [d.text for d in make_decoder(name).decode(tinted)] for name in ("zxing", "zbar")
    }
    assert texts == {"zxing": [photo.expected], "zbar": [photo.expected]}


def test_a_photo_with_two_codes_gives_both_with_where_they_are() -> None:
    photo = _photo("code39", "165340")
    found = make_decoder("zxing").decode(grey(photo))
    assert photo.expected in [d.text for d in found]
    assert len(found) == 2
    height, width = grey(photo).shape
    for d in found:
        assert all(0 <= x <= width and 0 <= y <= height for x, y in d.quad)
    first, second = sorted(found, key=lambda d: d.centre[1])
    assert first.centre[1] < second.centre[1]  # two codes one above the other, apart


def test_gs1_data_that_does_not_parse_says_so_instead_of_becoming_a_scan() -> None:
    # A real test image: Code 128 with FNC1 (GS1-128) around "123456", which is no GS1 data.
    photo = next(p for p in PHOTOS if p.symbology == "code128" and p.expected == "123456")
    (found,) = make_decoder("zxing").decode(grey(photo))
    assert found.raw == "]C1123456"
    assert found.scan is None
    assert "not a real date" in found.problem
    assert "scan it again" in found.problem


def test_a_blank_frame_has_no_codes() -> None:
    for name in ("zxing", "zbar"):
        assert make_decoder(name).decode(np.full((720, 1280), 200, np.uint8)) == []


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (np.zeros((10, 10), np.float32), "8-bit image array, not float32"),
        (np.zeros((10, 10, 2), np.uint8), "grey or BGR; this one has shape (10, 10, 2)"),
        ("picture.png", "8-bit image array, not str"),
    ],
)
def test_a_frame_that_is_not_a_picture_is_refused_with_words(frame: object, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        make_decoder("zxing").decode(frame)  # type: ignore[arg-type]


def test_an_unknown_decoder_name_says_which_ones_exist() -> None:
    with pytest.raises(ConfigError, match="one of zxing, zbar"):
        make_decoder("zxingcpp")
    assert make_decoder(StationConfig().camera.decoder).name == "zxing"


def test_zbar_without_its_library_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a station without libzbar0 sees: importing pyzbar fails.
    import sys

    monkeypatch.setitem(sys.modules, "pyzbar", None)
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)
    with pytest.raises(DecoderUnavailableError) as e:
        make_decoder("zbar").decode(np.zeros((8, 8), np.uint8))
    assert "libzbar0" in e.value.message
    assert 'decoder = "zxing"' in e.value.message
