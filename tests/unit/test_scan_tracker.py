"""Which codes in a stream of camera frames are new scans (ScanTracker), frame by frame."""

from __future__ import annotations

import math

from app.scanning.camera import ScanTracker
from app.scanning.decoders import Decoded, make_decoder, normalised
from bench.photos import grey, load_photos

SIZE = (1280, 720)


def code(text: str, x: float = 640, y: float = 360, aim: str = "]E0") -> Decoded:
    quad = ((x - 50, y - 30), (x + 50, y - 30), (x + 50, y + 30), (x - 50, y + 30))
    return normalised(Decoded(text=text, symbology="EAN-13", aim_id=aim, quad=quad))


A, B = "4006381333931", "5449000000996"


def run(tracker: ScanTracker, frames: list[list[Decoded]], dt: float = 1 / 30) -> list[str]:
    counted = []
    for i, found in enumerate(frames):
        chosen = tracker.update(found, i * dt, SIZE)
        if chosen is not None:
            counted.append(chosen.text)
    return counted


def test_a_code_held_in_the_picture_counts_once() -> None:
    tracker = ScanTracker(gone_frames=3, repeat_after_s=0)
    assert run(tracker, [[code(A)]] * 60) == [A]


def test_a_code_that_leaves_and_comes_back_counts_again() -> None:
    tracker = ScanTracker(gone_frames=3, repeat_after_s=0)
    frames = [[code(A)]] * 5 + [[]] * 3 + [[code(A)]] * 5
    assert run(tracker, frames) == [A, A]


def test_missed_for_fewer_frames_than_set_is_the_same_scan() -> None:
    """A blurred frame or two (the decoder misses the code) is no new scan."""
    tracker = ScanTracker(gone_frames=3, repeat_after_s=0)
    frames = [[code(A)]] * 5 + [[]] * 2 + [[code(A)]] * 5 + [[]] + [[code(A)]]
    assert run(tracker, frames) == [A]


def test_a_code_held_longer_than_the_repeat_interval_counts_again() -> None:
    tracker = ScanTracker(gone_frames=3, repeat_after_s=1.0)
    # 75 frames at 30 per second: 2.5 s in the picture -> counted at 0 s, 1 s and 2 s
    assert run(tracker, [[code(A)]] * 75) == [A, A, A]


def test_a_new_code_counts_even_while_another_stays() -> None:
    tracker = ScanTracker(gone_frames=3, repeat_after_s=0)
    frames = [[code(A, x=300)]] * 4 + [[code(A, x=300), code(B, x=900)]] * 4
    assert run(tracker, frames) == [A, B]


def test_of_two_new_codes_the_one_nearest_the_centre_counts_and_the_other_not_later() -> None:
    tracker = ScanTracker(gone_frames=3, repeat_after_s=0)
    frames = [[code(A, x=100, y=100), code(B, x=700, y=380)]] * 20
    assert run(tracker, frames) == [B]


def test_the_code_the_workflow_can_use_wins_over_the_one_in_the_centre() -> None:
    tracker = ScanTracker(gone_frames=3, repeat_after_s=0)
    wanted = {A}
    chosen = tracker.update(
        [code(A, x=100, y=100), code(B)],
        0.0,
        SIZE,
        accepts=lambda d: d.scan is not None and d.scan.gtin == "0" + A,
    )
    assert chosen is not None and chosen.text in wanted


def test_when_the_workflow_wants_none_of_them_the_centre_decides() -> None:
    tracker = ScanTracker()
    chosen = tracker.update([code(A, x=100), code(B)], 0.0, SIZE, accepts=lambda d: False)
    assert chosen is not None and chosen.text == B


def test_a_failing_workflow_filter_does_not_lose_the_scan() -> None:
    def broken(_d: Decoded) -> bool:
        raise RuntimeError("filter bug")

    chosen = ScanTracker().update([code(A, x=100), code(B)], 0.0, SIZE, accepts=broken)
    assert chosen is not None and chosen.text == B


def test_a_misread_code_never_counts() -> None:
    misread = code("4006381333932")  # wrong check digit
    assert misread.scan is None and "check digit" in misread.problem
    tracker = ScanTracker(gone_frames=3, repeat_after_s=0)
    assert run(tracker, [[misread]] * 5 + [[misread, code(A)]]) == [A]


def test_the_photo_with_two_codes_gives_one_scan() -> None:
    """A real photo of two Code 39 labels, seen for a second: one scan, the central one."""
    photo = next(p for p in load_photos() if p.expected == "165340")
    frame = grey(photo)
    found = make_decoder("zxing").decode(frame)
    assert len(found) == 2
    size = (frame.shape[1], frame.shape[0])
    tracker = ScanTracker(gone_frames=3, repeat_after_s=0)
    counted = [tracker.update(found, i / 30, size) for i in range(30)]
    scans = [d.text for d in counted if d is not None]
    middle = (size[0] / 2, size[1] / 2)
    centre = min(found, key=lambda d: math.dist(d.centre, middle)).text
    assert scans == [centre]
