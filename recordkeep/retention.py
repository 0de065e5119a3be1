"""Retention: which records may be disposed of, legal holds, and disposal itself.

A record is either *ordinary*, kept at least ``[retention] ordinary_months``
(default 6) from its recorded time (its first import when it carries none, or only its
file's modification time: a time that weak never shortens the keeping), or
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from . import errors, protection, settings, validate
from .archive import Archive
from .dossier.cases import resolve_case
from .dossier.parties import resolve_party
from .i18n import _
from .index import dossier as dossier_rows
from .index import records
from .index import retention as rows
from .index.retention import hold_refs
from .pins import Breach
from .progress import Progress, tell
from .refs import bare
from .store.journal import Draft

DEFAULT_ORDINARY_MONTHS = 6
MAX_ORDINARY_MONTHS = 1200  # a century

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


def months_in(raw: Mapping) -> int | None:
    """``[retention] ordinary_months`` of settings as recordkeep.toml gives them (default 6);
    None when it is not a whole number of months from 1 to ``MAX_ORDINARY_MONTHS``."""
    value = settings.table_in(raw, "retention").get("ordinary_months", DEFAULT_ORDINARY_MONTHS)
    return value if validate.whole_number(value, 1, MAX_ORDINARY_MONTHS) else None


def recorded_months(form: object) -> int | None:
    """``months_in`` of settings as a ``settings.changed`` records them; None when they hold no
    table (a line made by hand) or a retention no clerk could set."""
    raw = settings.from_journal(form)
    return months_in(raw) if isinstance(raw, dict) else None


def ordinary_months(archive: Archive) -> int:
    """``[retention] ordinary_months`` from recordkeep.toml (default 6); ConfigError when it is
    not a whole number of months in range."""
    months = months_in(archive.settings.raw)
    if months is None:
        value = archive.settings.section("retention").get("ordinary_months")
        raise errors.ConfigError(_("[retention] ordinary_months must be a whole number of months from 1 to "
                                   "{limit}, not {value!r}").format(limit=MAX_ORDINARY_MONTHS, value=value),
                                 path=archive.root / "recordkeep.toml")
    return months


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months; the 31st becomes the month's last day when needed."""
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def _keep_until(row, months: int, archive: Archive) -> datetime:
    times = row["first_at"], row["recorded_at"], row["time_source"]
    return keep_until(times, months, archive.settings.zone)


def keep_until(times: tuple[str | None, str | None, str | None], months: int, zone: tzinfo) -> datetime:
    """When an ordinary record's retention ends, from ``times`` (its first import's time, its
    recorded time and that time's source, as protection.Protection replays them): counted from
    its recorded time, else (undated, or dated only by its file time) its first import; a time
    a clerk typed (``amended``, or ``source``: with a record said to carry it) counts only when
    later than the first import: a correction never shortens the keeping. The last instant of
    year 9999 when that lies beyond (a hand-made time near the end of the calendar)."""
    first_at, recorded_at, time_source = times
    try:
        start = datetime.fromisoformat(first_at)
        if recorded_at and time_source != "mtime":
            recorded = datetime.fromisoformat(recorded_at)
            start = max(recorded, start) if time_source in ("amended", "source") else recorded
        return add_months(start.astimezone(zone), months)
    except (ValueError, OverflowError, TypeError):
        return datetime.max.replace(tzinfo=zone)


def _permanent(archive: Archive, row) -> list[tuple[str, str]]:
    digest = row["digest"]
    reasons = []
    if row["important"]:
        reasons.append(("important", _("marked important on the camera")))
    for link in dossier_rows.links_of(archive.index, digest):
        target = (_("linked to case {case_no}").format(case_no=link["case_no"]) if link["case_no"]
                  else _("linked to party {party}").format(party=link["party"]))
        reasons.append(("linked", target))
    kept, why = rows.kept_reason(archive.index, digest)
    if kept:
        reasons.append(("kept", _("kept by a clerk: {reason}").format(reason=why) if why
                        else _("kept by a clerk")))
    return reasons


