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
import signal
import subprocess
import sys
import threading
from pathlib import Path

import blake3

from .objects import LocalObjects

WORKER = str(Path(__file__).with_name("hashworker.py"))
WORKERS = 2
MMAP_FROM_BYTES = 8 * 1024 * 1024  # smaller blobs are streamed by the caller, read ahead in batches

# the worker runs without site (-S: no .pth files, a faster start) and finds blake3 here
BLAKE3_HOME = str(Path(blake3.__file__).resolve().parent.parent)


class HashWorker:
    """Drives one hashworker child, started at once (it gets ready while the caller goes on).
    A child that died of SIGBUS (its blob shrank under the mmap) is answered with None and
    started again on next use; one ended by Ctrl-C, a kill or ``kill()`` is not."""

    def __init__(self) -> None:
        self.killed = False
        self._lock = threading.Lock()
        self.proc: subprocess.Popen | None = self._start()

    @staticmethod
    def _start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-S", WORKER, BLAKE3_HOME], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)

    def _ready(self) -> subprocess.Popen | None:
        """The running child, started again after a SIGBUS; None once killed or unstartable."""
        with self._lock:
            if self.killed:
                return None
            if self.proc is not None and self.proc.poll() is not None:
                if self.proc.returncode != -signal.SIGBUS:
                    self.killed = True  # Ctrl-C reaches the workers too: not started again
                    return None
                self.proc = None
            if self.proc is None:
                try:
                    self.proc = self._start()
                except OSError:
                    self.killed = True
                    return None
            return self.proc

    def hash(self, path: str | os.PathLike, size: int) -> str | None:
        """The blob's hex digest, ``size-changed`` or ``error:<why>`` (the file cannot be read);
        None when this worker cannot answer (it died, was killed, lacked memory, or the path
        cannot be sent): the caller then hashes the blob itself."""
        raw = os.fsencode(path)
        proc = self._ready()
        if proc is None or b"\n" in raw:
            return None
        try:
            proc.stdin.write(b"%d\t%s\n" % (size, raw))
            proc.stdin.flush()
            answer = proc.stdout.readline().decode()
        except OSError:
            answer = ""
        if not answer:
            proc.wait()
            return None
        answer = answer.rstrip("\n")
        return None if answer.startswith("retry:") else answer

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
            proc.stdout.close()

    def kill(self) -> None:
        """End the worker now (its blob unanswered); safe while another thread waits on it."""
        with self._lock:
            self.killed = True
            proc = self.proc
        if proc is not None:
            proc.kill()


class EarlyHashes:
    """Every large blob file under ``store``/objects/ hashed from now on by up to ``workers``
    workers, in path order; ``take`` gives a blob's answer (by digest), waiting for it. Made
    before the store is known to be a store: objects/ is listed by a thread, so nothing waits
    on a large listing, and the workers start with the first large blob (a folder with none
    starts none). Closing it kills the workers: what was not taken by then is not wanted."""

    POLL_S = 0.5  # how often a waiting take() looks whether any worker is left to answer

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
                    self._workers.append(HashWorker())  # before its feeder: close() kills it whatever happens
                    feeder = threading.Thread(target=self._feed, args=(self._workers[-1],), daemon=True)
                    feeder.start()
                    self._feeders.append(feeder)
        except (OSError, RuntimeError):  # a worker or its thread could not start:
            pass  # the running ones hash what is planned, the caller the rest
        finally:
            for _ in self._feeders:
                self._plan.put(None)
            self._listed.set()

    def _feed(self, worker: HashWorker) -> None:
        while not self._closing.is_set():
            item = self._plan.get()
            if item is None:
                return
            digest, size = item
            try:
                self._answers[digest] = worker.hash(self._objects.path(digest), size)
            finally:
                self._done[digest].set()
            if worker.killed:
                return

    def take(self, digest: str, size: int) -> str | None:
        """The worker's answer for the blob ``digest`` of ``size`` bytes (hex, ``size-changed``
        or ``error:<why>``), once hashed; None when it was not planned with that size, was
        skipped by ``close``, or no worker is left to hash it: the caller then hashes it itself."""
        if digest not in self._sizes:
            self._listed.wait()
        if self._sizes.get(digest) != size:
            return None
        done = self._done[digest]
        while not done.wait(self.POLL_S):
            if self._listed.is_set() and not any(f.is_alive() for f in self._feeders):
                return self._answers.get(digest)
        return self._answers.get(digest)

    def close(self) -> None:
        """Kill the workers and skip what they had not begun; take() answers None for it.
        Closing again does nothing more."""
        self._closing.set()
        self._lister.join()
        for worker in self._workers:
            worker.kill()
        for feeder in self._feeders:
            feeder.join()
        for done in self._done.values():
            done.set()
        for worker in self._workers:
            worker.close()
            worker.wait()

    def __enter__(self) -> EarlyHashes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
