"""Mistakes corrected by events, never by edits: a voided event stays in the journal, struck
through, and stops counting; an amended record moves in search and links; a closed case
takes no stage until it is reopened."""

from __future__ import annotations

import json

from .test_check import CASE, A, B, add_parties, findings, on_site, open_case, record


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_voiding_a_stage_typed_wrong_and_entering_it_again_clears_rk501(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    wrong = cli.json("case", "stage", CASE, "investigate", "--at", "2012-06-28 09:00", "--on-site",
                     "--officer", A)["seq"]
    [finding] = findings(cli, "RK501")
    assert f"case void {CASE} {wrong}" in finding["fix"]
    ok(cli("case", "void", CASE, str(wrong), "--reason", "日期与人员录入错误"))
    on_site(cli, tmp_path, CASE, "2021-09-10 09:00")  # typed again from its site record
    assert findings(cli, "RK501") == []
    view = cli.json("case", "show", CASE)
    items = [i for s in view["stages"] for i in s["items"] if i["type"] == "stage_event"]
    voided = [i for i in items if i.get("voided")]
    assert [i["seq"] for i in voided] == [wrong]
    assert voided[0]["voided"]["reason"] == "日期与人员录入错误"
    assert voided[0]["voided"]["by"] == "clerk@station1"
    shown = cli("case", "show", CASE).output
    assert "VOIDED" in shown and "\u0336" in shown  # struck through, with why
    log = cli.json("log", "--case", CASE)["events"]
    assert next(e for e in log if e["seq"] == wrong)["voided"]["reason"] == "日期与人员录入错误"
    report = cli("log", "--case", CASE, "--report").output
    assert "VOIDED at seq" in report
    events = (cli.store / "journal" / "events.jsonl").read_text(encoding="utf-8")
    assert "2012-06-28" in events  # the journal keeps the mistake: corrections are events


def test_a_voided_decision_needs_the_records_role_and_frees_the_party_for_a_new_decision(cli, tmp_path,
                                                                                          monkeypatch):
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "500", "--at", "2021-09-24"))
    seq = cli.json("log", "--case", CASE)["events"][-1]["seq"]
    from recordkeep.trust import keys

    key = keys.new_key(tmp_path / "clerk.key")
    ok(cli("key", "enrol", key.public_b64, "--actor", "a-clerk@station2", "--role", "clerk",
           actor="tester@test"))
    monkeypatch.setenv("RECORDKEEP_KEY", str(tmp_path / "clerk.key"))
    refused = cli("case", "void", CASE, str(seq), "--reason", "x", actor="a-clerk@station2")
    assert refused.exit_code == 1 and "RK118" in refused.output and "records" in refused.output
    monkeypatch.delenv("RECORDKEEP_KEY")
    ok(cli("case", "void", CASE, str(seq), "--reason", "罚款金额录入错误", actor="archivist@office"))
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "5000", "--at", "2021-09-24"))
    decisions = [d for d in cli.json("case", "show", CASE)["decisions"]]
    assert [d["amount"] for d in decisions] == ["5000.00"]
    again = cli("case", "void", CASE, str(seq), "--reason", "x", actor="archivist@office")
    assert again.exit_code == 1 and "RK473" in again.output


def void_by_hand(store, key_path, seq: int, voided_type: str) -> None:
    """A records officer's key journals a void past the CLI's role check, as earlier releases let it."""
    import os

    from recordkeep import Archive
    from recordkeep.store.journal import Draft

    os.environ["RECORDKEEP_KEY"] = str(key_path)
    try:
        with Archive.open(store, actor="archivist@station2") as archive:
            signer = archive.signer()
            archive.journal.append([Draft("case.voided", {"case_no": CASE, "voided_seq": seq,
                                                          "voided_type": voided_type, "reason": "x"})],
                                   actor=signer.actor, at=archive.now(),
                                   expect_head=archive.journal.head().hash, seal=signer.seal)
    finally:
        del os.environ["RECORDKEEP_KEY"]


