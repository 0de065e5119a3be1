"""Which records a case, a party or an import period covers (for verify, log, export)."""

from __future__ import annotations

from .archive import Archive
from .index import utc_key
from .when import parse


def case_digests(archive: Archive, case_ref: str) -> tuple[str, list[str]]:
    """The case number and the digests linked to it (any stage), sorted."""
    from .dossier import resolve_case  # only a scoped run pays for the dossier's imports

    case_no = resolve_case(archive, case_ref)
    rows = archive.index.conn.execute("SELECT DISTINCT digest FROM links WHERE case_no = ? ORDER BY digest",
                                      (case_no,))
    return case_no, [r[0] for r in rows]


def party_digests(archive: Archive, party_ref: str) -> tuple[str, list[str]]:
    """The party's key and every digest linked to it directly or through its cases."""
    from .dossier import resolve_party

    key = resolve_party(archive, party_ref)
    rows = archive.index.conn.execute(
        "SELECT digest FROM links WHERE party = ? UNION SELECT l.digest FROM links l "
        "JOIN case_parties cp ON cp.case_no = l.case_no WHERE cp.party = ? ORDER BY 1", (key, key))
    return key, [r[0] for r in rows]


def since_digests(archive: Archive, since: str) -> tuple[str, list[str]]:
    """Digests first imported at or after ``since`` (import time, not recorded time)."""
    moment = parse(since, archive.settings.zone)
    rows = archive.index.conn.execute("SELECT digest, first_at FROM records ORDER BY digest")
    cut = utc_key(moment)
    return moment, [d for d, at in rows if utc_key(at) >= cut]


def resolve(archive: Archive, *, case: str | None = None, party: str | None = None,
            since: str | None = None) -> tuple[dict, list[str] | None]:
    """A scope description for the journal and its digests (None: the whole store)."""
    given = [x for x in (case, party, since) if x is not None]
    if len(given) > 1:
        from .errors import InvalidValue

        raise InvalidValue("give one of --case, --party or --since")
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
