"""No rule can be walked around, and nothing is decided on a broken chain."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import make_dump

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
    assert [e["type"] for e in lines[-3:]] == ["party.pii_shown", "journal.newline_restored",
                                               "officer.registered"]
    assert lines[-2]["data"] == {"seq": lines[-3]["seq"]}
    assert not list((cli.store / "journal" / "torn").iterdir())
    assert cli.json("log", "verify")["ok"] is True
    shown = [e for e in cli.json("log", "--party", "P1")["events"] if e["type"] == "party.pii_shown"]
    assert len(shown) == 1
    assert cli("rebuild-index").exit_code == 0
