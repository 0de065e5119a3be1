"""No rule can be walked around, and nothing is decided on a broken chain."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO, blob_path, make_dump
from .mounts import read_only_view

CASE = "坡城管罚〔2021〕12号"
PERSON_ID = "11010519491231002X"
OFFICER = make_dump.OFFICER_1


def journal(store: Path) -> Path:
    return store / "journal" / "events.jsonl"


def events(store: Path) -> list[dict]:
    return [json.loads(line) for line in journal(store).read_bytes().splitlines()]


# -- an acknowledged line is never set aside ------------------------------------------------
def test_a_last_line_without_its_newline_that_chains_is_kept_and_its_newline_restored(cli):
    assert cli("party", "add", "--name", "张三", "--id-number", PERSON_ID).exit_code == 0
    assert cli("party", "show", "P1", "--show-pii").exit_code == 0  # journals party.pii_shown
    data = journal(cli.store).read_bytes()
    assert data.endswith(b"\n")
    journal(cli.store).write_bytes(data[:-1])  # only the final newline lost
    assert cli.json("log", "verify")["ok"] is True
    shown_before = [e for e in cli.json("log", "--party", "P1")["events"] if e["type"] == "party.pii_shown"]
    assert len(shown_before) == 1
    assert cli("officer", "add", OFFICER, "--name", "李四").exit_code == 0  # the next writer
    lines = events(cli.store)
    assert [e["type"] for e in lines[-5:]] == ["party.pii_shown", "batch.signed", "journal.newline_restored",
                                               "officer.registered", "batch.signed"]
    assert lines[-3]["data"] == {"seq": lines[-4]["seq"]}
    assert not list((cli.store / "journal" / "torn").iterdir())
    assert cli.json("log", "verify")["ok"] is True
    shown = [e for e in cli.json("log", "--party", "P1")["events"] if e["type"] == "party.pii_shown"]
    assert len(shown) == 1
    assert cli("rebuild-index").exit_code == 0


# -- a hold cannot be walked around ---------------------------------------------------------
def case_with_a_record(cli, tmp_path: Path) -> str:
    assert cli("party", "add", "--name", "张三", "--id-number", PERSON_ID).exit_code == 0
    assert cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-01").exit_code == 0
    scan = tmp_path / "询问笔录.txt"
    scan.write_text("询问笔录 page 1", encoding="utf-8")
    receipt = cli.json("add", str(scan), "--case", CASE, "--stage", "investigate")
    return receipt["files"][0]["digest"]


def test_a_record_of_a_held_case_cannot_be_unlinked_and_so_disposed(cli, tmp_path):
    digest = case_with_a_record(cli, tmp_path)
    assert cli("hold", "--case", CASE, "--reason", "court").exit_code == 0
    unlinked = cli("case", "unlink", CASE, digest)
    assert unlinked.exit_code == 1 and unlinked.stderr.startswith("RK528"), unlinked.output
    assert cli("case", "close", CASE, "--at", "2021-06-01").exit_code == 0
    assert cli("case", "unlink", CASE, digest).stderr.startswith("RK528")
    disposed = cli("dispose", digest, "--reason", "x")
    assert disposed.exit_code == 1 and disposed.stderr.startswith(("RK522", "RK525", "RK520"))


def test_a_record_of_a_held_party_cannot_be_unlinked(cli, tmp_path):
    digest = case_with_a_record(cli, tmp_path)
    assert cli("hold", "--party", "P1").exit_code == 0
    assert cli("case", "unlink", CASE, digest).stderr.startswith("RK528")
    assert cli("release", "--party", "P1").exit_code == 0
    assert cli("case", "unlink", CASE, digest).exit_code == 0


def doctor(store: Path, sql: str) -> None:
    import sqlite3

    with sqlite3.connect(store / "index.sqlite") as conn:
        conn.execute(sql)


def old_unlinked_record(cli, tmp_path: Path) -> str:
    clip = tmp_path / f"DSJ001_{OFFICER}_20210315083000_0001.bin"
    clip.write_bytes(b"footage" * 100)
    return cli.json("add", str(clip))["files"][0]["digest"]


def test_dispose_refuses_held_linked_evidence_whose_index_rows_were_deleted(cli, tmp_path):
    case_with_a_record(cli, tmp_path)
    digest = old_unlinked_record(cli, tmp_path)  # recorded in 2021: long past its six months
    assert cli("case", "link", CASE, digest, "--stage", "investigate").exit_code == 0
    assert cli("hold", "--case", CASE, "--reason", "court").exit_code == 0
    doctor(cli.store, "DELETE FROM holds")
    doctor(cli.store, "DELETE FROM links")
    result = cli("dispose", digest, "--reason", "cover-up")
    assert result.exit_code == 3 and result.stderr.startswith("RK233"), result.output
    assert blob_path(cli.store, digest).exists()


def test_dispose_refuses_a_record_held_in_the_journal_whose_hold_row_was_deleted(cli, tmp_path):
    digest = old_unlinked_record(cli, tmp_path)
    assert cli("hold", digest, "--reason", "court").exit_code == 0
    doctor(cli.store, "DELETE FROM holds")
    result = cli("dispose", digest, "--reason", "cover-up")
    assert result.exit_code == 3 and result.stderr.startswith("RK233"), result.output



def test_dispose_refuses_a_held_record_whose_hold_and_event_refs_were_deleted_from_the_index(cli, tmp_path):
    """The index's list of the events about a record is the index's too: an insider who deletes
    the hold and the rows that lead to its event still meets the journal's own lines."""
    digest = old_unlinked_record(cli, tmp_path)
    assert cli("hold", digest, "--reason", "court").exit_code == 0
    held = next(e["seq"] for e in events(cli.store) if e["type"] == "retention.held")
    doctor(cli.store, "DELETE FROM holds")
    doctor(cli.store, f"DELETE FROM event_touches WHERE seq = {held}")
    result = cli("dispose", digest, "--reason", "cover-up")
    assert result.exit_code == 3 and result.stderr.startswith("RK233"), result.output
    assert blob_path(cli.store, digest).exists()


