"""Picking rules as plain Python: which stock an order line takes (FEFO for lot/expiry
products, otherwise the fewest bins in walk order), how orders are grouped into pick lists
within their limits, and the order of stops along the warehouse's pick path.

Both the station (creating pick work) and the central hub (deciding between two stations'
allocations) use these functions on what their own database shows, so the same stock gives
the same answer at both ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from app.domain.errors import ValidationError
from app.domain.pick_docs import PickKind

# (product, bin, lot) as one string: hashed once when made. An allocation run looks places up
# over a million times, and a tuple of UUIDs hashes both UUIDs in Python at every look-up.
PlaceKey = str


def place_key(product_id: uuid.UUID, location_id: uuid.UUID, lot: str | None) -> PlaceKey:
    return place_key_of_hex(product_id.hex, location_id.hex, lot)


def place_key_of_hex(product_hex: str, location_hex: str, lot: str | None) -> PlaceKey:
    """The same key from the ids' 32 hex digits (as SQLite stores them)."""
    return f"{product_hex}{location_hex}{'' if lot is None else '/' + lot}"


def zones_of(zone: str) -> tuple[str, ...]:
    """A list's zones as stored on it (``A,B``; empty: every zone)."""
    return tuple(z for z in zone.split(",") if z)


class ListStatus(StrEnum):
    OPEN = "open"  # made, nobody picking it
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


LIVE_LISTS = frozenset({ListStatus.OPEN, ListStatus.IN_PROGRESS, ListStatus.PAUSED})


class StopStatus(StrEnum):
    OPEN = "open"  # units still to pick: they are reserved
    DONE = "done"  # picked, or reported short
    CANCELLED = "cancelled"


class Place(NamedTuple):
    """Stock of one product at one bin (and lot) with what is free to promise.

    A named tuple, as an allocation run makes one per bin and lot of every product its orders
    want (over a hundred thousand): a third of the cost of a frozen dataclass. Make one with
    :meth:`of`, which works out its key."""

    product_id: uuid.UUID
    location_id: uuid.UUID
    lot: str | None
    expiry: str | None  # ISO date; None when the product has none
    pick_seq: int
    zone: str
    code: str
    available: int  # on hand minus open reservations
    key: PlaceKey  # place_key(product_id, location_id, lot)

    @classmethod
    def of(
        cls,
        product_id: uuid.UUID,
        location_id: uuid.UUID,
        lot: str | None,
        expiry: str | None,
        pick_seq: int,
        zone: str,
        code: str,
        available: int,
    ) -> Place:
        key = place_key(product_id, location_id, lot)
        return cls(product_id, location_id, lot, expiry, pick_seq, zone, code, available, key)


def walk_order(places: Iterable[Place], *, fefo: bool) -> list[Place]:
    """Places in the order they are drawn from: first expiry first for FEFO products (no
    expiry last), then the walk."""
    if fefo:
        return sorted(
            places, key=lambda p: (p.expiry is None, p.expiry or "", p.pick_seq, p.lot or "")
        )
    return sorted(places, key=lambda p: (p.pick_seq, p.code, p.lot or ""))


def take(
    need: int,
    places: Sequence[Place],
    free: Mapping[PlaceKey, int],
    *,
    fefo: bool,
    exclude: frozenset[PlaceKey] = frozenset(),
    ordered: bool = False,
) -> list[tuple[Place, int]] | None:
    """Where ``need`` units come from, given what is ``free`` at each place; None when there
    are not enough. ``places`` are the product's places (already in :func:`walk_order` when
    ``ordered``); nothing is changed.

    FEFO products take the earliest expiry first, whatever the walk. Other products take the
    whole quantity from one bin when a bin has it (the first such bin on the walk), otherwise
    they fill from bins along the walk: fewer bins, fewer stops.
    """
    if need <= 0:
        return []
    walk = places if ordered else walk_order(places, fefo=fefo)
    usable = [p for p in walk if p.key not in exclude] if exclude else list(walk)
    if not fefo:
        whole = next((p for p in usable if free.get(p.key, 0) >= need), None)
        if whole is not None:
            return [(whole, need)]
    out: list[tuple[Place, int]] = []
    left = need
    for place in usable:
        have = free.get(place.key, 0)
        if have <= 0:
            continue
        n = min(have, left)
        out.append((place, n))
        left -= n
        if left == 0:
            return out
    return None


def take_some(
    need: int,
    places: Sequence[Place],
    free: Mapping[PlaceKey, int],
    *,
    fefo: bool,
    exclude: frozenset[PlaceKey] = frozenset(),
) -> list[tuple[Place, int]]:
    """Like :func:`take`, but as much of ``need`` as there is (possibly nothing)."""
    whole = take(need, places, free, fefo=fefo, exclude=exclude)
    if whole is not None:
        return whole
    out = []
    for place in walk_order(places, fefo=fefo):
        have = free.get(place.key, 0)
        if place.key not in exclude and have > 0:
            out.append((place, have))
    return out


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one pick list may hold."""

    max_orders: int
    max_units: int | None = None
    max_weight_g: int | None = None

    def __post_init__(self) -> None:
        if self.max_orders < 1:
            raise ValidationError("A pick list holds at least one order — type 1 or more.")
        for name, value in (("units", self.max_units), ("weight", self.max_weight_g)):
            if value is not None and value < 1:
                raise ValidationError(
                    f"A limit of {value} {name} leaves nothing to pick — leave it empty for "
                    "no limit, or type a number above 0."
                )


@dataclass(frozen=True, slots=True)
class Candidate:
    """An allocated order, as the grouping sees it."""

    order_id: uuid.UUID
    number: str
    units: int
    weight_g: int


def group(candidates: Sequence[Candidate], kind: PickKind, limits: Limits) -> list[list[Candidate]]:
    """Orders (already in the order they should be picked) into pick lists: one per order for
    single picking; otherwise lists filled in turn up to the limits. An order larger than a
    limit gets a list of its own rather than being left behind."""
    if kind is PickKind.SINGLE:
        return [[c] for c in candidates]
    lists: list[list[Candidate]] = []
    current: list[Candidate] = []
    units = weight = 0
    for c in candidates:
        fits = (
            len(current) < limits.max_orders
            and (limits.max_units is None or units + c.units <= limits.max_units)
            and (limits.max_weight_g is None or weight + c.weight_g <= limits.max_weight_g)
        )
        if current and not fits:
            lists.append(current)
            current, units, weight = [], 0, 0
        current.append(c)
        units += c.units
        weight += c.weight_g
    if current:
        lists.append(current)
    return lists


@dataclass(frozen=True, slots=True)
class OrderRank:
    priority: int
    cutoff_at: datetime | None
    placed_at: datetime


def rank_key(rank: OrderRank) -> tuple[int, bool, datetime, datetime]:
    """Higher priority first, then the earliest carrier cut-off (none last), then the oldest."""
    cutoff = rank.cutoff_at or rank.placed_at
    return (-rank.priority, rank.cutoff_at is None, cutoff, rank.placed_at)


def path_key(pick_seq: int, bin_code: str, sku: str, slot: int) -> tuple[int, str, str, int]:
    """A stop's place on the walk: the bin's pick sequence, then bin, item and tote slot."""
    return (pick_seq, bin_code, sku, slot)


def list_number(list_id: uuid.UUID) -> str:
    """A pick list's printed number: unique without asking anyone (from the id's random
    part), short enough to read out, and Code 128 friendly."""
    return f"PL-{list_id.hex[-10:].upper()}"
