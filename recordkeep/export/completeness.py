"""Whether a bag holds its whole case or party, checked against the store's journal.

Each bag export journals ``export.created`` with the seq its plan saw the index at
(``through``) and its payload's identity (``payload``, ``payload_id``). A bag's exports are
those of its payload and of the scope it names (``recordkeep/summary.json``), planned at or
before its journal head and journaled after it; a bag with none is not whole. The journal,
read and folded afresh (into a temporary file) up to each one's ``through``, must link to that
scope exactly the payload's records, those disposed of apart, for one of them. Scope and seq
come from the journal, never from the bag: a bag exported from an index changed by hand (a
link deleted, or another household's record linked) agrees with itself and passes
bagit-python, but not this. A whole bag must also stand as one of those exports arranged it:
its folders and summary.json's files as that fold gives them, its bag-info.txt as the export
journaled it; and whatever arrangement wrote it, its pii.json, summary.json (whose dossier view
no fold is compared with) and summary.txt byte for byte the files the export journaled.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import errors
from ..archive import Archive
from ..i18n import LANGUAGES, N_, _, speaking
from ..index import Index, records
from ..index import dossier as rows
from ..index.core import Acknowledged, rebuild
from ..store.fs import os_error
from ..store.journal import ChainProblem, Event
from .arrangement import VERSIONS, arrange, description, summary_text
from .bagreport import BagReport, from_bag


def payload_id(digests: Iterable[str]) -> str:
    """How ``export.created`` names a bag's payload: ``sha256:`` and the SHA-256 of its distinct
    BLAKE3 digests, sorted, one per line (its file names and its manifests' order do not count)."""
    return sha256_id("".join(f"{d}\n" for d in sorted(set(digests))).encode())


@dataclass
class Readable:
    """What a bag says of its records: its payload (data path to BLAKE3 digest), summary.json's
    files as they stand there, summary.txt's bytes (None when it cannot be read), bag-info.txt's
    fields, pii.json's bytes and summary.json's."""

    placed: dict[str, str]
    listed: object
    told: bytes | None
    info: dict[str, str]
    pii: bytes | None = None  # pii.json's bytes; None: the bag has none
    summary: bytes | None = None  # summary.json's bytes; None: it cannot be read


def check_whole(archive: Archive, report: BagReport, *, found: ExportsFound, bag: Readable,
                claimed: object, head_seq: int) -> None:
    """Set ``report.complete`` and ``report.exports``: the ``bag`` (``claimed`` the scope its
    summary.json names, ``head_seq`` its journal head) against its exports (among ``found``, fed
    the whole journal), those of this payload and scope planned at or before its head and
    journaled after it. A bag the journal knows no such export of is not whole (RK266); a whole
    one must also stand arranged as one of them planned it (RK268). A journal that cannot be
    folded here, or whose chain broke before its end (``found`` then saw only part of it), leaves
    it unchecked, with a notice saying why."""
    if found.broken is not None:
        report.notices.append((found.broken.code, _(
            "whether the bag holds its whole case or party was not checked: {error}").format(
                error=found.broken.message)))
        return
    try:
        named_payload = payload_id(bag.placed.values())
        exports = [e for e in found.exports if e.data["payload"] == named_payload]
        ours = [e for e in exports if e.data["scope"] == claimed and e.data["through"] <= head_seq < e.seq]
        if ours:
            _against(archive, ours, bag, report)
            return
        report.complete = False
        named = from_bag(scope_name(claimed)) if _is_scope(claimed) else "?"
        report.problems.append((errors.BagNotJournaled.code, _(
            "no export of {what} in this store's journal made this payload around the bag's head (seq "
            "{head}){others}: it cannot be shown whole").format(
                what=named, head=head_seq,
                others=_(" (exports {seqs} did, of another scope or at another time)").format(
                    seqs=", ".join(str(e.seq) for e in exports)) if exports else "")))
    except (errors.RecordkeepError, OSError) as exc:
        if isinstance(exc, OSError):
            exc = os_error(exc, N_("folding the journal"), None)
        if report.complete is not False:
            report.complete = None
        report.notices.append((exc.code, _("whether the bag holds its whole case or party was not checked: "
                                           "{error}").format(error=exc.message)))


class ExportsFound:
    """Fed the store's journal in order (a chain walk's ``visit``: the journal itself, not the
    index), it keeps the bag exports: counted ``export.created`` events that name a scope, a
    ``payload`` and a ``through`` before their own seq."""

    def __init__(self) -> None:
        self._counted = Acknowledged()
        self.exports: list[Event] = []
        self.broken: ChainProblem | None = None  # where the walk that fed it stopped, if it did

    def feed(self, event: Event) -> None:
        for e in self._counted.feed(event):
            if e.type == "export.created" and _names_its_plan(e):
                self.exports.append(e)


def _names_its_plan(event: Event) -> bool:
    d = event.data
    return (isinstance(d, dict) and isinstance(d.get("payload"), str) and _is_scope(d.get("scope"))
            and type(d.get("through")) is int and 0 < d["through"] < event.seq)


def _is_scope(scope: object) -> bool:
    """Whether ``scope`` is ``{"case": NO}`` or ``{"party": KEY}``."""
    return (isinstance(scope, dict) and len(scope) == 1
            and isinstance(scope.get("case", scope.get("party")), str))


def scope_name(scope: dict) -> str:
    """A bag's scope as people read it: "case NO" or "party KEY", in their language."""
    return (_("case {case}").format(case=scope["case"]) if "case" in scope
            else _("party {party}").format(party=scope["party"]))


def _against(archive: Archive, ours: list[Event], bag: Readable, report: BagReport) -> None:
    """The payload against what the journal linked to the scope where each export's plan saw it:
    whole when it is so for one of them (the latest such is named, and the bag must stand
    arranged as one of those planned it); else what the latest lacks or holds besides. A record
    linked between that plan and its export is a notice."""
    scope, payload = ours[0].data["scope"], set(bag.placed.values())
    planned: dict[int, set[int]] = {}  # each plan's seq: the arrangements of the exports made from it
    for e in ours:
        versions = planned.setdefault(e.data["through"], set())
        if _arrangement(e) in VERSIONS:  # one of another release's is not made again
            versions.add(_arrangement(e))
    states = _states(archive, scope, sorted(planned.keys() | {e.seq for e in ours}), planned)
    results = []
    for e in sorted(ours, key=lambda e: e.seq):
        linked, kept, _planned = states[e.data["through"]]
        results.append((e, kept - payload, payload - linked))
        report.exports.append({"seq": e.seq, "through": e.data["through"], "scope": scope,
                               "complete": not (kept - payload or payload - linked)})
    whole = [e for e, missing, extra in results if not missing and not extra]
    what = scope_name(scope)
    if whole:
        report.complete = True
        e = whole[-1]
        _check_arrangement(report, scope, [(w, states[w.data["through"]][2].get(_arrangement(w), []))
                                           if _arrangement(w) in VERSIONS else (w, []) for w in whole], bag)
        for digest in sorted(states[e.seq][1] - states[e.data["through"]][1]):
            report.notices.append((errors.BagLinkedMeanwhile.code, _(
                "record {digest} was linked to {what} after export seq {seq} planned this bag (seq "
                "{through}) and before the export was journaled: not in the bag").format(
                    digest=digest[:12], what=what, seq=e.seq, through=e.data["through"])))
        return
    report.complete = False
    e, missing, extra = results[-1]
    for digest in sorted(missing):
        report.problems.append((errors.BagIncomplete.code, _(
            "record {digest} is not in the bag, but the journal linked it to {what} at seq {through}, "
            "where export seq {seq} planned this bag").format(
                digest=digest[:12], what=what, through=e.data["through"], seq=e.seq)))
    for digest in sorted(extra):
        report.problems.append((errors.BagIncomplete.code, _(
            "record {digest} is in the bag, but the journal did not link it to {what} at seq {through}, "
            "where export seq {seq} planned this bag").format(
                digest=digest[:12], what=what, through=e.data["through"], seq=e.seq)))


def _check_arrangement(report: BagReport, scope: dict, planned: list[tuple[Event, list[dict]]],
                       bag: Readable) -> None:
    """The bag against its whole exports (export, entries; the latest last): the files each vouched
    for by their SHA-256, whatever arrangement wrote them, and for those of this recordkeep's
    arrangements ``VERSIONS`` (an export that journaled none, by the release before, is of
    version 1) what its folders, summary.json's files and bag-info.txt say otherwise. RK268 when
    the bag stands as none of them (against the latest); a notice when no export is of these
    versions, or when none vouched for summary.txt and it is none of theirs in any language."""
    ours = [(e, entries) for e, entries in planned if _arrangement(e) in VERSIONS]
    if ours:
        differs = [(e, _misarranged(entries, bag) + _export_otherwise(e, bag) + _vouched_otherwise(e, bag))
                   for e, entries in ours]
    else:
        report.notices.append((errors.BagMisarranged.code, _(
            "the bag was arranged by another version of recordkeep than this one (arrangement {version}): "
            "its folders, summary.json's files and bag-info.txt are not compared").format(
                version=_shown(planned[-1][0].data.get("arrangement")))))
        differs = [(e, _vouched_otherwise(e, bag)) for e, _entries in planned]
    if all(found for _e, found in differs):
        e, found = differs[-1]
        for message in found:
            report.problems.append((errors.BagMisarranged.code, _(
                "{message} (as export seq {seq} planned the bag, at seq {through})").format(
                    message=message, seq=e.seq, through=e.data["through"])))
    if not ours or any(isinstance(e.data.get("summary_text"), str) for e, _entries in ours):
        return
    told = {_told(scope, entries, language) for _e, entries in ours for language in LANGUAGES}
    if bag.told not in told:
        report.notices.append((errors.BagMisarranged.code, _(
            "recordkeep/summary.txt is not what this recordkeep writes for the bag's arrangement in any "
            "language: changed after the export, or written by another version (summary.json is the "
            "record, and is compared)")))


def _arrangement(export: Event) -> object:
    """The arrangement an export journaled (1: none, an export by the release before)."""
    return export.data.get("arrangement", 1)


def _states(archive: Archive, scope: dict, seqs: list[int], planned: dict[int, set[int]]
            ) -> dict[int, tuple[set[str], set[str], dict[int, list[dict]]]]:
    """At each of ``seqs`` (ascending), the records the journal, folded afresh (in a temporary
    file) up to there, links to the case, or to the party (in its cases and outside them): all,
    and those not disposed of; and at the seqs in ``planned``, the bag as each arrangement
    named there (of ``VERSIONS``) places it."""
    states = {}
    with tempfile.TemporaryDirectory(prefix="recordkeep-bag-") as tmp:
        fold = Path(tmp) / "fold.sqlite"
        rebuild(archive.journal, fold, archive.watch, through=seqs[0])
        ix = Index(fold, migrate=False)
        try:
            for seq in seqs:
                ix.catch_up(archive.journal, through=seq)
                arranged = {v: arrange(ix, scope, seq, v) for v in planned.get(seq, ())}
                states[seq] = (*_linked(ix, scope), arranged)
        finally:
            ix.close()
    return states


def _linked(ix: Index, scope: dict) -> tuple[set[str], set[str]]:
    if "case" in scope:
        linked = set(rows.case_digests(ix, scope["case"]))
    else:
        cases = [row["case_no"] for row in rows.cases_where(ix, party=scope["party"])]
        linked = {*(d for case in cases for d in rows.case_digests(ix, case)),
                  *rows.party_only_digests(ix, scope["party"])}
    return linked, {d for d, _size, disposed in records.sizes(ix, sorted(linked)) if not disposed}


def _misarranged(planned: list[dict], bag: Readable) -> list[str]:
    """Where ``bag`` says otherwise than the arrangement ``planned``: a message for each field of
    a file summary.json gives otherwise (or a file it lists or leaves out), and for each payload
    file in another place. Empty when it stands so."""
    return _listed_otherwise(planned, bag.listed) + _placed_otherwise(planned, bag.placed)


def _listed_otherwise(planned: list[dict], listed: object) -> list[str]:
    if not isinstance(listed, list) or not all(isinstance(f, dict) for f in listed):
        return [_("recordkeep/summary.json's files are not a list of entries: it cannot be compared")]
    expected = {e["path"]: e for e in planned}
    given: dict[str, dict] = {}
    found = []
    for f in listed:
        path = f.get("path") if isinstance(f.get("path"), str) else _shown(f.get("path"))
        if path in given:
            found.append(_("summary.json lists {path} twice").format(path=from_bag(path)))
        given[path] = f
    for path in sorted(expected.keys() - given.keys()):
        found.append(_("summary.json does not list {path}, where the journal put record {digest}").format(
            path=from_bag(path), digest=expected[path]["digest"][:12]))
    for path in sorted(given.keys() - expected.keys()):
        found.append(_("summary.json lists {path}, where the journal put no record").format(
            path=from_bag(path)))
    for path in sorted(expected.keys() & given.keys()):
        ours, theirs = expected[path], given[path]
        for name in sorted(ours.keys() | theirs.keys()):
            if _canonical(ours.get(name)) != _canonical(theirs.get(name)):
                said = _("summary.json gives {path} the {field} {given}; the journal, {expected}")
                found.append(said.format(path=from_bag(path), field=from_bag(name),
                                         given=_shown(theirs.get(name)), expected=_shown(ours.get(name))))
    return found


def _placed_otherwise(planned: list[dict], placed: dict[str, str]) -> list[str]:
    held = {e["path"]: e["digest"] for e in planned if not e["disposed"]}
    found = []
    for path in sorted(held.keys() | placed.keys()):
        if path not in placed:
            found.append(_("{path} is not in the payload, where the journal put record {digest}").format(
                path=from_bag(path), digest=held[path][:12]))
        elif path not in held:
            found.append(_("{path} holds record {digest}, where the journal put no record").format(
                path=from_bag(path), digest=from_bag(placed[path][:12])))
        elif placed[path] != held[path]:
            found.append(_("{path} holds record {digest}, where the journal put record {expected}").format(
                path=from_bag(path), digest=from_bag(placed[path][:12]), expected=held[path][:12]))
    return found


def _export_otherwise(export: Event, bag: Readable) -> list[str]:
    """bag-info.txt's fields about the export against what the export journaled."""
    info, at, agent = bag.info, export.data.get("exported_at"), export.data.get("agent")
    expected = {"Recordkeep-Exporter": export.actor, "Recordkeep-Records": str(export.data.get("records")),
                "External-Description": description(export.data["scope"]),
                **({"Recordkeep-Exported-At": at, "Bagging-Date": at[:10]} if isinstance(at, str) else {}),
                **({"Bag-Software-Agent": agent} if isinstance(agent, str) else {})}
    return [_("bag-info.txt gives {field} {given}; the export journaled {expected}").format(
                field=name, given=_shown(info.get(name)), expected=_shown(value))
            for name, value in expected.items() if info.get(name) != value]


def _vouched_otherwise(export: Event, bag: Readable) -> list[str]:
    """pii.json (whose numbers it holds, and the very file), summary.json (its dossier view with
    it) and summary.txt against the files the export vouched for, each by its SHA-256; a file it
    journaled no digest of (an export by an earlier release) is not compared."""
    found = []
    shown = export.data.get("with_pii")
    shown = sorted(k for k in shown if isinstance(k, str)) if isinstance(shown, list) else []
    held = _pii_parties(bag.pii)
    if held != (shown or None):
        found.append(_("recordkeep/pii.json holds the numbers of {given}; the export journaled those of "
                       "{expected}").format(given=_shown(held), expected=_shown(shown or None)))
    elif bag.pii is not None and export.data.get("pii") not in (None, sha256_id(bag.pii)):
        found.append(_("recordkeep/pii.json is not the file the export journaled (its names or numbers "
                       "were changed)"))
    vouched = export.data.get("summary")
    if isinstance(vouched, str) and (bag.summary is None or sha256_id(bag.summary) != vouched):
        found.append(_("recordkeep/summary.json is not the file the export journaled (its dossier view, "
                       "or anything else in it, was changed)"))
    vouched = export.data.get("summary_text")
    if isinstance(vouched, str) and (bag.told is None or sha256_id(bag.told) != vouched):
        found.append(_("recordkeep/summary.txt is not the file the export journaled (what it tells "
                       "people was changed)"))
    return found


def sha256_id(data: bytes) -> str:
    """How export.created names a file it vouches for: ``sha256:`` and the SHA-256 of its bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _pii_parties(data: bytes | None) -> list[str] | None:
    """The parties whose numbers pii.json (``data``) holds, sorted; None when the bag has none (an
    empty list when it cannot be read as a JSON object)."""
    if data is None:
        return None
    try:
        parties = json.loads(data)
    except (ValueError, RecursionError):
        return []
    return sorted(parties) if isinstance(parties, dict) else []


def _told(scope: dict, planned: list[dict], language: str) -> bytes:
    """summary.txt as an export of ``planned`` writes it in ``language``."""
    with speaking(language):
        return summary_text(scope, planned).encode()


def _canonical(value: object) -> str | None:
    """``value`` as JSON with its types kept (1024 is not 1024.0, 0 is not false); None when it
    cannot be written, which equals nothing the arrangement gives."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return None


def _shown(value: object) -> str:
    """A value read from the bag as JSON, as ``from_bag`` shows text."""
    try:
        return from_bag(json.dumps(value, ensure_ascii=False))
    except (ValueError, RecursionError):
        return "?"