def test_a_record_whose_only_link_was_voided_is_disposed_as_the_index_says(cli, tmp_path):
    """A link entered by mistake and voided no longer protects the record, in the journal's
    replay as in the index: no false RK233."""
    case_with_a_record(cli, tmp_path)
    digest = old_unlinked_record(cli, tmp_path)
    assert cli("case", "link", CASE, digest, "--stage", "investigate").exit_code == 0
    linked = [e["seq"] for e in events(cli.store) if e["type"] == "record.linked"][-1]
    assert cli("case", "void", CASE, str(linked), "--reason", "linked by mistake").exit_code == 0
    result = cli("dispose", digest, "--reason", "retention period over")
    assert result.exit_code == 0, result.output
    assert not blob_path(cli.store, digest).exists()


def test_disposes_read_of_the_journal_goes_on_past_a_last_line_whose_newline_was_restored(cli, tmp_path):
    """dispose reads the journal before its lock and again under it: a last line that lacked its
    newline at the first read (restored by the next writer) is read again, not taken for a bad one."""
    from recordkeep import Archive
    from recordkeep.protection import Journaled

    first = old_unlinked_record(cli, tmp_path)
    whole = journal(cli.store).read_bytes()
    journal(cli.store).write_bytes(whole[:-1])  # its newline lost
    with Archive.open(cli.store) as archive:
        journaled = Journaled(archive, {first}).read_on()
        journal(cli.store).write_bytes(whole)
        note = tmp_path / "later.txt"
        note.write_bytes(b"a later record")
        later = cli.json("add", str(note))["files"][0]["digest"]
        journaled.wanted.add(later)
        journaled.read_on()
    assert set(journaled.records) == {first, later}

