"""A child process that hashes blobs through mmap, so a SIGBUS can only kill it.

Run by path without site (``python -S hashworker.py BLAKE3_HOME``) so it starts fast
and imports nothing but blake3, from the folder given.
Protocol, one request at a time: the parent writes ``SIZE<TAB>PATH\\n``; the
worker answers ``<hex>\\n``, ``size-changed\\n`` or ``error:<text>\\n``.

A blob is hashed in windows of ``WINDOW`` bytes, every core on each (BLAKE3's threads),
read at the device's rate: the kernel is told the file is read sequentially, and to read
``AHEAD`` windows ahead (``POSIX_FADV_WILLNEED``) while one is hashed. A window whose pages
were not cached before is dropped from the cache once hashed (``MADV_DONTNEED``, then
``POSIX_FADV_DONTNEED``), by a thread of its own so that hashing never waits on the freeing:
an audit of terabytes does not evict the working set, and pages that were cached (the
working set) stay. Measured in docs/benchmarks.md (issue 20).
"""

import mmap
import os
import queue
import signal
import sys
import threading

if len(sys.argv) > 1:
    sys.path.append(sys.argv[1])

from blake3 import blake3

WINDOW = 64 * 1024 * 1024  # a multiple of the page size
AHEAD = 4  # windows asked of the device ahead of the one hashed

_drops: queue.Queue = queue.Queue()


def _dropper() -> None:
    """Drop the windows queued (mapping, fd, start, length) from this process and the cache."""
    while True:
        m, fd, start, length = _drops.get()
        try:
            m.madvise(mmap.MADV_DONTNEED, start, length)
            os.posix_fadvise(fd, start, length, os.POSIX_FADV_DONTNEED)
        finally:
            _drops.task_done()


def cached(fd: int, offset: int) -> bool:
    """Whether the page at ``offset`` is in the page cache: a one-byte read that may not wait
    for the device (``RWF_NOWAIT``) succeeds only then. True when the kernel cannot tell."""
    try:
        return os.preadv(fd, [bytearray(1)], offset, os.RWF_NOWAIT) == 1
    except BlockingIOError:
        return False
    except OSError:
        return True


def _ask(fd: int, start: int, size: int, marks: dict[int, bool]) -> None:
    """Note whether the window at ``start`` is cached, then ask the device for it."""
    if start < size:
        marks[start] = cached(fd, start)
        os.posix_fadvise(fd, start, WINDOW, os.POSIX_FADV_WILLNEED)


def _hash(path: str, size: int) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != size:
            return "size-changed"
        if size == 0:
            return blake3().hexdigest()
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        hasher = blake3(max_threads=blake3.AUTO)
        with mmap.mmap(fd, size, prot=mmap.PROT_READ) as m, memoryview(m) as view:
            marks: dict[int, bool] = {}
            for k in range(AHEAD):
                _ask(fd, k * WINDOW, size, marks)
            try:
                for start in range(0, size, WINDOW):
                    end = min(start + WINDOW, size)
                    was_cached = marks.pop(start)
                    _ask(fd, start + AHEAD * WINDOW, size, marks)
                    hasher.update(view[start:end])
                    if not was_cached:
                        _drops.put((m, fd, start, end - start))
            finally:
                _drops.join()  # before the mapping and the descriptor close
        return hasher.hexdigest()
    finally:
        os.close(fd)


def serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the blob in hand at once, quietly
    threading.Thread(target=_dropper, daemon=True).start()
    for line in sys.stdin:
        size, path = line.rstrip("\n").split("\t", 1)
        try:
            answer = _hash(path, int(size))
        except OSError as exc:
            answer = f"error:{exc.strerror}"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
