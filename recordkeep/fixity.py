"""The rolling fixity audit and its status: every stored byte proved intact within a cycle.

``audit`` re-hashes records least recently verified first (never verified first, by import)
until a time budget is spent, journaling as it goes: one ``verify.run`` (scope
``{"rolling": true}``) each ``COMMIT_EVERY_SECONDS`` of checking or ``COMMIT_EVERY_RECORDS``
records, listing the digests checked and the problems found. The index folds those events
into each record's last verification (index/fixity.py), so the next run goes on where this
one stopped, and a run interrupted (Ctrl-C, a kill) journals what it finished: a kill that
gives it no chance loses at most the last second's checks and the blobs in hand. One run
checks a record at most once: when every record was checked in it, it ends early.

``status`` counts the records by the age of their last full verification (``verify`` of the
whole store or a scope counts, as the audit's parts do; ``--fast`` proves no byte) and says
which are overdue for ``[fixity] max_age_days`` and how many bytes a day keep the cycle.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import errors
from .archive import Archive
from .i18n import _
from .index import fixity as rows
from .progress import Progress, tell
from .refs import utc_key
from .store.journal import Draft
from .verification import Finding, Report, hash_each, hashers_for, mismatch, run_data, size_problem

COMMIT_EVERY_SECONDS = 1.0
COMMIT_EVERY_RECORDS = 1000
PAGE = 1000  # records taken from the queue at a time (every check journaled before the next page)
SCOPE = {"rolling": True}
FAILING_LISTED = 100  # records whose last check failed, named by ``verify --status``


@dataclass
class Audit:
    """What one budgeted run did: its findings (``report``, as a verify run's), the seqs of the
    ``verify.run`` events it journaled, and whether every record was journaled as verified
    since it began (``complete``: by this run, or by another verify run journaled meanwhile)."""

    run: str
    budget_s: int
    report: Report = field(default_factory=lambda: Report("full", dict(SCOPE)))
    parts: list[int] = field(default_factory=list)
    complete: bool = False
    elapsed_ms: int = 0


class _Part:
    """The checks not yet journaled."""

    def __init__(self) -> None:
        self.report = Report("full", dict(SCOPE))
        self.digests: list[str] = []
        self.started = time.monotonic()

    def add(self, digest: str, size: int, found: Finding | None) -> None:
        """One record checked: ``size`` bytes hashed (0 when its size was wrong), ``found`` its problem."""
        self.report.checked += 1
        self.report.bytes += size
        self.digests.append(digest)
        if found is not None:
            self.report.problems.append(found)

    def due(self) -> bool:
        return (len(self.digests) >= COMMIT_EVERY_RECORDS
                or time.monotonic() - self.started >= COMMIT_EVERY_SECONDS)


def audit(archive: Archive, budget_s: int, *, clock: Callable[[], float] = time.monotonic) -> Audit:
    """Re-hash records, least recently verified first, until ``budget_s`` seconds (by ``clock``)
    are spent or every record was journaled as verified since the run began (by it, or by
    another verify run meanwhile); journal the checks as they go.

    The blob in hand when the budget runs out is finished. Needs a writable store and an
    enrolled key (refused before any work otherwise): a check that cannot be journaled would
    be checked again next time.
    """
    archive.require_can_write(["verify.run"])
    started = clock()
    done = Audit(uuid.uuid4().hex, budget_s)
    before = archive.index.head.seq  # a record verified after this seq was checked since the run began
    progress = Progress("verify", "bytes", items="records")

    def more() -> bool:
        return clock() - started < budget_s

    part = _Part()
    try:
        with hashers_for(archive, "full") as hashers:
            while more():
                page = _next_page(archive, before)
                if not page:
                    done.complete = True
                    break
                sizes = archive.objects.sizes(d for d, _ in page)
                to_hash = []
                for digest, size in page:
                    found = size_problem(archive, digest, size, sizes.get(digest))
                    if found is None:
                        to_hash.append((digest, size))
                    else:
                        part.add(digest, 0, found)
                for digest, size, got in hash_each(archive, to_hash, hashers, more):
                    part.add(digest, size, mismatch(archive, digest, got))
                    tell(archive.watch, progress, done=size, items_done=1)
                    if part.due():
                        part = _commit(archive, done, part)
                part = _commit(archive, done, part)
    finally:  # an interrupt too: what was checked is journaled
        _commit(archive, done, part)
        done.elapsed_ms = int((clock() - started) * 1000)
    return done


def _next_page(archive: Archive, before: int) -> list[tuple[str, int]]:
    """The next records (digest, size) of the queue not verified since seq ``before`` (empty when
    the queue comes round to one that was, in this run or by another meanwhile: every check is
    journaled before a page is taken, and the queue puts the most recently verified last)."""
    page = []
    for row in rows.queue(archive.index, PAGE):
        if row["verified_seq"] is not None and row["verified_seq"] > before:
            break
        page.append((row["digest"], row["size"]))
    return page


def _commit(archive: Archive, done: Audit, part: _Part) -> _Part:
    """Journal the part's checks (when there are any) as one ``verify.run``; a fresh part. The
    part is emptied first: an interrupt during the append must not journal it twice (its checks
    are then lost when the append had not begun, and made again next time)."""
    if not part.digests:
        return part
    r, digests = part.report, part.digests
    part.digests = []
    data = run_data(r, run=done.run, part=len(done.parts) + 1, budget_s=done.budget_s,
                    digests=["blake3:" + d for d in digests])
    events = archive.commit([Draft("verify.run", data)])
    done.parts.append(events[-1].seq)
    total = done.report
    total.checked += r.checked
    total.bytes += r.bytes
    total.problems += r.problems
    total.notices += r.notices
    total.journaled_seq = events[-1].seq
    return _Part()


# -- status --------------------------------------------------------------------------------
@dataclass
class Status:
    """Records by the age of their last full verification, at ``as_of``."""

    as_of: str
    max_age_days: int
    records: int
    bytes: int
    by_age: dict[str, int]
    overdue: int
    failing: int
    oldest: dict | None
    bytes_per_day: int
    problems: list[Finding]
    failing_records: list[dict] = field(default_factory=list)  # the first FAILING_LISTED of them

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_data(self) -> dict:
        return {"ok": self.ok, "as_of": self.as_of, "max_age_days": self.max_age_days,
                "records": self.records, "bytes": self.bytes, "by_age": self.by_age,
                "overdue": self.overdue, "failing": self.failing, "oldest": self.oldest,
                "bytes_per_day": self.bytes_per_day, "problems": [f.as_data() for f in self.problems],
                "failing_records": self.failing_records}


def status(archive: Archive, *, as_of: str | None = None) -> Status:
    """How recently every record (not disposed of) was proved intact, at ``as_of`` (a time as
    clerks type it; default now): counts by age (never, under 30 days, under 90, older), the
    record first in the audit's queue, the bytes a day that verify every byte within ``[fixity]
    max_age_days``, and problems: records overdue (FixityOverdue: last verified, or never
    verified and imported, longer ago than that) and records whose last check failed."""
    max_age = archive.settings.fixity_max_age_days
    moment = archive.now() if as_of is None else archive.settings.time(as_of)
    now = datetime.fromisoformat(moment)

    def before(days: int) -> str:
        return utc_key((now - timedelta(days=days)).isoformat())

    counts = rows.ages(archive.index, before(30), before(90), before(max_age))
    first = rows.queue(archive.index, 1)
    oldest = None
    if first:
        row = first[0]
        oldest = {"digest": row["digest"], "size": row["size"], "imported_at": row["first_at"],
                  "verified_at": row["verified_at"],
                  "ok": None if row["ok"] is None else bool(row["ok"])}
    problems = []
    if counts["overdue"]:
        problems.append(Finding(errors.FixityOverdue.code, "overdue",
                                _("{n} record(s) last verified (or, never verified, imported) "
                                  "more than {days} days ago").format(n=counts["overdue"], days=max_age)))
    if counts["failing"]:
        problems.append(Finding(errors.IntegrityError.code, "failing",
                                _("{n} record(s) failed their last verification: "
                                  "'recordkeep log --record DIGEST' shows what was found").format(
                                    n=counts["failing"])))
    listed = [{"digest": r["digest"], "size": r["size"], "verified_seq": r["verified_seq"],
               "verified_at": r["verified_at"]} for r in rows.failing(archive.index, FAILING_LISTED)]
    return Status(moment, max_age, counts["records"], counts["bytes"],
                  {"never": counts["never"], "under_30_days": counts["under_30_days"],
                   "under_90_days": counts["under_90_days"], "older": counts["older"]},
                  counts["overdue"], counts["failing"], oldest, math.ceil(counts["bytes"] / max_age),
                  problems, listed)
