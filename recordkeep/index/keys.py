"""Projection of keys (enrolled, revoked) and signed batches into the index.

``keys`` holds each key the journal names: its public key, its actor, its roles, when it was
enrolled and, once revoked, when and why. The founding key of a store is known from its
``store.created``, the journal's first event (its roles come with its ``key.enrolled`` in the same
batch); any other enrolment or revocation is folded only from a batch an admin key sealed
(core's ``Index._admin_sealed``). A revoked key's row never changes again: enrolling it
again does not undo the revocation (``log verify`` fails it). ``batches`` holds each
``batch.signed``: the events it seals and its signature (whether the signature
holds is the trust package's to say; the index only remembers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..store.journal import Event
from .core import REFOLD, Index, Row, Writer, handles, migrations, run_script


@migrations()
def m008_keys(db) -> None:
    run_script(db, """
    CREATE TABLE keys (key TEXT PRIMARY KEY, public_key TEXT NOT NULL, actor TEXT NOT NULL,
        roles TEXT NOT NULL, enrolled_seq INTEGER NOT NULL, revoked_seq INTEGER, reason TEXT);
    CREATE INDEX keys_actor ON keys (actor);
    CREATE TABLE batches (seal INTEGER PRIMARY KEY, first INTEGER NOT NULL, last INTEGER NOT NULL,
        key TEXT NOT NULL, head TEXT NOT NULL, sig TEXT NOT NULL);
    CREATE INDEX batches_last ON batches (last);
    """)


@migrations()
def m017_revocations_stand(db) -> None:
    """Indexes of earlier releases let a revoked key enrolled again lose its revocation (the
    enrolment replaced the row): every key the journal revoked is revoked again, from the
    index's own record of which events touched it (its first revocation; the reason is the
    journal's, shown again after ``rebuild-index``)."""
    run_script(db, """
    UPDATE keys SET revoked_seq = (SELECT min(e.seq) FROM event_touches t JOIN events e ON e.seq = t.seq
        WHERE t.kind = 'key' AND t.ref = keys.key AND e.type = 'key.revoked')
    WHERE revoked_seq IS NULL;
    """)


@migrations()
def m024_keys_from_admins(db) -> None:
    """Indexes of earlier releases folded an enrolment, a revocation or a record of the settings
    whatever key sealed its batch: one whose batch (after the store's first) no admin key
    sealed, or was sealed by a key whose row that batch or a later one wrote (a clerk who
    enrolled herself again as admin holds admin now), asks for a rebuild (``REFOLD``), which
    records it without its effect."""
    run_script(db, f"""
    INSERT OR REPLACE INTO meta (key, value) SELECT '{REFOLD}', 'm024_keys_from_admins' WHERE EXISTS (
        SELECT 1 FROM events e JOIN batches b ON b.first <= e.seq AND b.seal >= e.seq
        WHERE e.type IN ('key.enrolled', 'key.revoked', 'settings.changed') AND b.first > 1 AND (NOT EXISTS (
            SELECT 1 FROM keys k, json_each(k.roles) r WHERE k.key = b.key AND r.value = 'admin')
            OR EXISTS (SELECT 1 FROM keys k WHERE k.key = b.key AND k.enrolled_seq >= b.first)));
    """)


def founding_key(conn: Writer, event: Event) -> None:
    """The key that signs a new store's first batch, from its ``store.created`` (the journal's
    first event: a later one founds nothing)."""
    d = event.data
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('layout', ?)", (d.get("layout", ""),))
    if d.get("admin_key") and d.get("public_key"):
        conn.execute("INSERT OR IGNORE INTO keys (key, public_key, actor, roles, enrolled_seq) "
                     "VALUES (?,?,?,?,?)", (d["admin_key"], d["public_key"], event.actor, "[]", event.seq))


@handles("key.enrolled", "key.revoked")
def _keys(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    if event.type == "key.enrolled":  # a revoked key's row never changes again: it stays revoked
        conn.execute("INSERT INTO keys (key, public_key, actor, roles, enrolled_seq) VALUES (?,?,?,?,?) "
                     "ON CONFLICT (key) DO UPDATE SET public_key = excluded.public_key, "
                     "actor = excluded.actor, roles = excluded.roles, enrolled_seq = excluded.enrolled_seq "
                     "WHERE keys.revoked_seq IS NULL",
                     (d["key"], d["public_key"], d["actor"], json.dumps(d.get("roles", [])), event.seq))
    else:
        conn.execute("UPDATE keys SET revoked_seq = ?, reason = ? WHERE key = ? AND revoked_seq IS NULL",
                     (event.seq, d.get("reason"), d["key"]))
    return [("key", d["key"])]


@handles("batch.signed")
def _batch(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.add("INSERT INTO batches (seal, first, last, key, head, sig) VALUES (?,?,?,?,?,?)",
             (event.seq, d["from"], d["to"], d["key"], d["head"], d["sig"]))
    return ()


# -- queries -------------------------------------------------------------------------
def key(ix: Index, key_id: str) -> Row | None:
    return ix.conn.execute("SELECT * FROM keys WHERE key = ?", (key_id,)).fetchone()


def all_keys(ix: Index) -> list[Row]:
    """Every key, in the order enrolled."""
    return ix.conn.execute("SELECT * FROM keys ORDER BY enrolled_seq, key").fetchall()


def live_admins(ix: Index) -> list[str]:
    """The ids of the keys with the admin role that are not revoked."""
    return [r[0] for r in ix.conn.execute(
        "SELECT key FROM keys WHERE revoked_seq IS NULL AND EXISTS (SELECT 1 FROM json_each(keys.roles) "
        "WHERE value = 'admin') ORDER BY enrolled_seq, key")]


def batch_of(ix: Index, seq: int) -> Row | None:
    """The batch that seals the event ``seq`` (its seal included)."""
    return ix.conn.execute("SELECT * FROM batches WHERE first <= ? AND seal >= ? ORDER BY seal LIMIT 1",
                           (seq, seq)).fetchone()


def first_seal(ix: Index) -> int | None:
    """The seq of the journal's first ``batch.signed`` (None: the store signs nothing yet)."""
    return ix.conn.execute("SELECT min(seal) FROM batches").fetchone()[0]


def roles_of_batch(ix: Index, seq: int) -> frozenset[str]:
    """The roles of the key that signed the batch holding event ``seq`` (empty when unsigned)."""
    row = ix.conn.execute("SELECT k.roles FROM batches b JOIN keys k ON k.key = b.key WHERE b.first <= ? "
                          "AND b.seal >= ? ORDER BY b.seal LIMIT 1", (seq, seq)).fetchone()
    return frozenset(json.loads(row[0])) if row else frozenset()


def batches_between(ix: Index, first: int, last: int) -> list[Row]:
    """The batches sealing any event from ``first`` to ``last``."""
    return ix.conn.execute("SELECT * FROM batches WHERE seal >= ? AND first <= ? ORDER BY seal",
                           (first, last)).fetchall()
