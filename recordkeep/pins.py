"""Holds as the journal went: which removal of a link a hold then in force forbade.

A hold on a case or a party pins the links that put records in its cover: the case's and its
parties' holds (``holds_pinning`` asks the index before an unlink or a void of a link is
written). A removal journaled while such a hold stood got around that check: the index was
edited by hand, or the line was written by other means. ``Pins``, fed every acknowledged
event in order, names each one from the journal alone: ``log verify`` reports it and
``dispose`` refuses its records while the hold stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .i18n import _
from .refs import bare
from .store.journal import Event

FED = frozenset({"retention.held", "retention.released", "case.opened", "record.unlinked", "case.voided"})


@dataclass(frozen=True)
class Breach:
    """An unlink (or a void of a link) journaled at ``seq`` while ``holds`` pinned its links."""

    seq: int
    case_no: str  # "" for links to a party alone
    digests: tuple[str, ...]  # those an unlink names (a void names its link's seq)
    holds: tuple[tuple[str, str], ...]  # ("case", NO) or ("party", P), sorted
    signed: bool  # in a signed batch (every release that signs refused it)
    voided: int | None = None  # the link a void took away

    def named_holds(self) -> str:
        """The holds, as people read them."""
        return ", ".join(_("case {case_no}").format(case_no=ref) if kind == "case"
                         else _("party {party}").format(party=ref) for kind, ref in self.holds)


class Pins:
    """Holds in force and each case's parties, replayed event by event (memory in proportion
    to cases and holds, not to links: a link names only parties of its case, which a reopening
    may not drop while a link names them, so a case's parties cover its links' own)."""

    def __init__(self) -> None:
        self.held: set[tuple[str, str]] = set()
        self.members: dict[str, frozenset[str]] = {}
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
            self.members[d["case_no"]] = frozenset(d.get("parties", []))
        elif kind == "record.unlinked":
            digests = tuple(bare(x) for x in d.get("digests", []))
            case_no = d.get("case_no") or ""
            parties = self.members.get(case_no, frozenset()) if case_no else {d.get("party") or ""}
            return self._breach(event.seq, case_no, digests, parties, signed, voided=None)
        elif kind == "case.voided" and d.get("voided_type") == "record.linked" and d.get("case_no"):
            return self._breach(event.seq, d["case_no"], (), self.members.get(d["case_no"], frozenset()),
                                signed, voided=d.get("voided_seq"))
        return None

    def held_now(self, kind: str, ref: str) -> bool:
        """Whether a hold on ``(kind, ref)`` stands after the events fed."""
        return (kind, ref) in self.held

    def _breach(self, seq: int, case_no: str, digests: tuple[str, ...], parties: Iterable[str],
                signed: bool, voided: int | None) -> Breach | None:
        pinning = {("case", case_no)} if case_no else set()
        pinning |= {("party", p) for p in parties if p}
        holds = tuple(sorted(pinning & self.held))
        if not holds:
            return None
        breach = Breach(seq, case_no, digests, holds, signed, voided)
        self.breaches[seq] = breach
        return breach
