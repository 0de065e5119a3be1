"""``pii status``: where the store's personal numbers are, and what erasure can reach."""

from __future__ import annotations

from dataclasses import dataclass

from ..archive import Archive
from ..i18n import _
from ..index import dossier as rows
from .parties import vault_of


@dataclass(frozen=True)
class PiiStatus:
    parties: int
    with_numbers: int  # parties with an identity or phone number (masked everywhere)
    in_vault: int  # parties whose numbers the vault holds (erasable)
    erased: int
    legacy: int  # parties added before the vault: numbers plain in the journal
    legacy_not_erased: int

    def as_data(self) -> dict:
        return {"parties": self.parties, "with_numbers": self.with_numbers, "in_vault": self.in_vault,
                "erased": self.erased, "legacy": self.legacy, "legacy_not_erased": self.legacy_not_erased,
                "reach": self.reach()}

    def reach(self) -> str:
        """What ``party erase-pii`` can and cannot reach in this store."""
        said = _("erase-pii deletes a party's numbers from the vault ({n} parties); the journal, "
                 "checkpoints and bags hold masks only").format(n=self.in_vault)
        if self.legacy:
            said += _(". {n} parties were added before the vault: their journal lines hold the numbers "
                      "plain and the chain forbids rewriting them; every output masks them, bags carry those "
                      "lines as leaf hashes, and erase-pii records the erasure, but a copy of the journal "
                      "file still holds them").format(n=self.legacy)
        return said


def pii_status(archive: Archive) -> PiiStatus:
    counts = rows.pii_counts(archive.index)
    standing = sum(1 for r in rows.legacy_parties(archive.index) if r["pii_erased_seq"] is None)
    return PiiStatus(counts["parties"], counts["with_numbers"], len(vault_of(archive).parties()),
                     counts["erased"], counts["legacy"], standing)
