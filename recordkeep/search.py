"""Search: records by case, party, officer, device, recorded time, stage, kind and text,
plus the parties and cases whose own fields match the text.

Contract (``search(archive, Query) -> {"records": [...], "parties": [...], "cases": [...]}``):

- Records come newest first (recorded time descending, records without one last, then
  digest), at most ``limit``. Each is ``dossier_view.record_summary`` plus ``cases`` (the
  case numbers it is linked to) and ``parties`` (the keys it is linked to, directly or
  through a linked case's parties). Disposed records are still found.
- Filters combine (AND). ``case``/``party`` are resolved as everywhere else (unknown or
  ambiguous: their RK4xx errors). ``party`` matches records linked to the party or to any
  case of the party. ``stage``: linked at that stage (within ``case``, else within
  ``party``'s links, when given). ``since``/``until``: recorded time (a bare ``until``
  date includes the day). ``unlinked``: in no case.
- ``text`` matches a record when one of its original file names, its doc type, or the note
  or action of a stage event it is linked at contains the text, or when a party or case it
  is linked to matches. A party matches on name, address or credit code, and a whole identity
  or phone number finds its party (through the vault: never some digits of one); a case on its
  number (full/half-width and brackets folded, so 〔2021〕12号 = [2021]12号) or title.
  ``parties`` (identity numbers masked, by key) and ``cases`` (newest opened first) list
  those matching themselves, at most ``limit`` each. Matching is by substring, of the text
  as typed or NFKC-folded, ignoring the case of ASCII letters. Text under 3 characters
  is not looked for in file names (every other field is searched at any length): a name's
  trigrams cannot find it at the name's end, and checking every name would walk every
  record; ``names_searched`` says whether they were.
- No match is empty lists, never an error; no filter and no text (or blank text) lists every
  record. Text holding undecodable bytes or control characters is refused (InvalidText).

The index's query builder (``index.search``) does the finding; this module checks and
resolves the query and shapes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import errors, validate
from .archive import Archive
from .dossier.parties import Party, find_by_number, get_party, resolve_party
from .dossier.views import record_summary
from .i18n import N_, _
from .index import resolve
from .index import search as finder
from .refs import parse_kind, parse_stage, utc_key

MAX_LIMIT = 100_000  # records, parties and cases a search lists at most


@dataclass(frozen=True)
class Query:
    """What to search for; every given filter must hold (AND)."""

    text: str | None = None
    case: str | None = None
    party: str | None = None
    officer: str | None = None
    device: str | None = None
    since: str | None = None
    until: str | None = None
    stage: str | None = None
    kind: str | None = None
    important: bool = False
    unlinked: bool = False
    limit: int = 100


def filters(archive: Archive, q: Query) -> finder.Filters:
    """The query's structured filters, checked and resolved."""
    settings = archive.settings
    return finder.Filters(
        case=resolve.case(archive.index, q.case) if q.case is not None else None,
        party=resolve_party(archive, q.party) if q.party is not None else None,
        officer=resolve.officer(archive.index, q.officer) if q.officer is not None else None,
        device=validate.text(q.device, _("the device"), reading=True) if q.device is not None else None,
        since_utc=utc_key(settings.time(q.since)) if q.since is not None else None,
        until_utc=utc_key(settings.time(q.until, end_of_day=True)) if q.until is not None else None,
        stage=parse_stage(q.stage, settings.acts) if q.stage else None,
        kind=parse_kind(q.kind) if q.kind is not None else None,
        important=q.important, unlinked=q.unlinked)


def _of_parties(archive: Archive, chosen: finder.Filters, owners: list[str], limit: int) -> finder.Hits:
    """The records of any of ``owners`` passing ``chosen`` (whose own party, when it names one,
    must be among them), newest first as ``finder.find`` orders them, at most ``limit``."""
    rows, cases_of, parties_of = {}, {}, {}
    for owner in owners:
        hits = finder.find(archive.index, replace(chosen, party=owner if chosen.party in (None, owner)
                                                  else "-"), None, limit)  # "-": no party
        rows.update((row["digest"], row) for row in hits.records)
        cases_of.update(hits.cases_of)
        parties_of.update(hits.parties_of)
    ordered = sorted(rows.values(), key=lambda row: row["digest"])
    ordered.sort(key=lambda row: row["recorded_utc"] or "", reverse=True)  # stable: by digest within a time
    return finder.Hits(ordered[:limit], cases_of, parties_of, [], [])


def search(archive: Archive, query: Query) -> dict:
    """Records matching ``query`` (newest first), and the parties and cases matching its text."""
    if query.limit < 1:
        raise errors.InvalidValue(_("--limit must be at least 1, not {limit}").format(limit=query.limit))
    validate.bounded(query.limit, "--limit", 1, MAX_LIMIT)
    chosen = filters(archive, query)
    text = validate.text(query.text or "", N_("the search text"), reading=True) or None  # blank: no text
    owners = find_by_number(archive, text) if text else []
    if owners:  # a whole identity or phone number: the records of the parties that have it
        hits = _of_parties(archive, chosen, owners, query.limit)
        parties = [get_party(archive, owner) for owner in owners]
    else:
        hits = finder.find(archive.index, chosen, text, query.limit)
        parties = hits.parties
    return {
        "records": [{**record_summary(row), "cases": hits.cases_of[row["digest"]],
                     "parties": hits.parties_of[row["digest"]]} for row in hits.records],
        "parties": [(p if isinstance(p, Party) else Party.from_row(p)).as_data() for p in parties],
        "cases": [{"case_no": r["case_no"], "title": r["title"], "status": r["status"],
                   "opened_at": r["opened_at"]} for r in hits.cases],
        "names_searched": _names_searched(text, owners),
    }


def _names_searched(text: str | None, owners: list[str]) -> bool | None:
    """Whether ``text`` was looked for in file names: not under 3 characters
    (``finder.TRIGRAM``); None when there is no text to look for, or it is a party's number."""
    if not text or owners:
        return None
    return all(len(n) >= finder.TRIGRAM for n in finder.needles(text))
