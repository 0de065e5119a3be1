"""Nothing the store accepts can break it: every input a hostile or careless user typed ends
in a clear RK error with nothing journaled, or is stored and said honestly; no traceback,
and no input leaves a store that later commands cannot open."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from recordkeep import Archive
from recordkeep.store.journal import Draft

from .conftest import REPO, make_dump, run_recordkeep

CASE = "坡城管罚〔2021〕12号"
PERSON_ID = "11010519491231002X"
OFFICER = make_dump.OFFICER_1


def journal_lines(store: Path) -> int:
    return (store / "journal" / "events.jsonl").read_bytes().count(b"\n")


def refused(cli, *args: str, code: str, exit_code: int = 1) -> str:
    """Run a command that must be refused with ``code``; nothing may be journaled."""
    before = journal_lines(cli.store)
    result = cli(*args)
    assert result.exit_code == exit_code, result.output
    assert result.stderr.startswith(code), result.stderr
    assert "Traceback" not in result.output
    assert journal_lines(cli.store) == before
    return result.stderr


@pytest.fixture
def case_store(cli):
    assert cli("party", "add", "--name", "张三", "--id-number", PERSON_ID).exit_code == 0
    assert cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-01").exit_code == 0
    return cli


def file_named(folder: Path, name: str) -> Path:
    """Distinct bytes under a body camera's file name (the name is what is under test)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(name.encode() + os.urandom(64))
    return folder / name


# -- one date bricked a store ---------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("case", "stage", CASE, "investigate", "--at", "0001-01-01"),
    ("case", "decide", CASE, "--penalty-kind", "warning", "--at", "0001-01-01"),
    ("case", "publish", CASE, "--at", "0001-01-01"),
    ("case", "close", CASE, "--at", "0001-01-01"),
    ("case", "stage", CASE, "investigate", "--at", "2021-03-02", "--until", "9999-12-31"),
    ("device", "add", "DSJ001", "--officer", OFFICER, "--from", "1969-12-31"),
])
def test_a_time_outside_the_window_is_refused_and_nothing_is_journaled(case_store, args):
    refused(case_store, *args, code="RK412")


@pytest.mark.parametrize("args", [
    ("search", "--since", "0001-01-01"),
    ("search", "--until", "9999-12-31"),
    ("stats", "--year", "1"),
    ("check", "--year", "9998"),
    ("retention", "due", "--as-of", "0001-01-01"),
])
def test_a_read_with_a_time_outside_the_window_is_one_clear_error(case_store, args):
    refused(case_store, *args, code="RK412")


def test_a_file_named_with_year_1_is_stored_its_time_ignored_and_the_store_keeps_working(cli, tmp_path):
    dump = tmp_path / "dump"
    file_time = 1615766400  # 2021-03-15 08:00 in Shanghai: the clip is dated by it instead, marked
    for name in (f"DSJ001_{OFFICER}_00010101000000_0001.MP4", f"DSJ001_{OFFICER}_99991231235959_0002.MP4"):
        os.utime(file_named(dump, name), (file_time, file_time))
    receipt = cli.json("import", str(dump))
    assert receipt["stored"] == 2 and receipt["not_stored"] == 0
    found = cli.json("search")["records"]
    assert [(r["recorded_at"], r["time_source"]) for r in found] == [
        ("2021-03-15T08:00:00.000+08:00", "mtime")] * 2
    for args in (("rebuild-index",), ("retention", "due", "--as-of", "2099-12-31"), ("stats",),
                 ("verify",), ("log",), ("check",)):
        result = cli(*args)
        assert result.exit_code == 0 and "Traceback" not in result.output, (args, result.output)
    log = cli.json("log", "--record", found[0]["digest"])
    imported = next(e for e in log["events"] if e["type"] == "record.imported")
    assert imported["data"]["time_ignored"][0]["source"] == "name"


