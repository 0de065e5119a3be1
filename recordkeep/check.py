"""Compliance checks: the three enforcement systems (三项制度) proved or disproved from the store.

``check`` reads the index only (it works on a read-only store) and returns, per
case, every broken rule as a :class:`Finding` with a stable RK5xx code and what
would fix it. A rule that cannot be decided (a year the working-day calendar
does not know, an undated review document) is a finding with status
``unknown``, never a guess. The rules, their codes and the ``[rules]`` table of
recordkeep.toml are described in docs/rules.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from zoneinfo import ZoneInfo

from . import errors, settings_history, validate, workdays
from .archive import Archive
from .i18n import N_, _, language
from .index import corrections as dates
from .index import dossier as rows
from .index import keys as key_rows
from .index import people, resolve
from .index.core import Index, Row
from .refs import (
    AV_KINDS,
    PENALTY_KINDS,
    STAGES,
    EntryTimes,
    carries_time,
    entered_late,
    fold_case_no,
    in_period,
    label,
    year_bounds,
)

VOUCHING_ROLES = frozenset({"reviewer", "records"})  # may type a past date from a record of it

CODES = {
    "on_site_officers": errors.OnSiteOfficers.code,
    "legal_review": errors.LegalReviewMissing.code,
    "collective_discussion": errors.CollectiveDiscussionMissing.code,
    "av_missing": errors.AvMissing.code,
    "av_gaps": errors.AvGaps.code,
    "publication_late": errors.PublicationLate.code,
    "publication_unknown": errors.UnknownYear.code,
    "stage_unrecorded": errors.StageUnrecorded.code,
    "stages_incomplete": errors.StagesIncomplete.code,
    "review_undated": errors.ReviewUndated.code,
    "decided_before_opening": errors.DecidedBeforeOpening.code,
    "published_before_decision": errors.PublishedBeforeDecision.code,
    "closed_before_decision": errors.ClosedBeforeDecision.code,
    "closed_before_opening": errors.ClosedBeforeOpening.code,
    "unregistered_officer": errors.UnregisteredOfficer.code,
    "case_year": errors.CaseYearMismatch.code,
}
REVIEWS = {"legal_review": "法制审核", "collective_discussion": "集体讨论"}
MAINLAND_ZONE = "Asia/Shanghai"  # the zone of the working-day calendar and of a bureau's days
UNPROVEN_TIMES = ("mtime", "amended")  # a clip's time_source that is no evidence of when it was made
CAMERA_KINDS = ("video", "audio", "photo")  # whose file names a camera gives; a document's, a clerk


# -- the rules' settings ----------------------------------------------------------------------
@dataclass(frozen=True)
class Rules:
    """The ``[rules]`` table of recordkeep.toml, with the defaults of docs/rules.md."""

    major_fine_person: Decimal = Decimal("10000")
    major_fine_organisation: Decimal = Decimal("100000")
    major_fine_inclusive: bool = True
    major_amount_kinds: tuple[str, ...] = ("fine", "confiscate_income", "confiscate_property")
    major_kinds: tuple[str, ...] = ("downgrade", "revoke", "restrict", "suspend", "close_down")
    on_site_min_officers: int = 2
    on_site_actions: tuple[str, ...] = ("查封", "扣押", "强制拆除")
    av_actions: tuple[str, ...] = ("查封", "扣押", "强制拆除")
    av_gap_tolerance_seconds: int = 1
    publish_within_workdays: int = 7
    legal_review_actions: tuple[str, ...] = ("法制审核",)
    legal_review_doc_types: tuple[str, ...] = ("法制审核意见书",)
    collective_discussion_actions: tuple[str, ...] = ("集体讨论",)
    collective_discussion_doc_types: tuple[str, ...] = ("集体讨论记录",)
    late_entry_days: int = 3

    @classmethod
    def from_archive(cls, archive: Archive) -> Rules:
        """Read ``[rules]``; ConfigError names an unknown key or a value of the wrong type."""
        table = archive.settings.section("rules")
        path = archive.root / "recordkeep.toml"
        values: dict = {}
        for key, value in table.items():
            if key not in cls.__dataclass_fields__:
                raise errors.ConfigError(_("[rules] has an unknown key {key!r}").format(key=key), path=path,
                                         hint=_("fix recordkeep.toml; docs/rules.md lists the keys"))
            values[key] = _setting(key, value, getattr(cls, key), path)
        return cls(**values)

    def is_major(self, penalty_kind: str, party_kind: str | None, amount: str | None) -> bool:
        """A major decision (重大执法决定): by kind, or by amount on a person or an organisation."""
        if penalty_kind in self.major_kinds:
            return True
        if penalty_kind not in self.major_amount_kinds or amount is None:
            return False
        threshold = self.major_fine_organisation if party_kind == "organisation" else self.major_fine_person
        value = Decimal(amount)
        return value >= threshold if self.major_fine_inclusive else value > threshold

    def changed(self) -> dict[str, dict]:
        """The rules recordkeep.toml sets otherwise than docs/rules.md's defaults: key to
        ``{"value", "default"}``, JSON-safe (amounts as strings, lists for tuples)."""
        default = Rules()
        return {key: {"value": _plain(getattr(self, key)), "default": _plain(getattr(default, key))}
                for key in self.__dataclass_fields__ if getattr(self, key) != getattr(default, key)}

    def in_force(self, archive: Archive) -> dict[str, dict]:
        """``changed``, and the store's timezone when it is not the mainland's: the rules count
        days (deadlines, working days, years) in it, so a zone moved east or west moves them."""
        zone = archive.settings.timezone
        return {**self.changed(), **({"store.timezone": {"value": zone, "default": MAINLAND_ZONE}}
                                     if zone != MAINLAND_ZONE else {})}

    def review_markers(self, what: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(actions, document types) that prove a review of kind ``what``."""
        return getattr(self, f"{what}_actions"), getattr(self, f"{what}_doc_types")


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else list(value) if isinstance(value, tuple) else value


