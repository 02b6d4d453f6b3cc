"""The returns desk's use cases: return authorisations (RMAs), finding the order a parcel
belongs to, receiving and grading what came back, resolving it (refund, exchange, store
credit), and the reports. Rules live in app/domain/returns.py; this package stores them.

Operation kinds (applied centrally by app/sync/appliers/returns.py):
``returns.rma_created``, ``returns.received``, ``returns.resolved``, ``returns.refund_marked``
and ``returns.policy_set``. Store credit is issued through the counter's own ledger
(``store_credit.issued``), so the desk's credit is the balance the till accepts.
"""