def test_a_records_officer_voids_decisions_only_and_a_clerk_everything_else(cli, tmp_path, monkeypatch):
    """design.md's roles: records voids a decision, clerk any other event of a case."""
    add_parties(cli)
    open_case(cli, tmp_path)
    stage = cli.json("case", "stage", CASE, "investigate", "--at", "2021-09-10 09:00", "--officer", A)["seq"]
    from recordkeep.trust import keys

    key = keys.new_key(tmp_path / "records.key")
    ok(cli("key", "enrol", key.public_b64, "--actor", "archivist@station2", "--role", "records",
           actor="tester@test"))
    monkeypatch.setenv("RECORDKEEP_KEY", str(tmp_path / "records.key"))
    refused = cli("case", "void", CASE, str(stage), "--reason", "x", actor="archivist@station2")
    assert refused.exit_code == 1 and "RK118" in refused.output and "clerk" in refused.output, refused.output
    void_by_hand(cli.store, tmp_path / "records.key", stage, "case.stage")  # as earlier releases let it
    report = cli.json("log", "verify")
    assert report["ok"] and [f["code"] for f in report["findings"] if f["notice"]].count("RK243") == 1
    assert cli("log", "verify", "--strict").exit_code == 3
    opened = cli.json("case", "show", CASE)["case"]["opened_seq"]
    void_by_hand(cli.store, tmp_path / "records.key", opened, "case.opened")  # what protects records
    assert cli("log", "verify").exit_code == 3


