"""The proof that every batch of a journal was written by an enrolled key allowed to write it.

Fed the journal's events in order (``feed``, during the chain walk), it checks each
``batch.signed``: it seals exactly the events since the last seal (a cut put in front
included), its head is the hash of the last of them, its key was enrolled before the batch
and not revoked, its signature holds over this store's id, every event of the batch (and the
seal) names the key's actor, and the key's roles allow each event. A new store
(layout recordkeep-2) is signed from its first batch, whose key ``store.created`` names (the
journal's first event: a later one founds nothing and is a failure); a store from before
signatures is signed from its first ``batch.signed``, whose admin key it enrols itself (trust
on first use). Lines after the last seal are an unfinished batch: a notice, never a failure.

On a long journal, signatures are checked in another process while the walk goes on: the
signatures of batches that enrol or revoke no key are sent ``CHUNK`` at a time (a started
process, never a fork of this one), at most ``AHEAD`` batches ahead; what each decides is
applied in journal order before any later finding, so the findings are exactly those of
checking one batch after the other. A short journal never fills a chunk and is checked here.
"""

from __future__ import annotations

import base64
import binascii
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from .. import errors
from ..i18n import _
from ..store.journal import CUT_EVENT, SEAL_EVENT, Event
from . import roles as role_table
from .batches import signature_holds

SIGNED_LAYOUT = "recordkeep-2"
UNSIGNED_WINDOW = 10_000  # events of an unsigned store kept in case its first seal covers them
CHUNK = 512  # signatures sent to the checking process at once
AHEAD = 4 * CHUNK  # batches whose signatures may be checked ahead of the walk
KEY_EVENTS = frozenset({"key.enrolled", "key.revoked"})


@dataclass(frozen=True)
class Finding:
    """One line of the proof: a failure, or a notice (``notice``)."""

    code: str
    seq: int
    message: str
    notice: bool = False

    def as_data(self) -> dict:
        return {"code": self.code, "seq": self.seq, "message": self.message, "notice": self.notice}


@dataclass
class _Key:
    public: bytes
    actor: str
    roles: frozenset[str]
    enrolled: int
    revoked: int | None = None


