"""The proof that every batch of a journal was written by an enrolled key allowed to write it.

Fed the journal's events in order (``feed``, during the chain walk), it checks each
``batch.signed``: it seals exactly the events since the last seal (a cut put in front
included), its head is the hash of the last of them, its key was enrolled before the batch
and not revoked, its signature holds over this store's id, every event of the batch (and the
seal) names the key's actor, and the key's roles allow each event. A new store
(layout recordkeep-2) is signed from its first batch, whose key ``store.created`` names; a
store from before signatures is signed from its first ``batch.signed``, whose admin key it
enrols itself (trust on first use). Lines after the last seal are an unfinished batch: a
notice, never a failure.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from .. import errors
from ..i18n import _
from ..store.journal import CUT_EVENT, SEAL_EVENT, Event
from . import roles as role_table
from .batches import signature_holds

SIGNED_LAYOUT = "recordkeep-2"
UNSIGNED_WINDOW = 10_000  # events of an unsigned store kept in case its first seal covers them


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
    findings: list[Finding] = field(default_factory=list)
    signed: bool = False
    batches: int = 0
    keys: dict[str, _Key] = field(default_factory=dict)
    _open: list[Event] = field(default_factory=list)
    _seen: int = 0
    _unsigned_before: int = 0

    def _fail(self, kind: type[errors.RecordkeepError], seq: int, message: str) -> None:
        self.findings.append(Finding(kind.code, seq, message))

    def _note(self, kind: type[errors.RecordkeepError], seq: int, message: str) -> None:
        self.findings.append(Finding(kind.code, seq, message, notice=True))

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
        if not signature_holds(key.public, self.store_id, d):
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
                wanted = _(" or ").join(sorted(role_table.needed(e.type, e.data)))
                self._fail(errors.RoleNotAllowed, e.seq,
                           _("seq {seq}: {type} needs {wanted}; key {key} has {roles}").format(
                               seq=e.seq, type=e.type, wanted=wanted, key=d.get("key"),
                               roles=", ".join(sorted(key.roles))))
        self._take_keys(batch)
        self.signed = True
        self.batches += 1

    def _key_for(self, key_id: str | None, batch: list[Event], seal: Event) -> _Key | None:
        """The key that may sign ``batch``: enrolled before it and not revoked, or the
        founding or first admin key enrolled in it."""
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
        founding = [e for e in batch if e.type == "store.created" and e.data.get("admin_key") == key_id]
        if enrolled and (founding or (not self.signed and not self.keys
                                      and "admin" in enrolled[0].data.get("roles", []))):
            key = self._key_of(enrolled[0])
            if key is not None and not founding:
                self._note(errors.TrustOnFirstUse, enrolled[0].seq,
                           _("key {key} ({actor}), the first admin key of a store from before "
                             "signatures: trusted on first use").format(key=key_id, actor=key.actor))
            return key
        self._fail(errors.SignerNotEnrolled, seal.seq,
                   _("seq {first}-{last} are signed by key {key}, which no earlier batch enrolled").format(
                       first=batch[0].seq, last=batch[-1].seq, key=key_id))
        return None

    @staticmethod
    def _key_of(event: Event) -> _Key | None:
        d = event.data
        try:
            public = base64.b64decode(str(d.get("public_key", "")), validate=True)
        except (binascii.Error, ValueError):
            return None
        return _Key(public, str(d.get("actor")), frozenset(d.get("roles", [])), event.seq)

    def _take_keys(self, batch: list[Event]) -> None:
        """Enrolments and revocations of a sealed batch take effect after it."""
        for e in batch:
            if e.type == "key.enrolled":
                key = self._key_of(e)
                if key is not None:
                    self.keys[e.data["key"]] = key
            elif e.type == "key.revoked" and e.data.get("key") in self.keys:
                self.keys[e.data["key"]].revoked = e.seq

    def finish(self) -> list[Finding]:
        """Close the walk: an unsealed tail, unsigned batches of an older store, an empty journal."""
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
        if self._unsigned_before:
            message = (_("{n} events signed by no key: the store was written before signatures (--strict)")
                       if self.strict else
                       _("{n} events signed by no key: the store was written before signatures")).format(
                           n=self._unsigned_before)
            kind = self._fail if self.strict else self._note
            kind(errors.UnsignedBefore, 0, message)
        return self.findings