def test_voiding_a_link_unlinks_it_but_not_under_a_hold(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    digest = record(cli, tmp_path, "--case", CASE, "--stage", "investigate", "--doc-type", "询问笔录",
                    name="询问笔录.pdf")
    log = cli.json("log", "--record", digest)["events"]
    seq = next(e["seq"] for e in log if e["type"] == "record.linked")
    ok(cli("hold", "--case", CASE, "--reason", "行政复议", actor="archivist@office"))
    held = cli("case", "void", CASE, str(seq), "--reason", "链接错误")
    assert held.exit_code == 1 and "RK528" in held.output
    ok(cli("release", "--case", CASE, actor="archivist@office"))
    ok(cli("case", "void", CASE, str(seq), "--reason", "链接错误"))
    assert digest not in [r["digest"] for r in cli.json("search", "--case", CASE)["records"]]
    view = cli.json("case", "show", CASE)
    struck = [i for s in view["stages"] for i in s["items"] if i["type"] == "record" and i.get("voided")]
    assert [i["digest"] for i in struck] == [digest]


def test_a_links_void_and_its_unlink_are_pinned_by_the_same_holds(cli, tmp_path):
    """The case's hold and its parties' pin its links, for case void as for case unlink; a hold
    on the record itself, or on a party of another case, pins neither (it covers the record
    through them all the same)."""
    add_parties(cli)
    open_case(cli, tmp_path)
    open_case(cli, tmp_path, case="坡城管罚〔2021〕99号", party="P2")
    digest = record(cli, tmp_path, "--case", CASE, "--stage", "investigate", name="询问笔录.pdf")
    ok(cli("case", "link", "坡城管罚〔2021〕99号", digest, "--stage", "investigate"))
    log = cli.json("log", "--record", digest)["events"]
    seq = next(e["seq"] for e in log if e["type"] == "record.linked")
    ok(cli("hold", "--party", "P1", "--reason", "行政复议", actor="archivist@office"))
    for args in (("void", CASE, str(seq), "--reason", "链接错误"), ("unlink", CASE, digest)):
        pinned = cli("case", *args)
        assert pinned.exit_code == 1 and "RK528" in pinned.output and "P1" in pinned.output, args
    ok(cli("release", "--party", "P1", actor="archivist@office"))
    ok(cli("hold", "--party", "P2", "--reason", "诉讼", actor="archivist@office"))
    ok(cli("hold", digest, "--reason", "诉讼", actor="archivist@office"))
    ok(cli("case", "void", CASE, str(seq), "--reason", "链接错误"))
    assert digest not in [r["digest"] for r in cli.json("search", "--case", CASE)["records"]]


def test_a_record_filed_under_the_wrong_party_alone_is_unlinked_and_disposable_again(cli, tmp_path):
    """add --party P2 where P1 was meant: party unlink takes the link back (journaled, pinned by
    P2's hold like any link of P2's), the live index, a rebuilt one and dispose's replay agree."""
    add_parties(cli)
    clip = tmp_path / "DSJ001_440301123456_20210315083000_0001.bin"  # recorded 2021: long due
    clip.write_bytes(b"footage" * 100)
    digest = cli.json("add", str(clip), "--party", "P2")["files"][0]["digest"]

    def loose(party: str) -> list[str]:
        return [r["digest"] for r in cli.json("party", "show", party)["records_outside_cases"]]

    assert loose("P2") == [digest]
    not_p1 = cli("party", "unlink", "P1", digest)
    assert not_p1.exit_code == 1 and not_p1.stderr.startswith("RK445"), not_p1.output
    ok(cli("hold", "--party", "P2", "--reason", "诉讼", actor="archivist@office"))
    held = cli("party", "unlink", "P2", digest)
    assert held.exit_code == 1 and "RK528" in held.output, held.output
    ok(cli("release", "--party", "P2", actor="archivist@office"))
    ok(cli("party", "unlink", "P2", digest))
    assert loose("P2") == []
    assert "unlinked from party P2" in cli("log", "--party", "P2", "--report").output
    ok(cli("rebuild-index"))
    assert loose("P2") == []
    ok(cli("dispose", digest, "--reason", "保存期满", actor="archivist@office"))


def test_voiding_the_opening_voids_the_case(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    opened = cli.json("case", "show", CASE)["case"]["opened_seq"]
    ok(cli("case", "void", CASE, str(opened), "--reason", "重复立案"))
    case = cli.json("case", "show", CASE)["case"]
    assert case["status"] == "voided" and case["voided"]["reason"] == "重复立案"
    for args in (("stage", CASE, "investigate"), ("close", CASE, "--at", "2021-10-20")):
        refused = cli("case", *args)
        assert refused.exit_code == 1 and "RK471" in refused.output, args
    scan = tmp_path / "late.txt"
    scan.write_bytes(b"a scan for the voided case")
    digest = cli.json("add", str(scan))["files"][0]["digest"]
    linked = cli("case", "link", CASE, digest, "--stage", "investigate")
    assert linked.exit_code == 1 and "RK471" in linked.output, linked.output
    other = tmp_path / "other.txt"
    other.write_bytes(b"another scan")
    added = cli("add", str(other), "--case", CASE, "--stage", "investigate")
    assert added.exit_code == 1 and "RK471" in added.output, added.output
    assert cli.json("verify")["notices"] == []  # refused before a byte was stored: no blob left behind
    assert digest not in [r["digest"] for r in cli.json("search", "--case", CASE)["records"]]


def test_an_opening_entered_wrong_is_voided_and_entered_again_under_the_same_number(cli, tmp_path):
    """The case number is the bureau's: an opening with the wrong party or a mistyped officer is
    voided and entered again, as rules.md says; the case's stages and links stand, and a rebuilt
    index agrees."""
    add_parties(cli)
    ok(cli("case", "open", CASE, "--party", "P1", "--officer", "440301999999", "--at", "2021-09-01"))
    digest = record(cli, tmp_path, "--case", CASE, "--stage", "start", "--doc-type", "立案审批表")
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-09-02 09:00", "--officer", A))
    assert findings(cli, "RK534")
    opened = cli.json("case", "show", CASE)["case"]["opened_seq"]
    ok(cli("case", "void", CASE, str(opened), "--reason", "当事人及执法人员录入错误"))
    ok(cli("case", "open", CASE.replace("〔", "[").replace("〕", "]"), "--party", "P2", "--officer", A,
           "--officer", B, "--at", "2021-09-01"))
    view = cli.json("case", "show", CASE)
    assert view["case"]["status"] == "open" and view["case"]["opened_seq"] > opened
    assert [p["key"] for p in view["case"]["parties"]] == ["P2"]
    assert sorted(view["case"]["officers"]) == sorted([A, B])
    assert digest in [r["digest"] for r in cli.json("search", "--case", CASE)["records"]]
    assert [s["stage"] for s in view["stages"] if s["items"]] == ["start", "investigate"]
    assert findings(cli, "RK534") == []
    ok(cli("rebuild-index"))
    assert cli.json("case", "show", CASE) == view


def test_a_case_under_a_hold_or_with_a_partys_links_is_not_walked_around_by_voiding_its_opening(
        cli, tmp_path):
    """Voiding the opening and opening the number again with other parties would take the case's
    records out of a party's hold: the new opening may not drop a party that is held (or while
    the case is), nor one its links or decisions name. Voiding the opening alone takes nothing
    from a hold, and a held party that stays does not stop another's correction."""
    add_parties(cli)
    ok(cli("party", "add", "--name", "王某", "--id-number", "110101198512151237"))
    ok(cli("case", "open", CASE, "--party", "P1", "--party", "P3", "--at", "2021-09-01"))
    digest = record(cli, tmp_path, "--case", CASE, "--stage", "investigate", "--party", "P1",
                    name="询问笔录.pdf")
    opened = cli.json("case", "show", CASE)["case"]["opened_seq"]
    ok(cli("hold", "--party", "P1", "--reason", "诉讼", actor="archivist@office"))
    ok(cli("case", "void", CASE, str(opened), "--reason", "当事人录入错误"))  # the hold still covers all
    assert "party P1" in cli.json("retention", "show", digest)["records"][0]["holds"]
    dropped = cli("case", "open", CASE, "--party", "P2", "--party", "P3", "--at", "2021-09-01")
    assert dropped.exit_code == 1 and "RK528" in dropped.output and "P1" in dropped.stderr, dropped.output
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-09-01"))  # P3 dropped: P1's hold stays
    ok(cli("release", "--party", "P1", actor="archivist@office"))
    opened = cli.json("case", "show", CASE)["case"]["opened_seq"]
    ok(cli("case", "void", CASE, str(opened), "--reason", "当事人仍有误"))
    named = cli("case", "open", CASE, "--party", "P2", "--at", "2021-09-01")
    assert named.exit_code == 1 and "P1" in named.stderr, named.output  # its link names P1
    ok(cli("case", "open", CASE, "--party", "P1", "--party", "P2", "--at", "2021-09-01"))
    view = cli.json("case", "show", CASE)
    assert view["case"]["voided"] is None and view["case"]["status"] == "open"
    struck = [i for i in view["stages"][0]["items"] if i["type"] == "opened"]
    assert len(struck) == 2 and struck[-1]["voided"]["reason"] == "当事人仍有误"
    assert digest in [r["digest"] for r in cli.json("search", "--case", CASE)["records"]]
    ok(cli("case", "close", CASE, "--at", "2021-10-01"))
    again = cli.json("case", "show", CASE)["case"]["opened_seq"]
    ok(cli("case", "void", CASE, str(again), "--reason", "立案日期错误"))
    ok(cli("case", "open", CASE, "--party", "P1", "--party", "P2", "--at", "2021-09-02"))
    assert cli.json("case", "show", CASE)["case"]["status"] == "closed"  # its close stands


def test_the_journals_replay_takes_a_case_opened_again_with_the_new_openings_parties(cli, tmp_path):
    """dispose replays the journal to find what protects a record: a hold on the party of the
    voided opening no longer covers the case's records, as the index says."""
    from recordkeep import Archive
    from recordkeep.protection import Journaled, from_journal

    add_parties(cli)
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-09-01"))
    digest = record(cli, tmp_path, "--case", CASE, "--stage", "start", "--doc-type", "立案审批表")
    opened = cli.json("case", "show", CASE)["case"]["opened_seq"]
    ok(cli("case", "void", CASE, str(opened), "--reason", "当事人录入错误"))
    ok(cli("case", "open", CASE, "--party", "P2", "--at", "2021-09-01"))
    ok(cli("hold", "--party", "P1", "--reason", "另案诉讼", actor="archivist@office"))
    ok(cli("hold", "--party", "P2", "--reason", "本案复议", actor="archivist@office"))
    with Archive.open(cli.store) as archive:
        replayed = from_journal(Journaled(archive, {digest}).read_on(), digest)
    assert replayed.holds == {"party P2"}


def test_a_seq_of_another_case_or_no_case_cannot_be_voided(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    open_case(cli, tmp_path, case="坡城管罚〔2021〕99号")
    other = cli.json("case", "stage", "坡城管罚〔2021〕99号", "start")["seq"]
    for seq in (str(other), "1", "99999"):
        result = cli("case", "void", CASE, seq, "--reason", "x")
        assert result.exit_code == 1 and "RK472" in result.output, seq


def test_a_closed_case_refuses_stages_until_reopened_and_still_takes_a_proof_of_service(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "close", CASE, "--at", "2021-10-20"))
    for args in (("stage", CASE, "serve"), ("decide", CASE, "--penalty-kind", "warning"),
                 ("publish", CASE, "--at", "2021-10-21")):
        refused = cli("case", *args)
        assert refused.exit_code == 1 and "RK470" in refused.output, args
    record(cli, tmp_path, "--case", CASE, "--stage", "serve", "--doc-type", "送达回证", name="送达回证.pdf")
    ok(cli("case", "reopen", CASE, "--reason", "补充送达"))
    assert cli.json("case", "show", CASE)["case"]["status"] == "open"
    ok(cli("case", "stage", CASE, "serve", "--action", "送达", "--at", "2021-10-22 10:00", "--officer", A))
    ok(cli("case", "close", CASE, "--at", "2021-10-23"))
    view = cli.json("case", "show", CASE)
    assert view["case"]["status"] == "closed" and view["case"]["closed_at"].startswith("2021-10-23")
    kinds = sorted(i["type"] for s in view["stages"] for i in s["items"]
                   if i["type"] in ("closed", "reopened"))
    assert kinds == ["closed", "closed", "reopened"]


def test_a_second_publication_is_refused_and_voiding_the_latest_brings_the_earlier_back(cli, tmp_path):
    """A publication would move the case's 公示 date silently: a second is refused (the hint
    names the void that corrects the first) until the case is reopened."""
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "publish", CASE, "--at", "2021-10-09"))
    first = cli.json("log", "--case", CASE)["events"][-1]["seq"]
    again = cli("case", "publish", CASE, "--at", "2021-10-10")
    assert again.exit_code == 1 and again.stderr.startswith("RK479"), again.output
    assert f"case void {CASE} {first}" in again.stderr
    ok(cli("case", "close", CASE, "--at", "2021-10-20"))
    ok(cli("case", "reopen", CASE, "--reason", "决定更正后重新公示"))
    ok(cli("case", "publish", CASE, "--at", "2021-10-22"))
    later = cli.json("log", "--case", CASE)["events"][-1]["seq"]
    ok(cli("case", "close", CASE, "--at", "2021-10-25"))
    closed = cli.json("log", "--case", CASE)["events"][-1]["seq"]
    ok(cli("case", "void", CASE, str(later), "--reason", "公示日期错误"))
    ok(cli("case", "void", CASE, str(closed), "--reason", "尚未结案"))
    case = cli.json("case", "show", CASE)["case"]
    assert case["status"] == "open" and case["closed_at"] is None
    assert case["published_at"].startswith("2021-10-09")
    ok(cli("rebuild-index"))
    assert cli.json("case", "show", CASE)["case"] == case


