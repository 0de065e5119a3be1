"""Search structures in the index: FTS5 trigram tables kept in step with their base tables.

Contract (``index.search`` is the only reader):
- ``search_names_fts``: the base name of each sighting's original path (rowid =
  sightings.rowid; a ``path_hex`` sighting, not valid UTF-8, is not indexed).
- ``search_parties_fts``: name, address, credit_code (rowid = parties.rowid); never an
  identity or phone number, not even masked (a party is found by a whole number through
  the vault's lookup table, never by some of its digits).
- ``search_cases_fts``: case_key (the folded case number) and title (rowid = cases.rowid).
- ``search_stages_fts``: note and action of each stage event (rowid = stage_events.seq).
- ``search_records_doc_type``: records by doc type (only those that have one).
- The FTS tables are complete when ``search_fts_queue`` is empty and ``search_fts_mark``
  holds, for each, the highest rowid of its base table (``ready()``); until then search
  scans the base tables instead.

The FTS tables are contentless (``content=''``) with ``detail=none``: they map each
trigram to the rows holding it and nothing more (a third of a full index's size), so
they only give candidates; search checks each candidate against its base row. The
columns of the small tables (parties, cases, stage events) end in two padding characters
(U+001F), so that every occurrence of a 1 or 2 character text starts some trigram:
short text is looked up through the trigram vocabulary (``fts5vocab``).

Keeping in step, at no cost per inserted row: a trigger on ``meta`` fires when
``Index.apply`` records its last event (``last_seq``), once per applied batch and in its
transaction, and indexes the base rows above the mark in one statement per table, then
moves the mark. Rows already indexed that change or go are queued by row triggers (old
values to delete, new ones to insert) and folded in first. Row triggers writing the FTS
tables directly would cost one FTS segment per row (SQLite 3.40's FTS5 flushes its
pending terms at every statement savepoint) and made rebuilds markedly slower. ``rebuild``
drops the triggers on ``meta`` while it folds and fires them once at the end (the marks
are 0, so nothing is queued meanwhile): each table is filled in one statement, and a
rebuilt index answers exactly as the live one. Every name holds ``_fts`` or is an index,
so index comparisons skip them (their layout depends on batch sizes).
"""

from __future__ import annotations

import sqlite3

from .core import migrations, run_script

QUEUE = "search_fts_queue"
MARK = "search_fts_mark"
DOC_TYPE_INDEX = "search_records_doc_type"
PAD = "char(31, 31)"


def basename_sql(column: str) -> str:
    """SQL for the last component of a path (``/`` or ``\\`` separated).

    Every ``/`` becomes as many ``/`` as the path has characters, so the last that
    many characters hold the whole last component behind slashes only. (``rtrim`` by
    the path's own characters gives the same, at a cost of path length squared.)
    """
    p = f"replace({column}, '\\', '/')"
    slashes = f"replace(hex(zeroblob(length({p}))), '00', '/')"
    return f"ltrim(substr(replace({p}, '/', {slashes}), -length({p})), '/')"


# FTS table -> (base table, its rowid column, the base columns it reads, condition on {row},
#               FTS column -> SQL over {row})
SOURCES: dict[str, tuple[str, str, str, str, dict[str, str]]] = {
    "search_names_fts": ("sightings", "rowid", "path", "{row}.path IS NOT NULL",
                         {"name": basename_sql("{row}.path")}),
    "search_parties_fts": ("parties", "rowid", "name, address, credit_code", "1",
                           {c: f"{{row}}.{c} || {PAD}" for c in ("name", "address", "credit_code")}),
    "search_cases_fts": ("cases", "rowid", "case_key, title", "1",
                         {c: f"{{row}}.{c} || {PAD}" for c in ("case_key", "title")}),
    "search_stages_fts": ("stage_events", "seq", "note, action", "1",
                          {c: f"{{row}}.{c} || {PAD}" for c in ("note", "action")}),
}
FTS_TABLES = tuple(SOURCES)


def _sub(text: str, row: str) -> str:
    return text.replace("{row}", row)


def _mark(fts: str) -> str:
    return f"(SELECT upto FROM {MARK} WHERE fts = '{fts}')"


def _sql(fts: str) -> str:
    """The FTS table, its mark, and the triggers queueing changes to rows it already holds."""
    table, rowid, watched, when, columns = SOURCES[fts]
    names = ", ".join(columns)
    slots = ", ".join(f"c{i}" for i in range(1, len(columns) + 1))

    def queue(op: str, row: str) -> str:
        values = ", ".join(_sub(v, row) for v in columns.values())
        return (f"INSERT INTO {QUEUE} (fts, op, row, {slots}) SELECT '{fts}', {op}, {row}.{rowid}, "
                f"{values} WHERE {_sub(when, row)};")

    held = f"old.{rowid} <= {_mark(fts)}"
    return f"""
    CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='', tokenize='trigram', detail=none,
        columnsize=0);
    INSERT INTO {MARK} (fts, upto) VALUES ('{fts}', 0);
    CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} WHEN {held} BEGIN
        {queue("'delete'", 'old')}
        UPDATE {MARK} SET upto = old.{rowid} - 1 WHERE fts = '{fts}' AND upto = old.{rowid};
    END;
    CREATE TRIGGER {fts}_update AFTER UPDATE OF {watched} ON {table} WHEN {held} BEGIN
        {queue("'delete'", 'old')} {queue('NULL', 'new')}
    END;
    """


