"""Archive: an open store and its one write path.

Every change is a list of event drafts appended to the journal under its lock
and then folded into the index in one transaction (``transact``). Opening a
store brings the index up to the journal's head; a read-only store gets a
temporary index when its own is stale.

The blobs and the journal live behind ``store.objects.Objects`` and
``store.journal.Journal``: local files (the default) or an S3 bucket (``[backend] type =
"s3"`` in recordkeep.toml, see store/s3/). With a bucket, several stations append to one
journal: ``transact`` rebuilds its drafts and retries when another station
appended first (HeadMoved).
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Self

from . import errors, index, settings, validate
from .i18n import N_, _
from .index import FILENAME as INDEX_FILE
from .index import Index, resolve
from .index import keys as key_rows
from .index import settings as settings_rows
from .index.core import SIGNED_LAYOUT
from .progress import Watcher
from .store.checkpoints import Checkpoints, LocalCheckpoints
from .store.fs import atomic_write, os_error, remove_stale
from .store.journal import ZERO_HASH, ChainProblem, Draft, Event, Journal, LocalJournal, parse_line
from .store.objects import LocalObjects, Objects
from .store.vault import LocalVault, VaultFiles
from .trust import batches, keys, roles
from .trust.signer import Signer

TRANSACT_ATTEMPTS = 200  # HeadMoved retries (only stations sharing a bucket ever race)


def default_actor() -> str:
    """``$RECORDKEEP_ACTOR``, else the OS user and host as ``user@host``."""
    actor = os.environ.get("RECORDKEEP_ACTOR")
    if actor:
        return actor
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{os.uname().nodename}"


def open_backend(root: Path, conf: settings.Settings) -> tuple[Objects, Journal, Checkpoints, VaultFiles]:
    """The blob store, journal, checkpoints and personal-data vault that recordkeep.toml's
    ``[backend]`` names (local by default)."""
    backend = conf.section("backend")
    kind = backend.get("type", "local")
    if kind == "local":
        return LocalObjects(root), LocalJournal(root), LocalCheckpoints(root), LocalVault(root)
    where = str(root / settings.FILENAME)
    if kind == "s3":
        from .store.s3.bucket import Bucket
        from .store.s3.checkpoints import S3Checkpoints
        from .store.s3.journal import BATCH_WAIT_SECONDS, S3Journal
        from .store.s3.objects import PART_SIZE, S3Objects
        from .store.s3.vault import S3Vault

        bucket = Bucket.from_settings(backend, conf.section("worm"), where)
        wait = backend.get("batch_wait_seconds", BATCH_WAIT_SECONDS)
        part_mib = backend.get("part_mib", PART_SIZE // (1024 * 1024))
        if not isinstance(wait, int | float) or isinstance(wait, bool) or not 0 <= wait < float("inf"):
            raise errors.ConfigError(_("[backend] batch_wait_seconds must be a finite number of seconds "
                                       "from 0, not {value!r}").format(value=wait), path=where)
        if not validate.whole_number(part_mib, 5, 5120):
            raise errors.ConfigError(_("[backend] part_mib must be 5 to 5120, not {value!r}").format(
                value=part_mib), path=where)
        return (S3Objects(root, bucket, part_size=part_mib * 1024 * 1024),
                S3Journal(root, bucket, batch_wait=float(wait)), S3Checkpoints(bucket), S3Vault(bucket))
    raise errors.ConfigError(_("unknown [backend] type {kind!r}: local or s3").format(kind=kind), path=where)


def _write_settings(root: Path, text: str) -> None:
    """Write recordkeep.toml whole or not at all."""
    atomic_write(root / settings.FILENAME, text.encode("utf-8"), tmp_dir=root / "tmp")



def _writable(root: Path) -> bool:
    return os.access(root, os.W_OK) and not (os.statvfs(root).f_flag & os.ST_RDONLY)


def store_root(root: str | os.PathLike) -> Path:
    """``root`` as a path; EmptyPath when it is empty ($RECORDKEEP_STORE set to nothing must not
    mean the current folder)."""
    if not os.fspath(root).strip():
        raise errors.EmptyPath(_("an empty store path was given"),
                               hint=_("name the store's folder (--store, or $RECORDKEEP_STORE)"))
    return Path(root)


def is_store(root: str | os.PathLike) -> bool:
    """Whether ``root`` holds a store's settings file; a path that cannot be looked at (too
    long, say) is the store's error, not a traceback."""
    root = store_root(root)
    try:
        return (root / settings.FILENAME).is_file()
    except OSError as exc:
        raise os_error(exc, N_("looking for the store"), root) from exc


