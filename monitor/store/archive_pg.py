"""The archive's full-text index on PostgreSQL: a GIN index over a tsvector of the archive's key
streams, and a `SearchQuery` written as a tsquery. Everything here is PostgreSQL's own SQL; the
SQLite form is `monitor.store.archive_fts`, and both find the same reports.

The keys are folded already (`monitor.inbox.search_keys`), so no text-search parser or dictionary
touches them: `to_tsvector` would split `art_4_2` at its underscores and drop keys such as `½`
that FTS5 keeps. Instead `archive_search_vector` makes each key one lexeme, as in FTS5: `words`
keys carry their positions (for phrases) and weight A, `extra` keys weight B, so that a phrase
is looked up in `words` only (FTS5: `search_words : "..."`) while a plain word is found in
either stream. The vector is kept in a generated column, which the GIN index covers.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.sql.elements import TextClause

from monitor.store.archive import Alternative, Phrase, SearchQuery, Term

VECTOR_FUNCTION = "archive_search_vector"
INDEX = "ix_archive_search"
# PostgreSQL's limits: a lexeme of at most 2047 bytes, positions up to 16383, a tsvector of at
# most 1 MB. A longer key is not indexed (nor looked for); words past the last position share it
# (still found, but not in a phrase); a text whose keys would pass the size is indexed up to it,
# so that archiving never fails on a huge text.
MAX_KEY_BYTES = 2046
_MAX_POSITION = 16383
_MAX_VECTOR_BYTES = 1_000_000

# Immutable, so that an index can be built on it. Each key is written as a quoted tsvector
# lexeme (quotes and backslashes escaped, although folded keys hold neither) and the list cast
# to tsvector, which parses lexemes only. A key's cost (its text plus the lexeme's entry and
# position) bounds the vector's size from above.
_FUNCTION = rf"""
CREATE OR REPLACE FUNCTION {VECTOR_FUNCTION}(words text, extra text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
SELECT coalesce(string_agg(lexeme, ' ' ORDER BY stream, n), '')::tsvector
FROM (
    SELECT stream, n, lexeme,
           sum(octet_length(lexeme) + 12) OVER (ORDER BY stream, n) AS used
    FROM (
        SELECT 1 AS stream, n,
               '''' || replace(replace(k, '\', '\\'), '''', '''''') || ''':'
               || least(n, {_MAX_POSITION}) || 'A' AS lexeme
        FROM unnest(string_to_array(words, ' ')) WITH ORDINALITY AS w(k, n)
        WHERE k <> '' AND octet_length(k) <= {MAX_KEY_BYTES}
        UNION ALL
        SELECT 2 AS stream, n,
               '''' || replace(replace(k, '\', '\\'), '''', '''''') || ''':1B' AS lexeme
        FROM unnest(string_to_array(extra, ' ')) WITH ORDINALITY AS x(k, n)
        WHERE k <> '' AND octet_length(k) <= {MAX_KEY_BYTES}
    ) AS keyed
) AS counted
WHERE used <= {_MAX_VECTOR_BYTES}
$body$
"""
# The vector is computed once, when a report is archived, and kept beside it: a search then
# reads it instead of computing it again for every row it looks at (the function costs about
# 0.15 ms a row; an index on the expression alone left a search of 2,000 reports at 90 ms).
# Only PostgreSQL's table has the column; writes leave it to the database.
VECTOR_COLUMN = "search_vector"
_COLUMN = (
    f"ALTER TABLE archive ADD COLUMN IF NOT EXISTS {VECTOR_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({VECTOR_FUNCTION}(search_words, search_extra)) STORED"
)
_INDEX = f"CREATE INDEX IF NOT EXISTS {INDEX} ON archive USING gin ({VECTOR_COLUMN})"
MATCH = f"archive.{VECTOR_COLUMN} @@ CAST(:tsquery AS tsquery)"


def create_index(conn: Connection) -> None:
    """Create the vector function, the column it fills and the GIN index on that (idempotent);
    rows already archived get their vectors as the column is added."""
    # The driver's own call: the function's body holds colons and percent signs that a bound
    # statement would take for parameters.
    conn.exec_driver_sql(_FUNCTION)
    conn.exec_driver_sql(_COLUMN)
    conn.exec_driver_sql(_INDEX)


def _lexeme(key: str, suffix: str = "") -> str | None:
    if len(key.encode()) > MAX_KEY_BYTES or not key:
        return None  # never indexed: looking for it would fail in tsquery's parser
    return "'" + key.replace("\\", "\\\\").replace("'", "''") + "'" + suffix


def _alternative(alt: Alternative) -> str | None:
    if isinstance(alt, Phrase):
        words = [_lexeme(w, ":A") for w in alt.words]
        if not words or None in words:
            return None
        return " <-> ".join(w for w in words if w)
    assert isinstance(alt, Term)
    keys = [k for k in (_lexeme(k, ":*" if alt.prefix else "") for k in alt.keys) if k]
    return " | ".join(keys) if keys else None


def _clause(alternatives: tuple[Alternative, ...]) -> str | None:
    found = [f"({a})" for a in map(_alternative, alternatives) if a]
    return "(" + " | ".join(found) + ")" if found else None


def tsquery(query: SearchQuery) -> str | None:
    """The query in tsquery's input syntax, every key a quoted lexeme, so that nothing a reader
    types is tsquery syntax; None when it can find nothing (a required word no index holds)."""
    required = [_clause(c) for c in query.all_of]
    if not required or None in required:
        return None
    found = " & ".join(c for c in required if c)
    excluded = [c for c in map(_clause, query.none_of) if c]
    if excluded:
        found = f"({found}) & !({' | '.join(excluded)})"
    return found


def match_clause(query: SearchQuery) -> TextClause | None:
    """The WHERE condition of a search on the archive table (None: nothing can match)."""
    written = tsquery(query)
    if written is None:
        return None
    return text(MATCH).bindparams(tsquery=written)
