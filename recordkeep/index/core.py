"""index.sqlite: the SQLite projection of the journal (rebuildable, never the truth).

The schema grows by versioned sqlite-utils ``Migrations``. ``apply`` folds events
into tables deterministically (no clock, no file system), so a rebuilt index
answers exactly as the live one. ``meta`` remembers the last applied event, so
opening a store applies whatever the journal has that the index lacks.

Handlers write through a ``Writer``: rows that nothing reads back within a batch are
queued (``Writer.add``) and written with one ``executemany`` per statement, which is
what makes ``rebuild`` fast (figures in docs/benchmarks.md).
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

from .. import errors
from ..i18n import N_, _
from ..progress import Progress, Watcher, tell
from ..refs import utc_key
from ..store.fs import fsync_dir, temp_name
from ..store.journal import CUT_EVENT, SEAL_EVENT, ZERO_HASH, Event, Head, Journal

if TYPE_CHECKING:
    import sqlite_utils

FILENAME = "index.sqlite"
Row = sqlite3.Row  # what queries return: columns by name
SIGNED_LAYOUT = "recordkeep-2"  # a store whose every batch is signed from its first
# what only an admin's batch may make take effect: a key's roles granted or taken away, and the
# settings (rules, retention) the store is judged under
ADMIN_SEALED = frozenset({"key.enrolled", "key.revoked", "settings.changed"})
REFOLD = "refold"  # meta key a migration sets when only a rebuild from the journal can fill what it adds
MIGRATIONS_TABLE = "_sqlite_migrations"  # where sqlite-utils' Migrations records what it applied


class Migrations:
    """The index schema's versioned steps, applied by sqlite-utils' ``Migrations``.

    Steps register at import (``@migrations()``) and apply in the order of their names
    (``m001_...``, ``m002_...``), whichever module was imported first. sqlite-utils
    (slow to import) is loaded only to apply them; ``pending`` reads sqlite-utils' own
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


def run_script(db: sqlite_utils.Database, script: str) -> None:
    """Run a migration's SQL statements one by one inside the migration's transaction
    (sqlite-utils' ``executescript`` rejoins long scripts character by character)."""
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n\t;"):
                db.execute(statement)
            statement = ""
    if statement.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement in a migration: {statement.strip()[:80]}")


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction for the block: its reads see the index as the first of them found
    it, whatever another process folds meanwhile (WAL); inside the caller's transaction, that
    one's view."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


