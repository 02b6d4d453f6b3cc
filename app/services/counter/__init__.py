"""The shop counter's use cases: ringing up a basket, taking payment, receipts, returns at the
counter, the till's cash session, store credit and gift cards. ``Till`` (till.py) is the
workflow the counter screen drives."""
