"""The figures a bureau's yearly report quotes, computed from the index.

``stats`` returns one dict in the JSON contract's shape (money as two-decimal strings,
summed as Decimal) for a period: a year, a year up to a cut-off (截至), or any span; without
one, every time. Cases count as opened or concluded (closed) in it, decisions by their date,
the 罚没 of a year by the cases it concluded, records when recorded in it, recorders and
officers as they stood at its end. docs/rules.md defines each figure and ``BACKS`` names
the sentence of the report or the rule each one backs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from . import check, errors, fixity, settings_history
from .archive import Archive
from .check import REVIEWS, Rules, review_of, stages_reached
from .i18n import N_, _
from .index import dossier as rows
from .index import stats as figures
from .refs import MONEY_KINDS, PENALTY_KINDS, STAGES, in_period, utc_key, year_bounds

CENTS = Decimal("0.01")
Bounds = tuple[datetime, datetime] | None

#: What each figure backs: a sentence of the yearly report (2021, 坡头区) or a rule (translated
#: where shown: ``stats`` gives them in the reader's language).
BACKS = {
    "concluded": N_("共办结行政处罚案件N宗,罚没金额X元 (截至 the period's end)"),
    "major_decisions": N_("作出重大执法决定前均严格进行法制审核 ... 重大执法决定法制审核制度执行比率达100%"),
    "publication": N_("执法决定信息在执法决定作出之日起7个工作日之内 ... 进行公开"),
    "officers": N_("负责法制审核的人员高于我局执法人员总数的5%"),
    "recorders": N_("共有执法记录仪N台,分别配置到各股室和执法中队,实现具有编制执法人员人均配备1台记录仪"),
    "shared_devices": N_("一人一机: a recorder is carried by one officer at a time (docs/rules.md)"),
}


def _money(value: Decimal) -> str:
    return str(value.quantize(CENTS))


def _percent(part: int, whole: int) -> str | None:
    """``part`` of ``whole`` in percent, one decimal, as a string (JSON carries no floats)."""
    return str((Decimal(100 * part) / whole).quantize(Decimal("0.1"))) if whole else None


def period(archive: Archive, *, year: int | None = None, start: str | None = None,
           until: str | None = None) -> Bounds:
    """[from, until) of a year (cut at ``until`` when given, a bare date including its day) or
    of ``start``..``until`` (the store's first time / now when one is missing); None: every
    time. InvalidValue for a year with ``start``, a cut-off outside the year, an empty span."""
    settings = archive.settings
    zone = settings.zone
    # '' is a time that does not parse (an unset variable), never "not given"
    end = datetime.fromisoformat(settings.time(until, end_of_day=True)) if until is not None else None
    if year is not None:
        if start is not None:
            raise errors.InvalidValue(_("give --year or --from, not both"))
        first, after = year_bounds(year, zone, settings.window)
        if end is not None and not first < end <= after:
            raise errors.InvalidValue(_("--until {until} is not in the year {year}").format(until=until,
                                                                                            year=year))
        return first, end or after
    if start is None and end is None:
        return None
    first = datetime.fromisoformat(settings.time(start)) if start is not None else settings.window.start(zone)
    if end is None and datetime.fromisoformat(archive.now()) <= first:
        raise errors.InvalidValue(_("--from {start} lies after now: the period is empty").format(start=start))
    end = end or datetime.fromisoformat(archive.now())
    if end <= first:
        raise errors.InvalidValue(_("--until must be after --from"))
    return first, end


def _cases(archive: Archive, bounds: Bounds, concluded: int) -> dict:
    ix = archive.index
    by_status: dict[str, int] = defaultdict(int)
    by_stage = {s: 0 for s in STAGES}
    total = 0
    for case_no in rows.case_numbers(ix):
        case = rows.case(ix, case_no)
        if not in_period(case["opened_at"], bounds):
            continue
        facts = check.load_case(ix, case_no, archive.now())
        total += 1
        by_status[case["status"]] += 1
        for stage, reached in stages_reached(facts).items():
            by_stage[stage] += reached
    return {"total": total, "opened": total, "concluded": concluded,
            "by_status": dict(sorted(by_status.items())), "by_stage": by_stage}


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


def _totals(found: list) -> dict:
    """count, cases, 罚没 ``total_amount``, ``unvalued`` and ``by_kind`` of some decisions."""
    by_kind = _by_kind(found)
    total = sum((Decimal(v["amount"]) for v in by_kind.values() if v["amount"] is not None), Decimal(0))
    return {"count": len(found), "cases": len({r["case_no"] for r in found}), "total_amount": _money(total),
            "unvalued": sum(v.get("unvalued", 0) for v in by_kind.values()), "by_kind": by_kind}


def _concluded(archive: Archive, bounds: Bounds) -> dict:
    """The cases closed (办结) in the period, still closed, and the 罚没 of their decisions."""
    ix = archive.index
    closed = [c for c in rows.case_numbers(ix)
              if (case := rows.case(ix, c))["status"] == "closed" and in_period(case["closed_at"], bounds)]
    chosen = set(closed)
    found = [r for r in rows.all_decisions(ix) if r["case_no"] in chosen]
    return {"cases": len(closed), "case_nos": closed, "decisions": _totals(found)}


def _majors(archive: Archive, found: list, rules: Rules) -> dict:
    ix = archive.index
    major, facts_of = [], {}
    for row in found:
        if not rules.is_major(row["penalty_kind"], row["party_kind"], row["amount"]):
            continue
        if row["case_no"] not in facts_of:
            facts_of[row["case_no"]] = check.load_case(ix, row["case_no"], archive.now())
        facts = facts_of[row["case_no"]]
        reviews = {what: review_of(facts, rules, what, row["at"], archive.settings.zone).state
                   for what in REVIEWS}
        major.append({"case_no": row["case_no"], "party": row["party"], "seq": row["seq"],
                      "penalty_kind": row["penalty_kind"], "amount": row["amount"], "at": row["at"],
                      **reviews, "reviewed": all(s == "before" for s in reviews.values())})
    reviewed = sum(m["reviewed"] for m in major)
    return {"count": len(major), "cases": len({m["case_no"] for m in major}), "reviewed": reviewed,
            "share_reviewed": _percent(reviewed, len(major)), "decisions": major}


def _publication(archive: Archive, found: list, rules: Rules) -> dict:
    """Each party's decision day of the period: published within the rules' working days,
    late, unpublished past the deadline, not yet due, or unknown (a year the calendar lacks)."""
    ix, zone = archive.index, archive.settings.zone
    today = datetime.fromisoformat(archive.now()).date()
    days = {(r["case_no"], r["party"], datetime.fromisoformat(r["at"]).astimezone(zone).date())
            for r in found}
    counts = dict.fromkeys(("within", "late", "overdue", "pending", "unknown"), 0)
    late_cases: list[str] = []
    for case_no in dict.fromkeys(c for c, _party, _day in sorted(days)):
        for p in check.publications(check.load_case(ix, case_no, archive.now()), rules, zone, today):
            if (case_no, p.party, p.decided) not in days:
                continue
            state = ("unknown" if p.unknown else "within" if p.within else "pending" if p.within is None
                     else "late" if p.published else "overdue")
            counts[state] += 1
            if state in ("late", "overdue") and case_no not in late_cases:
                late_cases.append(case_no)
    judged = counts["within"] + counts["late"] + counts["overdue"]
    return {"decided": len(days), "published": counts["within"] + counts["late"], **counts,
            "share_within": _percent(counts["within"], judged),
            "within_workdays": rules.publish_within_workdays, "late_cases": late_cases}


def _utc_bounds(bounds: Bounds) -> tuple[str | None, str | None]:
    if bounds is None:
        return None, None
    return utc_key(bounds[0].isoformat()), utc_key(bounds[1].isoformat())


def _records(archive: Archive, bounds: Bounds) -> tuple[dict, list[dict], list[dict]]:
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


def _end_instant(archive: Archive, bounds: Bounds) -> datetime:
    """The last instant the period covers, or now when it runs on past now (or is every time)."""
    now = datetime.fromisoformat(archive.now())
    if bounds is None or bounds[1] > now:
        return now
    return bounds[1] - timedelta(milliseconds=1)


def _officers(archive: Archive, rules: Rules) -> dict:
    """Registered officers by unit and post, the share with a legal-review post (法制审核),
    and the certificate numbers seen but never registered."""
    registered = figures.registered_officers(archive.index)
    by_unit: dict[str, int] = defaultdict(int)
    by_post: dict[str, int] = defaultdict(int)
    for row in registered:
        by_unit[row["unit"] or ""] += 1
        if row["post"]:
            by_post[row["post"]] += 1
    markers = rules.legal_review_actions
    legal = sum(1 for row in registered if row["post"] and any(m in row["post"] for m in markers))
    unregistered = figures.unregistered_officers(archive.index)
    return {"registered": len(registered), "unregistered": len(unregistered),
            "unregistered_numbers": unregistered,
            "by_unit": [{"unit": unit or None, "count": n} for unit, n in sorted(by_unit.items())],
            "by_post": [{"post": post, "count": n} for post, n in sorted(by_post.items())],
            "legal_review": {"count": legal, "of": len(registered),
                             "percent": _percent(legal, len(registered))}}


def _recorders(archive: Archive, bounds: Bounds) -> dict:
    """The recorders in service at the period's end: carried by officers or kept by units."""
    ix = archive.index
    moment = _end_instant(archive, bounds)
    instant = utc_key(moment.isoformat())
    by_officer: dict[str, list[str]] = defaultdict(list)
    by_unit: dict[str, list[str]] = defaultdict(list)
    devices: set[str] = set()
    for row in figures.assignments_in(ix, instant, instant):
        devices.add(row["device"])
        if row["officer"]:
            by_officer[row["officer"]].append(row["device"])
        else:
            by_unit[row["unit"]].append(row["device"])
    registered = [row["cert_no"] for row in figures.registered_officers(ix)]
    return {"as_of": moment.isoformat(timespec="milliseconds"), "in_service": len(devices),
            "carried": sum(len(v) for v in by_officer.values()),
            "kept_by_units": sum(len(v) for v in by_unit.values()),
            "by_unit": [{"unit": unit, "devices": held} for unit, held in sorted(by_unit.items())],
            "by_officer": [{"officer": officer, "devices": held}
                           for officer, held in sorted(by_officer.items())],
            "officers_with": sum(1 for o in registered if o in by_officer),
            "officers_without": [o for o in registered if o not in by_officer]}


def _devices(archive: Archive, bounds: Bounds) -> tuple[list[dict], list[dict], list[dict]]:
    ix = archive.index
    start, end = _utc_bounds(bounds)
    if bounds is None:
        now = utc_key(archive.now())
        assignments = figures.assignments_in(ix, now, now)
    else:
        assignments = figures.assignments_in(ix, start, end)
    officers: dict[str, list[str]] = defaultdict(list)
    units: dict[str, list[str]] = defaultdict(list)
    for row in assignments:
        holders = officers[row["device"]] if row["officer"] else units[row["device"]]
        holder = row["officer"] or row["unit"]
        if holder not in holders:
            holders.append(holder)
    carrying = {o for held in officers.values() for o in held}
    without = [{"cert_no": row["cert_no"], "name": row["name"]} for row in figures.registered_officers(ix)
               if row["cert_no"] not in carrying]
    service = [{"device": d, "officers": officers.get(d, []), "units": units.get(d, [])}
               for d in sorted({row["device"] for row in assignments})]
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


def stats(archive: Archive, *, year: int | None = None, start: str | None = None,
          until: str | None = None) -> dict:
    """The figures of a period (``period``), as one JSON-ready dict; the journal's chain is
    checked first (ChainBroken: no figure is computed from a journal that does not hold);
    ``fixity`` is ``verify --status`` of the whole store now; ``rules_changed`` and
    ``settings_recorded`` as ``check`` gives them (its thresholds decide what is major)."""
    archive.require_intact_chain()
    bounds = period(archive, year=year, start=start, until=until)
    rules = Rules.from_archive(archive)
    decided = [r for r in rows.all_decisions(archive.index) if in_period(r["at"], bounds)]
    records, per_officer, per_device = _records(archive, bounds)
    service, without, shared = _devices(archive, bounds)
    concluded = _concluded(archive, bounds)
    return {
        "year": year,
        "period": ({"from": bounds[0].isoformat(timespec="milliseconds"),
                    "until": bounds[1].isoformat(timespec="milliseconds")} if bounds else None),
        "as_of": datetime.fromisoformat(archive.now()).isoformat(timespec="milliseconds"),
        "cases": _cases(archive, bounds, concluded["cases"]),
        "concluded": concluded,
        "decisions": _totals(decided),
        "major_decisions": _majors(archive, decided, rules),
        "publication": _publication(archive, decided, rules),
        "officers": _officers(archive, rules),
        "recorders": _recorders(archive, bounds),
        "records": records,
        "records_per_officer": per_officer,
        "records_per_device": per_device,
        "devices_in_service": service,
        "officers_without_device": without,
        "shared_devices": shared,
        "backs": {figure: _(sentence) for figure, sentence in BACKS.items()},
        "fixity": fixity.status(archive).as_data(),  # the store as it is now, whatever the year
        "rules_changed": rules.in_force(archive),
        "settings_recorded": settings_history.is_recorded(archive),
    }
