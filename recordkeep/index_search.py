"""Search structures in the index: FTS5 trigram tables kept in step by SQLite triggers.

Contract (``search.py`` is the only reader):
- ``search_names_fts``: the base name of each sighting's original path (rowid =
  sightings.rowid; a ``path_hex`` sighting, not valid UTF-8, is not indexed).
- ``search_parties_fts``: name, address, id_number, credit_code (rowid = parties.rowid).
- ``search_cases_fts``: case_key (the folded case number) and title (rowid = cases.rowid).
- ``search_stages_fts``: note and action of each stage event (rowid = stage_events.seq).
- ``search_records_doc_type``: records by doc type (only those that have one).

The FTS tables are contentless (``content=''``) with ``detail=none``: they map each
trigram to the rows holding it and nothing more (a third of a full index's size), so
they only give candidates; search checks each candidate against its base row. The
columns of the small tables (parties, cases, stage events) end in two padding characters
(U+001F), so that every occurrence of a 1 or 2 character text starts some trigram:
short text is looked up through the trigram vocabulary (``fts5vocab``).

Triggers on the base tables queue each change (the old values to delete, the new to
insert) in ``search_fts_queue``; a trigger on ``meta`` folds the queue into the FTS tables
when ``Index.apply`` records its last event (``last_seq``), once per applied batch, in the
same transaction. Writing the FTS tables from the row triggers directly is ~6x slower: in
SQLite 3.40 FTS5 flushes its pending terms to a new segment at every statement savepoint,
i.e. once per row. Triggers fire whether events are applied live or by ``rebuild``, so a
rebuilt index answers exactly as the live one. While the queue is not empty (base tables
written outside ``apply``) search scans the base tables instead. Every name holds ``_fts``
or is an index, so index comparisons skip them (segment layout depends on batch sizes).
"""

from __future__ import annotations

from .index import migrations

QUEUE = "search_fts_queue"
DOC_TYPE_INDEX = "search_records_doc_type"
PAD = "char(31, 31)"


def basename_sql(column: str) -> str:
    """SQL for the last component of a path (``/`` or ``\\`` separated)."""
    p = f"replace({column}, '\\', '/')"
    return f"substr({p}, length(rtrim({p}, replace({p}, '/', ''))) + 1)"


# FTS table -> (base table, its rowid column, the base columns it reads, condition on {row},
#               FTS column -> SQL over {row})
SOURCES: dict[str, tuple[str, str, str, str, dict[str, str]]] = {
    "search_names_fts": ("sightings", "rowid", "path", "{row}.path IS NOT NULL",
                         {"name": basename_sql("{row}.path")}),
    "search_parties_fts": ("parties", "rowid", "name, address, id_number, credit_code", "1",
                           {c: f"{{row}}.{c} || {PAD}" for c in ("name", "address", "id_number",
                                                                  "credit_code")}),
    "search_cases_fts": ("cases", "rowid", "case_key, title", "1",
                         {c: f"{{row}}.{c} || {PAD}" for c in ("case_key", "title")}),
    "search_stages_fts": ("stage_events", "seq", "note, action", "1",
                          {c: f"{{row}}.{c} || {PAD}" for c in ("note", "action")}),
}
FTS_TABLES = tuple(SOURCES)


def _sql(fts: str) -> str:
    """The FTS table, the triggers queueing its base table's changes, and its filling."""
    table, rowid, watched, when, columns = SOURCES[fts]
    names = ", ".join(columns)
    slots = ", ".join(f"c{i}" for i in range(1, len(columns) + 1))

    def sub(text: str, row: str) -> str:
        return text.replace("{row}", row)

    def queue(op: str, row: str) -> str:
        values = ", ".join(sub(v, row) for v in columns.values())
        return (f"INSERT INTO {QUEUE} (fts, op, row, {slots}) SELECT '{fts}', {op}, {row}.{rowid}, "
                f"{values} WHERE {sub(when, row)};")

    return f"""
    CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='', tokenize='trigram', detail=none,
        columnsize=0);
    CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {queue('NULL', 'new')} END;
    CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {queue("'delete'", 'old')} END;
    CREATE TRIGGER {fts}_update AFTER UPDATE OF {watched} ON {table} BEGIN
        {queue("'delete'", 'old')} {queue('NULL', 'new')} END;
    INSERT INTO {fts} (rowid, {names}) SELECT {rowid}, {", ".join(sub(v, table) for v in columns.values())}
        FROM {table} WHERE {sub(when, table)};
    """


def _flush() -> str:
    """Statements folding the queue into the FTS tables, in queue order, then emptying it."""
    out = []
    for fts, (*_, columns) in SOURCES.items():
        slots = ", ".join(f"c{i}" for i in range(1, len(columns) + 1))
        out.append(f"INSERT INTO {fts} ({fts}, rowid, {', '.join(columns)}) SELECT op, row, {slots} "
                   f"FROM {QUEUE} WHERE fts = '{fts}' ORDER BY id;")
    out.append(f"DELETE FROM {QUEUE};")
    return " ".join(out)


@migrations()
def m004_search(db) -> None:
    """FTS5 trigram tables (filled from existing rows), the queue and its triggers, and
    the partial index of records by doc type."""
    db.executescript(
        f"CREATE TABLE {QUEUE} (id INTEGER PRIMARY KEY, fts TEXT NOT NULL, op TEXT, "
        "row INTEGER NOT NULL, c1, c2, c3, c4);"
        + "".join(_sql(fts) for fts in SOURCES)
        + f"""
        CREATE TRIGGER {QUEUE}_flush AFTER INSERT ON meta WHEN new.key = 'last_seq' BEGIN {_flush()} END;
        CREATE TRIGGER {QUEUE}_flush_update AFTER UPDATE ON meta WHEN new.key = 'last_seq'
            BEGIN {_flush()} END;
        CREATE INDEX {DOC_TYPE_INDEX} ON records (doc_type) WHERE doc_type IS NOT NULL;
        """)
