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

from ..refs import bare
from ..store.journal import Event
from .core import Index, Row, Writer, handles, migrations, run_script


@migrations()
def m005_retention(db) -> None:
    run_script(db, """
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


# -- queries -------------------------------------------------------------------------
def kept_reason(ix: Index, digest: str) -> tuple[bool, str | None]:
    """Whether a clerk kept the record permanently, and why."""
    row = ix.conn.execute("SELECT reason FROM kept WHERE digest = ?", (digest,)).fetchone()
    return (row is not None, row[0] if row else None)


def holds_covering(ix: Index, digest: str) -> list[str]:
    """The holds in force over a record: "record", "case NO", "party P1"."""
    rows = ix.conn.execute(
        "SELECT 'record' AS what FROM holds WHERE kind = 'record' AND ref = :d "
        "UNION SELECT 'case ' || h.ref FROM holds h JOIN links l ON h.kind = 'case' "
        "AND l.case_no = h.ref WHERE l.digest = :d "
        "UNION SELECT 'party ' || h.ref FROM holds h JOIN links l ON h.kind = 'party' "
        "AND l.party = h.ref WHERE l.digest = :d "
        "UNION SELECT 'party ' || h.ref FROM holds h JOIN case_parties cp ON h.kind = 'party' "
        "AND cp.party = h.ref JOIN links l ON l.case_no = cp.case_no WHERE l.digest = :d "
        "ORDER BY 1", {"d": digest})
    return [r[0] for r in rows]


def holds_over_party(ix: Index, key: str) -> list[str]:
    """The holds in force over a party: on it ("party P1") or on one of its cases ("case NO")."""
    rows = ix.conn.execute(
        "SELECT 'party ' || ref FROM holds WHERE kind = 'party' AND ref = :p "
        "UNION SELECT 'case ' || h.ref FROM holds h JOIN case_parties cp ON h.kind = 'case' "
        "AND cp.case_no = h.ref WHERE cp.party = :p ORDER BY 1", {"p": key})
    return [r[0] for r in rows]


def is_held(ix: Index, kind: str, ref: str) -> bool:
    found = ix.conn.execute("SELECT 1 FROM holds WHERE kind = ? AND ref = ?", (kind, ref)).fetchone()
    return found is not None


def disposal_candidates(ix: Index) -> list[Row]:
    """Records that nothing keeps: not disposed of, not important, unlinked, not kept, not held
    themselves; oldest recorded (else imported) first."""
    return ix.conn.execute(
        "SELECT r.* FROM records r WHERE r.disposed_seq IS NULL AND r.important = 0 "
        "AND NOT EXISTS (SELECT 1 FROM links l WHERE l.digest = r.digest) "
        "AND NOT EXISTS (SELECT 1 FROM kept k WHERE k.digest = r.digest) "
        "AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.kind = 'record' AND h.ref = r.digest) "
        "ORDER BY coalesce(r.recorded_utc, r.first_at), r.digest").fetchall()


def holds(ix: Index) -> list[dict]:
    """Holds in force, oldest first: kind, ref, seq, reason, since (at), by (actor), and the
    number of records each covers."""
    conn = ix.conn
    out = []
    for row in conn.execute("SELECT h.*, e.at, e.actor FROM holds h JOIN events e ON e.seq = h.seq "
                            "ORDER BY h.seq, h.kind, h.ref"):
        kind, ref = row["kind"], row["ref"]
        if kind == "record":
            covered = 1
        elif kind == "case":
            covered = conn.execute("SELECT COUNT(DISTINCT digest) FROM links WHERE case_no = ?",
                                   (ref,)).fetchone()[0]
        else:
            covered = conn.execute(
                "SELECT COUNT(DISTINCT digest) FROM links WHERE party = ? OR case_no IN "
                "(SELECT case_no FROM case_parties WHERE party = ?)", (ref, ref)).fetchone()[0]
        out.append({"kind": kind, "ref": ref, "since": row["at"], "by": row["actor"],
                    "reason": row["reason"], "records": covered, "seq": row["seq"]})
    return out
