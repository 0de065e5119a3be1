"""Retention: which records may be disposed of, legal holds, and disposal itself.

A record is either *ordinary*, kept at least ``[retention] ordinary_months``
(default 6) from its recorded time (its first import when it carries none), or
*permanent*: marked important on the camera, linked to a case or a party, or
kept by a clerk (``keep``). A *hold* on records, a case or a party stops
disposal of the records it covers (a case's or party's hold covers the records
linked to it, through the party's cases too) until it is released.

``dispose`` removes only due, unlinked, unheld blobs, all or nothing: it first
journals one ``record.disposed`` per record, then removes the blobs through
``Objects.dispose`` (the only code path that ever removes a blob). The record's
metadata and digest stay forever; verify reports it as disposed. A disposal
interrupted after its journal entry is finished by disposing again.

On a bucket with Object Lock (WORM) the storage keeps each blob until its own
retain-until date as well. A record whose blob is still locked is not due, and
``dispose`` refuses it (RK527) before journaling anything. Should a lock still
stop a removal after the journal entry (another station lengthened it meanwhile),
the disposal stays unfinished (``unfinished_disposals``) until disposing again
after the date. ``lock_permanent`` lengthens the locks of permanent records'
blobs to ``[worm] permanent_days`` after their import (``keep`` and linking do it
for the records they make permanent) and journals ``retention.locked``.
"""

from __future__ import annotations

import calendar
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import errors, when
from .archive import Archive
from .index_retention import hold_refs
from .journal import Draft

DEFAULT_ORDINARY_MONTHS = 6

#: Why a record may not be disposed of, with the stable code of each reason.
REASONS = {
    "not_due": "RK521",
    "linked": "RK522",
    "important": "RK523",
    "kept": "RK524",
    "held": "RK525",
    "disposed": "RK526",
    "locked": "RK527",
}


class NotHeld(errors.InputError):
    code = "RK450"
    hint = "'recordkeep retention holds' lists the holds in force"


class DisposalRefused(errors.ComplianceError):
    """Some records may not be disposed of; nothing was. ``refusals`` lists
    (digest, reason, detail); the code is the reason's own (RK521–RK526) when every
    refused record has the same reason, else RK520."""

    code = "RK520"
    hint = "dispose only what 'recordkeep retention due' lists; nothing was disposed of"

    def __init__(self, refusals: list[tuple[str, str, str]]) -> None:
        reasons = {reason for _, reason, _ in refusals}
        mixed = len(reasons) > 1
        listed = "; ".join(f"{d[:12]} {detail}" + (f" ({REASONS[reason]})" if mixed else "")
                           for d, reason, detail in refusals)
        records = len({d for d, _, _ in refusals})
        super().__init__(f"{records} record(s) may not be disposed of: {listed}")
        self.refusals = refusals
        if not mixed:
            self.code = REASONS[reasons.pop()]


@dataclass(frozen=True)
class Status:
    """The retention state of one record."""

    digest: str
    kind: str
    size: int
    recorded_at: str | None
    keep_until: str | None  # None when permanent
    permanent: tuple[tuple[str, str], ...] = ()  # (reason, detail)
    holds: tuple[str, ...] = ()  # "record", "case NO", "party P1"
    disposed_seq: int | None = None
    locked_until: str | None = None  # the bucket's Object Lock keeps the blob until then
    due: bool = False
    refusals: list[tuple[str, str]] = field(default_factory=list)  # (reason, detail)

    def as_data(self) -> dict:
        return {"digest": self.digest, "kind": self.kind, "size": self.size,
                "recorded_at": self.recorded_at, "keep_until": self.keep_until,
                "class": "permanent" if self.permanent else "ordinary",
                "permanent_because": [detail for _, detail in self.permanent],
                "holds": list(self.holds), "disposed": self.disposed_seq is not None,
                "locked_until": self.locked_until, "due": self.due}


