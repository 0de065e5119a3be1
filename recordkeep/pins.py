"""Holds as the journal went: which removal of a link a hold then in force forbade.

A hold on a case or a party pins the links that put records in its cover: the case's, its
parties' and the links' own parties' holds (``holds_pinning`` asks the index before an unlink
or a void of a link is written). A removal journaled while such a hold stood got around that
check: the index was edited by hand, or the line was written by other means. ``Pins``, fed
every acknowledged event in order, names each one from the journal alone: ``log verify``
reports it and ``dispose`` refuses its records while the hold stands.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .i18n import _
from .refs import bare
from .store.journal import Event

FED = frozenset({"retention.held", "retention.released", "case.opened", "record.linked", "record.unlinked",
                 "case.voided"})


@dataclass(frozen=True)
class Breach:
    """An unlink (or a void of a link) journaled at ``seq`` while ``holds`` pinned its links."""

    seq: int
    case_no: str  # "" for links to a party alone
    digests: tuple[str, ...]
    holds: tuple[tuple[str, str], ...]  # ("case", NO) or ("party", P), sorted
    signed: bool  # in a signed batch (every release that signs refused it)

    def named_holds(self) -> str:
        """The holds, as people read them."""
        return ", ".join(_("case {case_no}").format(case_no=ref) if kind == "case"
                         else _("party {party}").format(party=ref) for kind, ref in self.holds)


class Pins:
    """Holds in force, cases' parties and the parties links name, replayed event by event."""

    def __init__(self) -> None:
        self.held: set[tuple[str, str]] = set()
        self.members: dict[str, set[str]] = {}
        # (case, digest) -> stage -> {seq of a live link naming a party: that party}
        self.named: dict[tuple[str, str], dict[str, dict[int, str]]] = defaultdict(lambda: defaultdict(dict))
        # a link's seq -> its case, stage, party and digests
        self.links: dict[int, tuple[str, str, str, tuple[str, ...]]] = {}
        self.breaches: dict[int, Breach] = {}

    def feed(self, event: Event, *, signed: bool = True) -> Breach | None:
        """Take one acknowledged event; the breach it makes, if any."""
        kind = event.type
        if kind not in FED:
            return None
        d = event.data
        if kind in ("retention.held", "retention.released"):
            refs = [("case", d["case_no"])] if d.get("case_no") else (
                [("party", d["party"])] if d.get("party") and not d.get("digests") else [])
            (self.held.update if kind == "retention.held" else self.held.difference_update)(refs)
        elif kind == "case.opened" and d.get("case_no"):
            self.members[d["case_no"]] = set(d.get("parties", []))
        elif kind == "record.linked" and d.get("case_no"):
            digests = tuple(bare(x) for x in d.get("digests", []))
            link = (d["case_no"], d.get("stage") or "", d.get("party") or "", digests)
            self.links[event.seq] = link
            if link[2]:
                for digest in digests:
                    self.named[(link[0], digest)][link[1]][event.seq] = link[2]
        elif kind == "record.unlinked":
            return self._unlinked(event, signed)
        elif kind == "case.voided" and d.get("voided_type") == "record.linked":
            link = self.links.pop(d.get("voided_seq"), None)
            if link is not None:
                for digest in link[3]:
                    self.named.get((link[0], digest), {}).get(link[1], {}).pop(d["voided_seq"], None)
                return self._breach(event.seq, link[0], link[3], {link[2]}, signed)
        return None

    def held_now(self, kind: str, ref: str) -> bool:
        """Whether a hold on ``(kind, ref)`` stands after the events fed."""
        return (kind, ref) in self.held

    def _unlinked(self, event: Event, signed: bool) -> Breach | None:
        d = event.data
        digests = tuple(bare(x) for x in d.get("digests", []))
        case_no = d.get("case_no") or ""
        if not case_no:  # from a party alone: pinned by that party's hold
            return self._breach(event.seq, "", digests, {d.get("party") or ""}, signed)
        stage = d.get("stage")
        parties: set[str] = set()
        for digest in digests:
            stages = self.named.get((case_no, digest), {})
            for s in [stage] if stage is not None else list(stages):
                parties.update(stages.pop(s, {}).values())
        return self._breach(event.seq, case_no, digests, parties, signed)

    def _breach(self, seq: int, case_no: str, digests: tuple[str, ...], parties: set[str],
                signed: bool) -> Breach | None:
        pinning = {("case", case_no)} if case_no else set()
        pinning |= {("party", p) for p in (*self.members.get(case_no, ()), *parties) if p}
        holds = tuple(sorted(pinning & self.held))
        if not holds:
            return None
        breach = Breach(seq, case_no, digests, holds, signed)
        self.breaches[seq] = breach
        return breach
