"""Parties, cases, stages and links: the 一户式 dossier, journaled and rebuilt identically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recordkeep import Archive
from recordkeep.refs import fold_case_no, parse_amount, parse_stage

CASE = "坡城管罚〔2021〕12号"
PERSON = "11010519491231002X"
ORG = "91512081MA62K0260E"


@pytest.fixture
def parties(cli) -> dict[str, str]:
    p1 = cli("party", "add", "--name", "张三", "--id-number", PERSON, "--address", "湛江市坡头区龙头镇1号")
    p2 = cli("party", "add", "--name", "湛江某某建材有限公司", "--credit-code", ORG)
    assert p1.exit_code == 0 and p2.exit_code == 0, p1.output + p2.output
    return {"person": p1.stdout.strip(), "org": p2.stdout.strip()}


@pytest.fixture
def case(cli, parties) -> str:
    result = cli("case", "open", CASE, "--party", "P1", "--party", "P2", "--title", "违法建设",
                 "--officer", "440301123456", "--at", "2021-03-15 08:00")
    assert result.exit_code == 0, result.output
    return CASE


def add_named(cli, tmp_path: Path, name: str, content: bytes, *args: str) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    data = cli.json("add", str(path), *args)
    assert data["files"][0]["status"] in ("stored", "present"), data
    return data["files"][0]["digest"]


def test_party_add_prints_keys_in_order(parties):
    assert parties == {"person": "P1", "org": "P2"}


def test_a_changed_check_digit_is_refused_with_the_check_named(cli):
    result = cli("party", "add", "--name", "王五", "--id-number", "110105194912310021")
    assert result.exit_code == 1
    assert result.stderr.startswith("RK410") and "check digit" in result.stderr


def test_a_credit_code_with_a_letter_from_i_o_s_v_z_is_refused_as_character_set(cli):
    result = cli("party", "add", "--name", "某公司", "--credit-code", "91512081MA62K0260O")
    assert result.exit_code == 1
    assert result.stderr.startswith("RK411") and "character" in result.stderr


def test_the_same_identity_number_cannot_be_registered_twice(cli, parties):
    result = cli("party", "add", "--name", "张三丰", "--id-number", PERSON)
    assert result.exit_code == 1 and "P1" in result.stderr


def test_identity_numbers_are_masked_everywhere_unless_asked(cli, parties, case, store):
    listed = cli("party", "list")
    assert PERSON not in listed.stdout and "110105********002X" in listed.stdout
    assert PERSON not in cli("case", "show", CASE).stdout
    assert PERSON not in cli("party", "show", "P1").stdout
    shown = cli("party", "show", "P1", "--show-pii", actor="auditor@office")
    assert PERSON in shown.stdout
    events = [json.loads(x) for x in (store / "journal" / "events.jsonl").read_text().splitlines()]
    pii = [e for e in events if e["type"] == "party.pii_shown"]
    assert [(e["actor"], e["data"]["party"]) for e in pii] == [("auditor@office", "P1")]


def test_a_party_is_found_by_key_identity_number_or_exact_name(cli, parties):
    for ref in ("P1", "p1", PERSON, "张三"):
        assert cli.json("party", "show", ref)["party"]["key"] == "P1", ref


def test_an_ambiguous_name_is_an_error_listing_the_candidates(cli, parties):
    assert cli("party", "add", "--name", "张三", "--id-number", "440304199001010011").exit_code == 0
    result = cli("party", "show", "张三")
    assert result.exit_code == 1
    assert result.stderr.startswith("RK431") and "P1" in result.stderr and "P3" in result.stderr
    assert PERSON not in result.stderr


def test_party_list_finds_by_part_of_name_number_or_address(cli, parties):
    assert [p["key"] for p in cli.json("party", "list", "坡头")["parties"]] == ["P1"]
    assert [p["key"] for p in cli.json("party", "list", "建材")["parties"]] == ["P2"]
    assert [p["key"] for p in cli.json("party", "list", "MA62K")["parties"]] == ["P2"]
    assert cli.json("party", "list", "不存在")["parties"] == []


def test_stage_names_work_in_both_languages():
    for slug, zh in (("start", "启动"), ("investigate", "调查取证"), ("decide", "审核决定"),
                     ("serve", "送达执行")):
        assert parse_stage(slug) == parse_stage(zh) == slug


def test_a_stage_that_does_not_parse_is_a_usage_error(cli, case):
    assert cli("case", "stage", CASE, "处罚", "--at", "2021-03-16").exit_code == 2
    assert cli("case", "stage", CASE, "start", "--at", "2021-02-30").exit_code == 2


def test_case_numbers_are_unique_and_found_with_half_width_brackets(cli, case):
    assert cli("case", "open", "坡城管罚[2021]12号", "--party", "P1", "--at", "2021-03-01").exit_code == 1
    forms = ("坡城管罚[2021]12号", "坡城管罚(2021)12号", "坡城管罚（2021）12号", "坡城管罚〔2021〕１２号")
    for form in forms:
        assert cli.json("case", "show", form)["case"]["case_no"] == CASE, form
    assert fold_case_no("坡城管罚〔2021〕12号") == fold_case_no("坡城管罚 [2021] 12号")


def test_an_unknown_case_is_refused_with_rk440(cli, parties):
    result = cli("case", "stage", "坡城管罚〔2099〕1号", "start")
    assert result.exit_code == 1 and result.stderr.startswith("RK440")


def test_amounts_stay_exact_through_journal_index_and_json(cli, case, store):
    result = cli("case", "decide", CASE, "--party", "P2", "--penalty-kind", "罚款",
                 "--amount", "2625135.05", "--at", "2021-04-01")
    assert result.exit_code == 0, result.output
    cli("case", "decide", CASE, "--party", "P1", "--penalty-kind", "warning", "--at", "2021-04-01")
    line = next(x for x in (store / "journal" / "events.jsonl").read_text().splitlines()
                if '"case.decided"' in x and "P2" in x)
    assert '"amount":"2625135.05"' in line
    view = cli.json("case", "show", CASE)
    assert {d["party"]: d["amount"] for d in view["decisions"]} == {"P2": "2625135.05", "P1": None}
    with Archive.open(store) as archive:
        assert archive.index.conn.execute("SELECT amount FROM decisions WHERE party='P2'").fetchone()[0] == \
            "2625135.05"
    assert parse_amount("150000") == "150000.00"


def test_a_case_with_several_parties_needs_party_for_a_decision(cli, case):
    result = cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "100")
    assert result.exit_code == 1 and result.stderr.startswith("RK444")


def test_one_decision_of_each_kind_per_party(cli, case):
    assert cli("case", "decide", CASE, "--party", "P1", "--penalty-kind", "警告").exit_code == 0
    assert cli("case", "decide", CASE, "--party", "P1", "--penalty-kind", "警告").exit_code == 1
    fined = cli("case", "decide", CASE, "--party", "P1", "--penalty-kind", "罚款", "--amount", "50")
    assert fined.exit_code == 0  # 警告 并处 罚款


def test_amounts_with_more_than_two_decimals_or_negative_are_refused(cli, case):
    for bad in ("1.005", "-5", "abc"):
        result = cli("case", "decide", CASE, "--party", "P1", "--penalty-kind", "fine", "--amount", bad)
        assert result.exit_code == 1 and result.stderr.startswith("RK443"), bad


def test_scans_go_in_with_one_command_linked_to_case_stage_and_party(cli, case, tmp_path):
    digest = add_named(cli, tmp_path, "询问笔录.pdf", b"%PDF-1.4 interview", "--case", "坡城管罚[2021]12号",
                       "--stage", "调查取证", "--party", "P1", "--doc-type", "询问笔录")
    view = cli.json("case", "show", CASE)
    investigate = next(s for s in view["stages"] if s["stage"] == "investigate")
    records = [i for i in investigate["items"] if i["type"] == "record"]
    assert [(r["digest"], r["doc_type"], r["party"], r["linked_by"]) for r in records] == [
        (digest, "询问笔录", "P1", "clerk@station1")]


def test_link_and_unlink_are_journaled_and_unlink_keeps_the_record(cli, case, tmp_path, store):
    digest = add_named(cli, tmp_path, "clip.mp4", b"not really a clip")
    assert cli("case", "link", CASE, digest[:10], "--stage", "start").exit_code == 0
    assert cli("case", "link", CASE, digest, "--stage", "serve").exit_code == 0
    assert cli("case", "unlink", CASE, digest, "--stage", "start").exit_code == 0
    stages = {s["stage"]: [i["digest"] for i in s["items"] if i["type"] == "record"]
              for s in cli.json("case", "show", CASE)["stages"]}
    assert stages["start"] == [] and stages["serve"] == [digest]
    assert cli("case", "unlink", CASE, digest, "--stage", "start").exit_code == 1
    types = [json.loads(x)["type"] for x in (store / "journal" / "events.jsonl").read_text().splitlines()]
    assert types.count("record.linked") == 2 and types.count("record.unlinked") == 1
    assert cli.json("verify", "--fast")["checked"] == 1


def test_a_record_may_belong_to_several_cases(cli, case, tmp_path):
    cli("case", "open", "坡城管罚〔2021〕13号", "--party", "P2", "--at", "2021-03-01")
    digest = add_named(cli, tmp_path, "both.jpg", b"shared evidence")
    cli("case", "link", CASE, digest, "--stage", "investigate")
    cli("case", "link", "坡城管罚〔2021〕13号", digest, "--stage", "investigate")
    for number in (CASE, "坡城管罚〔2021〕13号"):
        items = next(s for s in cli.json("case", "show", number)["stages"] if s["stage"] == "investigate")
        assert [i["digest"] for i in items["items"] if i["type"] == "record"] == [digest]


def test_window_linking_follows_an_officer_across_a_device_reassignment(cli, store, case, tmp_path):
    toml = store / "recordkeep.toml"
    toml.write_text(toml.read_text() + '\n[[naming.patterns]]\nname = "cam"\n'
                    "regex = '^(?P<device>CAM\\d+)-(?P<start>\\d{14})\\.\\w+$'\n")
    a, b = "440301000001", "440301000002"
    cli("device", "add", "CAM1", "--officer", a, "--from", "2021-03-15 00:00")
    cli("device", "add", "CAM1", "--officer", b, "--from", "2021-03-15 12:00")
    cli("device", "add", "CAM2", "--officer", a, "--from", "2021-03-15 12:00")
    card = tmp_path / "card"
    card.mkdir()
    names = {"CAM1-20210315090000.mp4": a, "CAM1-20210315140000.mp4": b,
             "CAM2-20210315150000.mp4": a, "CAM2-20210316090000.mp4": a}
    for i, name in enumerate(names):
        (card / name).write_bytes(f"clip {i}".encode())
    files = {f["path"]: f["digest"] for f in cli.json("import", str(card))["files"]}
    result = cli.json("case", "link", CASE, "--officer", a, "--from", "2021-03-15 08:00",
                      "--to", "2021-03-15 18:00", "--stage", "investigate", "--party", "P1")
    assert sorted(result["linked"]) == sorted([files["CAM1-20210315090000.mp4"],
                                               files["CAM2-20210315150000.mp4"]])
    whole_day = cli.json("case", "link", CASE, "--officer", a, "--from", "2021-03-16",
                         "--to", "2021-03-16", "--stage", "investigate")
    assert whole_day["linked"] == [files["CAM2-20210316090000.mp4"]]


def test_stage_events_carry_span_officers_on_site_action_and_note(cli, case):
    result = cli("case", "stage", CASE, "investigate", "--at", "2021-03-15 09:00", "--until",
                 "2021-03-15 11:30", "--officer", "440301123456", "--officer", "440301654321",
                 "--on-site", "--action", "查封扣押", "--note", "扣押工具一批")
    assert result.exit_code == 0, result.output
    stages = cli.json("case", "show", CASE)["stages"]
    item = next(s for s in stages if s["stage"] == "investigate")["items"][0]
    assert item == {"type": "stage_event", "seq": item["seq"], "at": "2021-03-15T09:00:00.000+08:00",
                    "until": "2021-03-15T11:30:00.000+08:00",
                    "officers": ["440301123456", "440301654321"], "on_site": True, "action": "查封扣押",
                    "note": "扣押工具一批", "entered_by": "clerk@station1", "entered_at": item["entered_at"],
                    "entered_late": True, "transcribed_from": None}  # typed years after it happened


def test_party_show_is_the_one_household_dossier(cli, case, tmp_path):
    in_case = add_named(cli, tmp_path, "a.pdf", b"%PDF-1.4 a", "--case", CASE, "--stage", "start")
    loose = add_named(cli, tmp_path, "b.jpg", b"loose photo", "--party", "P1")
    view = cli.json("party", "show", "P1")
    assert view["party"]["id_number"] == "110105********002X"
    assert [c["case"]["case_no"] for c in view["cases"]] == [CASE]
    start = next(s for s in view["cases"][0]["stages"] if s["stage"] == "start")
    assert [i["digest"] for i in start["items"] if i["type"] == "record"] == [in_case]
    assert [r["digest"] for r in view["records_outside_cases"]] == [loose]
    text = cli("party", "show", "P1").stdout
    assert CASE in text and "启动" in text


def test_case_show_is_identical_after_rebuild_index(cli, case, tmp_path):
    add_named(cli, tmp_path, "x.pdf", b"%PDF-1.4 x", "--case", CASE, "--stage", "start",
              "--doc-type", "立案审批表")
    cli("case", "stage", CASE, "decide", "--at", "2021-03-20", "--action", "法制审核")
    cli("case", "decide", CASE, "--party", "P2", "--penalty-kind", "fine", "--amount", "150000")
    cli("case", "publish", CASE, "--at", "2021-03-25")
    cli("case", "close", CASE, "--at", "2021-04-30")
    before_json, before_text = cli.json("case", "show", CASE), cli("case", "show", CASE).stdout
    assert cli("rebuild-index").exit_code == 0
    assert cli.json("case", "show", CASE) == before_json
    assert cli("case", "show", CASE).stdout == before_text
    assert before_json["case"]["status"] == "closed"