def _setting(key: str, value: object, default: object, path) -> object:
    def bad(expected: str) -> errors.ConfigError:
        return errors.ConfigError(_("[rules] {key} must be {expected}, not {value!r}").format(
            key=key, expected=expected, value=value), path=path)

    if isinstance(default, Decimal):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise bad(_('yuan as a whole number or a string such as "10000.00" (never a float)'))
        try:
            amount = Decimal(str(value).replace(",", ""))
        except InvalidOperation as exc:
            raise bad(_("an amount in yuan")) from exc
        if not amount.is_finite() or amount < 0:
            raise bad(_("an amount in yuan"))
        return amount
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad(_("true or false"))
        return value
    if isinstance(default, int):
        if not validate.whole_number(value, 0):
            raise bad(_("a whole number"))
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise bad(_("a list of strings"))
    items = tuple(v.strip() for v in value)
    if key in ("major_amount_kinds", "major_kinds"):
        unknown = [v for v in items if v not in PENALTY_KINDS]
        if unknown:
            raise bad(_("a list of penalty kinds ({kinds})").format(kinds="|".join(PENALTY_KINDS)))
    return items


# -- findings ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One broken (or undecidable) rule of one case."""

    rule: str
    case_no: str
    message: str
    fix: str
    status: str = "broken"  # or "unknown", or "notice" (reported, never a failure)
    stage: str | None = None
    seq: int | None = None
    party: str | None = None
    details: dict = field(default_factory=dict)

    @property
    def code(self) -> str:
        return CODES[self.rule]

    def as_data(self) -> dict:
        data = {"code": self.code, "rule": self.rule, "status": self.status, "message": self.message,
                "fix": self.fix}
        for key in ("stage", "seq", "party"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        data.update(self.details)
        return data


@dataclass
class CaseResult:
    case_no: str
    status: str
    findings: list[Finding] = field(default_factory=list)

    def as_data(self) -> dict:
        return {"case_no": self.case_no, "status": self.status,
                "findings": [f.as_data() for f in self.findings]}


@dataclass
class CheckReport:
    """Every case checked and its findings; ``ok`` when no rule is broken. ``rules_changed``:
    the rules in force that recordkeep.toml sets otherwise than the defaults (``Rules.in_force``).
    ``settings_recorded``: whether those settings are the ones the journal last recorded
    (``settings.changed``); a check only reads, so it may run under settings no write has
    recorded yet."""

    cases: list[CaseResult]
    year: int | None = None
    rules_changed: dict[str, dict] = field(default_factory=dict)
    settings_recorded: bool = True

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.cases for f in c.findings]

    @property
    def broken(self) -> int:
        return sum(f.status == "broken" for f in self.findings)

    @property
    def unknown(self) -> int:
        return sum(f.status == "unknown" for f in self.findings)

    @property
    def notices(self) -> int:
        return sum(f.status == "notice" for f in self.findings)

    @property
    def ok(self) -> bool:
        return self.broken == 0

    def as_data(self) -> dict:
        return {"ok": self.ok, "year": self.year, "cases_checked": len(self.cases),
                "broken": self.broken, "unknown": self.unknown, "notices": self.notices,
                "rules_changed": self.rules_changed, "settings_recorded": self.settings_recorded,
                "cases": [c.as_data() for c in self.cases]}


# -- what the index knows of one case -----------------------------------------------------------
@dataclass
class CaseFacts:
    """The rows of one case the rules look at; ``signed``: the store signs its batches, and
    ``reviewer_seqs`` are the stage events whose batch a ``reviewer`` key signed, and
    ``vouching_seqs`` those a key with a role that may type a past act from a record signed."""

    case: Row
    events: list[Row]
    decisions: list[Row]  # several per party when 并处, each with its event's seq
    records: list[Row]  # linked records with their link's stage (``l_stage``)
    signed: bool = False
    reviewer_seqs: frozenset[int] = frozenset()
    vouching_seqs: frozenset[int] = frozenset()
    officers: list[str] = field(default_factory=list)  # named at opening or in a stage
    registered: frozenset[str] = frozenset()  # every officer registered in the store
    publication: Row | None = None  # the publication in force: its seq, claimed ``at``, source
    publication_roles: frozenset[str] = frozenset()  # the roles of the key that signed it
    entered: EntryTimes = field(default_factory=lambda: EntryTimes([]))  # when its lines were entered

    @property
    def case_no(self) -> str:
        return self.case["case_no"]

    @cached_property
    def unproven_times(self) -> frozenset[str]:
        """The linked records whose time is no evidence of when they were made (``time_unproven``)."""
        by_digest = {r["digest"]: r for r in self.records}
        return frozenset(r["digest"] for r in self.records if time_unproven(r, by_digest))


def time_unproven(rec: Row, by_digest: dict[str, Row]) -> bool:
    """Whether a record's time is no evidence: its file's, typed with no record cited, cited from
    a record that cannot carry it here (``time_source_gone``), or one that cannot carry that
    time (``refs.carries_time``: a clip whose own recording does not meet it)."""
    if rec["time_source"] in UNPROVEN_TIMES or rec["time_source_gone"]:
        return True
    carrier = by_digest.get(rec["time_carrier"]) if rec["time_source"] == "source" else None
    return carrier is not None and bool(rec["recorded_at"]) and \
        not carries_time(carrier, rec["recorded_at"], rec["duration_ms"])


