"""index.sqlite: the SQLite projection of the journal (rebuildable, never the truth).

The schema grows by versioned sqlite-utils ``Migrations``. ``apply`` folds events
into tables deterministically (no clock, no file system), so a rebuilt index
answers exactly as the live one. ``meta`` remembers the last applied event, so
opening a store applies whatever the journal has that the index lacks.

Handlers write through a ``Writer``: rows that nothing reads back within a batch are
queued (``Writer.add``) and written with one ``executemany`` per statement, which is
what lets ``rebuild`` fold ~20,000 events a second (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import errors
from .journal import ZERO_HASH, Event, Head, Journal

if TYPE_CHECKING:
    import sqlite_utils

FILENAME = "index.sqlite"
MIGRATIONS_TABLE = "_sqlite_migrations"  # where sqlite-utils' Migrations records what it applied


class Migrations:
    """The index schema's versioned steps, applied by sqlite-utils' ``Migrations``.

    Steps register at import (``@migrations()``) and apply in the order of their names
    (``m001_...``, ``m002_...``), whichever module was imported first. sqlite-utils
    (~40 ms to import) is loaded only to apply them; ``pending`` reads sqlite-utils' own
    record of applied steps, so a command that finds the schema current never loads it.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[Callable[[sqlite_utils.Database], None]] = []

    def __call__(self) -> Callable:
        def register(step: Callable[[sqlite_utils.Database], None]) -> Callable:
            self.steps.append(step)
            return step
        return register

    def ordered(self) -> list[Callable[[sqlite_utils.Database], None]]:
        """Every step, in the order of their names."""
        return sorted(self.steps, key=lambda step: step.__name__)

    def pending(self, conn: sqlite3.Connection) -> list[str]:
        """Names of the steps not yet applied to the database behind ``conn``."""
        try:
            rows = conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?",
                                (self.name,)).fetchall()
        except sqlite3.OperationalError:  # no such table: nothing applied yet
            rows = []
        done = {row[0] for row in rows}
        return [step.__name__ for step in self.ordered() if step.__name__ not in done]

    def apply(self, conn: sqlite3.Connection) -> None:
        """Apply the pending steps in order, each in its own transaction."""
        import sqlite_utils

        steps = sqlite_utils.Migrations(self.name)
        for step in self.ordered():
            steps()(step)
        steps.apply(sqlite_utils.Database(conn, execute_plugins=False))  # no third-party hooks


migrations = Migrations("recordkeep")


