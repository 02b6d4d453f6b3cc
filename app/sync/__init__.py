"""Sync between stations' local databases and the central PostgreSQL (DESIGN §4).

The contracts are in docs/ARCHITECTURE.md, section "Sync". Nothing here imports Qt; psycopg is
imported where a module talks to PostgreSQL directly, not at package import.
"""
