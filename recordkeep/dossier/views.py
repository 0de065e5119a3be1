"""Read views of the dossier: ``case show`` (full-process record) and ``party show`` (一户式).

Views are plain dicts in the JSON contract's shape (snake_case, digests as bare
hex, money as two-decimal strings, times with the store's offset).
"""

from __future__ import annotations

import json

from .. import validate
from ..archive import Archive
from ..i18n import N_
from ..index import corrections as voids
from ..index import dossier as rows
from ..index import records, resolve
from ..refs import STAGES, EntryTimes, bare, entered_late, fold_case_no, in_period, year_bounds
from .parties import get_party, resolve_party

_STAGE_ORDER = list(STAGES)


def record_summary(row) -> dict:
    """A record as the views and search show it."""
    data = {"digest": row["digest"], "kind": row["kind"], "size": row["size"],
            "recorded_at": row["recorded_at"], "time_source": row["time_source"],
            "officer": row["officer"], "device": row["device"],
            "doc_type": row["doc_type"], "name": row["name"], "important": bool(row["important"]),
            "first_seen_at": row["first_at"]}
    if row["duration_ms"] is not None:
        data["duration"] = row["duration_ms"] / 1000
    if row["pages"] is not None:
        data["pages"] = row["pages"]
    if row["gps_lat"] and row["gps_lon"]:
        data["gps"] = {"lat": float(row["gps_lat"]), "lon": float(row["gps_lon"])}
    if row["disposed_seq"] is not None:
        data["disposed"] = True
    return data


def _sort_key(item: dict) -> tuple:
    moment = item.get("recorded_at") or item.get("at") or ""
    return (moment == "", moment, item.get("seq", 0))


def _acts(items: list[dict]) -> list[str]:
    """The acts done in a stage (its events' actions: 告知, 法制审核), each once, in time order."""
    return list(dict.fromkeys(it["action"] for it in items
                              if it["type"] == "stage_event" and it["action"] and not it.get("voided")))


def _linked(found: list) -> list[dict]:
    return [{"type": "record", **record_summary(row), "case_no": row["l_case"] or None,
             "stage": row["l_stage"] or None, "party": row["l_party"] or None,
             "linked_by": row["l_actor"], "linked_at": row["l_at"], "seq": row["l_seq"]} for row in found]


def _voided_items(archive: Archive, case_no: str, stages: dict[str, list[dict]],
                  opened_seq: int) -> dict | None:
    """Put each voided event of the case under its stage, as it was, with ``voided`` (the
    void's seq, who, when, why); return the void of the case's opening (``opened_seq``), if
    any. An earlier opening voided, then entered again, is a struck item of the start stage."""
    found = voids.voids_of_case(archive.index, case_no)
    if not found:
        return None
    events, _lines = archive.events_at([v["voided_seq"] for v in found])
    opening = None
    for v, e in zip(found, events, strict=True):
        mark = {"seq": v["seq"], "by": v["actor"], "at": v["at"], "reason": v["reason"]}
        d = e.data
        if e.type == "case.opened" and e.seq == opened_seq:
            opening = mark
        elif e.type == "case.opened":
            stages["start"].append({"type": "opened", "seq": e.seq, "at": d.get("at"), "voided": mark})
        elif e.type == "case.stage":
            stages[d["stage"]].append({"type": "stage_event", "seq": e.seq, "at": d.get("at"),
                                       "until": d.get("until"), "officers": d.get("officers", []),
                                       "on_site": bool(d.get("on_site")), "action": d.get("action"),
                                       "note": d.get("note"), "entered_by": e.actor, "voided": mark})
        elif e.type == "case.decided":
            stages["decide"].append({"type": "decision", "seq": e.seq, "party": d["party"],
                                     "penalty_kind": d["penalty_kind"], "amount": d.get("amount"),
                                     "at": d.get("at"), "entered_by": e.actor, "voided": mark})
        elif e.type in ("case.published", "case.closed", "case.reopened"):
            kind = {"case.published": "publication", "case.closed": "closed", "case.reopened": "reopened"}
            stages["decide" if e.type == "case.published" else "serve"].append(
                {"type": kind[e.type], "seq": e.seq, "at": d.get("at"), "voided": mark})
        elif e.type == "record.linked":
            for digest in d.get("digests", []):
                row = records.record(archive.index, bare(digest))
                if row is not None:
                    stages[d.get("stage") or "start"].append(
                        {"type": "record", **record_summary(row), "case_no": case_no, "stage": d.get("stage"),
                         "party": d.get("party"), "linked_by": e.actor, "linked_at": e.at, "seq": e.seq,
                         "voided": mark})
    return opening


