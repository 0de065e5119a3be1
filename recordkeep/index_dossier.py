"""Projection of parties, cases, stages, decisions and links (一户式) into the index."""

from __future__ import annotations

import json
from collections.abc import Iterable

from .index import Writer, bare, handles, migrations, utc_key
from .index_people import note_officer
from .journal import Event


@migrations()
def m003_dossier(db) -> None:
    db.executescript("""
    CREATE TABLE parties (key TEXT PRIMARY KEY, num INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL,
        name TEXT NOT NULL, id_number TEXT UNIQUE, credit_code TEXT UNIQUE, address TEXT, phone TEXT,
        seq INTEGER NOT NULL);
    CREATE INDEX parties_name ON parties (name);
    CREATE TABLE cases (case_no TEXT PRIMARY KEY, case_key TEXT NOT NULL UNIQUE, title TEXT,
        status TEXT NOT NULL, opened_at TEXT, published_at TEXT, closed_at TEXT, seq INTEGER NOT NULL);
    CREATE TABLE case_parties (case_no TEXT NOT NULL, party TEXT NOT NULL,
        PRIMARY KEY (case_no, party)) WITHOUT ROWID;
    CREATE INDEX case_parties_party ON case_parties (party);
    CREATE TABLE case_officers (case_no TEXT NOT NULL, officer TEXT NOT NULL,
        PRIMARY KEY (case_no, officer)) WITHOUT ROWID;
    CREATE TABLE stage_events (seq INTEGER PRIMARY KEY, case_no TEXT NOT NULL, stage TEXT NOT NULL,
        at TEXT, at_utc TEXT, until TEXT, until_utc TEXT, officers TEXT NOT NULL,
        on_site INTEGER NOT NULL, action TEXT, note TEXT);
    CREATE INDEX stage_events_case ON stage_events (case_no, stage, at_utc);
    CREATE TABLE decisions (case_no TEXT NOT NULL, party TEXT NOT NULL, penalty_kind TEXT NOT NULL,
        amount TEXT, at TEXT, seq INTEGER NOT NULL, PRIMARY KEY (case_no, party)) WITHOUT ROWID;
    CREATE TABLE links (digest TEXT NOT NULL, case_no TEXT NOT NULL DEFAULT '',
        stage TEXT NOT NULL DEFAULT '', party TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL,
        PRIMARY KEY (digest, case_no, stage, party)) WITHOUT ROWID;
    CREATE INDEX links_case ON links (case_no, stage);
    CREATE INDEX links_party ON links (party);
    CREATE TABLE pii_shown (seq INTEGER PRIMARY KEY, party TEXT NOT NULL);
    """)


@handles("party.added")
def _party_added(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.add("INSERT INTO parties (key, num, kind, name, id_number, credit_code, address, phone, seq) "
             "VALUES (?,?,?,?,?,?,?,?,?)",
             (d["key"], int(d["key"][1:]), d["kind"], d["name"], d.get("id_number"),
              d.get("credit_code"), d.get("address"), d.get("phone"), event.seq))
    return [("party", d["key"])]


@handles("party.pii_shown")
def _pii_shown(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    conn.add("INSERT INTO pii_shown (seq, party) VALUES (?, ?)", (event.seq, event.data["party"]))
    return [("party", event.data["party"])]


@handles("case.opened")
def _case_opened(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.add("INSERT INTO cases (case_no, case_key, title, status, opened_at, seq) VALUES (?,?,?,?,?,?)",
             (d["case_no"], d["case_key"], d.get("title"), "open", d.get("at"), event.seq))
    for party in d.get("parties", []):
        conn.add("INSERT OR IGNORE INTO case_parties (case_no, party) VALUES (?, ?)", (d["case_no"], party))
    _case_officers(conn, d["case_no"], d.get("officers", []), event.seq)
    return [("case", d["case_no"])] + [("party", p) for p in d.get("parties", [])]


def _case_officers(conn: Writer, case_no: str, officers: list[str], seq: int) -> None:
    for officer in officers:
        note_officer(conn, officer, seq)
        conn.add("INSERT OR IGNORE INTO case_officers (case_no, officer) VALUES (?, ?)", (case_no, officer))


@handles("case.stage")
def _case_stage(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.add("INSERT INTO stage_events (seq, case_no, stage, at, at_utc, until, until_utc, officers, "
             "on_site, action, note) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
             (event.seq, d["case_no"], d["stage"], d.get("at"), utc_key(d.get("at")), d.get("until"),
              utc_key(d.get("until")), json.dumps(d.get("officers", []), ensure_ascii=False),
              int(bool(d.get("on_site"))), d.get("action"), d.get("note")))
    _case_officers(conn, d["case_no"], d.get("officers", []), event.seq)
    return [("case", d["case_no"])]


@handles("case.decided")
def _case_decided(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.add("INSERT OR REPLACE INTO decisions (case_no, party, penalty_kind, amount, at, seq) "
             "VALUES (?,?,?,?,?,?)",
             (d["case_no"], d["party"], d["penalty_kind"], d.get("amount"), d.get("at"), event.seq))
    return [("case", d["case_no"]), ("party", d["party"])]


@handles("case.published", "case.closed")
def _case_dates(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    if event.type == "case.published":
        conn.execute("UPDATE cases SET published_at = ? WHERE case_no = ?", (d.get("at"), d["case_no"]))
    else:
        conn.execute("UPDATE cases SET closed_at = ?, status = 'closed' WHERE case_no = ?",
                     (d.get("at"), d["case_no"]))
    return [("case", d["case_no"])]


@handles("record.linked", "record.unlinked")
def _links(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    case_no, party = d.get("case_no") or "", d.get("party") or ""
    digests = [bare(x) for x in d["digests"]]
    if event.type == "record.linked":
        stage = d.get("stage") or ""
        for x in digests:
            conn.add("INSERT OR IGNORE INTO links (digest, case_no, stage, party, seq) VALUES (?,?,?,?,?)",
                     (x, case_no, stage, party, event.seq))
    else:
        stage = d.get("stage")
        for x in digests:
            conn.execute("DELETE FROM links WHERE digest = ? AND case_no = ? AND (? IS NULL OR stage = ?)",
                         (x, case_no, stage, stage))
    touched = [("record", x) for x in digests]
    if case_no:
        touched.append(("case", case_no))
    if party:
        touched.append(("party", party))
    return touched