@contextmanager
def atomic(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction for the block (IMMEDIATE: it waits for another process's write
    to end instead of failing when its snapshot went stale), or a savepoint inside the
    caller's transaction."""
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
    conn.execute("BEGIN IMMEDIATE")
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
    run_script(db, """
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


def touching(ix: Index, kind: str, ref: str) -> list[int]:
    """The seqs, ascending, of the events that touched a record (hex digest), case,
    party, officer or device: ``event_touches``, and for a record its sightings."""
    sql = "SELECT seq FROM event_touches WHERE kind = ? AND ref = ?"
    args: tuple = (kind, ref)
    if kind == "record":
        sql += " UNION SELECT seq FROM sightings WHERE digest = ?"
        args += (ref,)
    return [row[0] for row in ix.conn.execute(f"SELECT seq FROM ({sql}) ORDER BY seq", args)]


_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_NOTADB = 5, 6, 11, 26


def _damaged(exc: sqlite3.DatabaseError | UnicodeDecodeError, path: str) -> Exception:
    """A damaged database file as IndexDamaged (the index only ever holds UTF-8 text, so text
    that does not decode is damage too), an index held too long by another process, or a full,
    read-only or failing disk, as the store's error; anything else unchanged."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return errors.StoreIOError(_("index.sqlite is held by another process ({error})").format(error=exc),
                                   path=path, hint=_("wait for the other recordkeep command to end, then run "
                                                     "this one again"))
    stored = storage_error(exc, N_("using the index"), Path(path)) if isinstance(exc, sqlite3.Error) else None
    if stored is not None:
        return stored
    if isinstance(exc, UnicodeDecodeError) or code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return errors.IndexDamaged(_("index.sqlite is damaged ({error})").format(error=exc), path=path,
                                   hint=_("run 'recordkeep rebuild-index': it sets the damaged file aside "
                                          "and rebuilds the index from the journal"))
    return exc


class _Cursor(sqlite3.Cursor):
    """A cursor whose reads report a damaged file as IndexDamaged."""

    def _read(self, fetch, *args):
        try:
            return fetch(*args)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise _damaged(exc, self.connection.path) from exc

    def fetchone(self):
        return self._read(super().fetchone)

    def fetchmany(self, size: int = 1):
        return self._read(super().fetchmany, size)

    def fetchall(self):
        return self._read(super().fetchall)

    def __next__(self):
        return self._read(super().__next__)


class _Connection(sqlite3.Connection):
    """A connection whose statements report a damaged file as IndexDamaged."""

    path = ""

    def _run(self, method: str, *args):
        try:
            return getattr(self.cursor(_Cursor), method)(*args)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise _damaged(exc, self.path) from exc

    def execute(self, sql: str, params=()):
        return self._run("execute", sql, params)

    def executemany(self, sql: str, rows):
        return self._run("executemany", sql, rows)

    def executescript(self, script: str):
        return self._run("executescript", script)


def _mark(value: dict | None) -> Head | None:
    return None if value is None else Head(value["seq"], value["hash"], value["end"], value["start"])


class Index:
    """An open index.sqlite (or a temporary copy for a read-only store)."""

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False, migrate: bool = True) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True,
                                   check_same_thread=False, factory=_Connection)
        else:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=60, factory=_Connection)
        conn.path = str(self.path)
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.isolation_level = None
        conn.row_factory = sqlite3.Row
        conn.create_function("rk_utc", 1, utc_key, deterministic=True)  # a stored time's sortable UTC key
        conn.execute("PRAGMA recursive_triggers=on")  # as sqlite-utils sets it for the migrations
        self.conn = conn
        self._pending: list[Event] = []  # an unsealed tail, held back until its seal or its cut
        self.rebuilding = False  # set by ``rebuild``: one transaction, no rollback journal
        self._signed: bool | None = None
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
        return self.seen.hash == journal_head.hash

    def chain_marks(self) -> tuple[Head | None, Head | None, str | None]:
        """What the chain checks last proved: the last line verified, and the end of the
        journal prefix whose BLAKE3 a whole check recorded, with that digest."""
        marks = []
        for key in ("chain_verified", "chain_prefix"):
            value = self.meta(key)
            marks.append(None if value is None else json.loads(value))
        verified, prefix = marks
        return _mark(verified), _mark(prefix), prefix["blake3"] if prefix else None

    def set_chain_marks(self, verified: Head, prefix: Head | None = None, digest: str | None = None) -> None:
        """Record the last line verified (and, after a whole check, the prefix digest)."""
        rows = [("chain_verified", json.dumps({"seq": verified.seq, "hash": verified.hash,
                                                "start": verified.start, "end": verified.end}))]
        if prefix is not None:
            rows.append(("chain_prefix", json.dumps({"seq": prefix.seq, "hash": prefix.hash,
                                                      "start": prefix.start, "end": prefix.end,
                                                      "blake3": digest})))
        with atomic(self.conn):
            self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", rows)

    # -- folding ------------------------------------------------------------
    @property
    def signed(self) -> bool:
        """Whether the store signs its batches (layout recordkeep-2, or from its first seal)."""
        if self._signed is None:
            self._signed = self.meta("signed") == "1"
        return self._signed

    @property
    def seen(self) -> Head:
        """The last journal event read: the head, or the last of an unsealed tail held back."""
        if self._pending:
            last = self._pending[-1]
            return Head(last.seq, last.hash, last.end, last.offset)
        return self.head

    def apply(self, events: Iterable[Event], batch: int = 5000, progress: Progress | None = None,
              watch: Watcher | None = None) -> int:
        """Fold ``events`` (which follow what this index has read) and return how many were
        applied. In a store that signs its batches, a batch is folded when its seal arrives;
        the lines a ``journal.batch_cut`` closes are recorded but never folded; an unsealed
        tail waits (``seen``). A full or failing disk is the store's error. ``progress``
        counts the events read, told to ``watch`` after each batch."""
        ready: list[tuple[Event, bool]] = []
        applied = 0
        read = 0
        for event in events:
            read += 1
            if event.type == "store.created" and event.seq == 1 and event.data.get("layout") == SIGNED_LAYOUT:
                self._signed = True
            if not self.signed:
                ready.append((event, True))
            else:
                if event.type == CUT_EVENT and self._pending:
                    ready += [(e, False) for e in self._pending]
                    self._pending = []
                self._pending.append(event)
                if event.type == SEAL_EVENT:
                    admins = True
                    if any(e.type in ADMIN_SEALED for e in self._pending):  # rare: fold what came before
                        applied += self._apply_batch(ready)
                        ready = []
                        admins = self._admin_sealed(self._pending)
                    ready += [(e, admins or e.type not in ADMIN_SEALED) for e in self._pending]
                    self._pending = []
            if event.type == SEAL_EVENT:
                self._signed = True
            if len(ready) >= batch:
                applied += self._apply_batch(ready)
                ready = []
                if progress is not None:
                    tell(watch, progress, done=read)
                    read = 0
        applied += self._apply_batch(ready)
        if progress is not None:
            tell(watch, progress, done=read)
        return applied

    def _admin_sealed(self, batch: list[Event]) -> bool:
        """Whether ``batch`` was sealed by a key that may enrol, revoke and record settings
        (``ADMIN_SEALED``): the founding key in the store's first batch, else a key this index
        holds, with the admin role (trust/roles.py), not revoked; and the seal is of these lines.
        Such an event any other key sealed is recorded, never folded: a clerk who appends a line
        granting herself roles, or recording settings she edited, changes nothing (``log verify``
        names the line, RK243). Whether the seal's signature holds is not the index's to say: a
        writer proves its own key's enrolment (archive), ``log verify`` every batch."""
        seal, last = batch[-1], batch[-2] if len(batch) > 1 else None
        d = seal.data
        keyed = [e.seq for e in batch if e.type in ADMIN_SEALED]
        if last is None or d.get("to") != last.seq or d.get("head") != last.hash or \
                not isinstance(d.get("from"), int) or d["from"] > min(keyed):
            return False  # a seal copied from another batch seals none of these lines
        signer = d.get("key")
        first = batch[0]
        if first.seq == 1 and first.type == "store.created" and first.data.get("admin_key") == signer:
            return True
        row = self.conn.execute("SELECT roles, revoked_seq FROM keys WHERE key = ?", (signer,)).fetchone()
        return row is not None and row[1] is None and "admin" in json.loads(row[0])

    def _apply_batch(self, ready: list[tuple[Event, bool]]) -> int:
        """Apply a batch; when one event cannot be folded, fold those before it (so reads
        answer up to there) and raise IndexFoldFailed."""
        if not ready:
            return 0
        try:
            self._apply_storing(ready)
        except errors.IndexFoldFailed:
            if self.rebuilding:  # no rollback journal while rebuilding: the new file is dropped
                raise
            for one in ready:
                self._apply_storing([one])  # raises again at the event that cannot be folded
            raise
        return len(ready)

    def _apply_storing(self, ready: list[tuple[Event, bool]]) -> None:
        try:
            self._apply(ready)
        except sqlite3.OperationalError as exc:
            events = [e for e, _ in ready]
            failed = storage_error(exc, _("indexing journal seq {first}-{last} (they are journaled; the "
                                          "index catches up on the next command)").format(
                                              first=events[0].seq, last=events[-1].seq), self.path)
            if failed is None:
                raise
            raise failed from exc

    def _apply(self, ready: list[tuple[Event, bool]]) -> None:
        with atomic(self.conn):
            expected = self.head
            writer = Writer(self.conn)
            for event, fold in ready:
                if event.seq != expected.seq + 1 or event.prev != expected.hash:
                    raise errors.IndexCorrupt(
                        _("journal seq {seq} does not follow the index's seq {index_seq}").format(
                            seq=event.seq, index_seq=expected.seq),
                        path=self.path)
                self._apply_one(writer, event, fold)
                expected = Head(event.seq, event.hash, event.end)
            writer.flush()
            last = ready[-1][0]
            rows = [("last_seq", str(last.seq)), ("last_hash", last.hash),
                    ("last_start", str(last.offset)), ("last_end", str(last.end))]
            if self._signed:
                rows.append(("signed", "1"))
            self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", rows)

    def _apply_one(self, writer: Writer, event: Event, fold: bool = True) -> None:
        """Fold one event (``fold`` False: record it, as a cut batch's, without its effect)."""
        handler = HANDLERS.get(event.type) if fold else (lambda _writer, _event: ())
        if handler is None:
            raise errors.IndexFoldFailed(
                _("the index cannot fold event seq {seq}: its type {type!r} is unknown "
                  "to this version of recordkeep").format(seq=event.seq, type=event.type), path=self.path)
        try:
            touches = handler(writer, event) or ()
        except (errors.RecordkeepError, sqlite3.OperationalError):
            raise
        except Exception as exc:  # a hand-made or future event this version cannot fold
            message = _("the index cannot fold event seq {seq} ({type}): {kind}: {error}").format(
                seq=event.seq, type=event.type, kind=type(exc).__name__, error=exc)
            raise errors.IndexFoldFailed(message, path=self.path) from exc
        writer.add("INSERT INTO events (seq, offset, type, at, actor, hash) VALUES (?,?,?,?,?,?)",
                   (event.seq, event.offset, event.type, event.at, event.actor, event.hash))
        for kind, ref in sorted(set(touches)):
            writer.add("INSERT OR IGNORE INTO event_touches (kind, ref, seq) VALUES (?,?,?)",
                       (kind, ref, event.seq))

    def catch_up(self, journal: Journal, batch: int = 5000, watch: Watcher | None = None,
                 task: str = "catch-up", through: int | None = None) -> int:
        """Apply every journal event after what this index has read (none after seq ``through``
        when given, nor read past it), in batches; return how many were applied. ``watch`` is
        told the events read (``task``) after each batch.
        What this connection held back or cached is dropped when another process folded past it
        (the store's first seal among what it folded)."""
        if self._pending and self._pending[0].prev != self.head.hash:
            self._pending = []
        if not self._pending:
            self._signed = None
        if self._pending:
            resume = self._pending[-1].end
        else:
            head = self.head
            resume = 0
            if head.seq:
                start = int(self.meta("last_start", "0"))
                try:
                    last = next(journal.read(start, head.end), None)
                except errors.JournalCorrupt:
                    last = None
                if last is not None and last.hash == head.hash and last.offset == start:
                    resume = last.end  # past its newline, also when a writer restored a lost one since
                elif journal.head().hash == head.hash:
                    resume = journal.head().end  # the same last line, moved: lines before it were
                    # edited (the chain check names them); evidence can still be stored after it
                else:
                    raise errors.IndexCorrupt(
                        _("the journal no longer holds the index's last event (seq {seq}): "
                          "the journal was cut or rewritten").format(seq=head.seq), path=journal.location)
        progress = None
        if watch is not None:
            seen = self.seen
            last = journal.head(since=seen).seq if through is None else through
            progress = Progress(task, "events", total=max(last - seen.seq, 0))
        events = journal.read(resume)
        return self.apply(events if through is None else _through(events, through), batch, progress, watch)