def _locked(archive: Archive, digest: str, now: datetime) -> str | None:
    """The Object Lock date of the blob in the store's timezone, when it is later than ``now``."""
    until = archive.objects.locked_until(digest)
    if until is None or until <= now:
        return None
    return until.astimezone(archive.settings.zone).isoformat(timespec="seconds")


def _status(archive: Archive, row, months: int, now: datetime) -> Status:
    permanent = _permanent(archive, row)
    holds = rows.holds_covering(archive.index, row["digest"])
    keep_until = None if permanent else _keep_until(row, months, archive)
    refusals: list[tuple[str, str]] = []
    if row["disposed_seq"] is not None:
        refusals.append(("disposed", _("already disposed of (journal seq {seq})").format(
            seq=row["disposed_seq"])))
    refusals += permanent
    refusals += [("held", _("held ({hold})").format(hold=h)) for h in holds]
    if keep_until is not None and keep_until > now:
        until = keep_until.isoformat(timespec="seconds")
        refusals.append(("not_due", _("kept until {time}").format(time=until)))
    locked = None if refusals else _locked(archive, row["digest"], now)  # asked only when otherwise due
    if locked:
        refusals.append(("locked", _("kept by the bucket's Object Lock until {time}").format(time=locked)))
    return Status(row["digest"], row["kind"], row["size"], row["recorded_at"],
                  keep_until.isoformat(timespec="milliseconds") if keep_until else None,
                  tuple(permanent), tuple(holds), row["disposed_seq"], locked, not refusals, refusals)


def moment(archive: Archive, as_of: str | None = None) -> str:
    """``as_of`` (a time as clerks type it, see Settings.time) as ISO 8601; now when None."""
    return archive.now() if as_of is None else archive.settings.time(as_of)


def _now(archive: Archive, as_of: str | None) -> datetime:
    return datetime.fromisoformat(moment(archive, as_of))


def status(archive: Archive, digest: str, *, as_of: str | None = None) -> Status:
    """The retention state of one record (``digest`` as any form resolve_digest takes)."""
    row = records.record(archive.index, archive.resolve_digest(digest))
    return _status(archive, row, ordinary_months(archive), _now(archive, as_of))


def due(archive: Archive, *, as_of: str | None = None) -> list[Status]:
    """Records that may be disposed of at ``as_of`` (a time, see ``moment``; default now), oldest first:
    ordinary, past their retention, not disposed of, not held."""
    months, now = ordinary_months(archive), _now(archive, as_of)
    out = []
    for row in rows.disposal_candidates(archive.index):
        if _keep_until(row, months, archive) <= now:
            st = _status(archive, row, months, now)
            if st.due:
                out.append(st)
    return out


def _seen_since(archive: Archive, digest: str, seq: int) -> int | None:
    """The seq of the last sighting of ``digest`` after ``seq`` (its bytes imported again)."""
    last = records.last_sighting(archive.index, digest)
    return last if last is not None and last > seq else None


