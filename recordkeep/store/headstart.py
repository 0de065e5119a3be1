"""A head start for a whole-store ``verify --full`` of local files.

Before it hashes a byte, the command loads the library, opens the store, loads its key and
reads its journal: ~0.2 s, and a second per ~40,000 events of a long journal, while the hash
workers would wait. A ``HeadStart`` is made as the command begins, before the library loads:
for a folder holding a store's settings file and a local objects/, it starts the workers at
once and gives them the large blobs under objects/ as a sorted walk finds them, until
``verify`` takes the workers over (``handover``) or does not want them (``abandon``). An
answer then stands for its blob only while the file is the one hashed, unchanged: the same
file (device and inode), size and change times as when the walk found it and after the hash. Any other blob,
or one changed since, is hashed again. Imports what driving a worker needs, nothing more.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator

from .hashpool import MMAP_FROM_BYTES, WORKERS, HashWorker

HEX = frozenset("0123456789abcdef")


def identity(path: str | os.PathLike) -> tuple[int, ...] | None:
    """What tells a regular file's content unchanged: device, inode, size, modification and
    change times (ns); None for anything but a regular file, or a path that cannot be looked at."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class HeadStart:
    """Hash workers started now and fed the store's large blobs until ``handover`` or
    ``abandon``; none for ``root`` None or a folder that is not a local store. A context
    manager: leaving it ends the workers (killed, their blobs unanswered, when it is left by an
    exception); a ``verify`` that took them over ends them itself."""

    def __init__(self, root: str | os.PathLike | None) -> None:
        self.workers: list[HashWorker] = []
        self._answers: dict[str, tuple[tuple[int, ...], str]] = {}  # digest -> (identity, hex or error:)
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        base = os.path.join(os.fspath(root), "objects", "blake3") if root is not None else ""
        if not base or not os.fspath(root).strip() or not os.path.isdir(base) \
                or not os.path.isfile(os.path.join(os.fspath(root), "recordkeep.toml")):
            return
        self._found = large_blobs(base)
        try:
            for _ in range(WORKERS):
                self.workers.append(HashWorker())
                thread = threading.Thread(target=self._feed, args=(self.workers[-1],), name="head-start",
                                          daemon=True)
                thread.start()
                self._threads.append(thread)
        except BaseException:  # an interrupt as it starts: nothing is left running
            self.abandon()
            raise

    @classmethod
    def for_verify(cls, root: str | os.PathLike, *, full: bool, whole_store: bool) -> HeadStart:
        """The head start a verify run gets: a real one for a full run of the whole store (a
        scoped or fast run would hash blobs it does not check), else one that does nothing."""
        return cls(root if full and whole_store else None)

    def _next(self) -> tuple[str, str, tuple[int, ...]] | None:
        with self._lock:
            if self._stopped.is_set():
                return None
            return next(self._found, None)

    def _feed(self, worker: HashWorker) -> None:
        while (blob := self._next()) is not None:
            digest, path, before = blob
            answer = worker.hash(path, before[2])
            if answer is None:  # the worker died or was killed: verify hashes this blob
                return
            if answer != "size-changed" and identity(path) == before:
                self._answers[digest] = (before, answer)

    def handover(self) -> None:
        """Give out no more blobs and wait for those in hand: ``workers`` are then free."""
        self._stopped.set()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def abandon(self) -> None:
        """Give out no more blobs and end the workers now, their blobs in hand unanswered."""
        self._stopped.set()
        for worker in self.workers:
            worker.kill()
        self.handover()
        for worker in self.workers:
            worker.close()

    def answer(self, digest: str, path: str | os.PathLike, size: int) -> str | None:
        """What hashing the blob ``digest`` gave (hex, or ``error:<why>``) when ``path`` is still
        the file hashed, unchanged and of ``size`` bytes; else None (hash it again)."""
        found = self._answers.get(digest)
        if found is None or found[0][2] != size or identity(path) != found[0]:
            return None
        return found[1]

    def answered(self) -> set[str]:
        """The digests of the blobs answered so far."""
        return set(self._answers)

    def __enter__(self) -> HeadStart:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.abandon()
            return
        self.handover()
        for worker in self.workers:
            worker.close()


def large_blobs(base: str) -> Iterator[tuple[str, str, tuple[int, ...]]]:
    """(digest, path, ``identity``) of each regular file under ``base`` (objects/blake3) whose path
    is its digest's and that is large enough for a worker, in sorted order; nothing where
    the folder cannot be read."""
    try:
        firsts = sorted(os.listdir(base))
    except OSError:
        return
    for first in firsts:
        try:
            seconds = sorted(os.listdir(os.path.join(base, first)))
        except OSError:
            continue
        for second in seconds:
            folder = os.path.join(base, first, second)
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            for name in names:
                if len(name) != 64 or not HEX.issuperset(name) or name[:2] != first or name[2:4] != second:
                    continue
                path = os.path.join(folder, name)
                found = identity(path)
                if found is not None and found[2] >= MMAP_FROM_BYTES:
                    yield name, path, found
