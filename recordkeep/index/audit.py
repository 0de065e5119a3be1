"""The index against a fresh fold of the journal: what was changed in index.sqlite by hand.

The index is a projection of the journal (design principle 2): folded again, the journal
makes the same rows. ``compare`` folds it into a new file and, table by table, counts the
distinct rows the index holds more often than the fold makes them, and those the fold makes
more often than the index holds them (a row duplicated by hand is one of each). Left out:
the full-text tables (derived from the rows compared), the migration log, the chain-check
marks and the Merkle range kept for the next checkpoint (caches of what a workstation did,
which log verify checks otherwise).

An index migrated in place from an older release may honestly hold less than a fresh fold
(what a migration could not fill); ``Comparison.migrated`` says so, and an index of another
schema (not migrated yet) is not compared at all.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import errors
from ..i18n import _
from ..progress import Watcher
from ..store.journal import Journal
from .anchors import RANGE_KEY
from .core import open_read_only, rebuild

MIGRATED_AFTER_SECONDS = 5  # migrations applied over more than this: the index was upgraded


@dataclass(frozen=True)
class TableDiff:
    """One table of the index that a fold of the journal does not make as it is."""

    table: str
    extra: int  # distinct rows the index holds more often than the fold makes them
    missing: int  # distinct rows the fold makes more often than the index holds them
    example: str  # one such row, shortened


@dataclass(frozen=True)
class Comparison:
    """The heads both were folded to (``(seq, hash)``), whether the index was migrated in
    place, the tables whose columns differ (then nothing was compared) and those that differ."""

    index_head: tuple[int, str] | None
    fold_head: tuple[int, str] | None
    migrated: bool
    other_schema: list[str]
    tables: list[TableDiff]

    @property
    def same_head(self) -> bool:
        return self.index_head == self.fold_head


def compare(index_path: Path, journal: Journal, watch: Watcher | None = None) -> Comparison:
    """Fold ``journal`` into a temporary file and compare the index at ``index_path`` with it
    (read only, on read-only media too: the index is never changed here)."""
    with tempfile.TemporaryDirectory(prefix="recordkeep-audit-") as tmp:
        fresh = Path(tmp) / "fold.sqlite"
        rebuild(journal, fresh, watch)
        try:
            conn = open_read_only(index_path)
            try:
                conn.execute("ATTACH DATABASE ? AS fold", (f"file:{fresh}?mode=ro",))
                heads = [_head(conn, schema) for schema in ("main", "fold")]
                columns = {t: {schema: _columns(conn, schema, t) for schema in ("main", "fold")}
                           for t in _tables(conn)}
                other = [t for t, both in columns.items()
                         if both["main"] != both["fold"] and all(both.values())]
                tables = [] if other else [d for t, both in columns.items()
                                           if (d := _diff(conn, t, both)) is not None]
                return Comparison(heads[0], heads[1], _migrated(conn), other, tables)
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise errors.IndexDamaged(_("index.sqlite cannot be read ({error})").format(error=exc),
                                      path=index_path) from exc


def _head(conn: sqlite3.Connection, schema: str) -> tuple[int, str] | None:
    found = dict(conn.execute(f"SELECT key, value FROM {schema}.meta WHERE key IN ('last_seq', 'last_hash')"))
    return (int(found["last_seq"]), found["last_hash"]) if "last_seq" in found else None


def _migrated(conn: sqlite3.Connection) -> bool:
    """Whether the index's migrations were applied over time (an upgrade), not at its creation."""
    try:
        rows = conn.execute("SELECT applied_at FROM main._sqlite_migrations").fetchall()
        times = [datetime.fromisoformat(r[0]) for r in rows]
    except (sqlite3.Error, ValueError, TypeError):
        return True  # no log of them: nothing says it was made whole
    return not times or (max(times) - min(times)).total_seconds() > MIGRATED_AFTER_SECONDS


def _tables(conn: sqlite3.Connection) -> list[str]:
    names = set()
    for schema in ("main", "fold"):
        names.update(r[0] for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != '_sqlite_migrations' AND name NOT LIKE '%_fts%'"))
    return sorted(names)


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info([{table}])")]


def _counted(schema: str, table: str, columns: list[str]) -> str:
    """Each distinct row of the table with how many times it occurs (EXCEPT alone compares sets)."""
    listed = ", ".join(f"[{c}]" for c in columns)
    where = f" WHERE key NOT LIKE 'chain_%' AND key != '{RANGE_KEY}'" if table == "meta" else ""
    return f"SELECT {listed}, count(*) FROM {schema}.[{table}]{where} GROUP BY {listed}"


def _diff(conn: sqlite3.Connection, table: str, columns: dict[str, list[str]]) -> TableDiff | None:
    """How the table differs between the index (main) and the fold, given its columns in each."""
    if not columns["main"] or not columns["fold"]:  # a table only one of them has
        schema = "main" if columns["main"] else "fold"
        count = conn.execute(f"SELECT count(*) FROM {schema}.[{table}]").fetchone()[0]
        if not count:
            return None
        return TableDiff(table, count if schema == "main" else 0, count if schema == "fold" else 0, "")
    index_rows, fold_rows = (_counted(schema, table, columns["main"]) for schema in ("main", "fold"))
    extra_sql, missing_sql = f"{index_rows} EXCEPT {fold_rows}", f"{fold_rows} EXCEPT {index_rows}"
    extra = conn.execute(f"SELECT count(*) FROM ({extra_sql})").fetchone()[0]
    missing = conn.execute(f"SELECT count(*) FROM ({missing_sql})").fetchone()[0]
    if not extra and not missing:
        return None
    row = conn.execute(f"{extra_sql if extra else missing_sql} LIMIT 1").fetchone()
    return TableDiff(table, extra, missing, repr(tuple(row[:-1]))[:200])