def unfinished_disposals(archive: Archive) -> list[str]:
    """Records journaled as disposed of whose blob is still present and was not imported
    again since (an interrupted disposal, or one an Object Lock stopped after its journal
    entry: ``dispose`` finishes it, once the lock's date has passed)."""
    return [d for d, seq in records.disposed(archive.index)
            if archive.objects.exists(d) and _seen_since(archive, d, seq) is None]


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
    archive.require_intact_chain()
    reason = validate.text(reason or "", _("the reason"), limit=validate.NOTE_CHARS)
    if not reason:
        raise errors.InvalidValue(_("a disposal needs a reason (--reason)"))
    archive.require_can_write(["record.disposed"])  # the role before any work (and the store writable)
    resolved = sorted({archive.resolve_digest(d) for d in digests})
    months = ordinary_months(archive)
    finished: list[str] = []
    sizes: dict[str, int] = {}
    journaled = protection.Journaled(archive, set(resolved)).read_on()  # the long read, before the lock

    def build() -> list[Draft]:
        now = _now(archive, None)
        journaled.read_on(stop=archive.index.seen.end)  # the lines appended since, under the lock
        refusals, drafts = [], []
        finished.clear()
        for digest in resolved:
            row = records.record(archive.index, digest)
            st = _status(archive, row, months, now)
            if row["disposed_seq"] is not None and archive.objects.exists(digest):
                again = _seen_since(archive, digest, row["disposed_seq"])
                locked = _locked(archive, digest, now) if again is None else None
                if locked:
                    refusals.append((digest, "locked", _(
                        "its disposal is journaled (seq {seq}) but the bucket's Object Lock keeps the blob "
                        "until {time}").format(seq=row["disposed_seq"], time=locked)))
                elif again is None:  # an interrupted disposal: finish it
                    finished.append(digest)
                else:  # the bytes came back by a later import: never removed without a new decision
                    refusals.append((digest, "disposed", _(
                        "already disposed of (journal seq {seq}); its bytes were imported again at seq "
                        "{again}").format(seq=row["disposed_seq"], again=again)))
                continue
            if not st.due:
                refusals += [(digest, r, detail) for r, detail in st.refusals]
                continue
            found = protection.from_journal(journaled, digest)
            if found.pinned:
                refusals += [(digest, "held", _pinned_refusal(b)) for b in found.pinned]
                continue
            _agrees_with_journal(archive, row, found)
            sizes[digest] = row["size"]
            drafts.append(Draft("record.disposed", {"digest": "blake3:" + digest, "size": row["size"],
                                                    "kind": row["kind"], "reason": reason,
                                                    "months": months, "kept_until": st.keep_until}))
        if refusals:
            raise errors.DisposalRefused(refusals)
        return drafts

    events = archive.transact(build)
    disposed = [e.data["digest"].split(":", 1)[1] for e in events]
    progress = Progress("dispose", "blobs", total=len(disposed) + len(finished))
    for digest in disposed + finished:
        archive.objects.dispose(digest)
        tell(archive.watch, progress, done=1)
    return Disposal(disposed, list(finished), sum(sizes[d] for d in disposed))


def _pinned_refusal(breach: Breach) -> str:
    """Why a record whose link was taken away under a hold that still stands may not go."""
    return _("held ({holds}): the journal took its link away at seq {seq} while that hold stood, "
             "which 'log verify' reports").format(holds=breach.named_holds(), seq=breach.seq)


def _agrees_with_journal(archive: Archive, row, replayed: protection.Protection) -> None:
    """IndexDiffers unless the journal, replayed, says what the index says protects the record."""
    digest = row["digest"]
    linked = dossier_rows.links_of(archive.index, digest)
    links = frozenset((link["case_no"], link["party"]) for link in linked)
    indexed = (bool(row["important"]), rows.kept_reason(archive.index, digest)[0], links,
               frozenset(rows.holds_covering(archive.index, digest)),
               (row["first_at"], row["recorded_at"], row["time_source"]))
    if indexed != replayed.summary():
        raise errors.IndexDiffers(_("record {digest}: the index and the journal disagree on what protects "
                                    "it (links, holds, keep, importance or the times its retention counts "
                                    "from): nothing was disposed of").format(
                                        digest=digest[:12]),
                                  path=archive.root / "index.sqlite")


def _hold_target(archive: Archive, digests: list[str] | None, case: str | None,
                 party: str | None) -> dict:
    given = [x for x in (digests, case, party) if x]
    if len(given) != 1:
        raise errors.InvalidValue(_("name records, or --case, or --party (one of them)"))
    if digests:
        return {"digests": ["blake3:" + d for d in sorted({archive.resolve_digest(x) for x in digests})]}
    if case:
        return {"case_no": resolve_case(archive, case)}
    return {"party": resolve_party(archive, party)}


def _refuse_gone(archive: Archive, digests: list[str]) -> None:
    """RecordGone for records whose disposal is journaled and whose bytes were not imported
    again since: a hold or a keep of them would protect nothing, yet read as if it did."""
    gone = []
    for digest in digests:
        seq = records.record(archive.index, digest)["disposed_seq"]
        if seq is not None and _seen_since(archive, digest, seq) is None:
            gone.append(_("{digest} (seq {seq})").format(digest=digest[:12], seq=seq))
    if gone:
        raise errors.RecordGone(_("already disposed of, nothing is left to protect: {records}").format(
            records=", ".join(gone)))


