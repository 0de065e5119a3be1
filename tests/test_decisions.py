"""Decisions as the law has them (行政处罚法 2021 art. 9): several per party (并处), each with its
kind; money only on 罚款 and the 没收, and a confiscation without a value never counted as 0.00."""

from __future__ import annotations

import sqlite3

import pytest

from recordkeep import Archive
from recordkeep.refs import PENALTY_KINDS, parse_penalty_kind
from recordkeep.store.journal import Draft

from .index_dump import dump
from .test_check import CASE, B, add_parties, codes, findings, ok, open_case, review_act

SECOND = "坡城管罚〔2021〕13号"


def refused(result, code: str) -> str:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(code), result.stderr
    return result.stderr


@pytest.fixture
def two_cases(cli, tmp_path) -> None:
    """CASE for P1 (a person), SECOND for P2 (an organisation), both opened in September 2021."""
    add_parties(cli)
    open_case(cli, tmp_path, CASE, "P1")
    open_case(cli, tmp_path, SECOND, "P2")


def test_every_kind_of_article_9_is_taken_by_its_slug_and_by_its_chinese_name():
    for slug in ("confiscate_income", "confiscate_property", "criticize", "suspend_permit", "downgrade",
                 "restrict", "close_down", "warning", "fine", "confiscate", "suspend", "revoke", "other"):
        assert parse_penalty_kind(slug) == slug
        assert parse_penalty_kind(PENALTY_KINDS[slug]) == slug
    assert parse_penalty_kind("没收违法所得") == "confiscate_income"
    assert parse_penalty_kind("限制从业") == parse_penalty_kind("限制开展生产经营活动") == "restrict"
    assert parse_penalty_kind("吊销许可证件") == "revoke"


def test_confiscation_and_a_fine_for_one_party_are_both_kept_and_both_counted(cli, two_cases):
    first = cli.json("case", "decide", CASE, "--penalty-kind", "没收违法所得", "--amount", "300",
                     "--at", "2021-09-20")
    second = cli.json("case", "decide", CASE, "--penalty-kind", "罚款", "--amount", "500",
                      "--at", "2021-09-20")
    assert second["seq"] > first["seq"]
    shown = cli.json("case", "show", CASE)["decisions"]
    assert [(d["seq"], d["party"], d["penalty_kind"], d["amount"]) for d in shown] == [
        (first["seq"], "P1", "confiscate_income", "300.00"), (second["seq"], "P1", "fine", "500.00")]
    decide_stage = next(s for s in cli.json("case", "show", CASE)["stages"] if s["stage"] == "decide")
    in_stage = [i["seq"] for i in decide_stage["items"] if i["type"] == "decision"]
    assert in_stage == [first["seq"], second["seq"]]
    assert [d["penalty_kind"] for d in cli.json("party", "show", "P1")["cases"][0]["decisions"]] == [
        "confiscate_income", "fine"]
    text = cli("case", "show", CASE).stdout
    assert "decided for P1: confiscate_income 300.00 + fine 500.00" in text
    decisions = cli.json("stats", "--year", "2021")["decisions"]
    assert decisions["count"] == 2 and decisions["cases"] == 1
    assert decisions["total_amount"] == "800.00" and decisions["unvalued"] == 0


