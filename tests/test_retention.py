"""Retention: what is due, legal holds, and disposal that keeps the record but removes the blob."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recordkeep import retention
from tests.test_check import CASE, ok, record

from .conftest import blob_path

OLD = "DSJ001_440301123456_20210315083000_{:04d}.bin"  # recorded 2021-03-15 08:30 by its name


@pytest.fixture
def party(cli) -> str:
    return ok(cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X")).stdout.strip()


def old_record(cli, tmp_path: Path, n: int = 1, *args: str, important: bool = False) -> str:
    """An ordinary record recorded in 2021 (long past six months)."""
    name = OLD.format(n).replace(".bin", "_IMP.bin") if important else OLD.format(n)
    return record(cli, tmp_path, *args, name=name, content=f"footage {n}".encode() * 100)


def events(store: Path, type_: str) -> list[dict]:
    lines = (store / "journal" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["type"] == type_]




def refused(cli, *digests: str) -> str:
    result = cli("dispose", *digests, "--reason", "retention period over")
    assert result.exit_code == 1, result.output
    return result.stderr


def test_an_old_unlinked_record_is_due_and_disposal_keeps_its_record(cli, store, tmp_path):
    digest = old_record(cli, tmp_path)
    due = cli.json("retention", "due")
    assert [r["digest"] for r in due["records"]] == [digest] and due["ordinary_months"] == 6
    assert due["records"][0]["keep_until"].startswith("2021-09-15T08:30:00")
    result = cli("dispose", digest[:12], "--reason", "retention period over", actor="archivist@office")
    assert result.exit_code == 0, result.output
    assert not blob_path(store, digest).exists()
    [event] = events(store, "record.disposed")
    assert event["actor"] == "archivist@office"
    assert event["data"]["digest"] == f"blake3:{digest}"
    assert event["data"]["reason"] == "retention period over"
    assert cli.json("retention", "due")["records"] == []
    found = cli.json("search", "--limit", "10")["records"]
    assert [r["digest"] for r in found] == [digest]  # metadata and digest stay
    report = cli.json("verify")
    assert report["ok"] is True
    assert [(n["code"], n["digest"]) for n in report["notices"]] == [("RK216", digest)]
    ok(cli("rebuild-index"))
    assert cli.json("verify", "--fast")["notices"][0]["code"] == "RK216"
    assert cli.json("retention", "show", digest)["records"][0]["disposed"] is True


def test_dispose_refuses_a_record_linked_to_a_case_with_rk522(cli, store, party, tmp_path):
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-15"))
    digest = old_record(cli, tmp_path, 1, "--case", CASE, "--stage", "investigate")
    err = refused(cli, digest)
    assert err.startswith("RK522") and digest[:12] in err and CASE in err
    assert blob_path(store, digest).exists() and events(store, "record.disposed") == []
    assert cli.json("retention", "due")["records"] == []


def test_dispose_refuses_a_held_record_with_rk525_until_the_hold_is_released(cli, store, tmp_path):
    digest = old_record(cli, tmp_path)
    ok(cli("hold", digest, "--reason", "行政复议"))
    assert cli.json("retention", "due")["records"] == []
    err = refused(cli, digest)
    assert err.startswith("RK525") and "held (record)" in err
    assert cli.json("retention", "holds")["holds"][0]["reason"] == "行政复议"
    ok(cli("release", digest))
    assert ok(cli("dispose", digest, "--reason", "hold lifted, period over"))
    assert not blob_path(store, digest).exists()


def test_dispose_refuses_a_record_not_yet_due_with_rk521(cli, store, tmp_path):
    digest = record(cli, tmp_path)  # no recorded time: kept from its import, which is now
    err = refused(cli, digest)
    assert err.startswith("RK521") and "kept until" in err
    assert blob_path(store, digest).exists()


def test_a_disposal_under_a_retention_setting_lowered_for_it_is_named_by_log_verify(cli, store, tmp_path):
    """recordkeep.toml is the store's own file, not the journal: a retention period lowered
    for one disposal and put back after leaves the period used in the disposal's line, and
    log verify names it against the setting in force (RK264)."""
    from datetime import datetime, timedelta

    two_months = (datetime.now() - timedelta(days=62)).strftime("%Y%m%d%H%M%S")
    digest = record(cli, tmp_path, name=f"DSJ001_440301123456_{two_months}_0001.bin", content=b"clip" * 50)
    assert refused(cli, digest).startswith("RK521")  # six months by default
    toml = store / "recordkeep.toml"
    kept = toml.read_text(encoding="utf-8")
    toml.write_text(kept + "\n[retention]\nordinary_months = 1\n", encoding="utf-8")
    ok(cli("dispose", digest, "--reason", "retention period over"))
    [disposed] = events(store, "record.disposed")
    assert disposed["data"]["months"] == 1 and disposed["data"]["kept_until"] < disposed["at"]
    assert cli.json("log", "verify")["findings"] == []  # the setting in force is still 1
    toml.write_text(kept, encoding="utf-8")
    report = cli.json("log", "verify")
    found = [(f["code"], f["seq"], f["notice"]) for f in report["findings"]]
    assert found == [("RK264", disposed["seq"], True)]
    assert cli("log", "verify", "--strict").exit_code == 3


def test_the_retention_period_comes_from_recordkeep_toml(cli, store, tmp_path):
    digest = old_record(cli, tmp_path)
    with open(store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write("\n[retention]\nordinary_months = 1200\n[limits]\nlatest = 2199-12-31\n")
    assert refused(cli, digest).startswith("RK521")
    assert cli.json("retention", "due", "--as-of", "2121-03-15 08:30")["records"][0]["digest"] == digest


def test_important_and_kept_records_are_permanent(cli, store, tmp_path):
    important = old_record(cli, tmp_path, 1, important=True)
    kept = old_record(cli, tmp_path, 2)
    ok(cli("retention", "keep", kept, "--reason", "典型案例"))
    assert refused(cli, important).startswith("RK523")
    assert refused(cli, kept).startswith("RK524")
    shown = {r["digest"]: r for r in cli.json("retention", "show", important, kept)["records"]}
    assert shown[kept]["class"] == "permanent" and shown[kept]["keep_until"] is None
    assert "marked important on the camera" in shown[important]["permanent_because"]


def test_bytes_marked_important_on_a_later_sighting_are_permanent_in_the_index_and_the_replay(
        cli, store, tmp_path):
    """A clip copied off the card before the officer marked it (重要文件), then dumped again with
    the mark in its name: the mark protects the record though the bytes were already stored."""
    digest = old_record(cli, tmp_path, 1)
    again = tmp_path / "again"
    again.mkdir()
    (again / OLD.format(1).replace(".bin", "_IMP.bin")).write_bytes(b"footage 1" * 100)
    ok(cli("add", str(again / OLD.format(1).replace(".bin", "_IMP.bin"))))
    assert [r["digest"] for r in cli.json("search", "--important")["records"]] == [digest]
    assert refused(cli, digest).startswith("RK523")
    ok(cli("rebuild-index"))
    assert refused(cli, digest).startswith("RK523")


def test_a_typed_time_with_or_without_a_source_never_makes_a_fresh_record_due(cli, store, tmp_path):
    """record set --recorded-at is a clerk's word, whichever record it cites: back-dated years, it
    must not shorten the keeping of bytes imported today."""
    scan = tmp_path / "undated.txt"
    scan.write_bytes(b"a scan with no date")
    digest = cli.json("add", str(scan))["files"][0]["digest"]
    ok(cli("record", "set", digest[:12], "--recorded-at", "2020-01-01", "--reason", "纸质记录上的日期"))
    assert refused(cli, digest).startswith("RK521")
    other = tmp_path / "other.txt"
    other.write_bytes(b"any other record, with no time of its own")
    carrier = cli.json("add", str(other))["files"][0]["digest"]
    ok(cli("record", "set", digest[:12], "--recorded-at", "2019-06-01", "--source", carrier,
           "--reason", "依登记表"))
    assert refused(cli, digest).startswith("RK521")
    assert digest not in [r["digest"] for r in cli.json("retention", "due")["records"]]


def test_disposal_is_all_or_nothing_and_names_each_refusal(cli, store, tmp_path):
    due = old_record(cli, tmp_path, 1)
    held = old_record(cli, tmp_path, 2)
    fresh = record(cli, tmp_path)
    ok(cli("hold", held))
    err = refused(cli, due, held, fresh)
    assert err.startswith("RK520")  # several reasons
    assert held[:12] in err and fresh[:12] in err and due[:12] not in err
    assert blob_path(store, due).exists() and events(store, "record.disposed") == []


def test_a_hold_on_a_case_or_party_covers_its_linked_records(cli, store, party, tmp_path):
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-15"))
    in_case = old_record(cli, tmp_path, 1, "--case", CASE, "--stage", "start")
    of_party = old_record(cli, tmp_path, 2, "--party", "P1")
    ok(cli("hold", "--case", "坡城管罚[2021]12号"))
    ok(cli("hold", "--party", "张三"))
    shown = {r["digest"]: r for r in cli.json("retention", "show", in_case, of_party)["records"]}
    assert shown[in_case]["holds"] == [f"case {CASE}", "party P1"]
    assert shown[of_party]["holds"] == ["party P1"]
    holds = {(h["kind"], h["ref"]): h["records"] for h in cli.json("retention", "holds")["holds"]}
    assert holds == {("case", CASE): 1, ("party", "P1"): 2}
    err = refused(cli, of_party)
    assert err.startswith("RK520") and "linked to party P1" in err and "held (party P1)" in err
    assert cli("hold", "--case", CASE).stdout.strip() == "already held"
    ok(cli("release", "--case", CASE))
    result = cli("release", "--case", CASE)
    assert result.exit_code == 1 and result.stderr.startswith("RK450")
    assert cli("hold").exit_code == 2
    assert cli("hold", in_case, "--case", CASE).exit_code == 2


def test_disposing_twice_is_refused_with_rk526(cli, tmp_path):
    digest = old_record(cli, tmp_path)
    ok(cli("dispose", digest, "--reason", "period over"))
    assert refused(cli, digest).startswith("RK526")


def test_dispose_needs_a_reason(cli, tmp_path):
    digest = old_record(cli, tmp_path)
    assert cli("dispose", digest).exit_code == 2
    result = cli("dispose", digest, "--reason", "  ")
    assert result.exit_code == 1 and result.stderr.startswith("RK404")


def test_an_interrupted_disposal_is_listed_and_finished_by_disposing_again(cli, store, tmp_path,
                                                                           monkeypatch):
    digest = old_record(cli, tmp_path)

    def failing_disk(self, digest):  # the removal fails after the journal entry
        from recordkeep import errors

        raise errors.StoreIOError("Input/output error while disposing of a blob")

    monkeypatch.setattr("recordkeep.store.objects.LocalObjects.dispose", failing_disk)
    result = cli("dispose", digest, "--reason", "period over")
    assert result.exit_code == 1 and result.stderr.startswith("RK106")
    monkeypatch.undo()
    assert blob_path(store, digest).exists()
    assert cli.json("retention", "due")["unfinished_disposals"] == [digest]
    assert cli.json("dispose", digest, "--reason", "period over")["finished"] == [digest]
    assert not blob_path(store, digest).exists() and len(events(store, "record.disposed")) == 1
    assert cli.json("retention", "due")["unfinished_disposals"] == []


def test_add_months_clamps_to_the_end_of_the_month():
    from datetime import datetime

    assert retention.add_months(datetime(2021, 8, 31), 6) == datetime(2022, 2, 28)
    assert retention.add_months(datetime(2021, 3, 15, 8, 30), 6) == datetime(2021, 9, 15, 8, 30)


def test_bytes_imported_again_after_disposal_restore_the_record_not_a_limbo(cli, store, tmp_path):
    digest = old_record(cli, tmp_path)
    ok(cli("dispose", digest, "--reason", "period over"))
    again = tmp_path / "copy-from-backup.bin"
    again.write_bytes(b"footage 1" * 100)
    ok(cli("add", str(again)))
    assert blob_path(store, digest).exists()  # the same bytes, stored again: evidence is never refused
    [restored] = events(store, "record.restored")
    assert restored["data"]["digest"] == "blake3:" + digest and restored["actor"] == "clerk@station1"
    assert restored["data"]["source"]["path"].endswith("copy-from-backup.bin")
    assert restored["data"]["disposed_seq"] == events(store, "record.disposed")[0]["seq"]
    assert "disposed" not in cli.json("search", "--limit", "10")["records"][0]
    path = blob_path(store, digest)
    path.chmod(0o644)
    path.write_bytes(b"changed" + path.read_bytes()[7:])  # verified again like any record
    report = cli.json("verify", "--full")
    assert [p["code"] for p in report["problems"]] == ["RK210"]
    assert cli.json("retention", "due")["unfinished_disposals"] == []


def test_retention_lock_on_a_local_store_has_no_object_lock_to_lengthen_and_journals_nothing(
        cli, store, tmp_path):
    digest = old_record(cli, tmp_path)
    ok(cli("retention", "keep", digest))
    assert cli.json("retention", "lock") == {"locked": []}
    assert cli.json("retention", "lock", digest[:12]) == {"locked": []}
    assert events(store, "retention.locked") == []
    assert cli.json("retention", "show", digest)["records"][0]["locked_until"] is None
    for wrong in ("zzzz", "deadbeef00"):  # not a digest; a digest of no record: said, even here
        refused_lock = cli("retention", "lock", wrong)
        assert refused_lock.exit_code in (1, 2) and refused_lock.stderr.startswith("RK4"), refused_lock.output


def test_an_important_record_whose_lock_cannot_be_lengthened_is_still_imported_and_the_receipt_says_so(
        cli, store, tmp_path):
    toml = store / "recordkeep.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[worm]\npermanent_days = -1\n", encoding="utf-8")
    card = tmp_path / "card"
    card.mkdir()
    (card / "DSJ001_440301123456_20210315083000_0001_IMP.MP4").write_bytes(b"important footage" * 100)
    receipt = cli.json("import", str(card))
    assert receipt["verdict"] == "may_wipe" and receipt["stored"] == 1
    assert receipt["lock_error"].startswith("RK") and "retention lock" in receipt["lock_error"]
    result = cli("import", str(card))  # seen again: its lock is tried again, and fails again
    assert result.exit_code == 0 and "notice: RK" in result.stdout
    toml.write_text(toml.read_text(encoding="utf-8").replace("permanent_days = -1", "permanent_days = 36500"),
                    encoding="utf-8")
    assert cli.json("import", str(card))["lock_error"] is None


def test_every_event_of_a_working_store_has_a_summary_of_its_own_in_log_and_the_custody_report(
        cli, store, party, tmp_path):
    """Holds, releases, disposal with its reason, officers, devices, checkpoints, publication,
    closing and erasure: an auditor reads what each did, not only its type."""
    ok(cli("officer", "add", "440301123456", "--name", "李四", "--unit", "一中队"))
    ok(cli("device", "add", "DSJ001", "--officer", "440301123456", "--from", "2021-01-01"))
    digest = old_record(cli, tmp_path)
    ok(cli("hold", digest, "--reason", "行政复议"))
    ok(cli("release", digest))
    ok(cli("dispose", digest, "--reason", "retention period over"))
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-15"))
    ok(cli("case", "publish", CASE, "--at", "2021-04-01"))
    ok(cli("case", "close", CASE, "--at", "2021-04-02"))
    ok(cli("party", "erase-pii", "P1", "--reason", "个人信息保护法第四十七条"))
    ok(cli("log", "checkpoint"))
    for scope in ((), ("--record", digest)):
        events = cli.json("log", *scope)["events"]
        bare = sorted({e["type"] for e in events if e["summary"] == e["type"]})
        assert bare == [], bare
    custody = cli("log", "--record", digest, "--report").stdout
    assert "retention period over" in custody and "行政复议" in custody


def test_in_chinese_holds_releases_erasures_and_check_name_their_targets_in_chinese(cli, store, party):
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-15"))
    assert "案件 " + CASE in ok(cli("--lang", "zh", "hold", "--case", CASE, "--reason", "行政复议")).stdout
    assert "案件 " + CASE in ok(cli("--lang", "zh", "release", "--case", CASE)).stdout
    erased = ok(cli("--lang", "zh", "party", "erase-pii", "P1", "--reason", "第四十七条")).stdout
    assert "身份证号" in erased and "id_number" not in erased
    checked = cli("--lang", "zh", "check", "--case", CASE).stdout
    assert "[办理中]" in checked and "[open]" not in checked


def test_a_hold_or_a_keep_of_a_record_already_disposed_of_is_refused_and_journals_nothing(
        cli, store, tmp_path):
    digest = old_record(cli, tmp_path)
    ok(cli("dispose", digest, "--reason", "retention period over"))
    journal = (store / "journal" / "events.jsonl").read_bytes()
    for args in (("hold", digest, "--reason", "court"),
                 ("retention", "keep", digest, "--reason", "典型案例")):
        result = cli(*args)
        assert result.exit_code == 1 and result.stderr.startswith("RK482"), result.output
        assert digest[:12] in result.stderr and "nothing is left to protect" in result.stderr
    assert (store / "journal" / "events.jsonl").read_bytes() == journal
    assert cli.json("retention", "show", digest)["records"][0]["keep_until"] is not None  # not "permanent"


def test_holding_again_with_a_reason_says_the_reason_was_not_recorded(cli, store, tmp_path):
    digest = old_record(cli, tmp_path)
    ok(cli("hold", digest))
    again = cli("hold", digest, "--reason", "court order 2021-17")
    assert again.exit_code == 0 and "already held" in again.output and "not recorded" in again.output