def test_an_event_journaled_with_year_1_before_times_had_limits_still_folds(store, cli):
    with Archive.open(store, actor="clerk@station1") as archive:
        archive.commit([Draft("officer.registered", {"cert_no": OFFICER, "name": "李四"})])
        archive.commit([Draft("device.assigned", {"device": "DSJ001", "officer": OFFICER,
                                                  "from": "0001-01-01T00:00:00.000+08:05"})])
    for args in (("rebuild-index",), ("device", "list"), ("stats",), ("search",)):
        result = cli(*args)
        assert result.exit_code == 0 and "Traceback" not in result.output, (args, result.output)


# -- numbers and limits ------------------------------------------------------------------
@pytest.mark.parametrize("amount", ["1,50", "-0", "+5", "1e400", "1E3", "9" * 38, "１，５００",
                                    "10000000000000", "1.005", "", " ", "NaN", "Infinity", "0x10", "1_000"])
def test_an_amount_that_is_not_a_plain_decimal_is_refused(case_store, amount):
    refused(case_store, "case", "decide", CASE, "--penalty-kind", "fine", "--amount", amount, code="RK443")


@pytest.mark.parametrize("amount, stored", [("１５００", "1500.00"), ("0.5", "0.50"), ("9999999999999.99",
                                                                                    "9999999999999.99")])
def test_a_plain_amount_is_taken_exactly(case_store, amount, stored):
    decided = case_store.json("case", "decide", CASE, "--penalty-kind", "fine", "--amount", amount)
    assert decided["amount"] == stored


@pytest.mark.parametrize("kind", ["warning", "suspend", "revoke", "other"])
def test_an_amount_on_a_penalty_that_carries_no_money_is_refused(case_store, kind):
    refused(case_store, "case", "decide", CASE, "--penalty-kind", kind, "--amount", "500", code="RK446")


def test_a_huge_search_limit_is_one_clear_error(case_store):
    for limit in ("99999999999999999999", "100001"):
        result = case_store("search", "--limit", limit)
        assert result.exit_code in (1, 2) and "Traceback" not in result.output, result.output
        assert result.stderr.startswith(("RK416", "Usage")), result.stderr


