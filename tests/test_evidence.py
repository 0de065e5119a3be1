"""Evidence, not claims: a review counts before a decision when a linked document or a timely
act by a reviewer shows it, never because an act was typed weeks later; a clip's time counts
for AV coverage only when a record carries it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from blake3 import blake3

from recordkeep.archive import Archive
from recordkeep.store.journal import Draft

from .test_check import (
    CASE,
    A,
    B,
    _pdf,
    add_parties,
    clips,  # noqa: F401  (the session's real clips, a fixture)
    codes,
    entered_on,
    findings,
    open_case,
    publish,
    record,
    review_act,
    seizure_case,
)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def major_decision(cli, at: str = "2021-09-24") -> None:
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", at))


def test_a_review_act_typed_weeks_later_does_not_clear_rk502_but_an_earlier_linked_opinion_does(
        cli, tmp_path, monkeypatch):
    entered_on(monkeypatch, "2021-09-24T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    review_act(cli, tmp_path, CASE, "2021-09-22 15:00", "集体讨论")
    major_decision(cli)
    assert "RK502" in codes(cli)
    late = cli.json("case", "stage", CASE, "decide", "--at", "2021-09-20 10:00",
                    "--action", "法制审核")["seq"]
    [finding] = findings(cli, "RK502")  # the typed act is a claim, not evidence
    assert finding["review"] == "missing" and "entered late" in finding["message"]
    assert any(f"seq {late}" in c for c in finding["claims"])
    shown = cli.json("case", "show", CASE)["stages"]
    item = next(i for s in shown for i in s["items"] if i.get("seq") == late)
    assert item["entered_late"] and item["entered_at"] > item["at"]
    assert "entered late" in cli("case", "show", CASE).stdout
    opinion = _pdf(tmp_path / "法制审核意见书.pdf", "2021-09-22 02:00")  # dated before the decision
    ok(cli("add", str(opinion), "--case", CASE, "--stage", "decide", "--doc-type", "法制审核意见书"))
    assert findings(cli, "RK502") == []


def test_an_opinion_scanned_after_the_decision_keeps_rk502_and_a_typed_backdated_act_cannot_hide_it(
        cli, tmp_path, monkeypatch):
    entered_on(monkeypatch, "2021-10-03T12:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    review_act(cli, tmp_path, CASE, "2021-09-22 15:00", "集体讨论")
    major_decision(cli)
    scanned = _pdf(tmp_path / "法制审核意见书.pdf", "2021-10-02 02:00")
    ok(cli("add", str(scanned), "--case", CASE, "--stage", "decide", "--doc-type", "法制审核意见书"))
    assert findings(cli, "RK502")[0]["review"] == "after"
    ok(cli("case", "stage", CASE, "decide", "--at", "2021-09-20", "--action", "法制审核"))
    [finding] = findings(cli, "RK502")
    assert finding["review"] == "after" and finding["claims"]


def test_review_acts_typed_late_with_the_stations_clock_set_back_still_count_as_entered_late(
        cli, tmp_path, monkeypatch):
    """A reviewer who sets the clock back to the decision's week and types the reviews: each
    line claims an on-time entry, but was written after the case's lines of today. check
    counts the acts as entered no earlier than those, and log verify names the lines (RK263)."""

    add_parties(cli)
    open_case(cli, tmp_path)
    major_decision(cli)
    assert "RK502" in codes(cli)
    clock = iter(["2021-09-20T11:00:00.000+08:00", "2021-09-20T11:05:00.000+08:00",
                  "2021-09-22T16:00:00.000+08:00", "2021-09-22T16:05:00.000+08:00"])
    monkeypatch.setattr(Archive, "now", lambda self: next(clock, "2021-09-22T16:10:00.000+08:00"))
    ok(cli("case", "stage", CASE, "decide", "--at", "2021-09-20 10:00", "--action", "法制审核"))
    ok(cli("case", "stage", CASE, "decide", "--at", "2021-09-22 15:00", "--action", "集体讨论"))
    monkeypatch.undo()
    [finding] = findings(cli, "RK502")
    assert "entered late" in finding["message"]
    report = cli.json("log", "verify")
    behind = [f for f in report["findings"] if f["code"] == "RK263"]
    assert report["ok"] and len(behind) == 1 and behind[0]["notice"], report["findings"]
    strict = cli("log", "verify", "--strict", "--json")
    assert strict.exit_code == 3 and "RK263" in strict.stdout


def test_a_store_written_in_time_order_has_no_line_behind_the_journal(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    review_act(cli, tmp_path, CASE, "2021-09-20 10:00", "法制审核")
    major_decision(cli)
    assert [f["code"] for f in cli.json("log", "verify", "--strict")["findings"]] == []


def test_a_late_act_typed_from_its_linked_paper_record_counts(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    review_act(cli, tmp_path, CASE, "2021-09-20 10:00", "法制审核")
    review_act(cli, tmp_path, CASE, "2021-09-22 15:00", "集体讨论")
    major_decision(cli)
    assert not {"RK502", "RK503"} & codes(cli)


def test_a_paper_record_not_linked_to_the_case_is_refused_as_an_acts_source(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    elsewhere = record(cli, tmp_path, "--doc-type", "法制审核签批单")  # stored, in no case
    before = len(cli.json("log")["events"])
    typed = cli("case", "stage", CASE, "decide", "--at", "2021-09-20 10:00", "--action", "法制审核",
                "--transcribed-from", elsewhere)
    assert typed.exit_code == 1 and typed.stderr.startswith("RK445"), typed.output
    assert len(cli.json("log")["events"]) == before
    ok(cli("case", "link", CASE, elsewhere, "--stage", "decide"))
    ok(cli("case", "stage", CASE, "decide", "--at", "2021-09-20 10:00", "--action", "法制审核",
           "--transcribed-from", elsewhere))


def test_a_paper_record_unlinked_after_the_act_no_longer_makes_it_count(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    review_act(cli, tmp_path, CASE, "2021-09-20 10:00", "法制审核")
    review_act(cli, tmp_path, CASE, "2021-09-22 15:00", "集体讨论")
    major_decision(cli)
    assert not {"RK502", "RK503"} & codes(cli)
    paper = cli.json("search", "--case", CASE, "--stage", "decide")["records"]
    ok(cli("case", "unlink", CASE, *[r["digest"] for r in paper if "法制审核" in (r.get("doc_type") or "")]))
    assert "RK502" in codes(cli)


def as_plain_clerk(cli, tmp_path, monkeypatch):
    """A key with the clerk role alone, enrolled; a runner of commands signed by it."""
    from recordkeep.trust import keys

    key = keys.new_key(tmp_path / "clerk.key")
    ok(cli("key", "enrol", key.public_b64, "--actor", "plain-clerk@station4", "--role", "clerk",
           actor="tester@test"))

    def run(*args: str):
        with monkeypatch.context() as m:
            m.setenv("RECORDKEEP_KEY", str(tmp_path / "clerk.key"))
            return cli(*args, actor="plain-clerk@station4")
    return run


def timely_document(cli, tmp_path, monkeypatch, doc_type: str = "询问笔录",
                    stage: str = "investigate") -> str:
    """A document of 2021-09-20 (``doc_type``, 询问笔录.pdf) imported the next day, then a major
    decision of 2021-09-24, entered that day: its digest."""
    entered_on(monkeypatch, "2021-09-21T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    paper = _pdf(tmp_path / "询问笔录.pdf", "2021-09-20 02:00")
    digest = cli.json("add", str(paper), "--case", CASE, "--stage", stage,
                      "--doc-type", doc_type)["files"][0]["digest"]
    entered_on(monkeypatch, "2021-09-24T18:00:00.000+08:00")  # the decision, entered the day it was made
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    return digest


def test_a_timely_act_counts_only_when_a_reviewer_key_signed_it(cli, tmp_path, monkeypatch):
    add_parties(cli)
    open_case(cli, tmp_path)
    now = datetime.now().replace(microsecond=0)
    decided = (now + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    clerk = as_plain_clerk(cli, tmp_path, monkeypatch)
    for action in ("法制审核", "集体讨论"):
        ok(clerk("case", "stage", CASE, "decide", "--at", now.strftime("%Y-%m-%d %H:%M"), "--action", action))
    major_decision(cli, decided)
    [finding] = findings(cli, "RK502")
    assert "reviewer role" in finding["message"]
    for action in ("法制审核", "集体讨论"):  # the same acts by a key with the reviewer role
        ok(cli("case", "stage", CASE, "decide", "--at", now.strftime("%Y-%m-%d %H:%M"), "--action", action))
    assert not {"RK502", "RK503"} & codes(cli)


def seizure_filmed(cli, tmp_path, clips) -> list[str]:  # noqa: F811
    """The parties, the seizure case, and the session's two clips linked to it: their digests."""
    add_parties(cli)
    seizure_case(cli, tmp_path)
    return [cli.json("add", str(c), "--case", CASE, "--stage", "investigate")["files"][0]["digest"]
            for c in clips]


