"""Storage: SQLAlchemy 2.0 mappings, the unit of work and Alembic migrations."""