class Archive:
    """An open store. Use ``Archive.init`` or ``Archive.open``; close when done."""

    def __init__(self, root: Path, actor: str | None) -> None:
        self.root = root
        # --actor (an empty one refused) or a non-empty $RECORDKEEP_ACTOR: selects the key
        given = actor if actor is not None else os.environ.get("RECORDKEEP_ACTOR") or None
        self.requested_actor = validate.actor(given) if given is not None else None
        self.actor = self.requested_actor or validate.actor(default_actor())
        self.settings = settings.load(root)
        self.objects, self.journal, self.checkpoints, self.vault = open_backend(root, self.settings)
        self.readonly = not _writable(root)
        self.joined = False  # set by init when it joined a store already in a bucket
        self.fold_error: errors.IndexFoldFailed | None = None  # reads answer from before it
        self.chain_problem: ChainProblem | None = None  # the journal's chain, checked on opening
        self._tempdir: str | None = None
        self._index: Index | None = None
        self._housekept = False
        self._signer: Signer | None = None
        # the settings record last read from the journal: (seq, line hash, digest), read again only
        # when the index names another line; and the digest of the settings this command runs under
        self._settings_read: tuple[int, str, str | None] | None = None
        self._settings_digest: str | None = None
        self.watch: Watcher | None = None  # told how long work goes (the CLI's progress bars)

    @property
    def index(self) -> Index:
        """The index, opened (and brought up to the journal's head) on first use. When the
        journal holds an event this version cannot fold, the index answers up to the event
        before it and ``fold_error`` says so (writes refuse: ``transact`` catches up first)."""
        if self._index is None:
            self._index, self.fold_error = self._open_index()
            self.chain_problem = self._check_chain(whole=False)
        return self._index

    # -- the chain ---------------------------------------------------------
    def _check_chain(self, *, whole: bool) -> ChainProblem | None:
        """The first bad line of the journal's chain, or None. Every opening walks only the
        lines after the last one verified; ``whole`` also proves that nothing before changed:
        the BLAKE3 of the journal up to the end of the last whole check must be the one it
        recorded (a backend that cannot say walks every line). A good result is recorded in
        the index (not on a read-only store)."""
        ix = self._index
        verified, prefix, digest = ix.chain_marks()
        since = verified
        if whole:
            intact = prefix is not None and self.journal.prefix_digest(prefix.end) == digest
            since = prefix if intact else None
        report = self.journal.verify_chain(since=since)
        if report.problem is not None and since is not None:
            report = self.journal.verify_chain()  # name the first bad line, wherever it is
        if report.problem is not None:
            return report.problem
        if not self.readonly and report.head.seq:
            at = report.head
            new_digest = self.journal.prefix_digest(at.end) if whole else None
            with contextlib.suppress(errors.StoreFull, errors.ReadOnlyStore):  # a mark saves work, no more
                ix.set_chain_marks(at, at if new_digest else None, new_digest)
        return None

    def require_intact_chain(self) -> None:
        """ChainBroken, naming the first bad line, unless the whole journal is intact: what
        decides about evidence (dispose, check, stats, export, rebuild, case and party writes)
        is never decided on a chain that does not hold."""
        self.index  # noqa: B018  (opened, and the new lines checked)
        problem = self.chain_problem or self._check_chain(whole=True)
        if problem is not None:
            self.chain_problem = problem
            raise errors.ChainBroken(_("the journal's chain is broken at line {line}: {code} {message}")
                                     .format(line=problem.line, code=problem.code, message=problem.message),
                                     path=self.journal.location)

    def _check_store_id(self) -> None:
        """StoreIdMismatch when recordkeep.toml names another store than the journal's first event."""
        try:
            first = self.journal.first()
        except errors.JournalCorrupt:
            return  # the chain check reports it
        journaled = first.data.get("store_id") if first and first.type == "store.created" else None
        if journaled is not None and journaled != self.settings.store_id:
            raise errors.StoreIdMismatch(_("recordkeep.toml names store {store}, the journal store "
                                           "{journaled}").format(store=self.settings.store_id,
                                                                 journaled=journaled),
                                         path=self.root / settings.FILENAME)

    # -- opening -----------------------------------------------------------
    @classmethod
    def init(cls, root: str | os.PathLike, *, actor: str | None = None,
             timezone: str = "Asia/Shanghai", backend: str | None = None,
             endpoint: str | None = None, region: str | None = None) -> Archive:
        """Create a new store at ``root`` (absent or an empty folder) and open it.

        With ``backend`` (``s3://BUCKET/PREFIX``), blobs and journal live in that bucket
        (at ``endpoint``); ``root`` keeps recordkeep.toml and this workstation's index.
        A bucket prefix that already holds a store is joined, not created again.
        """
        root = store_root(root)
        actor = validate.actor(actor if actor is not None else default_actor())
        settings.check_timezone(timezone)
        if is_store(root):
            raise errors.StoreExists(_("a store already exists here"), path=root)
        try:
            taken = root.exists() and (not root.is_dir() or any(root.iterdir()))
        except OSError as exc:
            raise os_error(exc, N_("creating the store"), root) from exc
        if taken:
            raise errors.StoreError(_("the folder is not empty and is not a store") if root.is_dir()
                                    else _("this is a file, not a folder"), path=root,
                                    hint=_("choose a new or empty folder for the store"))
        if backend is not None:
            return cls._init_s3(root, actor, timezone, backend, endpoint, region)
        try:
            for sub in ("objects/blake3", "journal/torn", "tmp"):
                (root / sub).mkdir(parents=True, exist_ok=True)
            LocalJournal(root).create()
            _write_settings(root, settings.initial_text(timezone))
        except OSError as exc:
            raise os_error(exc, N_("creating the store"), root) from exc
        archive = cls(root, actor)
        archive.commit(archive.founding(timezone))
        return archive

    def founding(self, timezone: str, **extra: str) -> list[Draft]:
        """A new store's first batch: ``store.created`` (layout recordkeep-2, with the founding
        key), that key's enrolment with every role and the store's settings; the founding key
        signs it (the actor's key, made when there is none)."""
        path = keys.key_path(self.actor)
        key = keys.load_key(path) if path.exists() else keys.new_key(path)
        self._signer = Signer(key, self.actor, frozenset(roles.ALL_ROLES), self.settings.store_id)
        return [Draft("store.created", {"store_id": self.settings.store_id, "timezone": timezone,
                                        "layout": SIGNED_LAYOUT, "admin_key": key.id,
                                        "public_key": key.public_b64, **extra}),
                Draft("key.enrolled", {"key": key.id, "public_key": key.public_b64, "actor": self.actor,
                                       "roles": list(roles.ALL_ROLES)}),
                *self._settings_changed(None)]

    @classmethod
    def _init_s3(cls, root: Path, actor: str, timezone: str, url: str, endpoint: str | None,
                 region: str | None) -> Archive:
        from botocore.exceptions import ClientError

        from .store.s3.bucket import (
            Bucket,
            Location,
            backend_text,
            is_missing,
            is_precondition_failed,
            worm_text,
        )
        from .store.s3.journal import S3Journal

        location = Location.parse(url)
        bucket = Bucket(location, endpoint=endpoint, region=region)
        bucket.check()
        head = S3Journal(root, bucket).head()
        client, shared_key = bucket.client, bucket.key(settings.FILENAME)
        with bucket.guard(N_("reading the store's shared settings"), settings.FILENAME):
            try:
                shared = client.get_object(Bucket=bucket.name, Key=shared_key)["Body"].read().decode("utf-8")
            except ClientError as exc:
                if not is_missing(exc):
                    raise
                shared = None
        if shared is None:
            if head.seq:
                first = next(S3Journal(root, bucket).read(1, 2))
                shared = settings.initial_text(first.data.get("timezone", timezone),
                                               store_id=first.data.get("store_id")) + worm_text()
            else:
                shared = settings.initial_text(timezone) + worm_text()
            with bucket.guard(N_("writing the store's shared settings"), settings.FILENAME):
                try:
                    client.put_object(Bucket=bucket.name, Key=shared_key, Body=shared.encode("utf-8"),
                                      IfNoneMatch="*", ContentType="text/plain; charset=utf-8")
                except ClientError as exc:  # another station initialised it at the same moment
                    if not is_precondition_failed(exc):
                        raise
                    shared = client.get_object(Bucket=bucket.name, Key=shared_key)["Body"].read().decode()
        fresh = not root.exists()
        try:
            (root / "tmp").mkdir(parents=True, exist_ok=True)
            _write_settings(root, shared + backend_text(location, endpoint, region))
        except OSError as exc:
            raise os_error(exc, N_("creating the store's local folder"), root) from exc
        archive = cls(root, actor)
        try:
            archive.journal.create()
            archive.joined = bool(head.seq)
            if not head.seq:
                # another station creating it at the same moment (HeadMoved) used the same shared
                # settings, so this one has simply joined
                with contextlib.suppress(errors.HeadMoved):
                    archive.journal.append(archive.founding(archive.settings.timezone, backend="s3"),
                                           actor=archive.actor, at=archive.now(), expect_head=ZERO_HASH,
                                           seal=archive._signer.seal)
                archive._signer = None  # found from the index from now on (none, if this station joined)
            archive.index  # noqa: B018  (catch up with the bucket's journal now)
        except BaseException:
            archive.close()  # the local side is only settings and an index: leave no half store
            for name in (settings.FILENAME, "journal.lock", INDEX_FILE, f"{INDEX_FILE}-wal",
                         f"{INDEX_FILE}-shm"):
                (root / name).unlink(missing_ok=True)
            shutil.rmtree(root / "tmp", ignore_errors=True)
            if fresh:
                shutil.rmtree(root, ignore_errors=True)
            raise
        return archive

    @classmethod
    def open(cls, root: str | os.PathLike, *, actor: str | None = None) -> Archive:
        """Open the store at ``root``; raise NotAStore when it is not one."""
        root = store_root(root)
        if not is_store(root):
            if (root / "journal" / "events.jsonl").is_file():  # a copy that lost its settings file
                raise errors.NotAStore(
                    _("this folder holds a journal but no recordkeep.toml"), path=root,
                    hint=_("copy recordkeep.toml from the store this was copied from; its [store] id is "
                           "the store_id of the journal's first line (store.created)"))
            raise errors.NotAStore(_("this folder is not a recordkeep store"), path=root)
        archive = cls(root, actor)
        try:
            if not archive.journal.present():
                if isinstance(archive.journal, LocalJournal):  # its settings say a store: damage, not none
                    raise errors.NoStoreCreated(
                        _("the store's journal is missing (journal/events.jsonl): nothing here can be "
                          "verified or written without it"), path=root,
                        hint=_("restore journal/events.jsonl from a backup or a copy of the store; do not "
                               "run init here"))
                raise errors.NotAStore(_("this folder is not a recordkeep store"), path=root)
            archive._check_store_id()
        except BaseException:
            archive.close()
            raise
        return archive

    def _open_index(self) -> tuple[Index, errors.IndexFoldFailed | None]:
        path = self.root / INDEX_FILE
        if not self.readonly:
            return index.open_live(path, self.journal, self.root / "tmp", self.watch)
        self._tempdir = tempfile.mkdtemp(prefix="recordkeep-index-")
        return index.open_snapshot(path, self.journal, Path(self._tempdir), self.watch)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)
        self.objects.close()
        self.journal.close()

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
            raise errors.ReadOnlyStore(_("the store is read-only; nothing was written"), path=self.root)

    def transact(self, build: Callable[[], list[Draft]], *, settings_only: bool = False) -> list[Event]:
        """Under the journal lock: catch the index up, build drafts, append (signed), fold in;
        return the events of the drafts (not the journal's own put before them, nor the seal).
        Under settings the journal has not recorded, their ``settings.changed`` goes first, which
        only an admin key may sign (SettingsUnrecorded otherwise, nothing written);
        ``settings_only``: that line alone, returned (none when they are recorded).

        When another station sharing the bucket appended first (HeadMoved), catch up
        again and rebuild the drafts against the new state, then retry (a local journal's
        lock keeps that from ever happening).
        """
        self.require_writable()
        if not self._housekept:
            self._housekept = True
            remove_stale(self.root / "tmp")  # a killed writer's temporaries, once its hour is past
        for attempt in range(1, TRANSACT_ATTEMPTS + 1):
            with self.journal.locked():
                self.index.catch_up(self.journal)
                self._forget_signer_if_revoked()
                drafts = build()
                if not drafts and not settings_only:
                    return []
                changed = self._settings_changed(self.recorded_settings()) if self.index.seen.seq else []
                if not drafts and not changed:
                    return []
                signer = self.signer(required=self.index.signed)
                if signer is not None:
                    signer.refuse_unless_allowed(drafts)
                    if changed:
                        self._require_settings_recordable(signer)
                try:
                    events = self.journal.append(
                        [*changed, *drafts], actor=signer.actor if signer else self.actor, at=self.now(),
                        expect_head=self.index.seen.hash, seal=signer.seal if signer else None,
                        cut_unsealed=self.index.signed)
                except errors.HeadMoved:
                    if attempt == TRANSACT_ATTEMPTS:
                        raise
                else:
                    try:
                        self._fold(events)
                    except BaseException as exc:  # Ctrl-C too: the events are in the journal all the same
                        exc.journaled = tuple(events)
                        raise
                    end = len(events) - (1 if signer is not None else 0)  # the seal closes them
                    if settings_only:
                        return [e for e in events if e.type == "settings.changed"]
                    return events[end - len(drafts):end]  # the caller's: no cut or settings put before
            time.sleep(random.uniform(0.005, 0.02 * min(attempt, 25)))
        raise AssertionError("unreachable")

    # -- who acts ------------------------------------------------------------
    def _forget_signer_if_revoked(self) -> None:
        """Drop the acting key found earlier when another process has revoked it since (a long
        import, a rolling audit): ``signer`` then refuses it."""
        if self._signer is None or not self.index.signed:
            return
        row = key_rows.key(self.index, self._signer.key.id)
        if row is not None and row["revoked_seq"] is not None:
            self._signer = None

    def signer(self, *, required: bool = True) -> Signer | None:
        """The acting key, enrolled in this store: ``$RECORDKEEP_KEY``, else the key of
        ``--actor`` (or ``$RECORDKEEP_ACTOR``, or user@host) under the keys folder. Its actor
        acts (``--actor``, when given, must be it: ActorMismatch). KeyMissing, KeyUnusable or
        KeyNotEnrolled when there is none; None instead when not ``required`` (a store from
        before signatures, whose batches stay unsigned until an admin key is enrolled)."""
        if self._signer is not None:
            return self._signer
        try:
            key = keys.load_key(keys.key_path(self.actor))
            row = key_rows.key(self.index, key.id)
            if row is None:
                raise errors.KeyNotEnrolled(_("key {key} is not enrolled in this store").format(key=key.id),
                                            path=key.path)
            if row["revoked_seq"] is not None:
                said = _("key {key} is revoked in this store (seq {seq})")
                raise errors.KeyNotEnrolled(
                    said.format(key=key.id, seq=row["revoked_seq"]), path=key.path,
                    hint=_("a revoked key is never enrolled again: make a new one ('recordkeep key new') "
                           "and have an admin enrol it"))
        except (errors.KeyMissing, errors.KeyNotEnrolled):
            if required:
                raise
            return None
        if self.requested_actor is not None and self.requested_actor != row["actor"]:
            raise errors.ActorMismatch(_("--actor {actor}, but key {key} is {owner}'s").format(
                actor=self.requested_actor, key=key.id, owner=row["actor"]), path=key.path)
        self._require_enrolled_by_admin(key.id, row)
        self.actor = row["actor"]
        self._signer = Signer(key, row["actor"], frozenset(json.loads(row["roles"])), self.settings.store_id)
        return self._signer

    def _require_enrolled_as_indexed(self, key_id: str, row) -> None:
        """IndexDiffers unless the journal line that enrolled the key (the index's
        ``enrolled_seq``) names this key, public key, actor and roles, as its index row does: a
        row edited by hand grants nothing."""
        event = self._event_at(row["enrolled_seq"])
        said = event.data if event is not None and event.type == "key.enrolled" else {}
        roles = sorted(said.get("roles") or [])
        journaled = (said.get("key"), said.get("public_key"), said.get("actor"), roles)
        if journaled != (key_id, row["public_key"], row["actor"], sorted(json.loads(row["roles"]))):
            raise errors.IndexDiffers(_("the index's row of key {key} is not what its enrolment at journal "
                                        "seq {seq} says: the index was changed").format(
                                            key=key_id, seq=row["enrolled_seq"]),
                                      path=self.root / INDEX_FILE)

    def _require_enrolled_by_admin(self, key_id: str, row, below: frozenset[str] = frozenset()) -> None:
        """``_require_enrolled_as_indexed``, and the batch that enrolled the key was sealed, with a
        signature that holds, by the founding key in the store's first batch or by an admin key
        itself so enrolled (each up to the founding key): a line a clerk appended to enrol herself,
        folded by an older index or written into this one by hand, grants nothing (RK243). A key
        enrolled before the store signed its batches is taken as the journal gives it, and the
        admin key enrolled in the first batch of a store from before signatures, sealed by itself,
        is trusted on first use, as ``log verify`` trusts it."""
        self._require_enrolled_as_indexed(key_id, row)
        batch = key_rows.batch_of(self.index, row["enrolled_seq"]) if self.index.signed else None
        if batch is None:
            return
        seal = self._event_at(batch["seal"])
        data = seal.data if seal is not None and seal.type == "batch.signed" else {}
        if seal is None or data.get("to") != seal.seq - 1 or data.get("head") != seal.prev or \
                not isinstance(data.get("from"), int) or not data["from"] <= row["enrolled_seq"] < seal.seq:
            data = {}  # a seal copied from another batch (its signature holds, over other lines)
            # seals nothing here: the key it names grants nothing (RK243)
        signer = data.get("key")
        founding = self._event_at(1) if batch["first"] == 1 else None
        founded = founding is not None and founding.type == "store.created" and \
            founding.data.get("admin_key") == signer
        first_use = batch["seal"] == key_rows.first_seal(self.index) and "admin" in json.loads(row["roles"])
        if signer == key_id and (founded or first_use):  # the founding key, or an older store's first admin
            public = row["public_key"]
        else:
            by = key_rows.key(self.index, signer) if signer and signer not in below | {key_id} else None
            if by is None or "admin" not in json.loads(by["roles"]) or (
                    by["revoked_seq"] is not None and by["revoked_seq"] < batch["first"]):
                raise errors.RoleNotAllowed(
                    _("key {key} was enrolled at journal seq {seq} in a batch no admin key sealed: its "
                      "roles are granted by no one").format(key=key_id, seq=row["enrolled_seq"]),
                    path=self.root / INDEX_FILE,
                    hint=_("run 'recordkeep log verify' and find out who wrote that line; an admin "
                           "enrols the key"))
            self._require_enrolled_by_admin(signer, by, below | {key_id})
            public = by["public_key"]
        if not batches.signature_holds(base64.b64decode(public), self.settings.store_id, data):
            raise errors.BadSignature(
                _("the signature of the batch that enrolled key {key} (journal seq {first}-{last}) does "
                  "not hold: the journal was changed").format(key=key_id, first=data.get("from"),
                                                              last=data.get("to")),
                path=self.root / INDEX_FILE, hint=_("run 'recordkeep log verify'"))

    def require_can_write(self, event_types: list[str]) -> None:
        """Refuse now, before any work, when the acting key could not journal these types (a
        store from before signatures, without an enrolled key, writes unsigned), nor the settings
        recordkeep.toml gives when the journal has not recorded them (SettingsUnrecorded: an
        import refused there would have copied a whole card for nothing)."""
        self.require_writable()
        signer = self.signer(required=self.index.signed)
        if signer is not None:
            signer.refuse_unless_allowed([Draft(t, {}) for t in event_types])
            self._require_settings_recordable(signer)

    def _require_settings_recordable(self, signer: Signer) -> None:
        """SettingsUnrecorded when recordkeep.toml is not as the journal last recorded it and
        ``signer`` may not record settings (an admin's act)."""
        if roles.allows(signer.roles, "settings.changed") or not self.index.seen.seq:
            return
        if self._settings_changed(self.recorded_settings()):
            raise errors.SettingsUnrecorded(_(
                "recordkeep.toml is not as the journal last recorded it, and {actor}'s key may "
                "not record settings: nothing was written").format(actor=signer.actor),
                path=self.root / settings.FILENAME)

    def _event_at(self, seq: int) -> Event | None:
        """The journal's own line at ``seq``, the index naming where it is; None when there is
        no such line any more."""
        try:
            [event], _lines = self.events_at([seq])
        except (ValueError, errors.RecordkeepError):
            return None
        return event

    def recorded_settings(self) -> str | None:
        """The digest of the settings the journal last recorded (None: none), computed from
        the journal line the index names: neither an index row edited by hand nor a line
        claiming another digest than its settings' can spare a record."""
        row = settings_rows.last(self.index)
        if row is None:
            return None
        folded = index.records.event(self.index, row["seq"])
        if folded is None:
            return None
        if self._settings_read is not None and self._settings_read[:2] == (row["seq"], folded["hash"]):
            return self._settings_read[2]
        event = self._event_at(row["seq"])
        if event is None:
            return None
        digest = settings.recorded_digest(event.data) if event.type == "settings.changed" else None
        self._settings_read = (row["seq"], event.hash, digest)
        return digest

    def _settings_changed(self, last: str | None) -> list[Draft]:
        """A ``settings.changed`` to journal first in a batch (a founding holds its own, after
        ``key.enrolled``) when the settings this command runs under (recordkeep.toml as it read
        it) are not those of digest ``last``, the journal's last record of them (None: it records
        none): who wrote first under changed settings, and when, is then on record with what
        they were, ahead of what was written under them."""
        form = self.settings.recorded
        if self._settings_digest is None:
            self._settings_digest = settings.digest(form)
        digest = self._settings_digest
        if digest == last:
            return []
        return [Draft("settings.changed", {"digest": digest, "previous": last, "settings": form})]

    def _fold(self, events: list[Event]) -> None:
        """Apply just-journaled events to the index; on a full or failing disk the index is
        closed (the journal holds the events: the index catches up on the next open)."""
        try:
            self.index.apply(events)
        except errors.StoreError:
            self._index.close()
            self._index = None
            raise

    def commit(self, drafts: list[Draft]) -> list[Event]:
        """Append fixed drafts (which do not depend on the index's state)."""
        return self.transact(lambda: drafts)

    def rebuild_index(self) -> int:
        """Rebuild index.sqlite from the whole journal, once every line of its chain is proved
        and the journal still holds the last event the old index folded (ChainBroken or
        IndexCorrupt otherwise: the old index, the last trace of the lines as they were, stays);
        return the events applied."""
        self.require_writable()
        path = self.root / INDEX_FILE
        folded = index.folded_head(path)
        report = self.journal.verify_chain(head=folded.hash if folded else None)
        if report.problem is not None:
            raise errors.ChainBroken(_("the journal's chain is broken at line {line}: {code} {message}; the "
                                       "index was not rebuilt").format(
                line=report.problem.line, code=report.problem.code, message=report.problem.message),
                path=self.journal.location)
        if folded is not None and report.found_head is False:
            keep = _("the index is the last trace of those lines: keep a copy of index.sqlite for the "
                     "auditor, restore the journal from a backup, or move index.sqlite away to rebuild "
                     "from what is left")
            raise errors.IndexCorrupt(_("the journal no longer holds the index's last event (seq {seq}): the "
                                        "journal was cut or rewritten; the index was not rebuilt").format(
                                            seq=folded.seq), path=self.journal.location, hint=keep)
        if self._index is not None:
            self._index.close()
            self._index = None
        if not index.readable(path):
            index.set_aside(path)  # it holds the last head it folded: keep it for the auditor
        count = index.replace_by_rebuild(path, self.journal, self.root / "tmp", self.watch)
        head = report.head
        self.index.set_chain_marks(head, head, self.journal.prefix_digest(head.end))
        return count

    # -- looking up --------------------------------------------------------
    def resolve_digest(self, text: str) -> str:
        """A record's hex digest from 64 hex, ``blake3:`` + hex, or a unique prefix of 8+."""
        return resolve.digest(self.index, text)

    def events_at(self, seqs: list[int]) -> tuple[list[Event], list[bytes]]:
        """The journal lines (verbatim, without newline) and events of ``seqs``, in seq order."""
        positions = index.records.event_positions(self.index, sorted(set(seqs)))
        lines = self.journal.lines_at(positions)
        events = [parse_line(raw, position, len(raw) + 1)
                  for raw, position in zip(lines, positions, strict=True)]
        return events, lines