def test_a_link_taken_away_under_a_hold_deleted_from_the_index_fails_log_verify_and_keeps_its_record(
        cli, tmp_path):
    """The unlink's hold check reads the index: an insider who deletes the hold's row there can
    unlink, and a rebuild brings the hold back over nothing. The journal itself says the hold
    stood: log verify fails the unlink, and dispose refuses the record while the hold stands."""
    case_with_a_record(cli, tmp_path)
    digest = old_unlinked_record(cli, tmp_path)  # recorded in 2021: due, once unlinked
    assert cli("case", "link", CASE, digest, "--stage", "investigate").exit_code == 0
    assert cli("hold", "--case", CASE, "--reason", "court").exit_code == 0
    doctor(cli.store, "DELETE FROM holds")
    assert cli("case", "unlink", CASE, digest).exit_code == 0  # got around the check
    assert cli("rebuild-index").exit_code == 0
    unlinked = [e["seq"] for e in events(cli.store) if e["type"] == "record.unlinked"]

    checked = cli("log", "verify", "--json")
    assert checked.exit_code == 3, checked.output
    assert [(f["code"], f["seq"]) for f in json.loads(checked.stdout)["findings"]] == [("RK262", unlinked[0])]
    result = cli("dispose", digest, "--reason", "cover-up")
    assert result.exit_code == 1 and f"seq {unlinked[0]}" in result.stderr, result.output
    assert blob_path(cli.store, digest).exists()

    assert cli("release", "--case", CASE).exit_code == 0  # the hold released: the unlink counts now
    assert cli("dispose", digest, "--reason", "retention period over").exit_code == 0


def test_a_void_of_a_link_under_a_party_hold_deleted_from_the_index_fails_log_verify(cli, tmp_path):
    case_with_a_record(cli, tmp_path)
    digest = old_unlinked_record(cli, tmp_path)
    assert cli("case", "link", CASE, digest, "--stage", "investigate").exit_code == 0
    linked = [e["seq"] for e in events(cli.store) if e["type"] == "record.linked"][-1]
    assert cli("hold", "--party", "P1", "--reason", "court").exit_code == 0
    doctor(cli.store, "DELETE FROM holds")
    assert cli("case", "void", CASE, str(linked), "--reason", "linked by mistake").exit_code == 0
    voided = [e["seq"] for e in events(cli.store) if e["type"] == "case.voided"][-1]
    checked = cli.json("log", "verify")
    assert [(f["code"], f["seq"], f["notice"]) for f in checked["findings"]] == [("RK262", voided, False)]
    assert cli("rebuild-index").exit_code == 0
    result = cli("dispose", digest, "--reason", "cover-up")
    assert result.exit_code == 1 and "party P1" in result.stderr, result.output


def test_links_taken_away_with_no_hold_standing_leave_log_verify_clean(cli, tmp_path):
    """Holds released before an unlink, a void and a party's unlink pin nothing."""
    digest = case_with_a_record(cli, tmp_path)
    other = old_unlinked_record(cli, tmp_path)
    assert cli("case", "link", CASE, other, "--stage", "investigate", "--party", "P1").exit_code == 0
    assert cli("add", str(tmp_path / "询问笔录.txt"), "--party", "P1").exit_code == 0
    for target in (("--case", CASE), ("--party", "P1")):
        assert cli("hold", *target, "--reason", "court").exit_code == 0
        assert cli("release", *target).exit_code == 0
    linked = [e["seq"] for e in events(cli.store) if e["type"] == "record.linked"][1]
    assert cli("case", "void", CASE, str(linked), "--reason", "linked by mistake").exit_code == 0
    assert cli("case", "unlink", CASE, digest).exit_code == 0
    assert cli("party", "unlink", "P1", digest).exit_code == 0
    checked = cli.json("log", "verify")
    assert checked["ok"] and checked["findings"] == [], checked


@pytest.mark.parametrize("edit", [
    "first_at = '2020-01-01T00:00:00.000+08:00'",
    "recorded_at = '2020-01-01T00:00:00+08:00', recorded_utc = '2019-12-31T16:00:00.000Z'",
    "time_source = 'name'",
])
def test_dispose_refuses_a_fresh_record_whose_retention_times_were_backdated_in_the_index(
        cli, tmp_path, edit):
    """Retention counts from the first import and the recorded time: made older in the index,
    a record imported today would be due at once; the journal says when it came."""
    note = tmp_path / "fresh.txt"
    note.write_bytes(b"a scan imported today")
    digest = cli.json("add", str(note))["files"][0]["digest"]
    if "time_source" in edit:  # typed earlier than its import: counts only once later than it
        typed = cli("record", "set", digest, "--recorded-at", "2020-01-01", "--reason", "时钟校正")
        assert typed.exit_code == 0
    doctor(cli.store, f"UPDATE records SET {edit} WHERE digest = '{digest}'")
    result = cli("dispose", digest, "--reason", "cover-up")
    assert result.exit_code == 3 and result.stderr.startswith("RK233"), result.output
    assert blob_path(cli.store, digest).exists()