def test_a_decision_made_after_the_publication_is_published_in_its_turn(cli, tmp_path):
    """A decision voided and made again after the case was published (or another party's, decided
    later) needs its own publication: RK479 does not stand in its way."""
    add_parties(cli)
    open_case(cli, tmp_path)
    wrong = cli.json("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-20")["seq"]
    ok(cli("case", "publish", CASE, "--at", "2021-09-22"))
    ok(cli("case", "void", CASE, str(wrong), "--reason", "处罚种类错误"))
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "200", "--at", "2021-09-28"))
    ok(cli("case", "publish", CASE, "--at", "2021-09-29"))
    assert cli.json("case", "show", CASE)["case"]["published_at"].startswith("2021-09-29")
    again = cli("case", "publish", CASE, "--at", "2021-09-30")
    assert again.exit_code == 1 and again.stderr.startswith("RK479"), again.output


def test_an_amended_officer_moves_the_record_in_search_and_window_links(cli, tmp_path, imported):
    video = next(f for f in imported["files"] if f["kind"] == "video")
    digest, before = video["digest"], cli.json("search", "--json", "--limit", "1000")
    officer = next(r["officer"] for r in before["records"] if r["digest"] == digest)
    ok(cli("record", "set", digest[:12], "--officer", "440301999999", "--reason", "记录仪借给他人使用"))
    assert digest in [r["digest"] for r in cli.json("search", "--officer", "440301999999")["records"]]
    assert digest not in [r["digest"] for r in cli.json("search", "--officer", officer)["records"]]
    add_parties(cli)
    open_case(cli, tmp_path)
    linked = cli.json("case", "link", CASE, "--officer", "440301999999", "--from", "2000-01-01",
                      "--to", "2099-12-31", "--stage", "investigate")["linked"]
    assert linked == [digest]
    log = cli.json("log", "--record", digest)["events"]
    amended = [e for e in log if e["type"] == "record.amended"]
    assert amended[0]["data"]["previous"] == {"officer": officer}
    assert log[0]["type"] == "record.imported" and log[0]["data"]["officer"] == officer  # the original stays
    ok(cli("rebuild-index"))
    assert digest in [r["digest"] for r in cli.json("search", "--officer", "440301999999")["records"]]


