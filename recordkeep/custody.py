"""Chain of custody: every journal event that touched a record, a case or a party, and
one line for people describing each.

Events are found through the index (``index.touching``) and read verbatim from the
journal at their positions, so what is shown is exactly what is chained. A read view
(like the dossier's views), used by ``log`` and by the HTML export.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache

from . import i18n
from .archive import Archive
from .dossier.parties import resolve_party
from .i18n import _
from .index import corrections as voids
from .index import keys as key_rows
from .index import records, resolve, touching
from .personal import shown_data
from .refs import label, scope_label
from .store.journal import Event
from .trust.batches import signature_holds


@dataclass(frozen=True)
class Custody:
    """The subject (``{"record": hex}``, ``{"case": NO}`` or ``{"party": P}``) and its events."""

    subject: dict
    events: list[Event]
    lines: list[bytes]


def _whole_store_verifications(archive: Archive, digest: str) -> list[int]:
    """Whole-store verify runs after the record was first stored (they checked it too)."""
    row = records.record(archive.index, digest)
    return [] if row is None else records.whole_store_verifications(archive.index, row["first_seq"])


def for_record(archive: Archive, digest_ref: str) -> Custody:
    digest = archive.resolve_digest(digest_ref)
    seqs = touching(archive.index, "record", digest) + _whole_store_verifications(archive, digest)
    return Custody({"record": digest}, *archive.events_at(seqs))


def for_case(archive: Archive, case_ref: str) -> Custody:
    case_no = resolve.case(archive.index, case_ref)
    return Custody({"case": case_no}, *archive.events_at(touching(archive.index, "case", case_no)))


def for_party(archive: Archive, party_ref: str) -> Custody:
    key = resolve_party(archive, party_ref)
    return Custody({"party": key}, *archive.events_at(touching(archive.index, "party", key)))


@dataclass(frozen=True)
class Signed:
    """Who signed the batch an event belongs to, and whether that signature holds."""

    key: str | None  # None: in no signed batch (a store from before signatures, or unsealed)
    actor: str | None
    holds: bool

    def label(self) -> str:
        if self.key is None:
            return _("unsigned")
        if self.holds:
            return _("key {key} signed").format(key=self.key)
        return _("key {key} SIGNATURE FAILS").format(key=self.key)


def signatures(archive: Archive, events: list[Event]) -> dict[int, Signed]:
    """The signed batch of each event (by seq), its key id and whether its signature holds."""
    store_id, ix = archive.settings.store_id, archive.index

    @cache
    def check(seal: int) -> Signed:
        row = key_rows.batch_of(ix, seal)
        key = key_rows.key(ix, row["key"]) if row else None
        if row is None or key is None:
            return Signed(row["key"] if row else None, None, False)
        data = {"from": row["first"], "to": row["last"], "head": row["head"], "sig": row["sig"]}
        return Signed(row["key"], key["actor"], signature_holds(base64.b64decode(key["public_key"]),
                                                                store_id, data))

    out = {}
    for e in events:
        row = key_rows.batch_of(ix, e.seq)
        out[e.seq] = check(row["seal"]) if row else Signed(None, None, False)
    return out


def voided(archive: Archive, events: list[Event]) -> dict[int, dict]:
    """The voided ones among ``events``: seq -> the void's ``{"seq", "by", "at", "reason"}``."""
    found = voids.voided_seqs(archive.index, [e.seq for e in events])
    return {seq: {"seq": v["seq"], "by": v["actor"], "at": v["at"], "reason": v["reason"]}
            for seq, v in found.items()}


def shown(event: Event) -> dict:
    """The event as it may be shown: a plain number of an event from before the vault masked."""
    return {**event.as_dict(), "data": shown_data(event.type, event.data)}


