"""The search index's tables. They differ by engine (an FTS5 virtual table on SQLite, a
tsvector column with a GIN index on PostgreSQL), so migrations create them from here and
the models' metadata leaves them out."""

from sqlalchemy.engine import Connection

# The text-search configuration: French stemming and stop words, after unaccent, so that a
# word typed without its accents finds its accented form.
# Written out in the SQL of index.py and query.py.
TS_CONFIG = "vocation_fr"

# Relevance: a word in the title counts most, then the organisation's name, then the text.
# bm25 takes the weights (SQLite); ts_rank's defaults are A=1.0, B=0.4, D=0.1 (PostgreSQL).
# The same order on both engines; query.py writes SQLite's weights (10, 4, 1) out.

_POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"CREATE TEXT SEARCH CONFIGURATION {TS_CONFIG} (COPY = french)",
    f"ALTER TEXT SEARCH CONFIGURATION {TS_CONFIG} ALTER MAPPING FOR "
    "asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, french_stem",
    "CREATE TABLE offer_search ("
    " offer_id UUID PRIMARY KEY REFERENCES offer (id) ON DELETE CASCADE,"
    " document TSVECTOR NOT NULL)",
    "CREATE INDEX ix_offer_search_document ON offer_search USING GIN (document)",
]
_POSTGRES_DROP = [
    "DROP TABLE IF EXISTS offer_search",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {TS_CONFIG}",
]
# FTS5 finds rows by integer rowid; offers have UUIDs. The key table gives each indexed
# offer a stable row number (an offer's own implicit rowid may change on VACUUM).
_SQLITE = [
    "CREATE TABLE offer_search_key ("
    " row INTEGER PRIMARY KEY, offer_id CHAR(32) NOT NULL UNIQUE REFERENCES offer (id))",
    "CREATE VIRTUAL TABLE offer_search USING fts5("
    " title, organisation, body, tokenize = 'unicode61 remove_diacritics 2')",
]
_SQLITE_DROP = ["DROP TABLE IF EXISTS offer_search", "DROP TABLE IF EXISTS offer_search_key"]


def create(connection: Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for statement in _POSTGRES if postgres else _SQLITE:
        connection.exec_driver_sql(statement)


def drop(connection: Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for statement in _POSTGRES_DROP if postgres else _SQLITE_DROP:
        connection.exec_driver_sql(statement)


def is_search_table(name: str | None) -> bool:
    """Ours, including FTS5's shadow tables (offer_search_data, _idx, …)."""
    return bool(name) and str(name).startswith("offer_search")
