"""French full-text search over offers, the same on SQLite (FTS5) and PostgreSQL."""
