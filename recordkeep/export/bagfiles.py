"""Reading a bag's files without trusting the bag: regular files only, never through a symlink,
never waiting on a FIFO, tag files capped (``read_tag``); each tag file read once (``Tags``); a
listing that says when the checker may not read a folder (``listing``); what a file manager
leaves beside a bag's files (``left_by_a_desktop``)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .. import errors
from ..i18n import N_, _
from ..store import fs
from ..store.fs import os_error
from .bagreport import BagReport, from_bag

TAG_LIMIT = 1 << 30  # the largest tag file read whole


def open_regular(path: Path) -> int:
    """A descriptor of the bag's file ``path``: a regular file, not reached through a symlink,
    opened so that a FIFO never makes the check wait. OSError otherwise (errno 0: no regular file)."""
    return fs.open_regular(path, follow=False)


def read_tag(path: Path, limit: int = TAG_LIMIT,
             too_large: str = N_("larger than a tag file can be")) -> bytes:
    """The bytes of a bag's tag file (or another small file of what is checked), as
    ``open_regular`` takes it, of at most ``limit`` bytes. OSError otherwise (``too_large`` says
    why when it is larger)."""
    return fs.read_regular(path, limit, too_large, follow=False)


READING_THE_BAG = N_("reading the bag (check it as a user who may read every file of it)")


def unreadable(exc: OSError, path: Path, doing: str = READING_THE_BAG) -> None:
    """Raise, as the error it is, what forbids the checker to read a file of the bag (or of what
    ``doing`` names): the check cannot be made (exit 1), which says nothing against it."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        raise os_error(exc, doing, path) from exc


class Tags:
    """The bag's tag files, each read once: its bytes; None when there is none, or (a problem,
    said once) when it is no regular file that can be read (a FIFO, a symlink, a device)."""

    def __init__(self, bag: Path, report: BagReport) -> None:
        self.bag, self.report = bag, report
        self._read: dict[str, bytes | None] = {}

    def __call__(self, name: str) -> bytes | None:
        if name not in self._read:
            self._read[name] = self._first_read(name)
        return self._read[name]

    def _first_read(self, name: str) -> bytes | None:
        path = self.bag / name
        if not os.path.lexists(path):
            return None
        try:
            return read_tag(path)
        except OSError as exc:
            unreadable(exc, path)
            self.report.problems.append((errors.BagInvalid.code, _(
                "{file} cannot be read as a file of the bag: {why}").format(
                    file=from_bag(name), why=from_bag(exc.strerror or exc))))
            return None


def left_by_a_desktop(name: str) -> bool:
    """Whether ``name`` is what a file manager leaves in a folder it shows (macOS, Windows)."""
    parts = name.split("/")
    return "__MACOSX" in parts or parts[-1] in (".DS_Store", "Thumbs.db", "desktop.ini") \
        or parts[-1].startswith("._")


def listing(bag: Path, top: str, *, skip: str = "", doing: str = READING_THE_BAG) -> list[str]:
    """Every entry under ``bag``/``top`` that is no folder (a symlink to one included; none
    followed), as a manifest names it, sorted; the top-level folder ``skip`` left out. A folder
    the checker may not read raises (``unreadable``, saying ``doing``): no verdict is given on what
    it cannot see."""
    def refuse(exc: OSError) -> None:
        unreadable(exc, Path(exc.filename or bag), doing)

    found = []
    for folder, folders, files in os.walk(bag / top, onerror=refuse):
        here = Path(folder)
        if here == bag and skip in folders:
            folders.remove(skip)
        found += [(here / name).relative_to(bag).as_posix() for name in files]
        found += [(here / name).relative_to(bag).as_posix() for name in folders if (here / name).is_symlink()]
    return sorted(found)
