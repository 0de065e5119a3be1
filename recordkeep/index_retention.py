"""Projection of retention events: legal holds, records kept by a clerk, disposals.

``holds`` has one row per hold in force (a record, a case or a party); a release
deletes it (the journal keeps the history). ``kept`` lists records a clerk marked
permanent. ``disposals`` remembers why and by whom each blob was disposed of, and
``records.disposed_seq`` is set, so verify reports the record as disposed, not missing.
``retention.locked`` (a blob's Object Lock lengthened) needs no table: the bucket holds
the dates, and the event is found through the records it touches.
"""

from __future__ import annotations

from collections.abc import Iterable

from .index import Writer, bare, handles, migrations
from .journal import Event


@migrations()
def m005_retention(db) -> None:
    db.executescript("""
    CREATE TABLE holds (kind TEXT NOT NULL, ref TEXT NOT NULL, seq INTEGER NOT NULL, reason TEXT,
        PRIMARY KEY (kind, ref)) WITHOUT ROWID;
    CREATE TABLE kept (digest TEXT PRIMARY KEY, seq INTEGER NOT NULL, reason TEXT);
    CREATE TABLE disposals (digest TEXT PRIMARY KEY, seq INTEGER NOT NULL, at TEXT NOT NULL,
        actor TEXT NOT NULL, reason TEXT NOT NULL);
    """)


def hold_refs(data: dict) -> list[tuple[str, str]]:
    """The (kind, ref) pairs a hold or release event names: records, a case or a party."""
    if data.get("digests"):
        return [("record", bare(d)) for d in data["digests"]]
    if data.get("case_no"):
        return [("case", data["case_no"])]
    return [("party", data["party"])]


@handles("retention.held", "retention.released")
def _holds(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    refs = hold_refs(event.data)
    if event.type == "retention.held":
        conn.executemany("INSERT OR REPLACE INTO holds (kind, ref, seq, reason) VALUES (?,?,?,?)",
                         [(k, r, event.seq, event.data.get("reason")) for k, r in refs])
    else:
        conn.executemany("DELETE FROM holds WHERE kind = ? AND ref = ?", refs)
    return refs


@handles("retention.kept")
def _kept(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    digests = [bare(d) for d in event.data["digests"]]
    conn.executemany("INSERT OR IGNORE INTO kept (digest, seq, reason) VALUES (?,?,?)",
                     [(d, event.seq, event.data.get("reason")) for d in digests])
    return [("record", d) for d in digests]


@handles("record.disposed")
def _disposed(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    digest = bare(event.data["digest"])
    conn.execute("INSERT OR IGNORE INTO disposals (digest, seq, at, actor, reason) VALUES (?,?,?,?,?)",
                 (digest, event.seq, event.at, event.actor, event.data["reason"]))
    conn.execute("UPDATE records SET disposed_seq = ? WHERE digest = ? AND disposed_seq IS NULL",
                 (event.seq, digest))
    return [("record", digest)]


@handles("retention.locked")
def _locked(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    return [("record", bare(lock["digest"])) for lock in event.data["locks"]]