def test_a_clip_with_a_typed_time_counts_for_av_coverage_only_with_a_record_that_carries_it(cli, tmp_path,
                                                                                          clips):  # noqa: F811
    digests = seizure_filmed(cli, tmp_path, clips)
    assert codes(cli) == set()
    ok(cli("record", "set", digests[1], "--recorded-at", "2021-03-16 09:01:01", "--reason", "时钟校正"))
    [gap] = findings(cli, "RK505")
    assert gap["unproven_time"] == [digests[1]] and "typed correction" in gap["message"]
    log = record(cli, tmp_path, "--case", CASE, "--stage", "investigate",
                 "--doc-type", "执法记录仪使用登记表")
    ok(cli("record", "set", digests[1], "--recorded-at", "2021-03-16 09:01:01", "--source", log,
           "--reason", "依登记表"))
    assert codes(cli) == set()
    assert A and B  # the seizure names two officers: RK501 stays quiet


def test_a_time_carried_by_a_record_disposed_of_since_no_longer_counts_and_none_can_be_cited(
        cli, tmp_path, clips):  # noqa: F811
    digests = seizure_filmed(cli, tmp_path, clips)
    old_log = tmp_path / "DSJ009_440301123456_20210316090000_0001.jpg"  # recorded 2021: long due
    old_log.write_bytes(b"a photo of the paper log")
    carrier = cli.json("add", str(old_log))["files"][0]["digest"]  # linked to nothing
    ok(cli("record", "set", digests[1], "--recorded-at", "2021-03-16 09:01:01", "--source", carrier,
           "--reason", "依登记表照片"))
    assert findings(cli, "RK505")[0]["unproven_time"] == [digests[1]]  # a record of no case carries none
    ok(cli("case", "link", CASE, carrier, "--stage", "investigate"))
    assert codes(cli) == set()
    ok(cli("case", "unlink", CASE, carrier))
    ok(cli("dispose", carrier, "--reason", "保存期满", actor="archivist@office"))
    [gap] = findings(cli, "RK505")
    assert gap["unproven_time"] == [digests[1]]
    again = cli("record", "set", digests[0], "--recorded-at", "2021-03-16 09:00:00", "--source", carrier,
                "--reason", "依登记表照片")
    assert again.exit_code == 1 and "disposed" in again.stderr, again.output
    other = record(cli, tmp_path, "--doc-type", "执法记录仪使用登记表")
    ok(cli("record", "set", digests[1], "--device", "DSJ009", "--source", other, "--reason", "借用"))
    assert findings(cli, "RK505")[0]["unproven_time"] == [digests[1]]  # the time's carrier is still gone


