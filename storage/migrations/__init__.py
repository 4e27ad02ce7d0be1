"""Alembic scripts; see `storage.migrate` for how they are run and regenerated."""
