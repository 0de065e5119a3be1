"""`check` finds what cannot have happened in that order, and officers nobody registered: a
decision before the opening, a publication or a close before the decision, a close before
the opening, an unregistered (mistyped) officer; a case number of another year is a notice."""

from __future__ import annotations

import pytest

from .test_check import CASE, A, add_parties, check, findings, full_case, ok, open_case, record

C = "440301777777"  # an officer nobody registered


@pytest.fixture
def parties(cli) -> None:
    add_parties(cli)  # P1, P2, and the officers A and B registered


def test_a_clean_case_has_no_finding_of_order_or_officers(cli, parties, tmp_path):
    full_case(cli, tmp_path)
    assert check(cli)["cases"][0]["findings"] == [] and check(cli)["notices"] == 0


def test_a_decision_before_the_opening_breaks_rk530_naming_the_decision(cli, parties, tmp_path):
    open_case(cli, tmp_path, at="2021-09-01 10:00")
    early = cli.json("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-08-31 16:00")
    same_day = cli.json("case", "decide", CASE, "--penalty-kind", "criticize", "--at", "2021-09-01")
    found = findings(cli, "RK530")
    assert [(f["seq"], f["party"], f["rule"]) for f in found] == [
        (early["seq"], "P1", "decided_before_opening")]
    assert found[0]["opened_at"].startswith("2021-09-01T10:00") and "case void" in found[0]["fix"]
    assert same_day["seq"] not in {f.get("seq") for c in check(cli)["cases"] for f in c["findings"]}
    assert cli("check").exit_code == 4


def test_a_publication_before_the_decision_breaks_rk531(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    decided = cli.json("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-20 15:00")
    ok(cli("case", "publish", CASE, "--at", "2021-09-19"))
    published = cli.json("log", "--case", CASE)["events"][-1]["seq"]
    assert [f["seq"] for f in findings(cli, "RK531")] == [decided["seq"]]
    ok(cli("case", "void", CASE, str(published), "--reason", "公示日期录入错误"))  # as the fix says
    ok(cli("case", "publish", CASE, "--at", "2021-09-20"))  # the same day, entered as a bare date
    assert findings(cli, "RK531") == []


def test_a_close_before_the_decision_or_before_the_opening_breaks_rk532_and_rk533(cli, parties, tmp_path):
    open_case(cli, tmp_path, at="2021-09-01")
    decided = cli.json("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-20")
    ok(cli("case", "close", CASE, "--at", "2021-08-30"))
    assert [f["seq"] for f in findings(cli, "RK532")] == [decided["seq"]]
    assert [f["rule"] for f in findings(cli, "RK533")] == ["closed_before_opening"]


def test_an_unregistered_officer_in_a_stage_breaks_rk534_until_registered(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    stage = cli.json("case", "stage", CASE, "investigate", "--at", "2021-09-10 09:00", "--on-site",
                     "--officer", A, "--officer", C)  # C mistyped: two numbers, one officer
    [found] = findings(cli, "RK534")
    assert found["officer"] == C and found["seq"] == stage["seq"]
    assert found["named_in"] == [f"investigate event seq {stage['seq']}"]
    assert "officer add" in found["fix"]
    ok(cli("officer", "add", C, "--name", "赵六"))
    assert findings(cli, "RK534") == []


def test_an_unregistered_officer_of_a_linked_record_or_of_the_opening_breaks_rk534(cli, parties, tmp_path):
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-09-01", "--officer", A,
           "--officer", "440301000001"))
    digest = record(cli, tmp_path, "--case", CASE, "--stage", "investigate",
                    name=f"DSJ001_{C}_20210910090000_0001.bin")
    named = {f["officer"]: f["named_in"] for f in findings(cli, "RK534")}
    assert named == {C: [f"record {digest[:12]} (investigate)"], "440301000001": ["the opening"]}


def test_a_case_number_of_another_year_than_its_decision_is_a_notice_that_never_fails(cli, parties, tmp_path):
    full_case(cli, tmp_path, "坡城管罚[2020]7号")
    data = check(cli)
    [notice] = [f for c in data["cases"] for f in c["findings"]]
    assert (notice["code"], notice["status"], notice["case_year"], notice["decision_years"]) == (
        "RK535", "notice", 2020, [2021])
    assert data["ok"] is True and data["notices"] == 1 and data["broken"] == 0
    assert cli("check", "--strict").exit_code == 0
    assert "1 notice(s): OK" in cli("check").stdout