def test_a_time_typed_wrong_then_typed_back_to_the_imports_counts_as_the_import_said(
        cli, tmp_path, clips):  # noqa: F811
    """A clerk who mistyped a clip's time corrects it by typing the time the import learned: the
    clip's time is evidence again (its source the import's), in the live and a rebuilt index."""
    digests = seizure_filmed(cli, tmp_path, clips)

    def clip() -> dict:
        return next(r for r in cli.json("search", "--case", CASE)["records"] if r["digest"] == digests[1])

    imported = clip()
    assert codes(cli) == set()
    ok(cli("record", "set", digests[1], "--recorded-at", "2021-03-16 19:01:01", "--reason", "时钟校正"))
    assert clip()["time_source"] == "amended" and "RK505" in codes(cli)
    ok(cli("record", "set", digests[1], "--recorded-at", imported["recorded_at"], "--reason", "上次录入错误"))
    restored = clip()
    assert (restored["recorded_at"], restored["time_source"]) == (imported["recorded_at"],
                                                                  imported["time_source"])
    assert codes(cli) == set()
    ok(cli("rebuild-index"))
    assert clip()["time_source"] == imported["time_source"] and codes(cli) == set()


def test_an_index_that_amended_times_before_it_kept_the_imports_is_rebuilt_to_know_them(cli, tmp_path):
    import sqlite3

    clip = tmp_path / "DSJ001_440301123456_20210316090000_0001.bin"
    clip.write_bytes(b"footage" * 100)
    [added] = cli.json("add", str(clip))["files"]
    ok(cli("record", "set", added["digest"], "--recorded-at", "2021-03-16 19:00", "--reason", "误"))
    conn = sqlite3.connect(cli.store / "index.sqlite")
    with conn:  # as a release before m018 left it
        conn.execute("DROP TABLE imported_times")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm018_imported_times'")
    conn.close()
    ok(cli("record", "set", added["digest"], "--recorded-at", "2021-03-16 09:00", "--reason", "改回"))
    [row] = cli.json("search", "--limit", "5")["records"]
    assert row["time_source"] == "name"


