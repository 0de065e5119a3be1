"""Projection of officers (执法证号) and device assignments into the index."""

from __future__ import annotations

from collections.abc import Iterable

from ..refs import utc_key
from ..store.journal import Event
from .core import REFOLD, Index, Row, Writer, handles, migrations, run_script


@migrations()
def m002_people(db) -> None:
    run_script(db, """
    CREATE TABLE officers (cert_no TEXT PRIMARY KEY, name TEXT, unit TEXT,
        registered INTEGER NOT NULL DEFAULT 0, first_seq INTEGER NOT NULL);
    CREATE TABLE devices (id INTEGER PRIMARY KEY, device TEXT NOT NULL, officer TEXT NOT NULL,
        valid_from TEXT, valid_until TEXT, from_utc TEXT, until_utc TEXT, seq INTEGER NOT NULL);
    CREATE INDEX devices_device ON devices (device, from_utc);
    """)


@migrations()
def m015_posts_and_units(db) -> None:
    """An officer's post (``officer add --post``); a device kept by a unit (``device add
    --unit``) has a unit and no officer."""
    run_script(db, """
    ALTER TABLE officers ADD COLUMN post TEXT;
    CREATE TABLE devices_new (id INTEGER PRIMARY KEY, device TEXT NOT NULL, officer TEXT, unit TEXT,
        valid_from TEXT, valid_until TEXT, from_utc TEXT, until_utc TEXT, seq INTEGER NOT NULL);
    INSERT INTO devices_new (id, device, officer, valid_from, valid_until, from_utc, until_utc, seq)
        SELECT id, device, officer, valid_from, valid_until, from_utc, until_utc, seq FROM devices;
    DROP TABLE devices;
    ALTER TABLE devices_new RENAME TO devices;
    CREATE INDEX devices_device ON devices (device, from_utc);
    """)


@migrations()
def m020_moved_records_touched(db) -> None:
    """A record whose officer a later device assignment changed is touched by it (its chain
    of custody shows the assignment). An index that folded such an assignment before did not
    note it: it asks to be rebuilt (``REFOLD``)."""
    run_script(db, f"""
    INSERT OR REPLACE INTO meta (key, value) SELECT '{REFOLD}', 'm020_moved_records_touched' WHERE EXISTS (
        SELECT 1 FROM events WHERE type = 'device.assigned' AND seq > (SELECT MIN(first_seq) FROM records));
    """)


def note_officer(conn: Writer, cert_no: str | None, seq: int) -> None:
    """Remember an officer seen in a flag, metadata or name (unregistered until named)."""
    if cert_no and conn.first(("officer", cert_no)):  # a second INSERT OR IGNORE would do nothing
        conn.add("INSERT OR IGNORE INTO officers (cert_no, registered, first_seq) VALUES (?, 0, ?)",
                 (cert_no, seq))