def ordinary_months(archive: Archive) -> int:
    """``[retention] ordinary_months`` from recordkeep.toml (default 6)."""
    value = archive.settings.section("retention").get("ordinary_months", DEFAULT_ORDINARY_MONTHS)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise errors.ConfigError(f"[retention] ordinary_months must be a whole number of months "
                                 f"(at least 1), not {value!r}", path=archive.root / "recordkeep.toml")
    return value


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months; the 31st becomes the month's last day when needed."""
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def _keep_until(row: sqlite3.Row, months: int, archive: Archive) -> datetime:
    start = datetime.fromisoformat(row["recorded_at"] or row["first_at"])
    return add_months(start.astimezone(archive.settings.zone), months)


def _permanent(conn: sqlite3.Connection, row: sqlite3.Row) -> list[tuple[str, str]]:
    digest = row["digest"]
    reasons = []
    if row["important"]:
        reasons.append(("important", "marked important on the camera"))
    for link in conn.execute("SELECT DISTINCT case_no, party FROM links WHERE digest = ? "
                             "ORDER BY case_no, party", (digest,)):
        target = f"case {link['case_no']}" if link["case_no"] else f"party {link['party']}"
        reasons.append(("linked", f"linked to {target}"))
    kept = conn.execute("SELECT reason FROM kept WHERE digest = ?", (digest,)).fetchone()
    if kept:
        reasons.append(("kept", "kept by a clerk" + (f": {kept['reason']}" if kept["reason"] else "")))
    return reasons


def _holds(conn: sqlite3.Connection, digest: str) -> list[str]:
    rows = conn.execute(
        "SELECT 'record' AS what FROM holds WHERE kind = 'record' AND ref = :d "
        "UNION SELECT 'case ' || h.ref FROM holds h JOIN links l ON h.kind = 'case' "
        "AND l.case_no = h.ref WHERE l.digest = :d "
        "UNION SELECT 'party ' || h.ref FROM holds h JOIN links l ON h.kind = 'party' "
        "AND l.party = h.ref WHERE l.digest = :d "
        "UNION SELECT 'party ' || h.ref FROM holds h JOIN case_parties cp ON h.kind = 'party' "
        "AND cp.party = h.ref JOIN links l ON l.case_no = cp.case_no WHERE l.digest = :d "
        "ORDER BY 1", {"d": digest})
    return [r[0] for r in rows]


def _locked(archive: Archive, digest: str, now: datetime) -> str | None:
    """The Object Lock date of the blob in the store's timezone, when it is later than ``now``."""
    until = archive.objects.locked_until(digest)
    if until is None or until <= now:
        return None
    return until.astimezone(archive.settings.zone).isoformat(timespec="seconds")


def _status(archive: Archive, row: sqlite3.Row, months: int, now: datetime) -> Status:
    conn = archive.index.conn
    permanent = _permanent(conn, row)
    holds = _holds(conn, row["digest"])
    keep_until = None if permanent else _keep_until(row, months, archive)
    refusals: list[tuple[str, str]] = []
    if row["disposed_seq"] is not None:
        refusals.append(("disposed", f"already disposed of (journal seq {row['disposed_seq']})"))
    refusals += permanent
    refusals += [("held", f"held ({h})") for h in holds]
    if keep_until is not None and keep_until > now:
        refusals.append(("not_due", f"kept until {keep_until.isoformat(timespec='seconds')}"))
    locked = None if refusals else _locked(archive, row["digest"], now)  # asked only when otherwise due
    if locked:
        refusals.append(("locked", f"kept by the bucket's Object Lock until {locked}"))
    return Status(row["digest"], row["kind"], row["size"], row["recorded_at"],
                  keep_until.isoformat(timespec="milliseconds") if keep_until else None,
                  tuple(permanent), tuple(holds), row["disposed_seq"], locked, not refusals, refusals)


