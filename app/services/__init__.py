"""Use cases: one function per user action, over a unit of work."""