def test_a_record_whose_time_was_typed_and_typed_back_is_disposed_as_the_index_says(cli, tmp_path):
    """The journal's replay of amended times agrees with the index: no false RK233."""
    digest = old_unlinked_record(cli, tmp_path)
    imported = cli.json("search", "--limit", "5")["records"][0]["recorded_at"]
    typed = cli("record", "set", digest, "--recorded-at", "2021-03-16 09:00", "--reason", "时钟校正")
    assert typed.exit_code == 0
    other = tmp_path / "登记表.txt"
    other.write_bytes(b"the device log")
    cited = cli.json("add", str(other))["files"][0]["digest"]
    assert cli("record", "set", digest, "--recorded-at", "2021-03-16 09:30", "--source", cited,
               "--reason", "依登记表").exit_code == 0
    assert cli("record", "set", digest, "--recorded-at", imported, "--reason", "上次录入错误").exit_code == 0
    result = cli("dispose", digest, "--reason", "retention period over")
    assert result.exit_code == 0, result.output


def test_log_verify_index_finds_each_table_changed_by_hand_that_check_and_show_answer_from(cli, tmp_path):
    """check, case show and export answer from the index: an amount lowered, a link deleted or
    an actor renamed there is found by comparing the index with a fresh fold of the journal."""
    digest = case_with_a_record(cli, tmp_path)
    assert cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "150000",
               "--at", "2021-03-20").exit_code == 0
    clean = cli.json("log", "verify", "--index")
    assert clean["ok"] and clean["findings"] == [] and clean["index"] == "matches", clean
    assert "index.sqlite: matches a fold of the journal" in cli("log", "verify", "--index").stdout
    assert cli.json("log", "verify")["index"] is None  # not compared, not said to match
    doctor(cli.store, f"UPDATE decisions SET amount = '5000.00' WHERE case_no = '{CASE}'")
    doctor(cli.store, f"DELETE FROM links WHERE digest = '{digest}'")
    doctor(cli.store, "UPDATE events SET actor = 'someone@else' WHERE type = 'case.opened'")
    result = cli("log", "verify", "--index", "--json")
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["index"] == "differs"
    found = {f["message"].split(":")[0]: f for f in json.loads(result.stdout)["findings"]}
    tables = {"index.sqlite table " + t for t in ("decisions", "links", "events")}
    assert tables <= set(found)
    assert all(f["code"] == "RK233" and not f["notice"] for f in found.values())
    assert "5000.00" in found["index.sqlite table decisions"]["message"]
    assert cli("log", "verify").exit_code == 0  # without --index: the journal alone, as before
    people = cli("log", "verify", "--index")
    assert people.exit_code == 3 and "PROBLEM RK233" in people.stdout
    assert "OK, but index.sqlite differs from a fold of it" in people.stdout
    assert cli("rebuild-index").exit_code == 0
    assert cli.json("log", "verify", "--index")["findings"] == []


def test_log_verify_index_counts_a_row_duplicated_by_hand(cli, tmp_path):
    """EXCEPT compares sets: a row copied in a table without a key is found by its count."""
    old_unlinked_record(cli, tmp_path)
    doctor(cli.store, "INSERT INTO sightings SELECT * FROM sightings LIMIT 1")
    result = cli("log", "verify", "--index", "--json")
    assert result.exit_code == 3, result.output
    [found] = json.loads(result.stdout)["findings"]
    assert found["message"].startswith("index.sqlite table sightings: 1 row(s)")