def test_an_amended_time_and_device_are_used_and_the_device_brings_its_officer(cli, imported):
    photo = next(f for f in imported["files"] if f["kind"] == "photo")
    ok(cli("device", "add", "DSJ777", "--officer", "440301777777", "--from", "2020-01-01"))
    ok(cli("record", "set", photo["digest"], "--officer", "440301555555", "--reason", "按登记"))
    ok(cli("record", "set", photo["digest"], "--recorded-at", "2021-05-20 16:00", "--device", "DSJ777",
           "--reason", "相机时钟复位"))
    [found] = cli.json("search", "--device", "DSJ777")["records"]
    assert found["recorded_at"].startswith("2021-05-20T16:00")
    assert found["officer"] == "440301555555"  # an officer named by the clerk stays; only a device's follows
    nothing = cli("record", "set", photo["digest"], "--device", "DSJ777", "--reason", "again")
    assert nothing.exit_code == 1 and "RK474" in nothing.output
    custody = cli("log", "--record", photo["digest"], "--report").output
    assert "amended: " in custody and "相机时钟复位" in custody
    assert json.loads(cli("record", "set", photo["digest"], "--doc-type", "现场照片", "--reason", "补录",
                          "--json").stdout)["previous"] == {"doc_type": None}



def linked_twice(cli, tmp_path) -> tuple[str, int, int]:
    """A record linked to CASE at import, then linked again at the same stage: its digest and the
    seqs of the two ``record.linked`` events."""
    add_parties(cli)
    open_case(cli, tmp_path)
    digest = record(cli, tmp_path, "--case", CASE, "--stage", "investigate", "--doc-type", "询问笔录",
                    name="询问笔录.pdf")
    ok(cli("case", "link", CASE, digest, "--stage", "investigate"))
    first, second = [e["seq"] for e in cli.json("log", "--record", digest)["events"]
                     if e["type"] == "record.linked"]
    return digest, first, second