def case_view(archive: Archive, case_ref: str) -> dict:
    """The full-process record of one case: per stage, in time order, records and events, and
    the acts done in it."""
    ix = archive.index
    case_no = resolve.case(ix, case_ref)
    case = rows.case(ix, case_no)
    opened = records.event(ix, case["seq"])
    parties = [get_party(archive, key).as_data() for key in rows.members(ix, case_no)]
    stages: dict[str, list[dict]] = {s: [] for s in _STAGE_ORDER}
    late_after = archive.settings.late_entry_days
    entered = EntryTimes(rows.case_times(ix, case_no), archive.now())

    def entry(row) -> dict:
        """Who entered a line and when, and whether that was late (as check judges it)."""
        at = entered.at(row["seq"])
        return {"entered_by": row["actor"], "entered_at": at,
                "entered_late": entered_late(row["at"], at, late_after),
                "transcribed_from": row["transcribed_from"]}

    for row in rows.stage_events(ix, case_no):
        stages[row["stage"]].append({
            "type": "stage_event", "seq": row["seq"], "at": row["at"], "until": row["until"],
            "officers": json.loads(row["officers"]), "on_site": bool(row["on_site"]),
            "action": row["action"], "note": row["note"], **entry(row)})
    decisions = []
    for row in rows.decisions(ix, case_no):
        item = {"type": "decision", "seq": row["seq"], "party": row["party"],
                "penalty_kind": row["penalty_kind"], "amount": row["amount"], "at": row["at"],
                "entered_by": row["actor"]}
        decisions.append(item)
        stages["decide"].append(item)
    for row in voids.last_dates(ix, case_no):
        kind = {"published": "publication", "closed": "closed", "reopened": "reopened"}[row["kind"]]
        stages["decide" if kind == "publication" else "serve"].append({
            "type": kind, "seq": row["seq"], "at": row["at"], **entry(row)})
    for item in _linked(rows.case_records(ix, case_no)):
        stages[item["stage"]].append(item)
    voided_opening = _voided_items(archive, case_no, stages, case["seq"])
    return {
        "case": {"case_no": case_no, "title": case["title"], "status": case["status"],
                 "opened_seq": case["seq"], "voided": voided_opening,
                 "opened_at": case["opened_at"], "opened_by": opened["actor"],
                 "published_at": case["published_at"], "closed_at": case["closed_at"],
                 "parties": parties, "officers": rows.officers_of_case(ix, case_no)},
        "stages": [{"stage": s, "name": STAGES[s], "acts": _acts(items), "items": items}
                   for s, items in ((s, sorted(stages[s], key=_sort_key)) for s in _STAGE_ORDER)],
        "decisions": decisions,
    }


def case_list(archive: Archive, text: str | None = None, *, status: str | None = None,
              year: int | None = None, party: str | None = None) -> list[dict]:
    """The cases whose number or title contains ``text`` (each folded as a case number is looked
    up: full-width and half-width forms, 〔〕[]【】(){} and spaces alike), of ``status`` (open, closed,
    voided), opened in ``year`` (in the store's zone) and of ``party``, as they were opened: each's
    number, title, status, dates, parties and the number of records linked to it."""
    needle = fold_case_no(validate.text(text, N_("the text"), reading=True)) if text else ""
    bounds = year_bounds(year, archive.settings.zone, archive.settings.window) if year is not None else None
    found = rows.cases_where(archive.index, status=status,
                             party=resolve_party(archive, party) if party is not None else None)
    return [{"case_no": row["case_no"], "title": row["title"], "status": row["status"],
             "opened_at": row["opened_at"], "published_at": row["published_at"],
             "closed_at": row["closed_at"], "parties": rows.members(archive.index, row["case_no"]),
             "records": row["records"]}
            for row in found if in_period(row["opened_at"], bounds)
            and (needle in row["case_key"] or needle in fold_case_no(row["title"] or ""))]


def party_view(archive: Archive, ref: str, *, values: dict[str, str] | None = None) -> dict:
    """The 一户式 dossier of one party: its cases (each with the party's own ``decisions``),
    every record by case and stage, and records linked to the party outside any case; its
    numbers masked unless ``values`` (from ``show_pii``) holds them."""
    ix = archive.index
    key = resolve_party(archive, ref)
    party = get_party(archive, key)
    cases = []
    for row in rows.cases_where(ix, party=key):
        view = case_view(archive, row["case_no"])
        view["decisions"] = [d for d in view["decisions"] if d["party"] == key]  # 并处: may be several
        cases.append(view)
    loose = _linked(rows.party_records_outside_cases(ix, key))
    return {"party": party.as_data(values), "cases": cases, "records_outside_cases": loose}
