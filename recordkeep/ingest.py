"""Dumps and scans in: ``add`` of files and ``import`` of a recorder dump.

Each regular file is copied into the store once while it is hashed, checked for
change while it was read, optionally re-read from disk, and probed in a worker
pool while the next file copies. Nothing is skipped silently: every entry ends
in the receipt as stored, present (bytes already stored), failed (a regular
file left unstored) or skipped (a symlink or special file, never followed).
"""

from __future__ import annotations

import os
import stat
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from . import errors, i18n, ids, media, validate
from .archive import Archive
from .dossier.corrections import require_not_voided
from .i18n import _
from .index import people, records, resolve
from .index.core import Index
from .linking import link_data, link_party
from .media import naming
from .progress import Progress, tell
from .refs import Window, check_device, in_window, parse_stage
from .retention import lock_permanent
from .store.hashing import AlignedBuffer, hash_fd
from .store.journal import Draft, Event
from .store.objects import PutResult

COPIERS = 4  # files copied at once: their fsyncs share the disk's journal commits
COPIES_IN_FLIGHT = 8
COMMIT_EVERY_FILES = 64
COMMIT_EVERY_SECONDS = 5.0
TIME_CONFLICT_SECONDS = 60
#: Clips, dated by their file's time when nothing else dates them; never a photo or a document,
#: most often a scan, whose file time is when it was scanned, not when the paper was written.
FILE_TIMED_KINDS = ("video", "audio")


def journaled_path(path: bytes) -> bytes:
    """``path`` as the journal and the receipt hold it: an identity or mobile number in it
    masked (``身份证_110105********002X.jpg``: design principle 9); its other bytes as they are."""
    text = path.decode("utf-8", "surrogateescape")
    return ids.mask_personal_numbers(text).encode("utf-8", "surrogateescape")


def path_fields(path: bytes) -> dict[str, str]:
    """``{"path": text}`` of ``journaled_path`` when the bytes are UTF-8, else ``{"path_hex": hex}``."""
    shown = journaled_path(path)
    try:
        return {"path": shown.decode("utf-8")}
    except UnicodeDecodeError:
        return {"path_hex": shown.hex()}


def display_path(path: bytes) -> str:
    """A one-line printable form of a raw path (invalid bytes and controls escaped)."""
    return validate.printable(path.decode("utf-8", errors="backslashreplace"))


