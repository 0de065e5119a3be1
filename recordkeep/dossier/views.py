"""Read views of the dossier: ``case show`` (full-process record) and ``party show`` (一户式).

Views are plain dicts in the JSON contract's shape (snake_case, digests as bare
hex, money as two-decimal strings, times with the store's offset).
"""

from __future__ import annotations

import json

from ..archive import Archive
from ..index import dossier as rows
from ..index import records, resolve
from ..refs import STAGES
from .parties import get_party, resolve_party

_STAGE_ORDER = list(STAGES)


def record_summary(row) -> dict:
    """A record as the views and search show it."""
    data = {"digest": row["digest"], "kind": row["kind"], "size": row["size"],
            "recorded_at": row["recorded_at"], "officer": row["officer"], "device": row["device"],
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


def _linked(found: list) -> list[dict]:
    return [{"type": "record", **record_summary(row), "case_no": row["l_case"] or None,
             "stage": row["l_stage"] or None, "party": row["l_party"] or None,
             "linked_by": row["l_actor"], "linked_at": row["l_at"], "seq": row["l_seq"]} for row in found]


def case_view(archive: Archive, case_ref: str) -> dict:
    """The full-process record of one case: per stage, in time order, records and events."""
    ix = archive.index
    case_no = resolve.case(ix, case_ref)
    case = rows.case(ix, case_no)
    opened = records.event(ix, case["seq"])
    parties = [get_party(archive, key).as_data() for key in rows.members(ix, case_no)]
    stages: dict[str, list[dict]] = {s: [] for s in _STAGE_ORDER}
    for row in rows.stage_events(ix, case_no):
        stages[row["stage"]].append({
            "type": "stage_event", "seq": row["seq"], "at": row["at"], "until": row["until"],
            "officers": json.loads(row["officers"]), "on_site": bool(row["on_site"]),
            "action": row["action"], "note": row["note"], "entered_by": row["actor"]})
    decisions = []
    for row in rows.decisions(ix, case_no):
        item = {"type": "decision", "seq": row["seq"], "party": row["party"],
                "penalty_kind": row["penalty_kind"], "amount": row["amount"], "at": row["at"],
                "entered_by": row["actor"]}
        decisions.append(item)
        stages["decide"].append(item)
    if case["published_at"]:
        stages["decide"].append({"type": "publication", "at": case["published_at"]})
    if case["closed_at"]:
        stages["serve"].append({"type": "closed", "at": case["closed_at"]})
    for item in _linked(rows.case_records(ix, case_no)):
        stages[item["stage"]].append(item)
    return {
        "case": {"case_no": case_no, "title": case["title"], "status": case["status"],
                 "opened_at": case["opened_at"], "opened_by": opened["actor"],
                 "published_at": case["published_at"], "closed_at": case["closed_at"],
                 "parties": parties, "officers": rows.officers_of_case(ix, case_no)},
        "stages": [{"stage": s, "name": STAGES[s], "items": sorted(stages[s], key=_sort_key)}
                   for s in _STAGE_ORDER],
        "decisions": decisions,
    }


def party_view(archive: Archive, ref: str, *, values: dict[str, str] | None = None) -> dict:
    """The 一户式 dossier of one party: its cases (each with the party's own ``decisions``),
    every record by case and stage, and records linked to the party outside any case; its
    numbers masked unless ``values`` (from ``show_pii``) holds them."""
    ix = archive.index
    key = resolve_party(archive, ref)
    party = get_party(archive, key)
    cases = []
    for row in rows.cases_of_party(ix, key):
        view = case_view(archive, row["case_no"])
        view["decisions"] = [d for d in view["decisions"] if d["party"] == key]  # 并处: may be several
        cases.append(view)
    loose = _linked(rows.party_records_outside_cases(ix, key))
    return {"party": party.as_data(values), "cases": cases, "records_outside_cases": loose}