@contextmanager
def atomic(conn: sqlite3.Connection) -> Iterator[None]:
    """One transaction for the block, or a savepoint inside the caller's transaction."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT fold")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # an error can end the whole transaction, savepoint included
                conn.execute("ROLLBACK TO SAVEPOINT fold")
                conn.execute("RELEASE SAVEPOINT fold")
            raise
        conn.execute("RELEASE SAVEPOINT fold")
        return
    conn.execute("BEGIN")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
REBUILD_BATCH = 20_000  # events per apply while rebuilding (one FTS flush each)
REBUILD_CACHE_KIB = 1 << 20  # 1 GiB at most: a million records' random digest keys stay in memory
# Indexes no projection reads while folding: rebuild creates them once at the end (a
# sort), instead of inserting into them row by row in random order.
REBUILD_LATER = ("records_recorded", "records_officer", "search_records_doc_type", "sightings_digest",
                 "links_case", "links_party", "parties_name", "case_parties_party", "stage_events_case")


class Writer:
    """What projections write through while ``Index.apply`` folds a batch of events.

    ``add`` queues one row of an INSERT; queued rows are written with one
    ``executemany`` per statement (rows in the order added, statements in the order
    first used) before any other statement runs through ``execute``/``executemany``
    and when the batch ends, so every statement sees every row added before it. Queue
    only INSERTs into tables without insert triggers and whose rows' order relative
    to other tables' rows does not matter; everything else goes through ``execute``.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._queued: dict[str, list[tuple]] = {}
        self._seen: set[tuple] = set()

    def first(self, key: tuple) -> bool:
        """True the first time ``key`` is given in this batch (to skip repeated no-op rows)."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def add(self, sql: str, row: tuple) -> None:
        rows = self._queued.get(sql)
        if rows is None:
            self._queued[sql] = [row]
        else:
            rows.append(row)

    def flush(self) -> None:
        for sql, rows in self._queued.items():
            self.conn.executemany(sql, rows)
        self._queued.clear()

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        self.flush()
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[tuple]) -> sqlite3.Cursor:
        self.flush()
        return self.conn.executemany(sql, rows)


Handler = Callable[[Writer, Event], Iterable[tuple[str, str]]]
HANDLERS: dict[str, Handler] = {}


def handles(*types: str) -> Callable[[Handler], Handler]:
    """Register a projection for event types; it returns what the event touches."""
    def register(fn: Handler) -> Handler:
        for t in types:
            HANDLERS[t] = fn
        return fn
    return register


@migrations()
def m001_core(db: sqlite_utils.Database) -> None:
    db.executescript("""
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events (seq INTEGER PRIMARY KEY, offset INTEGER NOT NULL, type TEXT NOT NULL,
        at TEXT NOT NULL, actor TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE TABLE event_touches (kind TEXT NOT NULL, ref TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (kind, ref, seq)) WITHOUT ROWID;
    CREATE TABLE records (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, kind TEXT NOT NULL,
        doc_type TEXT, name TEXT, first_seq INTEGER NOT NULL, first_at TEXT NOT NULL,
        first_batch TEXT, probe_status TEXT, probe_error TEXT, container TEXT,
        duration_ms INTEGER, video_codec TEXT, audio_codec TEXT, width INTEGER, height INTEGER,
        frame_rate TEXT, pages INTEGER, recorded_at TEXT, recorded_utc TEXT, time_source TEXT,
        tz_assumed TEXT, time_conflict TEXT, gps_lat TEXT, gps_lon TEXT, make TEXT, model TEXT,
        serial TEXT, device TEXT, officer TEXT, officer_source TEXT,
        important INTEGER NOT NULL DEFAULT 0, disposed_seq INTEGER);
    CREATE INDEX records_recorded ON records (recorded_utc);
    CREATE INDEX records_officer ON records (officer, recorded_utc);
    CREATE INDEX records_device ON records (device, recorded_utc);
    CREATE TABLE sightings (seq INTEGER NOT NULL, digest TEXT NOT NULL, batch TEXT,
        path TEXT, path_hex TEXT, mtime TEXT);
    CREATE INDEX sightings_digest ON sightings (digest);
    CREATE TABLE imports (batch TEXT PRIMARY KEY, seq INTEGER NOT NULL, command TEXT NOT NULL,
        source TEXT, actor TEXT NOT NULL, at TEXT NOT NULL, seen INTEGER, stored INTEGER,
        present INTEGER, not_stored INTEGER, bytes INTEGER, result TEXT, receipt TEXT);
    CREATE TABLE verifications (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
        mode TEXT, scope TEXT, result TEXT, checked INTEGER, bytes INTEGER, problems TEXT,
        notices TEXT);
    """)


@migrations()
def m006_record_touches_in_sightings(db: sqlite_utils.Database) -> None:
    """``record.imported``/``record.seen`` no longer get ``event_touches`` rows: their
    ``sightings`` rows (digest, seq) say the same (``touching``). Drop the old rows."""
    db.execute("DELETE FROM event_touches WHERE kind = 'record' AND (ref, seq) IN "
               "(SELECT digest, seq FROM sightings)")


def touching(conn: sqlite3.Connection, kind: str, ref: str) -> list[int]:
    """The seqs, ascending, of the events that touched a record (hex digest), case,
    party, officer or device: ``event_touches``, and for a record its sightings."""
    sql = "SELECT seq FROM event_touches WHERE kind = ? AND ref = ?"
    args: tuple = (kind, ref)
    if kind == "record":
        sql += " UNION SELECT seq FROM sightings WHERE digest = ?"
        args += (ref,)
    return [row[0] for row in conn.execute(f"SELECT seq FROM ({sql}) ORDER BY seq", args)]


def bare(digest: str) -> str:
    """A digest without its ``blake3:`` tag."""
    return digest.split(":", 1)[1] if ":" in digest else digest


def utc_key(iso: str | None) -> str | None:
    """A sortable UTC form of an ISO 8601 time with offset."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC: no such UTC time; the event still folds
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


class Index:
    """An open index.sqlite (or a temporary copy for a read-only store)."""

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False, migrate: bool = True) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.isolation_level = None
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA recursive_triggers=on")  # as sqlite-utils sets it for the migrations
        self.conn = conn
        if migrate and not readonly:
            self.migrate()

    def pending_migrations(self) -> bool:
        return bool(migrations.pending(self.conn))

    def migrate(self) -> None:
        """Apply pending schema migrations (callers hold the journal lock)."""
        if migrations.pending(self.conn):
            migrations.apply(self.conn)

    def close(self) -> None:
        self.conn.close()

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    @property
    def head(self) -> Head:
        """The last event folded into this index."""
        return Head(int(self.meta("last_seq", "0")), self.meta("last_hash", ZERO_HASH),
                    int(self.meta("last_end", "0")))

    def is_current(self, journal_head: Head) -> bool:
        return self.head.hash == journal_head.hash

    def apply(self, events: list[Event]) -> None:
        """Fold ``events`` (which follow this index's head) in one transaction."""
        if not events:
            return
        with atomic(self.conn):
            expected = self.head
            writer = Writer(self.conn)
            for event in events:
                if event.seq != expected.seq + 1 or event.prev != expected.hash:
                    raise errors.IndexCorrupt(
                        f"journal seq {event.seq} does not follow the index's seq {expected.seq}",
                        path=self.path)
                self._apply_one(writer, event)
                expected = Head(event.seq, event.hash, event.end)
            writer.flush()
            last = events[-1]
            self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                  [("last_seq", str(last.seq)), ("last_hash", last.hash),
                                   ("last_start", str(last.offset)), ("last_end", str(last.end))])

    def _apply_one(self, writer: Writer, event: Event) -> None:
        handler = HANDLERS.get(event.type)
        if handler is None:
            raise errors.IndexCorrupt(
                f"journal event type {event.type!r} (seq {event.seq}) is unknown to this "
                "version of recordkeep", hint="upgrade recordkeep, then open the store again")
        touches = handler(writer, event) or ()
        writer.add("INSERT INTO events (seq, offset, type, at, actor, hash) VALUES (?,?,?,?,?,?)",
                   (event.seq, event.offset, event.type, event.at, event.actor, event.hash))
        for kind, ref in sorted(set(touches)):
            writer.add("INSERT OR IGNORE INTO event_touches (kind, ref, seq) VALUES (?,?,?)",
                       (kind, ref, event.seq))

    def catch_up(self, journal: Journal, batch: int = 5000) -> int:
        """Apply every journal event after this index's head, in batches; return how many."""
        head = self.head
        if head.seq:
            start = int(self.meta("last_start", "0"))
            try:
                last = next(journal.read(start, head.end), None)
            except errors.JournalCorrupt:
                last = None
            if last is None or last.hash != head.hash or last.end != head.end:
                raise errors.IndexCorrupt(
                    f"the journal no longer holds the index's last event (seq {head.seq})",
                    path=journal.location,
                    hint="run 'recordkeep log verify'; if the journal is intact, "
                         "run 'recordkeep rebuild-index'")
        applied, pending = 0, []
        for event in journal.read(head.end):
            pending.append(event)
            if len(pending) >= batch:
                self.apply(pending)
                applied += len(pending)
                pending = []
        self.apply(pending)
        return applied + len(pending)


