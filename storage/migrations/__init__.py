"""Alembic migrations of the SQL schema (applied at start-up by storage.db.Database)."""
