"""Hash workers (store/hashworker.py) driven from this process, and an early start of them.

A worker is a child process, so a blob that shrinks under its mmap (SIGBUS) kills only
the worker. ``EarlyHashes`` starts the workers on every large blob under a store's objects/
at once, before the store is opened: a whole-store ``verify --full`` then hashes while this
process is still loading the library and reading the index, instead of after. The module
is light on purpose (nothing of the index or the journal): it is loaded first.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

import blake3

from .objects import LocalObjects

WORKER = str(Path(__file__).with_name("hashworker.py"))
WORKERS = 2
MMAP_FROM_BYTES = 8 * 1024 * 1024  # smaller blobs are streamed by the caller, read ahead in batches

# the worker runs without site (-S: no .pth files, a faster start) and finds blake3 here
BLAKE3_HOME = str(Path(blake3.__file__).resolve().parent.parent)


class HashWorker:
    """Drives one hashworker child, started at once (it gets ready while the caller goes on);
    a dead child (SIGBUS) is answered with None and replaced on next use."""

    def __init__(self) -> None:
        self.killed = False
        self.proc: subprocess.Popen | None = self._start()

    @staticmethod
    def _start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-S", WORKER, BLAKE3_HOME], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, bufsize=1)

    def hash(self, path: str | os.PathLike, size: int) -> str | None:
        """The blob's hex digest, ``size-changed``, ``error:<why>``, or None when the worker died
        (it is started again on the next call, unless it was killed)."""
        if self.killed:
            return None
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
        """Let the worker finish its blob and end."""
        proc = self.proc
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def wait(self) -> None:
        """Wait for the worker to end (after ``close`` or ``kill``)."""
        proc = self.proc
        if proc is not None:
            proc.wait()

    def kill(self) -> None:
        """End the worker now (its blob unanswered); safe while another thread waits on it."""
        self.killed = True
        proc = self.proc
        if proc is not None:
            proc.kill()


class EarlyHashes:
    """Every large blob file under ``store``/objects/ hashed from now on by up to ``workers``
    workers, in path order; ``take`` gives a blob's answer (by digest), waiting for it. Made
    before the store is known to be a store: objects/ is listed by a thread, so nothing waits
    on a large listing, and the workers start with the first large blob (a folder with none
    starts none). Closing it lets the blobs in hand finish (or kills the workers, on an
    exception) and skips the rest."""

    def __init__(self, store: str | os.PathLike, workers: int = WORKERS) -> None:
        self._objects = LocalObjects(store)
        self._most = workers
        self._sizes: dict[str, int] = {}
        self._done: dict[str, threading.Event] = {}
        self._answers: dict[str, str | None] = {}
        self._plan: queue.SimpleQueue[tuple[str, int] | None] = queue.SimpleQueue()
        self._listed = threading.Event()
        self._closing = threading.Event()
        self._workers: list[HashWorker] = []
        self._feeders: list[threading.Thread] = []
        self._lister = threading.Thread(target=self._list, daemon=True)
        self._lister.start()

    def _list(self) -> None:
        try:
            for found in self._objects.iterate():
                if self._closing.is_set():
                    break
                if found.digest is None or found.size < MMAP_FROM_BYTES:
                    continue
                self._done[found.digest] = threading.Event()  # before its size: take() finds both
                self._sizes[found.digest] = found.size
                self._plan.put((found.digest, found.size))
                if len(self._workers) < self._most:
                    worker = HashWorker()
                    feeder = threading.Thread(target=self._feed, args=(worker,), daemon=True)
                    self._workers.append(worker)
                    self._feeders.append(feeder)
                    feeder.start()
        except OSError:  # a worker could not start: the running ones hash what is planned,
            pass  # the caller the rest
        finally:
            for _ in self._feeders:
                self._plan.put(None)
            if not self._feeders:
                for done in self._done.values():
                    done.set()
            self._listed.set()

    def _feed(self, worker: HashWorker) -> None:
        while True:
            item = self._plan.get()
            if item is None or self._closing.is_set():
                return
            digest, size = item
            try:
                self._answers[digest] = worker.hash(self._objects.path(digest), size)
            finally:
                self._done[digest].set()

    def take(self, digest: str, size: int) -> str | None:
        """The worker's answer for the blob ``digest`` of ``size`` bytes (hex, ``size-changed``
        or ``error:<why>``), once hashed; None when it was not planned with that size, was
        skipped by ``close``, or its worker died: the caller then hashes it itself."""
        if digest not in self._sizes:
            self._listed.wait()
        if self._sizes.get(digest) != size:
            return None
        self._done[digest].wait()
        return self._answers.get(digest)

    def close(self, *, kill: bool = False) -> None:
        """Skip the blobs not begun; let those in hand finish, or kill the workers."""
        self._closing.set()
        self._lister.join()
        if kill:
            for worker in self._workers:
                worker.kill()
        for feeder in self._feeders:
            feeder.join()
        for done in self._done.values():
            done.set()  # the skipped ones: take() answers None
        for worker in self._workers:
            worker.close()
        for worker in self._workers:
            worker.wait()

    def __enter__(self) -> EarlyHashes:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(kill=kind is not None)
