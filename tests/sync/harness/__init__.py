"""The chaos harness: what the sync tests break things with.

- :mod:`.pgcluster` — a PostgreSQL cluster of the test's own (fsync on) it can fast-stop,
  crash and start again;
- :mod:`.proxy` — a TCP proxy on loopback between a client and PostgreSQL that drops
  connections: all at once, at random, or right after the server answered a COMMIT and before
  the client has the answer;
- :mod:`.procs` — station and hub processes (``python -m ...``) that can be ``kill -9``-ed at
  chosen or random points;
- :mod:`.world` — a central database with its stations, their local databases bootstrapped
  from it.
"""
