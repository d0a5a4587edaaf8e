"""A search box's text as each engine's full-text query, and the matching offers with
their relevance as a subquery that the offer list joins."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.selectable import Subquery

from app.search import text
from app.search.stemming import stem

# A last word this short is matched whole: as a prefix it would match half the index.
_PREFIX_MIN_LENGTH = 3


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Every group must match (AND); any word of a group will do (OR). The last group
    matches as a prefix, for a search box queried as the person types."""

    groups: tuple[tuple[str, ...], ...]
    prefix_last: bool

    def fts5(self) -> str:
        """SQLite FTS5 syntax, on stems (the index holds stems). Words are [a-z0-9]+ only,
        so quoting them is enough to keep FTS5's operators out."""
        rendered = []
        for position, group in enumerate(self.groups):
            star = "*" if self._prefix(position) else ""
            words = dict.fromkeys(f'"{stem(word)}"{star}' for word in group)
            rendered.append("(" + " OR ".join(words) + ")")
        return " AND ".join(rendered)

    def tsquery(self) -> str:
        """PostgreSQL `to_tsquery` syntax; PostgreSQL stems each word itself."""
        rendered = []
        for position, group in enumerate(self.groups):
            star = ":*" if self._prefix(position) else ""
            rendered.append("(" + " | ".join(f"{word}{star}" for word in group) + ")")
        return " & ".join(rendered)

    def _prefix(self, position: int) -> bool:
        if not self.prefix_last or position != len(self.groups) - 1:
            return False
        return all(len(word) >= _PREFIX_MIN_LENGTH for word in self.groups[position])


def parse(raw: str) -> SearchQuery | None:
    """None when nothing searchable is left (only stop words or punctuation): the list is
    then not narrowed, as if `q` were empty."""
    groups = text.analyse(raw)
    if not groups:
        return None
    # A trailing space means the last word is finished.
    return SearchQuery(groups=groups, prefix_last=not raw[-1:].isspace())


# The weights and configuration are schema.py's, written out: SQL is not built from strings.
_SQLITE_HITS = sa.text(
    "SELECT offer_search_key.offer_id AS offer_id, "
    "-bm25(offer_search, 10.0, 4.0, 1.0) AS score "
    "FROM offer_search JOIN offer_search_key ON offer_search_key.row = offer_search.rowid "
    "WHERE offer_search MATCH :search_match"
)
_POSTGRES_HITS = sa.text(
    "SELECT offer_search.offer_id AS offer_id, "
    "ts_rank(offer_search.document, search_query) AS score "
    "FROM offer_search, to_tsquery('vocation_fr', :search_match) AS search_query "
    "WHERE offer_search.document @@ search_query"
)


SEARCH_MATCH = "search_match"


def match(dialect: str, query: SearchQuery) -> str:
    """The value of ``hits``' parameter ``SEARCH_MATCH`` for ``query``."""
    return query.tsquery() if dialect == "postgresql" else query.fts5()


def hits(dialect: str, query: SearchQuery | None = None) -> Subquery:
    """(offer_id, score) of every indexed offer matching ``query``; a higher score is more
    relevant. bm25 on SQLite and ts_rank on PostgreSQL weigh a word in the title above one
    in the organisation's name, above one in the text. Without ``query``, the parameter
    ``SEARCH_MATCH`` is left to bind when the statement runs (see ``match``): one
    statement then serves every search."""
    statement = _POSTGRES_HITS if dialect == "postgresql" else _SQLITE_HITS
    if query is not None:
        statement = statement.bindparams(**{SEARCH_MATCH: match(dialect, query)})
    return statement.columns(offer_id=sa.Uuid(), score=sa.Float()).subquery("hits")
