"""The index against a fresh fold of the journal: what was changed in index.sqlite by hand.

The index is a projection of the journal (design principle 2): folded again, the journal
makes the same rows. ``compare`` folds it into a new file and, table by table, counts the
rows the index holds that the fold does not make and those the fold makes that the index
lacks. Left out: the full-text tables (derived from the rows compared), the migration log,
the chain-check marks and the Merkle range kept for the next checkpoint (caches of what a
workstation did, which log verify checks otherwise).
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..progress import Watcher
from ..store.journal import Journal
from .anchors import RANGE_KEY
from .core import rebuild


@dataclass(frozen=True)
class TableDiff:
    """One table of the index that a fold of the journal does not make as it is."""

    table: str
    extra: int  # rows the index holds that the fold does not make
    missing: int  # rows the fold makes that the index lacks
    example: str  # one such row, shortened


@dataclass(frozen=True)
class Comparison:
    """The heads both were folded to (``(seq, hash)``) and the tables that differ."""

    index_head: tuple[int, str] | None
    fold_head: tuple[int, str] | None
    tables: list[TableDiff]

    @property
    def same_head(self) -> bool:
        return self.index_head == self.fold_head


def compare(index_path: Path, journal: Journal, watch: Watcher | None = None) -> Comparison:
    """Fold ``journal`` into a temporary file and compare the index at ``index_path`` with it
    (read only: the index is never changed here)."""
    with tempfile.TemporaryDirectory(prefix="recordkeep-audit-") as tmp:
        fresh = Path(tmp) / "fold.sqlite"
        rebuild(journal, fresh, watch)
        conn = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
        try:
            conn.execute("ATTACH DATABASE ? AS fold", (f"file:{fresh}?mode=ro",))
            heads = [_head(conn, schema) for schema in ("main", "fold")]
            tables = [d for name in _tables(conn) if (d := _diff(conn, name)) is not None]
        finally:
            conn.close()
    return Comparison(heads[0], heads[1], tables)


def _head(conn: sqlite3.Connection, schema: str) -> tuple[int, str] | None:
    found = dict(conn.execute(f"SELECT key, value FROM {schema}.meta WHERE key IN ('last_seq', 'last_hash')"))
    return (int(found["last_seq"]), found["last_hash"]) if "last_seq" in found else None


def _tables(conn: sqlite3.Connection) -> list[str]:
    names = set()
    for schema in ("main", "fold"):
        names.update(r[0] for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != '_sqlite_migrations' AND name NOT LIKE '%_fts%'"))
    return sorted(names)


def _rows(schema: str, table: str) -> str:
    where = f" WHERE key NOT LIKE 'chain_%' AND key != '{RANGE_KEY}'" if table == "meta" else ""
    return f"SELECT * FROM {schema}.[{table}]{where}"


def _diff(conn: sqlite3.Connection, table: str) -> TableDiff | None:
    present = [bool(conn.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?",
                                 (table,)).fetchone()) for schema in ("main", "fold")]
    if not all(present):
        schema = "main" if present[0] else "fold"
        count = conn.execute(f"SELECT count(*) FROM {schema}.[{table}]").fetchone()[0]
        return TableDiff(table, count if present[0] else 0, 0 if present[0] else count, "")
    extra_sql = f"{_rows('main', table)} EXCEPT {_rows('fold', table)}"
    missing_sql = f"{_rows('fold', table)} EXCEPT {_rows('main', table)}"
    extra = conn.execute(f"SELECT count(*) FROM ({extra_sql})").fetchone()[0]
    missing = conn.execute(f"SELECT count(*) FROM ({missing_sql})").fetchone()[0]
    if not extra and not missing:
        return None
    row = conn.execute(f"{extra_sql if extra else missing_sql} LIMIT 1").fetchone()
    return TableDiff(table, extra, missing, repr(tuple(row))[:200])
