"""Persistence: Qdrant vectors and the SQL database."""
