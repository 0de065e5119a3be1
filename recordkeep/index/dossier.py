"""Projection of parties, cases, stages, decisions and links (一户式) into the index.

Parties hold their identity and phone numbers masked only (``id_mask``, ``phone_mask``):
the values are in the vault. An event from before the vault (``party.added`` with a plain
``id_number`` or ``phone``) is folded masked all the same and the party marked
``legacy_pii``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..ids import mask_id_number, mask_phone
from ..refs import bare, utc_key
from ..store.journal import Event
from .core import REFOLD, Index, Row, Writer, handles, migrations, run_script
from .corrections import case_dates_from_events, note_date
from .fts import QUEUE, flush_triggers, recreate
from .people import note_officer


@migrations()
def m003_dossier(db) -> None:
    run_script(db, """
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


@migrations()
def m010_parties_masked(db) -> None:
    """Parties keep masks only: the plain numbers an older index held are masked, the unique
    constraint on identity numbers goes (masks may coincide), and the parties' search table
    no longer holds any identity number."""
    db.conn.create_function("rk_mask_id", 1, lambda v: mask_id_number(v) if v else None, deterministic=True)
    db.conn.create_function("rk_mask_phone", 1, lambda v: mask_phone(v) if v else None, deterministic=True)
    run_script(db, f"""
    DROP TRIGGER IF EXISTS {QUEUE}_flush; DROP TRIGGER IF EXISTS {QUEUE}_flush_update;
    CREATE TABLE parties_masked (key TEXT PRIMARY KEY, num INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL,
        name TEXT NOT NULL, id_mask TEXT, credit_code TEXT UNIQUE, address TEXT, phone_mask TEXT,
        legacy_pii INTEGER NOT NULL DEFAULT 0, pii_erased_seq INTEGER, seq INTEGER NOT NULL);
    INSERT INTO parties_masked (rowid, key, num, kind, name, id_mask, credit_code, address, phone_mask,
        legacy_pii, seq)
        SELECT rowid, key, num, kind, name, rk_mask_id(id_number), credit_code, address, rk_mask_phone(phone),
            id_number IS NOT NULL OR phone IS NOT NULL, seq FROM parties;
    DROP TABLE parties;
    ALTER TABLE parties_masked RENAME TO parties;
    CREATE INDEX parties_name ON parties (name);
    """ + recreate("search_parties_fts") + flush_triggers())


@migrations()
def m011_decisions_by_seq(db) -> None:
    """A party may have several decisions in a case (并处), one row per ``case.decided``
    event, each known by its event's seq (a correction names it)."""
    run_script(db, """
    CREATE TABLE decisions_by_seq (seq INTEGER PRIMARY KEY, case_no TEXT NOT NULL, party TEXT NOT NULL,
        penalty_kind TEXT NOT NULL, amount TEXT, at TEXT);
    INSERT INTO decisions_by_seq (seq, case_no, party, penalty_kind, amount, at)
        SELECT seq, case_no, party, penalty_kind, amount, at FROM decisions;
    DROP TABLE decisions;
    ALTER TABLE decisions_by_seq RENAME TO decisions;
    CREATE INDEX decisions_case ON decisions (case_no, party);
    """)


