"""The personal-data vault's files: ``pii/`` at the store's top (folders 0700, files 0600),
or objects under ``pii/`` in a bucket (never under Object Lock: they must be erasable).

Bytes only: what the files hold (keys, ciphertexts, lookup entries) is dossier/vault.py's.
Every file is written whole with ``atomic_write``; deleting one removes it for good (in a
bucket, every version of it).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Protocol

from .. import errors
from ..i18n import N_, _
from .fs import atomic_write, fsync_dir, os_error

FOLDER = "pii"
DIR_MODE, FILE_MODE = 0o700, 0o600


class VaultFiles(Protocol):
    location: str

    def put(self, rel: str, data: bytes) -> None:
        """Write ``rel`` (a ``/``-separated name under pii/) whole, replacing it."""

    def create(self, rel: str, data: bytes) -> bool:
        """Write ``rel`` only if it does not exist; False when it did (it is left as it was)."""

    def get(self, rel: str) -> bytes | None:
        """Its bytes, or None when there is no such file."""

    def delete(self, rel: str) -> bool:
        """Remove it for good (every version); False when it was not there."""

    def names(self, prefix: str = "") -> list[str]:
        """Every name under ``prefix`` (``lookup/``, ``keys/``, ``P3/``), sorted."""


class LocalVault:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.folder = self.root / FOLDER
        self.location = str(self.folder)

    def _path(self, rel: str) -> Path:
        parts = rel.split("/")
        if not rel or any(p in ("", ".", "..") for p in parts):
            raise errors.InvalidPath(_("not a vault name"), path=rel)
        return self.folder.joinpath(*parts)

    def _folders(self, path: Path) -> None:
        """Create the folders down to ``path``'s, each 0700 and made durable."""
        missing = []
        folder = path.parent
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for made in reversed(missing):
            os.mkdir(made, DIR_MODE)
            os.chmod(made, DIR_MODE)  # whatever the umask
            fsync_dir(made.parent)

    def put(self, rel: str, data: bytes) -> None:
        path = self._path(rel)
        try:
            self._folders(path)
        except OSError as exc:
            raise os_error(exc, N_("creating the personal-data vault"), path.parent) from exc
        atomic_write(path, data, tmp_dir=path.parent, mode=FILE_MODE)

    def create(self, rel: str, data: bytes) -> bool:
        path = self._path(rel)
        if path.exists():
            return False
        staged = path.parent / f".{path.name}.new-{os.getpid()}"
        self.put(staged.relative_to(self.folder).as_posix(), data)
        try:
            os.link(staged, path)  # fails when another writer created it first
            fsync_dir(path.parent)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise os_error(exc, N_("creating a file of the personal-data vault"), path) from exc
        finally:
            with contextlib.suppress(OSError):
                staged.unlink()

    def get(self, rel: str) -> bytes | None:
        try:
            return self._path(rel).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise errors.StoreIOError(_("cannot read the personal-data vault: {error}").format(
                error=exc.strerror), path=self._path(rel)) from exc

    def delete(self, rel: str) -> bool:
        path = self._path(rel)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise os_error(exc, N_("erasing from the personal-data vault"), path) from exc
        fsync_dir(path.parent)
        with contextlib.suppress(OSError):  # an emptied party folder goes too
            if path.parent != self.folder and not any(path.parent.iterdir()):
                path.parent.rmdir()
                fsync_dir(path.parent.parent)
        return True

    def names(self, prefix: str = "") -> list[str]:
        start = self.folder / prefix if prefix else self.folder
        if not start.is_dir():
            return []
        return sorted(p.relative_to(self.folder).as_posix() for p in start.rglob("*")
                      if p.is_file() and not p.name.startswith("."))
