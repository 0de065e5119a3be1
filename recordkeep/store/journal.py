"""The hash-chained, append-only event journal (``journal/events.jsonl``).

Each line is the canonical JSON of one event (keys sorted, no spaces, UTF-8,
no floats) followed by ``\\n``. ``hash`` is BLAKE3 of the canonical JSON of the
event without its ``hash``; ``prev`` is the hash of the line before (64 zeros
for seq 1). Appends hold an exclusive ``flock`` on the journal file around
read-head -> write -> fsync. A torn last line (no newline: never acknowledged)
is moved whole into ``journal/torn/`` by the next writer, which journals it. A last line
that lacks only its newline (it parses and chains) is complete: readers count it, and the
next writer restores its newline and journals ``journal.newline_restored``.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import errors
from ..i18n import N_, Message, _
from .fs import fsync_dir, os_error
from .hashing import hash_bytes, hash_prefix

ZERO_HASH = "0" * 64
EVENT_KEYS = frozenset({"actor", "at", "data", "hash", "prev", "seq", "type"})
TORN_EVENT = "journal.torn_set_aside"
NEWLINE_EVENT = "journal.newline_restored"
CUT_EVENT = "journal.batch_cut"
SEAL_EVENT = "batch.signed"
Seal = Callable[[int, int, str], "Draft"]  # (first seq, last seq, hash of last) -> the batch's seal


def canonical(obj: Any) -> bytes:
    """The one byte form of a JSON value used in the journal."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(event: dict) -> str:
    """BLAKE3 hex of the canonical JSON of ``event`` without its ``hash`` key."""
    return hash_bytes(canonical({k: v for k, v in event.items() if k != "hash"}))


def chain(drafts: list[Draft], *, actor: str, at: str, after: Head, seal: Seal | None = None) -> list[Event]:
    """``drafts`` as events chained after ``after`` (positions are seq-relative: the caller's
    backend sets them), followed by ``seal``'s draft for them when given."""
    events, prev = [], after.hash
    for i, d in enumerate(drafts, start=1):
        events.append(_event(d, after.seq + i, actor, at, prev))
        prev = events[-1].hash
    if seal is not None and events:
        events.append(_event(seal(events[0].seq, events[-1].seq, prev), after.seq + len(events) + 1, actor,
                             at, prev))
    offset = after.end
    for i, e in enumerate(events):
        line = canonical(e.as_dict())
        events[i] = Event(e.seq, e.type, e.at, e.actor, e.data, e.prev, e.hash, offset, len(line) + 1, line)
        offset += len(line) + 1
    return events


def _event(draft: Draft, seq: int, actor: str, at: str, prev: str) -> Event:
    where = find_float(draft.data)
    if where:
        raise ValueError(f"events hold no floats: {draft.type} {where}")
    body = {"actor": actor, "at": at, "data": draft.data, "prev": prev, "seq": seq, "type": draft.type}
    return Event(seq, draft.type, at, actor, draft.data, prev, event_hash(body))


def find_float(obj: Any, where: str = "data") -> str | None:
    """The path of the first float inside ``obj``, or None (events hold no floats)."""
    if isinstance(obj, float):
        return where
    if isinstance(obj, dict):
        for k, v in obj.items():
            found = find_float(v, f"{where}.{k}")
            if found:
                return found
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            found = find_float(v, f"{where}[{i}]")
            if found:
                return found
    return None


@dataclass(frozen=True)
class Draft:
    """An event before it is chained: its type and data. A message in the data (an
    ``i18n.Message`` the code put there) is kept in English, whatever the reader's language."""

    type: str
    data: dict

    def __post_init__(self) -> None:
        english = _in_english(self.data)
        if english is not self.data:
            object.__setattr__(self, "data", english)


