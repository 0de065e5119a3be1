"""Where a store keeps its checkpoints and their timestamp tokens: ``checkpoints/`` at the
store's top, or the ``checkpoints/`` key beside ``journal/`` in a bucket.

Files are named ``<size>.checkpoint`` and ``<size>.tsr`` and written once: a name that
already holds other bytes is never overwritten (``put`` says so by returning False).
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Protocol

from .. import errors
from ..i18n import N_, _
from .fs import GIVEN_LIMIT, atomic_write, fsync_dir, os_error, read_regular

FOLDER = "checkpoints"
_NAME = re.compile(r"(\d+)\.(checkpoint|tsr)")


def checkpoint_name(size: int) -> str:
    return f"{size}.checkpoint"


def token_name(size: int) -> str:
    return f"{size}.tsr"


def size_of(name: str) -> int | None:
    """The tree size a ``<size>.checkpoint`` name states, else None."""
    m = _NAME.fullmatch(name)
    return int(m.group(1)) if m and m.group(2) == "checkpoint" else None


class Checkpoints(Protocol):
    location: str

    def put(self, name: str, data: bytes) -> bool:
        """Write ``name`` once; False when it already holds other bytes (they stay)."""

    def get(self, name: str) -> bytes | None:
        """The bytes of ``name``, or None when there is no such file."""

    def sizes(self) -> list[int]:
        """The sizes of every checkpoint kept, ascending."""


class LocalCheckpoints:
    """``checkpoints/`` in the store's folder."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.folder = self.root / FOLDER
        self.location = str(self.folder)

    def put(self, name: str, data: bytes) -> bool:
        target = self.folder / name
        held = self.get(name)
        if held is not None:
            return held == data
        try:
            created = not self.folder.is_dir()
            self.folder.mkdir(exist_ok=True)
            if created:
                fsync_dir(self.root)
        except OSError as exc:
            raise os_error(exc, N_("creating the checkpoints folder"), self.folder) from exc
        atomic_write(target, data, tmp_dir=self.root / "tmp")
        return True

    def get(self, name: str) -> bytes | None:
        """The file's bytes; None when it is absent, or no regular file (a FIFO or a symlink put
        in its place is never waited on nor followed: the checkpoint is not there)."""
        try:
            return read_regular(self.folder / name, GIVEN_LIMIT, follow=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (0, errno.ELOOP):
                return None
            raise errors.StoreIOError(_("cannot read a checkpoint: {error}").format(error=exc.strerror),
                                      path=self.folder / name) from exc

    def sizes(self) -> list[int]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise errors.StoreIOError(_("cannot list the checkpoints: {error}").format(error=exc.strerror),
                                      path=self.folder) from exc
        return sorted(s for s in map(size_of, names) if s is not None)
