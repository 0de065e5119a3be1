"""Projection of corrections: events that void an earlier one, reopen a case, or amend a record.

Corrections never edit the journal: ``case.voided`` names the seq it voids and the fold takes
that event's effect back out of the live tables (a stage event, a decision, a publication or
close, a link; a voided ``case.opened`` leaves the case with status ``voided``), keeping in
``voids`` who voided it, when and why, for the views to show it struck through.
``case.reopened`` reopens a closed case. ``record.amended`` sets a record's recorded time,
device, officer or doc type; the original and every amendment stay in the journal.
``case_dates`` keeps each publication, close and reopening, so voiding one recomputes the
case's dates from the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..refs import bare, utc_key
from ..store.journal import Event
from .core import REFOLD, Index, Row, Writer, handles, migrations, run_script
from .people import note_officer, officer_of_device


@migrations()
def m012_corrections(db) -> None:
    """The voids and amendments, and each case's dates (filled from the latest publication and
    close an older index knows)."""
    run_script(db, """
    CREATE TABLE voids (voided_seq INTEGER PRIMARY KEY, seq INTEGER NOT NULL, case_no TEXT NOT NULL,
        voided_type TEXT NOT NULL, reason TEXT);
    CREATE INDEX voids_case ON voids (case_no);
    CREATE TABLE amendments (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, changes TEXT NOT NULL,
        previous TEXT NOT NULL, reason TEXT, source TEXT);
    CREATE INDEX amendments_digest ON amendments (digest);
    CREATE TABLE case_dates (seq INTEGER PRIMARY KEY, case_no TEXT NOT NULL, kind TEXT NOT NULL, at TEXT);
    CREATE INDEX case_dates_case ON case_dates (case_no, seq);
    INSERT OR IGNORE INTO case_dates (seq, case_no, kind, at)
        SELECT max(e.seq), c.case_no, 'published', c.published_at FROM cases c
        JOIN event_touches t ON t.kind = 'case' AND t.ref = c.case_no JOIN events e ON e.seq = t.seq
        WHERE e.type = 'case.published' AND c.published_at IS NOT NULL GROUP BY c.case_no;
    INSERT OR IGNORE INTO case_dates (seq, case_no, kind, at)
        SELECT max(e.seq), c.case_no, 'closed', c.closed_at FROM cases c
        JOIN event_touches t ON t.kind = 'case' AND t.ref = c.case_no JOIN events e ON e.seq = t.seq
        WHERE e.type = 'case.closed' AND c.closed_at IS NOT NULL GROUP BY c.case_no;
    """)


@migrations()
def m021_publication_sources(db) -> None:
    """A publication transcribed from a record of it (``case publish --transcribed-from``)
    names it, as a stage act does."""
    run_script(db, "ALTER TABLE case_dates ADD COLUMN transcribed_from TEXT;")


def note_date(conn: Writer, event: Event, kind: str) -> None:
    """Remember a publication, close or reopening of a case, then set its dates from them."""
    source = event.data.get("transcribed_from")
    conn.execute("INSERT OR REPLACE INTO case_dates (seq, case_no, kind, at, transcribed_from) "
                 "VALUES (?,?,?,?,?)",
                 (event.seq, event.data["case_no"], kind, event.data.get("at") or event.at,
                  bare(source) if source else None))
    case_dates_from_events(conn, event.data["case_no"])


def case_dates_from_events(conn: Writer, case_no: str) -> None:
    """The case's published_at (its latest publication), closed_at and status (closed when its
    latest close comes after its latest reopening) from ``case_dates``; a voided case stays so."""
    latest = {kind: conn.execute("SELECT seq, at FROM case_dates WHERE case_no = ? AND kind = ? "
                                 "ORDER BY seq DESC LIMIT 1", (case_no, kind)).fetchone()
              for kind in ("published", "closed", "reopened")}
    closed, reopened = latest["closed"], latest["reopened"]
    is_closed = closed is not None and (reopened is None or closed[0] > reopened[0])
    conn.execute("UPDATE cases SET published_at = ?, closed_at = ?, "
                 "status = CASE WHEN status = 'voided' THEN status WHEN ? THEN 'closed' ELSE 'open' END "
                 "WHERE case_no = ?", (latest["published"][1] if latest["published"] else None,
                                       closed[1] if is_closed else None, int(is_closed), case_no))


@handles("case.reopened")
def _reopened(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    note_date(conn, event, "reopened")
    return [("case", event.data["case_no"])]


@handles("case.voided")
def _voided(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    seq, case_no, kind = d["voided_seq"], d["case_no"], d["voided_type"]
    conn.execute("INSERT OR REPLACE INTO voids (voided_seq, seq, case_no, voided_type, reason) "
                 "VALUES (?,?,?,?,?)", (seq, event.seq, case_no, kind, d.get("reason")))
    touched = [("case", case_no)]
    if kind == "case.stage":
        conn.execute("DELETE FROM stage_events WHERE seq = ?", (seq,))
    elif kind == "case.decided":
        conn.execute("DELETE FROM decisions WHERE seq = ?", (seq,))
    elif kind in ("case.published", "case.closed", "case.reopened"):
        conn.execute("DELETE FROM case_dates WHERE seq = ?", (seq,))
        case_dates_from_events(conn, case_no)
    elif kind == "record.linked":
        touched += [("record", x) for x in _void_link(conn, seq)]
    elif kind == "case.opened":
        conn.execute("UPDATE cases SET status = 'voided' WHERE case_no = ?", (case_no,))
    return touched


_PLACE = "digest = ? AND case_no = ? AND stage = ? AND party = ?"


def _void_link(conn: Writer, seq: int) -> list[str]:
    """Strike what ``record.linked`` event ``seq`` did: a link it made passes to the earliest
    event that linked the same record there again (``repeats``), or goes; a repeat it was
    stops counting. The digests touched."""
    made = conn.execute("SELECT digest, case_no, stage, party, repeats FROM links WHERE seq = ?",
                        (seq,)).fetchall()
    for digest, case_no, stage, party, repeats in made:
        later, place = json.loads(repeats) if repeats else [], (digest, case_no, stage, party)
        if later:
            conn.execute(f"UPDATE links SET seq = ?, repeats = ? WHERE {_PLACE}",
                         (later[0], json.dumps(later[1:]) if later[1:] else None, *place))
        else:
            conn.execute(f"DELETE FROM links WHERE {_PLACE}", place)
    repeated = conn.execute(
        "UPDATE links SET repeats = (SELECT nullif(json_group_array(value), '[]') "
        "FROM json_each(links.repeats) WHERE value != :seq) "
        "WHERE repeats IS NOT NULL AND :seq IN (SELECT value FROM json_each(links.repeats)) "
        "RETURNING digest", {"seq": seq}).fetchall()
    return sorted({row[0] for row in made} | {row[0] for row in repeated})


@migrations()
def m018_imported_times(db) -> None:
    """The time, source and conflict the import learned for a record whose time was amended
    (kept at its first amendment), so typing that time again restores them. An index with
    amended times already lost them: it asks to be rebuilt (``REFOLD``)."""
    run_script(db, f"""
    CREATE TABLE imported_times (digest TEXT PRIMARY KEY, recorded_utc TEXT, time_source TEXT,
        time_conflict TEXT) WITHOUT ROWID;
    INSERT OR REPLACE INTO meta (key, value) SELECT '{REFOLD}', 'm018_imported_times' WHERE EXISTS (
        SELECT 1 FROM amendments WHERE json_extract(changes, '$.recorded_at') IS NOT NULL);
    """)


AMENDABLE = ("recorded_at", "device", "officer", "doc_type")


# dispose replays the same rule from the journal (protection.py ``_times``): change both together
_AMEND_TIME = (
    "UPDATE records SET recorded_at = :at, recorded_utc = :utc, (time_source, time_conflict) = "
    "(SELECT CASE WHEN :cited THEN 'source' WHEN i.recorded_utc = :utc THEN i.time_source "
    "ELSE 'amended' END, "
    "CASE WHEN NOT :cited AND i.recorded_utc = :utc THEN i.time_conflict END "
    "FROM imported_times i WHERE i.digest = :digest) WHERE digest = :digest")


@handles("record.amended")
def _amended(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    digest, changes = bare(d["digest"]), d["changes"]
    conn.execute("INSERT OR REPLACE INTO amendments (seq, digest, changes, previous, reason, source) "
                 "VALUES (?,?,?,?,?,?)", (event.seq, digest, json.dumps(changes, ensure_ascii=False),
                                          json.dumps(d.get("previous", {}), ensure_ascii=False),
                                          d.get("reason"), d.get("source")))
    if "recorded_at" in changes:  # 'source': the time is carried by a cited record; 'amended': typed;
        # the time the import learned, typed again, is the import's again (with its source)
        conn.execute("INSERT OR IGNORE INTO imported_times (digest, recorded_utc, time_source, "
                     "time_conflict) SELECT digest, recorded_utc, time_source, time_conflict FROM records "
                     "WHERE digest = ?", (digest,))
        conn.execute(_AMEND_TIME, {"at": changes["recorded_at"], "utc": utc_key(changes["recorded_at"]),
                                   "cited": bool(d.get("source")), "digest": digest})
    if "device" in changes:
        conn.execute("UPDATE records SET device = ? WHERE digest = ?", (changes["device"], digest))
    if "doc_type" in changes:
        doc_type_changed(conn, event, digest, changes["doc_type"])
    if "officer" in changes:
        conn.execute("UPDATE records SET officer = ?, officer_source = 'amended' WHERE digest = ?",
                     (changes["officer"], digest))
        note_officer(conn, changes["officer"], event.seq)
    elif {"device", "recorded_at"} & set(changes):  # an officer taken from the device follows it
        row = conn.execute("SELECT device, recorded_at, officer_source FROM records WHERE digest = ?",
                           (digest,)).fetchone()
        if row is not None and row[2] in (None, "device") and row[0]:
            officer = officer_of_device(_Reader(conn), row[0], row[1])
            conn.execute("UPDATE records SET officer = ?, officer_source = ? WHERE digest = ?",
                         (officer, "device" if officer else None, digest))
    # the cases and parties it is linked to are touched too: their logs show what changed in them
    return [("record", digest), *linked_places(conn, digest)]


@migrations()
def m023_doc_type_history(db) -> None:
    """Every change of a record's doc type, by an amendment or by a sighting that names another
    (``doc_types``: seq, digest, before, after): check dates a relabel by it. Sightings' doc
    types are in the journal only: an index that folded a sighting of a record with a doc type
    (a sighting sets one, never clears it) asks to be rebuilt (``REFOLD``)."""
    run_script(db, f"""
    CREATE TABLE doc_types (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, before TEXT, after TEXT);
    CREATE INDEX doc_types_digest ON doc_types (digest);
    INSERT INTO doc_types (seq, digest, before, after)
        SELECT seq, digest, json_extract(previous, '$.doc_type'), json_extract(changes, '$.doc_type')
        FROM amendments WHERE json_extract(changes, '$.doc_type') IS NOT NULL;
    INSERT OR REPLACE INTO meta (key, value) SELECT '{REFOLD}', 'm023_doc_type_history' WHERE EXISTS (
        SELECT 1 FROM records r JOIN sightings s ON s.digest = r.digest JOIN events e ON e.seq = s.seq
        WHERE r.doc_type IS NOT NULL AND e.type = 'record.seen');
    """)


def doc_type_changed(conn: Writer, event: Event, digest: str, doc_type: str) -> list[tuple[str, str]]:
    """Set a record's doc type, remembering the change (``doc_types``) when it is one; the
    cases and parties it is linked to, which it touches."""
    row = conn.execute("SELECT doc_type FROM records WHERE digest = ?", (digest,)).fetchone()
    if row is None or row[0] == doc_type:
        return []
    conn.execute("INSERT OR REPLACE INTO doc_types (seq, digest, before, after) VALUES (?,?,?,?)",
                 (event.seq, digest, row[0], doc_type))
    conn.execute("UPDATE records SET doc_type = ? WHERE digest = ?", (doc_type, digest))
    return linked_places(conn, digest)


def linked_places(conn: Writer, digest: str) -> list[tuple[str, str]]:
    """("case", NO) and ("party", P) of every link of the record."""
    linked = conn.execute("SELECT DISTINCT case_no, party FROM links WHERE digest = ?", (digest,)).fetchall()
    return [*{("case", row[0]) for row in linked if row[0]}, *{("party", row[1]) for row in linked if row[1]}]


@migrations()
def m022_amendments_touch_cases(db) -> None:
    """An amendment of a linked record touches its cases and parties. An index that folded one
    before did not note it: it asks to be rebuilt (``REFOLD``)."""
    run_script(db, f"""
    INSERT OR REPLACE INTO meta (key, value) SELECT '{REFOLD}', 'm022_amendments_touch_cases' WHERE EXISTS (
        SELECT 1 FROM amendments);
    """)


class _Reader:
    """What a query over an ``Index`` needs (its ``conn``), for a query run inside a fold."""

    def __init__(self, conn: Writer) -> None:
        self.conn = conn


# -- queries -------------------------------------------------------------------------
def voids_of_case(ix: Index, case_no: str) -> list[Row]:
    """Every void of the case's events, with who voided it and when (``actor``, ``at``)."""
    return ix.conn.execute("SELECT v.*, e.actor, e.at FROM voids v JOIN events e ON e.seq = v.seq "
                           "WHERE v.case_no = ? ORDER BY v.voided_seq", (case_no,)).fetchall()


