"""Picking: allocating open orders to stock, pick lists (single, batch, cluster), the picker's
scan-verified walk, short picks, and handing totes to the pack bench.

Modules:
- ``ledger``: reading stock and reservations, writing allocations and stop outcomes, and
  settling order and list states. Plain Core statements on a connection, so the station's
  use cases and the central appliers run the same code on SQLite and PostgreSQL.
- ``work``: creating pick work (the supervisor's release of a wave).
- ``views``: the read-only pick list the screens show.
- ``actions``: the picker's use cases (take a list, name its cart, build the cart, confirm or
  short a stop, skip, pause, hand over).
- ``session``: :class:`PickSession`, the scan-by-scan workflow the picker screen drives.
- ``sorting``: a batch tote at the pack bench (sort to order).
- ``docs``: the printable pick list.

Operation kinds recorded at a station (each applied centrally by app/sync/appliers/picking.py):
"""

CREATED = "picklist.created"  # pick list with its allocations (the hub decides them)
STARTED = "picklist.started"  # a picker took the list
TOTE_SET = "picklist.tote_set"  # a tote went into a cart slot
CART_SET = "picklist.cart_set"  # the list rides on a cart (its label scanned at set-up)
PAUSED = "picklist.paused"
HANDED_OVER = "picklist.handed_over"
STOP_PICKED = "pick.stop_picked"  # units from a bin into a tote slot (a fact)
STOP_SHORT = "pick.stop_short"  # the bin held fewer (a fact): re-allocated or marked short
STOP_SKIPPED = "pick.stop_skipped"
WITHDRAWN = "picklist.withdrawn"  # a supervisor took back a list nothing was picked for yet

KINDS = (
    CREATED,
    STARTED,
    TOTE_SET,
    CART_SET,
    PAUSED,
    HANDED_OVER,
    STOP_PICKED,
    STOP_SHORT,
    STOP_SKIPPED,
    WITHDRAWN,
)
ENTITY = "pick_list"  # every picking operation changes its pick list's aggregate
