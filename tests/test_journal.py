"""The journal: canonical lines, an unbroken chain, tampering named at its line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from recordkeep import Archive, add_files, errors
from recordkeep.store.hashing import hash_bytes
from recordkeep.store.journal import ZERO_HASH, Draft, canonical, event_hash


def lines(store: Path) -> list[bytes]:
    return (store / "journal" / "events.jsonl").read_bytes().splitlines(keepends=True)


def write_lines(store: Path, new: list[bytes]) -> None:
    (store / "journal" / "events.jsonl").write_bytes(b"".join(new))


@pytest.fixture
def busy_store(store: Path, tmp_path: Path) -> Path:
    """A store with several events: files added and a verify run."""
    for i in range(4):
        (tmp_path / f"f{i}.txt").write_text(f"file {i}")
    with Archive.open(store, actor="clerk@station1") as archive:
        add_files(archive, [tmp_path / "f0.txt", tmp_path / "f1.txt"])
        add_files(archive, [tmp_path / "f2.txt", tmp_path / "f3.txt"])
    return store


def test_every_line_is_canonical_json_chained_from_64_zeros(busy_store):
    prev = ZERO_HASH
    for seq, raw in enumerate(lines(busy_store), start=1):
        assert raw.endswith(b"\n")
        event = json.loads(raw)
        assert sorted(event) == ["actor", "at", "data", "hash", "prev", "seq", "type"]
        assert canonical(event) + b"\n" == raw
        assert event["seq"] == seq and event["prev"] == prev
        body = {k: v for k, v in event.items() if k != "hash"}
        assert event["hash"] == hash_bytes(canonical(body))
        prev = event["hash"]


def test_the_actor_is_inside_the_hash(busy_store):
    raw = lines(busy_store)
    event = json.loads(raw[1])
    event["actor"] = "someone-else@elsewhere"
    assert event_hash(event) != event["hash"]


def test_times_carry_milliseconds_and_the_store_offset(busy_store):
    at = json.loads(lines(busy_store)[0])["at"]
    assert at.endswith("+08:00") and len(at.split(".")[1]) == len("123+08:00")


def test_a_non_utf8_name_is_journaled_as_path_hex(store, tmp_path):
    raw_name = "询问笔录".encode("gbk") + b".txt"
    path = os.path.join(os.fsencode(tmp_path), raw_name)
    with open(path, "wb") as f:
        f.write(b"gbk named")
    with Archive.open(store) as archive:
        add_files(archive, [path])
    events = [json.loads(r) for r in lines(store)]
    imported = next(e for e in events if e["type"] == "record.imported")
    assert "path" not in imported["data"]["source"]
    assert bytes.fromhex(imported["data"]["source"]["path_hex"]).endswith(raw_name)


def test_events_refuse_floats(archive):
    with pytest.raises(ValueError, match="float"):
        archive.commit([Draft("verify.run", {"ratio": 0.5})])


def test_append_fails_when_the_head_moved(archive):
    head = archive.journal.head()
    archive.commit([Draft("verify.run", {"mode": "fast", "scope": {}, "result": "ok"})])
    with pytest.raises(errors.HeadMoved):
        archive.journal.append([Draft("verify.run", {})], actor="x@y", at="2021-01-01T00:00:00.000+08:00",
                               expect_head=head.hash)


def test_log_head_prints_seq_and_hash_of_the_last_line(busy_store, cli):
    last = json.loads(lines(busy_store)[-1])
    assert cli.json("log", "head") == {"seq": last["seq"], "hash": last["hash"]}


def test_an_intact_journal_verifies(busy_store, cli):
    result = cli("log", "verify")
    assert result.exit_code == 0, result.output


def test_editing_a_journal_line_is_found_by_log_verify(busy_store, cli):
    raw = lines(busy_store)
    event = json.loads(raw[2])
    event["actor"] = "forger@nowhere"
    raw[2] = canonical(event) + b"\n"
    write_lines(busy_store, raw)
    report = cli.json("log", "verify")
    assert report["ok"] is False
    assert report["problem"]["line"] == 3 and report["problem"]["code"] == "RK221"
    assert cli("log", "verify").exit_code == 3


def test_editing_a_line_and_rehashing_it_is_found_at_the_next_line(busy_store, cli):
    raw = lines(busy_store)
    event = json.loads(raw[2])
    event["actor"] = "forger@nowhere"
    event["hash"] = event_hash(event)
    raw[2] = canonical(event) + b"\n"
    write_lines(busy_store, raw)
    problem = cli.json("log", "verify")["problem"]
    assert problem["line"] == 4 and problem["code"] == "RK222"


def test_deleting_a_journal_line_is_found_by_log_verify(busy_store, cli):
    raw = lines(busy_store)
    del raw[3]
    write_lines(busy_store, raw)
    problem = cli.json("log", "verify")["problem"]
    assert problem["line"] == 4 and problem["code"] == "RK223" and "deleted" in problem["message"]


def test_reordering_journal_lines_is_found_by_log_verify(busy_store, cli):
    raw = lines(busy_store)
    raw[2], raw[3] = raw[3], raw[2]
    write_lines(busy_store, raw)
    problem = cli.json("log", "verify")["problem"]
    assert problem["line"] == 3 and problem["code"] == "RK223"


def test_inserting_a_journal_line_is_found_by_log_verify(busy_store, cli):
    raw = lines(busy_store)
    raw.insert(2, raw[1])
    write_lines(busy_store, raw)
    problem = cli.json("log", "verify")["problem"]
    assert problem["line"] == 3 and problem["code"] == "RK223"


def test_deleting_the_last_lines_is_found_with_a_head_noted_earlier(busy_store, cli):
    head = cli.json("log", "head")
    assert cli("log", "verify", "--head", head["hash"]).exit_code == 0
    raw = lines(busy_store)
    write_lines(busy_store, raw[:-1])
    result = cli("log", "verify", "--head", head["hash"])
    assert result.exit_code == 3
    assert "RK224" in result.output


def test_a_head_from_the_past_is_still_proved_after_more_appends(busy_store, cli, tmp_path):
    head = cli.json("log", "head")
    (tmp_path / "later.txt").write_text("later")
    cli("add", str(tmp_path / "later.txt"))
    assert cli.json("log", "verify", "--head", head["hash"])["head_found"] is True


def test_a_torn_tail_is_set_aside_and_journaled_by_the_next_writer(busy_store, cli, tmp_path):
    journal = busy_store / "journal" / "events.jsonl"
    with open(journal, "ab") as f:
        f.write(b'{"actor":"clerk@station1","at":"2021-')
    report = cli.json("log", "verify")
    assert report["ok"] is True and report["torn_tail_bytes"] > 0
    (tmp_path / "next.txt").write_text("next")
    assert cli("add", str(tmp_path / "next.txt")).exit_code == 0
    torn = list((busy_store / "journal" / "torn").iterdir())
    assert len(torn) == 1 and torn[0].read_bytes() == b'{"actor":"clerk@station1","at":"2021-'
    events = [json.loads(r) for r in lines(busy_store)]
    set_aside = [e for e in events if e["type"] == "journal.torn_set_aside"]
    assert len(set_aside) == 1 and set_aside[0]["data"]["file"] == f"journal/torn/{torn[0].name}"
    assert cli("log", "verify").exit_code == 0


def test_docs_journal_md_lists_every_event_type():
    from recordkeep.index import HANDLERS

    text = (Path(__file__).parent.parent / "docs" / "journal.md").read_text(encoding="utf-8")
    missing = [t for t in HANDLERS if f"`{t}`" not in text]
    assert missing == []
