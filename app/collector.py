"""Holding Python's cyclic garbage collector off during bulk work.

Work that makes hundreds of thousands of short-lived objects (an allocation run, a round of
the hub) triggers collections that walk every object of the process again and again (its
mappings, compiled statements, widgets): a sixth to a third of the work's time. Nearly all of
those objects are freed by reference counting as the work goes; the collector runs again
once it is over.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Hold the collector off for the block (left alone when someone else holds it off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
