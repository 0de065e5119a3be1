"""``log verify``: the journal's chain and, in the same walk, the proof of its signatures."""

from __future__ import annotations

from dataclasses import dataclass

from .archive import Archive
from .store.journal import ChainReport
from .trust.proof import Finding, Proof


@dataclass
class JournalReport:
    """The chain walked and the batches proved."""

    chain: ChainReport
    findings: list[Finding]
    batches: int
    signed: bool
    head_asked: str | None = None

    @property
    def ok(self) -> bool:
        return (self.chain.problem is None and self.chain.found_head is not False
                and not [f for f in self.findings if not f.notice])


def verify_journal(archive: Archive, *, head: str | None = None, strict: bool = False) -> JournalReport:
    """Walk the whole chain; check every batch's signature, key, actor and roles on the way
    (``strict``: the unsigned batches of a store from before signatures fail too)."""
    proof = Proof(archive.settings.store_id, strict=strict)
    chain = archive.journal.verify_chain(head=head, visit=proof.feed)
    findings = proof.finish() if chain.problem is None else proof.findings
    return JournalReport(chain, findings, proof.batches, proof.signed, head)
