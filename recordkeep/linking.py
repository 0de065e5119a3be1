"""Linking records to cases (at a stage) and parties, and unlinking them.

A linked record becomes permanent, so linking also lengthens its blob's Object Lock
(``retention.lock_permanent``; nothing to do on a local store).
"""

from __future__ import annotations

from . import errors
from .archive import Archive
from .dossier.corrections import holds_pinning, require_not_voided
from .dossier.parties import resolve_party
from .i18n import _
from .index import dossier as rows
from .index import records, resolve
from .refs import parse_stage, utc_key
from .retention import lock_permanent
from .store.journal import Draft


def link(archive: Archive, case_ref: str | None, digests: list[str], *, stage: str | None,
         party: str | None = None, via: dict | None = None) -> list[str]:
    """Link records to a case (and stage, and optionally a party), or to a party alone."""
    archive.require_intact_chain()
    slug = parse_stage(stage, archive.settings.acts) if stage else None
    if case_ref is not None and slug is None:
        raise errors.BadStage(_("a link to a case needs --stage"))
    resolved = sorted({archive.resolve_digest(d) for d in digests})

    def build() -> list[Draft]:
        data = link_data(archive, case_ref, resolved, slug, party, via)  # the target checked, even for none
        return [Draft("record.linked", data)] if resolved else []

    archive.transact(build)
    lock_permanent(archive, resolved)  # a linked record is permanent: lengthen its blob's lock
    return resolved


def link_data(archive: Archive, case_ref: str | None, digests: list[str], stage: str | None,
              party: str | None, via: dict | None = None) -> dict:
    """The data of a ``record.linked`` event (to build inside a transaction: the case and party
    are resolved against the index as it is then)."""
    data: dict = {"digests": ["blake3:" + d for d in digests]}
    if case_ref is not None:
        data["case_no"] = resolve.case(archive.index, case_ref)
        require_not_voided(archive, data["case_no"], "link")
        data["stage"] = stage
    if party is not None:
        data["party"] = link_party(archive, data.get("case_no"), party)
    if via:
        data["via"] = via
    return data


def unlink_party(archive: Archive, party: str, digests: list[str]) -> list[str]:
    """Remove records' links to a party alone (``add --party`` with no case: a party typed
    wrong), journaled; the records stay. HeldLink while the party is under a hold."""
    archive.require_intact_chain()
    resolved = sorted({archive.resolve_digest(d) for d in digests})

    def build() -> list[Draft]:
        key = resolve_party(archive, party)
        for d in resolved:
            if not rows.is_linked_to_party_alone(archive.index, d, key):
                raise errors.NotLinked(_("record {digest} is not linked to party {party} outside a "
                                         "case").format(digest=d[:12], party=key))
        if holds_pinning(archive, None, [key]):
            raise errors.HeldLink(_("party {party} is under a legal hold: its links stay while the hold "
                                    "stands").format(party=key))
        return [Draft("record.unlinked", {"party": key, "digests": ["blake3:" + d for d in resolved]})]

    archive.transact(build)
    return resolved


def link_party(archive: Archive, case_no: str | None, party: str) -> str:
    """The key of the party a link names; UnknownParty when a case is named and the party is
    not one of its parties (a record of one party's case is never filed under another)."""
    key = resolve_party(archive, party)
    if case_no is not None and key not in rows.members(archive.index, case_no):
        parties = ", ".join(rows.members(archive.index, case_no))
        raise errors.UnknownParty(_("{party} is not a party of case {case_no} (its parties: {parties})")
                                  .format(party=key, case_no=case_no, parties=parties),
                                  hint=_("'case show NO' lists the case's parties; a record of another "
                                         "party belongs in that party's case"))
    return key


def link_window(archive: Archive, case_ref: str, *, officer: str, start: str, end: str, stage: str,
                party: str | None = None) -> list[str]:
    """Link every record ``officer`` recorded from ``start`` to ``end`` (the clerk's act
    after an on-site inspection); the officer's records are found whichever device
    recorded them, so a device reassigned mid-day is followed."""
    archive.require_intact_chain()
    officer = resolve.officer(archive.index, officer)
    t0, t1 = archive.settings.time(start), archive.settings.time(end, end_of_day=True)
    if utc_key(t1) <= utc_key(t0):  # named as typed: a bare --to date ends at the next midnight
        raise errors.InvalidValue(_("the window ends ({end}) before it starts ({start})").format(end=end,
                                                                                                 start=start))
    digests = records.recorded_by(archive.index, officer, utc_key(t0), utc_key(t1))
    return link(archive, case_ref, digests, stage=stage, party=party,
                via={"officer": officer, "from": t0, "to": t1})


def unlink(archive: Archive, case_ref: str, digests: list[str], *, stage: str | None = None) -> list[str]:
    """Remove links of records to a case (journaled; the records themselves stay)."""
    archive.require_intact_chain()
    slug = parse_stage(stage, archive.settings.acts) if stage else None
    resolved = sorted({archive.resolve_digest(d) for d in digests})

    def build() -> list[Draft]:
        case_no = resolve.case(archive.index, case_ref)
        for d in resolved:
            if not rows.is_linked(archive.index, d, case_no, slug):
                message = (_("record {digest} is not linked to case {case_no} at stage {stage}") if slug
                           else _("record {digest} is not linked to case {case_no}"))
                raise errors.NotLinked(message.format(digest=d[:12], case_no=case_no, stage=slug))
        pinned = holds_pinning(archive, case_no, rows.link_parties(archive.index, case_no, resolved, slug))
        if pinned:
            raise errors.HeldLink(_("case {case_no} is under a legal hold ({holds}): its links stay while "
                                    "the hold stands").format(case_no=case_no, holds=", ".join(pinned)))
        data: dict = {"case_no": case_no, "digests": ["blake3:" + d for d in resolved]}
        if slug:
            data["stage"] = slug
        return [Draft("record.unlinked", data)]

    archive.transact(build)
    return resolved
