"""Cases: opening (立案), stage events, decisions, publication (公示) and closing (结案).

Every write is an event appended through ``Archive.transact``, so what depends on the
store's state (whether a case number is taken, a case's parties) is decided under the
journal's lock.
"""

from __future__ import annotations

from datetime import datetime

from .. import errors, validate
from ..archive import Archive
from ..i18n import _
from ..index import corrections as voids
from ..index import dossier as rows
from ..index import records, resolve
from ..refs import (
    AMOUNT_REQUIRED,
    AV_KINDS,
    MONEY_KINDS,
    PENALTY_KINDS,
    STAGES,
    case_year,
    fold_case_no,
    label,
    parse_amount,
    parse_penalty_kind,
    parse_stage_act,
    utc_key,
)
from ..store.journal import Draft
from .corrections import holds_in_force, require_open
from .parties import resolve_party


def resolve_case(archive: Archive, text: str) -> str:
    """The stored case number for ``text`` (full/half-width and brackets folded)."""
    return resolve.case(archive.index, text)


def _officers(archive: Archive, values: list[str] | tuple[str, ...]) -> list[str]:
    """Each officer's 执法证号 once (an officer may be named by a registered name)."""
    seen: list[str] = []
    for value in values:
        officer = resolve.officer(archive.index, value)
        if officer not in seen:
            seen.append(officer)
    return seen


def _time(archive: Archive, text: str | None) -> str:
    """The time typed for an act (``--at``), never after today; now when none is typed."""
    now = archive.now()
    return now if text is None else archive.settings.done_time(text, now)


def open_case(archive: Archive, case_no: str, *, parties: list[str], title: str | None = None,
              officers: list[str] | tuple[str, ...] = (), at: str | None = None) -> str:
    """Open (立案) a case for one or more parties; the number is kept verbatim. Without ``at``
    the case is opened now, unless its number carries another year (CaseDateNeeded: a 2021
    case entered today must not count in this year). A number whose opening was voided is
    opened again (the opening entered wrong, then right); the rest of that case stands."""
    archive.require_intact_chain()
    case_no = validate.required_text(case_no, _("the case number"))
    if not parties:
        raise errors.InvalidValue(_("a case needs at least one party (--party)"))
    year, this_year = case_year(case_no), datetime.fromisoformat(archive.now()).year
    if at is None and year is not None and year != this_year:
        raise errors.CaseDateNeeded(_("case {case_no} is of {year}, not {this_year}: when was it opened?")
                                    .format(case_no=case_no, year=year, this_year=this_year))
    data: dict = {"case_no": case_no, "case_key": fold_case_no(case_no),
                  "officers": _officers(archive, officers), "at": _time(archive, at)}
    title = validate.optional_text(title, _("the title"))
    if title:
        data["title"] = title

    def build() -> list[Draft]:
        taken = rows.case_with_key(archive.index, data["case_key"])
        if taken and rows.case(archive.index, taken)["status"] != "voided":
            raise errors.CaseExists(_("case {case_no} already exists").format(case_no=taken))
        keys = []
        for p in parties:
            key = resolve_party(archive, p)
            if key not in keys:
                keys.append(key)
        data["parties"] = keys
        if taken:  # its opening was voided: opened again under the number as first written
            data["case_no"] = taken
            _require_reopenable(archive, taken, keys)
        return [Draft("case.opened", data)]

    archive.transact(build)
    return data["case_no"]


def _require_reopenable(archive: Archive, case_no: str, parties: list[str]) -> None:
    """A voided case is opened again only where nothing it holds would escape: without dropping
    a party that the case's hold or the party's own pins, or that a decision or a link of the
    case names. (A voided case keeps its parties and links: voiding the opening alone takes
    nothing from a hold.) A case closed before its void stays closed: its close stands."""
    dropped = [p for p in rows.members(archive.index, case_no) if p not in parties]
    if not dropped:
        return
    pinned = holds_in_force(archive, case_no, dropped)
    if pinned:
        raise errors.HeldLink(_("case {case_no} is under a legal hold ({holds}): its parties stay while "
                                "the hold stands").format(case_no=case_no, holds=", ".join(pinned)))
    digests = rows.case_digests(archive.index, case_no)
    named = {d["party"] for d in rows.decisions(archive.index, case_no)} | rows.link_parties(
        archive.index, case_no, digests)
    kept_out = [p for p in dropped if p in named]
    if kept_out:
        raise errors.InvalidValue(_("case {case_no} has decisions or links of {parties}: name them again, "
                                    "or void those first").format(case_no=case_no,
                                                                  parties=", ".join(kept_out)))