def test_the_same_kind_twice_for_one_party_is_refused_naming_the_first(cli, two_cases):
    first = cli.json("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "500")
    reason = refused(cli("case", "decide", CASE, "--penalty-kind", "罚款", "--amount", "500"), "RK442")
    assert f"seq {first['seq']}" in reason and "罚款" in reason
    assert cli.json("stats")["decisions"]["total_amount"] == "500.00"


def test_the_forfeiture_total_is_fines_and_confiscations_with_a_value(cli, two_cases):
    for case, kind, amount in ((CASE, "fine", "1000"), (CASE, "confiscate_income", "250.50"),
                               (CASE, "confiscate_property", "99.50"), (SECOND, "confiscate_property", None),
                               (SECOND, "warning", None), (SECOND, "close_down", None),
                               (SECOND, "没收", None)):
        ok(cli("case", "decide", case, "--penalty-kind", kind, "--at", "2021-09-20",
               *(("--amount", amount) if amount else ())))
    decisions = cli.json("stats", "--year", "2021")["decisions"]
    assert decisions["total_amount"] == "1350.00"
    assert decisions["count"] == 7 and decisions["cases"] == 2 and decisions["unvalued"] == 2
    assert decisions["by_kind"] == {
        "warning": {"count": 1, "amount": None},
        "fine": {"count": 1, "amount": "1000.00", "unvalued": 0},
        "confiscate": {"count": 1, "amount": None, "unvalued": 1},
        "confiscate_income": {"count": 1, "amount": "250.50", "unvalued": 0},
        "confiscate_property": {"count": 2, "amount": "99.50", "unvalued": 1},
        "close_down": {"count": 1, "amount": None},
    }
    text = cli("stats", "--year", "2021").stdout
    assert "罚没 total 1350.00 yuan (2 confiscation(s) without a value not counted)" in text
    assert "confiscate_property 2 (99.50)" in text and "confiscate 1 " in text


@pytest.mark.parametrize("kind", ["warning", "criticize", "suspend_permit", "downgrade", "restrict",
                                  "suspend", "close_down", "revoke", "other"])
def test_an_amount_on_a_kind_that_carries_no_money_is_refused_and_counts_nowhere(cli, two_cases, kind):
    reason = refused(cli("case", "decide", CASE, "--penalty-kind", kind, "--amount", "500"), "RK446")
    assert "carries no amount" in reason
    assert cli.json("case", "show", CASE)["decisions"] == []
    assert cli.json("stats")["decisions"]["total_amount"] == "0.00"


def test_a_fine_and_a_confiscated_income_need_their_amount_and_confiscated_property_may_lack_it(
        cli, two_cases):
    refused(cli("case", "decide", CASE, "--penalty-kind", "fine"), "RK443")
    refused(cli("case", "decide", CASE, "--penalty-kind", "没收违法所得"), "RK443")
    decided = cli.json("case", "decide", CASE, "--penalty-kind", "没收非法财物")
    assert decided["penalty_kind"] == "confiscate_property" and "amount" not in decided
    assert cli.json("case", "show", CASE)["decisions"][0]["amount"] is None


def test_an_older_single_decision_event_still_folds_and_counts(cli, two_cases, store):
    """A ``case.decided`` written before 并处 (the six old kinds, one per party) reads as before."""
    with Archive.open(store, actor="clerk@station1") as archive:
        archive.commit([Draft("case.decided", {"case_no": CASE, "party": "P1", "penalty_kind": "confiscate",
                                               "amount": "1200.00", "at": "2021-09-20T00:00:00.000+08:00"}),
                        Draft("case.decided", {"case_no": SECOND, "party": "P2", "penalty_kind": "fine",
                                               "amount": "300.00", "at": "2021-09-21T00:00:00.000+08:00"})])
    decisions = cli.json("stats", "--year", "2021")["decisions"]
    assert decisions["total_amount"] == "1500.00" and decisions["count"] == 2
    assert decisions["by_kind"]["confiscate"] == {"count": 1, "amount": "1200.00", "unvalued": 0}
    ok(cli("case", "decide", SECOND, "--penalty-kind", "confiscate_income", "--amount", "50",
           "--at", "2021-09-21"))  # 并处 after an older decision
    refused(cli("case", "decide", SECOND, "--penalty-kind", "fine", "--amount", "300"), "RK442")
    assert cli.json("stats")["decisions"]["total_amount"] == "1550.00"


def test_a_live_index_with_several_decisions_per_party_equals_a_rebuilt_one(cli, two_cases, store):
    for kind, amount in (("confiscate_income", "300"), ("fine", "500"), ("suspend_permit", None)):
        ok(cli("case", "decide", CASE, "--penalty-kind", kind, "--at", "2021-09-20",
               *(("--amount", amount) if amount else ())))
    live, shown = dump(store / "index.sqlite"), cli.json("case", "show", CASE)
    ok(cli("rebuild-index"))
    assert dump(store / "index.sqlite") == live
    assert cli.json("case", "show", CASE) == shown


def test_an_index_from_before_several_decisions_migrates_to_the_same_rows(cli, two_cases, store):
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "500", "--at", "2021-09-20"))
    ok(cli("case", "decide", SECOND, "--penalty-kind", "warning", "--at", "2021-09-21"))
    current = dump(store / "index.sqlite")
    conn = sqlite3.connect(store / "index.sqlite")
    with conn:  # the table m003 made: one decision per (case, party)
        conn.executescript("""
            CREATE TABLE old (case_no TEXT NOT NULL, party TEXT NOT NULL, penalty_kind TEXT NOT NULL,
                amount TEXT, at TEXT, seq INTEGER NOT NULL, PRIMARY KEY (case_no, party)) WITHOUT ROWID;
            INSERT INTO old SELECT case_no, party, penalty_kind, amount, at, seq FROM decisions;
            DROP TABLE decisions;
            ALTER TABLE old RENAME TO decisions;
            DELETE FROM _sqlite_migrations WHERE name = 'm011_decisions_by_seq';
        """)
    conn.close()
    assert dump(store / "index.sqlite") != current
    assert [d["penalty_kind"] for d in cli.json("case", "show", CASE)["decisions"]] == ["fine"]
    assert dump(store / "index.sqlite") == current
    ok(cli("case", "decide", CASE, "--penalty-kind", "没收违法所得", "--amount", "1", "--at", "2021-09-20"))
    assert len(cli.json("case", "show", CASE)["decisions"]) == 2


