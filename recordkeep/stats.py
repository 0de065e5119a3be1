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

from . import check, fixity
from .archive import Archive
from .check import REVIEWS, Rules, in_period, review_of, stages_reached, year_bounds
from .index import dossier as rows
from .index import stats as figures
from .refs import MONEY_KINDS, PENALTY_KINDS, STAGES, utc_key

CENTS = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(CENTS))


def _cases(archive: Archive, bounds) -> dict:
    ix = archive.index
    by_status: dict[str, int] = defaultdict(int)
    by_stage = {s: 0 for s in STAGES}
    total = 0
    for case_no in rows.case_numbers(ix):
        if not in_period(rows.case(ix, case_no)["opened_at"], bounds):
            continue
        facts = check.load_case(ix, case_no)
        total += 1
        by_status[facts.case["status"]] += 1
        for stage, reached in stages_reached(facts).items():
            by_stage[stage] += reached
    return {"total": total, "by_status": dict(sorted(by_status.items())), "by_stage": by_stage}


def _by_kind(found: list) -> dict[str, dict]:
    """Per penalty kind: ``count``; ``amount``, the sum of the amounts given (None when none
    is); for the money kinds ``unvalued``, how many have no value (a 没收 without --amount)."""
    counts: dict[str, int] = defaultdict(int)
    sums: dict[str, Decimal] = {}
    unvalued: dict[str, int] = defaultdict(int)
    for row in found:
        kind = row["penalty_kind"]
        counts[kind] += 1
        if kind not in MONEY_KINDS:
            continue  # an amount journaled on such a kind (before it was refused) is not 罚没
        if row["amount"] is None:
            unvalued[kind] += 1
        else:
            sums[kind] = sums.get(kind, Decimal(0)) + Decimal(row["amount"])
    out = {}
    for kind in (k for k in PENALTY_KINDS if k in counts):
        out[kind] = {"count": counts[kind], "amount": _money(sums[kind]) if kind in sums else None}
        if kind in MONEY_KINDS:
            out[kind]["unvalued"] = unvalued[kind]
    return out


def _decisions(archive: Archive, bounds, rules: Rules) -> tuple[dict, dict]:
    ix = archive.index
    found = [r for r in rows.all_decisions(ix) if in_period(r["at"], bounds)]
    by_kind = _by_kind(found)
    major, facts_of = [], {}
    for row in found:
        if rules.is_major(row["penalty_kind"], row["party_kind"], row["amount"]):
            if row["case_no"] not in facts_of:
                facts_of[row["case_no"]] = check.load_case(ix, row["case_no"])
            reviews = {what: review_of(facts_of[row["case_no"]], rules, what, row["at"],
                                       archive.settings.zone).state
                       for what in REVIEWS}
            major.append({"case_no": row["case_no"], "party": row["party"], "seq": row["seq"],
                          "penalty_kind": row["penalty_kind"], "amount": row["amount"], "at": row["at"],
                          **reviews, "reviewed": all(s == "before" for s in reviews.values())})
    total = sum((Decimal(v["amount"]) for v in by_kind.values() if v["amount"] is not None), Decimal(0))
    unvalued = sum(v.get("unvalued", 0) for v in by_kind.values())
    decisions = {"count": len(found), "cases": len({r["case_no"] for r in found}),
                 "total_amount": _money(total), "unvalued": unvalued, "by_kind": by_kind}
    majors = {"count": len(major), "reviewed": sum(m["reviewed"] for m in major), "decisions": major}
    return decisions, majors


def _utc_bounds(bounds) -> tuple[str | None, str | None]:
    if bounds is None:
        return None, None
    return utc_key(bounds[0].isoformat()), utc_key(bounds[1].isoformat())


def _records(archive: Archive, bounds) -> tuple[dict, list[dict], list[dict]]:
    ix = archive.index
    start, end = _utc_bounds(bounds)
    by_kind = {row["kind"]: {"count": row["n"], "bytes": row["bytes"], "disposed": row["disposed"]}
               for row in figures.records_by_kind(ix, start, end)}
    records = {"count": sum(v["count"] for v in by_kind.values()),
               "bytes": sum(v["bytes"] for v in by_kind.values()),
               "disposed": sum(v["disposed"] for v in by_kind.values()), "by_kind": by_kind}
    per_officer = [{"officer": row["officer"], "name": row["name"], "records": row["n"],
                    "bytes": row["bytes"]} for row in figures.records_by_officer(ix, start, end)]
    per_device = [{"device": row["device"], "records": row["n"], "bytes": row["bytes"]}
                  for row in figures.records_by_device(ix, start, end)]
    return records, per_officer, per_device


def _devices(archive: Archive, bounds) -> tuple[list[dict], list[dict], list[dict]]:
    ix = archive.index
    start, end = _utc_bounds(bounds)
    if bounds is None:
        now = utc_key(archive.now())
        assignments = figures.assignments_in(ix, now, now)
    else:
        assignments = figures.assignments_in(ix, start, end)
    in_service: dict[str, list[str]] = defaultdict(list)
    for device, officer in assignments:
        if officer not in in_service[device]:
            in_service[device].append(officer)
    carrying = {o for officers in in_service.values() for o in officers}
    without = [{"cert_no": row["cert_no"], "name": row["name"]} for row in figures.registered_officers(ix)
               if row["cert_no"] not in carrying]
    service = [{"device": d, "officers": o} for d, o in sorted(in_service.items())]
    return service, without, _shared(archive, start, end)


def _shared(archive: Archive, start: str | None, end: str | None) -> list[dict]:
    """Devices two officers held at once in the period: assignments to different officers
    overlapping each other, a record made with a device assigned then to another officer, or,
    where no assignment covers them, records of several officers. A handover (one assignment
    ending where the next begins) is not sharing."""
    ix = archive.index
    users: dict[str, set[str]] = defaultdict(set)
    for device, *officers in (figures.concurrent_assignments(ix, start, end)
                              + figures.records_off_assignment(ix, start, end)):
        users[device].update(officers)
    unassigned: dict[str, set[str]] = defaultdict(set)
    for device, officer in figures.records_unassigned(ix, start, end):
        unassigned[device].add(officer)
    for device, officers in unassigned.items():
        if len(officers) > 1:
            users[device].update(officers)
    return [{"device": d, "officers": sorted(o)} for d, o in sorted(users.items())]


def stats(archive: Archive, *, year: int | None = None) -> dict:
    """The figures of ``year`` (every year when None), as one JSON-ready dict; ``fixity`` is
    ``verify --status`` of the whole store now."""
    archive.require_intact_chain()
    zone = archive.settings.zone
    bounds = year_bounds(year, zone, archive.settings.window) if year is not None else None
    rules = Rules.from_archive(archive)
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
        "fixity": fixity.status(archive).as_data(),  # the store as it is now, whatever the year
    }