def in_case(cli, digest: str) -> bool:
    return digest in [r["digest"] for r in cli.json("search", "--case", CASE)["records"]]


def test_a_record_linked_twice_stays_linked_when_the_first_link_is_voided(cli, tmp_path):
    """Voiding one ``record.linked`` strikes that event, not a later one that linked the same
    record again, in the live index as in one rebuilt from the journal; an unlink ends both."""
    digest, first, _second = linked_twice(cli, tmp_path)
    ok(cli("case", "void", CASE, str(first), "--reason", "重复链接"))
    assert in_case(cli, digest)
    refused = cli("dispose", digest, "--reason", "x", "--json")
    assert refused.exit_code == 1 and "RK233" not in refused.output, refused.output
    ok(cli("rebuild-index"))
    assert in_case(cli, digest)
    ok(cli("case", "unlink", CASE, digest))
    assert not in_case(cli, digest)
    ok(cli("rebuild-index"))
    assert not in_case(cli, digest)


def test_a_record_linked_twice_is_unlinked_once_both_links_are_voided(cli, tmp_path):
    digest, first, second = linked_twice(cli, tmp_path)
    ok(cli("case", "void", CASE, str(second), "--reason", "重复链接"))
    assert in_case(cli, digest)
    ok(cli("case", "void", CASE, str(first), "--reason", "链接错误"))
    assert not in_case(cli, digest)
    ok(cli("rebuild-index"))
    assert not in_case(cli, digest)


