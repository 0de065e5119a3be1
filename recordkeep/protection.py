"""What protects a record from disposal, as the journal itself says it.

``dispose`` never trusts the index: ``Journaled`` reads the journal's own lines (every
acknowledged batch: sealed, in a store that signs them) and keeps the events that can protect
a record, by record, case and party; ``from_journal`` replays them to re-derive the record's
links, holds, keep and importance. Nothing of the index (not even which events touch a record)
is used to find them, so rows deleted from it hide nothing. When the index says otherwise,
someone or something changed the index: the disposal is refused (RK233).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .archive import Archive
from .index.core import SIGNED_LAYOUT
from .refs import bare
from .store.journal import CUT_EVENT, SEAL_EVENT, Event

HOLDS = ("retention.held", "retention.released")
PROTECTING = frozenset({"record.imported", "record.linked", "record.unlinked", "retention.kept", *HOLDS,
                        "case.opened"})


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


class Journaled:
    """The journal's events that can protect a record, by record, case and party, as read so
    far; ``read_on`` reads the lines appended since (the long read before the journal's lock,
    the few new lines under it)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.end = 0
        self.signed = False
        self.by: dict[tuple[str, str], list[Event]] = defaultdict(list)  # ("record"|"case"|"party", ref)
        self._pending: list[Event] = []

    def read_on(self) -> Journaled:
        for event in self.archive.journal.read(self.end):
            self.end = event.end
            if event.type == "store.created" and event.data.get("layout") == SIGNED_LAYOUT:
                self.signed = True
            if not self.signed:
                self._keep(event)
            elif event.type == CUT_EVENT:
                self._pending = []
            elif event.type == SEAL_EVENT:
                for kept in self._pending:
                    self._keep(kept)
                self._pending = []
            else:
                self._pending.append(event)
            if event.type == SEAL_EVENT:
                self.signed = True
        return self

    def _keep(self, event: Event) -> None:
        if event.type not in PROTECTING:
            return
        d = event.data
        refs = {("record", bare(x)) for x in d.get("digests", [])}
        if event.type == "record.imported":
            refs.add(("record", bare(d.get("digest", ""))))
        if event.type in (*HOLDS, "case.opened") and d.get("case_no"):
            refs.add(("case", d["case_no"]))
        if event.type in HOLDS and d.get("party"):
            refs.add(("party", d["party"]))
        for ref in refs:
            self.by[ref].append(event)

    def about(self, kind: str, ref: str) -> list[Event]:
        return self.by.get((kind, ref), [])


def _holds(events: list[Event], kind: str, ref: str, into: set[str], label: str) -> None:
    """Replay hold and release events naming ``kind`` ``ref`` into ``into``."""
    for e in events:
        if e.type not in HOLDS:
            continue
        named = {bare(d) for d in e.data.get("digests", [])} if kind == "record" else \
            {e.data.get("case_no" if kind == "case" else "party")}
        if ref in named:
            (into.add if e.type == "retention.held" else into.discard)(label)


def from_journal(journaled: Journaled, digest: str) -> Protection:
    """Replay the journal's events about a record (and its cases and parties)."""
    found = Protection()
    own = journaled.about("record", digest)
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
        about = journaled.about("case", case_no)
        _holds(about, "case", case_no, found.holds, f"case {case_no}")
        for e in about:
            if e.type == "case.opened" and e.data.get("case_no") == case_no:
                parties.update(e.data.get("parties", []))
    for party in sorted(parties):
        _holds(journaled.about("party", party), "party", party, found.holds, f"party {party}")
    return found