def describe(event: Event, subject: dict | None = None) -> str:
    """One line for people: what the event did (in their language)."""
    d = event.data
    source = d.get("source") if isinstance(d.get("source"), dict) else {}
    where = source.get("path") or (_("<hex {hex}>").format(hex=source["path_hex"]) if "path_hex" in source
                                   else "")
    digest = (subject or {}).get("record")
    match event.type:
        case "record.imported":
            return _("stored from {where} ({kind}, {size} bytes)").format(
                where=where, kind=label(d.get("kind")), size=d.get("size"))
        case "record.seen":
            return _("seen again at {where}").format(where=where)
        case "batch.finished":
            r = d.get("receipt") or {}
            said = _("{command} of {source} finished: {seen} seen, {stored} stored, {not_stored} not stored "
                     "({verdict})").format(command=d.get("command"), source=d.get("source") or _("files"),
                                           seen=r.get("seen"), stored=r.get("stored"),
                                           not_stored=r.get("not_stored"), verdict=r.get("verdict"))
            files = [f for f in r.get("not_stored_files") or [] if isinstance(f, dict) and f.get("reason")]
            if files:
                said += "; " + _("not stored or skipped: {files}").format(files=_some(
                    [f"{f.get('path') or f.get('path_hex')}: {i18n.shown(f, 'reason')}" for f in files]))
            return said
        case "record.linked":
            parts = (d.get("case_no"), label(d.get("stage")), d.get("party"))
            target = " / ".join(x for x in parts if x)
            return _("linked to {target}: {n} record(s)").format(target=target, n=len(d["digests"]))
        case "record.unlinked" if not d.get("case_no"):
            return _("unlinked from party {party}: {n} record(s)").format(party=d.get("party"),
                                                                          n=len(d["digests"]))
        case "record.unlinked":
            return _("unlinked from {case_no} {stage}: {n} record(s)").format(
                case_no=d.get("case_no"), stage=label(d.get("stage")), n=len(d["digests"]))
        case "verify.run":
            problems = [p for p in d.get("problems", []) if digest is None or p.get("digest") == digest]
            verdict = (_("PROBLEM {codes}: {messages}").format(
                codes=", ".join(p["code"] for p in problems),
                messages=_some([i18n.shown(p, "message") for p in problems])) if problems else _("ok"))
            return _("verified ({mode}, {scope}): {verdict}").format(mode=d.get("mode"),
                                                                      scope=scope_label(d.get("scope")),
                                                                      verdict=verdict)
        case "party.pii_shown":
            return _("identity number of {party} shown unmasked").format(party=d["party"])
        case "case.opened":
            return _("case {case_no} opened for {parties}").format(case_no=d["case_no"],
                                                                   parties=", ".join(d.get("parties", [])))
        case "case.stage":
            return _("stage {stage} {action} at {at}").format(
                stage=label(d["stage"]), action=d.get("action") or "",
                at=d.get("at")).replace("  ", " ")
        case "case.decided":
            if d.get("amount"):
                return _("decision for {party}: {kind} {amount} yuan").format(
                    party=d["party"], kind=label(d["penalty_kind"]), amount=d["amount"])
            return _("decision for {party}: {kind}").format(party=d["party"],
                                                            kind=label(d["penalty_kind"]))
        case "export.created":
            return _("exported ({format}) to {dest}: {n} record(s)").format(
                format=d.get("format"), dest=d.get("dest"), n=d.get("records"))
        case "party.added":
            return _("party {party} {name} registered").format(party=d["key"], name=d["name"])
        case "key.enrolled":
            return _("key {key} enrolled for {actor}: {roles}").format(
                key=d.get("key"), actor=d.get("actor"), roles=", ".join(d.get("roles", [])))
        case "key.revoked":
            return _("key {key} revoked: {reason}").format(key=d.get("key"), reason=d.get("reason"))
        case "batch.signed":
            return _("seals seq {first}-{last} (key {key})").format(first=d.get("from"), last=d.get("to"),
                                                                    key=d.get("key"))
        case "record.amended":
            changed = ", ".join(f"{k} {(d.get('previous') or {}).get(k) or '-'} -> {v}"
                                for k, v in d.get("changes", {}).items())
            if d.get("source"):
                return _("amended: {changes} (source {source}): {reason}").format(
                    changes=changed, source=str(d["source"])[7:19], reason=d.get("reason"))
            return _("amended: {changes}: {reason}").format(changes=changed, reason=d.get("reason"))
        case "case.voided":
            return _("voided seq {seq} ({type}) of {case_no}: {reason}").format(
                seq=d.get("voided_seq"), type=d.get("voided_type"), case_no=d.get("case_no"),
                reason=d.get("reason"))
        case "case.reopened":
            return _("case {case_no} reopened: {reason}").format(case_no=d.get("case_no"),
                                                                 reason=d.get("reason"))
        case "record.restored":
            return _("restored (its bytes imported again) from {where}").format(where=where)
        case "journal.batch_cut":
            return _("closes a batch never sealed: seq {first}-{last}").format(
                first=d.get("from", d.get("batch_first")), last=d.get("to", d.get("after_seq")))
        case "record.disposed":
            return _("disposed of under retention ({kind}, {size} bytes): {reason}").format(
                kind=label(d.get("kind")), size=d.get("size"), reason=d.get("reason"))
        case "retention.held" | "retention.released" | "retention.kept":
            said = {"retention.held": _("held: {target}"), "retention.released": _("hold released: {target}"),
                    "retention.kept": _("marked permanent: {target}")}[event.type]
            said = said.format(target=_hold_target(d))
            return _("{what}: {reason}").format(what=said, reason=d["reason"]) if d.get("reason") else said
        case "retention.locked":
            return _("Object Lock lengthened for {n} record(s)").format(n=len(d.get("locks") or []))
        case "party.pii_erased":
            return _("numbers of {party} erased from the vault ({fields}): {reason}").format(
                party=d.get("party"), fields=", ".join(d.get("fields") or []), reason=d.get("reason"))
        case "checkpoint.made":
            token = _("with a timestamp from {tsa}").format(tsa=d["tsa"]) if d.get("token_sha256") else \
                _("without a timestamp")
            return _("checkpoint of lines 1..{size} signed, {token}").format(size=d.get("size"), token=token)
        case "officer.registered":
            extra = "".join(f" ({x})" for x in (d.get("unit"), d.get("post")) if x)
            return _("officer {cert_no} {name} registered").format(cert_no=d.get("cert_no"),
                                                                  name=d.get("name")) + extra
        case "device.assigned":
            holder = d.get("officer") or d.get("unit")
            said = _("device {device} assigned to {holder}, {start}..{end}").format(
                device=d.get("device"), holder=holder, start=d.get("from") or "", end=d.get("until") or "")
            if subject and subject.get("record"):
                return said + _(": this record was made with it in that period and follows the assignment")
            if d.get("reattributed"):
                return said + _(": {n} record(s) moved from the officer of an earlier assignment").format(
                    n=d["reattributed"])
            return said
        case "case.published":
            return _("decision of {case_no} published at {at}").format(case_no=d.get("case_no"),
                                                                         at=d.get("at"))
        case "case.closed":
            return _("case {case_no} closed at {at}").format(case_no=d.get("case_no"), at=d.get("at"))
        case "store.created":
            return _("store {store_id} created").format(store_id=d.get("store_id"))
        case "settings.changed":
            return _("settings of recordkeep.toml recorded ({digest}): 'settings history' shows what "
                     "changed").format(digest=str(d.get("digest", ""))[7:19])
    return event.type


def _hold_target(d: dict) -> str:
    """What a hold, release or mark names: a case, a party, or records."""
    if d.get("case_no"):
        return _("case {case_no}").format(case_no=d["case_no"])
    if d.get("party"):
        return _("party {party}").format(party=d["party"])
    return _("{n} record(s)").format(n=len(d.get("digests") or []))


def _some(texts: list[str], most: int = 3) -> str:
    """The first ``most`` of ``texts`` joined, and how many more there are."""
    shown_ = "; ".join(texts[:most])
    return shown_ + (" " + _("(and {n} more)").format(n=len(texts) - most) if len(texts) > most else "")