def add_stage(archive: Archive, case_ref: str, stage: str, *, at: str | None = None,
              until: str | None = None, officers: list[str] | tuple[str, ...] = (),
              on_site: bool = False, action: str | None = None, note: str | None = None,
              transcribed_from: str | None = None) -> int:
    """Record a stage event (an action's span, who was there, on site or not); return its seq.
    ``stage`` may name an act (告知): the event is then of the act's stage, with the act as its
    action; an ``action`` that says otherwise is refused (InvalidValue). ``transcribed_from``:
    the paper record it is typed from, linked to the case (NotLinked otherwise), which carries
    its date (an act entered late counts as review only with it, docs/rules.md)."""
    archive.require_intact_chain()
    slug, act = parse_stage_act(stage, archive.settings.acts)
    data: dict = {"stage": slug, "officers": _officers(archive, officers), "on_site": bool(on_site),
                  "at": _time(archive, at)}
    if until:
        data["until"] = archive.settings.done_time(until, archive.now(), end_of_day=True)
        if data["until"] <= data["at"]:  # both in the store's zone: text order is time order
            raise errors.InvalidValue(_("--until must be after --at"))
    for key, what, value, limit in (("action", _("the action"), action, validate.NAME_CHARS),
                                    ("note", _("the note"), note, validate.NOTE_CHARS)):
        checked = validate.optional_text(value, what, limit=limit)
        if checked:
            data[key] = checked
    if act is not None:
        if data.get("action", act) != act:
            raise errors.InvalidValue(
                _("{act} is an act of its own: --action {action} says another").format(
                    act=act, action=data["action"]),
                hint=_("give one act: 'case stage NO {act}', or the stage with the action ('case stage NO "
                       "{stage} --action {action}'); detail goes in --note").format(
                    act=act, stage=STAGES[slug], action=data["action"]))
        data["action"] = act
    if transcribed_from is not None:
        data["transcribed_from"] = "blake3:" + archive.resolve_digest(transcribed_from)

    def build() -> list[Draft]:
        data["case_no"] = resolve.case(archive.index, case_ref)
        require_open(archive, data["case_no"], "stage")
        _require_linked_paper(archive, data)
        return [Draft("case.stage", data)]

    return archive.transact(build)[-1].seq


def _require_linked_paper(archive: Archive, data: dict) -> None:
    """NotLinked when the record an entry is transcribed from is not linked to its case;
    InvalidValue when it is a clip (check counts no clip as the paper an entry is typed from)."""
    paper = data.get("transcribed_from", "")[7:]
    if not paper:
        return
    if not rows.is_linked(archive.index, paper, data["case_no"]):
        raise errors.NotLinked(
            _("record {digest} is not linked to case {case_no}: an entry is typed from the case's own "
              "paper record").format(digest=paper[:12], case_no=data["case_no"]),
            hint=_("link it first: 'recordkeep case link NO DIGEST --stage STAGE'"))
    kind = records.record(archive.index, paper)["kind"]
    if kind in AV_KINDS:
        raise errors.InvalidValue(
            _("record {digest} is a {kind} clip: an entry is typed from a paper record (a scan, a "
              "screenshot), which carries its date; a clip does not").format(digest=paper[:12],
                                                                             kind=label(kind)))


