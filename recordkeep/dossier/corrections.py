"""Corrections of a case are events, never edits: ``case void NO SEQ`` takes an event back
(shown struck through, with who and why), ``case reopen NO`` reopens a closed case. The
clerk then enters the right event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import errors, validate
from ..archive import Archive
from ..i18n import N_, _
from ..index import corrections as voids
from ..index import dossier as rows
from ..index import resolve
from ..index import retention as holds
from ..refs import label
from ..store.journal import Draft, Event
from ..trust import roles

#: What ``require_open`` may refuse, as its messages name it.
WHATS = (N_("stage"), N_("decision"), N_("publication"), N_("close"), N_("link"))
VOIDABLE = ("case.opened", "case.stage", "case.decided", "case.published", "case.closed", "case.reopened",
            "record.linked")


@dataclass(frozen=True)
class Voided:
    case_no: str
    voided_seq: int
    voided_type: str
    seq: int

    def as_data(self) -> dict:
        return {"case_no": self.case_no, "voided_seq": self.voided_seq, "voided_type": self.voided_type,
                "seq": self.seq}


def void(archive: Archive, case_ref: str, seq: int, *, reason: str) -> Voided:
    """Void event ``seq`` of the case (role clerk; records for a decision). A link stays while
    a hold pins it (``holds_pinning``: HeldLink), as ``case unlink`` refuses then; an opening
    while the case has decisions in force needs role records too (DecisionsInForce)."""
    archive.require_intact_chain()
    reason = validate.required_text(reason, _("the reason"))
    case_no = resolve.case(archive.index, case_ref)
    event = _voidable(archive, case_no, seq)
    data = {"case_no": case_no, "voided_seq": seq, "voided_type": event.type, "reason": reason}

    def build() -> list[Draft]:
        if voids.void_of(archive.index, seq) is not None:
            raise errors.AlreadyVoided(_("seq {seq} was voided already").format(seq=seq))
        if event.type == "case.opened" and (decided := rows.decisions(archive.index, case_no)):
            _require_records_role(archive, case_no, decided)
        if event.type == "record.linked":
            pinned = holds_pinning(archive, case_no, [event.data.get("party")])
            if pinned:
                raise errors.HeldLink(_("the links of seq {seq} are under a hold ({holds}): they stay while "
                                        "it stands").format(seq=seq, holds=", ".join(pinned)))
        return [Draft("case.voided", data)]

    [journaled] = archive.transact(build)
    return Voided(case_no, seq, event.type, journaled.seq)


def _require_records_role(archive: Archive, case_no: str, decided: list) -> None:
    """DecisionsInForce unless the acting key may void a decision (role records): voiding an
    opening takes its case's decisions out of every count, as voiding each would."""
    signer = archive.signer(required=archive.index.signed)
    if signer is None or roles.allows(signer.roles, "case.voided", {"voided_type": "case.decided"}):
        return
    raise errors.DecisionsInForce(_(
        "case {case_no} has {n} decision(s) in force (seq {seqs}): voiding its opening would drop them "
        "from every count, which needs the records role, as voiding them does").format(
            case_no=case_no, n=len(decided), seqs=", ".join(str(d["seq"]) for d in decided)))


def holds_pinning(archive: Archive, case_no: str | None, parties: Iterable[str] = ()) -> list[str]:
    """The holds in force that pin the links to ``case_no`` (None: to a party alone) and to
    ``parties``, the links' own: the case's, its parties' and those. Taking such a link away
    would take records out of what the hold covers. A record's own hold pins none: it covers the
    record, linked or not."""
    members = rows.members(archive.index, case_no) if case_no else []
    return holds_in_force(archive, case_no, [*members, *parties])


def holds_in_force(archive: Archive, case_no: str | None, parties: Iterable[str]) -> list[str]:
    """The holds in force on the case and on each of ``parties``, as people read them."""
    held = ([_("case {case_no}").format(case_no=case_no)]
            if case_no and holds.is_held(archive.index, "case", case_no) else [])
    held += [_("party {party}").format(party=p) for p in sorted({p for p in parties if p})
             if holds.is_held(archive.index, "party", p)]
    return held


def _voidable(archive: Archive, case_no: str, seq: int) -> Event:
    """Event ``seq`` when it is one of this case's that may be voided."""
    try:
        [event], _lines = archive.events_at([seq])
    except (KeyError, ValueError) as exc:
        raise errors.NotVoidable(_("no event at seq {seq}").format(seq=seq)) from exc
    if event.type not in VOIDABLE or event.data.get("case_no") != case_no:
        raise errors.NotVoidable(_("seq {seq} is {type}, not an event of case {case_no} that can be voided")
                                 .format(seq=seq, type=event.type, case_no=case_no))
    return event


def reopen(archive: Archive, case_ref: str, *, reason: str) -> dict:
    """Reopen a closed case (stages, decisions and publication are then accepted again)."""
    archive.require_intact_chain()
    reason = validate.required_text(reason, _("the reason"))
    data = {"reason": reason, "at": archive.now()}

    def build() -> list[Draft]:
        data["case_no"] = case_no = resolve.case(archive.index, case_ref)
        status = rows.case(archive.index, case_no)["status"]
        if status != "closed":
            raise errors.InvalidValue(_("case {case_no} is {status}, not closed: nothing to reopen").format(
                case_no=case_no, status=label(status)))
        return [Draft("case.reopened", data)]

    archive.transact(build)
    return data


def require_open(archive: Archive, case_no: str, what: str) -> None:
    """CaseClosed or CaseVoided unless the case takes ``what`` (a stage, decision, publication:
    one of ``WHATS``, translated where shown)."""
    if rows.case(archive.index, case_no)["status"] == "closed":
        raise errors.CaseClosed(_("case {case_no} is closed: {what} is refused until it is reopened").format(
            case_no=case_no, what=_(what)))
    require_not_voided(archive, case_no, what)


def require_not_voided(archive: Archive, case_no: str, what: str) -> None:
    """CaseVoided when the case's opening was voided: it takes no ``what`` (one of ``WHATS``),
    not even a link, which a closed case still takes (a proof of service comes after)."""
    if rows.case(archive.index, case_no)["status"] == "voided":
        raise errors.CaseVoided(_("case {case_no} was voided: it takes no {what}").format(case_no=case_no,
                                                                                          what=_(what)))