def test_a_clip_dated_only_by_its_file_time_does_not_count_until_a_record_carries_its_time(cli, tmp_path):
    import os

    from .test_check import _clip

    add_parties(cli)
    seizure_case(cli, tmp_path)
    clip = _clip(tmp_path / "未命名.mp4", 180, "no time inside")
    moment = datetime.fromisoformat("2021-03-16T08:59:30+08:00").timestamp()
    os.utime(clip, (moment, moment))
    [added] = cli.json("add", str(clip), "--case", CASE, "--stage", "investigate")["files"]
    assert cli.json("search", "--case", CASE, "--kind", "video")["records"][0]["time_source"] == "mtime"
    [missing] = findings(cli, "RK504")
    assert missing["unproven_time"] == [added["digest"]]
    log = record(cli, tmp_path, "--case", CASE, "--stage", "investigate",
                 "--doc-type", "执法记录仪使用登记表")
    ok(cli("record", "set", added["digest"], "--recorded-at", "2021-03-16 08:59:30", "--source", log,
           "--reason", "依使用登记表"))
    assert not {"RK504", "RK505"} & codes(cli)


def test_a_clip_dated_by_a_record_of_another_case_does_not_cover_this_cases_seizure(
        cli, tmp_path, clips):  # noqa: F811
    """Any record could be cited: only one linked to the same case carries a time for it."""
    digests = seizure_filmed(cli, tmp_path, clips)
    other_case = "坡城管罚〔2021〕99号"
    ok(cli("case", "open", other_case, "--party", "P1", "--at", "2021-03-01"))
    elsewhere = record(cli, tmp_path, "--case", other_case, "--stage", "start", "--doc-type", "立案审批表")
    ok(cli("record", "set", digests[1], "--recorded-at", "2021-03-16 09:01:01", "--source", elsewhere,
           "--reason", "camera clock reset"))
    assert findings(cli, "RK505")[0]["unproven_time"] == [digests[1]]


def test_a_document_relabelled_a_review_and_given_a_typed_time_is_no_review(cli, tmp_path, monkeypatch):
    """A clerk can type a doc type and a time; neither proves a 法制审核 before the decision, even
    in a store kept as things happen."""
    entered_on(monkeypatch, "2021-09-24T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    scan = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "现场检查笔录")
    ok(cli("record", "set", scan, "--doc-type", "法制审核意见书、集体讨论记录", "--recorded-at",
           "2021-09-20 10:00", "--reason", "scan mislabelled"))
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    found = {f["code"]: f for f in cli.json("check")["cases"][0]["findings"]}
    assert found["RK510"]["status"] == "unknown" and "typed" in found["RK510"]["message"]
    assert cli("check", "--strict").exit_code == 4


def test_two_review_documents_citing_each_other_for_their_times_or_a_document_dated_by_its_name_prove_nothing(
        cli, tmp_path, monkeypatch):
    entered_on(monkeypatch, "2021-09-24T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    first = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "法制审核意见书")
    second = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "集体讨论记录")
    ok(cli("record", "set", first, "--recorded-at", "2021-09-20 10:00", "--source", second, "--reason", "x"))
    ok(cli("record", "set", second, "--recorded-at", "2021-09-21 10:00", "--source", first, "--reason", "x"))
    named = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "法制审核意见书",
                   name="DSJ001_440301123456_20210920100000_0001.txt")  # a date a clerk can type into a name
    assert cli.json("search", "--case", CASE)["records"] and named
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    found = {f["code"]: f for f in cli.json("check")["cases"][0]["findings"]}
    assert found["RK510"]["status"] == "unknown", found


