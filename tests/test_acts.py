"""Acts by their names: a clerk types 告知 or 法制审核 where a stage goes, and the act is
recorded in its stage (docs/rules.md lists them; ``[acts]`` in recordkeep.toml adds more)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from recordkeep.refs import ACTS, STAGES, parse_stage_act

from .conftest import REPO

CASE = "坡城管罚〔2021〕12号"
PERSON = "11010519491231002X"
ORG = "91512081MA62K0260E"


def ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def case(cli) -> str:
    ok(cli("party", "add", "--name", "张三", "--id-number", PERSON))
    ok(cli("party", "add", "--name", "湛江某某建材有限公司", "--credit-code", ORG))
    ok(cli("case", "open", CASE, "--party", "P1", "--party", "P2", "--title", "违法建设",
           "--officer", "440301123456", "--at", "2021-03-15 08:00"))
    return CASE


def stage_of(view: dict, slug: str) -> dict:
    return next(s for s in view["stages"] if s["stage"] == slug)


def journaled(store: Path, seq: int) -> dict:
    lines = (store / "journal" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[seq - 1])


def set_acts(store: Path, text: str) -> None:
    with open(store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write("\n[acts]\n" + text + "\n")


def test_the_acts_are_those_of_the_issue_each_in_its_stage():
    by_stage = {"start": ["立案"], "investigate": ["现场检查", "询问", "查封", "扣押", "抽样取证"],
                "decide": ["告知", "听证", "法制审核", "集体讨论", "决定"],
                "serve": ["送达", "公示", "执行", "强制拆除", "结案"]}
    assert {act: stage for stage, acts in by_stage.items() for act in acts} == ACTS


def test_docs_rules_md_lists_every_act_under_its_stage():
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    for slug, zh in STAGES.items():
        row = re.search(rf"^\| `{slug}` {zh} \| (.+) \|$", text, flags=re.M)
        assert row, f"docs/rules.md has no row for {slug} {zh}"
        assert set(row.group(1).split("、")) == {a for a, s in ACTS.items() if s == slug}


def test_a_stage_by_its_slug_or_name_names_no_act_and_an_act_names_its_stage_and_itself():
    assert parse_stage_act("decide") == parse_stage_act(" 审核决定 ") == ("decide", None)
    assert parse_stage_act("告知") == ("decide", "告知")
    assert parse_stage_act("立案") == ("start", "立案")


def test_case_stage_with_an_act_records_its_stage_with_the_act_and_case_show_lists_it_there(cli, case, store):
    result = ok(cli("case", "stage", CASE, "告知", "--at", "2021-03-20 10:00"))
    assert "stage decide (告知) recorded" in result.output
    seq = cli.json("case", "stage", CASE, "送达", "--at", "2021-03-28 10:00")["seq"]
    assert journaled(store, seq)["data"]["stage"] == "serve"
    assert journaled(store, seq)["data"]["action"] == "送达"
    view = cli.json("case", "show", CASE)
    decide = stage_of(view, "decide")
    assert decide["acts"] == ["告知"]
    assert [(i["type"], i["action"]) for i in decide["items"]] == [("stage_event", "告知")]
    assert stage_of(view, "serve")["acts"] == ["送达"]
    assert stage_of(view, "investigate")["acts"] == []
    shown = ok(cli("case", "show", CASE)).output
    assert "[审核决定 decide]  acts: 告知" in shown and "[送达执行 serve]  acts: 送达" in shown


def test_an_act_given_as_a_stage_and_an_action_lists_once_in_time_order_with_events_of_old(cli, case):
    ok(cli("case", "stage", CASE, "decide", "--at", "2021-03-25 10:00", "--action", "法制审核"))  # as of old
    ok(cli("case", "stage", CASE, "告知", "--at", "2021-03-20 10:00", "--action", "告知"))  # the same act
    ok(cli("case", "stage", CASE, "听证", "--at", "2021-03-22 10:00"))
    ok(cli("case", "stage", CASE, "法制审核", "--at", "2021-03-26 10:00"))
    assert stage_of(cli.json("case", "show", CASE), "decide")["acts"] == ["告知", "听证", "法制审核"]


def test_an_act_with_an_action_that_names_another_is_refused_and_nothing_is_journaled(cli, case, store):
    before = (store / "journal" / "events.jsonl").read_bytes()
    result = cli("case", "stage", CASE, "告知", "--action", "送达")
    assert result.exit_code == 1 and "RK404" in result.stderr and "告知" in result.stderr
    assert (store / "journal" / "events.jsonl").read_bytes() == before


def test_acts_typed_by_name_are_review_before_a_major_decision(cli, case):
    from datetime import datetime, timedelta

    now = datetime.now()  # entered as they happen (an act typed days later is a claim: test_evidence)
    at = [(now - timedelta(hours=h)).strftime("%Y-%m-%d %H:%M") for h in (2, 1)]
    ok(cli("case", "stage", CASE, "法制审核", "--at", at[0]))
    ok(cli("case", "stage", CASE, "集体讨论", "--at", at[1]))
    ok(cli("case", "decide", CASE, "--party", "P1", "--penalty-kind", "fine", "--amount", "20000",
           "--at", now.strftime("%Y-%m-%d %H:%M")))
    found = {f["code"] for c in cli.json("check", "--case", CASE)["cases"] for f in c["findings"]}
    assert not {"RK502", "RK503"} & found


def test_an_act_name_where_links_add_and_search_take_a_stage_means_its_stage(cli, case, tmp_path):
    scan = tmp_path / "询问笔录.txt"
    scan.write_text("询问笔录 2021-03-16")
    added = cli.json("add", str(scan), "--case", CASE, "--stage", "询问", "--doc-type", "询问笔录")
    digest = added["files"][0]["digest"]
    notice = tmp_path / "告知书.txt"
    notice.write_text("行政处罚告知书")
    other = cli.json("add", str(notice))["files"][0]["digest"]
    ok(cli("case", "link", CASE, other, "--stage", "告知"))
    view = cli.json("case", "show", CASE)
    assert [i["digest"] for i in stage_of(view, "investigate")["items"]] == [digest]
    assert [i["digest"] for i in stage_of(view, "decide")["items"]] == [other]
    found = cli.json("search", "--case", CASE, "--stage", "现场检查")["records"]
    assert [r["digest"] for r in found] == [digest]
    ok(cli("case", "unlink", CASE, other, "--stage", "法制审核"))
    assert stage_of(cli.json("case", "show", CASE), "decide")["items"] == []


def test_a_word_that_is_neither_stage_nor_act_is_still_a_usage_error(cli, case):
    result = cli("case", "stage", CASE, "处罚", "--at", "2021-03-16")
    assert result.exit_code == 2 and "RK406" in result.stderr and "act" in result.stderr


def test_an_act_added_in_recordkeep_toml_is_accepted_at_its_stage(cli, case, store):
    assert cli("case", "stage", CASE, "责令改正", "--at", "2021-03-16").exit_code == 2
    set_acts(store, '"责令改正" = "investigate"\n"陈述申辩" = "审核决定"\n"告知" = "decide"')
    ok(cli("case", "stage", CASE, "责令改正", "--at", "2021-03-16"))
    ok(cli("case", "stage", CASE, "陈述申辩", "--at", "2021-03-21"))
    view = cli.json("case", "show", CASE)
    assert stage_of(view, "investigate")["acts"] == ["责令改正"]
    assert stage_of(view, "decide")["acts"] == ["陈述申辩"]
    scan = store.parent / "整改通知书.txt"
    scan.write_text("责令改正通知书")
    digest = cli.json("add", str(scan), "--case", CASE, "--stage", "责令改正")["files"][0]["digest"]
    assert [i["digest"] for i in stage_of(cli.json("case", "show", CASE), "investigate")["items"]
            if i["type"] == "record"] == [digest]


@pytest.mark.parametrize("table, said", [
    ('"处罚" = "judge"', "'judge' is not a stage"),           # no such stage
    ('"处罚" = 3', "3 is not a stage"),
    ('"审核决定" = "decide"', "may not bear a stage's name"),   # an act may not shadow a stage
    ('serve = "serve"', "may not bear a stage's name"),
    ('"告知" = "serve"', "an act of decide (审核决定) already"),  # the listed acts do not move
    ('"" = "serve"', "must not be empty"),
])
def test_a_bad_acts_table_is_a_config_error_naming_the_entry(cli, case, store, table, said):
    set_acts(store, table)
    result = cli("case", "show", CASE)
    assert result.exit_code == 1 and "RK104" in result.stderr and said in result.stderr, result.stderr
    assert "recordkeep.toml" in result.stderr


def test_acts_that_is_not_a_table_is_a_config_error(cli, case, store):
    settings = store / "recordkeep.toml"
    settings.write_text('acts = "告知"\n' + settings.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("case", "show", CASE)
    assert result.exit_code == 1 and "RK104" in result.stderr and "[acts] must be a table" in result.stderr


def _days_from_today(days: int) -> str:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    return (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize("args", [
    ("case", "open", "坡城管罚〔2021〕13号", "--party", "P1", "--at", "{ahead}"),
    ("case", "stage", CASE, "decide", "--action", "法制审核", "--at", "{ahead}"),
    ("case", "stage", CASE, "investigate", "--at", "{today} 00:00", "--until", "{ahead}"),
    ("case", "decide", CASE, "--party", "P1", "--penalty-kind", "warning", "--at", "{ahead}"),
    ("case", "publish", CASE, "--at", "{ahead}"),
    ("case", "close", CASE, "--at", "{ahead}"),
], ids=["open", "stage", "until", "decide", "publish", "close"])
def test_an_act_dated_after_today_is_refused_and_nothing_is_written(cli, case, args):
    """A decision typed for next month would make reviews entered today look timely: what is
    entered must have happened (a bare date of today, and today's end for --until, stand)."""
    today, ahead = _days_from_today(0), _days_from_today(1)
    before = (cli.store / "journal" / "events.jsonl").read_bytes()
    result = cli(*(a.format(today=today, ahead=ahead) for a in args))
    assert result.exit_code == 1 and result.stderr.startswith("RK4"), result.output
    assert f"after today ({today})" in result.stderr
    assert (cli.store / "journal" / "events.jsonl").read_bytes() == before
    ok(cli(*(a.format(today=today, ahead=today) for a in args)))


def test_a_recorded_time_typed_for_tomorrow_is_refused(cli, case, tmp_path):
    scan = tmp_path / "scan.txt"
    scan.write_bytes(b"a paper record")
    digest = cli.json("add", str(scan))["files"][0]["digest"]
    result = cli("record", "set", digest, "--recorded-at", _days_from_today(1), "--reason", "typed")
    assert result.exit_code == 1 and "after today" in result.stderr, result.output