def moment(archive: Archive, as_of: str | None = None) -> str:
    """``as_of`` (a time as clerks type it, see when.parse) as ISO 8601; now when None."""
    return when.parse(as_of, archive.settings.zone) if as_of else archive.now()


def _now(archive: Archive, as_of: str | None) -> datetime:
    return datetime.fromisoformat(moment(archive, as_of))


def status(archive: Archive, digest: str, *, as_of: str | None = None) -> Status:
    """The retention state of one record (``digest`` as any form resolve_digest takes)."""
    resolved = archive.resolve_digest(digest)
    row = archive.index.conn.execute("SELECT * FROM records WHERE digest = ?", (resolved,)).fetchone()
    return _status(archive, row, ordinary_months(archive), _now(archive, as_of))


def due(archive: Archive, *, as_of: str | None = None) -> list[Status]:
    """Records that may be disposed of at ``as_of`` (a time, see ``moment``; default now), oldest first:
    ordinary, past their retention, not disposed of, not held."""
    months, now = ordinary_months(archive), _now(archive, as_of)
    rows = archive.index.conn.execute(
        "SELECT r.* FROM records r WHERE r.disposed_seq IS NULL AND r.important = 0 "
        "AND NOT EXISTS (SELECT 1 FROM links l WHERE l.digest = r.digest) "
        "AND NOT EXISTS (SELECT 1 FROM kept k WHERE k.digest = r.digest) "
        "AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.kind = 'record' AND h.ref = r.digest) "
        "ORDER BY coalesce(r.recorded_utc, r.first_at), r.digest")
    out = []
    for row in rows:
        if _keep_until(row, months, archive) <= now:
            st = _status(archive, row, months, now)
            if st.due:
                out.append(st)
    return out


def _seen_since(conn: sqlite3.Connection, digest: str, seq: int) -> int | None:
    """The seq of the last sighting of ``digest`` after ``seq`` (its bytes imported again)."""
    last = conn.execute("SELECT MAX(seq) FROM sightings WHERE digest = ?", (digest,)).fetchone()[0]
    return last if last is not None and last > seq else None


def unfinished_disposals(archive: Archive) -> list[str]:
    """Records journaled as disposed of whose blob is still present and was not imported
    again since (an interrupted disposal, or one an Object Lock stopped after its journal
    entry: ``dispose`` finishes it, once the lock's date has passed)."""
    conn = archive.index.conn
    rows = conn.execute("SELECT digest, disposed_seq FROM records WHERE disposed_seq IS NOT NULL "
                        "ORDER BY digest").fetchall()
    return [d for d, seq in rows if archive.objects.exists(d) and _seen_since(conn, d, seq) is None]


@dataclass
class Disposal:
    """What ``dispose`` did: records newly disposed of, and interrupted ones finished."""

    disposed: list[str]
    finished: list[str]
    bytes: int


