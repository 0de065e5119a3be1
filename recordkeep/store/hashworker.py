"""A child process that hashes large blobs, so a SIGBUS under mmap can only kill it.

Run by path without site (``python -S hashworker.py BLAKE3_HOME``) so it starts fast
and imports nothing but blake3, from the folder given. store/hashing.py and store/copying.py
import ``cached`` and ``cached_within`` from here.
Protocol, one request at a time: the parent writes ``SIZE<TAB>PATH\\n`` (the path's bytes);
the worker answers ``<hex>\\n``, ``size-changed\\n``, ``error:<text>\\n`` (the blob cannot be
read) or ``retry:<text>\\n`` (this process is short of memory, descriptors or threads).

A blob is taken in windows of ``WINDOW`` bytes, every core hashing each (BLAKE3's threads).
Which windows are in the page cache is noted first (``cached``: mincore of each window's first
page, which reads nothing), before anything is read:
- runs of cached windows (the working set's pages) are hashed in place through mmap, in one
  update per run, no copy, and stay cached;
- the other windows are read from the device with ``preadv`` into two page-aligned buffers,
  the next window read by a thread while this one is hashed, the file marked sequential so
  the kernel reads ahead in large requests; each window's pages are dropped from the cache as
  soon as they are copied out (``POSIX_FADV_DONTNEED``), and once more when the blob is done
  (what the kernel read ahead while a window was dropped): an audit of
  terabytes does not evict the working set and leaves nothing of its own behind.
Measured in docs/benchmarks.md (issue 20): copying out of the cache and dropping at once beat
both mapping the uncached windows (dropping them after) and ``O_DIRECT`` reads on this kind of
machine.
"""

import errno
import functools
import mmap
import os
import sys
import threading

if __name__ == "__main__" and len(sys.argv) > 1:  # run as the worker: blake3 is found there
    sys.path.append(sys.argv[1])

from blake3 import blake3

WINDOW = 64 * 1024 * 1024  # a multiple of the page size
# errors that say this process is short of something, not that the blob cannot be read:
# answered ``retry:<why>``, and the caller hashes the blob itself
SHORT_OF = {errno.ENOMEM, errno.EMFILE, errno.ENFILE, errno.EAGAIN}


class SizeChanged(Exception):
    """The file ended before the size it was asked for."""


_RESIDENT_BIT = bytes(b & 1 for b in range(256))  # mincore's flag of a cached page


