"""Chain of custody: every journal event that touched a record, a case or a party, and
one line for people describing each.

Events are found through the index (``index.touching``) and read verbatim from the
journal at their positions, so what is shown is exactly what is chained. A read view
(like the dossier's views), used by ``log`` and by the HTML export.
"""

from __future__ import annotations

from dataclasses import dataclass

from .archive import Archive
from .index import records, resolve, touching
from .store.journal import Event


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
    key = resolve.party(archive.index, party_ref)
    return Custody({"party": key}, *archive.events_at(touching(archive.index, "party", key)))


def describe(event: Event, subject: dict | None = None) -> str:
    """One line for people: what the event did."""
    d = event.data
    source = d.get("source") if isinstance(d.get("source"), dict) else {}
    where = source.get("path") or (f"<hex {source['path_hex']}>" if "path_hex" in source else "")
    digest = (subject or {}).get("record")
    match event.type:
        case "record.imported":
            return f"stored from {where} ({d.get('kind')}, {d.get('size')} bytes)"
        case "record.seen":
            return f"seen again at {where}"
        case "batch.finished":
            r = d.get("receipt") or {}
            return (f"{d.get('command')} of {d.get('source') or 'files'} finished: {r.get('seen')} seen, "
                    f"{r.get('stored')} stored, {r.get('not_stored')} not stored ({r.get('verdict')})")
        case "record.linked":
            target = " / ".join(x for x in (d.get("case_no"), d.get("stage"), d.get("party")) if x)
            return f"linked to {target}: {len(d['digests'])} record(s)"
        case "record.unlinked":
            return f"unlinked from {d.get('case_no')} {d.get('stage') or ''}: {len(d['digests'])} record(s)"
        case "verify.run":
            problems = [p for p in d.get("problems", []) if digest is None or p.get("digest") == digest]
            verdict = "PROBLEM " + ", ".join(p["code"] for p in problems) if problems else "ok"
            return f"verified ({d.get('mode')}, {_scope_text(d.get('scope'))}): {verdict}"
        case "party.pii_shown":
            return f"identity number of {d['party']} shown unmasked"
        case "case.opened":
            return f"case {d['case_no']} opened for {', '.join(d.get('parties', []))}"
        case "case.stage":
            return f"stage {d['stage']} {d.get('action') or ''} at {d.get('at')}".replace("  ", " ")
        case "case.decided":
            amount = f" {d['amount']} yuan" if d.get("amount") else ""
            return f"decision for {d['party']}: {d['penalty_kind']}{amount}"
        case "export.created":
            return f"exported ({d.get('format')}) to {d.get('dest')}: {d.get('records')} record(s)"
        case "party.added":
            return f"party {d['key']} {d['name']} registered"
    return event.type


def _scope_text(scope: dict | None) -> str:
    if not scope or scope.get("all"):
        return "whole store"
    return ", ".join(f"{k} {v}" for k, v in scope.items())

