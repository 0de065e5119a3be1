"""Streaming BLAKE3: one read pass, constant memory, page-aligned buffers.

Reading into a Python ``bytearray`` is slow on some machines (alignment), so the
buffer is an anonymous ``mmap`` (page-aligned) reused for the whole stream.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
from collections.abc import Callable
from typing import Self

from blake3 import blake3

from .. import errors
from .hashworker import cached

CHUNK = 1024 * 1024
PREFIX = "blake3:"


class AlignedBuffer:
    """A reusable page-aligned read buffer of ``size`` bytes."""

    def __init__(self, size: int = CHUNK) -> None:
        self._map = mmap.mmap(-1, size)
        self.view = memoryview(self._map)

    def close(self) -> None:
        """Unmap now, or leave it to the collector while a traceback still holds a view."""
        try:
            self.view.release()
            self._map.close()
        except BufferError:
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def new_hasher(threads: int = blake3.AUTO) -> blake3:
    """A BLAKE3 hasher (releases the GIL); by default it uses every core for large updates."""
    return blake3(max_threads=threads)


def hash_fd(fd: int, *, buffer: AlignedBuffer | None = None,
            sink: Callable[[memoryview], None] | None = None,
            extra: tuple[str, ...] = ()) -> tuple[str, int, dict[str, str]]:
    """Hash everything readable from ``fd`` from its current position.

    Each chunk read is also passed to ``sink`` (to copy while hashing). Returns
    ``(blake3 hex, bytes read, {name: hex} for each hashlib name in extra)``.
    """
    own = buffer is None
    buf = buffer or AlignedBuffer()
    hasher = new_hasher()
    others = {name: hashlib.new(name) for name in extra}
    total = 0
    try:
        while True:
            try:
                n = os.readv(fd, [buf.view])
            except OSError as exc:
                raise errors.SourceUnreadable(f"cannot read: {exc.strerror or exc}") from exc
            if n == 0:
                break
            with buf.view[:n] as chunk:
                hasher.update(chunk)
                for h in others.values():
                    h.update(chunk)
                if sink is not None:
                    sink(chunk)
            total += n
    finally:
        if own:
            buf.close()
    return hasher.hexdigest(), total, {k: h.hexdigest() for k, h in others.items()}


def hash_prefix(fd: int, end: int) -> str:
    """BLAKE3 hex of the first ``end`` bytes of the file behind ``fd`` (memory-mapped: every
    core hashes; the caller makes sure the file is at least that long and does not shrink)."""
    hasher = new_hasher()
    if end:
        with mmap.mmap(fd, end, prot=mmap.PROT_READ) as view:
            hasher.update(view)
    return hasher.hexdigest()


def hash_stream(stream, *, buffer: AlignedBuffer | None = None,
                sink: Callable[[memoryview], None] | None = None,
                extra: tuple[str, ...] = ()) -> tuple[str, int, dict[str, str]]:
    """``hash_fd`` for any readable: a real file goes through its descriptor, any other
    stream (an object store's response) is read ``CHUNK`` bytes at a time."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is not None:
        return hash_fd(fd, buffer=buffer, sink=sink, extra=extra)
    hasher = new_hasher()
    others = {name: hashlib.new(name) for name in extra}
    total = 0
    while True:
        data = stream.read(CHUNK)
        if not data:
            break
        view = memoryview(data)
        hasher.update(view)
        for h in others.values():
            h.update(view)
        if sink is not None:
            sink(view)
        total += len(data)
    return hasher.hexdigest(), total, {k: h.hexdigest() for k, h in others.items()}


def hash_file(path: str | bytes | os.PathLike, *, extra: tuple[str, ...] = (),
              keep_cache: bool | None = True) -> tuple[str, int]:
    """BLAKE3 hex digest and size of the file at ``path`` (streamed, never mmapped). Unless
    ``keep_cache``, its pages are dropped from the page cache once hashed; None: kept only
    when its first page was cached before (``cached``)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        if keep_cache is None:
            keep_cache = cached(fd, 0)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        digest, size, _ = hash_fd(fd, extra=extra)
        if not keep_cache:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return digest, size


def read_ahead(path: str | bytes | os.PathLike) -> bool:
    """Ask the kernel to read the whole file into the page cache in the background
    (``POSIX_FADV_WILLNEED``), so that hashing it later does not wait on the device; return
    whether its first page was cached already (its pages are then the working set's)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        was = cached(fd, 0)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    finally:
        os.close(fd)
    return was


def drop_read_ahead(path: str | bytes | os.PathLike, *, settle: bool = True) -> None:
    """Drop from the page cache what ``read_ahead`` brought in for a file not hashed after all.
    With ``settle`` the file is read through first (from the cache, mostly): a page still being
    read ahead is locked and not dropped, and would stay cached once it arrives. A file that
    cannot be read has nothing to drop."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError), AlignedBuffer() as buf:  # an unreadable page is not cached
            while settle and os.readv(fd, [buf.view]):
                pass
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def hash_bytes(data: bytes) -> str:
    """BLAKE3 hex digest of ``data``."""
    return blake3(data).hexdigest()