def rebuild(journal: Journal, target: str | os.PathLike) -> int:
    """Build a fresh index at ``target`` from the whole journal; return events applied.

    ``target`` is a new file that no one else opens before this returns (callers
    rename it into place), so it is written in one transaction without a rollback
    journal or syncs, through a large page cache; the ``REBUILD_LATER`` indexes,
    ``event_touches`` and the work of meta's triggers (the search tables) are built once
    at the end, from sorted rows. On any error the file is removed.
    """
    target = Path(target)
    files = [Path(f"{target}{suffix}") for suffix in ("", "-wal", "-shm")]
    for path in files:
        path.unlink(missing_ok=True)
    index = Index(target)
    try:
        conn = index.conn
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(f"PRAGMA cache_size=-{REBUILD_CACHE_KIB}")
        conn.execute("PRAGMA threads=2")  # CREATE INDEX sorts
        conn.execute("BEGIN")
        later = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE (type = 'index' AND name IN "
            f"({', '.join('?' * len(REBUILD_LATER))})) OR (type = 'trigger' AND tbl_name = 'meta')",
            REBUILD_LATER).fetchall()
        for kind, name, _ in later:
            conn.execute(f"DROP {kind} {name}")
        # event_touches is all key (kind, ref, seq): fold into a heap, sort into it at the end
        touches = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'event_touches'").fetchone()[0]
        conn.execute("DROP TABLE event_touches")
        conn.execute("CREATE TABLE event_touches (kind, ref, seq)")
        count = index.catch_up(journal, batch=REBUILD_BATCH)
        conn.execute("ALTER TABLE event_touches RENAME TO rebuild_touches")
        conn.execute(touches)
        conn.execute("INSERT OR IGNORE INTO event_touches SELECT kind, ref, seq FROM rebuild_touches "
                     "ORDER BY kind, ref, seq")
        conn.execute("DROP TABLE rebuild_touches")
        for _, _, sql in later:
            conn.execute(sql)
        conn.execute("UPDATE meta SET value = value WHERE key = 'last_seq'")  # meta's triggers, once
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")  # as every Index opens it
    except BaseException:
        index.close()
        for path in files:
            path.unlink(missing_ok=True)
        raise
    index.close()
    return count