def test_an_index_migrated_in_place_that_differs_from_a_fold_is_a_notice_not_a_failure(cli, tmp_path):
    """An index upgraded by migrations may honestly hold less than a fresh fold (what a
    migration could not fill, as meta's layout for a store indexed before it was kept): said,
    with rebuild-index as the way to a proved index, never exit 3."""
    old_unlinked_record(cli, tmp_path)
    doctor(cli.store, "UPDATE _sqlite_migrations SET applied_at = '2030-01-01 00:00:00+00:00' "
                      "WHERE id = (SELECT max(id) FROM _sqlite_migrations)")  # applied at an upgrade
    doctor(cli.store, "DELETE FROM meta WHERE key = 'layout'")
    report = cli.json("log", "verify", "--index")
    [found] = report["findings"]
    assert report["ok"] and found["code"] == "RK233" and found["notice"], report
    assert "migrated in place" in found["message"] and "table meta" in found["message"]
    assert cli("rebuild-index").exit_code == 0
    assert cli.json("log", "verify", "--index")["findings"] == []


@pytest.mark.slow  # a real read-only bind mount
def test_log_verify_index_compares_a_read_only_stores_index_as_an_auditor_gets_it(cli, tmp_path):
    import sqlite3

    old_unlinked_record(cli, tmp_path)
    doctor(cli.store, "UPDATE records SET kind = 'document'")
    with sqlite3.connect(cli.store / "index.sqlite") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # nothing left in a -wal beside it
    with read_only_view(cli.store, tmp_path / "ro") as view:
        checked = subprocess.run([sys.executable, str(REPO / "cli.py"), "--store", str(view), "log", "verify",
                                  "--index", "--json"], capture_output=True, text=True)
    assert checked.returncode == 3 and "Traceback" not in checked.stderr, checked.stderr
    assert "index.sqlite table records" in checked.stdout


def test_a_due_record_the_journal_agrees_on_is_disposed(cli, tmp_path):
    digest = old_unlinked_record(cli, tmp_path)
    assert cli("dispose", digest, "--reason", "retention period over").exit_code == 0


# -- nothing is decided on a broken chain -------------------------------------------------
def decided_case(cli, tmp_path: Path) -> None:
    case_with_a_record(cli, tmp_path)
    assert cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "150000",
               "--at", "2021-04-01").exit_code == 0
    assert cli.json("stats")["decisions"]["total_amount"] == "150000.00"


def edit_the_amount(store: Path) -> None:
    data = journal(store).read_bytes()
    assert data.count(b'"amount":"150000.00"') == 1
    journal(store).write_bytes(data.replace(b'"amount":"150000.00"', b'"amount":"15000.00"'))


def test_a_line_edited_in_the_journal_stops_every_decision_with_the_first_bad_line(cli, tmp_path):
    decided_case(cli, tmp_path)
    edit_the_amount(cli.store)
    index_before = (cli.store / "index.sqlite").read_bytes()
    assert cli("log", "verify").exit_code == 3
    decisions = [("rebuild-index",), ("stats",), ("check",),
                 ("export", "--case", CASE, str(tmp_path / "bag")),
                 ("dispose", "0" * 8, "--reason", "x"),
                 ("case", "stage", CASE, "serve", "--at", "2021-05-01"),
                 ("party", "add", "--name", "李四", "--id-number", "110101198512151237"),
                 ("case", "link", CASE, "--officer", OFFICER, "--from", "2021-03-01", "--to", "2021-03-02",
                  "--stage", "investigate"), ("hold", "--case", CASE)]
    for args in decisions:
        result = cli(*args)
        assert result.exit_code == 3, (args, result.output)
        assert result.stderr.startswith("RK225"), args
        assert "line" in result.stderr and "RK221" in result.stderr, args
    assert not (tmp_path / "bag").exists()
    assert (cli.store / "index.sqlite").read_bytes()[:100] == index_before[:100]
    assert cli.json("search", "张三")["parties"][0]["key"] == "P1"  # reads still answer


def test_evidence_still_comes_off_the_card_on_a_broken_chain_with_a_warning(cli, tmp_path):
    decided_case(cli, tmp_path)
    edit_the_amount(cli.store)
    clip = tmp_path / "card" / f"DSJ001_{OFFICER}_20210316083000_0002.MP4"
    clip.parent.mkdir()
    clip.write_bytes(b"more footage" * 100)
    result = cli("import", str(clip.parent))
    assert result.exit_code == 0, result.output
    assert "may be wiped" in result.stdout
    assert "WARNING: the journal's chain is broken" in result.stderr



