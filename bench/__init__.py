"""Benchmarks: ``python -m bench`` prints every figure of DESIGN §10 it measures, with its
target and the floor it stands on, as a table (or ``--json``)."""
