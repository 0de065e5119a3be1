"""Chain of custody: every journal event that touched a record, a case or a party.

Events are found through the index (``index.touching``) and read verbatim from the
journal at their positions, so what is shown is exactly what is chained.
"""

from __future__ import annotations

from dataclasses import dataclass

from .archive import Archive
from .dossier import resolve_case, resolve_party
from .index import touching
from .journal import Event, parse_line


@dataclass(frozen=True)
class Custody:
    """The subject (``{"record": hex}``, ``{"case": NO}`` or ``{"party": P}``) and its events."""

    subject: dict
    events: list[Event]
    lines: list[bytes]


def read_events(archive: Archive, seqs: list[int]) -> tuple[list[Event], list[bytes]]:
    """The journal lines (verbatim, without newline) and events for ``seqs``, in seq order."""
    conn = archive.index.conn
    positions = []
    for seq in sorted(set(seqs)):
        row = conn.execute("SELECT offset FROM events WHERE seq = ?", (seq,)).fetchone()
        positions.append(row[0])
    lines = archive.journal.lines_at(positions)
    events = [parse_line(raw, position, len(raw) + 1) for raw, position in zip(lines, positions, strict=True)]
    return events, lines


def _whole_store_verifications(archive: Archive, digest: str) -> list[int]:
    """Whole-store verify runs after the record was first stored (they checked it too)."""
    conn = archive.index.conn
    first = conn.execute("SELECT first_seq FROM records WHERE digest = ?", (digest,)).fetchone()
    if first is None:
        return []
    rows = conn.execute("SELECT seq FROM verifications WHERE seq > ? AND scope = ?",
                        (first[0], '{"all": true}'))
    return [r[0] for r in rows]


def for_record(archive: Archive, digest_ref: str) -> Custody:
    digest = archive.resolve_digest(digest_ref)
    seqs = touching(archive.index.conn, "record", digest) + _whole_store_verifications(archive, digest)
    return Custody({"record": digest}, *read_events(archive, seqs))


def for_case(archive: Archive, case_ref: str) -> Custody:
    case_no = resolve_case(archive, case_ref)
    return Custody({"case": case_no}, *read_events(archive, touching(archive.index.conn, "case", case_no)))


def for_party(archive: Archive, party_ref: str) -> Custody:
    key = resolve_party(archive, party_ref)
    return Custody({"party": key}, *read_events(archive, touching(archive.index.conn, "party", key)))


def describe(event: Event, subject: dict | None = None) -> str:
    """One line for people: what the event did."""
    d = event.data
    source = d.get("source") if isinstance(d.get("source"), dict) else {}  # batch.finished: str or None
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

