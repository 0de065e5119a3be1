"""Checking checkpoints against a journal: the note's signature, its timestamp token, and the
journal's Merkle root at the checkpoint's size.

``TreeWalk`` is fed every line during the chain walk and keeps the root at each size asked
for; ``judge`` then says of each checkpoint whether it still holds. A checkpoint that no
longer matches names the lines rewritten: those after the last checkpoint that still
matches, up to its own size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .. import errors
from ..i18n import _
from ..store.checkpoints import checkpoint_name, token_name
from ..store.journal import Event
from . import checkpoint as notes
from . import timestamp
from .merkle import CompactRange, leaf_hash
from .proof import Finding

# How far a line's claimed time may pass the time of a token that covers it (the station's
# clock and the TSA's are never quite together) before it is reported.
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Latest:
    """The latest time the lines up to a size claim: the moment, and the line that claims it."""

    moment: datetime
    seq: int
    at: str


class TreeWalk:
    """The journal's tree, grown line by line; the root at each size in ``sizes`` is kept, and
    the latest time the lines up to it claim (``latest``)."""

    def __init__(self, sizes: set[int]) -> None:
        self.tree = CompactRange()
        self.wanted = set(sizes)
        self.roots: dict[int, bytes] = {}
        self.latest: dict[int, Latest] = {}
        self._latest: Latest | None = None

    def feed(self, event: Event) -> None:
        self.tree.append(leaf_hash(event.line))
        claimed = moment(event.at)
        if claimed is not None and (self._latest is None or claimed > self._latest.moment):
            self._latest = Latest(claimed, event.seq, event.at)
        if self.tree.size in self.wanted:
            self.roots[self.tree.size] = self.tree.root()
            if self._latest is not None:
                self.latest[self.tree.size] = self._latest


def moment(text: object) -> datetime | None:
    """An ISO 8601 time with offset; None when it is not one (a naive time is unknown, as
    ``refs.utc_key`` has it)."""
    try:
        moment = datetime.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


@dataclass
class Anchor:
    """One checkpoint to judge: where it came from, its bytes, its token's bytes (or None)."""

    name: str
    data: bytes
    token: bytes | None = None
    given: bool = False  # named by the auditor, not only kept in the store


@dataclass
class Verdict:
    """What holds of one checkpoint."""

    name: str
    given: bool = False
    size: int | None = None
    root: str | None = None
    signer: str | None = None
    matches: bool | None = None
    token: str = "none"  # none | verified | not checked (no CA) | bad
    token_time: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not [f for f in self.findings if not f.notice]

    def as_data(self) -> dict:
        return {"name": self.name, "given": self.given, "size": self.size, "root": self.root,
                "signer": self.signer, "matches": self.matches, "token": self.token,
                "token_time": self.token_time, "ok": self.ok,
                "findings": [f.as_data() for f in self.findings]}


def _fail(verdict: Verdict, kind: type[errors.RecordkeepError], message: str, *,
          notice: bool = False) -> None:
    verdict.findings.append(Finding(kind.code, verdict.size or 0, f"{verdict.name}: {message}", notice))


def signer_of(note: notes.Checkpoint, keys: dict[str, bytes]) -> str | None:
    """The name (key id) of the first of ``keys`` whose signature on the note holds."""
    return next((key_id for key_id, public in keys.items() if note.signed_by(note.origin, public)), None)


def judge(anchors: list[Anchor], *, origin: str, keys: dict[str, bytes], vkey: bytes | None,
          walk: TreeWalk, ca: bytes | None, broken: bool = False, strict: bool = False) -> list[Verdict]:
    """Judge each checkpoint: its origin, its signature (a checkpoint given by the auditor under
    ``vkey`` when given; else, and every checkpoint kept in the store, under one of ``keys``,
    the keys the journal enrols: several people make them), its token (verified when ``ca`` is given),
    and the journal's root at its size (``walk``'s; the journal holds ``walk.tree.size`` lines,
    or, when ``broken``, that many before its chain breaks). A verified token bounds when the
    lines it covers were written: a line that claims a later time (beyond ``CLOCK_SLACK``) is a
    notice, a failure when ``strict``."""
    roots, lines = walk.roots, walk.tree.size
    verdicts = []
    for anchor in anchors:
        verdict = Verdict(anchor.name, anchor.given)
        verdicts.append(verdict)
        try:
            note = notes.parse(anchor.data, anchor.name)
        except errors.BadCheckpoint as exc:
            _fail(verdict, errors.BadCheckpoint, exc.message)
            continue
        verdict.size, verdict.root = note.size, note.root.hex()
        if note.origin != origin:
            _fail(verdict, errors.OtherStoreCheckpoint,
                  _("a checkpoint of {origin}, not of {store}").format(origin=note.origin, store=origin))
            continue
        _judge_signature(verdict, note, keys, vkey if anchor.given else None)
        _judge_token(verdict, anchor, ca)
        if note.size > lines and broken:
            _fail(verdict, errors.ChainBroken, _("covers lines 1..{size}, but the journal's chain breaks "
                                                 "after line {lines}: its root cannot be computed").format(
                                                     size=note.size, lines=lines))
        elif note.size > lines:
            verdict.matches = False
            _fail(verdict, errors.CheckpointBeyondJournal,
                  _("covers lines 1..{size}, but the journal holds {lines}: "
                    "lines {first}..{size} were cut from its end").format(size=note.size, lines=lines,
                                                                          first=lines + 1))
        else:
            verdict.matches = roots.get(note.size) == note.root
            if verdict.matches and verdict.token_time is not None:
                _judge_times(verdict, walk.latest.get(note.size), strict)
    _name_rewritten(verdicts)
    return verdicts


