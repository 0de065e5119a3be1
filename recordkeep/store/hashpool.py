"""Hash workers (store/hashworker.py) driven from this process.

A worker is a child process, so a blob that shrinks under its mmap (SIGBUS) kills only
the worker, which is then started again; one ended by ``kill()`` is not. Workers run in a
process group of their own: Ctrl-C at the terminal reaches only this process, which kills
them (a worker interrupted while it starts would print a traceback).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import blake3

WORKER = str(Path(__file__).with_name("hashworker.py"))
WORKERS = 2
MMAP_FROM_BYTES = 8 * 1024 * 1024  # smaller blobs are streamed by the caller, read ahead in batches

# the worker runs without site (-S: no .pth files, a faster start) and finds blake3 here
BLAKE3_HOME = str(Path(blake3.__file__).resolve().parent.parent)


class HashWorker:
    """Drives one hashworker child, started at once (it gets ready while the caller goes on);
    one thread uses it at a time. A child that died (SIGBUS: its blob shrank under the mmap;
    or killed for memory) is answered with None and started again on next use; one ended by
    ``kill()`` (an interrupt) is not: ``interrupted``."""

    def __init__(self) -> None:
        self.interrupted = False
        self.proc: subprocess.Popen | None = None
        self._starting = threading.Lock()  # a kill() never misses a child started again meanwhile
        with contextlib.suppress(OSError):  # else started on first use, or the caller hashes
            self.proc = self._start()

    @staticmethod
    def _start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-S", WORKER, BLAKE3_HOME], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, process_group=0)

    def _ready(self) -> subprocess.Popen | None:
        """The running child, started again after it died; None after ``kill()`` or when no
        process can be started."""
        with self._starting:
            if self.proc is not None and self.proc.poll() is not None:
                self.proc = None
            if self.interrupted:
                return None
            if self.proc is None:
                try:
                    self.proc = self._start()
                except OSError:  # out of processes or memory: the caller hashes the blob itself
                    return None
            return self.proc

    def hash(self, path: str | os.PathLike, size: int) -> str | None:
        """The blob's hex digest, ``size-changed`` or ``error:<why>`` (the file cannot be read);
        None when this worker cannot answer (it died, lacked memory, was interrupted, or the
        path cannot be sent): the caller then hashes the blob itself, unless ``interrupted``."""
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

    def kill(self) -> None:
        """End the worker now, its blob unanswered (an interrupt); it is not started again."""
        with self._starting:
            self.interrupted = True
            proc = self.proc
        if proc is not None:
            proc.kill()

    def end_input(self) -> None:
        """Tell the worker no request follows: it finishes its blob and ends (``close`` waits)."""
        if self.proc is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def close(self) -> None:
        """Let the worker finish its blob and end, and wait for it."""
        proc = self.proc
        if proc is not None:
            self.end_input()
            proc.wait()
            proc.stdout.close()


def close_all(workers: list[HashWorker]) -> None:
    """Close ``workers``, letting them all end at once (each one's exit takes a few ms)."""
    for worker in workers:
        worker.end_input()
    for worker in workers:
        worker.close()