def hold(archive: Archive, *, digests: list[str] | None = None, case: str | None = None,
         party: str | None = None, reason: str | None = None) -> list[tuple[str, str]]:
    """Put a legal hold on records, a case or a party; return the (kind, ref) newly held
    (empty when all were held already: nothing is journaled then)."""
    archive.require_intact_chain()
    archive.require_writable()
    why = validate.optional_text(reason, _("the reason"), limit=validate.NOTE_CHARS)
    new: list[tuple[str, str]] = []

    def build() -> list[Draft]:
        data = _hold_target(archive, digests, case, party)
        _refuse_gone(archive, [bare(d) for d in data.get("digests", [])])
        new[:] = [(k, r) for k, r in hold_refs(data) if not rows.is_held(archive.index, k, r)]
        if not new:
            return []
        if "digests" in data:
            data["digests"] = ["blake3:" + r for _, r in new]
        if why:
            data["reason"] = why
        return [Draft("retention.held", data)]

    archive.transact(build)
    return new


def release(archive: Archive, *, digests: list[str] | None = None, case: str | None = None,
            party: str | None = None) -> list[tuple[str, str]]:
    """Lift holds; NotHeld when one of them is not in force (then nothing is released)."""
    archive.require_intact_chain()
    archive.require_writable()
    refs: list[tuple[str, str]] = []

    def build() -> list[Draft]:
        data = _hold_target(archive, digests, case, party)
        refs[:] = hold_refs(data)
        missing = [f"{k} {r[:12] if k == 'record' else r}" for k, r in refs
                   if not rows.is_held(archive.index, k, r)]
        if missing:
            raise errors.NotHeld(_("not held: {refs}").format(refs=", ".join(missing)))
        return [Draft("retention.released", data)]

    archive.transact(build)
    return refs


def keep(archive: Archive, digests: list[str], *, reason: str | None = None) -> list[str]:
    """Mark records permanent (a clerk's decision; journaled, never undone)."""
    archive.require_intact_chain()
    archive.require_writable()
    why = validate.optional_text(reason, _("the reason"), limit=validate.NOTE_CHARS)
    resolved = sorted({archive.resolve_digest(d) for d in digests})
    new: list[str] = []

    def build() -> list[Draft]:
        _refuse_gone(archive, resolved)
        new[:] = [d for d in resolved if not rows.kept_reason(archive.index, d)[0]]
        if not new:
            return []
        data: dict = {"digests": ["blake3:" + d for d in new]}
        if why:
            data["reason"] = why
        return [Draft("retention.kept", data)]

    archive.transact(build)
    lock_permanent(archive, resolved)
    return new


def permanent_lock_days(archive: Archive) -> float:
    """``[worm] permanent_days`` from recordkeep.toml: how long after its import a permanent
    record's blob is locked (default 36500, a century)."""
    from .store.s3.bucket import DEFAULT_PERMANENT_LOCK_DAYS, lock_days

    return lock_days(archive.settings.section("worm"), "permanent_days", DEFAULT_PERMANENT_LOCK_DAYS,
                     str(archive.root / "recordkeep.toml"))


def lock_permanent(archive: Archive, digests: list[str] | None = None) -> list[tuple[str, str]]:
    """Lengthen the Object Lock of permanent records' blobs (every one, or those of ``digests``
    that are permanent) to ``[worm] permanent_days`` after each record's import, then journal
    one ``retention.locked`` naming each blob lengthened and its new date. Idempotent: a blob
    locked that long already is left alone, and when none was lengthened nothing is journaled
    (always so on a store without Object Lock, where ``digests`` are still resolved: one that
    names no record is refused). Returns (digest, until) pairs."""
    archive.require_writable()
    days = permanent_lock_days(archive)  # a bad setting is reported on every store
    wanted = None if digests is None else sorted({archive.resolve_digest(x) for x in digests})  # any store
    if not archive.objects.object_lock:
        return []
    if wanted is None:
        found = records.undisposed(archive.index)
    else:
        found = [records.record(archive.index, d) for d in wanted]
    zone = archive.settings.zone
    now = datetime.now(zone)
    locks = []
    try:
        for row in found:
            if row["disposed_seq"] is not None or not _permanent(archive, row):
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
    return rows.holds(archive.index)