def _judge_signature(verdict: Verdict, note: notes.Checkpoint, keys: dict[str, bytes],
                     vkey: bytes | None) -> None:
    if vkey is not None:
        if note.signed_by(note.origin, vkey):
            verdict.signer = "--vkey"
        else:
            _fail(verdict, errors.CheckpointUnsigned, _("its signature does not hold under the verifier key "
                                                        "given (re-signed by another key, or changed)"))
        return
    verdict.signer = signer_of(note, keys)
    if verdict.signer is None:
        _fail(verdict, errors.CheckpointUnsigned,
              _("no key the journal enrols signed it (or it was changed)"))


def _judge_token(verdict: Verdict, anchor: Anchor, ca: bytes | None) -> None:
    if anchor.token is None:
        return
    if ca is None:
        verdict.token = "not checked"  # said once for all by the caller
        return
    try:
        verdict.token_time = timestamp.verify(anchor.token, anchor.data, ca)
        verdict.token = "verified"
    except (errors.TokenUnreadable, errors.TokenUntrusted) as exc:
        verdict.token = "bad"
        _fail(verdict, type(exc), exc.message)


def _judge_times(verdict: Verdict, latest: Latest | None, strict: bool) -> None:
    stamped = moment(verdict.token_time)
    if latest is None or stamped is None or latest.moment - stamped <= CLOCK_SLACK:
        return
    _fail(verdict, errors.TimeAfterToken,
          _("journal line {seq} claims {at}, later than {time}, when the TSA stamped this checkpoint of "
            "lines 1..{size}: the writing station's clock was ahead by {ahead}, or the times were written "
            "false")
          .format(seq=latest.seq, at=latest.at, time=verdict.token_time, size=verdict.size,
                  ahead=str(latest.moment - stamped).split(".")[0]), notice=not strict)


def _name_rewritten(verdicts: list[Verdict]) -> None:
    """For each checkpoint whose root no longer matches: the range since the last one that does."""
    good = 0
    for verdict in sorted((v for v in verdicts if v.matches is not None), key=lambda v: v.size):
        if verdict.matches:
            good = max(good, verdict.size)
        elif not any(f.code == errors.CheckpointBeyondJournal.code for f in verdict.findings):
            message = (_("the journal's tree of {size} lines has another root: lines {first}..{size} were "
                         "rewritten (since checkpoint {good}, which still matches)") if good
                       else _("the journal's tree of {size} lines has another root: lines {first}..{size} "
                              "were rewritten (since the first line: no earlier checkpoint matches)"))
            _fail(verdict, errors.CheckpointMismatch,
                  message.format(size=verdict.size, first=good + 1, good=good))


def against_journal(made: list[Event], kept: Callable[[str], bytes | None], location: str) -> list[Finding]:
    """The checkpoints and tokens ``kept`` (read by name) against the ``checkpoint.made`` events
    that journaled them: each must still be kept, the checkpoint stating the root journaled and
    the token being the one whose SHA-256 was journaled; deleted or replaced is a failure. A
    token kept beside a checkpoint whose events name none is a notice."""
    by_size: dict[int, list[Event]] = {}
    for event in made:
        if isinstance(event.data.get("size"), int):
            by_size.setdefault(event.data["size"], []).append(event)
    findings = []

    def fail(seq: int, message: str, name: str, *, notice: bool = False) -> None:
        findings.append(Finding(errors.AnchorGone.code, seq, f"{location}/{name}: {message}", notice))

    for size, events in sorted(by_size.items()):
        seq, name = events[0].seq, checkpoint_name(size)
        data = kept(name)
        if data is None:
            fail(seq, _("the checkpoint journaled at seq {seq} is no longer kept (deleted)").format(seq=seq),
                 name)
        else:
            try:
                root = notes.parse(data, name).root.hex()
            except errors.BadCheckpoint:
                root = None  # said by judge
            if root is not None and root not in {e.data.get("root") for e in events}:
                fail(seq, _("it states another root than the one journaled at seq {seq} (replaced)").format(
                    seq=seq), name)
        journaled = {e.data.get("token_sha256") for e in events} - {None}
        tsr = token_name(size)
        token = kept(tsr)
        if token is None and journaled:
            fail(seq, _("the timestamp token journaled at seq {seq} is no longer kept (deleted)").format(
                seq=seq), tsr)
        elif token is not None and hashlib.sha256(token).hexdigest() not in journaled:
            if journaled:
                fail(seq, _("it is not the timestamp token journaled at seq {seq} (replaced)").format(
                    seq=seq), tsr)
            else:
                fail(seq, _("a timestamp token no checkpoint.made names (seq {seq} journaled none)").format(
                    seq=seq), tsr, notice=True)
    return findings
