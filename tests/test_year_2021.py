"""The year's figures hold up: the 2021 report (办结24宗, 罚没2625135.05元, 18 officers, 31
recorders, 2 法制审核 staff, 8 major decisions reviewed) reproduced by `stats` from a year built
through the CLI (fixtures/year_2021.py), and every figure summed again, independently, from
what `case show`, `search`, `party list`, `officer list` and `device list` print."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from .conftest import load_fixture_script
from .test_check import add_parties, ok, open_case

year_2021 = load_fixture_script("year_2021")

CUT_OFF = "2021-11-12T00:00:00.000+08:00"  # --until 2021-11-11 includes the day
MONEY = ("fine", "confiscate", "confiscate_income", "confiscate_property")


@pytest.fixture
def year(cli, tmp_path) -> dict:
    """The year entered into the test store; {case number: [party keys]}."""
    return year_2021.build(cli.json, tmp_path / "files")


def _workday_deadline(decided: date, n: int = 7) -> date:
    day, count = decided, 0
    while count < n:
        day += timedelta(days=1)
        count += chinese_calendar.is_workday(day)
    return day


def test_the_2021_year_gives_the_reports_figures_and_an_independent_sum_agrees(cli, year):
    stats = cli.json("stats", "--year", "2021", "--until", "2021-11-11")
    expected = year_2021.EXPECTED
    shows = {no: cli.json("case", "show", no) for no in year}
    kinds = {p["key"]: p["kind"] for p in cli.json("party", "list")["parties"]}

    # 办结24宗, 罚没金额2625135.05元: the cases closed by the cut-off, and their money decisions
    concluded = [no for no, s in shows.items() if s["case"]["status"] == "closed"
                 and s["case"]["closed_at"] < CUT_OFF]
    penalties = sum(Decimal(d["amount"]) for no in concluded for d in shows[no]["decisions"]
                    if d["penalty_kind"] in MONEY and d["amount"])
    assert stats["concluded"]["cases"] == stats["cases"]["concluded"] == len(concluded)
    assert len(concluded) == expected["concluded"]
    assert sorted(stats["concluded"]["case_nos"]) == sorted(concluded)
    assert stats["concluded"]["decisions"]["total_amount"] == str(penalties) == expected["penalties"]
    assert stats["concluded"]["decisions"]["by_kind"]["confiscate_income"] == {
        "count": 1, "amount": "5000.00", "unvalued": 0}  # the 并处 counted beside its fine

    # 8 major decisions (个人1万元以上、法人10万元以上), each reviewed before deciding
    in_period = [(no, d) for no, s in shows.items() for d in s["decisions"]
                 if "2021-01-01" <= d["at"][:10] <= "2021-11-11"]
    major = [(no, d) for no, d in in_period if d["penalty_kind"] == "fine" and Decimal(d["amount"])
             >= (Decimal(100000) if kinds[d["party"]] == "organisation" else Decimal(10000))]
    reviews = {no: {r["doc_type"]: r["recorded_at"] for r in cli.json("search", "--case", no)["records"]}
               for no, _ in major}
    reviewed = [no for no, d in major if all(reviews[no].get(doc_type, "9") < d["at"]
                                             for doc_type in ("法制审核意见书", "集体讨论记录"))]
    m = stats["major_decisions"]
    assert m["count"] == len(major) == expected["major"]
    assert m["reviewed"] == len(reviewed) == expected["reviewed"] and m["share_reviewed"] == "100.0"

    # published within 7 working days of the decision, but one
    days = {(no, d["party"], d["at"][:10]) for no, d in in_period}
    within = sum(1 for no, _, day in days if shows[no]["case"]["published_at"][:10]
                 <= _workday_deadline(date.fromisoformat(day)).isoformat())
    p = stats["publication"]
    assert p["decided"] == len(days) and p["within"] == within == expected["publication"]["within"]
    assert p["late"] == len(days) - within == expected["publication"]["late"]
    assert p["share_within"] == expected["publication"]["share_within"]
    assert p["late_cases"] == [year_2021.LATE_CASE]

    # 执法人员总数18人, 法制审核 2 (over 5%), no officer's number seen unregistered
    officers = cli.json("officer", "list")["officers"]
    registered = [o for o in officers if o["registered"]]
    legal = [o for o in registered if o["post"] == "法制审核"]
    o = stats["officers"]
    assert o["registered"] == len(registered) == expected["officers"]
    assert o["unregistered"] == len(officers) - len(registered) == expected["unregistered"]
    assert (o["legal_review"]["count"], o["legal_review"]["of"], o["legal_review"]["percent"]) == \
        (len(legal), len(registered), expected["legal_review"][2]) == expected["legal_review"]

    # 执法记录仪31台, 配置到各股室和执法中队, 人均配备1台
    at_end = [a for a in cli.json("device", "list")["devices"]
              if (a["from"] or "") < CUT_OFF and (a["until"] is None or a["until"] >= CUT_OFF)]
    r = stats["recorders"]
    assert r["in_service"] == len({a["device"] for a in at_end}) == expected["recorders"]
    assert r["carried"] == sum(1 for a in at_end if a["officer"]) == expected["carried"]
    assert r["kept_by_units"] == sum(1 for a in at_end if a["unit"]) == expected["kept_by_units"]
    assert r["officers_with"] == len({a["officer"] for a in at_end if a["officer"]}) == len(registered)
    assert r["officers_without"] == []
    assert stats["shared_devices"] == []  # DSJ018's handover from a unit to an officer is no sharing


def test_check_flags_the_one_late_publication_of_the_year_and_nothing_else(cli, year):
    report = cli.json("check", "--year", "2021")
    broken = [(c["case_no"], f["code"]) for c in report["cases"] for f in c["findings"]
              if f["status"] == "broken"]
    assert broken == [(year_2021.LATE_CASE, "RK506")]


def test_a_case_opened_in_2020_and_concluded_in_2021_counts_as_concluded_in_2021(cli, tmp_path):
    add_parties(cli)
    old = "坡城管罚〔2020〕31号"
    open_case(cli, tmp_path, old, "P1", at="2020-12-21")
    ok(cli("case", "decide", old, "--penalty-kind", "fine", "--amount", "3000", "--at", "2020-12-28"))
    ok(cli("case", "close", old, "--at", "2021-01-15"))
    in_2021, in_2020 = cli.json("stats", "--year", "2021"), cli.json("stats", "--year", "2020")
    assert in_2021["concluded"]["case_nos"] == [old] and in_2021["cases"]["opened"] == 0
    assert in_2021["concluded"]["decisions"]["total_amount"] == "3000.00"
    assert in_2021["decisions"]["count"] == 0  # decided in 2020
    assert in_2020["concluded"]["cases"] == 0 and in_2020["cases"]["opened"] == 1


def test_a_cut_off_outside_its_year_or_a_year_with_from_is_refused(cli):
    assert cli("stats", "--year", "2021", "--until", "2022-01-05").exit_code == 1
    assert cli("stats", "--year", "2021", "--from", "2021-02-01").exit_code == 1
    assert cli("stats", "--from", "2021-06-01", "--until", "2021-05-01").exit_code == 1
    span = cli.json("stats", "--from", "2021-02-01", "--until", "2021-02-28")["period"]
    assert span == {"from": "2021-02-01T00:00:00.000+08:00", "until": "2021-03-01T00:00:00.000+08:00"}


def test_a_case_numbered_in_another_year_is_not_opened_today_without_at(cli):
    add_parties(cli)
    refused = cli("case", "open", "坡城管罚〔2021〕40号", "--party", "P1")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK477"), refused.output
    assert "--at" in refused.stderr
    this_year = datetime.now(ZoneInfo("Asia/Shanghai")).year  # the store's zone
    ok(cli("case", "open", f"坡城管罚〔{this_year}〕1号", "--party", "P1"))
    ok(cli("case", "open", "坡城管罚〔2021〕40号", "--party", "P1", "--at", "2021-03-01"))
    ok(cli("case", "open", "临时编号-7", "--party", "P1"))  # no year in it: opened now
