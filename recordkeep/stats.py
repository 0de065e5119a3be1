"""The year's figures a bureau's report quotes, computed from the index.

``stats`` returns one dict in the JSON contract's shape (money as two-decimal
strings, summed as Decimal). With a year, cases count when opened in it,
decisions when dated in it, records when recorded in it (first imported, when
they carry no recorded time), devices when an assignment overlaps it; without
one, everything counts and devices are those assigned now. docs/rules.md
defines each figure.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from .archive import Archive
from .check import REVIEWS, Rules, in_period, load_case, review_of, stages_reached, year_bounds
from .dossier import PENALTY_KINDS, STAGES
from .index import utc_key

CENTS = Decimal("0.01")
#: SQL: when a record counts for a period (recorded, else first imported), as a UTC key.
RECORDED = "coalesce(r.recorded_utc, rk_utc(r.first_at))"


def _money(value: Decimal) -> str:
    return str(value.quantize(CENTS))


def _cases(archive: Archive, bounds) -> dict:
    conn = archive.index.conn
    by_status: dict[str, int] = defaultdict(int)
    by_stage = {s: 0 for s in STAGES}
    total = 0
    for row in conn.execute("SELECT case_no, opened_at FROM cases ORDER BY opened_at, seq"):
        if not in_period(row["opened_at"], bounds):
            continue
        facts = load_case(conn, row["case_no"])
        total += 1
        by_status[facts.case["status"]] += 1
        for stage, reached in stages_reached(facts).items():
            by_stage[stage] += reached
    return {"total": total, "by_status": dict(sorted(by_status.items())), "by_stage": by_stage}


def _decisions(archive: Archive, bounds, rules: Rules) -> tuple[dict, dict]:
    conn = archive.index.conn
    rows = [r for r in conn.execute(
        "SELECT d.*, p.kind AS party_kind FROM decisions d LEFT JOIN parties p ON p.key = d.party "
        "ORDER BY d.at, d.seq") if in_period(r["at"], bounds)]
    total = Decimal(0)
    by_kind: dict[str, dict] = {}
    major, facts_of = [], {}
    for row in rows:
        amount = Decimal(row["amount"]) if row["amount"] is not None else None
        kind = by_kind.setdefault(row["penalty_kind"], {"count": 0, "amount": Decimal(0)})
        kind["count"] += 1
        if amount is not None:
            kind["amount"] += amount
            total += amount
        if rules.is_major(row["penalty_kind"], row["party_kind"], row["amount"]):
            if row["case_no"] not in facts_of:
                facts_of[row["case_no"]] = load_case(conn, row["case_no"])
            reviews = {what: review_of(facts_of[row["case_no"]], rules, what, row["at"]).state
                       for what in REVIEWS}
            major.append({"case_no": row["case_no"], "party": row["party"],
                          "penalty_kind": row["penalty_kind"], "amount": row["amount"], "at": row["at"],
                          **reviews, "reviewed": all(s == "before" for s in reviews.values())})
    decisions = {"count": len(rows), "total_amount": _money(total),
                 "by_kind": {k: {"count": by_kind[k]["count"], "amount": _money(by_kind[k]["amount"])}
                             for k in PENALTY_KINDS if k in by_kind}}
    majors = {"count": len(major), "reviewed": sum(m["reviewed"] for m in major), "decisions": major}
    return decisions, majors


def _records(archive: Archive, bounds) -> tuple[dict, list[dict], list[dict]]:
    conn = archive.index.conn
    where, args = "1", ()
    if bounds is not None:
        where = f"{RECORDED} >= ? AND {RECORDED} < ?"
        args = (utc_key(bounds[0].isoformat()), utc_key(bounds[1].isoformat()))
    held = "CASE WHEN r.disposed_seq IS NULL THEN r.size ELSE 0 END"
    by_kind = {row["kind"]: {"count": row["n"], "bytes": row["bytes"], "disposed": row["disposed"]}
               for row in conn.execute(
                   f"SELECT kind, COUNT(*) AS n, SUM({held}) AS bytes, COUNT(disposed_seq) AS disposed "
                   f"FROM records r WHERE {where} GROUP BY kind ORDER BY kind", args)}
    records = {"count": sum(v["count"] for v in by_kind.values()),
               "bytes": sum(v["bytes"] for v in by_kind.values()),
               "disposed": sum(v["disposed"] for v in by_kind.values()), "by_kind": by_kind}
    per_officer = [{"officer": row["officer"], "name": row["name"], "records": row["n"],
                    "bytes": row["bytes"]} for row in conn.execute(
                       f"SELECT r.officer, o.name, COUNT(*) AS n, SUM({held}) AS bytes FROM records r "
                       f"LEFT JOIN officers o ON o.cert_no = r.officer WHERE {where} "
                       "GROUP BY r.officer ORDER BY n DESC, r.officer", args)]
    per_device = [{"device": row["device"], "records": row["n"], "bytes": row["bytes"]}
                  for row in conn.execute(
                      f"SELECT r.device, COUNT(*) AS n, SUM({held}) AS bytes FROM records r WHERE {where} "
                      "GROUP BY r.device ORDER BY n DESC, r.device", args)]
    return records, per_officer, per_device


def _devices(archive: Archive, bounds) -> tuple[list[dict], list[dict], list[dict]]:
    conn = archive.index.conn
    if bounds is None:
        now = utc_key(archive.now())
        assignments = conn.execute(
            "SELECT device, officer FROM devices WHERE (from_utc IS NULL OR from_utc <= ?) "
            "AND (until_utc IS NULL OR until_utc > ?) ORDER BY device, seq", (now, now)).fetchall()
        record_where, args = "1", ()
    else:
        start, end = utc_key(bounds[0].isoformat()), utc_key(bounds[1].isoformat())
        assignments = conn.execute(
            "SELECT device, officer FROM devices WHERE (from_utc IS NULL OR from_utc < ?) "
            "AND (until_utc IS NULL OR until_utc > ?) ORDER BY device, seq", (end, start)).fetchall()
        record_where = f"{RECORDED} >= ? AND {RECORDED} < ?"
        args = (start, end)
    in_service: dict[str, list[str]] = defaultdict(list)
    for row in assignments:
        if row["officer"] not in in_service[row["device"]]:
            in_service[row["device"]].append(row["officer"])
    users: dict[str, set[str]] = defaultdict(set)
    for device, officers in in_service.items():
        users[device].update(officers)
    for row in conn.execute(f"SELECT DISTINCT device, officer FROM records r WHERE {record_where} "
                            "AND device IS NOT NULL AND officer IS NOT NULL", args):
        users[row["device"]].add(row["officer"])
    carrying = {o for officers in in_service.values() for o in officers}
    without = [{"cert_no": row["cert_no"], "name": row["name"]} for row in conn.execute(
        "SELECT cert_no, name FROM officers WHERE registered = 1 ORDER BY cert_no")
        if row["cert_no"] not in carrying]
    service = [{"device": d, "officers": o} for d, o in sorted(in_service.items())]
    shared = [{"device": d, "officers": sorted(o)} for d, o in sorted(users.items()) if len(o) > 1]
    return service, without, shared


def stats(archive: Archive, *, year: int | None = None) -> dict:
    """The figures of ``year`` (every year when None), as one JSON-ready dict."""
    zone = archive.settings.zone
    bounds = year_bounds(year, zone) if year is not None else None
    rules = Rules.from_archive(archive)
    archive.index.conn.create_function("rk_utc", 1, utc_key, deterministic=True)
    decisions, majors = _decisions(archive, bounds, rules)
    records, per_officer, per_device = _records(archive, bounds)
    service, without, shared = _devices(archive, bounds)
    return {
        "year": year,
        "period": ({"from": bounds[0].isoformat(timespec="milliseconds"),
                    "until": bounds[1].isoformat(timespec="milliseconds")} if bounds else None),
        "as_of": datetime.fromisoformat(archive.now()).isoformat(timespec="milliseconds"),
        "cases": _cases(archive, bounds),
        "decisions": decisions,
        "major_decisions": majors,
        "records": records,
        "records_per_officer": per_officer,
        "records_per_device": per_device,
        "devices_in_service": service,
        "officers_without_device": without,
        "shared_devices": shared,
    }
