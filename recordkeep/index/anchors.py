"""Projection of checkpoints (``checkpoint.made``) and the journal's kept Merkle compact range.

``checkpoints`` holds each checkpoint the journal records: its tree size, root, the TSA asked
and the SHA-256 of its token. The compact range (meta ``merkle_range``) is a cache: the
subtree roots of the journal's first ``size`` lines, with the hash and end position of line
``size``, so the next checkpoint hashes only the lines after it. A rebuilt index has none;
the next checkpoint then hashes the whole journal once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..store.journal import Event
from .core import Index, Row, Writer, atomic, handles, migrations, run_script

RANGE_KEY = "merkle_range"


@migrations()
def m009_checkpoints(db) -> None:
    run_script(db, """
    CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, size INTEGER NOT NULL, root TEXT NOT NULL,
        tsa TEXT, token_sha256 TEXT, at TEXT NOT NULL, actor TEXT NOT NULL);
    CREATE INDEX checkpoints_size ON checkpoints (size);
    """)


@handles("checkpoint.made")
def _checkpoint(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.execute("INSERT OR REPLACE INTO checkpoints (seq, size, root, tsa, token_sha256, at, actor) "
                 "VALUES (?,?,?,?,?,?,?)", (event.seq, d["size"], d["root"], d.get("tsa"),
                                            d.get("token_sha256"), event.at, event.actor))
    return ()


def newest(ix: Index) -> Row | None:
    """The checkpoint of the largest tree the journal records."""
    return ix.conn.execute("SELECT * FROM checkpoints ORDER BY size DESC, seq DESC LIMIT 1").fetchone()


def made(ix: Index) -> list[Row]:
    """Every checkpoint the journal records, by size."""
    return ix.conn.execute("SELECT * FROM checkpoints ORDER BY size, seq").fetchall()


def kept_range(ix: Index) -> dict | None:
    """The cached compact range: ``{"size", "hash", "end", "roots"}``, or None."""
    value = ix.meta(RANGE_KEY)
    return None if value is None else json.loads(value)


def keep_range(ix: Index, data: dict) -> None:
    with atomic(ix.conn):
        ix.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                        (RANGE_KEY, json.dumps(data)))
