"""What protects a record from disposal, as the journal itself says it.

``dispose`` never trusts the index alone: for each record it reads back the journal lines
of every event about it (found through the index's event refs), checks each line against
its own hash and against the hash the index recorded for that seq, and replays them to
re-derive the record's links, holds, keep and importance. When the index says otherwise,
someone or something changed the index: the disposal is refused (RK233).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import errors
from .archive import Archive
from .i18n import _
from .index import records, touching
from .refs import bare
from .store.journal import Event, check_line


@dataclass
class Protection:
    """A record's protections as replayed from the journal."""

    important: bool = False
    kept: bool = False
    links: set[tuple[str, str, str]] = field(default_factory=set)  # (case_no, stage, party)
    holds: set[str] = field(default_factory=set)  # "record", "case NO", "party P1"

    def summary(self) -> tuple:
        """What the index must agree with: importance, keep, linked targets, holds."""
        targets = {(case, party) for case, _stage, party in self.links}
        return self.important, self.kept, frozenset(targets), frozenset(self.holds)


def _events(archive: Archive, seqs: list[int]) -> list[Event]:
    """The events at ``seqs``, each line checked against its own hash and the index's."""
    events, lines = archive.events_at(seqs)
    for event, line in zip(events, lines, strict=True):
        problem, _event = check_line(line, event.offset, event.seq, event.seq - 1, event.prev)
        folded = records.event(archive.index, event.seq)
        if problem is not None or folded is None or folded["hash"] != event.hash:
            raise errors.IndexDiffers(_("journal seq {seq} is not the event the index folded there: nothing "
                                        "was disposed of").format(seq=event.seq),
                                      path=archive.journal.location)
    return events


def _holds(events: list[Event], kind: str, ref: str, into: set[str], label: str) -> None:
    """Replay hold and release events naming ``kind`` ``ref`` into ``into``."""
    for e in events:
        if e.type not in ("retention.held", "retention.released"):
            continue
        named = {bare(d) for d in e.data.get("digests", [])} if kind == "record" else \
            {e.data.get("case_no" if kind == "case" else "party")}
        if ref in named:
            (into.add if e.type == "retention.held" else into.discard)(label)


def from_journal(archive: Archive, digest: str) -> Protection:
    """Replay the journal's events about a record (and its cases and parties)."""
    found = Protection()
    own = _events(archive, touching(archive.index, "record", digest))
    for e in own:
        digests = {bare(d) for d in e.data.get("digests", [])}
        if e.type == "record.imported" and bare(e.data["digest"]) == digest:
            found.important = bool(e.data.get("important"))
        elif e.type == "retention.kept" and digest in digests:
            found.kept = True
        elif e.type == "record.linked" and digest in digests:
            d = e.data
            found.links.add((d.get("case_no") or "", d.get("stage") or "", d.get("party") or ""))
        elif e.type == "record.unlinked" and digest in digests:
            stage = e.data.get("stage")
            found.links = {link for link in found.links
                           if not (link[0] == e.data.get("case_no") and (stage is None or link[1] == stage))}
    _holds(own, "record", digest, found.holds, "record")
    parties = {party for _case, _stage, party in found.links if party}
    for case_no in sorted({case for case, _stage, _party in found.links if case}):
        about = _events(archive, touching(archive.index, "case", case_no))
        _holds(about, "case", case_no, found.holds, f"case {case_no}")
        for e in about:
            if e.type == "case.opened" and e.data.get("case_no") == case_no:
                parties.update(e.data.get("parties", []))
    for party in sorted(parties):
        _holds(_events(archive, touching(archive.index, "party", party)), "party", party, found.holds,
               f"party {party}")
    return found
