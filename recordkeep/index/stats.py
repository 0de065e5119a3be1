"""Aggregates for ``stats``: records by kind, officer and device in a period, and device
assignments in service. A record counts for a period by its recorded time, else its first
import. Periods are UTC keys (``refs.utc_key``); None means every time."""

from __future__ import annotations

from .core import Index, Row

#: SQL: when a record counts for a period (recorded, else first imported), as a UTC key.
_RECORDED = "coalesce(r.recorded_utc, rk_utc(r.first_at))"
_HELD = "CASE WHEN r.disposed_seq IS NULL THEN r.size ELSE 0 END"


def _period(ix: Index, start: str | None, end: str | None) -> tuple[str, tuple]:
    if start is None:
        return "1", ()
    return f"{_RECORDED} >= ? AND {_RECORDED} < ?", (start, end)


def records_by_kind(ix: Index, start: str | None, end: str | None) -> list[Row]:
    """(kind, n, bytes held, disposed) of the records of the period, by kind."""
    where, args = _period(ix, start, end)
    return ix.conn.execute(
        f"SELECT kind, COUNT(*) AS n, SUM({_HELD}) AS bytes, COUNT(disposed_seq) AS disposed "
        f"FROM records r WHERE {where} GROUP BY kind ORDER BY kind", args).fetchall()


def records_by_officer(ix: Index, start: str | None, end: str | None) -> list[Row]:
    """(officer, name, n, bytes held) of the records of the period, most first."""
    where, args = _period(ix, start, end)
    return ix.conn.execute(
        f"SELECT r.officer, o.name, COUNT(*) AS n, SUM({_HELD}) AS bytes FROM records r "
        f"LEFT JOIN officers o ON o.cert_no = r.officer WHERE {where} "
        "GROUP BY r.officer ORDER BY n DESC, r.officer", args).fetchall()


def records_by_device(ix: Index, start: str | None, end: str | None) -> list[Row]:
    """(device, n, bytes held) of the records of the period, most first."""
    where, args = _period(ix, start, end)
    return ix.conn.execute(
        f"SELECT r.device, COUNT(*) AS n, SUM({_HELD}) AS bytes FROM records r WHERE {where} "
        "GROUP BY r.device ORDER BY n DESC, r.device", args).fetchall()


#: SQL: an assignment ``d`` covers the record ``r``'s recorded time (unbounded ends as '' and '~').
_COVERS = "coalesce(d.from_utc, '') <= r.recorded_utc AND coalesce(d.until_utc, '~') > r.recorded_utc"


def concurrent_assignments(ix: Index, start: str | None, end: str | None) -> list[tuple[str, str, str]]:
    """(device, officer, officer) of two assignments of one device to different officers that
    overlap each other within [start, end) (every time when None); touching ends do not."""
    return [(r[0], r[1], r[2]) for r in ix.conn.execute(
        "SELECT DISTINCT a.device, a.officer, b.officer FROM devices a JOIN devices b "
        "ON b.device = a.device AND b.officer > a.officer "
        "WHERE max(coalesce(a.from_utc, ''), coalesce(b.from_utc, ''), ?) "
        "< min(coalesce(a.until_utc, '~'), coalesce(b.until_utc, '~'), ?) ORDER BY 1, 2, 3",
        (start or "", end or "~"))]


def records_off_assignment(ix: Index, start: str | None, end: str | None) -> list[tuple[str, str, str]]:
    """(device, officer of the record, officer assigned) of the period's records made with a
    device while it was assigned to another officer."""
    where, args = _period(ix, start, end)
    return [(r[0], r[1], r[2]) for r in ix.conn.execute(
        f"SELECT DISTINCT r.device, r.officer, d.officer FROM records r JOIN devices d "
        f"ON d.device = r.device AND {_COVERS} WHERE {where} AND r.officer IS NOT NULL "
        "AND r.officer != d.officer ORDER BY 1, 2, 3", args)]


def records_unassigned(ix: Index, start: str | None, end: str | None) -> list[tuple[str, str]]:
    """Distinct (device, officer) of the period's records naming both that no assignment of
    the device covers (undated ones included)."""
    where, args = _period(ix, start, end)
    return [(r[0], r[1]) for r in ix.conn.execute(
        f"SELECT DISTINCT r.device, r.officer FROM records r WHERE {where} AND r.device IS NOT NULL "
        f"AND r.officer IS NOT NULL AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.device = r.device "
        f"AND r.recorded_utc IS NOT NULL AND {_COVERS}) ORDER BY 1, 2", args)]


def assignments_in(ix: Index, start: str, end: str) -> list[Row]:
    """(device, officer, unit) of the assignments overlapping [start, end) (an instant when
    equal), by device and journal order; a unit's assignment has no officer."""
    if start == end:
        sql = ("SELECT device, officer, unit FROM devices WHERE (from_utc IS NULL OR from_utc <= ?) "
               "AND (until_utc IS NULL OR until_utc > ?) ORDER BY device, seq")
    else:
        sql = ("SELECT device, officer, unit FROM devices WHERE (from_utc IS NULL OR from_utc < ?) "
               "AND (until_utc IS NULL OR until_utc > ?) ORDER BY device, seq")
    return ix.conn.execute(sql, (end, start)).fetchall()


def registered_officers(ix: Index) -> list[Row]:
    """(cert_no, name, unit, post) of every registered officer."""
    return ix.conn.execute(
        "SELECT cert_no, name, unit, post FROM officers WHERE registered = 1 ORDER BY cert_no").fetchall()


def unregistered_officers(ix: Index) -> list[str]:
    """The certificate numbers seen (in a flag, metadata or a file name) but never registered."""
    return [r[0] for r in ix.conn.execute(
        "SELECT cert_no FROM officers WHERE registered = 0 ORDER BY cert_no")]
