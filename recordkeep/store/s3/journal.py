"""The journal in an S3 bucket: one immutable object per event, ``journal/<seq>.json``.

Each object holds exactly the event's line of the local layout (canonical JSON,
then ``\\n``), named by its seq with twelve digits, so listing returns the journal
in order and ``cat journal/*.json`` is byte for byte an ``events.jsonl``. The
chain is the same: ``prev`` is the hash of seq - 1.

Appending seq N is a conditional create (``If-None-Match: *``): of two stations
that both read head N - 1, exactly one creates N; the other gets 412, re-reads the
head, rebuilds its events against it and retries (``Archive.transact``). A batch
of events is written in seq order, one object after the other; every object of a
batch carries ``x-amz-meta-rk-batch: FIRST-LAST`` and ``x-amz-meta-rk-writer``, so a
writer that finds the head inside someone else's unfinished batch waits for it
rather than cutting in. A batch left unfinished (its writer died: same host and
the process is gone, or no progress for ``batch_wait`` seconds) is closed by the
next writer, which journals ``journal.batch_cut`` first, as a local writer journals
a torn tail it sets aside. Head discovery is a listing after the last known seq.

Positions (``Event.offset``) are the seqs themselves; ``end`` is seq + 1.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ... import errors
from ...i18n import N_, _
from ..fs import alive, fsync_dir, os_error
from ..journal import (
    ZERO_HASH,
    ChainProblem,
    ChainReport,
    Draft,
    Event,
    Head,
    ReentrantFlock,
    Seal,
    TornTail,
    canonical,
    chain,
    check_line,
    parse_line,
)
from .bucket import Bucket, is_missing, is_precondition_failed
from .objects import bounded_map

JOURNAL = "journal/"
LOCK_FILE = "journal.lock"
BATCH_CUT = "journal.batch_cut"
BATCH_WAIT_SECONDS = 30.0
GET_WINDOW = 16
_NAME = re.compile(r"(\d{12})\.json")


def object_name(seq: int) -> str:
    """``journal/000000000042.json``."""
    return f"{JOURNAL}{seq:012d}.json"


class S3Journal:
    """The journal as one object per event in a bucket; a local lock file serialises this
    workstation's writers and index catch-ups."""

    def __init__(self, root: str | os.PathLike, bucket: Bucket, *,
                 batch_wait: float = BATCH_WAIT_SECONDS) -> None:
        self.root = Path(root)
        self.bucket = bucket
        self.location = bucket.url(JOURNAL)
        self.lock_path = self.root / LOCK_FILE
        self.batch_wait = batch_wait
        self.writer = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._tip: Head | None = None
        self._flock = ReentrantFlock(self.lock_path, os.O_RDWR | os.O_CREAT,
                                     "opening the journal's lock file")
        self._pool = None
        self._pool_lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------------
    def present(self) -> bool:
        return self.lock_path.is_file()

    def create(self) -> None:
        """The local side of the journal: its lock file (the bucket needs nothing)."""
        try:
            fd = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            os.fsync(fd)
            os.close(fd)
            fsync_dir(self.root)
        except OSError as exc:
            raise os_error(exc, N_("creating the journal's lock file"), self.lock_path) from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def pool(self):
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=GET_WINDOW, thread_name_prefix="s3-journal")
        return self._pool

    def _key(self, seq: int) -> str:
        return self.bucket.key(object_name(seq))

    def _list(self, after: int) -> Iterator[tuple[int | None, str]]:
        """(seq, name) of every object under journal/ after seq ``after``'s name, in key
        order; seq is None for a name that is not ``<12 digits>.json``."""
        skip = len(self.bucket.location.prefix)
        with self.bucket.guard(N_("listing the journal"), JOURNAL):
            pages = self.bucket.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket.name, Prefix=self.bucket.key(JOURNAL), StartAfter=self._key(after))
            for page in pages:
                for item in page.get("Contents", ()):
                    name = item["Key"][skip:]
                    m = _NAME.fullmatch(name[len(JOURNAL):])
                    yield (int(m.group(1)) if m else None), name

    def _contiguous(self, after: int, stop: int | None = None) -> list[int]:
        """The seqs after ``after`` that follow it without a gap (up to ``stop``, exclusive)."""
        seqs, last = [], after
        for seq, _name in self._list(after):
            if seq is None:
                continue
            if seq != last + 1 or (stop is not None and seq >= stop):
                break
            seqs.append(seq)
            last = seq
        return seqs

    def _get(self, seq: int) -> tuple[bytes, dict] | None:
        """The object's bytes and user metadata, or None when it does not exist."""
        from botocore.exceptions import ClientError

        name = object_name(seq)
        with self.bucket.guard(N_("reading the journal"), name):
            try:
                answer = self.bucket.client.get_object(Bucket=self.bucket.name, Key=self._key(seq))
            except ClientError as exc:
                if is_missing(exc):
                    return None
                raise
            return answer["Body"].read(), answer.get("Metadata", {})

    def _event(self, seq: int, raw: bytes | None) -> Event:
        name = object_name(seq)
        if raw is None:
            raise errors.JournalCorrupt(_("{name} disappeared while it was read").format(name=name),
                                        path=self.location)
        if not raw.endswith(b"\n") or b"\n" in raw[:-1]:
            raise errors.JournalCorrupt(_("{name} does not hold exactly one line").format(name=name),
                                        path=self.location)
        event = parse_line(raw[:-1], seq, 1)
        if event.seq != seq:
            raise errors.JournalCorrupt(_("{name} holds seq {seq}").format(name=name, seq=event.seq),
                                        path=self.location)
        return event

    def _fetch(self, seqs: Iterable[int]) -> Iterator[tuple[int, bytes | None]]:
        def one(seq: int) -> tuple[int, bytes | None]:
            got = self._get(seq)
            return seq, None if got is None else got[0]
        return bounded_map(self.pool, one, seqs, GET_WINDOW)

    # -- reading -------------------------------------------------------------------------------
    def head(self, since: Head | None = None) -> Head:
        """List after the best known head (``since``, or the last this object saw)."""
        base = max((h for h in (since, self._tip) if h is not None and h.seq > 0),
                   key=lambda h: h.seq, default=None)
        after = base.seq if base else 0
        seqs = self._contiguous(after)
        if not seqs:
            return Head(base.seq, base.hash, base.seq + 1) if base else Head(0, ZERO_HASH, 0)
        last = seqs[-1]
        got = self._get(last)
        event = self._event(last, None if got is None else got[0])
        self._tip = Head(event.seq, event.hash, event.end)
        return self._tip

    def read_tail(self) -> tuple[Head, TornTail | None]:
        return self.head(), None

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[Event]:
        """Events with seq from ``start`` (at least 1) up to ``stop`` (exclusive), in order."""
        first = max(start, 1)
        for seq, raw in self._fetch(self._contiguous(first - 1, stop)):
            event = self._event(seq, raw)
            if self._tip is None or event.seq > self._tip.seq:
                self._tip = Head(event.seq, event.hash, event.end)
            yield event

    def prefix_digest(self, end: int) -> str | None:
        return None  # one object per event: a whole check walks them all

    def first(self) -> Event | None:
        [(_, raw)] = list(self._fetch([1]))
        return None if raw is None else self._event(1, raw)

    def lines_at(self, positions: Iterable[int]) -> list[bytes]:
        lines = []
        for seq, raw in self._fetch(list(positions)):
            self._event(seq, raw)  # one line holding that seq, or JournalCorrupt
            lines.append(raw[:-1])
        return lines

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """This workstation's writers one at a time (re-entrant within this process).

        Other workstations are kept out by the conditional creates, not by this lock."""
        with self._flock.held():
            yield

    def append(self, drafts: list[Draft], *, actor: str, at: str, expect_head: str,
               seal: Seal | None = None, cut_unsealed: bool = False) -> list[Event]:
        """Chain ``drafts`` (and ``seal``'s draft after them) after ``expect_head`` and create
        their objects, in seq order.

        Raises HeadMoved when the head is not ``expect_head``, when another station
        created the next seq first, or when another writer's batch was still being
        written (the caller catches up and retries, and signs again). Every batch is
        written whole or cut by the next writer, so ``cut_unsealed`` needs nothing more here.
        """
        with self.locked():
            head = self.head()
            if head.hash != expect_head:
                raise errors.HeadMoved(_("journal head is seq {seq}, not the expected one").format(
                    seq=head.seq), path=self.location)
            cut = self._unfinished_batch(head)
            if cut is not None:
                drafts = [cut, *drafts]
            chained = chain(drafts, actor=actor, at=at, after=head, seal=seal)
            first, last = head.seq + 1, head.seq + len(chained)
            metadata = {"rk-batch": f"{first}-{last}", "rk-writer": self.writer}
            lock = self.bucket.lock_args(self.bucket.journal_lock_days)
            events = []
            for i, e in enumerate(chained):
                if not self._create(e.seq, canonical(e.as_dict()) + b"\n", metadata, lock):
                    self._tip = None
                    what = (_("journal seq {seq} is taken: another station appended it first") if i == 0 else
                            _("journal seq {seq} is taken: another station continued after seq {before}, "
                              "cutting this batch"))
                    raise errors.HeadMoved(what.format(seq=e.seq, before=e.seq - 1), path=self.location)
                events.append(Event(e.seq, e.type, e.at, e.actor, e.data, e.prev, e.hash, e.seq, 1, e.line))
                self._tip = Head(e.seq, e.hash, e.seq + 1)
        return events

    def _create(self, seq: int, line: bytes, metadata: dict, lock: dict) -> bool:
        """Create ``journal/<seq>.json``; False when it exists with other content."""
        from botocore.exceptions import ClientError

        name = object_name(seq)
        with self.bucket.guard(N_("appending to the journal"), name):
            try:
                self.bucket.client.put_object(Bucket=self.bucket.name, Key=self._key(seq), Body=line,
                                              IfNoneMatch="*", Metadata=metadata,
                                              ContentType="application/json", **lock)
                return True
            except ClientError as exc:
                if not is_precondition_failed(exc):
                    raise
        got = self._get(seq)  # our own earlier attempt, answered too late, also says 412
        return got is not None and got[0] == line

    def _unfinished_batch(self, head: Head) -> Draft | None:
        """Wait while another writer's batch is being written; close it when abandoned."""
        if head.seq == 0:
            return None
        got = self._get(head.seq)
        meta = got[1] if got else {}
        try:
            first, last = (int(x) for x in meta.get("rk-batch", "").split("-"))
        except ValueError:
            return None
        if head.seq >= last:
            return None
        writer = meta.get("rk-writer", "")
        seen, deadline = head.seq, time.monotonic() + self.batch_wait
        while not (gone := self._gone(writer)) and time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.head()
            if now.seq >= last:
                break
            if now.seq != seen:
                seen, deadline = now.seq, time.monotonic() + self.batch_wait
        if seen != head.seq or self.head().seq != head.seq:
            raise errors.HeadMoved(_("another writer's batch was being written: read it first"),
                                   path=self.location)
        waited = {} if gone else {"wait_ms": round(self.batch_wait * 1000)}  # [backend]: not recorded
        return Draft(BATCH_CUT, {"after_seq": head.seq, "batch_first": first, "batch_last": last,
                                 "missing": last - head.seq, "writer": writer,
                                 "why": "writer_gone" if gone else "no_progress", **waited})

    def _gone(self, writer: str) -> bool:
        """Whether the writer of an unfinished batch can no longer finish it."""
        if writer == self.writer:
            return True
        host, _, rest = writer.partition(":")
        pid = rest.partition(":")[0]
        return host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() \
            and not alive(int(pid))

    # -- verifying -------------------------------------------------------------------------------
    def verify_chain(self, head: str | None = None, since: Head | None = None,
                     visit: Callable[[Event], None] | None = None) -> ChainReport:
        """Walk every object under journal/ (after ``since``, an object verified before that
        must still hold the same line); report the first bad one (edited, deleted,
        reordered, inserted, or not an event object)."""
        prev, seq, lines, end = ZERO_HASH, 0, 0, 0
        found = None if head is None else False
        if since is not None and since.seq:
            [(_seq, raw)] = list(self._fetch([since.seq]))
            try:
                held = raw is not None and self._event(since.seq, raw).hash == since.hash
            except errors.JournalCorrupt:
                held = False
            if not held:
                problem = ChainProblem.of(since.seq, errors.HeadNotFound, _(
                    "{name} no longer holds the line verified before: cut or rewritten").format(
                        name=object_name(since.seq)))
                return ChainReport(0, Head(0, ZERO_HASH, 0), problem, None, found)
            prev, seq, lines, end = since.hash, since.seq, since.seq, since.end
            if head is not None and since.hash == head:
                found = True
        listed = list(self._list(seq))
        strays = {i for i, (s, _) in enumerate(listed) if s is None}
        fetched = self._fetch(s for s, _ in listed if s is not None)
        for i, (kseq, name) in enumerate(listed):
            lines += 1
            if i in strays:
                problem = ChainProblem.of(lines, errors.LineNotEvent,
                                          _("{name} is not an event object (stray)").format(name=name))
                return ChainReport(lines - 1, Head(seq, prev, end), problem, None, found)
            _seq, raw = next(fetched)
            problem = None
            if raw is None or not raw.endswith(b"\n") or b"\n" in raw[:-1]:
                problem = ChainProblem.of(lines, errors.LineNotEvent,
                                          _("{name} does not hold exactly one line").format(name=name))
            else:
                problem, _event = check_line(raw[:-1], kseq, lines, seq, prev)
                if problem is not None:
                    problem = ChainProblem(problem.line, problem.code, f"{name}: {problem.message}")
            if problem is None:
                event = parse_line(raw[:-1], kseq, 1)
                if event.seq != kseq:
                    problem = ChainProblem.of(lines, errors.SeqOutOfOrder,
                                              _("{name} holds seq {seq}").format(name=name, seq=event.seq))
            if problem is not None:
                return ChainReport(lines - 1, Head(seq, prev, end), problem, None, found)
            prev, seq, end = event.hash, event.seq, event.end
            if head is not None and event.hash == head:
                found = True
            if visit is not None:
                visit(event)
        return ChainReport(lines, Head(seq, prev, end), None, None, found)
