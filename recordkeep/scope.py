"""Which records a case, a party or an import period covers (for verify, log, export)."""

from __future__ import annotations

from . import errors
from .archive import Archive
from .i18n import _
from .index import dossier as rows
from .index import records
from .index import resolve as resolver
from .refs import utc_key


def case_digests(archive: Archive, case_ref: str) -> tuple[str, list[str]]:
    """The case number and the digests linked to it (any stage), sorted."""
    case_no = resolver.case(archive.index, case_ref)
    return case_no, rows.case_digests(archive.index, case_no)


def party_digests(archive: Archive, party_ref: str) -> tuple[str, list[str]]:
    """The party's key and every digest linked to it directly or through its cases."""
    key = resolver.party(archive.index, party_ref)
    return key, rows.party_digests(archive.index, key)


def since_digests(archive: Archive, since: str) -> tuple[str, list[str]]:
    """Digests first imported at or after ``since`` (import time, not recorded time)."""
    moment = archive.settings.time(since)
    cut = utc_key(moment)
    return moment, [d for d, at in records.first_imports(archive.index) if utc_key(at) >= cut]


def resolve(archive: Archive, *, case: str | None = None, party: str | None = None,
                  since: str | None = None) -> tuple[dict, list[str] | None]:
    """A scope description for the journal and its digests (None: the whole store)."""
    given = [x for x in (case, party, since) if x is not None]
    if len(given) > 1:
        raise errors.InvalidValue(_("give one of --case, --party or --since"))
    if case is not None:
        case_no, digests = case_digests(archive, case)
        return {"case": case_no}, digests
    if party is not None:
        key, digests = party_digests(archive, party)
        return {"party": key}, digests
    if since is not None:
        moment, digests = since_digests(archive, since)
        return {"since": moment}, digests
    return {"all": True}, None