# -- publication (公示) ----------------------------------------------------------------------------
def test_a_publication_entered_years_after_the_date_it_claims_counts_as_published_when_entered(cli, tmp_path):
    """Typed today with a date inside the deadline, it proves only that it was entered today."""
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-24"))
    ok(cli("case", "publish", CASE, "--at", "2021-09-28"))
    [finding] = findings(cli, "RK506")
    assert finding["claimed"] == "2021-09-28" and finding["published"] > "2026"
    assert "claimed 2021-09-28, was entered late" in finding["message"]
    assert cli("check").exit_code == 4
    assert cli.json("stats", "--year", "2021")["publication"]["late"] == 1
    shown = cli.json("case", "show", CASE)["stages"]
    [row] = [i for s in shown for i in s["items"] if i["type"] == "publication"]
    assert row["entered_late"] and "entered late" in cli("case", "show", CASE).stdout


def test_a_publication_typed_late_from_the_linked_record_of_its_notice_counts_on_its_date(cli, tmp_path):
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-24"))
    elsewhere = record(cli, tmp_path)  # in the store, linked to no case
    refused = cli("case", "publish", CASE, "--at", "2021-09-28", "--transcribed-from", elsewhere)
    assert refused.exit_code == 1 and "is not linked to case" in refused.stderr, refused.output
    publish(cli, tmp_path, CASE, "2021-09-28")
    assert findings(cli, "RK506") == []
    assert cli.json("stats", "--year", "2021")["publication"]["within"] == 1


def test_a_timely_document_relabelled_a_review_long_after_is_a_claim_and_the_case_log_shows_the_relabel(
        cli, tmp_path, monkeypatch):
    """An interview record imported on time, its doc type amended to 法制审核意见书 years later."""
    digest = timely_document(cli, tmp_path, monkeypatch)
    entered_on(monkeypatch, "2026-11-30T10:00:00.000+08:00")
    ok(cli("record", "set", digest, "--doc-type", "法制审核意见书", "--reason", "mistyped"))
    [finding] = findings(cli, "RK502")
    assert finding["review"] == "missing" and "became a review document" in finding["claims"][0]
    case_log = [e["type"] for e in cli.json("log", "--case", CASE)["events"]]
    assert "record.amended" in case_log