@dataclass
class Outcome:
    """What happened to one entry of the source."""

    path: bytes
    status: str  # stored | present | failed | skipped
    size: int | None = None
    digest: str | None = None
    kind: str | None = None
    new_record: bool = False
    readback: str = "skipped"  # equal | skipped | mismatch
    code: str | None = None
    reason: str | None = None
    mtime: str | None = None  # the source file's modification time, in or out of the store's window
    damage: str | None = None  # why the stored file's media is damaged (its bytes are kept)
    unprobed: bool = False  # its media was not read: the tool to read it was missing

    @property
    def regular(self) -> bool:
        return self.status != "skipped"

    @property
    def shown_path(self) -> str:
        """The path as the receipt shows it: printable, a number in it masked (``journaled_path``)."""
        return display_path(journaled_path(self.path))

    def as_data(self) -> dict:
        data: dict = {"status": self.status, **path_fields(self.path)}
        for key in ("size", "digest", "kind", "code", "reason", "damage"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if "reason" in data:  # kept in English, with its message id and parameters
            i18n.stored(data, "reason")
        if "damage" in data:
            data["damage"] = i18n.english_of(data["damage"])
        if self.status in ("stored", "present"):
            data["readback"] = self.readback
        return data


@dataclass
class Receipt:
    """The clerk's receipt for one batch."""

    batch: str
    command: str
    source: str | None
    started_at: str
    readback: bool
    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    finished_at: str = ""
    elapsed_ms: int = 0
    copied_bytes: int = 0
    lock_error: str | None = None  # important records' Object Lock could not be lengthened
    checkpoint: dict | None = None  # made after the import when [anchor] auto = true
    checkpoint_error: str | None = None  # why that checkpoint (or its token) is missing

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def damaged(self) -> list[Outcome]:
        """Stored files whose media is damaged or cut: kept exactly as read, said on the receipt."""
        return [o for o in self.outcomes if o.damage and o.status in ("stored", "present")]

    @property
    def unprobed(self) -> list[Outcome]:
        """Stored files whose media was not read (ffprobe missing): their bytes are kept, their
        duration, codecs and embedded time unknown; nothing is said of their soundness."""
        return [o for o in self.outcomes if o.unprobed and o.status in ("stored", "present")]

    @property
    def bytes(self) -> int:
        return sum(o.size or 0 for o in self.outcomes if o.status in ("stored", "present"))

    @property
    def complete(self) -> bool:
        """Every regular file is stored (or was already)."""
        return all(o.status != "failed" for o in self.outcomes)

    @property
    def may_wipe(self) -> bool:
        """Every regular file is stored and read back equal from the store's disk."""
        return self.complete and self.readback and not self.dry_run and all(
            o.readback == "equal" for o in self.outcomes if o.status in ("stored", "present"))

    @property
    def verdict(self) -> str:
        if self.dry_run:
            return "dry_run"
        if not self.complete:
            return "incomplete"
        return "may_wipe" if self.may_wipe else "stored_not_reread"

    @property
    def throughput_bps(self) -> int:
        return self.bytes * 1000 // self.elapsed_ms if self.elapsed_ms else 0

    def as_data(self) -> dict:
        return {"seen": len(self.outcomes), "stored": self.count("stored"),
                "present": self.count("present"), "not_stored": self.count("failed"),
                "skipped": self.count("skipped"), "damaged": len(self.damaged),
                "unprobed": len(self.unprobed), "bytes": self.bytes,
                "copied_bytes": self.copied_bytes, "elapsed_ms": self.elapsed_ms,
                "throughput_bps": self.throughput_bps, "readback": self.readback,
                "verdict": self.verdict, "started_at": self.started_at,
                "finished_at": self.finished_at,
                "not_stored_files": [o.as_data() for o in self.outcomes if o.status in ("failed", "skipped")]}


@dataclass(frozen=True)
class LinkTarget:
    """Where ``add`` links what it stores: a case at a stage, and/or a party (as typed)."""

    case_ref: str | None = None
    stage: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class Options:
    """What the clerk said about the files of one batch (checked when the batch starts)."""

    officer: str | None = None
    device: str | None = None
    doc_type: str | None = None
    readback: bool = True
    dry_run: bool = False

    def checked(self, ix: Index) -> Options:
        """These options with officer (a 执法证号, or a registered officer's name), device and
        doc type validated (RK4xx when not)."""
        return Options(officer=resolve.officer(ix, self.officer) if self.officer is not None else None,
                       device=check_device(self.device) if self.device is not None else None,
                       doc_type=validate.optional_text(self.doc_type, _("the doc type")),
                       readback=self.readback, dry_run=self.dry_run)


# -- walking ---------------------------------------------------------------------
def walk(root: bytes) -> Iterator[tuple[bytes, os.stat_result | None, str | None]]:
    """Every entry under ``root`` (relative path, lstat, error), sorted, depth first, links not
    followed; a folder that cannot be read is one entry with its error. The folders in hand are
    a list, not the call stack, so a tree of any depth is walked."""
    def listed(path: bytes) -> Iterator[os.DirEntry]:
        return iter(sorted(os.scandir(path), key=lambda e: e.name))

    try:
        open_folders = [(b"", listed(root))]
    except OSError as exc:
        yield b"", None, _("directory could not be read: {error}").format(error=exc.strerror)
        return
    while open_folders:
        prefix, entries = open_folders[-1]
        entry = next(entries, None)
        if entry is None:
            open_folders.pop()
            continue
        rel = os.path.join(prefix, entry.name) if prefix else entry.name
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            yield rel, None, _("could not be read: {error}").format(error=exc.strerror)
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield rel, st, None
            continue
        try:
            open_folders.append((rel, listed(entry.path)))
        except OSError as exc:
            yield rel, None, _("directory could not be read: {error}").format(error=exc.strerror)


def special_reason(path: bytes, st: os.stat_result) -> str:
    """Why a non-regular entry is listed and not stored."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        try:
            target = display_path(journaled_path(os.readlink(path)))
        except OSError:
            target = "?"
        return _("symlink to {target}: not followed").format(target=target)
    kinds = {stat.S_ISFIFO: _("FIFO: not a regular file"), stat.S_ISSOCK: _("socket: not a regular file"),
             stat.S_ISCHR: _("character device: not a regular file"),
             stat.S_ISBLK: _("block device: not a regular file"),
             stat.S_ISDIR: _("directory: not a regular file")}
    for test, said in kinds.items():
        if test(mode):
            return said
    return _("not a regular file")


# -- the pipeline ---------------------------------------------------------------------
class _Batch:
    """One add or import: copies, probes in a pool, commits events in groups."""

    def __init__(self, archive: Archive, command: str, source: bytes | None, options: Options,
                 link: LinkTarget | None = None) -> None:
        if not options.dry_run:
            archive.require_can_write(["record.imported", "batch.finished"])
        options = options.checked(archive.index)  # opened and caught up before copies fill the disk
        self.archive = archive
        self.options = options
        self.zone_name = archive.settings.timezone
        self.patterns = _patterns(archive)
        self.ffprobe = archive.settings.section("media").get("ffprobe")
        self.source = source  # the folder's bytes, journaled as path_fields: printable and exact
        shown = display_path(journaled_path(source)) if source else None
        self.receipt = Receipt(uuid.uuid4().hex, command, shown,
                               archive.now(), options.readback, options.dry_run)
        self.pending: list[tuple[Outcome, Future | None, bytes]] = []
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="probe")
        self.copiers = ThreadPoolExecutor(max_workers=COPIERS, thread_name_prefix="copy")
        self.inflight: deque[tuple[Future, bytes]] = deque()
        self.buffers = threading.local()
        self.tally = Progress(command, "bytes", items="files")
        self.last_commit = time.monotonic()
        self.t0 = time.monotonic()
        self.important: list[str] = []  # digests of new records marked important
        self.link = link  # with a link target, everything is journaled in one append at the end
        self.linked: list[str] = []

    def close(self) -> None:
        self.copiers.shutdown(wait=True, cancel_futures=True)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def add_entry(self, full: bytes, rel: bytes, st: os.stat_result | None, error: str | None) -> None:
        """Queue one entry; regular files are copied by the copy pool, results kept in order."""
        if error is not None:
            done = Outcome(rel, "failed", code=errors.SourceUnreadable.code, reason=error)
        elif st is not None and not stat.S_ISREG(st.st_mode):
            done = Outcome(rel, "skipped", code=errors.NotARegularFile.code,
                           reason=special_reason(full, st))
        else:
            self.inflight.append((self.copiers.submit(self._store, full, rel), full))
            self._drain(keep=COPIES_IN_FLIGHT)
            return
        self.add_outcome(done, full)

    def add_outcome(self, outcome: Outcome, full: bytes) -> None:
        """Queue an entry already decided (not copied), keeping source order."""
        future: Future = Future()
        future.set_result(outcome)
        self.inflight.append((future, full))
        self._drain(keep=COPIES_IN_FLIGHT)

    def _drain(self, keep: int = 0) -> None:
        """Take finished copies in source order until at most ``keep`` are in flight."""
        while self.inflight and (len(self.inflight) > keep or self.inflight[0][0].done()):
            future, full = self.inflight.popleft()
            self._settle(future.result(), full)

    def _settle(self, outcome: Outcome, full: bytes) -> None:
        future = None
        if outcome.status in ("stored", "present") and not self.options.dry_run:
            if outcome.status == "stored":
                self.receipt.copied_bytes += outcome.size or 0
            if not self._known(outcome.digest):
                future = self.pool.submit(self._probe, outcome.digest, outcome.path)
        self.receipt.outcomes.append(outcome)
        self.pending.append((outcome, future, full))
        tell(self.archive.watch, self.tally, done=outcome.size or 0, items_done=1)
        if self.link is None and (len(self.pending) >= COMMIT_EVERY_FILES
                                  or time.monotonic() - self.last_commit >= COMMIT_EVERY_SECONDS):
            self.commit()

    def _known(self, digest: str) -> bool:
        return records.has_record(self.archive.index, digest)

    def _probe(self, digest: str, rel: bytes) -> media.MediaFacts:
        """Media facts of a stored blob; a missing ffprobe never blocks storing evidence: the
        file is then ``unprobed``, which says nothing of the file itself."""
        with self.archive.objects.local_file(digest) as path:
            try:
                return media.probe(path, name=os.path.basename(rel), timezone=self.zone_name,
                                   ffprobe=self.ffprobe)
            except errors.ToolMissing as exc:
                with open(path, "rb") as f:
                    kind = media.detect_kind(f.read(media.HEAD_BYTES), os.path.basename(rel))
                return media.MediaFacts(kind, "unprobed", f"{exc.code}: {i18n.english_of(exc.message)}")

    def _store(self, full: bytes, rel: bytes) -> Outcome:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(full, flags)
        except OSError as exc:
            return Outcome(rel, "failed", code=errors.SourceUnreadable.code,
                           reason=_("could not be opened: {error}").format(error=exc.strerror))
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                return Outcome(rel, "skipped", code=errors.NotARegularFile.code,
                               reason=special_reason(full, before))
            outcome = Outcome(rel, "failed", size=before.st_size, mtime=self._mtime(before))
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)

            def unchanged(digest: str, size: int) -> None:
                """The source did not change while it was read: else nothing is placed."""
                after = os.fstat(fd)
                if size != before.st_size or after.st_size != before.st_size \
                        or after.st_mtime_ns != before.st_mtime_ns:
                    outcome.digest = digest
                    raise errors.SourceUnstable(_("changed while being read ({before} bytes before, "
                                                  "{read} read, {after} after): not recorded as good").format(
                        before=before.st_size, read=size, after=after.st_size))

            try:
                put = self._copy_or_hash(fd, unchanged)
            except (errors.SourceUnreadable, errors.SourceUnstable, errors.StoreError) as exc:
                outcome.code, outcome.reason = exc.code, exc.message
                return outcome
        finally:
            os.close(fd)
        outcome.digest, outcome.size = put.digest, put.size
        outcome.status = "stored" if put.new_blob else "present"
        if self.options.readback and not self.options.dry_run:
            try:
                digest, size = put.reread or self.archive.objects.readback(put.digest)
            except errors.StoreError as exc:
                outcome.status, outcome.code = "failed", exc.code
                outcome.reason = _("the stored copy could not be read back: {message}").format(
                    message=exc.message)
                return outcome
            outcome.readback = "equal" if (digest, size) == (put.digest, put.size) else "mismatch"
            if outcome.readback == "mismatch":
                outcome.status, outcome.code = "failed", errors.ReadbackMismatch.code
                outcome.reason = _("the stored copy did not read back equal from disk")
        return outcome

    def _mtime(self, st: os.stat_result) -> str | None:
        """The file's modification time in the store's zone (None when no date can show it)."""
        try:
            moment = datetime.fromtimestamp(st.st_mtime_ns / 1e9, self.archive.settings.zone)
        except (OverflowError, OSError, ValueError):
            return None
        return moment.isoformat(timespec="milliseconds")

    def _source(self, outcome: Outcome) -> dict:
        """Where the bytes were seen: the path, and the file's time when it lies in the window."""
        settings = self.archive.settings
        mtime = outcome.mtime if in_window(outcome.mtime, settings.zone, settings.window) else None
        return {**path_fields(outcome.path), "mtime": mtime}

    def _buffer(self) -> AlignedBuffer:
        """This copier thread's own read buffer (freed with the thread)."""
        buffer = getattr(self.buffers, "buffer", None)
        if buffer is None:
            buffer = self.buffers.buffer = AlignedBuffer()
        return buffer

    def _copy_or_hash(self, fd: int, accept: Callable[[str, int], None]) -> PutResult:
        """Copy into the store, or for a dry run only hash and look the digest up; ``accept``
        decides, once the bytes are read, whether they may be placed."""
        if not self.options.dry_run:
            return self.archive.objects.put_fd(fd, buffer=self._buffer(), reread=self.options.readback,
                                               accept=accept)
        digest, size, _ = hash_fd(fd, buffer=self._buffer())
        accept(digest, size)
        return PutResult(digest, size, not self.archive.objects.exists(digest))

    def commit(self, closing: Callable[[], list[Draft]] | None = None) -> None:
        """Journal every finished entry (its probe waited for) in one transaction; ``closing``
        gives drafts to append after them in that same transaction (the batch's last)."""
        ready, self.pending = self.pending, []
        facts = {}
        for outcome, future, _full in ready:
            if future is not None:
                facts[id(outcome)] = future.result()
        if self.options.dry_run:
            return

        def named_first(item: tuple[Outcome, Future | None, bytes]) -> bool:
            return self._name(item[0]) is None

        def build() -> list[Draft]:
            drafts = []
            for outcome, _future, _full in sorted(ready, key=named_first):  # a named one describes best
                if outcome.status not in ("stored", "present"):
                    continue
                tagged = "blake3:" + outcome.digest
                known = records.record(self.archive.index, outcome.digest)
                if known is not None and known["disposed_seq"] is not None and not any(
                        d.type == "record.restored" and d.data["digest"] == tagged for d in drafts):
                    # a disposed record's bytes brought again: the record is whole again
                    drafts.append(Draft("record.restored", {**self._seen_data(outcome),
                                                            "disposed_seq": known["disposed_seq"]}))
                    continue
                if known is not None or any(d.type in ("record.imported", "record.restored")
                                            and d.data["digest"] == tagged for d in drafts):
                    drafts.append(Draft("record.seen", self._seen_data(outcome)))
                    continue
                found = facts.get(id(outcome)) or self._probe(outcome.digest, outcome.path)
                outcome.new_record = True
                outcome.kind = found.kind
                outcome.damage = _damage(found.probe_status, found.probe_error)
                outcome.unprobed = found.probe_status == "unprobed"
                drafts.append(Draft("record.imported", self._imported_data(outcome, found)))
            return drafts + (closing() if closing else [])

        events = self.archive.transact(build)
        self.important += self._important(events)
        for outcome, _future, _full in ready:
            if outcome.kind is None and outcome.digest and outcome.status in ("stored", "present"):
                row = records.record(self.archive.index, outcome.digest)
                if row is not None:
                    outcome.kind = row["kind"]
                    outcome.damage = _damage(row["probe_status"], row["probe_error"])
                    outcome.unprobed = row["probe_status"] == "unprobed"
        self.last_commit = time.monotonic()

    def _important(self, events: list[Event]) -> list[str]:
        """Digests of the records these events stored or saw again that are marked important
        (seen again too: an import cut short before its lock is finished by its re-run)."""
        digests = [e.data["digest"].split(":", 1)[1] for e in events
                   if e.type in ("record.imported", "record.seen", "record.restored")]
        return records.important_among(self.archive.index, digests) if digests else []

    def _lock_important(self) -> None:
        """Records the camera marked important are permanent: lengthen their blobs' Object
        Lock now (a no-op without one, and for blobs locked that long already). A failure
        does not undo the import; the receipt says so and ``retention lock`` finishes it."""
        try:
            lock_permanent(self.archive, sorted({*self.important, *self.linked}))
        except errors.RecordkeepError as exc:
            self.receipt.lock_error = _("{code} {message}: the records marked important are stored, their "
                                        "permanent lock is not; once this is fixed, run "
                                        "'recordkeep retention lock'").format(code=exc.code,
                                                                               message=exc.message)

    def _seen_data(self, outcome: Outcome) -> dict:
        """A sighting: which batch saw the bytes, where, what the clerk said they are, and
        whether this file's name marks them important (重要文件: the mark protects the record
        whichever sighting carries it)."""
        data = {"digest": "blake3:" + outcome.digest, "batch": self.receipt.batch,
                "source": self._source(outcome)}
        if self.options.doc_type:
            data["doc_type"] = self.options.doc_type
        name = self._name(outcome)
        if name is not None and name.important:
            data["important"] = True
        return data

    def _name(self, outcome: Outcome) -> naming.NameFacts | None:
        """What the file's name says (device, officer, time, importance), by the store's patterns."""
        return naming.parse_name(os.fsdecode(os.path.basename(outcome.path)), patterns=self.patterns,
                                 timezone=self.zone_name)

    def _imported_data(self, outcome: Outcome, facts: media.MediaFacts) -> dict:
        name = self._name(outcome)
        data = {"digest": "blake3:" + outcome.digest, "size": outcome.size, "kind": facts.kind,
                "batch": self.receipt.batch, "media": facts.to_data(), "source": self._source(outcome)}
        if name is not None:
            data["name"] = name.to_data()
        file_time = outcome.mtime if facts.kind in FILE_TIMED_KINDS else None
        data.update(_when(facts, name, file_time, self.archive.settings.zone, self.archive.settings.window))
        data.update(_who(self.options, facts, name))
        if "officer" not in data and data.get("device"):
            assigned = people.officer_of_device(self.archive.index, data["device"], data.get("recorded_at"))
            if assigned:
                data.update(officer=assigned, officer_source="device")
        if self.options.doc_type:
            data["doc_type"] = self.options.doc_type
        if name is not None and name.important:
            data["important"] = True
        return data

    def finish(self) -> Receipt:
        """Journal the last entries, the links (for ``add`` with a target) and the receipt
        (``batch.finished``) in one append; then lengthen the locks of what became permanent."""
        self._drain()
        r = self.receipt
        r.finished_at = self.archive.now()
        r.elapsed_ms = max(1, int((time.monotonic() - self.t0) * 1000))
        self.commit(closing=self._closing)
        if self.important or self.linked:  # after the receipt: a bucket that fails here cannot stop it
            self._lock_important()
        return r

    def _closing(self) -> list[Draft]:
        """The batch's last drafts: its links, then its receipt."""
        r = self.receipt
        drafts = []
        stored = sorted({o.digest for o in r.outcomes if o.status in ("stored", "present") and o.digest})
        if self.link is not None and stored:
            target = self.link
            drafts.append(Draft("record.linked", link_data(self.archive, target.case_ref, stored,
                                                           target.stage, target.party)))
            self.linked = stored
        drafts.append(Draft("batch.finished", {
            "batch": r.batch, "command": r.command, "source": r.source,
            **({"source_hex": hexed} if (hexed := path_fields(self.source or b"").get("path_hex")) else {}),
            "options": {k: v for k, v in vars(self.options).items() if v not in (None, False)},
            "receipt": r.as_data()}))
        return drafts


def _patterns(archive: Archive) -> tuple[naming.NamePattern, ...]:
    items = archive.settings.section("naming").get("patterns", [])
    return naming.patterns_from_config(items) + naming.DEFAULT_PATTERNS


def _damage(probe_status: str | None, probe_error: str | None) -> str | None:
    """Why a stored file's media is damaged (probe failed, or its structure looks cut), or None."""
    if probe_status in ("failed", "suspect"):
        return probe_error or _("the file's media cannot be read")
    return None


def _when(facts: media.MediaFacts, name: naming.NameFacts | None, file_time: str | None, zone,
          window: Window) -> dict:
    """Recorded time: embedded metadata wins over the file name; a disagreement is kept. A
    time outside the store's window (a clock never set, a name typed wrong) is ignored, and
    the record says so (``time_ignored``). With neither, ``file_time`` (the file's
    modification time, given for clips only) dates the record, marked
    ``time_source: "mtime"``; it too is ignored outside the window."""
    found = {"metadata": facts.recorded_at, "name": name.started_at if name else None}
    usable = {k: v if in_window(v, zone, window) else None for k, v in found.items()}
    ignored = [{"source": k, "value": v, "why": f"outside {window}"} for k, v in found.items()
               if v and not usable[k]]
    data = _chosen_time(usable["metadata"], usable["name"])
    if not data and file_time:
        if in_window(file_time, zone, window):
            data = {"recorded_at": file_time, "time_source": "mtime"}
        else:
            ignored.append({"source": "mtime", "value": file_time, "why": f"outside {window}"})
    if ignored:
        data["time_ignored"] = ignored
    return data


def _chosen_time(from_metadata: str | None, from_name: str | None) -> dict:
    """Metadata wins over the name; a disagreement of more than a minute is kept."""
    if from_metadata:
        data = {"recorded_at": from_metadata, "time_source": "metadata"}
        if from_name:
            gap = abs((datetime.fromisoformat(from_metadata)
                       - datetime.fromisoformat(from_name)).total_seconds())
            if gap > TIME_CONFLICT_SECONDS:
                data["time_conflict"] = {"metadata": from_metadata, "name": from_name,
                                         "seconds": int(gap)}
        return data
    if from_name:
        return {"recorded_at": from_name, "time_source": "name"}
    return {}


def _who(options: Options, facts: media.MediaFacts, name: naming.NameFacts | None) -> dict:
    """Officer: the clerk's flag, else embedded metadata, else the file name (then,
    by the caller, the device's assignment at the recorded time)."""
    data = {}
    for source, value in (("flag", options.officer), ("metadata", facts.officer),
                          ("name", name.officer if name else None)):
        if value:
            data.update(officer=value, officer_source=source)
            break
    device = options.device or (name.device if name else None) or facts.serial
    if device:
        data["device"] = device
    return data


# -- entry points -------------------------------------------------------------------
def add_files(archive: Archive, paths: list[str | bytes | os.PathLike], *,
              options: Options = Options(),
              link: LinkTarget | None = None) -> Receipt:
    """Store the given files (each a regular file) as records, linked to ``link`` when given
    (records, links and receipt in one append); return the receipt. NothingStored when no
    argument is a regular file (nothing would be stored). Progress goes to ``archive.watch``."""
    _storable(paths)
    batch = _Batch(archive, "add", None, options, link)
    try:
        for p in paths:
            full = os.fsencode(p)
            shown = os.fsencode(os.path.abspath(full))
            try:
                st = os.lstat(full)
            except OSError as exc:
                code = (errors.SourceNotFound.code if isinstance(exc, FileNotFoundError)
                        else errors.SourceUnreadable.code)
                batch.add_outcome(Outcome(shown, "failed", code=code,
                                          reason=_("could not be read: {error}").format(
                                              error=exc.strerror)), full)
                continue
            if stat.S_ISDIR(st.st_mode):
                batch.add_outcome(Outcome(shown, "failed", code=errors.NotARegularFile.code,
                                          reason=_("a directory: use 'recordkeep import' for a folder")),
                                  full)
                continue
            batch.add_entry(full, shown, st, None)
        return batch.finish()
    finally:
        batch.close()


def import_dump(archive: Archive, dump: str | bytes | os.PathLike, *,
                options: Options = Options()) -> Receipt:
    """Store every regular file under the folder ``dump``; list everything else. The dump
    may neither be nor hold the store, nor lie inside it (InvalidPath). Progress goes to
    ``archive.watch``."""
    root = os.fsencode(validate.given_path(dump))
    if not os.path.isdir(root):
        raise errors.SourceNotFound(_("the dump is not a folder"), path=root)
    _apart_from_store(archive, root, _("the dump"))
    entries = list(walk(root))
    batch = _Batch(archive, "import", os.path.abspath(root), options)
    batch.tally.items_total = len(entries)
    batch.tally.total = sum(st.st_size for _, st, _ in entries
                                  if st is not None and stat.S_ISREG(st.st_mode))
    try:
        for rel, st, error in entries:
            batch.add_entry(os.path.join(root, rel) if rel else root, rel or b".", st, error)
        receipt = batch.finish()
    finally:
        batch.close()
    if not options.dry_run:
        _anchor(archive, receipt)
    return receipt


def _anchor(archive: Archive, receipt: Receipt) -> None:
    """The checkpoint ``[anchor] auto`` asks for, said on the receipt (its failure too: the
    import itself is done and journaled). A store without an ``[anchor]`` table makes none, and
    then does not load the checkpoint code at all."""
    if not archive.settings.section("anchor"):
        return
    from . import anchoring

    try:
        made = anchoring.after_import(archive)
    except errors.RecordkeepError as exc:
        receipt.checkpoint_error = str(exc)
        return
    if made is not None:
        receipt.checkpoint = made.as_data()
        receipt.checkpoint_error = "; ".join(str(p) for p in made.problems) or None


def add_and_link(archive: Archive, paths: list, *, case_ref: str | None, stage: str | None,
                 party: str | None, options: Options) -> Receipt:
    """``add`` with ``--case/--stage/--party``: the target checked first (and the chain, as
    for every case or party write), then the files stored, and records, links and receipt
    journaled in one append. Returns the receipt."""
    slug = parse_stage(stage, archive.settings.acts) if stage else None
    case_no = None
    if case_ref is not None:
        if slug is None:
            raise errors.BadStage(_("adding to a case needs --stage"))
        case_no = resolve.case(archive.index, case_ref)
        require_not_voided(archive, case_no, "link")  # before any byte is stored
    elif slug is not None:
        raise errors.InvalidValue(_("--stage needs --case"))
    if party is not None:
        link_party(archive, case_no, party)  # a party of the case, when one is named
    target = None
    if (case_ref is not None or party is not None) and not options.dry_run:
        archive.require_intact_chain()
        target = LinkTarget(case_ref, slug, party)
    return add_files(archive, paths, options=options, link=target)
def _apart_from_store(archive: Archive, path: bytes, what: str) -> None:
    """InvalidPath when ``path`` is the store, lies inside it, or holds it."""
    inner, store = os.path.realpath(path), os.path.realpath(os.fsencode(archive.root))
    if inner == store or inner.startswith(store + b"/") or store.startswith(inner.rstrip(b"/") + b"/"):
        raise errors.InvalidPath(_("{what} overlaps the store itself").format(what=what), path=path,
                                 hint=_("import from the recorder's card or a copy outside the store"))


def _storable(paths: list) -> None:
    """NothingStored, naming each argument, when every one of ``paths`` exists and none is a
    regular file (a missing or unreadable file is a file not stored: the receipt says so)."""
    why = []
    for p in paths:
        full = os.fsencode(validate.given_path(p))
        try:
            st = os.lstat(full)
        except OSError:
            return
        if stat.S_ISREG(st.st_mode):
            return
        folder = _("a directory: use 'recordkeep import' for a folder") if stat.S_ISDIR(st.st_mode) else None
        why.append(f"{display_path(full)}: {folder or special_reason(full, st)}")
    raise errors.NothingStored(_("nothing to store: {why}").format(why="; ".join(why)))
