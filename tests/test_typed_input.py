"""Input as people write it: dates as 2021/6/3 or 2021年6月3日 9:00, amounts with 元, an
officer by a registered name; amounts in 万 or 大写 refused with the plain form shown."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from recordkeep import errors
from recordkeep.refs import parse_amount, parse_time

from .conftest import run_recordkeep
from .test_check import CASE, A, B, add_parties, ok, open_case

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("typed", ["2021-06-03 09:00", "2021-06-03 9:00", "2021/6/3 9:00",
                                   "2021年6月3日 9:00", "2021年6月3日9:00", "2021年6月3日 9时00分",
                                   "2021-06-03T09:00:00+08:00"])
def test_a_time_written_as_people_write_it_is_the_same_instant(typed):
    assert parse_time(typed, ZONE) == "2021-06-03T09:00:00.000+08:00"


@pytest.mark.parametrize("typed", ["2021-06-03", "2021/6/3", "2021年6月3日", "2021.6.3"])
def test_a_date_written_as_people_write_it_is_a_bare_date_and_an_end_includes_its_day(typed):
    assert parse_time(typed, ZONE) == "2021-06-03T00:00:00.000+08:00"
    assert parse_time(typed, ZONE, end_of_day=True) == "2021-06-04T00:00:00.000+08:00"


@pytest.mark.parametrize("typed", ["2021年13月3日", "2021/6/31", "6月3日", "2021年6月3日 25:00"])
def test_a_date_that_is_not_a_real_one_is_still_refused(typed):
    with pytest.raises(errors.BadTime):
        parse_time(typed, ZONE)


def test_an_amount_with_a_trailing_yuan_is_read():
    assert parse_amount("2625135.05元") == "2625135.05"
    assert parse_amount("５００元") == "500.00"


@pytest.mark.parametrize(("typed", "plain"), [("1.5万", "15000.00"), ("壹万元", "10000.00"),
                                              ("壹万贰仟叁佰元整", "12300.00"), ("叁拾元", "30.00")])
def test_an_amount_in_wan_or_in_capitals_is_refused_with_its_plain_form(cli, typed, plain):
    add_parties(cli)
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-01"))
    before = (cli.store / "journal" / "events.jsonl").read_bytes()
    refused = cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", typed, "--at", "2021-04-01")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK443"), refused.output
    assert f"--amount {plain}" in refused.stderr
    assert (cli.store / "journal" / "events.jsonl").read_bytes() == before


def test_a_clerk_types_dates_in_chinese_and_an_officer_by_name(cli, tmp_path):
    add_parties(cli)  # registers A as 李四 and B as 王五
    open_case(cli, tmp_path)
    ok(cli("case", "stage", CASE, "调查取证", "--at", "2021年9月10日 9:00", "--until", "2021年9月10日 9:30",
           "--officer", "李四", "--officer", "王五", "--on-site"))
    ok(cli("case", "decide", CASE, "--penalty-kind", "罚款", "--amount", "500元", "--at", "2021/9/20"))
    view = cli.json("case", "show", CASE)
    [stage] = [i for s in view["stages"] if s["stage"] == "investigate" for i in s["items"]
               if i["type"] == "stage_event"]
    assert stage["at"] == "2021-09-10T09:00:00.000+08:00" and stage["officers"] == [A, B]
    assert view["decisions"][0]["amount"] == "500.00"
    assert view["decisions"][0]["at"] == "2021-09-20T00:00:00.000+08:00"


def test_an_officer_name_two_share_or_none_has_is_refused(cli, tmp_path):
    add_parties(cli)
    ok(cli("officer", "add", B, "--name", "李四"))  # A is 李四 too
    open_case(cli, tmp_path)
    shared = cli("case", "stage", CASE, "start", "--officer", "李四")
    assert shared.exit_code == 1 and shared.stderr.startswith("RK420")
    assert A in shared.stderr and B in shared.stderr
    unknown = cli("search", "--officer", "赵六")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("RK420")
    assert cli("officer", "add", "李四", "--name", "李四").exit_code == 1  # officer add takes the number


def test_an_officer_named_with_bytes_that_are_not_utf8_is_refused_as_text_not_a_traceback(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    journal = (cli.store / "journal" / "events.jsonl").read_bytes()
    done = run_recordkeep("case", "link", CASE, "--officer", b"\xd5\xd4\xc1\xf9",  # 赵六 in GBK
                          "--from", "2021-09-10", "--to", "2021-09-10", "--stage", "start", store=cli.store,
                          text=False, env={"RECORDKEEP_ACTOR": "clerk@station1", "LC_ALL": "C.UTF-8"})
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert done.stderr.startswith(b"RK413") and b"UTF-8" in done.stderr
    assert (cli.store / "journal" / "events.jsonl").read_bytes() == journal
