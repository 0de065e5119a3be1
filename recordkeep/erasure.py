"""Erasing a party's personal numbers (``party erase-pii``), never past a hold.

An erasure cannot be undone, so, as ``dispose`` does, it does not take the index's word for
the holds over the party: the journal's own lines are replayed (protection.py's ``Journaled``)
and a hold they show, which the index lacks, refuses it (RK233): someone changed the index.
"""

from __future__ import annotations

from . import errors
from .archive import Archive
from .dossier import parties
from .i18n import _
from .index.retention import holds_over_party
from .protection import Journaled


def journaled_holds_over_party(journaled: Journaled, key: str) -> list[str]:
    """The holds in force over party ``key`` as the journal's own lines read so far say: on it
    (``party P1``) or on a case of which it is a party (``case NO``)."""
    pins = journaled.pins
    held = [f"party {key}"] if pins.held_now("party", key) else []
    held += [f"case {case_no}" for case_no, members in pins.members.items()
             if key in members and pins.held_now("case", case_no)]
    return sorted(held)


def erase_pii(archive: Archive, ref: str, *, reason: str) -> parties.Erasure:
    """``dossier.parties.erase_pii``, once the journal shows no hold over the party that the
    index lacks (IndexDiffers, nothing erased); one both show is HeldParty there. The journal
    is read first, then, under its lock, the lines appended since (as ``dispose`` reads it)."""
    archive.require_can_write(["party.pii_erased"])
    journaled = Journaled(archive, set()).read_on()  # the long read, before the lock

    def guard(key: str) -> None:
        journaled.read_on(stop=archive.index.seen.end)  # what another station appended since
        indexed = set(holds_over_party(archive.index, key))
        unseen = sorted(set(journaled_holds_over_party(journaled, key)) - indexed)
        if unseen:
            raise errors.IndexDiffers(
                _("{party} is under a hold ({holds}) the journal records and the index lacks: the index was "
                  "changed; nothing was erased").format(party=key, holds=", ".join(unseen)),
                path=archive.root / "index.sqlite")

    return parties.erase_pii(archive, ref, reason=reason, guard=guard)
