"""Projection of ``settings.changed``: the history of the settings the store's writers ran under.

``settings_history`` holds one row per change the journal records: its seq, the settings'
digest and the one before, the settings themselves (JSON, as journaled), and when and by
whom (the signer of the batch that first wrote under them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..store.journal import Event
from .core import REFOLD, Index, Row, Writer, handles, migrations, run_script


@migrations()
def m019_settings_history(db) -> None:
    """Filled by folding: an index that folded settings.changed lines before it knew them (a
    station of an older release sharing the bucket) asks to be rebuilt (``REFOLD``)."""
    run_script(db, f"""
    CREATE TABLE settings_history (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, previous TEXT,
        settings TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL);
    INSERT OR REPLACE INTO meta (key, value) SELECT '{REFOLD}', 'm019_settings_history' WHERE EXISTS (
        SELECT 1 FROM events WHERE type = 'settings.changed');
    """)


@handles("settings.changed")
def _settings_changed(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    """Any enrolled key may write one: a line that says nothing usable is kept as it says it
    (log verify fails it, RK270), never a fold that stops."""
    d = event.data
    conn.execute("INSERT OR REPLACE INTO settings_history (seq, digest, previous, settings, at, actor) "
                 "VALUES (?,?,?,?,?,?)",
                 (event.seq, _text(d.get("digest")), _text(d.get("previous")) if d.get("previous") else None,
                  json.dumps(d.get("settings"), sort_keys=True, ensure_ascii=False), event.at, event.actor))
    return ()


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def last(ix: Index) -> Row | None:
    """The row of the settings the journal last recorded, or None when it records none."""
    return ix.conn.execute("SELECT * FROM settings_history ORDER BY seq DESC LIMIT 1").fetchone()


def history(ix: Index) -> list[Row]:
    """Every recorded change, oldest first."""
    return ix.conn.execute("SELECT * FROM settings_history ORDER BY seq").fetchall()