@handles("officer.registered")
def _officer_registered(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    note_officer(conn, d["cert_no"], event.seq)
    conn.execute("UPDATE officers SET name = ?, unit = ?, post = ?, registered = 1 WHERE cert_no = ?",
                 (d.get("name"), d.get("unit"), d.get("post"), d["cert_no"]))
    return [("officer", d["cert_no"])]


@handles("device.assigned")
def _device_assigned(conn: Writer, event: Event) -> Iterable[tuple[str, str]]:
    d = event.data
    device, officer, unit = d["device"], d.get("officer"), d.get("unit")
    start, end = d.get("from"), d.get("until")
    start_utc, end_utc = utc_key(start), utc_key(end)
    note_officer(conn, officer, event.seq)
    if start_utc:
        conn.execute("UPDATE devices SET valid_until = ?, until_utc = ? WHERE device = ? "
                     "AND until_utc IS NULL AND (from_utc IS NULL OR from_utc < ?)",
                     (start, start_utc, device, start_utc))
    conn.execute("INSERT INTO devices (device, officer, unit, valid_from, valid_until, from_utc, until_utc, "
                 "seq) VALUES (?,?,?,?,?,?,?,?)",
                 (device, officer, unit, start, end, start_utc, end_utc, event.seq))
    # the period's records without an officer of their own take the holder's (none, for a unit);
    # each whose officer so changes is touched: its chain of custody shows the assignment
    period = {"device": device, "officer": officer, "start": start_utc, "end": end_utc}
    moved = [row[0] for row in conn.execute(f"SELECT digest FROM records WHERE {_FOLLOWING_DEVICE}", period)]
    conn.execute("UPDATE records SET officer = :officer, officer_source = CASE WHEN :officer IS NULL "
                 f"THEN NULL ELSE 'device' END WHERE {_FOLLOWING_DEVICE}", period)
    return [*([("officer", officer)] if officer else []), ("device", device),
            *(("record", digest) for digest in moved)]


# the records of a device's period [start, end) whose officer follows the device's holder and
# is not yet :officer (UTC keys, None: unbounded)
_FOLLOWING_DEVICE = (
    "device = :device AND (officer IS NULL OR officer_source = 'device') AND recorded_utc IS NOT NULL "
    "AND (:start IS NULL OR recorded_utc >= :start) AND (:end IS NULL OR recorded_utc < :end) "
    "AND officer IS NOT :officer")




# -- queries -------------------------------------------------------------------------
def officer_of_device(ix: Index, device: str, recorded_at: str | None) -> str | None:
    """The officer a device was assigned to at ``recorded_at`` (latest assignment wins; None
    when it was kept by a unit then)."""
    moment = utc_key(recorded_at)
    if moment is None:
        return None
    row = ix.conn.execute(
        "SELECT officer FROM devices WHERE device = ? AND (from_utc IS NULL OR from_utc <= ?) "
        "AND (until_utc IS NULL OR until_utc > ?) ORDER BY seq DESC LIMIT 1",
        (device, moment, moment)).fetchone()
    return row[0] if row else None


def moved_by_assignment(ix: Index, device: str, officer: str | None, start: str | None,
                        end: str | None) -> list[Row]:
    """The records (digest, officer, recorded_at) an assignment of ``device`` to ``officer``
    (None: a unit) over [start, end) (UTC keys, None: unbounded) would attribute anew: those
    whose officer follows the device's holder and is not yet ``officer``, by time."""
    return ix.conn.execute(
        f"SELECT digest, officer, recorded_at FROM records WHERE {_FOLLOWING_DEVICE} ORDER BY recorded_utc",
        {"device": device, "officer": officer, "start": start, "end": end}).fetchall()


def officers(ix: Index) -> list[dict]:
    """Every officer by certificate number: name, unit, post, registered, records, devices."""
    conn = ix.conn
    out = []
    for row in conn.execute("SELECT cert_no, name, unit, post, registered FROM officers ORDER BY cert_no"):
        records = conn.execute("SELECT COUNT(*) FROM records WHERE officer = ?", (row[0],)).fetchone()[0]
        devices = [r[0] for r in conn.execute(
            "SELECT DISTINCT device FROM devices WHERE officer = ? ORDER BY device", (row[0],))]
        out.append({**dict(row), "records": records, "devices": devices})
    return out


def officer(ix: Index, cert_no: str) -> Row | None:
    """One officer's name, unit, post and whether registered; None when never named."""
    return ix.conn.execute("SELECT name, unit, post, registered FROM officers WHERE cert_no = ?",
                           (cert_no,)).fetchone()


def officer_names(ix: Index) -> dict[str, str | None]:
    """Certificate number -> name (None when unregistered)."""
    return {r[0]: r[1] for r in ix.conn.execute("SELECT cert_no, name FROM officers")}


def overlapping_assignments(ix: Index, device: str, start: str | None, end: str | None) -> list[Row]:
    """The assignments of ``device`` that a new one over [start, end) (UTC keys, None:
    unbounded) would overlap, by start. An open-ended assignment begun before ``start`` is not
    among them when the new one is open-ended too: the new one ends it there (the handover
    ``device.assigned`` folds); a bounded one inside it would leave the time after it with no
    holder, so it overlaps. An assignment ending exactly at ``start`` (or beginning at
    ``end``) only touches it."""
    return ix.conn.execute(
        "SELECT * FROM devices WHERE device = ? AND (? IS NULL OR from_utc IS NULL OR from_utc < ?) "
        "AND (? IS NULL OR until_utc IS NULL OR until_utc > ?) "
        "AND NOT (? IS NOT NULL AND ? IS NULL AND until_utc IS NULL AND (from_utc IS NULL OR from_utc < ?)) "
        "ORDER BY from_utc, seq", (device, end, end, start, start, start, end, start)).fetchall()


def registered(ix: Index) -> frozenset[str]:
    """The certificate numbers of the officers registered (``officer add``)."""
    return frozenset(r[0] for r in ix.conn.execute("SELECT cert_no FROM officers WHERE registered = 1"))


def assignments(ix: Index) -> list[dict]:
    """Every device assignment (to an officer or a unit) by device and start, with the
    records made under it (a unit's: the device's records of the period)."""
    conn = ix.conn
    out = []
    for row in conn.execute("SELECT device, officer, unit, valid_from, valid_until, from_utc, until_utc "
                            "FROM devices ORDER BY device, from_utc, seq"):
        records = conn.execute(
            "SELECT COUNT(*) FROM records WHERE device = ? AND (? IS NULL OR officer = ?) "
            "AND (? IS NULL OR recorded_utc >= ?) AND (? IS NULL OR recorded_utc < ?)",
            (row[0], row[1], row[1], row[5], row[5], row[6], row[6])).fetchone()[0]
        out.append({**dict(row), "records": records})
    return out
