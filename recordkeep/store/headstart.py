"""A head start for a whole-store ``verify --full`` of local files.

Before it hashes a byte, the command loads the library, opens the store, loads its key and
reads its journal: ~0.2 s, and a second per ~40,000 events of a long journal, while the hash
workers would wait. A ``HeadStart`` is made as the command begins, before the library loads:
it starts the workers at once and gives them the large blobs under objects/ as a sorted walk
finds them, until ``verify`` takes the workers over (``handover``). Their answers (``answers``:
digest -> (size, hex or ``error:<why>``)) then stand for those blobs, when the record's size
is the size hashed; any other blob is hashed as before. Only a folder holding a store's
settings file and a local objects/ gets one. Imports what driving a worker needs, nothing more.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator

from .hashpool import MMAP_FROM_BYTES, WORKERS, HashWorker

HEX = frozenset("0123456789abcdef")


class HeadStart:
    """Hash workers started now and fed the store's large blobs until ``handover``. A context
    manager: leaving it ends the workers (killed, their blobs unanswered, when it is left by an
    exception); a ``verify`` that took them over ends them itself."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.workers: list[HashWorker] = []
        self.answers: dict[str, tuple[int, str]] = {}
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        root = os.fspath(root)
        try:
            if not root.strip() or not os.path.isfile(os.path.join(root, "recordkeep.toml")):
                return
        except (OSError, ValueError):  # a path that cannot be looked at is the store's error to say
            return
        self._found = large_blobs(os.path.join(root, "objects", "blake3"))
        self.workers = [HashWorker() for _ in range(WORKERS)]
        for worker in self.workers:
            thread = threading.Thread(target=self._feed, args=(worker,), name="head-start", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _next(self) -> tuple[str, str, int] | None:
        with self._lock:
            if self._stopped.is_set():
                return None
            return next(self._found, None)

    def _feed(self, worker: HashWorker) -> None:
        while (blob := self._next()) is not None:
            digest, path, size = blob
            answer = worker.hash(path, size)
            if answer is None:  # the worker died or was killed: verify hashes this blob
                return
            if answer != "size-changed":
                self.answers[digest] = (size, answer)

    def handover(self) -> list[HashWorker]:
        """Give out no more blobs, wait for those in hand, and return the workers (none when
        this folder got no head start)."""
        self._stopped.set()
        for thread in self._threads:
            thread.join()
        self._threads = []
        return self.workers

    def answer(self, digest: str, size: int) -> str | None:
        """What hashing this blob at ``size`` gave, or None when it was not hashed here."""
        found = self.answers.get(digest)
        return found[1] if found is not None and found[0] == size else None

    def __enter__(self) -> HeadStart:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            for worker in self.workers:
                worker.kill()
        self.handover()
        for worker in self.workers:
            worker.close()


def large_blobs(base: str) -> Iterator[tuple[str, str, int]]:
    """(digest, path, size) of each regular file under ``base`` (objects/blake3) whose path
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
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and st.st_size >= MMAP_FROM_BYTES:
                    yield name, path, st.st_size
