"""Copying a source into a new store file while hashing it, in one pass over the source.

The source's bytes are copied by the kernel (``sendfile``, across file systems too),
32 MiB at a time, and a second thread hashes each range of the *copy* as it lands in
the page cache: the digest is of the bytes in the store. Writing through ``os.write``
costs several times the kernel CPU of the kernel's own copy (docs/benchmarks.md has
the figures), which is why this path exists. Where the kernel cannot copy
from the source (``sendfile`` refuses it before the first byte), the bytes go
through a page-aligned buffer instead: read, hashed, written.

Either way, writeback of each range is started as soon as it is written, so the
final fsync has little left to do, and with ``reread`` a third thread re-reads every
range from the device once its writeback is complete (``RangeHasher`` with
``from_device``): the read-back check, overlapped with the copy. On the kernel's path a
range goes to the re-reader only after the copy's own hash has read it (``then``):
dropping pages that a reader holds at that instant leaves them cached, and the read-back
would then read them from memory, not from the device. Dropping is only advice, which the
kernel also declines for a page another holds for an instant or maps: the read-back asks the
kernel (mincore) whether any page of the range is still cached, drops it once more, and reads a
range that still is past the page cache (``O_DIRECT``).
"""

from __future__ import annotations

import errno
import functools
import os
import queue
import threading
from dataclasses import dataclass

from .. import errors
from .hashing import AlignedBuffer, hash_fd, new_hasher
from .hashworker import cached_within

RANGE = 32 * 1024 * 1024
# A range re-read from the device (but the last, which ends at the end of the file) ends on
# a multiple of this: dropping pages skips a page or a folio not wholly inside the range,
# which would then be read from memory. 2 MiB is the largest folio of the page cache on
# x86-64 with 4 KiB pages.
_DEVICE_ALIGN = 2 * 1024 * 1024
# offsets and lengths of a read past the page cache (O_DIRECT) are multiples of the device's
# logical block, at most a page on the devices a store lives on
_DIRECT_ALIGN = 4096
# a read past the cache refused so (another alignment asked, or none offered: 524 is the kernel's
# ENOTSUPP, which some network and FUSE file systems let through) is made through the cache
_NO_DIRECT_READ = frozenset({errno.EINVAL, errno.EOPNOTSUPP, 524})
# sendfile refuses such a source before copying anything: use the buffered loop
_NO_KERNEL_COPY = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ESPIPE, errno.EBADF})
# errors that can only be the store's side of a copy
_STORE_SIDE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


@dataclass(frozen=True)
class Copied:
    """The copy's digest and size, and ``(digest, size)`` as re-read from the device."""

    digest: str
    size: int
    reread: tuple[str, int] | None


def copy_and_hash(src_fd: int, out_fd: int, out_path: str | os.PathLike, *,
                  buffer: AlignedBuffer | None = None, reread: bool = False) -> Copied:
    """Copy everything readable from ``src_fd`` (from its position) to ``out_fd`` (a new,
    empty file at ``out_path``, open read-write), hash it, fsync it; with ``reread``,
    also hash it again as read back from the device. Raises OSError."""
    rereader = RangeHasher(out_path, from_device=out_fd) if reread else None
    try:
        copied = _kernel_copy(src_fd, out_fd, out_path, rereader)
        if copied is None:
            writer = _Writer(out_fd, rereader)
            digest, size, _ = hash_fd(src_fd, buffer=buffer, sink=writer.write)
        else:
            digest, size = copied
        os.fsync(out_fd)
        again = rereader.finish(size) if rereader else None
    finally:
        if rereader:
            rereader.close()
    return Copied(digest, size, again)