def test_a_document_relabelled_a_review_within_days_counts(cli, tmp_path, monkeypatch):
    entered_on(monkeypatch, "2021-09-21T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    scan = _pdf(tmp_path / "意见书.pdf", "2021-09-20 02:00")
    digest = cli.json("add", str(scan), "--case", CASE, "--stage", "decide",
                      "--doc-type", "询问笔录")["files"][0]["digest"]
    ok(cli("record", "set", digest, "--doc-type", "法制审核意见书", "--reason", "mistyped"))
    entered_on(monkeypatch, "2021-09-24T18:00:00.000+08:00")
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    assert findings(cli, "RK502") == []


def test_a_review_act_typed_late_from_a_clip_is_a_claim_a_clip_is_no_paper_record(cli, tmp_path, clips):  # noqa: F811
    add_parties(cli)
    open_case(cli, tmp_path)
    clip = cli.json("add", str(clips[0]), "--case", CASE, "--stage", "investigate")["files"][0]["digest"]
    major_decision(cli)
    refused = cli("case", "stage", CASE, "decide", "--at", "2021-09-20 10:00", "--action", "法制审核",
                  "--transcribed-from", clip)
    assert refused.exit_code == 1 and "is a video clip" in refused.stderr, refused.output
    with Archive.open(cli.store, actor="clerk@station1") as archive:  # an insider past the command's check
        archive.commit([Draft("case.stage", {
            "case_no": CASE, "stage": "decide", "officers": [], "on_site": False, "action": "法制审核",
            "at": "2021-09-20T10:00:00.000+08:00", "transcribed_from": "blake3:" + clip})])
    [finding] = findings(cli, "RK502")
    assert finding["review"] == "missing" and "entered late" in finding["claims"][0]


def test_a_clip_dated_from_a_second_camera_counts_only_where_the_two_recordings_meet(
        cli, tmp_path, clips):  # noqa: F811
    """A second camera's clip carries a time for this one only if they overlap: cited for a time
    half an hour away, it proves nothing (the review's 40-minute clip of another day)."""
    digests = seizure_filmed(cli, tmp_path, clips)  # 09:00:00 and 09:01:00, 60 s each
    refused = cli("record", "set", digests[1], "--recorded-at", "2021-03-16 09:30:00", "--source", digests[0],
                  "--reason", "camera clock reset")
    assert refused.exit_code == 1 and "does not meet 2021-03-16 09:30:00" in refused.stderr, refused.output
    with Archive.open(cli.store, actor="clerk@station1") as archive:  # an insider past the command's check
        archive.commit([Draft("record.amended", {
            "digest": "blake3:" + digests[1], "reason": "clock reset", "source": "blake3:" + digests[0],
            "changes": {"recorded_at": "2021-03-16T09:30:00.000+08:00"},
            "previous": {"recorded_at": "2021-03-16T09:01:00.000+08:00"}})])
    assert findings(cli, "RK505")[0]["unproven_time"] == [digests[1]]
    ok(cli("record", "set", digests[1], "--recorded-at", "2021-03-16 09:00:59", "--source", digests[0],
           "--reason", "camera clock reset; the first camera shows the start"))
    assert findings(cli, "RK505") == []


def test_a_review_documents_doc_type_spelled_again_years_later_is_still_the_review(cli, tmp_path,
                                                                                   monkeypatch):
    digest = timely_document(cli, tmp_path, monkeypatch, doc_type="法制审核意见书", stage="decide")
    entered_on(monkeypatch, "2026-11-30T10:00:00.000+08:00")
    ok(cli("record", "set", digest, "--doc-type", "法制审核意见书（正本）", "--reason", "spelling"))
    assert findings(cli, "RK502") == []


def test_a_relabel_with_the_stations_clock_set_back_is_still_a_relabel_made_late(cli, tmp_path, monkeypatch):
    digest = timely_document(cli, tmp_path, monkeypatch)
    entered_on(monkeypatch, "2026-11-30T10:00:00.000+08:00")
    ok(cli("case", "stage", CASE, "serve", "--at", "2021-10-12 10:00"))  # a line of the case, written today
    entered_on(monkeypatch, "2021-09-22T09:00:00.000+08:00")  # the clock set back for the relabel
    ok(cli("record", "set", digest, "--doc-type", "法制审核意见书", "--reason", "mistyped"))
    monkeypatch.undo()  # checked on the true clock
    [finding] = findings(cli, "RK502")
    assert "became a review document" in finding["claims"][0]


def test_a_publication_typed_as_a_bare_date_counts_its_days_late_from_the_end_of_that_day(
        cli, tmp_path, monkeypatch):
    """Published on 8 October (the deadline is the 9th), entered on the evening of the 11th: within
    three days of the 8th's end, so not counted as published on the 11th."""
    entered_on(monkeypatch, "2021-09-24T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-24"))
    entered_on(monkeypatch, "2021-10-11T20:00:00.000+08:00")
    ok(cli("case", "publish", CASE, "--at", "2021-10-08"))
    assert findings(cli, "RK506") == []


# -- what a clerk gives a document long after: its doc type, its case, its date ----------------------
def test_the_same_bytes_added_again_as_a_review_document_long_after_are_a_claim_the_case_log_shows(
        cli, tmp_path, monkeypatch):
    timely_document(cli, tmp_path, monkeypatch)
    entered_on(monkeypatch, "2026-11-30T10:00:00.000+08:00")
    ok(cli("add", str(tmp_path / "询问笔录.pdf"), "--case", CASE, "--stage", "decide",
           "--doc-type", "法制审核意见书、集体讨论记录"))
    for code in ("RK502", "RK503"):
        [finding] = findings(cli, code)  # its new link is a claim, and so is its old one, relabelled
        assert any("became a review document" in c for c in finding["claims"]), finding
    assert "record.seen" in [e["type"] for e in cli.json("log", "--case", CASE)["events"]]


def test_a_timely_review_document_of_another_case_linked_long_after_is_a_claim(cli, tmp_path, monkeypatch):
    other = "坡城管罚〔2021〕2号"
    entered_on(monkeypatch, "2021-06-02T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path, case=other, party="P2", at="2021-06-01")
    review = _pdf(tmp_path / "意见书.pdf", "2021-06-02 02:00")
    digest = cli.json("add", str(review), "--case", other, "--stage", "decide",
                      "--doc-type", "法制审核意见书")["files"][0]["digest"]
    entered_on(monkeypatch, "2021-09-06T18:00:00.000+08:00")
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "50000", "--at", "2021-09-06"))
    ok(cli("case", "link", CASE, digest, "--stage", "decide"))
    [finding] = findings(cli, "RK502")
    assert "was linked to this case on 2021-09-06" in finding["claims"][0], finding


