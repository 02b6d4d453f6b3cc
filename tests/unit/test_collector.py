"""Bulk work holds the cyclic collector off, and gives it back as it found it."""

from __future__ import annotations

import gc

import pytest

from app.collector import no_cycle_collection


def test_the_collector_is_off_inside_and_back_on_after_even_on_an_error() -> None:
    assert gc.isenabled()
    with no_cycle_collection():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), no_cycle_collection():
        raise RuntimeError("the work failed")
    assert gc.isenabled()


def test_a_collector_someone_else_holds_off_stays_off() -> None:
    gc.disable()
    try:
        with no_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
