"""The search query builder: records by structured filters and text, and the parties and
cases whose own fields match the text (the feature's contract is in ``recordkeep.search``).

How: the FTS5 trigram tables of ``fts`` give candidate rows (3+ characters: the rows
holding trigrams that cover the text; shorter: the rows holding a trigram that starts with
it), each checked against its base row. Without complete FTS tables (an index from before
m004 opened read-only, or rows written outside ``Index.apply``) the base tables are
scanned. Records are then found from a driving set (a case's or party's links, or the
text's hits when there are at most DRIVE_CAP) or by walking records newest first. Work
tables live in the connection's ``temp`` schema, so a read-only index can be searched.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from dataclasses import dataclass

from ..refs import fold_case_no
from . import fts
from .core import Index, Row
from .fts import DOC_TYPE_INDEX, basename_sql

TRIGRAM = 3  # shorter text has no trigram of its own
DRIVE_CAP = 5_000  # text hitting more records than this: walk records newest first instead
WALK = 40_000  # records a walk examines before it gathers every hit instead
VOCAB_TERMS = 2_000  # short text starting more trigrams than this: scan the table instead
ORDER = "ORDER BY r.recorded_utc DESC, r.digest"  # SQLite puts NULLs last when descending
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WORK_TABLES = {  # in the connection's temp schema, emptied by each search
    "search_parties": "(key TEXT PRIMARY KEY, num INTEGER) WITHOUT ROWID",
    "search_cases": "(case_no TEXT PRIMARY KEY, opened_at TEXT, seq INTEGER) WITHOUT ROWID",
    "search_link_cases": "(case_no TEXT PRIMARY KEY) WITHOUT ROWID",
    "search_stages": "(case_no TEXT, stage TEXT, PRIMARY KEY (case_no, stage)) WITHOUT ROWID",
    "search_names": "(digest TEXT PRIMARY KEY) WITHOUT ROWID",
    "search_name_rows": "(id INTEGER PRIMARY KEY)",
    "search_doc_types": "(doc_type TEXT PRIMARY KEY) WITHOUT ROWID",
    "search_drive": "(digest TEXT PRIMARY KEY) WITHOUT ROWID",
}


@dataclass
class Hits:
    """What a search found: record rows (newest first) with the cases and parties each is
    linked to, and the party and case rows matching the text themselves."""

    records: list[Row]
    cases_of: dict[str, list[str]]
    parties_of: dict[str, list[str]]
    parties: list[Row]
    cases: list[Row]


def find(ix: Index, filters: Filters, text: str | None, limit: int) -> Hits:
    """Records passing ``filters`` and matching ``text`` (when given), at most ``limit``."""
    conn = ix.conn
    where = _Where.build(filters)
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # one snapshot for every statement below
    try:
        matcher = _Text(conn, text) if text and needles(text) else None
        rows = _find_records(conn, where, matcher, limit)
        cases_of, parties_of = _links(conn, rows) if rows else ({}, {})
        return Hits(rows, cases_of, parties_of, matcher.parties(limit) if matcher else [],
                    matcher.cases(limit) if matcher else [])
    finally:
        if own:
            conn.execute("COMMIT")


# -- filters ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """Structured filters, already checked and resolved (a case number, a party key, UTC
    keys for the recorded-time bounds); None or False means no filter."""

    case: str | None = None
    party: str | None = None
    officer: str | None = None
    device: str | None = None
    since_utc: str | None = None
    until_utc: str | None = None
    stage: str | None = None
    kind: str | None = None
    important: bool = False
    unlinked: bool = False


@dataclass
class _Where:
    """The structured filters as SQL over ``records r`` (``where``) with named ``args``."""

    where: list[str]
    args: dict
    case: str | None
    party: str | None
    stage: str | None

    @classmethod
    def build(cls, f: Filters) -> _Where:
        where: list[str] = []
        args: dict = {}
        for column, value in (("kind", f.kind), ("officer", f.officer), ("device", f.device)):
            if value is not None:
                where.append(f"r.{column} = :{column}")
                args[column] = value
        if f.since_utc:
            where.append("r.recorded_utc >= :since")
            args["since"] = f.since_utc
        if f.until_utc:
            where.append("r.recorded_utc < :until")
            args["until"] = f.until_utc
        if f.important:
            where.append("r.important = 1")
        if f.unlinked:
            where.append("NOT EXISTS (SELECT 1 FROM links l WHERE l.digest = r.digest AND l.case_no != '')")
        stage, case, party = f.stage, f.case, f.party
        at_stage = " AND l.stage = :stage" if stage else ""
        if stage:
            args["stage"] = stage
        if case is not None:
            where.append(f"EXISTS (SELECT 1 FROM links l WHERE l.digest = r.digest "
                         f"AND l.case_no = :case{at_stage})")
            args["case"] = case
        if party is not None:
            scoped = at_stage if case is None else ""
            where.append(f"EXISTS (SELECT 1 FROM links l WHERE l.digest = r.digest AND (l.party = :party "
                         f"OR l.case_no IN (SELECT case_no FROM case_parties WHERE party = :party)){scoped})")
            args["party"] = party
        if stage and case is None and party is None:
            where.append("EXISTS (SELECT 1 FROM links l WHERE l.digest = r.digest AND l.stage = :stage)")
        return cls(where, args, case, party, stage)

    def driver(self) -> str | None:
        """SQL selecting a superset of the matching digests when a case or party bounds them."""
        stage = " AND stage = :stage" if self.stage else ""
        if self.case is not None:
            return f"SELECT digest FROM links WHERE case_no = :case{stage}"
        if self.party is not None:
            return (f"SELECT digest FROM links WHERE party = :party{stage} UNION SELECT digest FROM links "
                    f"WHERE case_no IN (SELECT case_no FROM case_parties WHERE party = :party){stage}")
        return None




# -- text ------------------------------------------------------------------------------
def needles(text: str) -> list[str]:
    """The text as typed and NFKC-folded (full-width letters and digits made plain),
    without control characters or lone surrogates (undecodable bytes of a command line)."""
    raw = "".join(c for c in text if c >= " " and not "\ud800" <= c <= "\udfff").strip()
    plain = unicodedata.normalize("NFKC", raw).strip()
    return [n for n in dict.fromkeys((raw, plain)) if n]


def _phrase(term: str) -> str:
    """An FTS5 string: any punctuation inside double quotes is literal text."""
    return '"' + term.replace('"', '""') + '"'


def _lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)  # what SQLite's lower() does


def _schema(conn: sqlite3.Connection) -> tuple[bool, bool]:
    """Whether the FTS tables hold every row (else search scans), and whether the doc type
    index exists (an index from before m004, opened read-only, has neither)."""
    index = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (DOC_TYPE_INDEX,)).fetchone()
    return fts.ready(conn), index is not None


@dataclass(frozen=True)
class _Source:
    """A base table searched through its FTS table: ``columns`` are (SQL over ``b``,
    whether the case-number form of the text is looked for in it)."""

    table: str
    fts: str
    rowid: str
    key: str
    columns: tuple[tuple[str, bool], ...]


PARTIES = _Source("parties", "search_parties_fts", "rowid", "b.key, b.num",
                  (("b.name", False), ("b.address", False), ("b.credit_code", False)))
CASES = _Source("cases", "search_cases_fts", "rowid", "b.case_no, b.opened_at, b.seq",
                (("b.case_key", True), ("b.title", False)))
STAGES = _Source("stage_events", "search_stages_fts", "seq", "b.case_no, b.stage",
                 (("b.note", False), ("b.action", False)))
NAMES = _Source("sightings", "search_names_fts", "rowid", "b.digest", ((basename_sql("b.path"), False),))


class _Text:
    """What a text query matches, gathered into temp tables: parties and cases matching on
    their own fields, cases whose records therefore match (theirs or their parties'),
    stage events (case, stage) whose note or action matches, records whose file names
    match, and matching doc types."""

    def __init__(self, conn: sqlite3.Connection, text: str) -> None:
        self.conn = conn
        self.needles = needles(text)
        self.case_needle = fold_case_no(self.needles[0])
        self.fts, self.doc_type_index = _schema(conn)
        self.args: dict[str, str] = {}
        for name, shape in _WORK_TABLES.items():
            conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} {shape}")
            conn.execute(f"DELETE FROM temp.{name}")
        self._gather(PARTIES, "search_parties")
        self._gather(CASES, "search_cases")
        conn.execute("INSERT OR IGNORE INTO temp.search_link_cases SELECT case_no FROM temp.search_cases")
        conn.execute("INSERT OR IGNORE INTO temp.search_link_cases SELECT cp.case_no "
                     "FROM temp.search_parties t CROSS JOIN case_parties cp ON cp.party = t.key")
        self._gather(STAGES, "search_stages")
        self._doc_types()
        self.names_overflow = self._names(DRIVE_CAP)
        self.counts = {name: conn.execute(f"SELECT count(*) FROM temp.{name}").fetchone()[0]
                       for name in ("search_parties", "search_link_cases", "search_stages",
                                    "search_names", "search_doc_types")}

    # -- matching one source -----------------------------------------------------------
    def _param(self, value: str) -> str:
        name = f"t{len(self.args)}"
        self.args[name] = value
        return f":{name}"

    def _check(self, source: _Source, *, long_only: bool = False) -> str:
        """SQL true when base row ``b`` contains a needle (the case form in case columns)."""
        terms = []
        for column, is_case in source.columns:
            for needle in ([self.case_needle] if is_case else self.needles):
                if not long_only or len(needle) >= TRIGRAM:
                    letters = any(c.isascii() and c.isalpha() for c in needle)  # lower() costs
                    haystack = f"lower({column})" if letters else column
                    terms.append(f"instr({haystack}, {self._param(_lower(needle))})")
        return " OR ".join(terms) or "0"

    def _expression(self, source: _Source, *, long_only: bool = False) -> str | None:
        """An FTS5 query giving a superset of the rows holding a needle; None when a short
        needle starts too many trigrams (scan instead); '' when nothing can match."""
        groups = []
        needles = dict.fromkeys([*self.needles, *([self.case_needle] if source is CASES else [])])
        for needle in needles:
            if len(needle) >= TRIGRAM:
                groups.append("(" + " AND ".join(_phrase(g) for g in self._cover(needle)) + ")")
            elif not long_only:
                terms = self._vocabulary(source, needle)
                if terms is None:
                    return None
                if terms:
                    groups.append("(" + " OR ".join(_phrase(t) for t in terms) + ")")
        return " OR ".join(groups)

    def _vocab(self, source: _Source) -> str:
        vocab = source.fts.replace("_fts", "_vocab")
        self.conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{vocab} "
                          f"USING fts5vocab(main, {source.fts}, row)")
        return vocab

    @staticmethod
    def _cover(needle: str) -> list[str]:
        """Trigrams that together cover the needle (every third one, and the last): rows
        holding them all are candidates, nearly as few as with every trigram, for half the
        index reads; the check against the base row decides."""
        grams = [needle[i:i + TRIGRAM] for i in range(0, len(needle) - TRIGRAM + 1, TRIGRAM)]
        if len(needle) % TRIGRAM:
            grams.append(needle[-TRIGRAM:])
        return list(dict.fromkeys(grams))

    def _vocabulary(self, source: _Source, needle: str) -> list[str] | None:
        """The trigrams of ``source`` starting with ``needle`` (the columns end in padding,
        so every occurrence starts one); None when there are more than VOCAB_TERMS."""
        vocab = self._vocab(source)
        start = needle.lower()
        terms = [r[0] for r in self.conn.execute(
            f"SELECT term FROM temp.{vocab} WHERE term >= ? AND term < ? LIMIT ?",
            (start, start + "\U0010ffff", VOCAB_TERMS + 1))]
        return None if len(terms) > VOCAB_TERMS else terms

    def _gather(self, source: _Source, into: str) -> None:
        """Insert the keys of ``source``'s rows holding a needle into ``temp.into``."""
        expression = self._expression(source) if self.fts else None
        if expression == "":
            return
        # The index alone is exact when no needle is longer than a trigram and every
        # column is searched for every needle.
        exact = expression is not None and source is not CASES and \
            max(len(n) for n in self.needles) <= TRIGRAM
        check = "1" if exact else self._check(source)
        if expression is None:
            rows = f"{source.table} b"
        else:
            rows = (f"(SELECT rowid AS id FROM {source.fts} WHERE {source.fts} MATCH "
                    f"{self._param(expression)}) c CROSS JOIN {source.table} b ON b.{source.rowid} = c.id")
        self.conn.execute(f"INSERT OR IGNORE INTO temp.{into} SELECT {source.key} FROM {rows} WHERE {check}",
                          self.args)

    def _doc_types(self) -> None:
        # Distinct doc types by skipping through their index: one seek per type.
        skip = ("WITH RECURSIVE t(v) AS (SELECT min(doc_type) FROM records WHERE doc_type IS NOT NULL "
                "UNION ALL SELECT (SELECT min(doc_type) FROM records WHERE doc_type > t.v) FROM t "
                "WHERE t.v IS NOT NULL) SELECT v FROM t WHERE v IS NOT NULL")
        scan = "SELECT DISTINCT doc_type FROM records WHERE doc_type IS NOT NULL"
        types = [r[0] for r in self.conn.execute(skip if self.doc_type_index else scan)]
        needles = [_lower(n) for n in self.needles]
        hits = [(t,) for t in types if any(n in _lower(t) for n in needles)]
        self.conn.executemany("INSERT INTO temp.search_doc_types VALUES (?)", hits)

    def _names(self, cap: int | None) -> bool:
        """Gather the records whose original names hold a 3+ character needle; True (and
        nothing gathered) when more than ``cap`` sightings are candidates."""
        if not any(len(n) >= TRIGRAM for n in self.needles):
            return False
        check = self._check(NAMES, long_only=True)
        limit = f"LIMIT {cap + 1}" if cap is not None else ""
        if self.fts:
            expression = self._expression(NAMES, long_only=True)
            if not expression:
                return False
            source = (f"SELECT rowid FROM {NAMES.fts} WHERE {NAMES.fts} MATCH {self._param(expression)} "
                      f"{limit}")
        else:
            source = f"SELECT b.rowid FROM sightings b WHERE {check} {limit}"
        self.conn.execute("DELETE FROM temp.search_name_rows")
        found = self.conn.execute(f"INSERT INTO temp.search_name_rows {source}", self.args).rowcount
        if cap is not None and found > cap:
            return True
        self.conn.execute("INSERT OR IGNORE INTO temp.search_names SELECT b.digest "
                          "FROM temp.search_name_rows n CROSS JOIN sightings b ON b.rowid = n.id "
                          f"WHERE {check}", self.args)
        return False

    # -- records -------------------------------------------------------------------------
    def predicate(self) -> str:
        """SQL true when record ``r`` matches the text (its args are ``self.args``)."""
        terms = []
        if self.names_overflow:
            check = self._check(NAMES, long_only=True)
            terms.append(f"EXISTS (SELECT 1 FROM sightings b WHERE b.digest = r.digest AND ({check}))")
        elif self.counts["search_names"]:
            terms.append("r.digest IN temp.search_names")
        if self.counts["search_doc_types"]:
            terms.append("r.doc_type IN temp.search_doc_types")
        linked = []
        if self.counts["search_parties"]:
            linked.append("l.party IN (SELECT key FROM temp.search_parties)")
        if self.counts["search_link_cases"]:
            linked.append("l.case_no IN temp.search_link_cases")
        if self.counts["search_stages"]:
            linked.append("EXISTS (SELECT 1 FROM temp.search_stages t WHERE t.case_no = l.case_no "
                          "AND t.stage = l.stage)")
        if linked:
            terms.append("EXISTS (SELECT 1 FROM links l WHERE l.digest = r.digest "
                         f"AND ({' OR '.join(linked)}))")
        return "(" + (" OR ".join(terms) or "0") + ")"

    SOURCES = (
        ("search_names", "SELECT digest FROM temp.search_names"),
        ("search_doc_types", "SELECT r.digest FROM temp.search_doc_types t CROSS JOIN records r "
                             "ON r.doc_type = t.doc_type"),
        ("search_parties", "SELECT l.digest FROM temp.search_parties t CROSS JOIN links l "
                           "ON l.party = t.key"),
        ("search_link_cases", "SELECT l.digest FROM temp.search_link_cases t CROSS JOIN links l "
                              "ON l.case_no = t.case_no"),
        ("search_stages", "SELECT l.digest FROM temp.search_stages t CROSS JOIN links l "
                          "ON l.case_no = t.case_no AND l.stage = t.stage"),
    )

    def gather(self, cap: int | None) -> bool:
        """Gather the matching records' digests into temp.search_drive; False (and nothing
        gathered) when more than ``cap`` may match."""
        if self.names_overflow:
            if cap is not None:
                return False
            self.names_overflow = self._names(None)
        if cap is not None:
            total = 0
            for table, sql in self.SOURCES:
                if self.counts[table]:
                    total += self.conn.execute(f"SELECT count(*) FROM ({sql} LIMIT {cap + 1 - total})"
                                               ).fetchone()[0]
                    if total > cap:
                        return False
        self.conn.execute("DELETE FROM temp.search_drive")
        for _, sql in self.SOURCES:
            self.conn.execute(f"INSERT OR IGNORE INTO temp.search_drive {sql}")
        return True

    # -- parties and cases ---------------------------------------------------------------
    def parties(self, limit: int) -> list[Row]:
        return self.conn.execute("SELECT p.* FROM (SELECT key, num FROM temp.search_parties ORDER BY num "
                                 "LIMIT ?) t CROSS JOIN parties p ON p.key = t.key ORDER BY t.num",
                                 (limit,)).fetchall()

    def cases(self, limit: int) -> list[Row]:
        """The cases found, the latest opened first (by the instant, whatever offset it carries)."""
        return self.conn.execute(
            "SELECT c.* FROM (SELECT * FROM temp.search_cases ORDER BY rk_utc(opened_at) IS NULL, "
            "rk_utc(opened_at) DESC, seq DESC LIMIT ?) t CROSS JOIN cases c ON c.case_no = t.case_no "
            "ORDER BY rk_utc(t.opened_at) IS NULL, rk_utc(t.opened_at) DESC, t.seq DESC", (limit,)).fetchall()


# -- records ---------------------------------------------------------------------------
def _find_records(conn: sqlite3.Connection, filters: _Where, text: _Text | None,
                  limit: int) -> list[sqlite3.Row]:
    """The filters (and text) over a driving set of digests (a case's or a party's links,
    or the text's hits when few), else over records walked newest first."""
    where = list(filters.where)
    args = {**filters.args, "limit": limit}
    if text is not None:
        where.append(text.predicate())
        args.update(text.args)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    driver = filters.driver()
    if driver is not None:
        source = f"({driver}) d CROSS JOIN records r ON r.digest = d.digest"
    elif text is None:
        source = "records r"
    elif text.gather(DRIVE_CAP):
        source = "temp.search_drive d CROSS JOIN records r ON r.digest = d.digest"
    else:
        found = _walk(conn, filters, text, limit)
        if found is not None:
            return found
        text.gather(None)  # the hits are few among the newest records: gather them all
        source = "temp.search_drive d CROSS JOIN records r ON r.digest = d.digest"
    return conn.execute(f"SELECT r.* FROM {source} {clause} {ORDER} LIMIT :limit", args).fetchall()


def _walk(conn: sqlite3.Connection, filters: _Where, text: _Text, limit: int) -> list[sqlite3.Row] | None:
    """The first ``limit`` matches among the WALK newest records passing the filters, or
    None when fewer are found there and older records remain."""
    clause = f"WHERE {' AND '.join(filters.where)}" if filters.where else ""
    cursor = conn.execute(f"SELECT r.rowid, {text.predicate()} FROM records r {clause} {ORDER} LIMIT {WALK}",
                          {**filters.args, **text.args})
    seen, hits = 0, []
    for rowid, hit in cursor:
        seen += 1
        if hit:
            hits.append(rowid)
            if len(hits) == limit:
                break
    cursor.close()
    if len(hits) < limit and seen == WALK:
        return None
    rows = {row["rowid"]: row for row in conn.execute(
        "SELECT rowid, * FROM records WHERE rowid IN (SELECT value FROM json_each(?))", (json.dumps(hits),))}
    return [rows[h] for h in hits]


def _links(conn: sqlite3.Connection, rows: list[Row]) -> tuple[dict, dict]:
    """For each record row: the case numbers it is linked to, and the party keys it is linked
    to directly or through a linked case's parties (both sorted)."""
    cases: dict[str, set[str]] = {}
    parties: dict[str, set[str]] = {}
    for digest, case_no, party in conn.execute(
            "SELECT digest, case_no, party FROM links WHERE digest IN (SELECT value FROM json_each(?))",
            (json.dumps([r["digest"] for r in rows]),)):
        if case_no:
            cases.setdefault(digest, set()).add(case_no)
        if party:
            parties.setdefault(digest, set()).add(party)
    members: dict[str, set[str]] = {}
    for case_no, party in conn.execute(
            "SELECT case_no, party FROM case_parties WHERE case_no IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set().union(*cases.values())), ensure_ascii=False),)):
        members.setdefault(case_no, set()).add(party)
    case_lists, party_lists = {}, {}
    for row in rows:
        digest = row["digest"]
        keys = set(parties.get(digest, ()))
        for case_no in cases.get(digest, ()):
            keys |= members.get(case_no, set())
        case_lists[digest] = sorted(cases.get(digest, ()))
        party_lists[digest] = sorted(keys, key=lambda k: int(k[1:]))
    return case_lists, party_lists