def _kernel_copy(src_fd: int, out_fd: int, out_path: str | os.PathLike,
                 rereader: RangeHasher | None) -> tuple[str, int] | None:
    """Copy with ``sendfile`` and hash the copy; None when the kernel cannot copy this source."""
    hasher = RangeHasher(out_path, then=rereader)
    try:
        size = 0
        while True:
            try:
                n = os.sendfile(out_fd, src_fd, None, RANGE)
            except OSError as exc:
                if size == 0 and exc.errno in _NO_KERNEL_COPY:
                    return None
                if exc.errno not in _STORE_SIDE and not _readable(src_fd):
                    raise errors.SourceUnreadable(f"cannot read: {exc.strerror or exc}") from exc
                raise
            if n == 0:
                break
            hasher.submit(size + n)
            _sync_range(out_fd, size, n, _SYNC_FILE_RANGE_WRITE)
            size += n
        return hasher.finish(size)
    finally:
        hasher.close()


def _readable(fd: int) -> bool:
    """Whether the source still reads at its position (which side a copy error came from)."""
    try:
        os.pread(fd, 1, os.lseek(fd, 0, os.SEEK_CUR))
    except OSError:
        return False
    return True


class _Writer:
    """Writes chunks fully; every RANGE bytes starts that range's writeback (and hands what
    is written so far to the re-reader, if there is one)."""

    def __init__(self, fd: int, rereader: RangeHasher | None = None) -> None:
        self.fd = fd
        self.rereader = rereader
        self.written = 0
        self.kicked = 0

    def write(self, chunk: memoryview) -> None:
        while chunk:
            n = os.write(self.fd, chunk)
            self.written += n
            chunk = chunk[n:]
        if self.written - self.kicked >= RANGE:
            _sync_range(self.fd, self.kicked, self.written - self.kicked, _SYNC_FILE_RANGE_WRITE)
            if self.rereader:
                self.rereader.submit(self.written)
            self.kicked = self.written


