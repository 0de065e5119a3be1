"""Projection of ``settings.changed``: the history of the settings the store's writers ran under.

``settings_history`` holds one row per change the journal records: its seq, the settings'
digest and the one before, the settings themselves (JSON, as journaled), and when and by
whom (the signer of the batch that first wrote under them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..store.journal import Event
from .core import Index, Row, Writer, handles, migrations, run_script


@migrations()
def m019_settings_history(db) -> None:
    """Empty in an index of a journal from before the event: nothing to fold again."""
    run_script(db, """
    CREATE TABLE settings_history (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, previous TEXT,
        settings TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL);
    """)


@handles("settings.changed")
def _settings_changed(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.execute("INSERT OR REPLACE INTO settings_history (seq, digest, previous, settings, at, actor) "
                 "VALUES (?,?,?,?,?,?)",
                 (event.seq, d["digest"], d.get("previous"),
                  json.dumps(d.get("settings"), sort_keys=True, ensure_ascii=False), event.at, event.actor))
    return ()


def last_digest(ix: Index) -> str | None:
    """The digest of the settings the journal last recorded, or None when it records none."""
    row = ix.conn.execute("SELECT digest FROM settings_history ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else row["digest"]


def history(ix: Index) -> list[Row]:
    """Every recorded change, oldest first."""
    return ix.conn.execute("SELECT * FROM settings_history ORDER BY seq").fetchall()
