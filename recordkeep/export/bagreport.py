"""What checking a bag found (export/bagcheck.py checks the package and the store, and
export/proofs.py the checkpoint and proofs it carries)."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .. import errors
from ..i18n import N_, _
from ..store.fs import os_error


@dataclass
class BagReport:
    """What checking a bag found: problems and notices, each (code, what); whether its
    journal head is in the store's chain (None: no store compared); whether it holds its whole
    case or party as an export of its payload in the store's journal planned it (``complete``,
    None: not checked) and those exports (``exports``: seq, the seq planned through, scope, and
    whether the bag is whole as of that plan). ``strict``: a notice fails it too."""

    HEAD_CODE = errors.HeadNotFound.code

    lines: int = 0
    head_seq: int | None = None
    head_found: bool | None = None
    store_compared: bool = False
    checkpoint_size: int | None = None
    signer: str | None = None
    token: str = "none"
    token_time: str | None = None
    proved: int = 0
    not_covered: list[int] = field(default_factory=list)
    complete: bool | None = None
    exports: list[dict] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    strict: bool = False  # every notice fails too

    @property
    def ok(self) -> bool:
        return not self.problems and self.head_found is not False and not (self.strict and self.notices)

    def as_data(self) -> dict:
        return {"ok": self.ok, "lines": self.lines, "head_seq": self.head_seq, "head_found": self.head_found,
                "store_compared": self.store_compared, "checkpoint_size": self.checkpoint_size,
                "signer": self.signer, "token": self.token, "token_time": self.token_time,
                "proved": self.proved, "not_covered": self.not_covered,
                "complete": self.complete, "exports": self.exports,
                "problems": [{"code": c, "message": m} for c, m in self.problems],
                "notices": [{"code": c, "message": m} for c, m in self.notices]}


def from_bag(value: object, limit: int = 200) -> str:
    """Text read from a bag as a finding shows it: each character that is not printable (a line
    end, a terminal escape, a lone surrogate) as its escape, cut to ``limit`` characters."""
    try:
        text = str(value)
    except (RecursionError, ValueError):  # nested past the limit; an integer past str's digits
        return "?"
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


TAG_LIMIT = 1 << 30  # the largest tag file read whole


def open_regular(path: Path) -> int:
    """A descriptor of the bag's file ``path``: a regular file, not reached through a symlink,
    opened so that a FIFO never makes the check wait. OSError otherwise (errno 0: no regular file)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(0, _("not a regular file"))
    return fd


def read_tag(path: Path) -> bytes:
    """The bytes of a bag's tag file, as ``open_regular`` takes it, of at most ``TAG_LIMIT``
    bytes. OSError otherwise."""
    fd = open_regular(path)
    try:
        if os.fstat(fd).st_size > TAG_LIMIT:
            raise OSError(0, _("larger than a tag file can be"))
        chunks, left = [], TAG_LIMIT + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 24))):
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise OSError(0, _("larger than a tag file can be"))
        return b"".join(chunks)
    finally:
        os.close(fd)


def unreadable(exc: OSError, path: Path) -> None:
    """Raise, as the error it is, what forbids the checker to read a file of the bag: the check
    cannot be made (exit 1), which says nothing against the bag."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        raise os_error(exc, N_("reading the bag (check it as a user who may read every file of it)"),
                       path) from exc


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


def listing(bag: Path, top: str, *, skip: str = "") -> list[str]:
    """Every entry under ``bag``/``top`` that is no folder (a symlink to one included; none
    followed), as a manifest names it, sorted; the top-level folder ``skip`` left out. A folder
    the checker may not read raises (``unreadable``): no verdict is given on what it cannot see."""
    def refuse(exc: OSError) -> None:
        unreadable(exc, Path(exc.filename or bag))

    found = []
    for folder, folders, files in os.walk(bag / top, onerror=refuse):
        here = Path(folder)
        if here == bag and skip in folders:
            folders.remove(skip)
        found += [(here / name).relative_to(bag).as_posix() for name in files]
        found += [(here / name).relative_to(bag).as_posix() for name in folders if (here / name).is_symlink()]
    return sorted(found)