def dispose(archive: Archive, digests: list[str], *, reason: str) -> Disposal:
    """Dispose of the blobs of due records, all or nothing (DisposalRefused names each
    record that may not go, and why; a blob under Object Lock is RK527). Journaled first,
    removed second: BlobLocked (RK111) after the journal entry leaves an unfinished disposal."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.InvalidValue("a disposal needs a reason (--reason)")
    archive.require_writable()
    resolved = sorted({archive.resolve_digest(d) for d in digests})
    months = ordinary_months(archive)
    finished: list[str] = []
    sizes: dict[str, int] = {}

    def build() -> list[Draft]:
        conn = archive.index.conn
        now = _now(archive, None)
        refusals, drafts = [], []
        finished.clear()
        for digest in resolved:
            row = conn.execute("SELECT * FROM records WHERE digest = ?", (digest,)).fetchone()
            st = _status(archive, row, months, now)
            if row["disposed_seq"] is not None and archive.objects.exists(digest):
                again = _seen_since(conn, digest, row["disposed_seq"])
                locked = _locked(archive, digest, now) if again is None else None
                if locked:
                    refusals.append((digest, "locked", f"its disposal is journaled (seq "
                                     f"{row['disposed_seq']}) but the bucket's Object Lock keeps "
                                     f"the blob until {locked}"))
                elif again is None:  # an interrupted disposal: finish it
                    finished.append(digest)
                else:  # the bytes came back by a later import: never removed without a new decision
                    refusals.append((digest, "disposed", f"already disposed of (journal seq "
                                     f"{row['disposed_seq']}); its bytes were imported again at seq {again}"))
                continue
            if not st.due:
                refusals += [(digest, r, detail) for r, detail in st.refusals]
                continue
            sizes[digest] = row["size"]
            drafts.append(Draft("record.disposed", {"digest": "blake3:" + digest, "size": row["size"],
                                                    "kind": row["kind"], "reason": reason}))
        if refusals:
            raise DisposalRefused(refusals)
        return drafts

    events = archive.transact(build)
    disposed = [e.data["digest"].split(":", 1)[1] for e in events]
    for digest in disposed + finished:
        archive.objects.dispose(digest)
    return Disposal(disposed, list(finished), sum(sizes[d] for d in disposed))


def _hold_target(archive: Archive, digests: list[str] | None, case: str | None,
                 party: str | None) -> dict:
    from .dossier import resolve_case, resolve_party

    given = [x for x in (digests, case, party) if x]
    if len(given) != 1:
        raise errors.InvalidValue("name records, or --case, or --party (one of them)")
    if digests:
        return {"digests": ["blake3:" + d for d in sorted({archive.resolve_digest(x) for x in digests})]}
    if case:
        return {"case_no": resolve_case(archive, case)}
    return {"party": resolve_party(archive, party)}


def _held(conn: sqlite3.Connection, kind: str, ref: str) -> bool:
    return conn.execute("SELECT 1 FROM holds WHERE kind = ? AND ref = ?", (kind, ref)).fetchone() is not None


def hold(archive: Archive, *, digests: list[str] | None = None, case: str | None = None,
         party: str | None = None, reason: str | None = None) -> list[tuple[str, str]]:
    """Put a legal hold on records, a case or a party; return the (kind, ref) newly held
    (empty when all were held already: nothing is journaled then)."""
    archive.require_writable()
    new: list[tuple[str, str]] = []

    def build() -> list[Draft]:
        data = _hold_target(archive, digests, case, party)
        conn = archive.index.conn
        new[:] = [(k, r) for k, r in hold_refs(data) if not _held(conn, k, r)]
        if not new:
            return []
        if "digests" in data:
            data["digests"] = ["blake3:" + r for _, r in new]
        if reason and reason.strip():
            data["reason"] = reason.strip()
        return [Draft("retention.held", data)]

    archive.transact(build)
    return new


def release(archive: Archive, *, digests: list[str] | None = None, case: str | None = None,
            party: str | None = None) -> list[tuple[str, str]]:
    """Lift holds; NotHeld when one of them is not in force (then nothing is released)."""
    archive.require_writable()
    refs: list[tuple[str, str]] = []

    def build() -> list[Draft]:
        data = _hold_target(archive, digests, case, party)
        conn = archive.index.conn
        refs[:] = hold_refs(data)
        missing = [f"{k} {r[:12] if k == 'record' else r}" for k, r in refs if not _held(conn, k, r)]
        if missing:
            raise NotHeld("not held: " + ", ".join(missing))
        return [Draft("retention.released", data)]

    archive.transact(build)
    return refs


def keep(archive: Archive, digests: list[str], *, reason: str | None = None) -> list[str]:
    """Mark records permanent (a clerk's decision; journaled, never undone)."""
    archive.require_writable()
    resolved = sorted({archive.resolve_digest(d) for d in digests})
    new: list[str] = []

    def build() -> list[Draft]:
        conn = archive.index.conn
        new[:] = [d for d in resolved
                  if not conn.execute("SELECT 1 FROM kept WHERE digest = ?", (d,)).fetchone()]
        if not new:
            return []
        data: dict = {"digests": ["blake3:" + d for d in new]}
        if reason and reason.strip():
            data["reason"] = reason.strip()
        return [Draft("retention.kept", data)]

    archive.transact(build)
    lock_permanent(archive, resolved)
    return new


def permanent_lock_days(archive: Archive) -> float:
    """``[worm] permanent_days`` from recordkeep.toml: how long after its import a permanent
    record's blob is locked (default 36500, a century)."""
    from .s3 import DEFAULT_PERMANENT_LOCK_DAYS, lock_days

    return lock_days(archive.settings.section("worm"), "permanent_days", DEFAULT_PERMANENT_LOCK_DAYS,
                     str(archive.root / "recordkeep.toml"))


def lock_permanent(archive: Archive, digests: list[str] | None = None) -> list[tuple[str, str]]:
    """Lengthen the Object Lock of permanent records' blobs (every one, or those of ``digests``
    that are permanent) to ``[worm] permanent_days`` after each record's import, then journal
    one ``retention.locked`` naming each blob lengthened and its new date. Idempotent: a blob
    locked that long already is left alone, and when none was lengthened nothing is journaled
    (always so on a store without Object Lock). Returns (digest, until) pairs."""
    archive.require_writable()
    days = permanent_lock_days(archive)  # a bad setting is reported on every store
    if not archive.objects.object_lock:
        return []
    conn = archive.index.conn
    if digests is None:
        rows = conn.execute("SELECT * FROM records WHERE disposed_seq IS NULL ORDER BY digest").fetchall()
    else:
        wanted = sorted({archive.resolve_digest(d) for d in digests})
        rows = [conn.execute("SELECT * FROM records WHERE digest = ?", (d,)).fetchone() for d in wanted]
    zone = archive.settings.zone
    now = datetime.now(zone)
    locks = []
    try:
        for row in rows:
            if row["disposed_seq"] is not None or not _permanent(conn, row):
                continue
            target = datetime.fromisoformat(row["first_at"]) + timedelta(days=days)
            if target <= now:  # a lock ending in the past protects nothing (and S3 refuses it)
                continue
            until = archive.objects.extend_lock(row["digest"], target)
            if until is not None:
                locks.append({"digest": "blake3:" + row["digest"],
                              "until": until.astimezone(zone).isoformat(timespec="seconds")})
    finally:  # locks already lengthened are journaled even when a later one failed
        if locks:
            archive.transact(lambda: [Draft("retention.locked", {"locks": locks})])
    return [(lock["digest"].split(":", 1)[1], lock["until"]) for lock in locks]


def list_holds(archive: Archive) -> list[dict]:
    """Holds in force, oldest first: what, since when, by whom, why, records covered."""
    conn = archive.index.conn
    out = []
    for row in conn.execute("SELECT h.*, e.at, e.actor FROM holds h JOIN events e ON e.seq = h.seq "
                            "ORDER BY h.seq, h.kind, h.ref"):
        kind, ref = row["kind"], row["ref"]
        if kind == "record":
            covered = 1
        elif kind == "case":
            covered = conn.execute("SELECT COUNT(DISTINCT digest) FROM links WHERE case_no = ?",
                                   (ref,)).fetchone()[0]
        else:
            covered = conn.execute(
                "SELECT COUNT(DISTINCT digest) FROM links WHERE party = ? OR case_no IN "
                "(SELECT case_no FROM case_parties WHERE party = ?)", (ref, ref)).fetchone()[0]
        out.append({"kind": kind, "ref": ref, "since": row["at"], "by": row["actor"],
                    "reason": row["reason"], "records": covered, "seq": row["seq"]})
    return out

