"""Fixity: every stored byte against its digest, every problem collected.

``fast`` checks presence and size; ``full`` re-hashes every blob, files in
parallel. Large blobs kept as local files are hashed through mmap in small worker
processes (hashworker.py), so a blob that shrinks under the hash (SIGBUS) kills only a
worker; its file is then re-read by streaming in this process. Other blobs (small ones,
or objects in a bucket: ranged reads in parallel) are streamed through the blob store's
``hash_stored``. Verify never deletes, moves or repairs.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import blake3 as blake3_module

from . import errors
from .archive import Archive
from .index import records
from .store.fs import stale_temporaries
from .store.journal import Draft

MMAP_FROM_BYTES = 8 * 1024 * 1024
WORKER = str(Path(__file__).parent / "store" / "hashworker.py")
WORKERS = 2

CODES = {
    "digest_mismatch": errors.DigestMismatch.code,
    "size_mismatch": errors.SizeMismatch.code,
    "missing": errors.BlobMissing.code,
    "unreadable": errors.BlobUnreadable.code,
    "stray_file": errors.StrayFile.code,
    "unreferenced": errors.UnreferencedBlob.code,
    "disposed": errors.DisposedBlob.code,
    "stale_temporary": errors.StaleTemporary.code,
}


@dataclass(frozen=True)
class Finding:
    """One line of a verify report."""

    code: str
    what: str
    message: str
    digest: str | None = None
    path: str | None = None

    def as_data(self) -> dict:
        data = {"code": self.code, "what": self.what, "message": self.message}
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


# the worker runs without site (-S: no .pth files, a faster start) and finds blake3 here
_BLAKE3_HOME = str(Path(blake3_module.__file__).resolve().parent.parent)


class _MmapHasher:
    """Drives one hashworker child, started at once (it gets ready while the caller lists
    the records); a dead child (SIGBUS) is answered with None and replaced on next use."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = self._start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-S", WORKER, _BLAKE3_HOME], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, bufsize=1)

    def hash(self, path: Path, size: int) -> str | None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        try:
            self.proc.stdin.write(f"{size}\t{path}\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            answer = ""
        if not answer:
            self.proc.wait()
            self.proc = None
            return None
        return answer.rstrip("\n")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait()


def _stream_hash(archive: Archive, digest: str) -> str:
    return archive.objects.hash_stored(digest)[0]


def verify(archive: Archive, *, mode: str = "full", digests: list[str] | None = None,
           scope: dict | None = None, journal: bool = True) -> Report:
    """Check the records ``digests`` (all when None) and, for a whole-store run, objects/.

    Returns every finding; journals the run (``verify.run``) unless the store is
    read-only, in which case ``journal_error`` says so.
    """
    if mode not in ("fast", "full"):
        raise ValueError(f"unknown verify mode {mode!r}")
    report = Report(mode, scope or {"all": True})
    local = archive.objects.mmap_path("0" * 64) is not None  # blobs are local files
    hashers: list[_MmapHasher] = []
    try:
        if mode == "full" and local:
            hashers += (_MmapHasher() for _ in range(WORKERS))
        _check(archive, report, digests, mode, hashers)
    finally:
        for hasher in hashers:
            hasher.close()
    _journal(archive, report, journal, None if digests is None else sorted(set(digests)))
    return report


def _check(archive: Archive, report: Report, digests: list[str] | None, mode: str,
           hashers: list[_MmapHasher]) -> None:
    records = _records(archive, digests)
    to_hash: list[tuple[str, int]] = []
    sizes = archive.objects.sizes(d for d, _, disposed in records if not disposed)
    for digest, size, disposed in records:
        rel = archive.objects.relpath(digest)
        if disposed:
            report.notices.append(Finding(CODES["disposed"], "disposed", "blob disposed under retention",
                                          digest))
            continue
        report.checked += 1
        actual = sizes.get(digest)
        if actual is None:
            report.problems.append(Finding(CODES["missing"], "missing", "blob is missing", digest, rel))
            continue
        if isinstance(actual, OSError):
            report.problems.append(Finding(CODES["unreadable"], "unreadable",
                                           f"blob cannot be read: {actual.strerror}", digest, rel))
            continue
        if actual != size:
            report.problems.append(Finding(CODES["size_mismatch"], "size_mismatch",
                                           f"blob has {actual} bytes, the record says {size}",
                                           digest, rel))
            continue
        report.bytes += size
        if mode == "full":
            to_hash.append((digest, size))
    if digests is None:
        to_hash += _walk_objects(archive, report, {d for d, _, _ in records}, mode)
        for path in stale_temporaries(archive.root / "tmp"):
            report.notices.append(Finding(CODES["stale_temporary"], "stale_temporary",
                                          "a temporary file of a writer that is gone; the next write "
                                          "command removes it", path=str(path.relative_to(archive.root))))
    if to_hash:
        _hash_all(archive, to_hash, report, hashers)


def _records(archive: Archive, digests: list[str] | None) -> list[tuple[str, int, bool]]:
    return records.sizes(archive.index, digests)


def _walk_objects(archive: Archive, report: Report, claimed: set[str],
                  mode: str) -> list[tuple[str, int]]:
    """Report files under objects/ that no record claims; return unreferenced blobs to hash."""
    extra = []
    for stored in archive.objects.iterate():
        if stored.digest is None:
            report.problems.append(Finding(CODES["stray_file"], "stray_file",
                                           "file under objects/ is not a valid digest path",
                                           path=stored.relpath))
        elif stored.digest not in claimed:
            report.notices.append(Finding(
                CODES["unreferenced"], "unreferenced",
                "blob no record claims (a write interrupted before it was journaled); "
                "the next add or import of the same bytes adopts it", stored.digest, stored.relpath))
            if mode == "full":
                extra.append((stored.digest, stored.size))
    return extra


def _hash_all(archive: Archive, items: list[tuple[str, int]], report: Report,
              hashers: list[_MmapHasher]) -> None:
    """Hash every item, large local files through mmap in the worker processes of
    ``hashers``, the rest by streaming, and record mismatches."""
    results: dict[str, str] = {}
    large, small = [], []
    for digest, size in items:
        path = archive.objects.mmap_path(digest) if size >= MMAP_FROM_BYTES else None
        if path is not None:
            large.append((digest, path, size))
        else:
            small.append(digest)
    if large:
        queue = iter(large)
        lock = threading.Lock()

        def drain(hasher: _MmapHasher) -> None:
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                digest, path, size = item
                got = hasher.hash(path, size)
                if got is not None and got != "size-changed":
                    results[digest] = got

        threads = [threading.Thread(target=drain, args=(hasher,)) for hasher in hashers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    todo = small + [d for d, _, _ in large if d not in results]
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {d: pool.submit(_stream_hash, archive, d) for d in todo}
        for digest, future in futures.items():
            try:
                results[digest] = future.result()
            except errors.RecordkeepError as exc:
                results[digest] = f"error:{exc.message}"
            except OSError as exc:
                results[digest] = f"error:{exc.strerror}"
    for digest, _ in items:
        got = results.get(digest, "error:not hashed")
        rel = archive.objects.relpath(digest)
        if got.startswith("error:"):
            report.problems.append(Finding(CODES["unreadable"], "unreadable",
                                           f"blob cannot be read: {got[6:]}", digest, rel))
        elif got != digest:
            report.problems.append(Finding(CODES["digest_mismatch"], "digest_mismatch",
                                           f"content hashes to {got}", digest, rel))


def _journal(archive: Archive, report: Report, journal: bool, scoped: list[str] | None) -> None:
    if not journal:
        return
    if archive.readonly:
        report.journal_error = "the store is read-only: this verify run could not be journaled"
        return
    data = {"mode": report.mode, "scope": report.scope,
            "result": "ok" if report.ok else "problems", "checked": report.checked,
            **({"digests": ["blake3:" + d for d in scoped]} if scoped is not None else {}),
            "bytes": report.bytes, "problems": [f.as_data() for f in report.problems],
            "notices": [f.as_data() for f in report.notices]}
    try:
        events = archive.commit([Draft("verify.run", data)])
    except (errors.KeyMissing, errors.KeyNotEnrolled) as exc:
        report.journal_error = f"no enrolled key: this verify run was not journaled ({exc.message})"
        return
    except errors.StoreError as exc:
        report.journal_error = f"this verify run could not be journaled: {exc.message}"
        return
    report.journaled_seq = events[-1].seq