class RangeHasher:
    """Hashes a file that is being written, range by range, in its own thread.

    Ranges are submitted by their ends, in order; ``finish(size)`` submits the rest and
    returns ``(digest, bytes hashed)``. Each range hashed is then submitted to ``then``,
    if given. One thread at a time submits (``then``'s submitter is this one's thread), and
    ``finish`` comes once it has stopped. With ``from_device`` (the writer's descriptor),
    each range is first waited for until its writeback has reached the device
    (``sync_file_range`` WAIT_BEFORE|WRITE|WAIT_AFTER) and its now clean pages are
    dropped from the cache (``POSIX_FADV_DONTNEED``), so the bytes come from the device:
    the read-back check. A range of which mincore says a page is still cached after a second
    drop is read with ``O_DIRECT`` (where the file system has it; else through the cache,
    the best left). Such ranges end on a multiple of ``_DEVICE_ALIGN`` (the rest
    waits for the next range or ``finish``, whose range drops to the end of the file).
    Reading and hashing release the GIL, so this runs beside the copy rather than after
    it. A read error is raised by ``finish``.
    """

    def __init__(self, path: str | os.PathLike, *, from_device: int | None = None,
                 then: RangeHasher | None = None) -> None:
        self.write_fd = from_device
        self.then = then
        self.path = path
        self.read_fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.direct_fd: int | None = None  # reads past the page cache, opened when first needed
        self.no_direct = False
        self.hasher = new_hasher(threads=1)
        self.total = 0
        self.submitted = 0
        self.failure: OSError | None = None
        self.cancelled = False
        self.ranges: queue.SimpleQueue[tuple[int, int, bool] | None] = queue.SimpleQueue()
        name = "read-back" if from_device is not None else "copy-hasher"
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def submit(self, end: int) -> None:
        """Queue the bytes from the end of those queued before up to ``end`` (from the
        device, up to the last multiple of ``_DEVICE_ALIGN`` in it)."""
        if self.write_fd is not None:
            end -= end % _DEVICE_ALIGN
        if end > self.submitted:
            self._queue(end, last=False)

    def finish(self, size: int) -> tuple[str, int]:
        """Hash what is left up to ``size``, wait for the thread, return its result.
        Raises OSError if the thread failed or did not hash exactly ``size`` bytes."""
        if size > self.submitted:
            self._queue(size, last=True)
        self.ranges.put(None)
        self.thread.join()
        if self.failure is not None:
            raise self.failure
        if self.total != size:
            raise OSError(errno.EIO, f"hashed {self.total} of the copy's {size} bytes")
        return self.hasher.hexdigest(), self.total

    def close(self) -> None:
        """Stop the thread (ranges still queued are skipped) and close the read handle."""
        if self.thread.is_alive():
            self.cancelled = True
            self.ranges.put(None)
            self.thread.join()
        os.close(self.read_fd)
        if self.direct_fd is not None:
            os.close(self.direct_fd)

    def _queue(self, end: int, *, last: bool) -> None:
        self.ranges.put((self.submitted, end, last))
        self.submitted = end

    def _run(self) -> None:
        try:
            with AlignedBuffer() as buffer:
                while (item := self.ranges.get()) is not None:
                    if not self.cancelled:
                        start, end, last = item
                        self._hash(start, end, last, buffer)
                        if self.then is not None:
                            self.then.submit(end)
        except OSError as exc:  # the thread ends here; finish() raises it
            self.failure = exc
        except BaseException as exc:  # never a digest of part of the copy
            self.failure = OSError(errno.EIO, f"hashing the copy failed: {exc!r}")

    def _hash(self, start: int, end: int, last: bool, buffer: AlignedBuffer) -> None:
        fd, align = self.read_fd, 1
        if self.write_fd is not None:
            _sync_range(self.write_fd, start, end - start, _SYNC_FILE_RANGE_WAIT_ALL)
            if not self._dropped(start, end, last) and (direct := self._direct()) is not None:
                fd, align = direct, _DIRECT_ALIGN
        offset = start
        while offset < end:
            if offset % align:  # a short read past the cache: the rest as the cache has it
                fd, align = self.read_fd, 1
            want = min(len(buffer.view), -(-(end - offset) // align) * align)
            try:
                n = min(os.preadv(fd, [buffer.view[:want]], offset), end - offset)
            except OSError as exc:
                if fd == self.read_fd or exc.errno not in _NO_DIRECT_READ:
                    raise
                self.no_direct = True  # nor for the ranges after this one
                fd, align = self.read_fd, 1
                continue
            if n == 0:
                raise OSError(errno.EIO, f"the copy ended at {offset} bytes while hashing it")
            with buffer.view[:n] as chunk:
                self.hasher.update(chunk)
            offset += n
            self.total += n

    def _dropped(self, start: int, end: int, last: bool) -> bool:
        """Drop the range's pages from the cache, twice if the kernel kept one the first time;
        whether none is left, as far as mincore can tell (True where it cannot)."""
        for _attempt in range(2):
            # the last range: a length of 0 reaches the end of the file
            os.posix_fadvise(self.read_fd, start, 0 if last else end - start, os.POSIX_FADV_DONTNEED)
            if not cached_within(self.read_fd, start, end):
                return True
        return False

    def _direct(self) -> int | None:
        """A descriptor that reads past the page cache (``O_DIRECT``), opened on first use;
        None where the file system has none, or refused such a read once."""
        if self.direct_fd is None and not self.no_direct:
            try:
                self.direct_fd = os.open(self.path, os.O_RDONLY | os.O_DIRECT | os.O_CLOEXEC)
            except OSError:
                self.no_direct = True
        return None if self.no_direct else self.direct_fd


@functools.cache
def _sync_file_range():
    """libc's ``sync_file_range`` (None where it has none), loaded through ctypes on first use."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    return fn


_SYNC_FILE_RANGE_WRITE = 2
_SYNC_FILE_RANGE_WAIT_AFTER = 4
_SYNC_FILE_RANGE_WAIT_ALL = 1 | 2 | 4  # WAIT_BEFORE | WRITE | WAIT_AFTER


def _sync_range(fd: int, offset: int, length: int, flags: int) -> None:
    """``sync_file_range`` where libc has it (else ``fdatasync`` when asked to wait).

    Starting writeback is a hint and never fails; a wait that fails raises OSError.
    """
    waits = flags & _SYNC_FILE_RANGE_WAIT_AFTER
    sync_file_range = _sync_file_range()
    if sync_file_range is None:
        if waits:
            os.fdatasync(fd)
        return
    if sync_file_range(fd, offset, length, flags) != 0 and waits:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