def _through(events: Iterator[Event], seq: int) -> Iterator[Event]:
    """``events`` up to seq ``seq``, stopping there: a line after it is never read."""
    for event in events:
        if event.seq > seq:
            return
        yield event
        if event.seq == seq:
            return


class Acknowledged:
    """Which journal events count, fed in order, by the rule ``Index.apply`` folds them by: in a
    store that signs its batches (layout recordkeep-2, or from its first seal), a batch's events
    once its seal comes; the lines a cut closes, or after the last seal, never. For readers that
    go through the journal itself rather than trust the index."""

    def __init__(self) -> None:
        self.signed = False
        self._pending: list[Event] = []

    def feed(self, event: Event) -> list[Event]:
        """The events that count now that ``event`` was read (none, it, or its whole batch)."""
        if event.type == "store.created" and event.seq == 1 and event.data.get("layout") == SIGNED_LAYOUT:
            self.signed = True
        if not self.signed:
            counted = [event]
        else:
            if event.type == CUT_EVENT:
                self._pending = []
            self._pending.append(event)
            counted = []
            if event.type == SEAL_EVENT:
                counted, self._pending = self._pending, []
        if event.type == SEAL_EVENT:
            self.signed = True
        return counted


def rebuild(journal: Journal, target: str | os.PathLike, watch: Watcher | None = None,
            through: int | None = None) -> int:
    """Build a fresh index at ``target`` from the whole journal (up to seq ``through`` when
    given); return events applied.

    ``target`` is a new file that no one else opens before this returns (callers
    rename it into place), so it is written in one transaction without a rollback
    journal or syncs, through a large page cache; the ``REBUILD_LATER`` indexes,
    ``event_touches`` and the work of meta's triggers (the search tables) are built once
    at the end, from sorted rows. On any error the file is removed. ``watch`` is told the
    events folded (task ``rebuild-index``) after each batch.
    """
    target = Path(target)
    files = [Path(f"{target}{suffix}") for suffix in ("", "-wal", "-shm")]
    for path in files:
        path.unlink(missing_ok=True)
    index = None
    try:
        index = Index(target)
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
        index.rebuilding = True
        count = index.catch_up(journal, batch=REBUILD_BATCH, watch=watch, task="rebuild-index",
                               through=through)
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
        if index is not None:
            index.close()
        for path in files:
            path.unlink(missing_ok=True)
        raise
    index.close()
    return count