def test_a_journal_whose_last_batch_was_cut_fails_log_verify_and_rebuild_keeps_the_index_as_its_trace(
        cli, tmp_path):
    """The chain of what is left agrees with itself; only the index still knows the last
    event. log verify (which verify's RK230 points to) must say so, and rebuild-index must not
    replace the index with one built from the cut journal."""
    note = tmp_path / "note.txt"
    note.write_bytes(b"the last thing added")
    assert cli("add", str(note)).exit_code == 0
    lines = journal(cli.store).read_bytes().splitlines(keepends=True)
    journal(cli.store).write_bytes(b"".join(lines[:-3]))  # the add's record, receipt and seal
    assert cli("verify").exit_code == 3
    checked = cli("log", "verify", "--json")
    assert checked.exit_code == 3 and "RK230" in [f["code"] for f in json.loads(checked.stdout)["findings"]]
    index_before = (cli.store / "index.sqlite").read_bytes()
    rebuilt = cli("rebuild-index")
    assert rebuilt.exit_code == 3 and rebuilt.stderr.startswith("RK230"), rebuilt.output
    assert (cli.store / "index.sqlite").read_bytes() == index_before
    assert cli("log", "verify").exit_code == 3



def test_a_cut_journal_is_found_while_another_process_holds_the_index_open_its_wal_unmerged(cli, tmp_path):
    """The index's last folds may sit in its WAL (another command has it open): log verify must
    read them, not only the main file."""
    import sqlite3

    holder = sqlite3.connect(cli.store / "index.sqlite")
    try:
        holder.execute("SELECT 1 FROM meta").fetchall()
        for n in range(2):
            note = tmp_path / f"note{n}.txt"
            note.write_bytes(b"added while the index is held open %d" % n)
            assert cli("add", str(note)).exit_code == 0
        lines = journal(cli.store).read_bytes().splitlines(keepends=True)
        journal(cli.store).write_bytes(b"".join(lines[:-3]))
        checked = cli("log", "verify", "--json")
    finally:
        holder.close()
    assert checked.exit_code == 3 and "RK230" in [f["code"] for f in json.loads(checked.stdout)["findings"]]

@pytest.mark.slow  # a real read-only bind mount
def test_a_cut_journal_is_found_by_log_verify_on_a_read_only_store_too(cli, tmp_path):
    """A read-only store's index is copied and caught up from the cut journal: log verify must
    read the last event the store's own index folded, as it is."""
    note = tmp_path / "note.txt"
    note.write_bytes(b"the last thing added")
    assert cli("add", str(note)).exit_code == 0
    lines = journal(cli.store).read_bytes().splitlines(keepends=True)
    journal(cli.store).write_bytes(b"".join(lines[:-3]))
    with read_only_view(cli.store, tmp_path / "ro") as view:
        checked = subprocess.run([sys.executable, str(REPO / "cli.py"), "--store", str(view), "log", "verify",
                                  "--json"], capture_output=True, text=True)
    assert checked.returncode == 3, checked.stderr
    assert "RK230" in [f["code"] for f in json.loads(checked.stdout)["findings"]]

def test_the_index_corrupt_hint_says_log_verify_never_rebuild():
    from recordkeep import errors

    assert "log verify" in errors.IndexCorrupt.hint and "rebuild" not in errors.IndexCorrupt.hint


# -- bags checked whole ---------------------------------------------------------------------
def exported_bag(cli, tmp_path: Path) -> Path:
    case_with_a_record(cli, tmp_path)
    bag = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(bag)).exit_code == 0
    assert cli.json("log", "verify", "--bag", str(bag))["ok"] is True
    return bag


def strip_line(bag: Path) -> None:
    path = bag / "recordkeep" / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))


def empty_journal(bag: Path) -> None:
    (bag / "recordkeep" / "journal.jsonl").write_bytes(b"")


def rewind_head(bag: Path) -> None:
    info = bag / "bag-info.txt"
    text = info.read_text(encoding="utf-8")
    info.write_text(re.sub(r"Recordkeep-Journal-Head: \d+ ([0-9a-f]{64})",
                           "Recordkeep-Journal-Head: 1 " + events_of(bag)[0]["hash"], text), encoding="utf-8")