def load_case(ix: Index, case_no: str, now: str | None = None) -> CaseFacts:
    """What the rules look at of one case; ``now``: no line counts as entered after it."""
    events = rows.stage_events(ix, case_no)
    signers = {e["seq"]: key_rows.roles_of_batch(ix, e["seq"]) for e in events}
    reviewers = frozenset(seq for seq, roles in signers.items() if "reviewer" in roles)
    vouching = frozenset(seq for seq, roles in signers.items() if roles & VOUCHING_ROLES)
    published = dates.publication(ix, case_no)
    signed_by = key_rows.roles_of_batch(ix, published["seq"]) if published else frozenset()
    return CaseFacts(rows.case(ix, case_no), events, rows.decisions(ix, case_no),
                     rows.case_records(ix, case_no), ix.signed, reviewers, vouching,
                     rows.officers_of_case(ix, case_no), people.registered(ix),
                     published, signed_by, EntryTimes(rows.case_times(ix, case_no), now))


def _local(iso: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _matches(text: str | None, keywords: tuple[str, ...]) -> bool:
    return bool(text) and any(k in text for k in keywords)


# -- the rules ----------------------------------------------------------------------------------
def on_site_officers(facts: CaseFacts, rules: Rules, zone: ZoneInfo) -> list[Finding]:
    """An on-site event (``--on-site`` or an on-site action) names enough distinct officers, and
    is evidence of who took part: entered within ``late_entry_days`` of its time, or typed from
    a paper record linked to the case (the site record the officers signed). A list of officers
    typed long after, from nothing, is a clerk's word: broken as a claim (``entered_late``)."""
    out = []
    for ev in facts.events:
        if not (ev["on_site"] or _matches(ev["action"], rules.on_site_actions)):
            continue
        officers = sorted(set(json.loads(ev["officers"])))
        what = ev["action"] or _("on-site event")
        if len(officers) >= rules.on_site_min_officers:
            claim = _late_on_site(facts, rules, ev, zone, what, officers)
            if claim is not None:
                out.append(claim)
            continue
        named = ", ".join(officers) if officers else _("none")
        least = rules.on_site_min_officers
        out.append(Finding(
            "on_site_officers", facts.case_no,
            _("{what} at {at} names {n} officer(s) ({named}); at least {least} must take part on site")
            .format(what=what, at=_local(ev["at"], zone), n=len(officers), named=named, least=least),
            _("void it ('case void {case_no} {seq} --reason R') and record it again naming every officer "
              "present (--officer for each); if fewer than {least} were there, the action needs review")
            .format(case_no=facts.case_no, seq=ev["seq"], least=least),
            stage=ev["stage"], seq=ev["seq"], details={"officers": officers}))
    return out


def _late_on_site(facts: CaseFacts, rules: Rules, ev: Row, zone: ZoneInfo, what: str,
                  officers: list[str]) -> Finding | None:
    """The finding for an on-site event entered late with no linked paper record it was typed
    from, or None when it is evidence of who was there."""
    entered = facts.entered.at(ev["seq"])
    vouched = not facts.signed or ev["seq"] in facts.vouching_seqs
    if not entered_late(ev["at"], entered, rules.late_entry_days) or \
            _typed_from_paper(facts, rules, ev["at"], ev["transcribed_from"], vouched):
        return None
    return Finding(
        "on_site_officers", facts.case_no,
        _("{what} at {at} names {named}, but was entered late, on {entered}, with no linked paper record "
          "(--transcribed-from): who took part on site is a claim").format(
            what=what, at=_local(ev["at"], zone), named=", ".join(officers), entered=_local(entered, zone)),
        _("void it ('case void {case_no} {seq} --reason R') and enter it again typed from the site record "
          "the officers signed, linked to the case (--transcribed-from DIGEST)").format(
            case_no=facts.case_no, seq=ev["seq"]),
        stage=ev["stage"], seq=ev["seq"], details={"officers": officers, "entered_late": True,
                                                   "entered_at": entered})


@dataclass(frozen=True)
class Review:
    """Whether a review of kind ``what`` came before a decision: ``before``, ``after``,
    ``undated`` (only an undated document) or ``missing``; ``claims``: acts that say so but
    are no evidence (entered late, or by a key without the reviewer role)."""

    what: str
    state: str
    at: str | None = None
    evidence: str | None = None
    claims: tuple[str, ...] = ()


def _papers(facts: CaseFacts) -> set[str]:
    """The records of the case an act or a date may be typed from: a paper record, a scan or a
    screenshot, never a clip (a video of the scene is no record of a review's date)."""
    return {r["digest"] for r in facts.records if r["kind"] not in AV_KINDS}


def act_claim(facts: CaseFacts, rules: Rules, ev: Row, zone: ZoneInfo) -> str | None:
    """Why a review act is only a claim, or None when it is evidence: an act counts when it
    was journaled within ``late_entry_days`` of the time it claims (or is transcribed from a
    paper record linked to the case) and, in a store that signs its batches, by a key with
    the reviewer role."""
    entered = facts.entered.at(ev["seq"])
    linked = _papers(facts)
    if entered_late(ev["at"], entered, rules.late_entry_days) and ev["transcribed_from"] not in linked:
        return _("seq {seq} claims {at} but was entered late, on {entered}, with no linked paper record "
                 "(--transcribed-from)").format(seq=ev["seq"], at=_local(ev["at"], zone),
                                                entered=_local(entered, zone))
    if facts.signed and ev["seq"] not in facts.reviewer_seqs:
        if ev["transcribed_from"] in linked:
            return _("seq {seq} was typed from a linked record by a key without the reviewer role").format(
                seq=ev["seq"])
        return _("seq {seq} was entered by a key without the reviewer role, with no linked document").format(
            seq=ev["seq"])
    return None


def _own_time(rec: Row, facts: CaseFacts) -> bool:
    """Whether a record carries a time of its own that may count (its metadata's, a camera's
    name, or one cited from a record of the case that carries it)."""
    return bool(rec["recorded_at"]) and not (
        rec["digest"] in facts.unproven_times
        or (rec["time_source"] == "name" and rec["kind"] not in CAMERA_KINDS))


def _made_a_review(rec: Row, doc_types: tuple[str, ...]) -> tuple[int, str] | None:
    """(seq, time claimed) of the change that first gave the record a review doc type, by an
    amendment or by a sighting naming it; None when it had one from its import (a type changed
    away and back again, or spelled anew, makes it no later review)."""
    changes = sorted(json.loads(rec["doc_type_changes"] or "[]"))
    if _matches(changes[0][2] if changes else rec["doc_type"], doc_types):
        return None
    made = [(seq, at) for seq, at, before, after in changes
            if _matches(after, doc_types) and not _matches(before, doc_types)]
    return made[0] if made else None


def document_claim(rec: Row, named: str, decided_at: str, rules: Rules, zone: ZoneInfo,
                   facts: CaseFacts, doc_types: tuple[str, ...]) -> str | None:
    """Why a review document is only a claim, or None when it may be evidence: the document as
    it now reads was in the store within ``late_entry_days`` of the time it shows (of the
    decision, undated): its first import, its link to this case, the change that made it a
    review document and the amendment that dated it were each journaled by then (each no
    earlier than the case's lines before it claim). A file's own date, its doc type, its case
    and a typed time are all a clerk's to give: given long after, they are no evidence, as a
    typed act entered late is none; a reviewer transcribes the review from the paper."""
    dated = _own_time(rec, facts)
    shown = rec["recorded_at"] if dated else decided_at
    steps = [(facts.entered.at(rec["first_seq"], own=rec["first_at"]), "entered"),
             (facts.entered.at(rec["l_seq"], own=rec["l_at"]), "linked")]
    relabel = _made_a_review(rec, doc_types)
    if relabel:
        steps.append((facts.entered.at(relabel[0], own=relabel[1]), "relabelled"))
    if dated and rec["time_amended"]:
        seq, at = json.loads(rec["time_amended"])
        steps.append((facts.entered.at(seq, own=at), "dated"))
    when, step = max(steps, key=lambda s: datetime.fromisoformat(s[0]))
    if not entered_late(shown, when, rules.late_entry_days):
        return None
    said = {"entered": _("{named} is dated {at} but entered the store on {when}"),
            "linked": _("{named} is dated {at} but was linked to this case on {when}"),
            "relabelled": _("{named} is dated {at} but became a review document on {when}, its doc type "
                            "given long after"),
            "dated": _("{named} was given the date {at} on {when}, long after")}[step]
    if not dated:
        return _("{named} carries no date of its own and entered the store, or this case, on {when}, after "
                 "the decision").format(named=named, when=_local(when, zone))
    return said.format(named=named, at=_local(rec["recorded_at"], zone), when=_local(when, zone)) + \
        _(": a reviewer transcribes the review from it (--transcribed-from)")


def review_of(facts: CaseFacts, rules: Rules, what: str, decided_at: str, zone: ZoneInfo) -> Review:
    """The review of kind ``what`` (legal_review / collective_discussion) for a decision.

    Evidence is a linked document of the review's doc types, or a review act, that is not a
    mere claim (``document_claim``, ``act_claim``); a document dated by a typed time (not cited
    from a record of the case that is not itself so dated), its file's time or its name is
    undated. A review counts when dated at or before the decision; a decision dated by a bare
    day (midnight) counts as that whole day, so a review on the same day comes before.
    """
    actions, doc_types = rules.review_markers(what)
    decided = datetime.fromisoformat(decided_at)
    if decided.time() == datetime.min.time():  # a bare date: the decision's whole day
        decided += timedelta(days=1) - timedelta(microseconds=1)
    dated: list[tuple[datetime, str, str]] = []
    undated: list[str] = []
    claims: list[str] = []
    for ev in facts.events:
        if ev["stage"] == "decide" and _matches(ev["action"], actions) and ev["at"]:
            claim = act_claim(facts, rules, ev, zone)
            if claim:
                claims.append(claim)
            else:
                dated.append((datetime.fromisoformat(ev["at"]), ev["at"],
                              _("stage event seq {seq}").format(seq=ev["seq"])))
    for rec in facts.records:
        if _matches(rec["doc_type"], doc_types):
            named = f"{rec['doc_type']} {rec['digest'][:12]}"
            claim = document_claim(rec, named, decided_at, rules, zone, facts, doc_types)
            if claim:
                claims.append(claim)
            elif not _own_time(rec, facts):
                undated.append(_("{named} (its time typed, or its file's, which proves nothing)").format(
                    named=named) if rec["recorded_at"] else named)
            else:
                dated.append((datetime.fromisoformat(rec["recorded_at"]), rec["recorded_at"], named))
    before = sorted(d for d in dated if d[0] <= decided)
    if before:
        return Review(what, "before", before[0][1], before[0][2])
    if undated:
        return Review(what, "undated", None, undated[0], tuple(claims))
    if dated:
        first = min(dated)
        return Review(what, "after", first[1], first[2], tuple(claims))
    return Review(what, "missing", claims=tuple(claims))


def _penalty(dec: Row) -> str:
    if dec["amount"]:
        return _("{kind} {amount} yuan").format(kind=label(dec["penalty_kind"]), amount=dec["amount"])
    return label(dec["penalty_kind"])


def major_reviews(facts: CaseFacts, rules: Rules, zone: ZoneInfo) -> list[Finding]:
    """A major decision has a legal review and a collective discussion dated before it. The
    major decisions of one party (并处) that the same review misses are one finding."""
    missed: dict[tuple, list[Row]] = {}
    for dec in facts.decisions:
        if not rules.is_major(dec["penalty_kind"], dec["party_kind"], dec["amount"]):
            continue
        for what in REVIEWS:
            review = review_of(facts, rules, what, dec["at"], zone)
            if review.state != "before":
                missed.setdefault((dec["party"], what, review), []).append(dec)
    out = []
    for (party, what, review), decs in missed.items():
        zh, first = REVIEWS[what], decs[0]
        penalties = " + ".join(_penalty(d) for d in decs)
        when = ", ".join(dict.fromkeys(_local(d["at"], zone) for d in decs))
        fix = _("hold the {review} before the decision and record it: 'case stage NO decide --action "
                "{review} --at T', or link the {doc_type} (--doc-type {doc_type})").format(
            review=zh, doc_type=rules.review_markers(what)[1][0])
        common = {"party": party, "stage": "decide", "seq": first["seq"],
                  "details": {"decision": {"penalty_kind": first["penalty_kind"], "amount": first["amount"],
                                           "at": first["at"]},
                              "decisions": [{"seq": d["seq"], "penalty_kind": d["penalty_kind"],
                                             "amount": d["amount"], "at": d["at"]} for d in decs],
                              "review": review.state,
                              **({"claims": list(review.claims)} if review.claims else {})}}
        claimed = (_("; a typed act is no evidence: {claims}").format(claims="; ".join(review.claims))
                   if review.claims else "")
        if review.state == "undated":
            out.append(Finding("review_undated", facts.case_no,
                               _("major decision for {party} ({label}, {when}): the {review} document "
                                 "{evidence} has no date, so it cannot be shown to come before the decision")
                               .format(party=party, label=penalties, when=when, review=zh,
                                       evidence=review.evidence),
                               _("record the {review} with its date: 'case stage NO decide --action {review} "
                                 "--at T'").format(review=zh), status="unknown", **common))
        elif review.state == "after":
            out.append(Finding(what, facts.case_no,
                               _("major decision for {party} ({label}, {when}): the {review} is dated {at}, "
                                 "after the decision ({evidence})").format(
                                   party=party, label=penalties, when=when, review=zh,
                                   at=_local(review.at, zone),
                                   evidence=review.evidence) + claimed,
                               fix, **common))
        else:
            out.append(Finding(what, facts.case_no,
                               _("major decision for {party} ({label}, {when}) has no {review}").format(
                                   party=party, label=penalties, when=when, review=zh) + claimed, fix,
                               **common))
    return out


def _gaps(start: datetime, end: datetime, spans: list[tuple[datetime, datetime]],
          tolerance: timedelta) -> list[tuple[datetime, datetime]]:
    """Parts of [start, end) no span covers, longer than ``tolerance``."""
    gaps, cursor = [], start
    for s, e in sorted(spans):
        if e <= cursor:
            continue
        if s > cursor:
            gaps.append((cursor, min(s, end)))
        cursor = max(cursor, e)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return [(a, b) for a, b in gaps if b - a > tolerance]


def av_coverage(facts: CaseFacts, rules: Rules, zone: ZoneInfo) -> list[Finding]:
    """A seizure or forced demolition has linked audio/video over its whole span (--at..--until).
    A clip dated only by its file's time, or by a typed correction that names no record
    carrying the time (``record set --source``), one disposed of since, or one not linked to
    the same case, does not count."""
    clips, unmeasured, unproven = [], [], []
    for rec in facts.records:
        if rec["kind"] not in AV_KINDS:
            continue
        if rec["digest"] in facts.unproven_times:
            unproven.append(rec["digest"])
            continue
        if not rec["recorded_at"] or rec["duration_ms"] is None:
            unmeasured.append(rec["digest"])
            continue
        start = datetime.fromisoformat(rec["recorded_at"])
        clips.append((start, start + timedelta(milliseconds=rec["duration_ms"]), rec["digest"]))
    unmeasured, unproven = sorted(set(unmeasured)), sorted(set(unproven))
    out = []
    for ev in facts.events:
        if not _matches(ev["action"], rules.av_actions) or not ev["at"]:
            continue
        start = datetime.fromisoformat(ev["at"])
        end = datetime.fromisoformat(ev["until"]) if ev["until"] else start
        if end > start:
            overlapping = [c for c in clips if c[0] < end and c[1] > start]
        else:  # no --until: the action is an instant, which a clip must contain
            overlapping = [c for c in clips if c[0] <= start < c[1]]
        span = f"{_local(ev['at'], zone)}" + (f"..{_local(ev['until'], zone)[11:]}" if ev["until"] else "")
        note = (_("; {n} linked clip(s) without recorded time or duration not counted").format(
            n=len(unmeasured)) if unmeasured else "")
        note += (_("; {n} linked clip(s) dated only by file time or a typed correction not counted ('record "
                   "set --recorded-at T --source DIGEST' names a record carrying the time)").format(
            n=len(unproven)) if unproven else "")
        details: dict = {"action": ev["action"], "from": ev["at"], "until": ev["until"]}
        if unmeasured:
            details["unmeasured"] = unmeasured
        if unproven:
            details["unproven_time"] = unproven
        fix = _("link the audio/video of the action: 'case link NO --officer O --from T --to T --stage S' "
                "(or 'case link NO DIGEST... --stage S')")
        if not overlapping:
            out.append(Finding("av_missing", facts.case_no,
                               _("{action} ({span}) has no linked audio or video recorded during it").format(
                                   action=ev["action"], span=span)
                               + note, fix, stage=ev["stage"], seq=ev["seq"], details=details))
            continue
        if start == end:
            continue
        tolerance = timedelta(seconds=rules.av_gap_tolerance_seconds)
        gaps = _gaps(start, end, [(s, e) for s, e, _ in overlapping], tolerance)
        if not gaps:
            continue
        details["gaps"] = [{"from": a.astimezone(zone).isoformat(timespec="milliseconds"),
                            "until": b.astimezone(zone).isoformat(timespec="milliseconds"),
                            "seconds": round((b - a).total_seconds(), 3)} for a, b in gaps]
        details["covered_by"] = sorted({d for _, _, d in overlapping})
        listed = ", ".join(f"{a.astimezone(zone):%H:%M:%S}-{b.astimezone(zone):%H:%M:%S}" for a, b in gaps)
        missing = sum((b - a for a, b in gaps), timedelta()).total_seconds()
        out.append(Finding("av_gaps", facts.case_no,
                           _("{action} ({span}) is not recorded throughout: {missing:.0f} s uncovered "
                             "({listed})").format(action=ev["action"], span=span, missing=missing,
                                                  listed=listed) + note,
                           _("link the footage of the uncovered parts; if none exists, the gap stays "
                             "a finding and needs an explanation on file"),
                           stage=ev["stage"], seq=ev["seq"], details=details))
    return out


@dataclass(frozen=True)
class Publication:
    """Whether one party's decision of one day was published (公示) within the working days
    the rules allow: ``within`` True or False, None when the working-day calendar does not
    know the year (``unknown`` says why) or, unpublished, the deadline has not passed."""

    party: str
    decided: date
    published: date | None
    deadline: date | None
    within: bool | None
    unknown: str | None = None
    claimed: date | None = None  # the date typed, when it was entered late with no record of it




def published_on(facts: CaseFacts, rules: Rules, zone: ZoneInfo) -> tuple[date | None, date | None]:
    """The day the case's decision counts as published, and the day claimed when that is only a
    claim: a publication journaled more than ``late_entry_days`` after the time it claims counts
    as of the day it was entered, unless it names the record of the notice it was typed from,
    linked to the case (``case publish --transcribed-from``), and that record either reached the
    store in time itself or, in a store that signs its batches, a key with the reviewer or
    records role typed from it (a clerk could cite any blank scan)."""
    row = facts.publication
    if row is None or not row["at"]:
        return None, None
    claimed = datetime.fromisoformat(row["at"]).astimezone(zone).date()
    entered = facts.entered.at(row["seq"])
    vouched = not facts.signed or bool(facts.publication_roles & VOUCHING_ROLES)
    if not entered_late(row["at"], entered, rules.late_entry_days) or \
            _typed_from_paper(facts, rules, row["at"], row["transcribed_from"], vouched):
        return claimed, None
    return datetime.fromisoformat(entered).astimezone(zone).date(), claimed


def _typed_from_paper(facts: CaseFacts, rules: Rules, at: str, source: str | None, vouched: bool) -> bool:
    """Whether an entry claiming time ``at``, entered late, is typed from a record that carries
    it (a publication, an on-site act): a linked paper (no clip) that reached this case in time
    itself (imported and linked no earlier than ``at`` and within ``late_entry_days`` of it: a
    record of the notice, or of the site, is made at or after it), or any linked paper when the
    entry is ``vouched`` for (typed by a key with the reviewer or records role: a clerk could
    cite any blank scan she adds)."""
    papers = _papers(facts)
    cited = [r for r in facts.records if r["digest"] == source and r["digest"] in papers]
    if not cited:
        return False
    if vouched:
        return True
    claimed = datetime.fromisoformat(at)
    for rec in cited:
        reached = max((facts.entered.at(rec["first_seq"], own=rec["first_at"]),
                       facts.entered.at(rec["l_seq"], own=rec["l_at"])), key=datetime.fromisoformat)
        if datetime.fromisoformat(reached) >= claimed and \
                not entered_late(at, reached, rules.late_entry_days):
            return True
    return False


def publications(facts: CaseFacts, rules: Rules, zone: ZoneInfo, today: date) -> list[Publication]:
    """Each party's decision day of the case (并处 decided the same day: one publication), judged."""
    n = rules.publish_within_workdays
    published, claimed = published_on(facts, rules, zone)
    days = dict.fromkeys((dec["party"], datetime.fromisoformat(dec["at"]).astimezone(zone).date())
                         for dec in facts.decisions)
    out = []
    for party, decided in days:
        try:
            deadline = workdays.nth_workday_after(decided, n)
        except errors.UnknownYear as exc:
            deadline = None
            if published is None or not _known_within(decided, published, n):
                out.append(Publication(party, decided, published, None, None, exc.message, claimed))
                continue
        if deadline is None:  # the calendar knows only that the publication came in time
            within: bool | None = True
        elif published is not None:
            within = published <= deadline
        else:
            within = False if today > deadline else None
        out.append(Publication(party, decided, published, deadline, within, claimed=claimed))
    return out


def _known_within(decided: date, published: date, n: int) -> bool:
    """Whether the calendar can say a publication came in time though the deadline is beyond it."""
    try:
        return workdays.within_workdays(decided, published, n)
    except errors.UnknownYear:
        return False


def publication(facts: CaseFacts, rules: Rules, zone: ZoneInfo, today: date) -> list[Finding]:
    """A penalty decision is published within N working days counted from the day after it."""
    n = rules.publish_within_workdays
    out = []
    for p in publications(facts, rules, zone, today):
        details = {"decided": p.decided.isoformat(),
                   "published": p.published.isoformat() if p.published else None, "within_workdays": n}
        if p.unknown is not None:
            out.append(Finding("publication_unknown", facts.case_no,
                               _("decision for {party} of {decided}: whether it was published within {n} "
                                 "working days is unknown: {why}").format(party=p.party, decided=p.decided,
                                                                          n=n, why=p.unknown),
                               _(errors.UnknownYear.hint),
                               status="unknown", stage="decide", party=p.party, details=details))
            continue
        if p.within is not False:
            continue
        if p.claimed is not None:
            message = _("decision for {party} of {decided}: its publication, claimed {claimed}, was "
                        "entered late, on {published}, with no linked record of the publication: counted as "
                        "published then, after the {nth} working day ({deadline})").format(
                party=p.party, decided=p.decided, claimed=p.claimed, published=p.published, nth=_ordinal(n),
                deadline=p.deadline)
            fix = _("link the record of the publication (a screenshot of the 公示) to the case, void the "
                    "publication and publish again from it: 'case publish NO --at T --transcribed-from "
                    "DIGEST'")
            details["claimed"] = p.claimed.isoformat()
        elif p.published is not None:
            message = _("decision for {party} of {decided} published {published}, after the {nth} working "
                        "day ({deadline})").format(party=p.party, decided=p.decided, published=p.published,
                                                   nth=_ordinal(n), deadline=p.deadline)
            fix = _("nothing undoes a late publication; publish within the limit from now on")
        else:
            message = _("decision for {party} of {decided} is not published; the {nth} working day was "
                        "{deadline}").format(party=p.party, decided=p.decided, nth=_ordinal(n),
                                             deadline=p.deadline)
            fix = _("publish the decision (公示) and record it: 'case publish NO --at T'")
        details["deadline"] = p.deadline.isoformat()
        out.append(Finding("publication_late", facts.case_no, message, fix, stage="decide",
                           party=p.party, details=details))
    return out


def _ordinal(n: int) -> str:
    """``7th`` (in Chinese 第7个)."""
    if 10 <= n % 100 <= 20:
        return _("{n}th").format(n=n)
    shown = {1: _("{n}st"), 2: _("{n}nd"), 3: _("{n}rd")}.get(n % 10) or _("{n}th")
    return shown.format(n=n)


def stages_reached(facts: CaseFacts) -> dict[str, bool]:
    """Which stages the case has reached: start on opening; any stage with an event or a
    linked record; decide with a decision or a publication."""
    reached = {s: False for s in STAGES}
    reached["start"] = True
    for ev in facts.events:
        reached[ev["stage"]] = True
    for rec in facts.records:
        reached[rec["l_stage"]] = True
    if facts.decisions or facts.case["published_at"]:
        reached["decide"] = True
    return reached


def stage_records(facts: CaseFacts) -> list[Finding]:
    """Every stage reached has a linked record; a closed case has reached all four."""
    reached = stages_reached(facts)
    recorded = {rec["l_stage"] for rec in facts.records}
    out = []
    for stage, zh in STAGES.items():
        if reached[stage] and stage not in recorded:
            out.append(Finding("stage_unrecorded", facts.case_no,
                               _("stage {stage} ({name}) was reached but has no linked record").format(
                                   stage=stage, name=zh),
                               _("add its records: 'add FILE... --case NO --stage {stage}' or "
                                 "'case link NO DIGEST... --stage {stage}'").format(stage=stage),
                               stage=stage))
    if facts.case["status"] == "closed":
        missing = [s for s in STAGES if not reached[s]]
        if missing:
            listed = ", ".join(label(s) if language() == "zh" else f"{s} ({STAGES[s]})"
                               for s in missing)
            out.append(Finding("stages_incomplete", facts.case_no,
                               _("closed case lacks stage(s) {stages}").format(stages=listed),
                               _("record the missing stages ('case stage NO S ...') and link their records"),
                               details={"missing_stages": missing}))
    return out


# -- the order of the steps ------------------------------------------------------------------
_VOID_FIX = N_("if a date was mistyped, void the event ('case void NO SEQ --reason R') and enter it again "
               "with the right --at")
_CASE_YEAR = re.compile(r"\((\d{4})\)")


def _latest(iso: str) -> datetime:
    """The last instant ``iso`` may mean: a bare date (midnight) stands for its whole day."""
    moment = datetime.fromisoformat(iso)
    if moment.time() == datetime.min.time():
        moment += timedelta(days=1) - timedelta(microseconds=1)
    return moment


def _before(earlier: str | None, later: str | None) -> bool:
    """Whether ``earlier`` surely lies before ``later`` (a bare date counts as its whole day)."""
    return bool(earlier and later) and _latest(earlier) < datetime.fromisoformat(later)


def step_order(facts: CaseFacts, zone: ZoneInfo) -> list[Finding]:
    """Each step is dated after what it needs: a decision after the opening, the publication
    and the close after every decision, the close after the opening."""
    case, out = facts.case, []
    opened, published, closed = case["opened_at"], case["published_at"], case["closed_at"]
    void_fix = _(_VOID_FIX)
    for dec in facts.decisions:
        what = _("decision for {party} ({penalty}, seq {seq}) of {at}").format(
            party=dec["party"], penalty=_penalty(dec), seq=dec["seq"], at=_local(dec["at"], zone))
        common = {"stage": "decide", "seq": dec["seq"], "party": dec["party"]}
        if _before(dec["at"], opened):
            out.append(Finding("decided_before_opening", facts.case_no,
                               _("{what} is dated before the case was opened ({opened})").format(
                                   what=what, opened=_local(opened, zone)),
                               void_fix, **common, details={"opened_at": opened, "decided_at": dec["at"]}))
        if _before(published, dec["at"]):
            out.append(Finding("published_before_decision", facts.case_no,
                               _("{what} comes after the publication ({published})").format(
                                   what=what, published=_local(published, zone)),
                               _("{void_fix}; publish the decision after it ('case publish NO --at T')")
                               .format(void_fix=void_fix),
                               **common, details={"published_at": published, "decided_at": dec["at"]}))
        if _before(closed, dec["at"]):
            out.append(Finding("closed_before_decision", facts.case_no,
                               _("{what} comes after the case was closed ({closed})").format(
                                   what=what, closed=_local(closed, zone)),
                               void_fix, **common, details={"closed_at": closed, "decided_at": dec["at"]}))
    if _before(closed, opened):
        out.append(Finding("closed_before_opening", facts.case_no,
                           _("the case is closed ({closed}) before it was opened ({opened})").format(
                               closed=_local(closed, zone), opened=_local(opened, zone)),
                           void_fix, stage="serve",
                           details={"opened_at": opened, "closed_at": closed}))
    return out


def unregistered_officers(facts: CaseFacts) -> list[Finding]:
    """Every officer the case names (at opening, in a stage, on a linked record) is registered:
    an unregistered number is a typing error or a person the bureau never named."""
    named: dict[str, list[str]] = {}
    first_seq: dict[str, int] = {}
    for ev in facts.events:
        for officer in json.loads(ev["officers"]):
            named.setdefault(officer, []).append(_("{stage} event seq {seq}").format(stage=ev["stage"],
                                                                                      seq=ev["seq"]))
            first_seq.setdefault(officer, ev["seq"])
    for rec in facts.records:
        if rec["officer"]:
            named.setdefault(rec["officer"], []).append(_("record {digest} ({stage})").format(
                digest=rec["digest"][:12], stage=rec["l_stage"]))
    for officer in facts.officers:
        named.setdefault(officer, [_("the opening")])
    out = []
    for officer in sorted(set(named) - facts.registered):
        places = list(dict.fromkeys(named[officer]))
        out.append(Finding("unregistered_officer", facts.case_no,
                           _("officer {officer} is named in the case ({places}) but not registered").format(
                               officer=officer, places=", ".join(places)),
                           _("register the officer ('officer add {officer} --name N'); if the number was "
                             "mistyped, void the event and enter it again").format(officer=officer),
                           seq=first_seq.get(officer),
                           details={"officer": officer, "named_in": places}))
    return out


def case_year(facts: CaseFacts, zone: ZoneInfo) -> list[Finding]:
    """A notice: the year in the case number (坡城管罚〔2021〕12号) is its decisions' year."""
    m = _CASE_YEAR.search(fold_case_no(facts.case_no))
    if m is None:
        return []
    year = int(m.group(1))
    other = sorted({datetime.fromisoformat(d["at"]).astimezone(zone).year for d in facts.decisions} - {year})
    if not other:
        return []
    return [Finding("case_year", facts.case_no,
                    _("the case number says {year}, its decision is of {years}").format(
                        year=year, years=", ".join(map(str, other))),
                    _("nothing to undo if the number was given in the year the case was opened; otherwise "
                      "check the number and the decision's date"), status="notice", stage="decide",
                    details={"case_year": year, "decision_years": other})]


def check_case(facts: CaseFacts, rules: Rules, zone: ZoneInfo, today: date) -> CaseResult:
    """Every rule on one case."""
    findings = (on_site_officers(facts, rules, zone) + major_reviews(facts, rules, zone)
                + av_coverage(facts, rules, zone) + publication(facts, rules, zone, today)
                + stage_records(facts) + step_order(facts, zone) + unregistered_officers(facts)
                + case_year(facts, zone))
    return CaseResult(facts.case_no, facts.case["status"], findings)


def check(archive: Archive, *, case: str | None = None, year: int | None = None,
          today: date | None = None) -> CheckReport:
    """Check one case (``case``), the cases opened in ``year``, or every case."""
    archive.require_intact_chain()
    rules = Rules.from_archive(archive)
    zone = archive.settings.zone
    ix = archive.index
    today = today or datetime.fromisoformat(archive.now()).date()
    case_nos = [resolve.case(ix, case)] if case is not None else rows.case_numbers(ix)
    bounds = year_bounds(year, zone, archive.settings.window) if year is not None else None
    results = []
    for case_no in case_nos:
        facts = load_case(ix, case_no, archive.now())
        if in_period(facts.case["opened_at"], bounds):
            results.append(check_case(facts, rules, zone, today))
    return CheckReport(results, year, rules.in_force(archive), settings_history.is_recorded(archive))
