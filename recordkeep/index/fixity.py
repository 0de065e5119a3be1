"""Projection of verify runs per record: when its bytes were last re-hashed, and with what result.

``fixity`` holds one row per record a full verify run checked: the seq and time of the last
``verify.run`` that re-hashed it and whether it matched (``ok``). A run lists the records it
checked (``digests``; a rolling audit journals one event per few seconds of checking), or
covers the whole store: then every record journaled up to ``through_seq`` (older runs: every
record before the run) that was not disposed of. Fast runs (size only) prove no byte and
count for nothing here. The queries order records for the rolling audit (never verified
first, by import; then the least recently verified) and count them by age for
``verify --status``.
"""

from __future__ import annotations

import json

from ..refs import bare, utc_key
from ..store.journal import Event
from .core import Index, Row, Writer, migrations, run_script

_ALL = '{"all": true}'


@migrations()
def m014_fixity(db) -> None:
    """The last full verification of each record, filled from the verify runs an older index
    folded: a whole-store run counts for the records imported before it and not disposed of by
    then, a scoped run for the records it names (``event_touches``)."""
    run_script(db, f"""
    CREATE TABLE fixity (digest TEXT PRIMARY KEY, seq INTEGER NOT NULL, at TEXT NOT NULL,
        at_utc TEXT NOT NULL, ok INTEGER NOT NULL);
    CREATE INDEX fixity_seq ON fixity (seq);
    INSERT INTO fixity (digest, seq, at, at_utc, ok)
        SELECT digest, seq, at, at, ok FROM (
            SELECT r.digest, v.seq, v.at,
                NOT EXISTS (SELECT 1 FROM json_each(coalesce(v.problems, '[]')) p
                            WHERE json_extract(p.value, '$.digest') = r.digest) AS ok,
                row_number() OVER (PARTITION BY r.digest ORDER BY v.seq DESC) AS n
            FROM verifications v JOIN records r
                ON (v.scope = '{_ALL}' AND r.first_seq < v.seq
                    AND (r.disposed_seq IS NULL OR r.disposed_seq > v.seq))
                OR (v.scope != '{_ALL}' AND EXISTS (SELECT 1 FROM event_touches t WHERE t.kind = 'record'
                    AND t.ref = r.digest AND t.seq = v.seq))
            WHERE v.mode = 'full')
        WHERE n = 1;
    """)
    db.execute("UPDATE fixity SET at_utc = coalesce(rk_utc(at), at)")  # filled with the local time above


def note_run(conn: Writer, event: Event) -> None:
    """Fold a ``verify.run``: the records a full run re-hashed, each with its result."""
    d = event.data
    if d.get("mode") != "full":
        return
    row = (event.seq, event.at, utc_key(event.at) or event.at)
    columns = ("INSERT OR REPLACE INTO fixity (digest, seq, at, at_utc, ok) "
               "SELECT digest, ?, ?, ?, 1 FROM records ")
    if "digests" in d:
        conn.execute(columns + "WHERE digest IN (SELECT value FROM json_each(?)) AND disposed_seq IS NULL",
                     (*row, json.dumps([bare(x) for x in d["digests"]])))
    elif d.get("scope") == {"all": True}:
        conn.execute(columns + "WHERE first_seq <= ? AND disposed_seq IS NULL",
                     (*row, d.get("through_seq", event.seq - 1)))
    else:
        return
    bad = sorted({bare(p["digest"]) for p in d.get("problems", []) if p.get("digest")})
    if bad:
        conn.execute("UPDATE fixity SET ok = 0 WHERE seq = ? AND digest IN (SELECT value FROM json_each(?))",
                     (event.seq, json.dumps(bad)))


# -- queries -------------------------------------------------------------------------
_QUEUE = ("SELECT r.digest, r.size, r.first_at, f.seq AS verified_seq, f.at AS verified_at, f.ok "
          "FROM records r LEFT JOIN fixity f ON f.digest = r.digest WHERE r.disposed_seq IS NULL "
          "ORDER BY f.seq IS NOT NULL, f.seq, r.first_seq, r.digest LIMIT ?")


def queue(ix: Index, limit: int) -> list[Row]:
    """The first ``limit`` records (not disposed of) in the rolling audit's order: never
    verified first (by import), then the least recently verified. Each: digest, size,
    first_at, and of its last full verification verified_seq, verified_at and ok (None when never)."""
    return ix.conn.execute(_QUEUE, (limit,)).fetchall()


def failing(ix: Index, limit: int) -> list[Row]:
    """The first ``limit`` records (not disposed of) whose last full verification found a
    problem, by that verification: digest, size, verified_seq, verified_at."""
    return ix.conn.execute(
        "SELECT r.digest, r.size, f.seq AS verified_seq, f.at AS verified_at FROM records r "
        "JOIN fixity f ON f.digest = r.digest WHERE r.disposed_seq IS NULL AND f.ok = 0 "
        "ORDER BY f.seq, r.digest LIMIT ?", (limit,)).fetchall()


def ages(ix: Index, under_30: str, under_90: str, due: str) -> Row:
    """Records not disposed of, counted by their last full verification against UTC keys:
    ``records``, ``bytes``, ``never``, ``under_30_days`` (at or after ``under_30``),
    ``under_90_days``, ``older``; ``overdue``: last verified (never verified: imported)
    before ``due``; ``failing``: their last verification found a problem."""
    return ix.conn.execute(
        "SELECT COUNT(*) AS records, coalesce(SUM(r.size), 0) AS bytes, "
        "coalesce(SUM(f.digest IS NULL), 0) AS never, "
        "coalesce(SUM(f.at_utc >= ?), 0) AS under_30_days, "
        "coalesce(SUM(f.at_utc < ? AND f.at_utc >= ?), 0) AS under_90_days, "
        "coalesce(SUM(f.at_utc < ?), 0) AS older, "
        "coalesce(SUM(coalesce(f.at_utc, rk_utc(r.first_at)) < ?), 0) AS overdue, "
        "coalesce(SUM(f.ok = 0), 0) AS failing "
        "FROM records r LEFT JOIN fixity f ON f.digest = r.digest WHERE r.disposed_seq IS NULL",
        (under_30, under_30, under_90, under_90, due)).fetchone()