# -- opening the store's index ----------------------------------------------------
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 8, 10, 13
_NEARLY_FULL_BYTES = 1024 * 1024


def storage_error(exc: sqlite3.Error, what: str, path: Path) -> errors.RecordkeepError | None:
    """A full, read-only or failing disk met by SQLite as the store's own error (RK105,
    RK103, RK106); None when SQLite met something else (such as a damaged file)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    what = _(what)
    if code == _SQLITE_READONLY:
        return errors.ReadOnlyStore(_("read-only while {what}").format(what=what), path=path)
    if code == _SQLITE_FULL:
        return errors.StoreFull(_("no space left while {what}").format(what=what), path=path)
    if code == _SQLITE_IOERR:  # SQLite says only this when it cannot grow its WAL on a full disk
        try:
            fs = os.statvfs(path.parent)
            full = fs.f_bavail * fs.f_frsize < _NEARLY_FULL_BYTES
        except OSError:
            full = False
        if full:
            return errors.StoreFull(_("no space left while {what}").format(what=what), path=path)
        return errors.StoreIOError(_("disk I/O error while {what}").format(what=what), path=path)
    return None


def open_live(path: Path, journal: Journal, tmp_dir: Path,
              watch: Watcher | None = None) -> tuple[Index, errors.IndexFoldFailed | None]:
    """The store's own index, migrated and caught up with the journal (under its lock), and
    the IndexFoldFailed that stopped the catch-up, if any (the index then answers up to the
    event before). A file that is not a readable index is set aside (``index.sqlite.damaged-*``,
    it holds the last head it folded) and rebuilt from the journal; a full or failing disk is
    the store's error (a rebuild would fail too). An index a migration marked ``REFOLD`` is
    caught up (which proves the journal still holds what it folded), then rebuilt. ``watch`` is
    told how the catch-up and a rebuild go (a station sharing a bucket may have a long journal
    to read)."""
    index = None
    try:
        index = Index(path, migrate=False)
        if index.pending_migrations() or not index.is_current(journal.head(since=index.head)):
            with journal.locked():  # one process migrates and catches up at a time
                index.migrate()
                index.catch_up(journal, watch=watch)  # also proves the journal still holds its head
        if index.meta(REFOLD) is not None:  # a migration needs the journal folded again
            index.close()
            replace_by_rebuild(path, journal, tmp_dir, watch)
            index = Index(path)
        return index, None
    except errors.IndexFoldFailed as exc:
        return index, exc
    except (sqlite3.DatabaseError, errors.IndexDamaged) as exc:
        if index is not None:
            index.close()
        failed = storage_error(exc, N_("opening the index"), path) if isinstance(exc, sqlite3.Error) else None
        if failed is not None and not isinstance(failed, errors.ReadOnlyStore):
            raise failed from exc
    set_aside(path)
    replace_by_rebuild(path, journal, tmp_dir, watch)
    return Index(path), None


def readable(path: Path) -> bool:
    """Whether ``path`` is absent or a database whose index tables can be read."""
    if not path.exists():
        return True
    try:
        index = Index(path, readonly=True)
        try:
            index.meta("last_seq")
        finally:
            index.close()
    except (sqlite3.DatabaseError, errors.IndexDamaged):
        return False
    return True


def folded_head(path: Path) -> Head | None:
    """The last event the index at ``path`` folded, read without catching up, with what another
    process has written to its WAL and not yet checkpointed (read-only media: the file alone);
    None when there is no readable index there, or it folded nothing."""
    if not path.exists():
        return None
    try:
        conn = open_read_only(path)
        try:
            found = dict(conn.execute("SELECT key, value FROM meta WHERE key IN "
                                      "('last_seq', 'last_hash', 'last_end')").fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    seq = int(found.get("last_seq") or 0)
    return Head(seq, found.get("last_hash", ZERO_HASH), int(found.get("last_end") or 0)) if seq else None


def open_read_only(path: Path) -> sqlite3.Connection:
    """The index at ``path`` read only, with what another process has written to its WAL; on
    read-only media (no -shm can be made) as an immutable file, the file alone. DatabaseError
    when it is no database."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        return conn
    except sqlite3.OperationalError:
        conn.close()
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def set_aside(path: Path) -> Path:
    """Rename a damaged index (and its -wal, -shm) to ``<name>.damaged-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{target}{suffix}"))
    fsync_dir(path.parent)
    return target


def open_snapshot(path: Path, journal: Journal, tmp_dir: Path,
                  watch: Watcher | None = None) -> tuple[Index, errors.IndexFoldFailed | None]:
    """An index for a read-only store: its own file when current, else one rebuilt into
    ``tmp_dir`` (a folder the caller removes). When the journal holds an event this version
    cannot fold, the store's own file as it is, with that error."""
    wal = Path(f"{path}-wal")
    usable = path.exists() and not (wal.exists() and wal.stat().st_size)
    if usable:
        try:
            index = Index(path, readonly=True)
            if index.is_current(journal.head()):
                return index, None
            index.close()
        except (sqlite3.DatabaseError, errors.IndexDamaged):
            usable = False
    temp = tmp_dir / FILENAME
    try:
        rebuild(journal, temp, watch)
    except errors.IndexFoldFailed as exc:
        if not usable:
            raise
        return Index(path, readonly=True), exc
    return Index(temp), None


def replace_by_rebuild(target: Path, journal: Journal, tmp_dir: Path, watch: Watcher | None = None) -> int:
    """Rebuild the index at ``target`` from the whole journal, under the journal's lock, in a
    new file renamed into place; return the events applied (``watch``: see ``rebuild``)."""
    temp = tmp_dir / temp_name(".rebuild.sqlite")
    with journal.locked():
        count = rebuild(journal, temp, watch)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(temp, target)
        fsync_dir(target.parent)
    return count
