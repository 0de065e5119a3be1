"""Which records a case, a party or an import period covers (for verify, log, export), and
how a scope reads."""

from __future__ import annotations

from . import errors
from .archive import Archive
from .i18n import _
from .index import dossier as rows
from .index import records
from .index import resolve as resolver
from .refs import utc_key


def describe(scope: dict | None) -> str:
    """A scope as journaled (``resolve``'s, a rolling audit's, an export's) as the reader reads it:
    whole store, rolling audit, case NO, party P1, since T."""
    scope = scope or {"all": True}
    if scope.get("all"):
        return _("whole store")
    if scope.get("rolling"):
        return _("rolling audit")
    if "case" in scope:
        return _("case {case_no}").format(case_no=scope["case"])
    if "party" in scope:
        return _("party {party}").format(party=scope["party"])
    if "since" in scope:
        return _("since {moment}").format(moment=scope["since"])
    return ", ".join(f"{k} {v}" for k, v in scope.items())


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