def _in_english(value: Any) -> Any:
    """``value`` with every ``i18n.Message`` in it replaced by its English text (``value``
    itself, the same object, when it holds none)."""
    if isinstance(value, Message):
        return value.english
    if isinstance(value, dict):
        items = {k: _in_english(v) for k, v in value.items()}
        return items if any(items[k] is not v for k, v in value.items()) else value
    if isinstance(value, list):
        items = [_in_english(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


@dataclass(frozen=True)
class Event:
    """One journal line, parsed.

    ``offset`` is the event's *position* in its journal and ``end`` the position
    reading resumes from after it: byte offsets in the local ``events.jsonl``; in the
    object layout (one object per event) the position is the seq itself and ``end``
    is seq + 1. The index stores positions without looking inside them.
    """

    seq: int
    type: str
    at: str
    actor: str
    data: dict
    prev: str
    hash: str
    offset: int = field(default=0, compare=False)
    length: int = field(default=0, compare=False)
    line: bytes = field(default=b"", compare=False, repr=False)  # the stored bytes, no newline

    @property
    def end(self) -> int:
        """Byte offset just after this event's line."""
        return self.offset + self.length

    def as_dict(self) -> dict:
        return {"actor": self.actor, "at": self.at, "data": self.data, "hash": self.hash,
                "prev": self.prev, "seq": self.seq, "type": self.type}


@dataclass(frozen=True)
class Head:
    """The last complete event of the journal: its seq and hash, the position after it, and
    (where known, else -1) the position of its line."""

    seq: int
    hash: str
    end: int
    start: int = -1


@dataclass(frozen=True)
class TornTail:
    """Bytes after the last newline: a write that was never acknowledged, unless
    ``complete`` (a whole line that chains, only its newline lost: it counts)."""

    offset: int
    data: bytes
    complete: bool = False


@dataclass(frozen=True)
class ChainProblem:
    """The first bad line of the journal: 1-based line number, its code and what is wrong.
    Made from the error class that names the problem: ``ChainProblem.of(line, cls, message)``."""

    line: int
    code: str
    message: str

    @classmethod
    def of(cls, line: int, kind: type[errors.IntegrityError], message: str) -> ChainProblem:
        return cls(line, kind.code, message)


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain."""

    lines: int
    head: Head
    problem: ChainProblem | None
    torn: TornTail | None  # a complete one is counted in ``lines`` and ``head``
    found_head: bool | None = None


def parse_line(raw: bytes, offset: int, length: int = 0) -> Event:
    """Parse one journal line (without its newline); raise JournalCorrupt if it is not an event."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # nested past the stack
        raise errors.JournalCorrupt(_("journal line at byte {offset} is not JSON: {error}").format(
            offset=offset, error=exc)) from exc
    return _event_of(obj, offset, length, raw)


def _event_of(obj: object, offset: int, length: int, line: bytes) -> Event:
    if not isinstance(obj, dict) or set(obj) != EVENT_KEYS:
        raise errors.JournalCorrupt(_("journal line at byte {offset} does not have the event keys").format(
            offset=offset))
    if not isinstance(obj["data"], dict) or not isinstance(obj["type"], str):
        raise errors.JournalCorrupt(_("journal line at byte {offset} is not an event: its type is not text "
                                      "or its data not an object").format(offset=offset))
    return Event(obj["seq"], obj["type"], obj["at"], obj["actor"], obj["data"], obj["prev"],
                 obj["hash"], offset, length, line)


class Journal(Protocol):
    """The journal's interface: what every backend offers and all that other modules use.

    ``LocalJournal`` keeps one file (``journal/events.jsonl``); ``journal_s3.S3Journal``
    one object per event (``journal/<seq>.json``). Both hold the same lines, chained the
    same way. Positions (``Event.offset``/``end``, ``Head.end``) are the backend's own.
    """

    location: str

    def present(self) -> bool:
        """Whether this store has its journal (or, for a bucket, its local side)."""

    def head(self, since: Head | None = None) -> Head:
        """The journal's head; ``since`` is a head known to be in it (lets a bucket list less)."""

    def read_tail(self) -> tuple[Head, TornTail | None]: ...

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[Event]:
        """Complete events from position ``start`` up to (not including) position ``stop``."""

    def lines_at(self, positions: Iterable[int]) -> list[bytes]:
        """The verbatim lines (without newline) of the events at these positions, in order."""

    def first(self) -> Event | None:
        """The journal's first event (``store.created`` in a sound store), or None when empty."""

    def locked(self) -> AbstractContextManager[None]:
        """Serialise this workstation's writers (and index catch-ups)."""

    def append(self, drafts: list[Draft], *, actor: str, at: str, expect_head: str,
               seal: Seal | None = None, cut_unsealed: bool = False) -> list[Event]:
        """Chain and durably append ``drafts``; raise HeadMoved if the head is not ``expect_head``.

        With ``seal``, the batch ends with the draft it returns for the events appended
        before it (signed inside the lock, so a retry is signed again). With
        ``cut_unsealed`` (a signed store), complete lines after the last seal, never
        acknowledged, are first cut by a ``journal.batch_cut`` (``why: unsealed``).
        """

    def verify_chain(self, head: str | None = None, since: Head | None = None,
                     visit: Callable[[Event], None] | None = None) -> ChainReport:
        """Walk the chain (from ``since``, a verified line still to be found where it was, when
        given); report the first bad line, and whether ``head`` (a hash) is held. ``visit`` sees
        every good event in order (to check more than the chain in the same walk)."""

    def prefix_digest(self, end: int) -> str | None:
        """BLAKE3 of the journal's bytes before position ``end``, where the backend can say it
        cheaply (a file); None where it cannot (then a whole check walks every line)."""

    def close(self) -> None: ...


class ReentrantFlock:
    """An exclusive ``flock`` on one file, re-entrant within this process (threads too).

    ``fd`` is the locked file's descriptor while the lock is held (None otherwise).
    """

    def __init__(self, path: Path, flags: int, what: str) -> None:
        self.path, self.flags, self.what = path, flags, what
        self._lock = threading.RLock()
        self._depth = 0
        self.fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                try:
                    fd = os.open(self.path, self.flags | os.O_CLOEXEC, 0o644)
                except OSError as exc:
                    raise os_error(exc, self.what, self.path) from exc
                fcntl.flock(fd, fcntl.LOCK_EX)
                self.fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fd, self.fd = self.fd, None
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)


class LocalJournal:
    """The journal as one file on the local file system."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.path = self.root / "journal" / "events.jsonl"
        self.torn_dir = self.root / "journal" / "torn"
        self._flock = ReentrantFlock(self.path, os.O_RDWR | os.O_APPEND,
                                     N_("opening the journal for writing"))

    @property
    def location(self) -> str:
        return str(self.path)

    def present(self) -> bool:
        return self.path.is_file()

    def close(self) -> None:
        pass

    # -- reading -----------------------------------------------------------
    def size(self) -> int:
        return self.path.stat().st_size

    def read_tail(self) -> tuple[Head, TornTail | None]:
        """The head (last complete line) and any torn tail, reading only the file's end."""
        with open(self.path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return Head(0, ZERO_HASH, 0), None
            block, start = 65536, size
            while True:
                start = max(0, start - block)
                f.seek(start)
                buf = f.read(size - start)
                last_nl = buf.rfind(b"\n")
                prev_nl = buf.rfind(b"\n", 0, last_nl) if last_nl >= 0 else -1
                if start == 0 or prev_nl >= 0:
                    break
                block *= 2
        if last_nl < 0:
            head, torn = Head(0, ZERO_HASH, 0), TornTail(0, buf)
        else:
            end = start + last_nl + 1
            event = parse_line(buf[prev_nl + 1:last_nl], start + prev_nl + 1)
            head = Head(event.seq, event.hash, end)
            torn = TornTail(end, buf[last_nl + 1:]) if end < size else None
        if torn is not None and _chains(torn.data, torn.offset, head):
            last = parse_line(torn.data, torn.offset, len(torn.data))
            return Head(last.seq, last.hash, last.end), TornTail(torn.offset, torn.data, complete=True)
        return head, torn

    def head(self, since: Head | None = None) -> Head:
        return self.read_tail()[0]

    def first(self) -> Event | None:
        with open(self.path, "rb") as f:
            raw = f.readline()
        return parse_line(raw[:-1], 0, len(raw)) if raw.endswith(b"\n") else None

    def lines_at(self, positions: Iterable[int]) -> list[bytes]:
        lines = []
        with open(self.path, "rb") as f:
            for offset in positions:
                f.seek(offset)
                lines.append(f.readline().rstrip(b"\n"))
        return lines

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[Event]:
        """Events from byte ``start`` (a line start) up to ``stop``; a torn tail is not yielded,
        a complete last line lacking its newline is (its ``length`` then counts no newline)."""
        with open(self.path, "rb") as f:
            f.seek(start)
            offset = start
            for raw in f:
                if stop is not None and offset >= stop:
                    return
                if not raw.endswith(b"\n"):
                    _, tail = self.read_tail()
                    if tail is not None and tail.complete and tail.offset == offset:
                        yield parse_line(raw, offset, len(raw))
                    return
                yield parse_line(raw[:-1], offset, len(raw))
                offset += len(raw)

    def raw_lines(self, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """(offset, raw line bytes with newline) for every line from byte ``start``, torn tail
        included."""
        with open(self.path, "rb") as f:
            f.seek(start)
            offset = start
            for raw in f:
                yield offset, raw
                offset += len(raw)

    # -- writing -----------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal's exclusive lock (re-entrant within this process)."""
        with self._flock.held():
            yield

    def append(self, drafts: list[Draft], *, actor: str, at: str, expect_head: str,
               seal: Seal | None = None, cut_unsealed: bool = False) -> list[Event]:
        """Chain and append ``drafts`` after the head ``expect_head``, then ``seal``'s draft for
        them all; fsync before returning (one write: the lines and their seal land together).

        Raises HeadMoved if the journal's head is not ``expect_head``. A torn tail
        is first set aside into journal/torn/ and a journal.torn_set_aside event
        is chained before the drafts; unsealed lines are cut (``cut_unsealed``).
        """
        with self.locked():
            head, torn = self.read_tail()
            if head.hash != expect_head:
                raise errors.HeadMoved(_("journal head is seq {seq}, not the expected one").format(
                    seq=head.seq))
            if torn is not None and torn.complete:
                head = self._restore_newline(head)
                drafts = [Draft(NEWLINE_EVENT, {"seq": head.seq}), *drafts]
            elif torn is not None:
                drafts = [self._set_aside(torn, head), *drafts]
            if cut_unsealed:
                unsealed = self._after_last_seal(head)
                if unsealed:
                    cut = Draft(CUT_EVENT, {"why": "unsealed", "from": unsealed, "to": head.seq})
                    drafts = [cut, *drafts]
            events = chain(drafts, actor=actor, at=at, after=head, seal=seal)
            self._write(b"".join(canonical(e.as_dict()) + b"\n" for e in events), head.end)
        return events

    def _after_last_seal(self, head: Head) -> int | None:
        """The first seq after the journal's last ``batch.signed``, when lines follow it."""
        seq = head.seq
        for raw in self._lines_backwards():
            event = parse_line(raw, 0)
            if event.type == SEAL_EVENT:
                return None if event.seq == head.seq else event.seq + 1
            seq = event.seq
        return seq if head.seq else None

    def _lines_backwards(self) -> Iterator[bytes]:
        """The complete lines of the journal, last first (read in blocks from the end)."""
        with open(self.path, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            buf = b""
            while end > 0:
                start = max(0, end - 65536)
                f.seek(start)
                buf = f.read(end - start) + buf
                end = start
                lines = buf.split(b"\n")
                buf = lines[0]
                for line in reversed(lines[1:]):
                    if line:
                        yield line
            if buf:
                yield buf

    def _write(self, blob: bytes, end: int) -> None:
        fd = self._flock.fd
        try:
            view = memoryview(blob)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, end)
                os.fsync(fd)
            except OSError:
                pass
            raise os_error(exc, N_("appending to the journal"), self.path) from exc

    def _restore_newline(self, head: Head) -> Head:
        """Give the last line (complete, chained) its lost newline; the head moves past it."""
        self._write(b"\n", head.end)
        return Head(head.seq, head.hash, head.end + 1)

    def _set_aside(self, torn: TornTail, head: Head) -> Draft:
        """Move a torn tail whole into journal/torn/ and describe it as an event."""
        digest = hash_bytes(torn.data)
        name = f"after-{head.seq:012d}-{digest[:16]}.partial"
        target = self.torn_dir / name
        try:
            self.torn_dir.mkdir(exist_ok=True)
            if not target.exists():
                tmp = self.torn_dir / f".{name}.tmp"
                with open(tmp, "wb") as f:
                    f.write(torn.data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
                fsync_dir(self.torn_dir)
            os.ftruncate(self._flock.fd, torn.offset)
            os.fsync(self._flock.fd)
        except OSError as exc:
            raise os_error(exc, N_("setting a torn journal tail aside"), target) from exc
        return Draft(TORN_EVENT, {"file": f"journal/torn/{name}", "bytes": len(torn.data),
                                  "blake3": digest, "after_seq": head.seq})

    def create(self) -> None:
        """Create an empty journal (the store's init)."""
        self.torn_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        os.fsync(fd)
        os.close(fd)
        fsync_dir(self.path.parent)

    # -- verifying ---------------------------------------------------------
    def verify_chain(self, head: str | None = None, since: Head | None = None,
                     visit: Callable[[Event], None] | None = None) -> ChainReport:
        """Walk every line (after ``since`` when given: a line verified before, which must
        still be at ``since.start``); report the first bad one (edited, deleted, reordered,
        inserted).

        With ``head``, also say whether a line with that hash exists with an intact
        history before it (after ``since``, or ``since`` itself).
        """
        prev, seq, lines, end, start = ZERO_HASH, 0, 0, 0, -1
        found = None if head is None else False
        if since is not None and since.seq:
            problem = self._still_holds(since)
            if problem is not None:
                return ChainReport(0, Head(0, ZERO_HASH, 0), problem, None, found)
            prev, seq, lines, end, start = since.hash, since.seq, since.seq, since.end, since.start
            if head is not None and since.hash == head:
                found = True
        torn = None
        for offset, raw in self.raw_lines(end):
            line = raw[:-1] if raw.endswith(b"\n") else raw
            if line is raw:  # no newline: torn, or complete but for it (then counted)
                torn = TornTail(offset, raw, complete=_chains(raw, offset, Head(seq, prev, end)))
                if not torn.complete:
                    break
            lines += 1
            problem, event = check_line(line, offset, lines, seq, prev)
            if problem:
                return ChainReport(lines - 1, Head(seq, prev, end, start), problem, None, found)
            prev, seq, end, start = event.hash, event.seq, offset + len(raw), offset
            if head is not None and event.hash == head:
                found = True
            if visit is not None:
                visit(event)
        return ChainReport(lines, Head(seq, prev, end, start), None, torn, found)

    def _still_holds(self, mark: Head) -> ChainProblem | None:
        """None when the line verified at ``mark`` is still there, unchanged."""
        with open(self.path, "rb") as f:
            f.seek(mark.start)
            raw = f.read(mark.end - mark.start)
        line = raw[:-1] if raw.endswith(b"\n") else raw
        try:
            event = parse_line(line, mark.start)
        except errors.JournalCorrupt:
            event = None
        intact = event is not None and (event.seq, event.hash) == (mark.seq, mark.hash) \
            and event_hash(event.as_dict()) == event.hash
        if not intact:
            return ChainProblem.of(mark.seq, errors.HeadNotFound,
                                   _("the journal no longer holds seq {seq} as verified before "
                                     "(at byte {offset}): cut or rewritten").format(seq=mark.seq,
                                                                                   offset=mark.start))
        return None

    def prefix_digest(self, end: int) -> str | None:
        with open(self.path, "rb") as f:
            if os.fstat(f.fileno()).st_size < end:
                return None
            return hash_prefix(f.fileno(), end)


def _chains(raw: bytes, offset: int, head: Head) -> bool:
    """Whether ``raw`` (a line without newline) is the event that follows ``head``."""
    return bool(raw) and check_line(raw, offset, 0, head.seq, head.hash)[0] is None


class _FloatSeen(Exception):
    pass


def _no_float(text: str) -> None:
    raise _FloatSeen(text)


def check_line(raw: bytes, offset: int, line: int, seq: int, prev: str) -> tuple[ChainProblem | None,
                                                                                Event | None]:
    """What is wrong with ``raw`` (a line without newline) as the event after (``seq``,
    ``prev``), or None; and the event, when the line is one. One JSON parse, one encode and
    one BLAKE3 per line: the cost of walking a journal."""
    try:
        try:
            obj = json.loads(raw.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
        except _FloatSeen:
            event = parse_line(raw, offset)
            return ChainProblem.of(line, errors.FloatInEvent,
                                   _("seq {seq}: float at {where}").format(
                                       seq=event.seq, where=find_float(event.data))), None
        event = _event_of(obj, offset, len(raw), raw)
    except (errors.JournalCorrupt, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return ChainProblem.of(line, errors.LineNotEvent, str(getattr(exc, "message", exc))), None
    if canonical(event.as_dict()) != raw:
        return ChainProblem.of(line, errors.LineEdited, _("line is not in canonical form (edited)")), None
    if _hash_of_canonical(raw, event.hash) != event.hash:
        return ChainProblem.of(line, errors.LineEdited,
                               _("seq {seq}: hash does not match content (edited)").format(
                                   seq=event.seq)), None
    if event.seq != seq + 1:
        message = (_("seq {seq} where {due} was due: missing lines before it (deleted)")
                   if event.seq > seq + 1 else _("seq {seq} where {due} was due: out of order or inserted"))
        return ChainProblem.of(line, errors.SeqOutOfOrder, message.format(seq=event.seq, due=seq + 1)), None
    if event.prev != prev:
        return ChainProblem.of(line, errors.PrevMismatch, _("seq {seq}: prev does not match the line "
                                                            "before (reordered, inserted or deleted)").format(
                                                                seq=event.seq)), None
    return None, event


def _hash_of_canonical(raw: bytes, claimed: str) -> str | None:
    """``event_hash`` of a line already known to be canonical: its bytes without the top-level
    ``"hash":"..."`` member, hashed (the member sits between ``data`` and ``prev``, the last
    occurrence in the line); None when the member is not where it must be."""
    member = b',"hash":"' + claimed.encode("ascii", "replace") + b'"'
    at = raw.rfind(member)
    if at < 0:
        return None
    return hash_bytes(raw[:at] + raw[at + len(member):])