def change_payload(bag: Path) -> None:
    [payload] = [p for p in (bag / "data").rglob("*") if p.is_file()]
    payload.write_bytes(payload.read_bytes() + b" and one line more")


def events_of(bag: Path) -> list[dict]:
    return [json.loads(x) for x in (bag / "recordkeep" / "journal.jsonl").read_bytes().splitlines()]


@pytest.mark.parametrize("strip", [strip_line, empty_journal, rewind_head, change_payload],
                         ids=["a line lost", "journal emptied", "head rewound to seq 1", "payload changed"])
def test_log_verify_bag_fails_on_a_stripped_bag_as_bagit_py_does(cli, tmp_path, strip):
    import bagit

    bag = exported_bag(cli, tmp_path)
    strip(bag)
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag)).validate()
    result = cli("log", "verify", "--bag", str(bag))
    assert result.exit_code == 3, result.output
    assert "PROBLEM" in result.stdout


# -- housekeeping -------------------------------------------------------------------------
def leftover(folder: Path, name: str, *, hours_old: float) -> Path:
    path = folder / name
    path.write_bytes(b"half a blob")
    then = time.time() - hours_old * 3600
    os.utime(path, (then, then))
    return path


def dead_pid() -> int:
    """A process id no process has now (its writer is gone)."""
    pid = int(subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True).stdout)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid += 1


def test_a_killed_writers_temporaries_are_listed_by_verify_and_removed_by_the_next_write(cli):
    host = socket.gethostname()
    tmp = cli.store / "tmp"
    stale = leftover(tmp, f"{host}.{dead_pid()}.0123456789ab.part", hours_old=2)
    recent = leftover(tmp, f"{host}.{dead_pid()}.abcdef012345.part", hours_old=0.1)
    running = leftover(tmp, f"{host}.{os.getpid()}.fedcba987654.part", hours_old=3)
    notices = cli.json("verify")["notices"]
    assert [n["path"] for n in notices if n["code"] == "RK217"] == [f"tmp/{stale.name}"]
    assert cli("officer", "add", OFFICER, "--name", "李四").exit_code == 0
    assert not stale.exists() and recent.exists() and running.exists()


def test_a_killed_exports_partial_folder_is_removed_by_the_next_export_there(cli, tmp_path):
    case_with_a_record(cli, tmp_path)
    out = tmp_path / "usb"
    out.mkdir()
    partial = out / f".bag.partial-{socket.gethostname()}.{dead_pid()}.0123456789ab"
    partial.mkdir()
    (partial / "bagit.txt").write_text("BagIt-Version: 1.0\n", encoding="utf-8")
    then = time.time() - 7200
    os.utime(partial, (then, then))
    assert cli("export", "--case", CASE, str(out / "bag")).exit_code == 0
    assert not partial.exists() and (out / "bag" / "bagit.txt").exists()


def test_add_to_a_case_journals_records_links_and_receipt_in_one_append(cli, tmp_path):
    case_with_a_record(cli, tmp_path)
    before = len(events(cli.store))
    scans = [tmp_path / f"scan{i}.txt" for i in range(3)]
    for i, scan in enumerate(scans):
        scan.write_text(f"送达回证 {i}", encoding="utf-8")
    assert cli("add", *map(str, scans), "--case", CASE, "--stage", "serve").exit_code == 0
    added = events(cli.store)[before:]
    assert [e["type"] for e in added] == ["record.imported"] * 3 + ["record.linked", "batch.finished",
                                                                     "batch.signed"]
    assert len({e["at"] for e in added}) == 1  # one append: one time for all its lines


def test_log_verify_index_says_not_compared_when_it_could_not_compare(cli, tmp_path):
    old_unlinked_record(cli, tmp_path)
    doctor(cli.store, "ALTER TABLE officers ADD COLUMN extra")  # another schema: not compared
    report = cli.json("log", "verify", "--index")
    assert report["index"] == "not compared" and report["ok"], report
    assert "matches a fold" not in cli("log", "verify", "--index").stdout
