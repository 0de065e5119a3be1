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
from .index.core import Acknowledged
from .pins import FED as PINS_FED
from .pins import Breach, Pins
from .refs import bare, utc_key
from .store.journal import Event

HOLDS = ("retention.held", "retention.released")
SIGHTINGS = ("record.imported", "record.seen", "record.restored")
ONE_RECORD = frozenset({*SIGHTINGS, "record.amended"})  # events naming their record by ``digest``
ABOUT_RECORDS = frozenset({*SIGHTINGS, "record.amended", "record.linked", "record.unlinked", "retention.kept",
                           *HOLDS})


@dataclass
class Protection:
    """A record's protections as replayed from the journal."""

    important: bool = False
    kept: bool = False
    links: set[tuple[str, str, str]] = field(default_factory=set)  # (case_no, stage, party)
    holds: set[str] = field(default_factory=set)  # "record", "case NO", "party P1"
    # links taken away while a hold pinned them (pins.py), whose hold still stands
    pinned: list[Breach] = field(default_factory=list)
    # what retention counts from: the first import's time, the recorded time and its source
    times: tuple[str | None, str | None, str | None] = (None, None, None)

    def summary(self) -> tuple:
        """What the index must agree with: importance, keep, linked targets, holds, times."""
        targets = {(case, party) for case, _stage, party in self.links}
        return self.important, self.kept, frozenset(targets), frozenset(self.holds), self.times


@dataclass(frozen=True)
class _Said:
    """What of an event the replay needs (not its line: a journal holds millions)."""

    seq: int
    type: str
    data: dict
    at: str = ""


class Journaled:
    """What the journal says can protect the records ``wanted``: the events about them, the
    links voided, and (``pins``) the holds of every case and party and each case's parties, as
    read so far;
    ``read_on`` reads the lines appended since (the long read before the journal's lock, the
    few new lines under it)."""

    def __init__(self, archive: Archive, wanted: set[str]) -> None:
        self.archive, self.wanted = archive, wanted
        self._start, self._seq = 0, 0  # the last line read: read again first, as Index.catch_up does
        self.counted = Acknowledged()
        self.records: dict[str, list[_Said]] = defaultdict(list)
        self.voided_links: dict[int, int] = {}  # a link's seq -> the seq of its void
        self.pins = Pins()

    def read_on(self, stop: int | None = None) -> Journaled:
        """Read on from the last line read (again: a newline it lacked may have been restored
        since) up to position ``stop`` (what the index has seen: a bucket's other stations may
        append meanwhile)."""
        for read in self.archive.journal.read(self._start, stop):
            if read.seq <= self._seq:
                continue
            self._start, self._seq = read.offset, read.seq
            for event in self.counted.feed(read):
                self.keep(event)
        return self

    def keep(self, event: Event) -> None:
        """Take one acknowledged event (``read_on`` feeds them; a reader of its own may)."""
        d, kind = event.data, event.type
        if kind in PINS_FED:
            self.pins.feed(event)
        if kind in ABOUT_RECORDS:  # most lines of a journal: kept short
            named = {bare(x) for x in d["digests"]} if "digests" in d else set()
            if kind in ONE_RECORD:
                named.add(bare(d.get("digest", "")))
            for digest in named.intersection(self.wanted):
                self.records[digest].append(_Said(event.seq, kind, d, event.at))
        if kind == "case.voided" and d.get("voided_type") == "record.linked":
            self.voided_links[d.get("voided_seq")] = event.seq


def from_journal(journaled: Journaled, digest: str) -> Protection:
    """Replay the journal's events about a record (and its cases and parties)."""
    found = Protection()
    links: dict[int, tuple[str, str, str]] = {}  # the seq that made each link: a void names it
    removals = [journaled.voided_links.get(e.seq) for e in journaled.records.get(digest, [])]
    removals += [e.seq for e in journaled.records.get(digest, []) if e.type == "record.unlinked"]
    pins = journaled.pins
    found.pinned = [b for b in map(pins.breaches.get, sorted(filter(None, removals)))
                    if b is not None and any(pins.held_now(*h) for h in b.holds)]
    for e in journaled.records.get(digest, []):
        if e.type in SIGHTINGS:
            found.important = found.important or bool(e.data.get("important"))
        elif e.type == "retention.kept":
            found.kept = True
        elif e.type == "record.linked" and e.seq not in journaled.voided_links:
            d = e.data
            links[e.seq] = (d.get("case_no") or "", d.get("stage") or "", d.get("party") or "")
        elif e.type == "record.unlinked":  # from a case (at a stage, or all), or from a party alone
            d = e.data
            case_no, party, stage = d.get("case_no") or "", d.get("party") or "", d.get("stage")
            links = {seq: link for seq, link in links.items()
                     if not (link[0] == case_no and (stage is None or link[1] == stage)
                             and (case_no or link[2] == party))}
        elif e.type in HOLDS:  # the record's own hold
            (found.holds.add if e.type == "retention.held" else found.holds.discard)("record")
    found.links = set(links.values())
    found.times = _times(journaled.records.get(digest, []))
    parties = {party for _case, _stage, party in found.links if party}
    for case_no in {case for case, _stage, _party in found.links if case}:
        if pins.held_now("case", case_no):
            found.holds.add(f"case {case_no}")
        parties.update(pins.members.get(case_no, ()))
    found.holds.update(f"party {party}" for party in parties if pins.held_now("party", party))
    return found


def _times(said: list[_Said]) -> tuple[str | None, str | None, str | None]:
    """The first import's time, the recorded time and its source, as the index folds them: a
    typed time is 'source' when it cites a record, the import's own source when it is the
    import's time typed again, else 'amended' (index/corrections.py ``_AMEND_TIME`` folds the
    same rule in SQL: change both together, or dispose refuses with a false RK233)."""
    imported = next((e for e in said if e.type == "record.imported"), None)
    if imported is None:
        return None, None, None
    recorded, source = imported.data.get("recorded_at"), imported.data.get("time_source")
    imported_utc, imported_source = utc_key(recorded), source
    for e in said:
        typed = e.data.get("changes", {}).get("recorded_at") if e.type == "record.amended" else None
        if typed is None:
            continue
        recorded = typed
        utc = utc_key(typed)
        source = ("source" if e.data.get("source") else
                  imported_source if imported_utc is not None and utc == imported_utc else "amended")
    return imported.at, recorded, source
