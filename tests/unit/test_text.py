"""Word-wrapping for printed documents never gives more lines than asked."""

import pytest

from printing.text import STANDARD, ellipsize, text_width, wrap

LONG = "Unit 4, Riverside Trading Estate, Mill Lane, Leeds, West Yorkshire, United Kingdom"


@pytest.mark.parametrize("max_lines", [1, 2, 3])
def test_wrap_keeps_to_the_lines_allowed_and_each_fits(max_lines: int) -> None:
    lines = wrap(LONG, STANDARD.regular, 10, 120, max_lines)
    assert 1 <= len(lines) <= max_lines
    assert all(text_width(line, STANDARD.regular, 10) <= 120 for line in lines)
    assert lines[-1].endswith("…")


def test_short_text_is_left_alone() -> None:
    assert wrap("Mill Lane", STANDARD.regular, 10, 200, 1) == ["Mill Lane"]
    assert wrap("", STANDARD.regular, 10, 200, 2) == [""]
    assert ellipsize("Mill Lane", STANDARD.regular, 10, 200) == "Mill Lane"


def test_text_that_fits_in_the_lines_loses_nothing() -> None:
    words = "Riverside Trading Estate Mill Lane"
    lines = wrap(words, STANDARD.regular, 10, 90, 3)
    assert " ".join(lines) == words