class _Mincore:
    """mincore(2) on a mapping of a range of a file, through ctypes (imported on first use);
    safe to call from several threads (verify hashes small blobs in two)."""

    def __init__(self) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
        self.libc, self.failed, self.buffer = libc, ctypes.c_void_p(-1).value, ctypes.create_string_buffer

    def resident(self, fd: int, start: int, end: int) -> bool | None:
        """Whether any page holding a byte of ``start``..``end`` is cached; None when the
        kernel cannot say. Mapping the pages reads none."""
        start -= start % mmap.PAGESIZE
        length = max(end - start, 1)
        pages = -(-length // mmap.PAGESIZE)
        addr = self.libc.mmap(None, length, mmap.PROT_READ, mmap.MAP_SHARED, fd, start)
        if addr is None or addr == self.failed:
            return None
        vec = self.buffer(pages)
        try:
            if self.libc.mincore(addr, length, vec) != 0:
                return None
            return 1 in vec.raw[:pages].translate(_RESIDENT_BIT)  # the other bits are reserved
        finally:
            self.libc.munmap(addr, length)


@functools.cache
def _mincore() -> _Mincore:
    return _Mincore()


def cached_within(fd: int, start: int, end: int) -> bool | None:
    """Whether any page of ``start``..``end`` is in the page cache, asked of mincore(2), which
    reads nothing; None when it cannot say truly (not this user's file, nor root, or no libc)."""
    if os.geteuid() not in (0, os.fstat(fd).st_uid):
        return None
    try:
        return _mincore().resident(fd, start, end)
    except (OSError, AttributeError):  # no libc to ask
        return None


def cached(fd: int, offset: int) -> bool:
    """Whether the page at ``offset`` is in the page cache. Asked of mincore(2), which reads
    nothing, where the kernel answers it truly: a file this user owns, or root (for another's
    file it says every page is cached). Else a one-byte read that may not wait for the device
    (``RWF_NOWAIT``) succeeds only then; it starts the kernel's read-ahead, and a quick device
    may bring the page in before it looks. True when the kernel cannot tell."""
    found = cached_within(fd, offset, offset + 1)
    if found is not None:
        return found
    try:
        return os.preadv(fd, [bytearray(1)], offset, os.RWF_NOWAIT) == 1
    except BlockingIOError:
        return False
    except OSError:
        return True


def runs(marks: list[bool]) -> list[tuple[bool, int, int]]:
    """Consecutive windows of the same state: (cached, first window, end window)."""
    out: list[tuple[bool, int, int]] = []
    for k, mark in enumerate(marks):
        if out and out[-1][0] == mark:
            out[-1] = (mark, out[-1][1], k + 1)
        else:
            out.append((mark, k, k + 1))
    return out


class Reader:
    """Reads windows from the device into two aligned buffers, one ahead of the hasher, and
    drops each window's pages from the cache once read. Buffers are made on first use."""

    def __init__(self) -> None:
        self.buffers: list[mmap.mmap] = []
        self.thread: threading.Thread | None = None
        self.result: int | BaseException = 0

    def _read(self, fd: int, start: int, buffer: mmap.mmap) -> None:
        try:
            self.result = os.preadv(fd, [buffer], start)
            os.posix_fadvise(fd, start, len(buffer), os.POSIX_FADV_DONTNEED)
        except BaseException as exc:  # handed to the hashing thread by wait()
            self.result = exc

    def start(self, fd: int, start: int, slot: int) -> None:
        while len(self.buffers) <= slot:
            self.buffers.append(mmap.mmap(-1, WINDOW))
        thread = threading.Thread(target=self._read, args=(fd, start, self.buffers[slot]))
        thread.start()
        self.thread = thread

    def wait(self) -> int:
        """Bytes read by the read in flight (its error raised)."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        result, self.result = self.result, 0
        if isinstance(result, BaseException):
            raise result
        return result


def _hash_read(hasher: blake3, reader: Reader, fd: int, size: int, first: int, end: int) -> None:
    """Hash windows ``first``..``end`` read from the device, one read ahead of the hash."""
    reader.start(fd, first * WINDOW, 0)
    for k in range(first, end):
        got = reader.wait()
        want = min(WINDOW, size - k * WINDOW)
        if got < want:
            raise SizeChanged
        if k + 1 < end:
            reader.start(fd, (k + 1) * WINDOW, (k + 1 - first) % 2)
        with memoryview(reader.buffers[(k - first) % 2]) as view, view[:want] as chunk:
            hasher.update(chunk)


def _hash(path: str, size: int, reader: Reader) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != size:
            return "size-changed"
        if size == 0:
            return blake3().hexdigest()
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        marks = [cached(fd, start) for start in range(0, size, WINDOW)]
        hasher = blake3(max_threads=blake3.AUTO)
        try:
            m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        except ValueError:  # shorter than size since fstat
            return "size-changed"
        try:
            with m, memoryview(m) as view:
                for was_cached, first, end in runs(marks):
                    if was_cached:
                        with view[first * WINDOW:min(end * WINDOW, size)] as run:
                            hasher.update(run)
                    else:
                        _hash_read(hasher, reader, fd, size, first, end)
        except SizeChanged:
            return "size-changed"
        finally:
            # no read left in flight on a descriptor about to close; not contextlib.suppress:
            # importing contextlib costs every worker's start 5 ms of its 20
            try:  # noqa: SIM105
                reader.wait()
            except OSError:
                pass
            for was_cached, first, end in runs(marks):
                if not was_cached:  # what the kernel read ahead past a window as it was dropped
                    os.posix_fadvise(fd, first * WINDOW, (end - first) * WINDOW, os.POSIX_FADV_DONTNEED)
        return hasher.hexdigest()
    finally:
        os.close(fd)


def serve() -> None:
    reader = Reader()
    for line in sys.stdin.buffer:
        size, path = line.rstrip(b"\n").split(b"\t", 1)
        try:
            answer = _hash(os.fsdecode(path), int(size), reader)
        except (MemoryError, RuntimeError) as exc:  # no memory or thread for the buffers
            answer = f"retry:{exc}"
        except OSError as exc:
            answer = f"{'retry' if exc.errno in SHORT_OF else 'error'}:{exc.strerror}"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
