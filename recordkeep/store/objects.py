"""Content-addressed blob store: ``objects/blake3/ab/cd/<64 hex>``, written once.

A blob is copied into ``tmp/`` while it is hashed (one read pass), fsynced, made
read-only and hard-linked into place (``link`` never overwrites, so two writers of
the same bytes are harmless), then its directory is fsynced. Nothing here ever
rewrites a stored blob; only ``dispose`` (called by retention after the disposal
is journaled) removes one.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from ..i18n import N_
from .copying import copy_and_hash
from .fs import fsync_dir, os_error, temp_name
from .hashing import AlignedBuffer, drop_read_ahead, hash_fd, hash_file, read_ahead

HEX64 = re.compile(r"[0-9a-f]{64}")
OBJECTS = "objects"
ALGO = "blake3"
TMP = "tmp"


@dataclass(frozen=True)
class PutResult:
    """What storing one stream did: its digest and size, and whether the blob is new.

    ``reread`` is ``(digest, size)`` of the new blob as read back from the storage
    device while it was written (``put_fd(..., reread=True)``), else None.
    """

    digest: str
    size: int
    new_blob: bool
    reread: tuple[str, int] | None = None


@dataclass(frozen=True)
class StoredFile:
    """A file found under objects/: its relative path and the digest it names, if valid."""

    relpath: str
    digest: str | None
    size: int




class Objects(Protocol):
    """The blob store's interface: what every backend offers and all that feature modules use.

    ``LocalObjects`` keeps blobs as files under the store; ``objects_s3.S3Objects`` as
    objects in a bucket. Digests are bare lowercase hex.
    """

    def relpath(self, digest: str) -> str:
        """``objects/blake3/ab/cd/<hex>``: the blob's name inside the store, in every backend."""

    def location(self, digest: str) -> str:
        """Where the blob is, for messages (a file path or an ``s3://`` URL)."""

    def size(self, digest: str) -> int | None:
        """The stored blob's size, or None when it is absent."""

    def sizes(self, digests: Iterable[str]) -> dict[str, int | OSError | None]:
        """Sizes of many blobs at once: None when absent, an OSError when unreadable."""

    def exists(self, digest: str) -> bool: ...

    def put_fd(self, src_fd: int, *, buffer: AlignedBuffer | None = None, reread: bool = False,
               accept: Callable[[str, int], None] | None = None) -> PutResult:
        """Store everything readable from ``src_fd``, hashing it during that one read.

        With ``reread``, a backend that can re-read a new blob from its device while
        writing it does so and fills ``PutResult.reread``; others leave it None. ``accept``
        (digest, size) is called once the bytes are read and before they are placed: what it
        raises leaves nothing in the store (a source that changed while read, say).
        """

    def open(self, digest: str) -> AbstractContextManager[BinaryIO]:
        """A stream of the stored bytes (``read(n)``; a real file where there is one)."""

    def local_file(self, digest: str) -> AbstractContextManager[Path]:
        """A local file holding the blob's bytes while the context lasts (for media probes)."""

    def readback(self, digest: str) -> tuple[str, int]:
        """Re-read the stored blob from the storage medium itself and hash it (import's check)."""

    def hash_stored(self, digest: str) -> tuple[str, int]:
        """Hash the stored blob by streaming it (verify's fallback); pages it brought into the
        page cache are dropped afterwards, those cached before stay."""

    def read_ahead(self, digest: str) -> None:
        """Hint that the blob will be hashed soon: a backend that can, starts reading it in the
        background (verify calls it for the blobs after the one in hand)."""

    def forget_ahead(self, digest: str, *, settle: bool = True) -> None:
        """The blob read ahead will not be hashed after all (the run stopped): what reading it
        ahead brought into the page cache is dropped again, once the reads still in flight
        have landed (``settle``); at once on an interrupt (what lands later then stays)."""

    def mmap_path(self, digest: str) -> Path | None:
        """A local file that may be memory-mapped for hashing, when blobs are local files."""

    def iterate(self) -> Iterator[StoredFile]:
        """Everything stored under objects/, valid digest name or not, in sorted order."""

    def dispose(self, digest: str) -> bool:
        """Remove a blob whose disposal is journaled; False when it was already gone."""

    @property
    def object_lock(self) -> bool:
        """Whether the storage itself keeps blobs from removal until a date (Object Lock)."""

    def locked_until(self, digest: str) -> datetime | None:
        """The date before which the storage itself refuses to remove the blob (Object Lock),
        when that date is still ahead; None when nothing but recordkeep keeps it."""

    def extend_lock(self, digest: str, until: datetime) -> datetime | None:
        """Keep every stored version of the blob from removal until at least ``until`` (a lock
        is only ever lengthened). ``until`` when a lock was lengthened; None when nothing
        changed: locked that long already, or no Object Lock (a local store)."""

    def close(self) -> None: ...