def test_a_review_documents_date_typed_long_after_is_a_claim(cli, tmp_path, monkeypatch):
    entered_on(monkeypatch, "2021-09-11T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-10 10:00"))
    decision = cli.json("add", str(_pdf(tmp_path / "决定书.pdf", "2021-09-10 02:00")), "--case", CASE,
                        "--stage", "decide", "--doc-type", "行政处罚决定书")["files"][0]["digest"]
    blank = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "法制审核意见书")
    entered_on(monkeypatch, "2021-12-01T10:00:00.000+08:00")
    ok(cli("record", "set", blank, "--recorded-at", "2021-09-09 15:00", "--source", decision,
           "--reason", "scanner clock"))
    [finding] = findings(cli, "RK502")
    assert "was given the date 2021-09-09 15:00 on 2021-12-01" in finding["claims"][0], finding


def test_a_clerk_cannot_make_a_late_publication_timely_by_citing_any_linked_scan(cli, tmp_path, monkeypatch):
    """A key with the reviewer or records role may type a past date from a record of it; a clerk's
    citation counts only if the record itself reached the store in time."""
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-24"))
    blank = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "公示截图")
    clerk = as_plain_clerk(cli, tmp_path, monkeypatch)
    ok(clerk("case", "publish", CASE, "--at", "2021-09-28", "--transcribed-from", blank))
    [finding] = findings(cli, "RK506")
    assert finding["claimed"] == "2021-09-28"
    seq = next(e["seq"] for e in cli.json("log", "--case", CASE)["events"] if e["type"] == "case.published")
    ok(cli("case", "void", CASE, str(seq), "--reason", "entered by a clerk"))
    publish(cli, tmp_path, CASE, "2021-09-28")  # the records officer, from the screenshot
    assert findings(cli, "RK506") == []
    shown = [line for line in cli("case", "show", CASE).stdout.splitlines() if "entered late" in line]
    assert any("typed from" in line for line in shown), shown  # case show says why check counts it


def test_a_clerks_review_act_typed_from_a_linked_paper_is_said_to_be_so_not_to_lack_one(
        cli, tmp_path, monkeypatch):
    add_parties(cli)
    open_case(cli, tmp_path)
    paper = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "法制审核签批单")
    clerk = as_plain_clerk(cli, tmp_path, monkeypatch)
    ok(clerk("case", "stage", CASE, "decide", "--at", "2021-09-20 10:00", "--action", "法制审核",
             "--transcribed-from", paper))
    major_decision(cli)
    [finding] = findings(cli, "RK502")
    assert "typed from a linked record by a key without the reviewer role" in finding["message"], finding


def test_a_clerks_late_publication_counts_only_from_a_record_made_of_the_notice_in_time(
        cli, tmp_path, monkeypatch):
    """A record that reached the store before the date claimed (the decision's own scan) is no
    record of the notice; a screenshot imported within days after it is."""
    entered_on(monkeypatch, "2021-09-24T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-24"))
    decision = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "行政处罚决定书")
    clerk = as_plain_clerk(cli, tmp_path, monkeypatch)
    entered_on(monkeypatch, "2021-09-29T10:00:00.000+08:00")
    screenshot = record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "公示截图")
    entered_on(monkeypatch, "2021-12-01T10:00:00.000+08:00")
    ok(clerk("case", "publish", CASE, "--at", "2021-09-28", "--transcribed-from", decision))
    assert findings(cli, "RK506")[0]["claimed"] == "2021-09-28"
    seq = next(e["seq"] for e in cli.json("log", "--case", CASE)["events"] if e["type"] == "case.published")
    ok(cli("case", "void", CASE, str(seq), "--reason", "typed from the wrong record"))
    ok(clerk("case", "publish", CASE, "--at", "2021-09-28", "--transcribed-from", screenshot))
    assert findings(cli, "RK506") == []


