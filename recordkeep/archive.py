"""Archive: an open store and its one write path.

Every change is a list of event drafts appended to the journal under its lock
and then folded into the index in one transaction (``transact``). Opening a
store brings the index up to the journal's head; a read-only store gets a
temporary index when its own is stale.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Self

from . import errors, settings
from .index import FILENAME as INDEX_FILE
from .index import Index, rebuild
from .journal import Draft, Event, LocalJournal
from .objects import LocalObjects, fsync_dir, os_error

DIGEST_TEXT = re.compile(r"(?:blake3:)?([0-9a-f]{8,64})")


def default_actor() -> str:
    """``$RECORDKEEP_ACTOR``, else the OS user and host as ``user@host``."""
    actor = os.environ.get("RECORDKEEP_ACTOR")
    if actor:
        return actor
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def _writable(root: Path) -> bool:
    return os.access(root, os.W_OK) and not (os.statvfs(root).f_flag & os.ST_RDONLY)


class Archive:
    """An open store. Use ``Archive.init`` or ``Archive.open``; close when done."""

    def __init__(self, root: Path, actor: str) -> None:
        self.root = root
        self.actor = actor
        self.settings = settings.load(root)
        self.objects = LocalObjects(root)
        self.journal = LocalJournal(root)
        self.readonly = not _writable(root)
        self._tempdir: str | None = None
        self._index: Index | None = None

    @property
    def index(self) -> Index:
        """The index, opened (and brought up to the journal's head) on first use."""
        if self._index is None:
            self._index = self._open_index()
        return self._index

    # -- opening -----------------------------------------------------------
    @classmethod
    def init(cls, root: str | os.PathLike, *, actor: str | None = None,
             timezone: str = "Asia/Shanghai") -> Archive:
        """Create a new store at ``root`` (absent or an empty folder) and open it."""
        root = Path(root)
        if (root / settings.FILENAME).exists():
            raise errors.StoreExists("a store already exists here", path=root)
        if root.exists() and any(root.iterdir()):
            raise errors.StoreError("the folder is not empty and is not a store", path=root,
                                    hint="choose a new or empty folder for the store")
        try:
            for sub in ("objects/blake3", "journal/torn", "tmp"):
                (root / sub).mkdir(parents=True, exist_ok=True)
            LocalJournal(root).create()
            text = settings.initial_text(timezone)
            tmp = root / "tmp" / "recordkeep.toml.new"
            tmp.write_text(text, encoding="utf-8")
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, root / settings.FILENAME)
            fsync_dir(root)
        except OSError as exc:
            raise os_error(exc, "creating the store", root) from exc
        archive = cls(root, actor or default_actor())
        archive.commit([Draft("store.created", {"store_id": archive.settings.store_id,
                                                "timezone": timezone,
                                                "layout": "recordkeep-1"})])
        return archive

    @classmethod
    def open(cls, root: str | os.PathLike, *, actor: str | None = None) -> Archive:
        """Open the store at ``root``; raise NotAStore when it is not one."""
        root = Path(root)
        if not (root / settings.FILENAME).is_file() or not (root / "journal" / "events.jsonl").is_file():
            raise errors.NotAStore("this folder is not a recordkeep store", path=root)
        return cls(root, actor or default_actor())

    def _open_index(self) -> Index:
        path = self.root / INDEX_FILE
        if not self.readonly:
            try:
                index = Index(path, migrate=False)
                if index.pending_migrations() or not index.is_current(self.journal.head()):
                    with self.journal.locked():  # one process migrates and catches up at a time
                        index.migrate()
                        index.catch_up(self.journal)
                return index
            except sqlite3.DatabaseError:
                self.rebuild_index()
                return Index(path)
        head = self.journal.head()
        wal = Path(f"{path}-wal")
        if path.exists() and not (wal.exists() and wal.stat().st_size):
            try:
                index = Index(path, readonly=True)
                if index.is_current(head):
                    return index
                index.close()
            except sqlite3.DatabaseError:
                pass
        self._tempdir = tempfile.mkdtemp(prefix="recordkeep-index-")
        temp = Path(self._tempdir) / INDEX_FILE
        rebuild(self.journal, temp)
        return Index(temp)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------
    def now(self) -> str:
        """The current time in the store's timezone, ISO 8601 with milliseconds."""
        return datetime.now(self.settings.zone).isoformat(timespec="milliseconds")

    def require_writable(self) -> None:
        if self.readonly:
            raise errors.ReadOnlyStore("the store is read-only; nothing was written", path=self.root)

    def transact(self, build: Callable[[], list[Draft]]) -> list[Event]:
        """Under the journal lock: catch the index up, build drafts, append, fold in."""
        self.require_writable()
        with self.journal.locked():
            self.index.catch_up(self.journal)
            drafts = build()
            if not drafts:
                return []
            events = self.journal.append(drafts, actor=self.actor, at=self.now(),
                                         expect_head=self.index.head.hash)
            self.index.apply(events)
        return events

    def commit(self, drafts: list[Draft]) -> list[Event]:
        """Append fixed drafts (which do not depend on the index's state)."""
        return self.transact(lambda: drafts)

    def rebuild_index(self) -> int:
        """Rebuild index.sqlite from the whole journal; return the events applied."""
        self.require_writable()
        target = self.root / INDEX_FILE
        temp = self.root / "tmp" / f"index-rebuild-{os.getpid()}.sqlite"
        with self.journal.locked():
            count = rebuild(self.journal, temp)
            if self._index is not None:
                self._index.close()
                self._index = None
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            os.replace(temp, target)
            fsync_dir(self.root)
        return count

    # -- looking up --------------------------------------------------------
    def resolve_digest(self, text: str) -> str:
        """A record's hex digest from 64 hex, ``blake3:`` + hex, or a unique prefix of 8+."""
        m = DIGEST_TEXT.fullmatch(text.strip().lower())
        if not m:
            raise errors.InvalidDigest(f"not a digest: {text!r}")
        prefix = m.group(1)
        rows = self.index.conn.execute(
            "SELECT digest FROM records WHERE digest >= ? AND digest < ? LIMIT 2",
            (prefix, prefix + "g")).fetchall()
        if not rows:
            raise errors.UnknownRecord(f"no record has digest {prefix}")
        if len(rows) > 1:
            raise errors.AmbiguousDigest(f"digest prefix {prefix} matches several records")
        return rows[0][0]
