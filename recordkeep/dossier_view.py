"""Read views of the dossier: ``case show`` (full-process record) and ``party show`` (一户式).

Views are plain dicts in the JSON contract's shape (snake_case, digests as bare
hex, money as two-decimal strings, times with the store's offset).
"""

from __future__ import annotations

import json
import sqlite3

from .archive import Archive
from .dossier import STAGES, get_party, resolve_case, resolve_party

_STAGE_ORDER = list(STAGES)


def record_summary(row: sqlite3.Row) -> dict:
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


def _linked_records(conn: sqlite3.Connection, where: str, args: tuple) -> list[dict]:
    rows = conn.execute(
        "SELECT r.*, l.case_no AS l_case, l.stage AS l_stage, l.party AS l_party, l.seq AS l_seq, "
        "e.actor AS l_actor, e.at AS l_at FROM links l JOIN records r ON r.digest = l.digest "
        f"JOIN events e ON e.seq = l.seq WHERE {where} ORDER BY r.recorded_utc, r.digest", args)
    out = []
    for row in rows:
        item = {"type": "record", **record_summary(row), "case_no": row["l_case"] or None,
                "stage": row["l_stage"] or None, "party": row["l_party"] or None,
                "linked_by": row["l_actor"], "linked_at": row["l_at"], "seq": row["l_seq"]}
        out.append(item)
    return out


def case_view(archive: Archive, case_ref: str) -> dict:
    """The full-process record of one case: per stage, in time order, records and events."""
    conn = archive.index.conn
    case_no = resolve_case(archive, case_ref)
    case = conn.execute("SELECT * FROM cases WHERE case_no = ?", (case_no,)).fetchone()
    opened = conn.execute("SELECT actor, at FROM events WHERE seq = ?", (case["seq"],)).fetchone()
    parties = [get_party(archive, r[0]).as_data() for r in conn.execute(
        "SELECT party FROM case_parties cp JOIN parties p ON p.key = cp.party WHERE case_no = ? "
        "ORDER BY p.num", (case_no,))]
    officers = [r[0] for r in conn.execute(
        "SELECT officer FROM case_officers WHERE case_no = ? ORDER BY officer", (case_no,))]
    stages: dict[str, list[dict]] = {s: [] for s in _STAGE_ORDER}
    for row in conn.execute("SELECT s.*, e.actor FROM stage_events s JOIN events e ON e.seq = s.seq "
                            "WHERE case_no = ? ORDER BY at_utc, s.seq", (case_no,)):
        stages[row["stage"]].append({
            "type": "stage_event", "seq": row["seq"], "at": row["at"], "until": row["until"],
            "officers": json.loads(row["officers"]), "on_site": bool(row["on_site"]),
            "action": row["action"], "note": row["note"], "entered_by": row["actor"]})
    decisions = []
    for row in conn.execute("SELECT d.*, e.actor FROM decisions d JOIN events e ON e.seq = d.seq "
                            "WHERE case_no = ? ORDER BY d.seq", (case_no,)):
        item = {"type": "decision", "seq": row["seq"], "party": row["party"],
                "penalty_kind": row["penalty_kind"], "amount": row["amount"], "at": row["at"],
                "entered_by": row["actor"]}
        decisions.append(item)
        stages["decide"].append(item)
    if case["published_at"]:
        stages["decide"].append({"type": "publication", "at": case["published_at"]})
    if case["closed_at"]:
        stages["serve"].append({"type": "closed", "at": case["closed_at"]})
    for item in _linked_records(conn, "l.case_no = ?", (case_no,)):
        stages[item["stage"]].append(item)
    return {
        "case": {"case_no": case_no, "title": case["title"], "status": case["status"],
                 "opened_at": case["opened_at"], "opened_by": opened["actor"],
                 "published_at": case["published_at"], "closed_at": case["closed_at"],
                 "parties": parties, "officers": officers},
        "stages": [{"stage": s, "name": STAGES[s], "items": sorted(stages[s], key=_sort_key)}
                   for s in _STAGE_ORDER],
        "decisions": decisions,
    }


def party_view(archive: Archive, ref: str, *, show_pii: bool = False) -> dict:
    """The 一户式 dossier of one party: its cases, every record by case and stage, and
    records linked to the party outside any case."""
    conn = archive.index.conn
    key = resolve_party(archive, ref)
    party = get_party(archive, key)
    cases = []
    for row in conn.execute("SELECT c.* FROM case_parties cp JOIN cases c ON c.case_no = cp.case_no "
                            "WHERE cp.party = ? ORDER BY c.opened_at, c.seq", (key,)):
        view = case_view(archive, row["case_no"])
        view["decision"] = next((d for d in view.pop("decisions") if d["party"] == key), None)
        cases.append(view)
    loose = _linked_records(conn, "l.party = ? AND l.case_no = ''", (key,))
    return {"party": party.as_data(show_pii=show_pii), "cases": cases, "records_outside_cases": loose}