# -- projections of the store's own events -----------------------------------
RECORD_FIELDS = ("container", "duration_ms", "video_codec", "audio_codec", "width", "height",
                 "frame_rate", "pages", "tz_assumed", "gps_lat", "gps_lon", "make", "model",
                 "serial", "probe_status", "probe_error")


@handles("store.created", "journal.torn_set_aside", "journal.batch_cut")
def _store_event(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    if event.type == "store.created":
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('store_id', ?)",
                     (event.data["store_id"],))
    return ()


SIGHTING_SQL = "INSERT INTO sightings (seq, digest, batch, path, path_hex, mtime) VALUES (?,?,?,?,?,?)"
RECORD_COLUMNS = (
    *RECORD_FIELDS, "digest", "size", "kind", "doc_type", "name", "first_seq", "first_at", "first_batch",
    "recorded_at", "recorded_utc", "time_source", "time_conflict", "device", "officer",
    "officer_source", "important")
RECORD_SQL = (f"INSERT OR IGNORE INTO records ({', '.join(RECORD_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(RECORD_COLUMNS))})")


def _sighting(conn: Writer, event: Event, digest: str) -> None:
    """A sighting row; it is also how ``touching`` finds a record's imports and sightings."""
    source = event.data.get("source", {})
    conn.add(SIGHTING_SQL, (event.seq, digest, event.data.get("batch"), source.get("path"),
                            source.get("path_hex"), source.get("mtime")))


@handles("record.imported")
def _record_imported(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    digest = bare(d["digest"])
    media = d.get("media", {})
    source = d.get("source", {})
    name = source.get("path") or None
    if name is not None:
        name = name.replace("\\", "/").rsplit("/", 1)[-1]
    recorded_at = d.get("recorded_at")
    conn.add(RECORD_SQL, (
        *map(media.get, RECORD_FIELDS),
        digest, d["size"], d["kind"], d.get("doc_type"), name, event.seq, event.at, d.get("batch"),
        recorded_at, utc_key(recorded_at), d.get("time_source"), _json(d.get("time_conflict")),
        d.get("device"), d.get("officer"), d.get("officer_source"), int(bool(d.get("important")))))
    _sighting(conn, event, digest)
    index_people.note_officer(conn, d.get("officer"), event.seq)
    return ()


@handles("record.seen")
def _record_seen(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    digest = bare(event.data["digest"])
    _sighting(conn, event, digest)
    if event.data.get("doc_type"):  # the clerk's latest word on what a scan is wins
        conn.execute("UPDATE records SET doc_type = ? WHERE digest = ?", (event.data["doc_type"], digest))
    return ()


@handles("batch.finished")
def _batch_finished(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    r = d.get("receipt", {})
    conn.add(
        "INSERT OR REPLACE INTO imports (batch, seq, command, source, actor, at, seen, stored, "
        "present, not_stored, bytes, result, receipt) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (d["batch"], event.seq, d.get("command"), d.get("source"), event.actor, event.at,
         r.get("seen"), r.get("stored"), r.get("present"), r.get("not_stored"), r.get("bytes"),
         r.get("verdict"), _json(r)))
    return ()


@handles("verify.run")
def _verify_run(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    conn.add(
        "INSERT INTO verifications (seq, at, actor, mode, scope, result, checked, bytes, problems, "
        "notices) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (event.seq, event.at, event.actor, d.get("mode"), _json(d.get("scope")), d.get("result"),
         d.get("checked"), d.get("bytes"), _json(d.get("problems")), _json(d.get("notices"))))
    touched = {bare(p["digest"]) for p in d.get("problems", []) if p.get("digest")}
    touched.update(bare(x) for x in d.get("digests", []))
    scope = d.get("scope") or {}
    extra = [(k, scope[k]) for k in ("case", "party") if k in scope]
    return [("record", x) for x in sorted(touched)] + extra


@handles("export.created")
def _export_created(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    scope = d.get("scope") or {}
    extra = [(k, scope[k]) for k in ("case", "party") if k in scope]
    return [("record", bare(x)) for x in d.get("digests", [])] + extra


# the projections register their migrations and handlers; whichever module is imported
# first, the others come in here (module imports, so a cycle through one of them is fine)
from . import index_dossier, index_people, index_retention, index_search  # noqa: E402, F401