def as_before_link_repeats(store) -> None:
    """index.sqlite as a release before m016 left it: no ``repeats`` (a repeat was not kept)."""
    import sqlite3

    conn = sqlite3.connect(store / "index.sqlite")
    with conn:
        conn.execute("DROP INDEX links_repeated")
        conn.execute("ALTER TABLE links DROP COLUMN repeats")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm016_link_repeats'")
    conn.close()


def test_an_index_from_before_link_repeats_is_rebuilt_when_it_folded_a_record_linked_twice(cli, tmp_path):
    """The repeats such an index folded are in the journal only: upgraded, it is rebuilt, so
    voiding the first link later leaves the record in the case, as a rebuilt index says."""
    digest, first, _second = linked_twice(cli, tmp_path)
    as_before_link_repeats(cli.store)
    ok(cli("case", "void", CASE, str(first), "--reason", "重复链接"))
    assert in_case(cli, digest)
    assert cli("retention", "due", "--json").exit_code == 0
    assert digest not in cli("retention", "due").output


def test_an_index_from_before_link_repeats_with_no_record_linked_twice_is_migrated_in_place(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    digest = record(cli, tmp_path, "--case", CASE, "--stage", "investigate", name="询问笔录.pdf")
    as_before_link_repeats(cli.store)
    before = (cli.store / "index.sqlite").stat().st_ino
    ok(cli("case", "link", CASE, digest, "--stage", "investigate"))
    assert (cli.store / "index.sqlite").stat().st_ino == before  # not rebuilt
    log = cli.json("log", "--record", digest)["events"]
    first = next(e["seq"] for e in log if e["type"] == "record.linked")
    ok(cli("case", "void", CASE, str(first), "--reason", "重复链接"))
    assert in_case(cli, digest)


def test_a_stage_act_that_ends_another_day_shows_the_end_date_in_case_show(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-03-02 09:00", "--until", "2021-03-02 11:30",
           "--officer", A, "--action", "查封扣押"))
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-03-02 09:00", "--until", "2021-03-04 11:30",
           "--officer", A, "--action", "强制拆除"))
    shown = cli("case", "show", CASE).output
    assert "2021-03-02 09:00..11:30 " in shown
    assert "2021-03-02 09:00..2021-03-04 11:30 " in shown


def test_the_opening_of_a_case_with_decisions_in_force_cannot_be_voided_around_the_records_role(
        cli, tmp_path, monkeypatch):
    """Voiding the opening would drop its decisions from stats, though voiding a decision needs
    the records role: a clerk's key is refused, a records officer's voids it (to enter it again)."""
    from recordkeep.trust import keys

    add_parties(cli)
    open_case(cli, tmp_path)
    decided = cli.json("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "500",
                       "--at", "2021-09-24")
    opened = cli.json("case", "show", CASE)["case"]["opened_seq"]
    key = keys.new_key(tmp_path / "clerk.key")
    ok(cli("key", "enrol", key.public_b64, "--actor", "a-clerk@station2", "--role", "clerk",
           actor="tester@test"))
    monkeypatch.setenv("RECORDKEEP_KEY", str(tmp_path / "clerk.key"))
    refused = cli("case", "void", CASE, str(opened), "--reason", "立案日期错误", actor="a-clerk@station2")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK483"), refused.output
    assert str(decided["seq"]) in refused.stderr
    assert cli.json("case", "show", CASE)["case"]["status"] == "open"
    monkeypatch.delenv("RECORDKEEP_KEY")
    ok(cli("case", "void", CASE, str(opened), "--reason", "立案日期错误", actor="archivist@office"))
    assert cli.json("case", "show", CASE)["case"]["status"] == "voided"
