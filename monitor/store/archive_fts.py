"""The archive's full-text index on SQLite: an FTS5 table over the archive's key streams, kept in
step by triggers, and a `SearchQuery` written in FTS5's query syntax. Everything here is SQLite's
own SQL; another backend indexes `archive.search_words` / `search_extra` its own way.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from monitor.store.archive import Alternative, Phrase, SearchQuery, Term

FTS_TABLE = "archive_fts"

# External content: the keys are stored once, in the archive table; the index reads them there.
# The keys are already folded, so the tokenizer only splits at spaces ("_" stays inside a key).
_DDL = (
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        search_words, search_extra, content='archive', content_rowid='id',
        tokenize="unicode61 remove_diacritics 0 tokenchars '_'")""",
    f"""CREATE TRIGGER IF NOT EXISTS archive_fts_insert AFTER INSERT ON archive BEGIN
        INSERT INTO {FTS_TABLE}(rowid, search_words, search_extra)
        VALUES (new.id, new.search_words, new.search_extra);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS archive_fts_delete AFTER DELETE ON archive BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_words, search_extra)
        VALUES ('delete', old.id, old.search_words, old.search_extra);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS archive_fts_update AFTER UPDATE ON archive BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_words, search_extra)
        VALUES ('delete', old.id, old.search_words, old.search_extra);
        INSERT INTO {FTS_TABLE}(rowid, search_words, search_extra)
        VALUES (new.id, new.search_words, new.search_extra);
    END""",
)


def create_index(conn: Connection) -> None:
    """Create the FTS5 table and its triggers (idempotent), and index rows already archived."""
    exists = conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": FTS_TABLE}
    ).first()
    for statement in _DDL:
        conn.execute(text(statement))
    if not exists:
        conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))


def _quoted(key: str) -> str:
    return '"' + key.replace('"', '""') + '"'


def _alternative(alt: Alternative) -> str:
    if isinstance(alt, Phrase):
        return "search_words : " + _quoted(" ".join(alt.words))
    assert isinstance(alt, Term)
    star = "*" if alt.prefix else ""
    return " OR ".join(f"{_quoted(k)}{star}" for k in alt.keys)


def _clause(alternatives: tuple[Alternative, ...]) -> str:
    return "(" + " OR ".join(f"({_alternative(a)})" for a in alternatives) + ")"


def match_expression(query: SearchQuery) -> str:
    """The query in FTS5 syntax: every key quoted, so nothing a reader types is FTS5 syntax."""
    found = " AND ".join(_clause(c) for c in query.all_of)
    if query.none_of:
        found = f"({found}) NOT ({' OR '.join(_clause(c) for c in query.none_of)})"
    return found