def decide(archive: Archive, case_ref: str, *, penalty_kind: str, party: str | None = None,
           amount: str | None = None, at: str | None = None) -> dict:
    """Record one decision (行政处罚决定) for one party of a case: its kind and exact amount.

    A party may have several decisions, one of each kind (并处: 没收违法所得 并处 罚款); each
    is its own ``case.decided`` event, known by its seq. Only the money kinds take an amount
    (AmountNotAllowed); a fine and a 没收违法所得 need one (InvalidAmount); a second decision
    of a kind the party already has is AlreadyDecided. Returns the event's data and its ``seq``."""
    archive.require_intact_chain()
    kind = parse_penalty_kind(penalty_kind)
    named = f"{PENALTY_KINDS[kind]} ({kind})"
    data: dict = {"penalty_kind": kind, "at": _time(archive, at)}
    if amount is not None:
        if kind not in MONEY_KINDS:
            raise errors.AmountNotAllowed(_("a {kind} carries no amount: --amount {amount!r} refused").format(
                kind=named, amount=amount))
        data["amount"] = parse_amount(amount)
        if kind in AMOUNT_REQUIRED and data["amount"] == "0.00":
            said = _("a {kind} of 0 yuan decides nothing: give the amount decided")
            raise errors.InvalidAmount(said.format(kind=named))
    elif kind in AMOUNT_REQUIRED:
        raise errors.InvalidAmount(_("a {kind} needs --amount").format(kind=named))

    def build() -> list[Draft]:
        data["case_no"] = resolve.case(archive.index, case_ref)
        require_open(archive, data["case_no"], "decision")
        parties = rows.members(archive.index, data["case_no"])
        if party is None:
            if len(parties) != 1:
                raise errors.PartyNeeded(_("case {case_no} has {n} parties").format(case_no=data["case_no"],
                                                                                   n=len(parties)))
            data["party"] = parties[0]
        else:
            data["party"] = resolve_party(archive, party)
            if data["party"] not in parties:
                raise errors.UnknownParty(_("{party} is not a party of case {case_no}").format(
                    party=data["party"], case_no=data["case_no"]))
        seq = rows.decision_of_kind(archive.index, data["case_no"], data["party"], kind)
        if seq is not None:
            raise errors.AlreadyDecided(_("case {case_no} already has a {kind} for {party} (seq {seq})")
                                        .format(case_no=data["case_no"], kind=named, party=data["party"],
                                                seq=seq))
        return [Draft("case.decided", data)]

    seq = archive.transact(build)[-1].seq  # fills in the case and the party first
    return {**data, "seq": seq}


def _dated(archive: Archive, event_type: str, case_ref: str, at: str | None,
           transcribed_from: str | None = None) -> dict:
    archive.require_intact_chain()
    data = {"at": _time(archive, at)}
    if transcribed_from is not None:
        data["transcribed_from"] = "blake3:" + archive.resolve_digest(transcribed_from)

    def build() -> list[Draft]:
        data["case_no"] = resolve.case(archive.index, case_ref)
        if event_type == "case.published":
            require_open(archive, data["case_no"], "publication")
            _require_unpublished(archive, data["case_no"])
        _require_linked_paper(archive, data)
        return [Draft(event_type, data)]

    archive.transact(build)
    return data


def _require_unpublished(archive: Archive, case_no: str) -> None:
    """AlreadyPublished when the case was published since its last reopening and no decision
    that stands is dated after that publication: another would only move its date silently (a
    date entered wrong is voided, then published again). A decision made since (another
    party's, or one made again after a void) is published in its turn."""
    published = None
    for row in voids.last_dates(archive.index, case_no):
        if row["kind"] == "published":
            published = row
        elif row["kind"] == "reopened":
            published = None
    if published is None:
        return
    since = utc_key(published["at"])
    if any(utc_key(d["at"]) > since for d in rows.decisions(archive.index, case_no) if d["at"]):
        return
    raise errors.AlreadyPublished(
        _("case {case_no} was published already, at {at} (seq {seq}), after every decision that "
          "stands").format(case_no=case_no, at=published["at"], seq=published["seq"]),
        hint=_("a publication entered wrong is struck with 'case void {case_no} {seq} --reason WHY'; "
               "then publish again").format(case_no=case_no, seq=published["seq"]))


def publish(archive: Archive, case_ref: str, at: str, *, transcribed_from: str | None = None) -> dict:
    """Record when the decision was published (公示); return the event's data
    (``case_no`` as stored, ``at``). AlreadyPublished when it would only move the date of a
    publication made after every decision. ``transcribed_from``: the record of the publication
    it is typed from (a screenshot of the notice), linked to the case (NotLinked otherwise):
    a publication entered late counts on its date only with it (docs/rules.md)."""
    return _dated(archive, "case.published", case_ref, at, transcribed_from)


def close_case(archive: Archive, case_ref: str, at: str | None = None) -> dict:
    """Close (结案) the case; return the event's data (``case_no`` as stored, ``at``).
    A case already closed is AlreadyClosed: a second close would move its date silently; a
    voided case is CaseVoided."""
    archive.require_intact_chain()
    data = {"at": _time(archive, at)}

    def build() -> list[Draft]:
        data["case_no"] = resolve.case(archive.index, case_ref)
        case = rows.case(archive.index, data["case_no"])
        if case["status"] == "closed":
            raise errors.AlreadyClosed(_("case {case_no} was closed already, at {at}").format(
                case_no=data["case_no"], at=case["closed_at"]))
        require_open(archive, data["case_no"], "close")
        return [Draft("case.closed", data)]

    archive.transact(build)
    return data
