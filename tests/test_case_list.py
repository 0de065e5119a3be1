"""case list: a case found by its number in any width, or by its title; narrowed by status, year and party."""

from __future__ import annotations

import pytest

CASE, OTHER, LATER = "坡城管罚〔2021〕12号", "坡城管罚〔2021〕13号", "坡城管罚〔2022〕1号"


def ok(result) -> None:
    assert result.exit_code == 0, result.output


@pytest.fixture
def cases(cli, tmp_path):
    ok(cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X"))
    ok(cli("party", "add", "--name", "湛江某某建材有限公司", "--credit-code", "91512081MA62K0260E"))
    ok(cli("case", "open", LATER, "--party", "P1", "--party", "P2", "--title", "违法建设",
           "--at", "2022-01-04"))  # opened first, listed last: by the time it was opened
    ok(cli("case", "open", CASE, "--party", "P1", "--title", "违法建设", "--at", "2021-03-01"))
    ok(cli("case", "open", OTHER, "--party", "P2", "--title", "占道经营", "--at", "2021-05-01"))
    for name in ("询问笔录.pdf", "现场检查笔录.pdf"):
        scan = tmp_path / name
        scan.write_bytes(f"%PDF-1.4 {name}".encode())
        ok(cli("add", str(scan), "--case", CASE, "--stage", "investigate"))
    ok(cli("case", "close", OTHER, "--at", "2021-06-01"))


def listed(cli, *args: str) -> list[str]:
    return [c["case_no"] for c in cli.json("case", "list", *args)["cases"]]


def test_case_list_gives_every_case_as_opened_with_its_parties_and_records(cli, cases):
    found = cli.json("case", "list")["cases"]
    assert [c["case_no"] for c in found] == [CASE, OTHER, LATER]
    first = found[0]
    assert first["title"] == "违法建设" and first["status"] == "open" and first["parties"] == ["P1"]
    assert first["records"] == 2 and first["opened_at"].startswith("2021-03-01")
    assert found[1]["status"] == "closed" and found[1]["closed_at"].startswith("2021-06-01")
    assert found[2]["parties"] == ["P1", "P2"] and found[2]["records"] == 0
    people = cli("case", "list")
    ok(people)
    lines = people.stdout.splitlines()
    assert len(lines) == 4 and CASE in lines[1] and "2021-03-01" in lines[1] and "违法建设" in lines[1]


def test_a_case_is_found_by_its_number_in_any_width_or_brackets_and_by_its_title(cli, cases):
    assert listed(cli, "〔２０２１〕１２") == [CASE]  # full-width digits
    assert listed(cli, "[2021]12") == [CASE]  # other brackets
    assert listed(cli, "2021") == [CASE, OTHER]
    assert listed(cli, "占道") == [OTHER]
    assert listed(cli, "违法建设") == [CASE, LATER]
    assert listed(cli, "拆除") == []


def test_a_title_is_found_by_what_it_says_in_either_width_and_with_any_brackets(cli, cases):
    titled = "违建〔2021〕7号"
    ok(cli("case", "open", titled, "--party", "P1", "--title", "擅自搭建建（构）筑物　ＡＢＣ二期",
           "--at", "2021-07-01"))
    for text in ("（构）", "(构)", "[构]", "筑物 ABC", "ＡＢＣ", "ABC二期"):
        assert listed(cli, text) == [titled], text


def test_case_list_narrows_to_a_status_a_year_and_a_party(cli, cases):
    assert listed(cli, "--status", "closed") == [OTHER]
    assert listed(cli, "--status", "open") == [CASE, LATER]
    assert listed(cli, "--year", "2022") == [LATER]
    assert listed(cli, "--party", "P2") == [OTHER, LATER]
    assert listed(cli, "--party", "湛江某某建材有限公司", "--year", "2021", "--status", "closed") == [OTHER]
    assert listed(cli, "违法建设", "--party", "P1", "--year", "2021") == [CASE]


def test_cases_are_listed_by_when_they_were_opened_whatever_offset_their_times_carry_in_every_view(
        cli, cases):
    first, second = "坡城管罚〔2023〕1号", "坡城管罚〔2023〕2号"
    ok(cli("case", "open", first, "--party", "P1", "--at", "2023-01-01 00:30"))  # +08:00: 16:30 UTC
    toml = cli.store / "recordkeep.toml"  # the store moved to another zone (its history says so)
    moved = toml.read_text(encoding="utf-8").replace("Asia/Shanghai", "Asia/Urumqi")
    toml.write_text(moved, encoding="utf-8")
    ok(cli("case", "open", second, "--party", "P1", "--at", "2022-12-31 23:30"))  # +06:00: 17:30 UTC
    found = cli.json("case", "list", "坡城管罚〔2023〕")["cases"]
    assert [c["opened_at"][-6:] for c in found] == ["+08:00", "+06:00"], found
    assert [c["case_no"] for c in found] == [first, second]
    in_dossier = [c["case"]["case_no"] for c in cli.json("party", "show", "P1")["cases"]]
    checked = [c["case_no"] for c in cli.json("check")["cases"]]
    assert [n for n in in_dossier if "2023" in n] == [n for n in checked if "2023" in n] == [first, second]
    found_by_search = [c["case_no"] for c in cli.json("search", "坡城管罚〔2023〕")["cases"]]
    assert found_by_search == [second, first]  # the latest opened first


def test_a_case_whose_opening_was_voided_is_listed_as_voided(cli, cases):
    seq = cli.json("case", "show", OTHER)["case"]["opened_seq"]
    ok(cli("case", "void", OTHER, str(seq), "--reason", "立案信息录错"))
    assert listed(cli, "--status", "voided") == [OTHER]
    assert OTHER not in listed(cli, "--status", "closed")


def test_a_party_or_year_that_cannot_be_is_a_clear_error(cli, cases):
    unknown = cli("case", "list", "--party", "P9")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("RK"), unknown.output
    outside = cli("case", "list", "--year", "1200")
    assert outside.exit_code == 1 and outside.stderr.startswith("RK"), outside.output
