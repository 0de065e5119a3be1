"""Fixity: every stored byte against its digest, every problem collected.

``fast`` checks presence and size; ``full`` re-hashes every blob, files in
parallel. Large blobs kept as local files are hashed through mmap in small worker
processes (hashworker.py), so a blob that shrinks under the hash (SIGBUS) kills only a
worker; its file is then re-read by streaming in this process. Other blobs (small ones,
or objects in a bucket: ranged reads in parallel) are streamed through the blob store's
``hash_stored``. Verify never deletes, moves or repairs.

Reads go at the device's rate without evicting the working set: the workers (driven from
store/hashpool.py) hash the cached windows of a large blob in place and read the others
into buffers, dropping their pages as they go (store/hashworker.py); small blobs are read
ahead (``read_ahead``) while earlier ones are hashed, and their pages dropped after
(store/hashing.py). ``hash_each`` is also the rolling audit's (fixity.py). A whole-store full
run may take over a ``HeadStart`` (store/headstart.py): workers that began on the large blobs as
the command began, while this run opened the store and read its journal.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import errors, i18n
from .archive import Archive
from .i18n import _
from .index import records
from .index.core import Acknowledged
from .progress import Progress, tell
from .store.fs import stale_temporaries
from .store.hashpool import MMAP_FROM_BYTES, WORKERS, HashWorker, close_all
from .store.journal import Draft, Head

if TYPE_CHECKING:
    from .store.headstart import HeadStart

READ_AHEAD_BLOBS = 16  # small blobs asked of the device ahead of the one in hand
READ_AHEAD_BYTES = 64 * 1024 * 1024

CODES = {
    "digest_mismatch": errors.DigestMismatch.code,
    "size_mismatch": errors.SizeMismatch.code,
    "missing": errors.BlobMissing.code,
    "unreadable": errors.BlobUnreadable.code,
    "stray_file": errors.StrayFile.code,
    "unreferenced": errors.UnreferencedBlob.code,
    "disposed": errors.DisposedBlob.code,
    "stale_temporary": errors.StaleTemporary.code,
    "index_differs": errors.IndexDiffers.code,
}
RECORD_STATES = {"record.imported": False, "record.restored": False, "record.disposed": True}  # disposed?


@dataclass(frozen=True)
class Finding:
    """One line of a verify report; ``message`` in the reader's language (an ``i18n.Message``),
    journaled in English with its message id and parameters (``as_data``)."""

    code: str
    what: str
    message: str
    digest: str | None = None
    path: str | None = None

    def as_data(self) -> dict:
        data = i18n.stored({"code": self.code, "what": self.what, "message": self.message}, "message")
        if self.digest:
            data["digest"] = self.digest
        if self.path:
            data["path"] = self.path
        return data


@dataclass
class Report:
    """What a verify run found; ``ok`` when there is no problem (notices allowed)."""

    mode: str
    scope: dict
    checked: int = 0
    bytes: int = 0
    problems: list[Finding] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)
    journaled_seq: int | None = None
    journal_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(archive: Archive, *, mode: str = "full", digests: list[str] | None = None,
           scope: dict | None = None, journal: bool = True, head_start: HeadStart | None = None) -> Report:
    """Check the records ``digests`` (all when None) and, for a whole-store run, objects/.

    Returns every finding; journals the run (``verify.run``) unless the store is
    read-only, in which case ``journal_error`` says so. A full run tells ``archive.watch``
    the bytes and records hashed as it goes. A full run of the whole store takes its records
    from the journal, not the index (``journaled_records``): an index changed by hand hides
    no record from it. A whole-store full run may be given the ``head_start`` begun on this
    store as the command began: it takes its workers over, and an answer stands for a blob
    still as it was hashed; any other run abandons it.
    """
    if mode not in ("fast", "full"):
        raise ValueError(f"unknown verify mode {mode!r}")
    report = Report(mode, scope or {"all": True})
    with hashers_for(archive, mode, head_start) as hashers:  # the workers first: they get ready meanwhile
        head = archive.index.head  # a whole-store run covers the records journaled up to here
        if journal and not archive.readonly:
            with contextlib.suppress(errors.RecordkeepError):  # said by _journal, which asks again
                archive.signer(required=archive.index.signed)  # loaded now, not after hours of hashing
        _check(archive, report, digests, mode, hashers, head, head_start)
    _journal(archive, report, journal, None if digests is None else sorted(set(digests)), head.seq)
    return report


@contextmanager
def hashers_for(archive: Archive, mode: str,
                head_start: HeadStart | None = None) -> Iterator[list[HashWorker]]:
    """The mmap hash workers a full run over local files uses (none otherwise): those of
    ``head_start`` when it has any (still hashing until ``handover``), else new ones; closed after."""
    local = archive.objects.mmap_path("0" * 64) is not None  # blobs are local files
    taken = mode == "full" and local and head_start is not None and bool(head_start.workers)
    if head_start is not None and not taken:
        head_start.abandon()  # not this run's to use: the blobs it hashes would not be checked
    if taken:
        hashers = head_start.workers
    else:
        hashers = [HashWorker() for _ in range(WORKERS)] if mode == "full" and local else []
    try:
        yield hashers
    except BaseException:  # an interrupt or an error: the blobs in hand are not waited for
        for hasher in hashers:
            hasher.kill()
        raise
    finally:
        if head_start is not None:
            head_start.handover()
        close_all(hashers)


def _check(archive: Archive, report: Report, digests: list[str] | None, mode: str,
           hashers: list[HashWorker], head: Head, head_start: HeadStart | None = None) -> None:
    if digests is None and mode == "full":  # the journal's records, the index's as they stood at head
        listed = _as_journaled(archive, report, records.sizes_through(archive.index, head.seq), head.end)
    else:
        listed = _records(archive, digests)
    to_hash = check_sizes(archive, report, listed, hashing=mode == "full")
    if digests is None:
        to_hash += _walk_objects(archive, report, {d for d, _, _ in listed}, mode)
        for path in stale_temporaries(archive.root / "tmp"):
            report.notices.append(Finding(CODES["stale_temporary"], "stale_temporary",
                                          _("a temporary file of a writer that is gone; the next write "
                                            "command removes it"), path=str(path.relative_to(archive.root))))
    if to_hash:
        progress = Progress("verify", "bytes", total=sum(size for _, size in to_hash), items="records",
                            items_total=len(to_hash))
        answered, rest = _answered_early(archive, to_hash, head_start)
        for digest, size, got in itertools.chain(answered, hash_each(archive, rest, hashers)):
            found = mismatch(archive, digest, got)
            if found is not None:
                report.problems.append(found)
            tell(archive.watch, progress, done=size, items_done=1)


def _answered_early(archive: Archive, items: list[tuple[str, int]], head_start: HeadStart | None
                    ) -> tuple[list[tuple[str, int, str]], list[tuple[str, int]]]:
    """``items`` (digest, size) split into those ``head_start`` hashed, still as they were
    hashed, with its answer, and the rest to hash; the head start is handed over first."""
    if head_start is None:
        return [], items
    head_start.handover()
    answered, rest = [], []
    for digest, size in items:
        path = archive.objects.mmap_path(digest) if size >= MMAP_FROM_BYTES else None
        got = head_start.answer(digest, path, size) if path is not None else None
        if got is None:
            rest.append((digest, size))
        else:
            answered.append((digest, size, got))
    return answered, rest


def check_sizes(archive: Archive, report: Report, records: list[tuple[str, int, bool]], *,
                hashing: bool) -> list[tuple[str, int]]:
    """Presence and size of each record's blob (digest, size, disposed), counted and reported
    in ``report``; return the (digest, size) of those to hash when ``hashing``."""
    to_hash: list[tuple[str, int]] = []
    sizes = archive.objects.sizes(d for d, _, disposed in records if not disposed)
    for digest, size, disposed in records:
        if disposed:
            report.notices.append(Finding(CODES["disposed"], "disposed", _("blob disposed under retention"),
                                          digest))
            continue
        report.checked += 1
        found = size_problem(archive, digest, size, sizes.get(digest))
        if found is not None:
            report.problems.append(found)
            continue
        report.bytes += size
        if hashing:
            to_hash.append((digest, size))
    return to_hash


def size_problem(archive: Archive, digest: str, size: int, actual: int | OSError | None) -> Finding | None:
    """The problem of a blob whose size on store is ``actual`` (None: absent) where its record
    says ``size``, or None when they agree."""
    rel = archive.objects.relpath(digest)
    if actual is None:
        return Finding(CODES["missing"], "missing", _("blob is missing"), digest, rel)
    if isinstance(actual, OSError):
        return Finding(CODES["unreadable"], "unreadable",
                       _("blob cannot be read: {error}").format(error=actual.strerror), digest, rel)
    if actual != size:
        return Finding(CODES["size_mismatch"], "size_mismatch",
                       _("blob has {actual} bytes, the record says {size}").format(actual=actual, size=size),
                       digest, rel)
    return None


def _records(archive: Archive, digests: list[str] | None) -> list[tuple[str, int, bool]]:
    return records.sizes(archive.index, digests)


def journaled_records(archive: Archive, stop: int) -> dict[str, tuple[int, bool, int]]:
    """Every record the journal (up to byte ``stop``) imports, as the index folds it
    (``Acknowledged``): digest -> (size, disposed, seq of its import)."""
    found: dict[str, tuple[int, bool, int]] = {}
    counted = Acknowledged()
    for read in archive.journal.read(0, stop):
        for event in counted.feed(read):
            if event.type in RECORD_STATES:
                digest = str(event.data.get("digest", "")).removeprefix("blake3:")
                size, _disposed, seq = found.get(digest) or (event.data.get("size"), False, event.seq)
                found[digest] = (size if isinstance(size, int) else 0, RECORD_STATES[event.type], seq)
    return found


def _as_journaled(archive: Archive, report: Report, indexed: list[tuple[str, int, bool]],
                  stop: int) -> list[tuple[str, int, bool]]:
    """The records as the journal has them (digest, size, disposed), each way the index says
    otherwise reported (the index was changed: rows deleted, added, or a record marked disposed)."""
    journaled = journaled_records(archive, stop)
    listed = {digest: disposed for digest, _size, disposed in indexed}
    for digest in sorted(set(journaled) | set(listed)):
        if digest not in journaled:
            said = _("the index lists a record the journal never imported: the index was changed")
        elif digest not in listed:
            said = _("the journal imports this record (seq {seq}), the index does not list it: the index "
                     "was changed").format(seq=journaled[digest][2])
        elif listed[digest] != journaled[digest][1]:
            said = (_("the index says this record was disposed of, the journal does not: the index was "
                      "changed") if listed[digest] else
                    _("the journal says this record was disposed of, the index does not: the index was "
                      "changed"))
        else:
            continue
        report.problems.append(Finding(CODES["index_differs"], "index_differs", said, digest))
    return [(digest, size, disposed) for digest, (size, disposed, _seq) in sorted(journaled.items())]


def _walk_objects(archive: Archive, report: Report, claimed: set[str],
                  mode: str) -> list[tuple[str, int]]:
    """Report files under objects/ that no record claims; return unreferenced blobs to hash."""
    extra = []
    for stored in archive.objects.iterate():
        if stored.digest is None:
            report.problems.append(Finding(CODES["stray_file"], "stray_file",
                                           _("file under objects/ is not a valid digest path"),
                                           path=stored.relpath))
        elif stored.digest not in claimed:
            report.notices.append(Finding(
                CODES["unreferenced"], "unreferenced",
                _("blob no record claims (a write interrupted before it was journaled); "
                  "the next add or import of the same bytes adopts it"), stored.digest, stored.relpath))
            if mode == "full":
                extra.append((stored.digest, stored.size))
    return extra


def hash_each(archive: Archive, items: Iterable[tuple[str, int]], hashers: list[HashWorker],
              more: Callable[[], bool] = lambda: True) -> Iterator[tuple[str, int, str]]:
    """Hash the blobs ``items`` (digest, size), ``WORKERS`` at a time, and yield (digest, size,
    hex or ``error:<why>``) in their order. Large local files go through the mmap workers of
    ``hashers`` (a file that changes size or kills its worker with SIGBUS is then streamed);
    the rest are streamed, the next ones read ahead while these are hashed. ``more`` is asked
    before each blob is started: once it says no, the blobs in hand are finished and nothing
    else begun. Closing the generator early (an interrupt) waits only for the blobs in hand,
    and a blob whose worker was ended by the interrupt is not streamed after it."""
    idle: queue.SimpleQueue[HashWorker] = queue.SimpleQueue()
    for hasher in hashers:
        idle.put(hasher)

    def one(digest: str, size: int) -> str:
        path = archive.objects.mmap_path(digest) if size >= MMAP_FROM_BYTES else None
        if path is not None and hashers:
            hasher = idle.get()
            try:
                got = hasher.hash(path, size)
            finally:
                idle.put(hasher)
            if got is not None and got != "size-changed":
                return got
            if hasher.interrupted:  # every worker is killed when the run is
                return "error:not hashed (interrupted)"
        try:
            return archive.objects.hash_stored(digest)[0]
        except errors.RecordkeepError as exc:
            return f"error:{i18n.english_of(exc.message)}"
        except OSError as exc:
            return f"error:{exc.strerror}"

    upcoming = iter(items)
    interrupted = False
    ahead: deque[tuple[str, int]] = deque()
    ahead_bytes = 0
    pending: deque[tuple[str, int, Future]] = deque()
    pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="hash")
    try:
        while True:
            while len(ahead) < READ_AHEAD_BLOBS and ahead_bytes < READ_AHEAD_BYTES:
                item = next(upcoming, None)
                if item is None:
                    break
                ahead.append(item)
                if item[1] < MMAP_FROM_BYTES:  # a large one is read ahead window by window as it is hashed
                    ahead_bytes += item[1]
                    archive.objects.read_ahead(item[0])
            while ahead and len(pending) < WORKERS and more():
                digest, size = ahead.popleft()
                if size < MMAP_FROM_BYTES:
                    ahead_bytes -= size
                pending.append((digest, size, pool.submit(one, digest, size)))
            if not pending:
                return
            digest, size, future = pending.popleft()
            yield digest, size, future.result()
    except BaseException:  # an interrupt: the workers are in a process group of their own
        interrupted = True
        for hasher in hashers:
            hasher.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        never_begun = [*ahead, *((d, s) for d, s, f in pending if f.cancelled())]  # the run stopped
        for digest, _ in never_begun:  # a blob never read ahead has nothing to forget
            archive.objects.forget_ahead(digest, settle=not interrupted)


def mismatch(archive: Archive, digest: str, got: str) -> Finding | None:
    """The problem a hash result shows (unreadable, or not the digest), or None when it matches."""
    rel = archive.objects.relpath(digest)
    if got.startswith("error:"):
        return Finding(CODES["unreadable"], "unreadable",
                       _("blob cannot be read: {error}").format(error=got[6:]), digest, rel)
    if got != digest:
        return Finding(CODES["digest_mismatch"], "digest_mismatch",
                       _("content hashes to {digest}").format(digest=got), digest, rel)
    return None


def run_data(report: Report, **covered) -> dict:
    """The data of the ``verify.run`` event that journals ``report``; ``covered`` says which
    records it checked (``digests``, or ``through_seq`` for the whole store) and more of the run."""
    return {"mode": report.mode, "scope": report.scope, **covered,
            "result": "ok" if report.ok else "problems", "checked": report.checked, "bytes": report.bytes,
            "problems": [f.as_data() for f in report.problems],
            "notices": [f.as_data() for f in report.notices]}


def _journal(archive: Archive, report: Report, journal: bool, scoped: list[str] | None,
             through: int) -> None:
    if not journal:
        return
    if archive.readonly:
        report.journal_error = _("the store is read-only: this verify run could not be journaled")
        return
    covered = {"digests": ["blake3:" + d for d in scoped]} if scoped is not None else {"through_seq": through}
    try:
        events = archive.commit([Draft("verify.run", run_data(report, **covered))])
    except (errors.KeyMissing, errors.KeyNotEnrolled) as exc:
        report.journal_error = _("no enrolled key: this verify run was not journaled ({message})").format(
            message=exc.message)
        return
    except errors.StoreError as exc:
        report.journal_error = _("this verify run could not be journaled: {message}").format(
            message=exc.message)
        return
    report.journaled_seq = events[-1].seq
