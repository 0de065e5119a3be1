"""A child process that hashes blobs through mmap, so a SIGBUS can only kill it.

Run by path without site (``python -S hashworker.py BLAKE3_HOME``) so it starts fast
and imports nothing but blake3, from the folder given.
Protocol, one request at a time: the parent writes ``SIZE<TAB>PATH\\n``; the
worker answers ``<hex>\\n``, ``size-changed\\n`` or ``error:<text>\\n``.

A blob is hashed in windows of ``WINDOW`` bytes, every core on each (BLAKE3's threads),
read at the device's rate: the kernel is told the file is read sequentially, and to read
the next window ahead (``POSIX_FADV_WILLNEED``) while this one is hashed; a window whose
pages were not cached before is dropped from the cache once hashed (``MADV_DONTNEED`` then
``POSIX_FADV_DONTNEED``), so an audit of terabytes does not evict the working set, and
pages that were cached (the working set) stay.
"""

import mmap
import os
import signal
import sys

if len(sys.argv) > 1:
    sys.path.append(sys.argv[1])

from blake3 import blake3

WINDOW = 64 * 1024 * 1024  # a multiple of the page size


def cached(fd: int, offset: int) -> bool:
    """Whether the page at ``offset`` is in the page cache: a one-byte read that may not wait
    for the device (``RWF_NOWAIT``) succeeds only then. True when the kernel cannot tell."""
    try:
        return os.preadv(fd, [bytearray(1)], offset, os.RWF_NOWAIT) == 1
    except BlockingIOError:
        return False
    except OSError:
        return True


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
            next_cached = cached(fd, 0)
            os.posix_fadvise(fd, 0, WINDOW, os.POSIX_FADV_WILLNEED)
            for start in range(0, size, WINDOW):
                end = min(start + WINDOW, size)
                was_cached = next_cached
                if end < size:
                    next_cached = cached(fd, end)
                    os.posix_fadvise(fd, end, WINDOW, os.POSIX_FADV_WILLNEED)
                hasher.update(view[start:end])
                if not was_cached:
                    m.madvise(mmap.MADV_DONTNEED, start, end - start)
                    os.posix_fadvise(fd, start, end - start, os.POSIX_FADV_DONTNEED)
        return hasher.hexdigest()
    finally:
        os.close(fd)


def serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the blob in hand at once, quietly
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