def test_a_review_document_retyped_away_and_back_stays_the_review_it_was_from_its_import(
        cli, tmp_path, monkeypatch):
    digest = timely_document(cli, tmp_path, monkeypatch, doc_type="法制审核意见书", stage="decide")
    entered_on(monkeypatch, "2022-09-22T10:00:00.000+08:00")
    ok(cli("add", str(tmp_path / "询问笔录.pdf"), "--doc-type", "卷宗"))  # the folder re-added in bulk
    ok(cli("record", "set", digest, "--doc-type", "法制审核意见书", "--reason", "set back"))
    assert findings(cli, "RK502") == []


def test_an_index_from_before_the_doc_type_history_is_folded_again_and_learns_a_relabel_by_re_adding(
        cli, tmp_path, monkeypatch):
    """Sightings' doc types are in the journal only: an index made before m023 must be rebuilt."""
    import sqlite3

    timely_document(cli, tmp_path, monkeypatch)
    entered_on(monkeypatch, "2026-11-30T10:00:00.000+08:00")
    ok(cli("add", str(tmp_path / "询问笔录.pdf"), "--doc-type", "法制审核意见书"))  # relabelled, no new link
    with sqlite3.connect(cli.store / "index.sqlite") as conn:  # as the release before m023 left it
        conn.execute("DROP TABLE doc_types")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm023_doc_type_history'")
    [finding] = findings(cli, "RK502")
    assert any("became a review document" in c for c in finding["claims"]), finding


def test_a_clerks_late_on_site_act_counts_only_from_a_site_record_that_reached_the_case_in_time(
        cli, tmp_path, monkeypatch):
    """A clerk types a 现场检查 of two officers long after, "from" a note she adds the same minute:
    a claim (RK501). Typed from the site record scanned the day of the inspection, it counts; so
    does the note when a key with the records or reviewer role types the act (who vouches for it)."""
    entered_on(monkeypatch, "2021-09-10T18:00:00.000+08:00")
    add_parties(cli)
    open_case(cli, tmp_path)
    site = record(cli, tmp_path, "--case", CASE, "--stage", "investigate", "--doc-type", "现场检查笔录")
    monkeypatch.undo()
    clerk = as_plain_clerk(cli, tmp_path, monkeypatch)
    note = tmp_path / "note.txt"
    note.write_bytes(b"a note written today")
    ok(clerk("add", str(note), "--case", CASE, "--stage", "investigate"))
    blank_digest = blake3(b"a note written today").hexdigest()
    act = ["case", "stage", CASE, "investigate", "--action", "现场检查", "--on-site", "--officer", A,
           "--officer", B, "--at", "2021-09-10 10:00"]
    ok(clerk(*act, "--transcribed-from", blank_digest))
    [claim] = findings(cli, "RK501")
    assert claim["entered_late"] is True
    ok(cli("case", "void", CASE, str(claim["seq"]), "--reason", "typed from a note"))
    ok(clerk(*act, "--transcribed-from", site))
    assert findings(cli, "RK501") == []
    ok(cli(*act, "--transcribed-from", blank_digest))  # clerk@station1 holds the records role too
    assert findings(cli, "RK501") == []


def test_a_line_dated_ahead_of_the_clock_does_not_make_the_honest_lines_after_it_late(cli, tmp_path,
                                                                                      monkeypatch):
    """A station whose clock ran 20 days ahead (or a line written by hand) entered one act: the
    inspection typed today, the day it happened, is not "entered late, on" a date yet to come;
    log verify names the line ahead of its clock (RK276: a notice, a failure with --strict)."""
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    add_parties(cli)
    open_case(cli, tmp_path)
    entered_on(monkeypatch, f"{today + timedelta(days=20)}T09:00:00.000+08:00")
    ok(cli("case", "stage", CASE, "investigate", "--action", "询问", "--at", "2021-09-02 10:00"))
    monkeypatch.undo()
    ok(cli("case", "stage", CASE, "investigate", "--action", "现场检查", "--on-site", "--officer", A,
           "--officer", B, "--at", f"{today} 00:00"))
    assert findings(cli, "RK501") == []
    late = [i for s in cli.json("case", "show", CASE)["stages"] for i in s["items"] if i.get("entered_late")]
    assert all(str(today + timedelta(days=20)) not in json.dumps(i) for i in late)
    report = cli.json("log", "verify")  # and log verify names the line ahead of its clock
    assert report["ok"] is True and any(f["code"] == "RK276" and f["notice"] for f in report["findings"])
    strict = cli("log", "verify", "--strict")
    assert strict.exit_code == 3 and "RK276" in strict.stdout, strict.output