class LocalObjects:
    """Blobs on the local file system under ``root``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.objects = self.root / OBJECTS / ALGO
        self.tmp = self.root / TMP
        self._ahead: dict[str, bool] = {}  # blobs read ahead: whether they were cached before

    def path(self, digest: str) -> Path:
        """Where the blob with this hex digest lives (whether or not it exists)."""
        return self.objects / digest[:2] / digest[2:4] / digest

    def size(self, digest: str) -> int | None:
        """The stored blob's size, or None when it is absent."""
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def relpath(self, digest: str) -> str:
        return f"{OBJECTS}/{ALGO}/{digest[:2]}/{digest[2:4]}/{digest}"

    def location(self, digest: str) -> str:
        return str(self.path(digest))

    def sizes(self, digests: Iterable[str]) -> dict[str, int | OSError | None]:
        found: dict[str, int | OSError | None] = {}
        for digest in digests:
            try:
                found[digest] = self.path(digest).stat().st_size
            except FileNotFoundError:
                found[digest] = None
            except OSError as exc:
                found[digest] = exc
        return found

    @contextmanager
    def open(self, digest: str) -> Iterator[BinaryIO]:
        with open(self.path(digest), "rb", buffering=0) as f:
            yield f

    @contextmanager
    def local_file(self, digest: str) -> Iterator[Path]:
        yield self.path(digest)

    def readback(self, digest: str) -> tuple[str, int]:
        return rehash_from_disk(self.path(digest))

    def hash_stored(self, digest: str) -> tuple[str, int]:
        return hash_file(self.path(digest), keep_cache=self._ahead.pop(digest, None))

    def read_ahead(self, digest: str) -> None:
        with contextlib.suppress(OSError):  # hashing it will say what is wrong
            self._ahead[digest] = read_ahead(self.path(digest))  # cached before: keep its pages

    def forget_ahead(self, digest: str, *, settle: bool = True) -> None:
        if self._ahead.pop(digest, True) is False:
            drop_read_ahead(self.path(digest), settle=settle)

    def mmap_path(self, digest: str) -> Path | None:
        return self.path(digest)

    def close(self) -> None:
        pass

    object_lock = False  # a file system has no retention lock: retention.py alone decides

    def locked_until(self, digest: str) -> datetime | None:
        return None

    def extend_lock(self, digest: str, until: datetime) -> datetime | None:
        return None

    def dispose(self, digest: str) -> bool:
        """Remove the blob of a record whose disposal is already journaled: the only
        code path that ever removes a blob (``retention.dispose`` calls it). True when
        a file was removed, False when it was already gone."""
        if not HEX64.fullmatch(digest):
            raise ValueError(f"not a hex digest: {digest!r}")
        path = self.path(digest)
        try:
            os.unlink(path)
            fsync_dir(path.parent)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise os_error(exc, N_("disposing of a blob"), path) from exc
        return True

    def put_fd(self, src_fd: int, *, buffer: AlignedBuffer | None = None, reread: bool = False,
               accept: Callable[[str, int], None] | None = None) -> PutResult:
        """Copy everything readable from ``src_fd`` into the store, hashing the copy as it
        goes (``copying.copy_and_hash``: one pass over the source, constant memory); ``accept``
        may refuse the bytes before they are placed (nothing is left in objects/ then).

        With ``reread``, each written range is read back from the device (its writeback
        waited for, its cached pages dropped) and hashed again while later ranges are
        copied; a new blob's ``PutResult.reread`` holds that result.
        """
        tmp_path = self.tmp / temp_name(".part")
        try:
            out = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise os_error(exc, N_("creating a temporary file"), tmp_path) from exc
        try:
            try:
                copied = copy_and_hash(src_fd, out, tmp_path, buffer=buffer, reread=reread)
                os.fchmod(out, 0o444)
            except OSError as exc:
                raise os_error(exc, N_("writing a blob"), tmp_path) from exc
            finally:
                os.close(out)
            if accept is not None:
                accept(copied.digest, copied.size)
            put = self._place(tmp_path, copied.digest, copied.size)
            return replace(put, reread=copied.reread) if put.new_blob else put
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_path)

    def _place(self, tmp_path: Path, digest: str, size: int) -> PutResult:
        final = self.path(digest)
        try:
            if final.exists():
                return PutResult(digest, size, False)
            self._make_parents(final.parent)
            try:
                os.link(tmp_path, final)
            except FileExistsError:
                return PutResult(digest, size, False)
            fsync_dir(final.parent)
        except OSError as exc:
            raise os_error(exc, N_("placing a blob"), final) from exc
        return PutResult(digest, size, True)

    def _make_parents(self, directory: Path) -> None:
        missing = []
        probe = directory
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        for d in reversed(missing):
            with contextlib.suppress(FileExistsError):
                d.mkdir()
            fsync_dir(d.parent)

    def iterate(self) -> Iterator[StoredFile]:
        """Every file under objects/, valid digest path or not, in sorted order."""
        base = self.root / OBJECTS
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, self.root)
                try:
                    size = os.lstat(full).st_size
                except OSError:
                    size = -1
                yield StoredFile(rel, _digest_of(rel, full), size)


def _digest_of(rel: str, full: str) -> str | None:
    parts = rel.split(os.sep)
    if (len(parts) == 5 and parts[:2] == [OBJECTS, ALGO] and HEX64.fullmatch(parts[4])
            and parts[2] == parts[4][:2] and parts[3] == parts[4][2:4]
            and os.path.isfile(full) and not os.path.islink(full)):
        return parts[4]
    return None



def rehash_from_disk(path: str | os.PathLike) -> tuple[str, int]:
    """Re-read a stored blob from the disk, not the page cache, and hash it.

    The blob's clean cached pages are dropped first (``POSIX_FADV_DONTNEED``), so
    the bytes come from the device: a read-back check of what was written.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        digest, size, _ = hash_fd(fd)
    finally:
        os.close(fd)
    return digest, size
