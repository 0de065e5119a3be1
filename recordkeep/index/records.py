"""Projection of the store's own events: records and their sightings, import batches,
verify runs and exports."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from ..refs import bare, utc_key
from ..store.journal import Event
from .core import Index, Row, Writer, handles, open_read_only
from .corrections import doc_type_changed
from .fixity import note_run
from .keys import founding_key
from .people import note_officer


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


RECORD_FIELDS = ("container", "duration_ms", "video_codec", "audio_codec", "width", "height",
                 "frame_rate", "pages", "tz_assumed", "gps_lat", "gps_lon", "make", "model",
                 "serial", "probe_status", "probe_error")


@handles("store.created", "journal.torn_set_aside", "journal.newline_restored", "journal.batch_cut")
def _store_event(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    if event.type == "store.created" and event.seq == 1:  # a later one founds nothing (log verify fails it)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('store_id', ?)",
                     (event.data["store_id"],))
        founding_key(conn, event)
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
    note_officer(conn, d.get("officer"), event.seq)
    return ()


@handles("record.seen")
def _record_seen(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    digest = bare(event.data["digest"])
    _sighting(conn, event, digest)
    touched: list[tuple[str, str]] = []
    if event.data.get("doc_type"):  # the clerk's latest word on what a scan is wins, remembered
        touched = doc_type_changed(conn, event, digest, event.data["doc_type"])
    _mark_important(conn, event, digest)
    return touched


def _mark_important(conn: Writer, event: Event, digest: str) -> None:
    """A sighting whose file name marks the bytes important (重要文件) makes the record so."""
    if event.data.get("important"):
        conn.execute("UPDATE records SET important = 1 WHERE digest = ?", (digest,))


@handles("record.restored")
def _record_restored(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    """A disposed record's bytes imported again: a sighting, and the record is no longer disposed
    of (``disposals`` keeps the history)."""
    digest = bare(event.data["digest"])
    _sighting(conn, event, digest)
    conn.execute("UPDATE records SET disposed_seq = NULL WHERE digest = ?", (digest,))
    _mark_important(conn, event, digest)
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
    note_run(conn, event)
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


# -- queries -------------------------------------------------------------------------
def _in(values: list) -> str:
    return json.dumps(values, ensure_ascii=False)


def event(ix: Index, seq: int) -> Row | None:
    """The folded event at ``seq``: its type, time, actor, hash and position."""
    return ix.conn.execute("SELECT * FROM events WHERE seq = ?", (seq,)).fetchone()


def event_positions(ix: Index, seqs: list[int]) -> list[int]:
    """The journal positions of the events ``seqs`` (in that order)."""
    sql = "SELECT seq, offset FROM events WHERE seq IN (SELECT value FROM json_each(?))"
    found = dict(ix.conn.execute(sql, (_in(seqs),)).fetchall())
    return [found[seq] for seq in seqs]


def event_seqs(ix: Index) -> set[int]:
    """The seq of every folded event."""
    return {row[0] for row in ix.conn.execute("SELECT seq FROM events")}


def record(ix: Index, digest: str) -> Row | None:
    return ix.conn.execute("SELECT * FROM records WHERE digest = ?", (digest,)).fetchone()


def has_record(ix: Index, digest: str) -> bool:
    return ix.conn.execute("SELECT 1 FROM records WHERE digest = ?", (digest,)).fetchone() is not None


def important_among(ix: Index, digests: list[str]) -> list[str]:
    """Those of ``digests`` whose records are marked important."""
    return [row[0] for row in ix.conn.execute(
        "SELECT digest FROM records WHERE important AND digest IN (SELECT value FROM json_each(?))",
        (_in(digests),))]


def sizes(ix: Index, digests: list[str] | None = None) -> list[tuple[str, int, bool]]:
    """(digest, size, disposed) of the records ``digests`` (every record when None), by digest."""
    if digests is None:
        found = ix.conn.execute("SELECT digest, size, disposed_seq IS NOT NULL FROM records ORDER BY digest")
    else:
        found = ix.conn.execute("SELECT digest, size, disposed_seq IS NOT NULL FROM records "
                                "WHERE digest IN (SELECT value FROM json_each(?)) ORDER BY digest",
                                (_in(sorted(set(digests))),))
    return [(r[0], r[1], bool(r[2])) for r in found]


def sizes_through(ix: Index, seq: int) -> list[tuple[str, int, bool]]:
    """(digest, size, disposed) of every record journaled up to ``seq``, as it stood there
    (a disposal after it not counted), by digest: what another writer folds meanwhile is left out."""
    found = ix.conn.execute("SELECT digest, size, disposed_seq IS NOT NULL AND disposed_seq <= ? "
                            "FROM records WHERE first_seq <= ? ORDER BY digest", (seq, seq))
    return [(r[0], r[1], bool(r[2])) for r in found]


def first_imports(ix: Index) -> list[tuple[str, str]]:
    """(digest, first import time) of every record, by digest."""
    return [(r[0], r[1]) for r in ix.conn.execute("SELECT digest, first_at FROM records ORDER BY digest")]


def original_names(ix: Index, digest: str) -> list[str]:
    """Every original path a record was seen at (``hex:`` + hex when not UTF-8), sorted."""
    return sorted({r[0] for r in ix.conn.execute(
        "SELECT coalesce(path, 'hex:' || path_hex) FROM sightings WHERE digest = ?", (digest,))})


def last_sighting(ix: Index, digest: str) -> int | None:
    """The seq of the last time the record's bytes were imported or seen."""
    return ix.conn.execute("SELECT MAX(seq) FROM sightings WHERE digest = ?", (digest,)).fetchone()[0]


def whole_store_verifications(ix: Index, after_seq: int) -> list[int]:
    """Seqs of whole-store verify runs after ``after_seq`` (a rolling audit's runs name their
    records: ``touching`` finds them)."""
    return [r[0] for r in ix.conn.execute("SELECT seq FROM verifications WHERE seq > ? AND scope = ?",
                                          (after_seq, '{"all": true}'))]


def recorded_by(ix: Index, officer: str, start_utc: str, end_utc: str) -> list[str]:
    """Digests of the records (not disposed of) an officer recorded in [start, end), by time."""
    return [r[0] for r in ix.conn.execute(
        "SELECT digest FROM records WHERE officer = ? AND recorded_utc >= ? AND recorded_utc < ? "
        "AND disposed_seq IS NULL ORDER BY recorded_utc", (officer, start_utc, end_utc))]


def disposed(ix: Index) -> list[tuple[str, int]]:
    """(digest, disposal seq) of every record disposed of, by digest."""
    return [(r[0], r[1]) for r in ix.conn.execute(
        "SELECT digest, disposed_seq FROM records WHERE disposed_seq IS NOT NULL ORDER BY digest")]


def disposed_in(path: Path) -> set[str]:
    """The digests the index at ``path`` says were disposed of, read as it is (never caught up):
    a hint of what to watch for a reader of the journal; empty where no index can be read."""
    if not path.exists():
        return set()
    try:
        conn = open_read_only(path)
        try:
            return {r[0] for r in conn.execute("SELECT digest FROM records WHERE disposed_seq IS NOT NULL")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return set()


def undisposed(ix: Index) -> list[Row]:
    """Every record not disposed of, by digest."""
    return ix.conn.execute("SELECT * FROM records WHERE disposed_seq IS NULL ORDER BY digest").fetchall()