def _flush() -> str:
    """Statements folding the queue into the FTS tables (in queue order), then indexing the
    base rows above each mark and moving the marks."""
    out = []
    for fts, (*_, columns) in SOURCES.items():
        slots = ", ".join(f"c{i}" for i in range(1, len(columns) + 1))
        out.append(f"INSERT INTO {fts} ({fts}, rowid, {', '.join(columns)}) SELECT op, row, {slots} "
                   f"FROM {QUEUE} WHERE fts = '{fts}' ORDER BY id;")
    out.append(f"DELETE FROM {QUEUE};")
    for fts, (table, rowid, _, when, columns) in SOURCES.items():
        values = ", ".join(_sub(v, table) for v in columns.values())
        out.append(f"INSERT INTO {fts} (rowid, {', '.join(columns)}) SELECT {rowid}, {values} FROM {table} "
                   f"WHERE {rowid} > {_mark(fts)} AND {_sub(when, table)};")
        out.append(f"UPDATE {MARK} SET upto = (SELECT max({rowid}) FROM {table}) WHERE fts = '{fts}' "
                   f"AND upto < (SELECT max({rowid}) FROM {table});")
    return " ".join(out)


def ready(conn: sqlite3.Connection) -> bool:
    """True when the FTS tables hold every base row as it is now."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {QUEUE, MARK, *FTS_TABLES} <= have or conn.execute(f"SELECT 1 FROM {QUEUE} LIMIT 1").fetchone():
        return False
    for fts, (table, rowid, *_) in SOURCES.items():
        upto = conn.execute(f"SELECT upto FROM {MARK} WHERE fts = ?", (fts,)).fetchone()
        top = conn.execute(f"SELECT max({rowid}) FROM {table}").fetchone()[0] or 0
        if upto is None or upto[0] < top:
            return False
    return True


@migrations()
def m004_search(db) -> None:
    """FTS5 trigram tables with their marks, queue and triggers, filled from the rows the
    index already holds; and the partial index of records by doc type."""
    run_script(db,
        f"CREATE TABLE {QUEUE} (id INTEGER PRIMARY KEY, fts TEXT NOT NULL, op TEXT, "
        "row INTEGER NOT NULL, c1, c2, c3, c4);"
        f"CREATE TABLE {MARK} (fts TEXT PRIMARY KEY, upto INTEGER NOT NULL);"
        + "".join(_sql(fts) for fts in SOURCES) + _flush()
        + flush_triggers()
        + f"CREATE INDEX {DOC_TYPE_INDEX} ON records (doc_type) WHERE doc_type IS NOT NULL;")


def flush_triggers() -> str:
    """The triggers on ``meta`` that fold the queue and index new rows (made anew by a
    migration that changes a base table: they name every one)."""
    return f"""
        DROP TRIGGER IF EXISTS {QUEUE}_flush; DROP TRIGGER IF EXISTS {QUEUE}_flush_update;
        CREATE TRIGGER {QUEUE}_flush AFTER INSERT ON meta WHEN new.key = 'last_seq' BEGIN {_flush()} END;
        CREATE TRIGGER {QUEUE}_flush_update AFTER UPDATE ON meta WHEN new.key = 'last_seq'
            BEGIN {_flush()} END;
        """


@migrations()
def m007_search_hashsize(db) -> None:
    """The FTS tables gather up to 64 MB of terms before writing a segment (default 1 MB):
    ``rebuild`` fills each in one statement, into a few large segments instead of
    hundreds of small ones merged over and over."""
    for fts in FTS_TABLES:
        db.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('hashsize', 67108864)")


def recreate(fts: str) -> str:
    """SQL dropping one FTS table (its triggers, mark and queued rows) and making it anew,
    filled from its base table as it is now."""
    table, rowid, _, when, columns = SOURCES[fts]
    values = ", ".join(_sub(v, table) for v in columns.values())
    return (f"DROP TRIGGER IF EXISTS {fts}_delete; DROP TRIGGER IF EXISTS {fts}_update; "
            f"DROP TABLE IF EXISTS {fts}; DELETE FROM {MARK} WHERE fts = '{fts}'; "
            f"DELETE FROM {QUEUE} WHERE fts = '{fts}';" + _sql(fts)
            + f"INSERT INTO {fts} (rowid, {', '.join(columns)}) SELECT {rowid}, {values} FROM {table} "
            f"WHERE {_sub(when, table)};"
            f"UPDATE {MARK} SET upto = coalesce((SELECT max({rowid}) FROM {table}), 0) WHERE fts = '{fts}';")
