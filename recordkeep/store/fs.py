"""File-system helpers for the store: the one atomic write, directory fsync, errors.

Every file recordkeep writes whole (settings, set-aside journal tails, vault entries,
checkpoints) goes through ``atomic_write``: a temporary file on the same file system,
fsync, rename over the target, fsync of the directory. A crash leaves the old file or
the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import time
from pathlib import Path

from .. import errors
from ..i18n import N_, _

GIVEN_LIMIT = 16 << 20  # a checkpoint, a token or a certificate given to check is far smaller


def open_regular(path: str | os.PathLike, *, follow: bool = True) -> int:
    """A descriptor of ``path``: a regular file, opened so that a FIFO never makes the reader
    wait; not reached through a symlink unless ``follow``. OSError otherwise (errno 0: not a
    regular file)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(0, _("not a regular file"))
    return fd


def read_regular(path: str | os.PathLike, limit: int, too_large: str = N_("larger than such a file can be"),
                 *, follow: bool = True) -> bytes:
    """The bytes of the small file ``path``, as ``open_regular`` takes it, of at most ``limit``
    bytes. OSError otherwise (``too_large`` says why when it is larger)."""
    fd = open_regular(path, follow=follow)
    try:
        if os.fstat(fd).st_size > limit:
            raise OSError(0, _(too_large))
        chunks, left = [], limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 24))):
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise OSError(0, _(too_large))
        return b"".join(chunks)
    finally:
        os.close(fd)


def os_error(exc: OSError, what: str, path: str | bytes | os.PathLike | None) -> errors.RecordkeepError:
    """Map an OSError met while writing the store to a RecordkeepError."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return errors.StoreFull(_("no space left while {what}").format(what=_(what)), path=path)
    if exc.errno == errno.EROFS:
        return errors.ReadOnlyStore(_("read-only file system while {what}").format(what=_(what)), path=path)
    return errors.StoreIOError(_("{error} while {what}").format(error=exc.strerror or exc, what=_(what)),
                               path=path)


def fsync_dir(path: str | os.PathLike) -> None:
    """fsync a directory so a rename or link in it is durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(stem: str = "") -> str:
    """A temporary file's name that says which host and process wrote it
    (``<host>.<pid>.<random><stem>``), so a later writer can tell a leftover of a dead one."""
    return f"{os.uname().nodename}.{os.getpid()}.{os.urandom(6).hex()}{stem}"


def atomic_write(path: str | os.PathLike, data: bytes, *, tmp_dir: str | os.PathLike | None = None,
                 mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file in ``tmp_dir`` (the
    target's own folder by default; it must be on the same file system), fsync, rename,
    fsync of the target's folder. OSError is raised as the store's error."""
    target = Path(path)
    tmp = Path(tmp_dir or target.parent) / f".{temp_name('.tmp')}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise os_error(exc, N_("writing a file"), target) from exc


STALE_AFTER_SECONDS = 3600


def stale_temporaries(folder: Path, *, older_than: float = STALE_AFTER_SECONDS,
                      prefix: str = "") -> list[Path]:
    """Entries of ``folder`` named ``<prefix>`` + ``temp_name`` on this host whose writer is
    gone and which were last changed more than ``older_than`` seconds ago (a killed writer's)."""
    mine = re.compile(re.escape(prefix) + re.escape(os.uname().nodename) + r"\.(\d+)\.[0-9a-f]{12}")
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        m = mine.search(entry.name)
        if m is None or alive(int(m.group(1))):
            continue
        try:
            if time.time() - entry.stat(follow_symlinks=False).st_mtime > older_than:
                found.append(Path(entry.path))
        except OSError:
            continue
    return sorted(found)


def remove_stale(folder: Path, *, prefix: str = "") -> list[Path]:
    """Remove ``stale_temporaries(folder, prefix=prefix)`` (files or folders); return them."""
    removed = []
    for path in stale_temporaries(folder, prefix=prefix):
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lies_inside(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """Whether ``path`` (links resolved, as far as it exists) is ``root`` or lies under it."""
    resolved, root = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return resolved == root or root in resolved.parents