def void_of(ix: Index, seq: int) -> Row | None:
    """The void of event ``seq``, when it was voided."""
    return ix.conn.execute("SELECT v.*, e.actor, e.at FROM voids v JOIN events e ON e.seq = v.seq "
                           "WHERE v.voided_seq = ?", (seq,)).fetchone()


def voided_seqs(ix: Index, seqs: list[int]) -> dict[int, Row]:
    """The voids among ``seqs`` (voided seq -> its void)."""
    rows = ix.conn.execute("SELECT v.*, e.actor, e.at FROM voids v JOIN events e ON e.seq = v.seq "
                           "WHERE v.voided_seq IN (SELECT value FROM json_each(?))", (json.dumps(seqs),))
    return {row["voided_seq"]: row for row in rows}


def amendments(ix: Index, digest: str) -> list[Row]:
    """A record's amendments, oldest first, with who made them."""
    return ix.conn.execute("SELECT a.*, e.actor, e.at FROM amendments a JOIN events e ON e.seq = a.seq "
                           "WHERE a.digest = ? ORDER BY a.seq", (digest,)).fetchall()


def last_dates(ix: Index, case_no: str) -> list[Row]:
    """The case's publications, closes and reopenings in force, by seq, each with the actor who
    entered it (when: by its seq, ``refs.EntryTimes`` of ``dossier.case_times``)."""
    return ix.conn.execute("SELECT d.*, e.actor FROM case_dates d JOIN events e ON e.seq = d.seq "
                           "WHERE d.case_no = ? ORDER BY d.seq", (case_no,)).fetchall()


def publication(ix: Index, case_no: str) -> Row | None:
    """The case's publication in force (its latest): its seq, ``at`` as claimed and the record
    it was transcribed from."""
    return ix.conn.execute("SELECT seq, at, transcribed_from FROM case_dates WHERE case_no = ? "
                           "AND kind = 'published' ORDER BY seq DESC LIMIT 1", (case_no,)).fetchone()