def test_an_endless_retention_setting_is_a_settings_error(case_store):
    with open(case_store.store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write("\n[retention]\nordinary_months = 999999999\n")
    refused(case_store, "retention", "due", code="RK104")


def test_a_window_setting_outside_the_calendar_is_a_settings_error(case_store):
    with open(case_store.store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write('\n[limits]\nlatest = "9999-12-31"\n')
    refused(case_store, "search", code="RK104")


@pytest.mark.parametrize("setting", ["latest = 2090-12-31T00:00:00", "earliest = 1980-01-01T00:00:00\n"
                                     "latest = 2090-12-31T00:00:00+08:00", "latest = 2090-12-31 00:00:00"])
def test_a_window_setting_that_is_a_time_not_a_date_is_a_settings_error_not_a_traceback(case_store, setting):
    with open(case_store.store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write(f"\n[limits]\n{setting}\n")
    refused(case_store, "log", "head", code="RK104")
    assert "YYYY-MM-DD" in case_store("search").stderr


# -- text fields ----------------------------------------------------------------------------
BAD_TEXT = {"newline": "张三\nseq 9 forged line", "carriage return": "张三\r", "tab": "张\t三",
            "bidi override": "\u202emv@toor", "nul": "张\x00三", "line separator": "张\u2028三",
            "undecodable byte": "张\udcff三"}


@pytest.mark.parametrize("what", sorted(BAD_TEXT))
def test_a_party_name_with_control_characters_is_refused(cli, what):
    refused(cli, "party", "add", "--name", BAD_TEXT[what], "--id-number", PERSON_ID, code="RK413")


@pytest.mark.parametrize("what", sorted(BAD_TEXT))
def test_a_case_number_title_action_or_note_with_control_characters_is_refused(case_store, what):
    bad = BAD_TEXT[what]
    refused(case_store, "case", "open", f"坡城管罚〔2021〕{bad}号", "--party", "P1", "--at", "2021-03-01",
            code="RK413")
    refused(case_store, "case", "stage", CASE, "investigate", "--at", "2021-03-02", "--note", bad,
            code="RK413")


def test_a_doc_type_with_a_line_break_is_refused_and_nothing_stored(cli, tmp_path):
    scan = tmp_path / "scan.txt"
    scan.write_text("page", encoding="utf-8")
    refused(cli, "add", str(scan), "--doc-type", "询问笔录\nforged", code="RK413")
    assert not [p for p in (cli.store / "objects").rglob("*") if p.is_file()]


@pytest.mark.parametrize("actor", ["\u202emv@toor", "two words", "a\nb", "x" * 65, "clerk;rm", ""])
def test_an_actor_that_is_not_a_name_is_refused(cli, actor):
    before = journal_lines(cli.store)
    result = cli("officer", "add", OFFICER, "--name", "李四", actor=actor)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(("RK413", "RK414")), result.stderr
    assert journal_lines(cli.store) == before


def test_a_new_key_or_store_for_an_empty_actor_is_refused_not_made_for_the_default_one(cli, tmp_path):
    result = cli("key", "new", "--actor", "")
    assert result.exit_code == 1 and result.stderr.startswith("RK414"), result.output
    elsewhere = tmp_path / "another"
    made = CliRunner().invoke(main, ["--store", str(elsewhere), "--actor", "", "init"])
    assert made.exit_code == 1 and made.stderr.startswith("RK414"), made.output
    assert not elsewhere.exists()


def test_an_actor_with_cjk_letters_digits_and_dots_is_accepted(cli):
    result = cli("officer", "add", OFFICER, "--name", "李四", actor="张科员.station-1@坡头")
    assert result.exit_code == 0, result.output


def test_an_argument_that_is_not_utf8_is_refused_in_one_line(store):
    done = run_recordkeep("party", "add", "--name", "x", "--id-number", PERSON_ID, store=store)
    assert done.returncode == 0
    bad = subprocess.run([sys.executable, str(REPO / "cli.py"), "--store", str(store), "party", "add",
                          "--name", b"\xff\xfe", "--id-number", "110101198512151237"],
                         capture_output=True, env={**os.environ, "RECORDKEEP_ACTOR": "proc@test"})
    assert bad.returncode == 1 and bad.stderr.startswith(b"RK413"), bad.stderr
    assert b"Traceback" not in bad.stderr and bad.stderr.count(b"\n") == 1
    command = [sys.executable, str(REPO / "cli.py"), "--store", str(store), "case", "show", b"\xff"]
    shown = subprocess.run(command, capture_output=True, env={**os.environ, "RECORDKEEP_ACTOR": "proc@test"})
    assert shown.returncode == 1 and b"Traceback" not in shown.stderr, shown.stderr


@pytest.mark.parametrize("args", [("party", "show", "P99999999999999999999999"),
                                  ("search", "--party", "P99999999999999999999999"),
                                  ("log", "--party", "P99999999999999999999999")])
def test_a_party_number_past_any_integer_is_no_party_not_a_traceback(case_store, args):
    refused(case_store, *args, code="RK430")


@pytest.mark.parametrize("url", ["http://[::1", "http://localhost:99999/tsa"])
def test_a_tsa_url_that_does_not_parse_is_refused_as_a_value_not_a_traceback(case_store, url):
    refused(case_store, "log", "checkpoint", "--tsa", url, code="RK404")


def test_a_key_id_or_export_destination_that_is_not_utf8_is_refused_before_anything_is_written(
        case_store, tmp_path):
    store = case_store.store
    env = {**os.environ, "RECORDKEEP_ACTOR": "clerk@station1"}
    before = journal_lines(store)
    revoke = [sys.executable, str(REPO / "cli.py"), "--store", str(store), "key", "revoke", b"\xff",
              "--reason", "lost"]
    revoked = subprocess.run(revoke, capture_output=True, env=env)
    assert revoked.returncode == 1 and revoked.stderr.startswith(b"RK413"), revoked.stderr
    dest = os.fsencode(tmp_path) + b"/bag\xff"
    for form in ("bagit", "html"):
        export = [sys.executable, str(REPO / "cli.py"), "--store", str(store), "export", "--case", CASE,
                  dest, "--format", form]
        exported = subprocess.run(export, capture_output=True, env=env)
        assert exported.returncode == 1 and exported.stderr.startswith(b"RK415"), exported.stderr
        assert b"Traceback" not in exported.stderr and exported.stderr.count(b"\n") == 1
    assert not os.path.lexists(dest) and journal_lines(store) == before


@pytest.mark.parametrize("blank", ["\ufeff", " \u200b\ufeff "])
def test_a_reason_or_name_of_invisible_characters_only_is_empty(case_store, blank):
    note = case_store.store.parent / "note.txt"
    note.write_bytes(b"a note")
    digest = case_store.json("add", str(note))["files"][0]["digest"]
    refused(case_store, "record", "set", digest, "--doc-type", "询问笔录", "--reason", blank, code="RK404")
    refused(case_store, "party", "add", "--name", blank, "--id-number", "110101198512151237", code="RK404")
    kept = case_store.json("record", "set", digest, "--doc-type", "\ufeff询问笔录\u200b", "--reason", "r")
    assert kept["changes"]["doc_type"] == "询问笔录", kept


def test_the_first_instant_after_the_window_is_outside_it_and_the_windows_last_day_inside(case_store,
                                                                                         monkeypatch):
    """The window runs to the end of its last day (2099-12-31): 2100-01-01 is outside, typed
    as a date or as its first instant; the last day still bounds an --until."""
    from recordkeep import Archive

    monkeypatch.setattr(Archive, "now", lambda self: "2099-12-31T23:59:30.000+08:00")  # its last minute
    note = case_store.store.parent / "note.txt"
    note.write_bytes(b"a note")
    digest = case_store.json("add", str(note))["files"][0]["digest"]
    for typed in ("2100-01-01", "2100-01-01 00:00", "2100-01-01T00:00:00+08:00"):
        refused(case_store, "record", "set", digest, "--recorded-at", typed, "--reason", "r", code="RK412")
    refused(case_store, "stats", "--until", "2100-01-01", code="RK412")
    last = case_store("record", "set", digest, "--recorded-at", "2099-12-31 23:59", "--reason", "r")
    assert last.exit_code == 0, last.output
    assert case_store("stats", "--until", "2099-12-31").exit_code == 0


@pytest.mark.parametrize("args", [("stats", "--from", ""), ("stats", "--until", ""),
                                  ("stats", "--year", "2021", "--until", ""),
                                  ("device", "add", "DSJ077", "--unit", "一中队", "--from", ""),
                                  ("device", "add", "DSJ077", "--unit", "一中队", "--until", "")])
def test_an_empty_time_is_one_that_does_not_parse_never_an_unbounded_one(case_store, args):
    """An unset shell variable must not widen the figures or open an assignment's end."""
    refused(case_store, *args, code="RK405", exit_code=2)


def test_stats_from_a_time_after_now_says_so_without_naming_an_until_not_given(case_store):
    reason = refused(case_store, "stats", "--from", "2099-12-31", code="RK404")
    assert "--until" not in reason and "2099-12-31" in reason


def test_an_ambiguous_digest_prefix_lists_the_records_it_matches(case_store):
    import sqlite3

    note = case_store.store.parent / "note.txt"
    note.write_bytes(b"a note")
    digest = case_store.json("add", str(note))["files"][0]["digest"]
    twin = digest[:8] + "0" * 56  # another record with the same first 8 hex digits, made in the index
    with sqlite3.connect(case_store.store / "index.sqlite") as conn:
        conn.execute("INSERT INTO records (digest, size, kind, first_seq, first_at) SELECT ?, size, kind, "
                     "first_seq, first_at FROM records WHERE digest = ?", (twin, digest))
    reason = refused(case_store, "record", "set", digest[:8], "--doc-type", "x", "--reason", "r",
                     code="RK403")
    assert digest[:16] in reason and twin[:16] in reason


def test_a_checkpoint_is_not_published_inside_the_store_and_seq_0_is_no_line(case_store):
    refused(case_store, "log", "checkpoint", "--publish", str(case_store.store), code="RK415")
    (case_store.store / "copies").mkdir()
    refused(case_store, "log", "checkpoint", "--publish", str(case_store.store / "copies"), code="RK415")
    assert case_store("log", "checkpoint").exit_code == 0
    for seq in ("0", "-5"):
        reason = refused(case_store, "log", "prove", "--seq", seq, code="RK404")
        assert "counted from 1" in reason and "newer checkpoint" not in reason


def test_a_tsa_or_its_ca_given_on_the_command_line_is_blamed_there_not_on_the_settings_file(case_store):
    gone = str(case_store.store.parent / "no-such-ca.pem")
    reason = refused(case_store, "log", "verify", "--tsa-ca", gone, code="RK415")
    assert "recordkeep.toml" not in reason and "--tsa-ca" in reason
    reason = refused(case_store, "log", "checkpoint", "--tsa", "http://127.0.0.1:9/tsa", code="RK404")
    assert "recordkeep.toml" not in reason and "--tsa-ca" in reason
    reason = refused(case_store, "log", "checkpoint", "--tsa", "http://127.0.0.1:9/tsa", "--tsa-ca", gone,
                     code="RK415")
    assert "recordkeep.toml" not in reason


@pytest.mark.parametrize("args", [
    ("search", "--since", "x" * 100_000),
    ("record", "set", "x" * 100_000, "--doc-type", "t", "--reason", "r"),
    ("officer", "add", "9" * 100_000, "--name", "n"), ("log", "verify", "--head", "a" * 100_000),
    ("key", "enrol", "A" * 100_000, "--actor", "x@y", "--role", "clerk"),
    ("record", "set", "{digest}", "--recorded-at", "2100-01-01 " + "0" * 100_000, "--reason", "r"),
    ("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "9" * 100_000),
    ("verify", "--full", "--budget", "9" * 5_000 + "h")])
def test_an_error_quotes_a_huge_value_shortened_in_one_short_line(case_store, args):
    note = case_store.store.parent / "note.txt"
    note.write_bytes(b"a note")
    digest = case_store.json("add", str(note))["files"][0]["digest"]  # a real record: the time is read
    result = case_store(*[a.replace("{digest}", digest) for a in args])
    assert result.exit_code in (1, 2, 3) and "Traceback" not in result.output
    assert len(result.stderr) < 1000 and result.stderr.count("\n") == 1, result.stderr[:300]
    assert "…" in result.stderr, "the value is quoted, cut short"


# -- paths ----------------------------------------------------------------------------------
def test_an_empty_path_never_means_the_current_folder(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "note.txt").write_text("not evidence", encoding="utf-8")
    refused(cli, "import", "", code="RK409", exit_code=2)
    refused(cli, "import", "  ", code="RK409", exit_code=2)
    refused(cli, "add", "", code="RK409", exit_code=2)
    for args in (("export", "", "--case", CASE), ("log", "checkpoint", "--publish", ""),
                 ("log", "verify", "--checkpoint", ""), ("log", "verify", "--tsa-ca", ""),
                 ("log", "prove", "--seq", "1", "--checkpoint", ""),
                 ("log", "prove", "--from", "", "--to", "")):
        refused(cli, *args, code="RK409", exit_code=2)
    assert not [p for p in (cli.store / "objects").rglob("*") if p.is_file()]
    assert [p.name for p in tmp_path.iterdir() if p != cli.store] == ["note.txt"]


@pytest.mark.parametrize("command", [("init",), ("search",), ("verify",), ("log", "head")])
@pytest.mark.parametrize("given", ["--store", "RECORDKEEP_STORE"])
def test_an_empty_store_path_is_refused_and_never_means_the_current_folder(tmp_path, command, given):
    if given == "--store":
        made = run_recordkeep(*command, store="", cwd=tmp_path)
    else:  # a variable set but empty, not a variable unset: click alone would take the default
        made = subprocess.run([sys.executable, str(REPO / "cli.py"), *command], capture_output=True,
                              text=True, cwd=tmp_path,
                              env={**os.environ, "RECORDKEEP_STORE": "", "RECORDKEEP_ACTOR": "p@t"})
    assert made.returncode == 2 and made.stderr.startswith("RK409"), made.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [("init",), ("search",), ("verify",), ("log", "verify")])
@pytest.mark.parametrize("where", ["a file", "a name too long"])
def test_a_store_path_that_is_a_file_or_too_long_gets_one_line_not_a_traceback(tmp_path, command, where):
    store = tmp_path / "note.txt" if where == "a file" else tmp_path / ("x" * 300)
    (tmp_path / "note.txt").write_text("not a store", encoding="utf-8")
    done = run_recordkeep(*command, store=store, env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert done.returncode == 1 and done.stderr.startswith("RK1"), done.stderr
    assert (tmp_path / "note.txt").read_text(encoding="utf-8") == "not a store"



def test_json_output_stays_valid_utf8_json_when_a_path_is_not_utf8(tmp_path):
    store = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"store\xff"))
    made = run_recordkeep("init", "--json", store=store, text=False,
                          env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout.decode("utf-8"))["store"] == store


def test_the_store_cannot_be_imported_into_itself(cli, tmp_path):
    refused(cli, "import", str(cli.store), code="RK415")
    refused(cli, "import", str(cli.store / "objects"), code="RK415")
    refused(cli, "import", str(cli.store.parent), code="RK415")


def test_an_export_into_the_store_is_refused(case_store):
    refused(case_store, "export", "--case", CASE, str(case_store.store / "objects" / "bag"), code="RK415")
    refused(case_store, "export", "--case", CASE, str(case_store.store), code="RK415")


def test_an_export_destination_that_cannot_be_made_is_one_clear_error(case_store, tmp_path):
    for dest in (tmp_path / ("x" * 300), Path("/proc/recordkeep-export"), Path("/sys/recordkeep-export")):
        result = case_store("export", "--case", CASE, str(dest))
        assert result.exit_code == 1 and result.stderr.startswith("RK1"), result.output
        assert "Traceback" not in result.output
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_a_backwards_window_is_refused(case_store):
    refused(case_store, "case", "link", CASE, "--officer", OFFICER, "--from", "2021-03-02",
            "--to", "2021-03-01 12:00", "--stage", "investigate", code="RK404")


def test_add_of_only_a_symlink_or_a_fifo_says_nothing_was_stored(cli, tmp_path):
    (tmp_path / "target.txt").write_text("x", encoding="utf-8")
    os.symlink(tmp_path / "target.txt", tmp_path / "link.txt")
    os.mkfifo(tmp_path / "pipe")
    stderr = refused(cli, "add", str(tmp_path / "link.txt"), str(tmp_path / "pipe"), code="RK307")
    assert "symlink" in stderr and "FIFO" in stderr


def test_an_empty_publication_time_is_not_now(case_store):
    refused(case_store, "case", "publish", CASE, "--at", "", code="RK405", exit_code=2)


@pytest.mark.parametrize("head", ["", "abc", "0" * 63, "g" * 64])
def test_log_verify_takes_a_head_of_64_hex_only(case_store, head):
    refused(case_store, "log", "verify", "--head", head, code="RK401", exit_code=2)


# -- the index and the settings -------------------------------------------------------------
def test_random_bytes_in_index_sqlite_are_set_aside_and_the_index_rebuilt(case_store):
    index = case_store.store / "index.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    index.write_bytes(os.urandom(64 * 1024))
    result = case_store("case", "show", CASE)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert [p.name for p in case_store.store.glob("index.sqlite.damaged-*")]


def test_a_damaged_page_found_by_a_query_is_one_clear_error_and_rebuild_index_sets_it_aside(case_store):
    index = case_store.store / "index.sqlite"
    with sqlite3.connect(index) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(index.read_bytes())
    page = 4096
    for start in range(page * 2, len(data), page):  # every page but the header's: tables and indexes
        data[start + 100:start + 400] = os.urandom(300)
    index.write_bytes(bytes(data))
    seen = case_store("search", "张三")
    assert "Traceback" not in seen.output
    assert seen.exit_code in (0, 3), seen.output
    assert case_store("rebuild-index").exit_code == 0
    assert case_store.json("search", "张三")["parties"][0]["key"] == "P1"


def test_a_store_id_the_journal_does_not_share_is_refused_on_every_command(case_store):
    toml = case_store.store / "recordkeep.toml"
    text = toml.read_text(encoding="utf-8")
    store_id = text.split('id = "', 1)[1].split('"', 1)[0]
    toml.write_text(text.replace(store_id, "00000000-0000-0000-0000-000000000000"), encoding="utf-8")
    for args in (("search",), ("case", "show", CASE), ("party", "add", "--name", "李", "--credit-code",
                                                      "91350100M000100Y43"), ("log",)):
        refused(case_store, *args, code="RK112")


def test_an_event_this_version_cannot_fold_leaves_reads_answering_and_refuses_writes(case_store):
    with Archive.open(case_store.store, actor="clerk@station1") as archive:
        signer = archive.signer()  # a signed batch holding an event a later version would fold
        archive.journal.append([Draft("future.event", {"x": 1})], actor=signer.actor, at=archive.now(),
                               expect_head=archive.index.head.hash, seal=signer.seal)
    shown = case_store("case", "show", CASE)
    assert shown.exit_code == 0, shown.output
    assert "RK231" in shown.stderr
    refused(case_store, "case", "stage", CASE, "investigate", "--at", "2021-03-02", code="RK231", exit_code=3)
    rebuilt = case_store("rebuild-index")
    assert rebuilt.exit_code == 3 and rebuilt.stderr.startswith("RK231")
    assert case_store("search", "张三").exit_code == 0


# -- damaged media ------------------------------------------------------------------------
def test_damaged_media_are_stored_exactly_and_said_on_the_receipt(cli, bad_dir, tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    for name in ("moov_lost.mp4", "half_cut_faststart.mp4", "not_a_video.mp4", "target.jpg"):
        shutil.copy(bad_dir / name, dump / name)
    receipt = cli.json("import", str(dump))
    assert receipt["verdict"] == "may_wipe" and receipt["damaged"] == 3
    damaged = {f["path"]: f["damage"] for f in receipt["files"] if f.get("damage")}
    assert set(damaged) == {"moov_lost.mp4", "half_cut_faststart.mp4", "not_a_video.mp4"}
    text = cli("import", str(dump)).stdout
    assert "3 file(s) damaged: stored exactly as on the card" in text
    assert "the recorder may be wiped" in text


# -- files of the store damaged past what a parser's stack holds ---------------------------------
NESTED = b"[" * 100_000  # JSON nested deeper than Python's stack: json.loads raises RecursionError


def test_a_journal_line_nested_past_the_stack_is_a_broken_line_for_every_reader_not_a_traceback(case_store):
    with open(case_store.store / "journal" / "events.jsonl", "ab") as journal:
        journal.write(NESTED + b"\n")
    checked = case_store("log", "verify")
    assert checked.exit_code == 3 and "RK220" in checked.stdout, checked.output
    for args in (("search", "张三"), ("rebuild-index",), ("verify", "--fast")):
        result = case_store(*args)
        assert result.exit_code == 3 and "Traceback" not in result.output, (args, result.output)


@pytest.mark.parametrize("content", [b"[1]", b"null", b'{"id_number": [1]}', NESTED],
                         ids=["a list", "null", "a key no text", "nested past the stack"])
def test_a_vault_key_file_that_is_no_table_of_keys_is_damaged_not_a_traceback_and_still_erasable(
        case_store, content):
    (case_store.store / "pii" / "keys" / "P1.json").write_bytes(content)
    for args in (("party", "show", "P1", "--show-pii"), ("party", "show", PERSON_ID)):
        result = case_store(*args)
        assert result.exit_code == 3 and result.stderr.startswith("RK258"), (args, result.output)
    erased = case_store.json("party", "erase-pii", "P1", "--reason", "asked")
    assert erased["fields"] == ["id_number"]  # what the vault held, not every field it might
    assert not (case_store.store / "pii" / "keys" / "P1.json").exists()


def test_a_bag_proof_nested_past_the_stack_is_a_bad_proof_not_a_traceback(case_store, tmp_path):
    dest = tmp_path / "bag"
    assert case_store("export", "--case", CASE, str(dest)).exit_code == 0
    (dest / "recordkeep" / "proofs.jsonl").write_bytes(NESTED + b"\n")
    result = case_store("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3 and "is not a proof" in result.stdout, result.output


def test_a_store_setting_that_is_no_table_is_a_config_error_not_a_traceback(case_store):
    (case_store.store / "recordkeep.toml").write_text("store = 1\n", encoding="utf-8")
    result = case_store("search", "张三")
    assert result.exit_code == 1 and result.stderr.startswith("RK104"), result.output
    assert "[store] must be a table" in result.stderr


def test_a_file_name_with_terminal_escapes_and_a_line_break_is_shown_escaped_in_search_and_log(cli, tmp_path):
    """A hostile card cannot colour, hide or fake lines on an auditor's terminal."""
    name = "esc\x1b[31mRED\x1b[0m\x07\nFAKE LINE\u202e.txt"
    added = cli.json("add", str(file_named(tmp_path / "card", name)))
    digest = added["files"][0]["digest"]
    for args in (("search", "esc"), ("log", "--record", digest), ("log", "--record", digest, "--report")):
        shown = cli(*args).stdout
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown, (args, shown)
        assert "\\x1b[31mRED" in shown and "\\u202e" in shown, (args, shown)
        assert not any(line.startswith("FAKE LINE") for line in shown.splitlines()), (args, shown)


@pytest.mark.parametrize("command", [("search", "张三"), ("log",), ("party", "list", "--json"),
                                     ("add", "NEW")], ids=["search", "log", "json", "add"])
def test_output_to_a_full_disk_is_one_clear_line_and_what_the_command_did_stands(case_store, tmp_path,
                                                                                  command):
    scan = tmp_path / "scan.txt"
    scan.write_bytes(os.urandom(64))
    args = [str(scan) if a == "NEW" else a for a in command]
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, str(REPO / "cli.py"), "--store", str(case_store.store), *args],
                              stdout=full, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "RECORDKEEP_ACTOR": "clerk@station1"})
    assert done.returncode == 1 and done.stderr.startswith("RK121"), done.stderr
    assert "Traceback" not in done.stderr
    if command[0] == "add":  # stored and journaled before its receipt could not be printed
        assert len(case_store.json("search")["records"]) == 1


def test_a_store_whose_journal_was_deleted_is_damaged_not_no_store(case_store):
    (case_store.store / "journal" / "events.jsonl").unlink()
    for args in (("verify",), ("log", "verify"), ("search", "张三")):
        result = case_store(*args)
        assert result.exit_code == 3 and result.stderr.startswith("RK244"), (args, result.output)
        assert "journal is missing" in result.stderr and "do not run init" in result.stderr


def test_a_store_whose_journal_and_blobs_are_both_gone_is_damaged_not_no_store(case_store):
    """Its recordkeep.toml names a store: 'run init' would only meet 'a store already exists'."""
    shutil.rmtree(case_store.store / "objects")
    (case_store.store / "journal" / "events.jsonl").unlink()
    result = case_store("log")
    assert result.exit_code == 3 and result.stderr.startswith("RK244"), result.output