@dataclass
class Proof:
    """Feed it every event in order; ``findings`` says what does not hold."""

    store_id: str
    strict: bool = False
    founding_key: bytes | None = None  # the founding key an auditor knows from outside the journal
    findings: list[Finding] = field(default_factory=list)
    founding: str | None = None  # the id of the key the journal roots its trust in, once met
    signed: bool = False
    batches: int = 0
    keys: dict[str, _Key] = field(default_factory=dict)
    _open: list[Event] = field(default_factory=list)
    _seen: int = 0
    _unsigned_before: int = 0
    _ahead: deque = field(default_factory=deque)  # (seal, batch, key, [Future, index] of its check)
    _chunk: list = field(default_factory=list)  # (public key, seal data) of the unsent, in order
    _pool: ProcessPoolExecutor | None = None
    _settling: bool = False

    def _fail(self, kind: type[errors.RecordkeepError], seq: int, message: str) -> None:
        self._settle()
        self.findings.append(Finding(kind.code, seq, message))

    def _note(self, kind: type[errors.RecordkeepError], seq: int, message: str) -> None:
        self._settle()
        self.findings.append(Finding(kind.code, seq, message, notice=True))

    def _settle(self, keep: int = 0) -> None:
        """Apply the batches checked ahead, in order, until ``keep`` remain (their findings come
        before any later one)."""
        if self._settling:
            return
        self._settling = True
        try:
            while len(self._ahead) > keep:
                self._signed(*self._ahead.popleft())
        finally:
            self._settling = False

    def settled(self) -> list[Finding]:
        """The findings so far, every batch checked ahead applied (a walk stopped early)."""
        self._settle()
        return self.findings

    @property
    def ok(self) -> bool:
        return not [f for f in self.findings if not f.notice]

    def feed(self, event: Event) -> None:
        self._seen += 1
        if self._seen == 1:
            if event.type != "store.created":
                self._fail(errors.NoStoreCreated, event.seq,
                           _("the journal begins with {type}, not store.created: lines before it were "
                             "removed").format(type=event.type))
            elif event.data.get("layout") == SIGNED_LAYOUT:
                self.signed = True
        elif event.type == "store.created":
            self._fail(errors.NoStoreCreated, event.seq,
                       _("store.created again at seq {seq}: a store is created once, so neither this "
                         "event nor a key it names is trusted").format(seq=event.seq))
        if event.type == SEAL_EVENT:
            self._seal(event)
            self._open = []
            return
        if event.type == CUT_EVENT and self._open:
            self._cut(event)
        self._open.append(event)
        if not self.signed and len(self._open) > UNSIGNED_WINDOW:  # a store from before signatures:
            self._unsigned_before += len(self._open) - UNSIGNED_WINDOW  # only its last events can
            del self._open[:-UNSIGNED_WINDOW]  # belong to its first signed batch

    def _cut(self, cut: Event) -> None:
        """A cut closes the unsealed lines before it: never acknowledged, never folded."""
        d = cut.data
        first = d.get("from", d.get("batch_first"))
        last = d.get("to", d.get("after_seq"))
        seqs = [e.seq for e in self._open]
        if self.signed and (first, last) != (seqs[0], seqs[-1]):
            self._fail(errors.UnsignedBatch, seqs[0],
                       _("seq {first}-{last} are signed by no key, and the cut at seq {cut} names "
                         "{named_first}-{named_last}").format(first=seqs[0], last=seqs[-1], cut=cut.seq,
                                                              named_first=first, named_last=last))
        elif self.signed:
            self._note(errors.UnfinishedBatch, first,
                       _("seq {first}-{last}: a batch its writer never sealed, cut at seq {cut}: never "
                         "acknowledged").format(first=first, last=last, cut=cut.seq))
        else:
            self._unsigned_before += len(seqs)
        self._open = []

    def _seal(self, seal: Event) -> None:
        d, batch = seal.data, self._open
        if not batch:
            self._fail(errors.BadSignature, seal.seq, _("a seal with nothing before it to seal"))
            return
        head = batch[-1]
        if d.get("to") != head.seq or d.get("head") != head.hash or not isinstance(d.get("from"), int):
            self._fail(errors.BadSignature, seal.seq,
                       _("seq {seq} seals {first}-{last}, which are not the events before it "
                         "(changed)").format(seq=seal.seq, first=d.get("from"), last=d.get("to")))
            return
        if d["from"] > batch[0].seq:
            unsigned = [e for e in batch if e.seq < d["from"]]
            if self.signed:
                self._fail(errors.UnsignedBatch, unsigned[0].seq,
                           _("seq {first}-{last} are signed by no key (inserted?)").format(
                               first=unsigned[0].seq, last=unsigned[-1].seq))
            else:
                self._unsigned_before += len(unsigned)
            batch = [e for e in batch if e.seq >= d["from"]]
        elif d["from"] < batch[0].seq:
            self._fail(errors.BadSignature, seal.seq,
                       _("seq {seq} claims to seal from seq {first}, but an earlier seal covers "
                         "those").format(seq=seal.seq, first=d["from"]))
            return
        key = self._key_for(d.get("key"), batch, seal)
        if key is None:
            return
        if self.signed and not any(e.type in KEY_EVENTS for e in batch) and (os.cpu_count() or 1) > 1:
            self._ahead.append((seal, batch, key, [None, None]))
            self._chunk.append((key.public, d))
            if len(self._chunk) >= CHUNK:
                self._send()
            self._settle(keep=AHEAD)
            return
        self._settle()
        self._signed(seal, batch, key, signature_holds(key.public, self.store_id, d))

    def _send(self) -> None:
        """Send the signatures gathered (a full chunk) to the checking process."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        future = self._pool.submit(_check_all, self.store_id, self._chunk)
        unsent = [item[3] for item in self._ahead if item[3][0] is None]
        for index, holds in enumerate(unsent):
            holds[0], holds[1] = future, index
        self._chunk = []

    def _signed(self, seal: Event, batch: list[Event], key: _Key, holds: bool | list) -> None:
        """What a batch's signature decides (``holds``, or where its check was sent): a failure,
        or its events' actor and roles checked and its enrolments and revocations taken."""
        d = seal.data
        if isinstance(holds, list):
            if holds[0] is None:  # the oldest unsent: checked here, as a short journal's are
                public, data = self._chunk.pop(0)
                holds = signature_holds(public, self.store_id, data)
            else:
                holds = holds[0].result()[holds[1]]
        if not holds:
            self._fail(errors.BadSignature, seal.seq,
                       _("the signature of seq {first}-{last} by key {key} does not hold (events or store id "
                         "changed)").format(first=d["from"], last=d["to"], key=d.get("key")))
            return
        for e in [*batch, seal]:
            if e.actor != key.actor:
                self._fail(errors.RoleNotAllowed, e.seq,
                           _("seq {seq} names {actor}, but key {key} is {owner}'s").format(
                               seq=e.seq, actor=e.actor, key=d.get("key"), owner=key.actor))
            elif not role_table.allows(key.roles, e.type, e.data):
                self._role_missing(e, key, d.get("key"))
        # an enrolment or revocation by a key that may not write it grants and takes nothing
        # (the index folds it the same way): later batches of a key it enrolled fail as unenrolled
        self._take_keys([e for e in batch if role_table.allows(key.roles, e.type, e.data)])
        self.signed = True
        self.batches += 1

    def _role_missing(self, e: Event, key: _Key, key_id: str | None) -> None:
        """A failure; a notice (unless ``strict``) for what earlier releases let the key write."""
        wanted = _(" or ").join(sorted(role_table.needed(e.type, e.data)))
        said = _("seq {seq}: {type} needs {wanted}; key {key} has {roles}").format(
            seq=e.seq, type=e.type, wanted=wanted, key=key_id, roles=", ".join(sorted(key.roles)))
        if role_table.allowed_by_earlier_releases(key.roles, e.type, e.data) and not self.strict:
            why = (_(" (earlier releases let any key record the settings: a notice; --strict fails it)")
                   if e.type == "settings.changed" else
                   _(" (earlier releases let the records role void it: a notice; --strict fails it)"))
            self._note(errors.RoleNotAllowed, e.seq, said + why)
        else:
            self._fail(errors.RoleNotAllowed, e.seq, said)

    def _key_for(self, key_id: str | None, batch: list[Event], seal: Event) -> _Key | None:
        """The key that may sign ``batch``: enrolled before it and not revoked, or the
        founding key (named by the journal's first event, ``store.created``, and enrolled in the
        same batch) or, in a store from before signatures, the first admin key enrolled in it."""
        known = self.keys.get(key_id)
        if known is not None:
            if known.revoked is not None and known.revoked < batch[0].seq:
                self._fail(errors.SignerNotEnrolled, seal.seq,
                           _("key {key} signed seq {first}-{last} after its revocation "
                             "(seq {revoked})").format(key=key_id, first=batch[0].seq, last=batch[-1].seq,
                                                       revoked=known.revoked))
                return None
            return known
        enrolled = [e for e in batch if e.type == "key.enrolled" and e.data.get("key") == key_id]
        founding = [e for e in batch if e.type == "store.created" and e.seq == 1 and enrolled
                    and e.data.get("admin_key") == key_id
                    and e.data.get("public_key") == enrolled[0].data.get("public_key")]
        if enrolled and (founding or (not self.signed and not self.keys
                                      and "admin" in enrolled[0].data.get("roles", []))):
            key = self._key_of(enrolled[0])
            if key is not None and not founding:
                self._note(errors.TrustOnFirstUse, enrolled[0].seq,
                           _("key {key} ({actor}), the first admin key of a store from before "
                             "signatures: trusted on first use").format(key=key_id, actor=key.actor))
            if key is not None:
                self._root(key_id, key, enrolled[0].seq)
            return key
        self._fail(errors.SignerNotEnrolled, seal.seq,
                   _("seq {first}-{last} are signed by key {key}, which no earlier batch enrolled").format(
                       first=batch[0].seq, last=batch[-1].seq, key=key_id))
        return None

    def _root(self, key_id: str, key: _Key, seq: int) -> None:
        """The journal roots its trust in ``key``: a failure when it is not ``founding_key``."""
        self.founding = key_id
        if self.founding_key is not None and key.public != self.founding_key:
            self._fail(errors.FoundingKeyOther, seq, _(
                "the journal roots its trust in key {key} ({actor}, seq {seq}), not in the founding key "
                "given: its lines were written again from the first, under a key of their own").format(
                    key=key_id, actor=key.actor, seq=seq))

    @staticmethod
    def _key_of(event: Event) -> _Key | None:
        d = event.data
        try:
            public = base64.b64decode(str(d.get("public_key", "")), validate=True)
        except (binascii.Error, ValueError):
            return None
        return _Key(public, str(d.get("actor")), frozenset(d.get("roles", [])), event.seq)

    def _take_keys(self, batch: list[Event]) -> None:
        """Enrolments and revocations of a sealed batch take effect after it. A revoked key is
        never enrolled again: that is a failure and it stays revoked (from its first revocation).
        A live key enrolled again (an older release allowed it, to change its roles) takes its
        new actor and roles, a notice."""
        for e in batch:
            if e.type == "key.enrolled":
                key = self._key_of(e)
                known = self.keys.get(e.data.get("key"))
                if known is not None and known.revoked is not None:
                    self._fail(errors.KeyEnrolledAgain, e.seq, _(
                        "seq {seq} enrols key {key} again, revoked at seq {revoked}: a revoked key is never "
                        "enrolled again, so it stays revoked").format(seq=e.seq, key=e.data["key"],
                                                                     revoked=known.revoked))
                elif key is not None:
                    if known is not None:
                        self._note(errors.KeyEnrolledAgain, e.seq, _(
                            "seq {seq} enrols key {key} again (enrolled at seq {enrolled}): its actor and "
                            "roles are this enrolment's from here on").format(seq=e.seq, key=e.data["key"],
                                                                               enrolled=known.enrolled))
                    self.keys[e.data["key"]] = key
            elif (e.type == "key.revoked" and e.data.get("key") in self.keys
                  and self.keys[e.data["key"]].revoked is None):  # the first revocation stands
                self.keys[e.data["key"]].revoked = e.seq

    def close(self) -> None:
        """End the process checking signatures ahead, its pending checks dropped (after
        ``finish`` or ``settled``, or when the walk was stopped by an error or an interrupt)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def finish(self) -> list[Finding]:
        """Close the walk: an unsealed tail, unsigned batches of an older store, an empty journal."""
        self._settle()
        self.close()
        if self._seen == 0:
            self._fail(errors.NoStoreCreated, 0, _("the journal is empty, but recordkeep.toml names a store: "
                                                    "every line was removed"))
        if self._open:
            first, last = self._open[0].seq, self._open[-1].seq
            if self.signed:
                self._note(errors.UnfinishedBatch, first, _("seq {first}-{last}: after the last seal, never "
                                                            "acknowledged; the next writer cuts them").format(
                                                                first=first, last=last))
            else:
                self._unsigned_before += len(self._open)
        if self.founding_key is not None and self.founding is None and self._seen:
            self._fail(errors.FoundingKeyOther, 0, _("the journal enrols no founding key, so none is the "
                                                     "founding key given"))
        if self._unsigned_before:
            message = (_("{n} events signed by no key: the store was written before signatures (--strict)")
                       if self.strict else
                       _("{n} events signed by no key: the store was written before signatures")).format(
                           n=self._unsigned_before)
            kind = self._fail if self.strict else self._note
            kind(errors.UnsignedBefore, 0, message)
        return self.findings


def _check_all(store_id: str, signed: list[tuple[bytes, dict]]) -> list[bool]:
    """Whether each seal's signature holds under its key (run in the checking process)."""
    return [signature_holds(public, store_id, data) for public, data in signed]