@handles("party.added")
def _party_added(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    legacy = "id_number" in d or "phone" in d  # written before the vault: masked here all the same
    id_mask = d.get("id_number_mask") or (mask_id_number(d["id_number"]) if d.get("id_number") else None)
    phone_mask = d.get("phone_mask") or (mask_phone(d["phone"]) if d.get("phone") else None)
    # a second party.added of a key or credit code (written by hand) is recorded, never folded
    conn.add("INSERT OR IGNORE INTO parties (key, num, kind, name, id_mask, credit_code, address, "
             "phone_mask, legacy_pii, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
             (d["key"], int(d["key"][1:]), d["kind"], d["name"], id_mask, d.get("credit_code"),
              d.get("address"), phone_mask, int(legacy), event.seq))
    return [("party", d["key"])]


@handles("party.pii_erased")
def _pii_erased(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    conn.execute("UPDATE parties SET pii_erased_seq = ? WHERE key = ?", (event.seq, event.data["party"]))
    return [("party", event.data["party"])]


@handles("party.pii_shown")
def _pii_shown(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    conn.add("INSERT INTO pii_shown (seq, party) VALUES (?, ?)", (event.seq, event.data["party"]))
    return [("party", event.data["party"])]


@handles("case.opened")
def _case_opened(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    """A case opened; or opened again under the number of one whose opening was voided (the
    opening entered wrong, then right): its opening's facts are replaced, what else the case
    holds stands."""
    d = event.data
    voided = conn.execute("SELECT 1 FROM cases WHERE case_no = ? AND status = 'voided'",
                          (d["case_no"],)).fetchone()
    if voided:
        conn.execute("UPDATE cases SET title = ?, status = 'open', opened_at = ?, seq = ? WHERE case_no = ?",
                     (d.get("title"), d.get("at"), event.seq, d["case_no"]))
        case_dates_from_events(conn, d["case_no"])
        conn.execute("DELETE FROM case_parties WHERE case_no = ?", (d["case_no"],))
        conn.execute("DELETE FROM case_officers WHERE case_no = ?", (d["case_no"],))
        for (officers,) in conn.execute("SELECT officers FROM stage_events WHERE case_no = ?",
                                        (d["case_no"],)).fetchall():
            _case_officers(conn, d["case_no"], json.loads(officers), event.seq)
    else:
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
             "on_site, action, note, transcribed_from) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
             (event.seq, d["case_no"], d["stage"], d.get("at"), utc_key(d.get("at")), d.get("until"),
              utc_key(d.get("until")), json.dumps(d.get("officers", []), ensure_ascii=False),
              int(bool(d.get("on_site"))), d.get("action"), d.get("note"),
              bare(d["transcribed_from"]) if d.get("transcribed_from") else None))
    _case_officers(conn, d["case_no"], d.get("officers", []), event.seq)
    return [("case", d["case_no"])]


@handles("case.decided")
def _case_decided(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.add("INSERT INTO decisions (seq, case_no, party, penalty_kind, amount, at) VALUES (?,?,?,?,?,?)",
             (event.seq, d["case_no"], d["party"], d["penalty_kind"], d.get("amount"), d.get("at")))
    return [("case", d["case_no"]), ("party", d["party"])]


@handles("case.published", "case.closed")
def _case_dates(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    note_date(conn, event, "published" if event.type == "case.published" else "closed")
    return [("case", event.data["case_no"])]


@migrations()
def m016_link_repeats(db) -> None:
    """A record linked again where it already was: ``links`` keeps the first event's seq and the
    repeating events' seqs (``repeats``, a JSON list), so voiding the first leaves the link that
    a repeat made. An index that folded a record linked more than once cannot know its repeats
    (the events' data is in the journal only): it asks to be rebuilt (``REFOLD``)."""
    run_script(db, f"""
    ALTER TABLE links ADD COLUMN repeats TEXT;
    CREATE INDEX links_repeated ON links (digest) WHERE repeats IS NOT NULL;
    INSERT OR REPLACE INTO meta (key, value) SELECT '{REFOLD}', 'm016_link_repeats' WHERE EXISTS (
        SELECT 1 FROM events e JOIN event_touches t ON t.seq = e.seq AND t.kind = 'record'
        WHERE e.type = 'record.linked' GROUP BY t.ref HAVING count(*) > 1);
    """)


_LINK = ("INSERT INTO links (digest, case_no, stage, party, seq) VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE "
         "SET repeats = json_insert(coalesce(repeats, '[]'), '$[#]', excluded.seq) "
         "WHERE excluded.seq != links.seq")


@handles("record.linked", "record.unlinked")
def _links(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    case_no, party = d.get("case_no") or "", d.get("party") or ""
    digests = [bare(x) for x in d["digests"]]
    if event.type == "record.linked":
        stage = d.get("stage") or ""
        for x in digests:
            conn.add(_LINK, (x, case_no, stage, party, event.seq))
    else:  # from a case (at a stage, or all), or, with no case, from a party alone
        stage = d.get("stage")
        for x in digests:
            conn.execute("DELETE FROM links WHERE digest = ? AND case_no = ? AND (? IS NULL OR stage = ?) "
                         "AND (? != '' OR party = ?)", (x, case_no, stage, stage, case_no, party))
    touched = [("record", x) for x in digests]
    if case_no:
        touched.append(("case", case_no))
    if party:
        touched.append(("party", party))
    return touched


# -- queries -------------------------------------------------------------------------
def party_with_credit_code(ix: Index, code: str) -> str | None:
    """The key of the organisation whose 统一社会信用代码 is ``code``."""
    row = ix.conn.execute("SELECT key FROM parties WHERE credit_code = ?", (code,)).fetchone()
    return row[0] if row else None


def legacy_parties(ix: Index) -> list[Row]:
    """Parties added before the vault (their numbers plain in the journal), by number."""
    return ix.conn.execute("SELECT * FROM parties WHERE legacy_pii ORDER BY num").fetchall()


def pii_counts(ix: Index) -> dict[str, int]:
    """How many parties there are, hold a masked number, came from before the vault, were erased."""
    row = ix.conn.execute(
        "SELECT count(*), sum(id_mask IS NOT NULL OR phone_mask IS NOT NULL), sum(legacy_pii), "
        "sum(pii_erased_seq IS NOT NULL) FROM parties").fetchone()
    return {"parties": row[0], "with_numbers": row[1] or 0, "legacy": row[2] or 0, "erased": row[3] or 0}


def last_party_number(ix: Index) -> int:
    """The highest party number given so far (0 when none)."""
    return ix.conn.execute("SELECT MAX(num) FROM parties").fetchone()[0] or 0


def party(ix: Index, key: str) -> Row | None:
    return ix.conn.execute("SELECT * FROM parties WHERE key = ?", (key,)).fetchone()


def parties_matching(ix: Index, text: str | None, limit: int, *, keys: tuple[str, ...] = ()) -> list[Row]:
    """Parties whose name, credit code or address contains ``text``, or whose key is one of
    ``keys`` (all when neither is given); never by the digits of a masked number."""
    if not text and not keys:
        return ix.conn.execute("SELECT * FROM parties ORDER BY num LIMIT ?", (limit,)).fetchall()
    return ix.conn.execute(
        "SELECT * FROM parties WHERE (? != '' AND (instr(name, ?) OR instr(coalesce(credit_code, ''), "
        "upper(?)) OR instr(coalesce(address, ''), ?))) OR key IN (SELECT value FROM json_each(?)) "
        "ORDER BY num LIMIT ?", (text or "", text, text, text, json.dumps(list(keys)), limit)).fetchall()


def case_with_key(ix: Index, case_key: str) -> str | None:
    """The case number whose folded key is ``case_key``."""
    row = ix.conn.execute("SELECT case_no FROM cases WHERE case_key = ?", (case_key,)).fetchone()
    return row[0] if row else None


def case(ix: Index, case_no: str) -> Row:
    return ix.conn.execute("SELECT * FROM cases WHERE case_no = ?", (case_no,)).fetchone()


# cases in the order they were opened: by the instant, whatever offset each time carries (the
# store's zone may have changed between them); one with no time of its own last
_BY_OPENING = "rk_utc(c.opened_at) IS NULL, rk_utc(c.opened_at), c.seq"


def case_numbers(ix: Index) -> list[str]:
    """Every case number, in the order the cases were opened."""
    return [r[0] for r in ix.conn.execute(f"SELECT case_no FROM cases c ORDER BY {_BY_OPENING}")]


def cases_where(ix: Index, *, status: str | None = None, party: str | None = None) -> list[Row]:
    """The cases of ``status`` and of ``party`` (all when neither is given), in the order they
    were opened; each with ``records``, the number of records linked to it."""
    return ix.conn.execute(
        "SELECT c.*, (SELECT COUNT(DISTINCT digest) FROM links l WHERE l.case_no = c.case_no) AS records "
        "FROM cases c WHERE (:status IS NULL OR c.status = :status) "
        "AND (:party IS NULL OR c.case_no IN (SELECT case_no FROM case_parties WHERE party = :party)) "
        f"ORDER BY {_BY_OPENING}", {"status": status, "party": party}).fetchall()


def members(ix: Index, case_no: str) -> list[str]:
    """The keys of a case's parties, by party number."""
    return [r[0] for r in ix.conn.execute(
        "SELECT cp.party FROM case_parties cp JOIN parties p ON p.key = cp.party WHERE cp.case_no = ? "
        "ORDER BY p.num", (case_no,))]


def officers_of_case(ix: Index, case_no: str) -> list[str]:
    return [r[0] for r in ix.conn.execute(
        "SELECT officer FROM case_officers WHERE case_no = ? ORDER BY officer", (case_no,))]


def decision_of_kind(ix: Index, case_no: str, party_key: str, penalty_kind: str) -> int | None:
    """The seq of the party's decision of ``penalty_kind`` in the case, if it has one."""
    row = ix.conn.execute("SELECT seq FROM decisions WHERE case_no = ? AND party = ? AND penalty_kind = ? "
                          "ORDER BY seq LIMIT 1", (case_no, party_key, penalty_kind)).fetchone()
    return row[0] if row else None


def is_linked(ix: Index, digest: str, case_no: str, stage: str | None = None) -> bool:
    """Whether the record is linked to the case (at ``stage``, when given)."""
    return ix.conn.execute(
        "SELECT 1 FROM links WHERE digest = ? AND case_no = ? AND (? IS NULL OR stage = ?)",
        (digest, case_no, stage, stage)).fetchone() is not None


def link_parties(ix: Index, case_no: str, digests: list[str], stage: str | None = None) -> set[str]:
    """The parties the links of ``digests`` to the case (at ``stage``) name."""
    return {r[0] for r in ix.conn.execute(
        "SELECT DISTINCT party FROM links WHERE case_no = ? AND party != '' AND (? IS NULL OR stage = ?) "
        "AND digest IN (SELECT value FROM json_each(?))", (case_no, stage, stage, json.dumps(digests)))}


def is_linked_to_party_alone(ix: Index, digest: str, party: str) -> bool:
    """Whether the record is linked to the party in no case (``add --party`` without a case)."""
    return ix.conn.execute("SELECT 1 FROM links WHERE digest = ? AND case_no = '' AND party = ?",
                           (digest, party)).fetchone() is not None


def stage_events(ix: Index, case_no: str) -> list[Row]:
    """A case's stage events in time order, each with the actor who entered it (when: by its
    seq, ``refs.EntryTimes`` of ``case_times``)."""
    return ix.conn.execute(
        "SELECT s.*, e.actor FROM stage_events s JOIN events e ON e.seq = s.seq "
        "WHERE case_no = ? ORDER BY at_utc, s.seq", (case_no,)).fetchall()


@migrations()
def m013_stage_sources(db) -> None:
    """A stage act transcribed from a paper record names it (``--transcribed-from``)."""
    run_script(db, "ALTER TABLE stage_events ADD COLUMN transcribed_from TEXT;")


def decisions(ix: Index, case_no: str) -> list[Row]:
    """A case's decisions (several per party when 并处) in journal order, each with its seq, its
    party's kind and who entered it."""
    return ix.conn.execute(
        "SELECT d.*, p.kind AS party_kind, e.actor FROM decisions d LEFT JOIN parties p ON p.key = d.party "
        "JOIN events e ON e.seq = d.seq WHERE d.case_no = ? ORDER BY d.seq", (case_no,)).fetchall()


def all_decisions(ix: Index) -> list[Row]:
    """Every decision of a case not voided, by date, with its party's kind."""
    return ix.conn.execute(
        "SELECT d.*, p.kind AS party_kind FROM decisions d LEFT JOIN parties p ON p.key = d.party "
        "JOIN cases c ON c.case_no = d.case_no WHERE c.status != 'voided' ORDER BY d.at, d.seq").fetchall()


_LINKED = ("SELECT r.*, l.case_no AS l_case, l.stage AS l_stage, l.party AS l_party, l.seq AS l_seq, "
           "e.actor AS l_actor, e.at AS l_at, CASE WHEN r.time_source = 'source' THEN (SELECT "
           "s.disposed_seq IS NOT NULL OR NOT EXISTS (SELECT 1 FROM links ls WHERE ls.digest = s.digest "
           "AND ls.case_no = l.case_no AND (l.case_no != '' OR ls.party = l.party)) "
           "OR s.time_source IN ('source', 'amended', 'mtime') "
           "FROM amendments a JOIN records s ON s.digest = substr(a.source, 8) "
           "WHERE a.digest = r.digest AND json_extract(a.changes, '$.recorded_at') IS NOT NULL "
           "ORDER BY a.seq DESC LIMIT 1) END AS time_source_gone, "
           "(SELECT substr(a.source, 8) FROM amendments a WHERE a.digest = r.digest "
           "AND json_extract(a.changes, '$.recorded_at') IS NOT NULL ORDER BY a.seq DESC LIMIT 1) "
           "AS time_carrier, "
           "(SELECT json_group_array(json_array(d.seq, e2.at, d.before, d.after)) FROM doc_types d "
           "JOIN events e2 ON e2.seq = d.seq WHERE d.digest = r.digest) AS doc_type_changes, "
           "(SELECT json_array(a.seq, e3.at) FROM amendments a JOIN events e3 ON e3.seq = a.seq "
           "WHERE a.digest = r.digest AND json_extract(a.changes, '$.recorded_at') IS NOT NULL "
           "ORDER BY a.seq DESC LIMIT 1) AS time_amended "
           "FROM links l JOIN records r ON r.digest = l.digest "
           "JOIN events e ON e.seq = l.seq WHERE {} ORDER BY r.recorded_utc, r.digest")


def case_times(ix: Index, case_no: str) -> list[tuple[int, str]]:
    """(seq, time claimed) of every line that touched the case, by seq (``refs.EntryTimes``)."""
    return [(r[0], r[1]) for r in ix.conn.execute(
        "SELECT b.seq, b.at FROM event_touches t JOIN events b ON b.seq = t.seq WHERE t.kind = 'case' "
        "AND t.ref = ? ORDER BY b.seq", (case_no,))]


def case_records(ix: Index, case_no: str) -> list[Row]:
    """Records linked to a case, with the link (``l_case``, ``l_stage``, ``l_party``,
    ``l_seq``), who made it when (``l_actor``, ``l_at``) and, for a time carried by a cited
    record, whether that record cannot carry it here (``time_source_gone``: disposed of since,
    not linked to the same case, or itself dated by a typed time, a citation or its file's
    time: a time is never carried through another claim) and which record that is
    (``time_carrier``), its doc type's changes (``doc_type_changes``: a JSON list of [seq, time
    claimed, doc type before, doc type after], by amendments and sightings) and the last
    amendment of its time (``time_amended``: [seq, time claimed]), by recorded time."""
    return ix.conn.execute(_LINKED.format("l.case_no = ?"), (case_no,)).fetchall()


def party_records_outside_cases(ix: Index, key: str) -> list[Row]:
    """Records linked to a party in no case, shaped as ``case_records``."""
    return ix.conn.execute(_LINKED.format("l.party = ? AND l.case_no = ''"), (key,)).fetchall()


def case_links(ix: Index, case_no: str) -> list[tuple[str, str]]:
    """(digest, stage) of every link to a case, by stage and digest."""
    return [(r[0], r[1]) for r in ix.conn.execute(
        "SELECT digest, stage FROM links WHERE case_no = ? ORDER BY stage, digest", (case_no,))]


def case_digests(ix: Index, case_no: str) -> list[str]:
    """The digests linked to a case at any stage, sorted."""
    return [r[0] for r in ix.conn.execute(
        "SELECT DISTINCT digest FROM links WHERE case_no = ? ORDER BY digest", (case_no,))]


def party_digests(ix: Index, key: str) -> list[str]:
    """Every digest linked to a party directly or through its cases, sorted."""
    return [r[0] for r in ix.conn.execute(
        "SELECT digest FROM links WHERE party = ? UNION SELECT l.digest FROM links l "
        "JOIN case_parties cp ON cp.case_no = l.case_no WHERE cp.party = ? ORDER BY 1", (key, key))]


def party_only_digests(ix: Index, key: str) -> list[str]:
    """Digests linked to a party outside any case, sorted."""
    return [r[0] for r in ix.conn.execute(
        "SELECT digest FROM links WHERE party = ? AND case_no = '' ORDER BY digest", (key,))]


def links_of(ix: Index, digest: str) -> list[Row]:
    """The distinct (case_no, party) a record is linked to ('' when none)."""
    return ix.conn.execute("SELECT DISTINCT case_no, party FROM links WHERE digest = ? "
                           "ORDER BY case_no, party", (digest,)).fetchall()