# -- 并处 in check -----------------------------------------------------------------------------
def test_major_penalties_of_one_party_missing_the_same_review_are_one_finding(cli, two_cases):
    fine = cli.json("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000",
                    "--at", "2021-09-24")
    closed = cli.json("case", "decide", CASE, "--penalty-kind", "责令关闭", "--at", "2021-09-24")
    [legal] = findings(cli, "RK502")
    assert [d["seq"] for d in legal["decisions"]] == [fine["seq"], closed["seq"]]
    assert legal["seq"] == fine["seq"]
    assert "fine 20000.00 yuan + close_down" in legal["message"]
    assert len(findings(cli, "RK503")) == 1
    assert len(findings(cli, "RK506")) == 1  # one decision day, one publication overdue


def test_a_decision_reviewed_before_and_one_after_the_review_are_judged_each(cli, two_cases, tmp_path):
    ok(cli("case", "decide", CASE, "--penalty-kind", "revoke", "--at", "2021-09-10"))
    for action in ("法制审核", "集体讨论"):
        review_act(cli, tmp_path, CASE, "2021-09-15", action, "--officer", B)
    ok(cli("case", "decide", CASE, "--penalty-kind", "downgrade", "--at", "2021-09-20"))
    assert {"RK502", "RK503"} <= codes(cli)
    [legal] = findings(cli, "RK502")
    assert [d["penalty_kind"] for d in legal["decisions"]] == ["revoke"] and legal["review"] == "after"


@pytest.mark.parametrize("kind", ["fine", "罚款", "confiscate_income"])
@pytest.mark.parametrize("amount", ["0", "0.00", "０元"])
def test_a_fine_or_a_confiscation_of_income_of_nothing_is_refused(cli, two_cases, kind, amount):
    said = refused(cli("case", "decide", CASE, "--penalty-kind", kind, "--amount", amount), "RK443")
    assert "0 yuan decides nothing" in said
    ok(cli("case", "decide", CASE, "--penalty-kind", "confiscate_property", "--amount", "0"))  # worth nothing
