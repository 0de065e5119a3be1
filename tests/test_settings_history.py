"""recordkeep.toml's history in the journal: every write under settings other than those the
journal last recorded records them (``settings.changed``), signed by that writer; reading
commands record nothing and say so; log verify holds disposals to the settings recorded."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from recordkeep import Archive, settings
from recordkeep.store.journal import Draft
from tests.test_check import ok, record

from .conftest import Cli
from .test_trust import lines, older_store

RAISED = '\n[rules]\nmajor_fine_person = "500000"\n'


def settings_events(store: Path) -> list[dict]:
    return [e for e in lines(store) if e["type"] == "settings.changed"]


def edit(store: Path, text: str) -> None:
    with open(store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write(text)


def test_a_new_store_records_its_settings_in_its_founding_batch(store):
    events = lines(store)[:4]
    assert [e["type"] for e in events] == ["store.created", "key.enrolled", "settings.changed",
                                           "batch.signed"]
    recorded = events[2]["data"]
    form = settings.journaled(tomllib.loads((store / "recordkeep.toml").read_text(encoding="utf-8")))
    assert recorded == {"digest": settings.digest(form), "previous": None, "settings": form}
    assert recorded["settings"]["store"]["id"] == events[0]["data"]["store_id"]


def test_a_write_under_edited_settings_records_them_once_signed_by_the_writer(cli, store, tmp_path):
    [founding] = settings_events(store)
    edit(store, RAISED)
    ok(cli("officer", "add", "440301123456", "--name", "李四", actor="clerk@station1"))
    ok(cli("officer", "add", "440301123457", "--name", "王五"))
    founded, changed = settings_events(store)
    assert founded == founding
    assert changed["actor"] == "clerk@station1"
    assert changed["data"]["previous"] == founding["data"]["digest"]
    assert changed["data"]["settings"]["rules"] == {"major_fine_person": "500000"}
    officer = next(e for e in lines(store) if e["type"] == "officer.registered")
    assert changed["seq"] + 1 == officer["seq"]  # first in the officer's batch, ahead of it
    history = cli.json("settings", "history")
    assert history["recorded"] is True and history["current"] == changed["data"]["digest"][7:]
    assert [c["seq"] for c in history["changes"]] == [founding["seq"], changed["seq"]]
    assert history["changes"][1]["changes"] == [
        {"setting": "rules.major_fine_person", "before": None, "after": "500000"}]
    shown = ok(cli("settings", "history")).stdout
    assert 'rules.major_fine_person: - -> "500000"' in shown and "clerk@station1" in shown


def test_settings_spelled_otherwise_are_no_change(cli, store):
    toml = store / "recordkeep.toml"
    parsed = tomllib.loads(toml.read_text(encoding="utf-8"))
    toml.write_text(f'# rewritten by hand\n\n[store]\ntimezone = "{parsed["store"]["timezone"]}"\n'
                    f'id   =   "{parsed["store"]["id"]}"\n[rules]\n[naming]\n', encoding="utf-8")
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    assert len(settings_events(store)) == 1
    assert cli.json("settings", "history")["recorded"] is True


def test_a_true_where_a_one_was_and_a_one_point_zero_where_a_one_was_are_changes():
    from recordkeep import settings_history

    assert settings_history.differences({"a": {"b": 1}}, {"a": {"b": True}}) == [("a.b", 1, True)]
    assert settings_history.differences({"a": {"b": 1}}, {"a": {"b": 1.0}}) == [("a.b", 1, 1.0)]
    assert settings_history.differences({"a": {"b": 1}}, {"a": {"b": 1}, "c": {}}) == [("c", None, {})]
    assert settings_history.differences({"a": {"b": 1}}, {"a": {"b": 1}}) == []


def test_commands_that_only_read_record_nothing_and_check_says_its_settings_are_unrecorded(cli, store,
                                                                                          tmp_path):
    record(cli, tmp_path)
    edit(store, RAISED)
    journal = (store / "journal" / "events.jsonl").read_bytes()
    report = cli.json("check")
    assert report["settings_recorded"] is False
    assert report["rules_changed"]["major_fine_person"]["value"] == "500000"
    assert "no write has recorded yet" in ok(cli("check")).stdout
    figures = cli.json("stats")
    assert figures["settings_recorded"] is False and "major_fine_person" in figures["rules_changed"]
    shown = ok(cli("stats")).stdout
    assert "no write has recorded yet" in shown and "major_fine_person" in shown
    history = cli.json("settings", "history")
    assert history["recorded"] is False and len(history["changes"]) == 1
    assert "an admin records it" in ok(cli("settings", "history")).stdout
    assert (store / "journal" / "events.jsonl").read_bytes() == journal
    record(cli, tmp_path)
    assert cli.json("check")["settings_recorded"] is True and cli.json("stats")["settings_recorded"] is True
    assert "no write has recorded yet" not in ok(cli("check")).stdout + ok(cli("stats")).stdout


def test_a_store_whose_journal_records_no_settings_records_them_at_its_first_write(tmp_path):
    cli = Cli(older_store(tmp_path))
    assert cli.json("settings", "history") == {
        "current": cli.json("settings", "history")["current"], "recorded": False, "changes": []}
    assert "records no settings yet" in ok(cli("settings", "history")).stdout
    assert cli.json("check")["settings_recorded"] is False
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    [changed] = settings_events(cli.store)
    assert changed["data"]["previous"] is None and cli.json("settings", "history")["recorded"] is True


def test_the_settings_history_is_folded_again_the_same_by_rebuild_index(cli, store):
    edit(store, RAISED)
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    before = cli.json("settings", "history")
    ok(cli("rebuild-index"))
    assert cli.json("settings", "history") == before
    assert cli.json("log", "verify", "--index")["ok"] is True


def test_the_journaled_settings_leave_out_the_backend_and_are_plain_json():
    raw = tomllib.loads('[store]\nid = "x"\n[backend]\ntype = "s3"\nendpoint = "http://a"\n'
                        '[limits]\nearliest = 2001-02-03\n[other]\nwhen = 07:30:00\nbig = inf\n'
                        'moment = 2001-02-03T04:05:06+08:00\nhalf = 0.5\nnone = {}\n')
    form = settings.journaled(raw)
    assert form == {"store": {"id": "x"}, "limits": {"earliest": "2001-02-03"},
                    "other": {"when": "07:30:00", "big": {"$float": "inf"}, "half": {"$float": "0.5"},
                              "moment": "2001-02-03T04:05:06+08:00"}}
    assert json.loads(json.dumps(form, allow_nan=False)) == form
    moved = {**raw, "backend": {**raw["backend"], "endpoint": "http://b"}}
    assert settings.digest(settings.journaled(moved)) == settings.digest(form)


def test_a_disposal_line_shorter_than_the_settings_recorded_for_it_fails_log_verify(cli, store, tmp_path):
    """recordkeep journals the settings it disposes under with the disposal: a disposal that
    names a shorter retention than those is a line made by other means (here the library's
    commit, past dispose's checks), a failure without --strict."""
    digest = record(cli, tmp_path)
    with Archive.open(store, actor="clerk@station1") as archive:
        [disposed] = archive.commit([Draft("record.disposed", {
            "digest": "blake3:" + digest, "size": 10, "kind": "document", "reason": "by hand", "months": 1,
            "kept_until": "2026-01-01T00:00:00.000+08:00"})])
    report = cli.json("log", "verify")
    [found] = [f for f in report["findings"] if f["code"] == "RK264"]
    assert found["seq"] == disposed.seq and found["notice"] is False and not report["ok"]
    assert "settings the journal recorded for it" in found["message"]
    assert cli("log", "verify").exit_code == 3


def test_a_setting_with_a_decimal_point_is_recorded_and_the_write_goes_on(cli, store, tmp_path):
    """The journal holds no floats: a float is recorded tagged, never a traceback that stops an import."""
    edit(store, "\n[worm]\nblob_days = 0.5\n")
    record(cli, tmp_path)
    [_, changed] = settings_events(store)
    assert changed["data"]["settings"]["worm"] == {"blob_days": {"$float": "0.5"}}
    assert "worm.blob_days: - -> 0.5" in ok(cli("settings", "history")).stdout


def test_a_key_holding_a_dot_cannot_pass_for_the_setting_it_spells(cli, store):
    """``"retention.ordinary_months" = 6`` beside ``retention = {ordinary_months = 1}`` is shown
    as the quoted key it is, not as the retention the store applies."""
    toml = store / "recordkeep.toml"
    toml.write_text('retention = {ordinary_months = 1}\n"retention.ordinary_months" = 6\n'
                    + toml.read_text(encoding="utf-8"), encoding="utf-8")
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    changes = {c["setting"]: c["after"] for c in cli.json("settings", "history")["changes"][-1]["changes"]}
    assert changes["retention.ordinary_months"] == 1 and changes['"retention.ordinary_months"'] == 6


def test_an_honest_disposal_in_a_store_from_before_signatures_is_judged_under_the_settings_its_batch_records(
        tmp_path):
    """An unsigned store's lines count one by one: the settings a disposal's batch records come
    ahead of it, so the disposal is judged under them, not under those recorded before."""
    cli = Cli(older_store(tmp_path))
    ok(cli("officer", "add", "440301123456", "--name", "李四"))  # records the settings (6 months)
    digest = record(cli, tmp_path, name="DSJ001_440301123456_20210315083000_0001.bin", content=b"clip" * 50)
    edit(cli.store, "\n[retention]\nordinary_months = 3\n")
    ok(cli("dispose", digest, "--reason", "retention period over"))
    report = cli.json("log", "verify")
    assert [f["code"] for f in report["findings"] if f["code"] == "RK264"] == []
    assert [c["changes"] for c in cli.json("settings", "history")["changes"]][-1] == [
        {"setting": "retention.ordinary_months", "before": None, "after": 3}]


@pytest.mark.parametrize("data", [{"digest": "blake3:" + "0" * 64, "settings": [1, 2]}, {},
                                  {"settings": {}, "digest": ["x"], "previous": ["y"]}],
                         ids=["settings not a table", "nothing", "digests not text"])
def test_a_settings_line_made_by_hand_that_says_nothing_usable_fails_log_verify_and_stops_nothing(tmp_path,
                                                                                                  data):
    """Any enrolled key may write settings.changed: a line that says nothing usable folds as it
    says it (the index never stops), is RK270, and the next write records the settings again."""
    from .test_trust import rechain, write

    root = older_store(tmp_path)
    events = lines(root)
    write(root, rechain([*events, {**events[1], "type": "settings.changed", "data": data}]))
    cli = Cli(root)
    assert cli.json("settings", "history")["changes"][0]["changes"] == []
    report = cli.json("log", "verify")
    assert [f["code"] for f in report["findings"] if f["code"] == "RK270"] == ["RK270"] and not report["ok"]
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    assert len(settings_events(root)) == 2 and cli.json("settings", "history")["recorded"] is True
    ok(cli("rebuild-index"))


def test_a_settings_line_claiming_the_digest_of_settings_it_does_not_hold_is_rk270_and_spares_no_record(
        cli, store):
    """A key writes settings.changed with the digest of the edited file but the old settings:
    check reads what the line holds, not what it claims, the next write records the edited
    settings, and log verify fails the line."""
    [founding] = settings_events(store)
    edit(store, RAISED)
    with Archive.open(store, actor="clerk@station1") as archive:
        claimed = settings.digest(settings.journaled(archive.settings.raw))
        archive.commit([Draft("settings.changed", {"digest": claimed, "previous": founding["data"]["digest"],
                                                   "settings": founding["data"]["settings"]})])
    assert cli.json("check")["settings_recorded"] is False
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    recorded = settings_events(store)[-1]
    assert recorded["data"]["settings"]["rules"] == {"major_fine_person": "500000"}
    report = cli.json("log", "verify")
    assert [f["code"] for f in report["findings"]] == ["RK270"] and not report["ok"]


def test_an_index_row_edited_to_the_new_settings_spares_no_record(cli, store):
    """The digest transact compares with, and the one check and stats call recorded, is read
    from the journal line the index names, never from the row."""
    import sqlite3

    edit(store, RAISED)
    with Archive.open(store) as archive:
        form = settings.journaled(archive.settings.raw)
        new = settings.digest(form)
    with sqlite3.connect(store / "index.sqlite") as conn:
        conn.execute("UPDATE settings_history SET digest = ?, settings = ?",
                     (new, json.dumps(form, ensure_ascii=False)))
    assert cli.json("check")["settings_recorded"] is False and cli.json("stats")["settings_recorded"] is False
    assert cli.json("settings", "history")["recorded"] is False
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    assert [e["data"]["digest"] for e in settings_events(store)][-1] == new


def test_an_index_that_folded_settings_lines_before_it_knew_them_is_folded_again(cli, store):
    import sqlite3

    edit(store, RAISED)
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    before = cli.json("settings", "history")
    with sqlite3.connect(store / "index.sqlite") as conn:  # as a release before m019 left it
        conn.execute("DROP TABLE settings_history")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm019_settings_history'")
    assert cli.json("settings", "history") == before
    ok(cli("officer", "add", "440301123457", "--name", "王五"))
    assert len(settings_events(store)) == 2


def test_settings_nested_deeper_than_python_can_follow_are_a_clear_error_and_nothing_is_written(cli, store):
    journal = (store / "journal" / "events.jsonl").read_bytes()
    edit(store, "\n[deep]\n" + ".".join(["a"] * 1500) + " = 1\n")
    result = cli("officer", "add", "440301123456", "--name", "李四")
    assert result.exit_code == 1 and result.stderr.startswith("RK104") and "too deeply" in result.stderr
    assert (store / "journal" / "events.jsonl").read_bytes() == journal


def test_a_table_of_ones_own_named_like_a_float_is_not_taken_for_one():
    as_float = settings.journaled(tomllib.loads("[worm]\nblob_days = 0.5\n"))
    as_table = settings.journaled(tomllib.loads('[worm]\nblob_days = {"$float" = "0.5"}\n'))
    assert settings.digest(as_float) != settings.digest(as_table)
    from recordkeep import settings_history

    assert settings_history.flatten(as_table) == {'worm.blob_days."$float"': "0.5"}
    assert settings_history.flatten(as_float) == {"worm.blob_days": {"$float": "0.5"}}


def test_a_timestamp_authoritys_credentials_never_reach_the_journal(cli, store):
    edit(store, '\n[anchor]\ntsa_url = "https://clerk:s3cret@tsa.example.org:8443/tsr?token=abc"\n')
    ok(cli("officer", "add", "440301123456", "--name", "李四"))
    assert settings_events(store)[-1]["data"]["settings"]["anchor"] == {
        "tsa_url": "https://tsa.example.org:8443/tsr"}
    assert b"s3cret" not in (store / "journal" / "events.jsonl").read_bytes()


def test_a_retention_that_is_no_table_is_read_as_the_default_by_dispose_and_log_verify_alike(store):
    from recordkeep import retention

    toml = store / "recordkeep.toml"
    toml.write_text("retention = 3\n" + toml.read_text(encoding="utf-8"), encoding="utf-8")
    with Archive.open(store) as archive:
        assert retention.ordinary_months(archive) == retention.DEFAULT_ORDINARY_MONTHS
        assert retention.recorded_months(settings.journaled(archive.settings.raw)) == \
            retention.DEFAULT_ORDINARY_MONTHS
    assert retention.recorded_months([1]) is None


def test_a_retention_table_holding_a_key_that_begins_with_a_dollar_is_read_alike_by_dispose_and_log_verify(
        cli, store, tmp_path):
    """Such a table is recorded as {"$table": ...}: log verify reads the months inside it, as
    dispose read them, and never accuses the disposal."""
    from datetime import datetime, timedelta

    two_months = (datetime.now() - timedelta(days=62)).strftime("%Y%m%d%H%M%S")
    digest = record(cli, tmp_path, name=f"DSJ001_440301123456_{two_months}_0001.bin", content=b"clip" * 50)
    edit(store, '\n[retention]\nordinary_months = 1\n"$why" = "local rule"\n')
    ok(cli("dispose", digest, "--reason", "retention period over"))
    assert settings_events(store)[-1]["data"]["settings"]["retention"] == {
        "$table": {"ordinary_months": 1, "$why": "local rule"}}
    report = cli.json("log", "verify")
    assert report["ok"] and [f["code"] for f in report["findings"]] == []
    changes = cli.json("settings", "history")["changes"][-1]["changes"]
    assert {"setting": "retention.ordinary_months", "before": None, "after": 1} in changes


@pytest.mark.parametrize("text", [
    "", "retention = 3\n", "[retention]\nordinary_months = 12\n", "[retention]\nordinary_months = 12.0\n",
    "[retention]\nordinary_months = true\n", "[retention]\nordinary_months = 0\n",
    "[retention]\nordinary_months = 1200\n", "[retention]\nordinary_months = 1201\n",
    '[retention]\nordinary_months = "12"\n', '[retention]\nordinary_months = 2\n"$why" = "local rule"\n',
    '[retention]\nordinary_months = {"$float" = "12"}\n', "[retention.ordinary_months]\nx = 1\n",
])
def test_every_spelling_of_the_retention_is_read_alike_from_the_file_and_from_the_journals_record_of_it(text):
    from recordkeep import retention

    raw = tomllib.loads(text)
    assert retention.recorded_months(settings.journaled(raw)) == retention.months_in(raw)


def test_settings_read_back_from_the_journal_are_the_settings_the_file_gave():
    raw = tomllib.loads('[worm]\nblob_days = 0.5\nlimit = inf\n[mine]\n"$table" = {a = 1}\n"$float" = "2"\n'
                        '[rules]\nlate_entry_days = 4\nlist = [1.5, {b = 2.5}]\n')
    assert settings.from_journal(settings.journaled(raw)) == raw
    assert settings.from_journal([{"$float": "not a number"}]) == [{"$float": "not a number"}]


def test_an_identity_or_mobile_number_in_the_settings_is_recorded_masked_whether_text_or_number():
    raw = tomllib.loads('[duty]\ncontact = "值班 13912345678"\nphone = 13912345678\n'
                        'id = "11010519491231002X"\n[retention]\nordinary_months = 12\n')
    form = settings.journaled(raw)
    assert form["duty"] == {"contact": "值班 139****5678", "phone": "139****5678", "id": "110105********002X"}
    assert form["retention"] == {"ordinary_months": 12}


def test_a_clerks_write_under_settings_no_admin_recorded_is_refused_until_an_admin_records_them(
        cli, store, tmp_path):
    """A clerk who raises the threshold of a major fine in recordkeep.toml, then writes: the
    settings would go on record under her key. Refused (RK122), nothing written; her verify
    still verifies and says it could not journal; an admin's 'settings record' puts them on
    record, and then her writes go on."""
    from .test_trust import enrolled

    enrolled(cli, "clerkonly@station3", "clerk")
    edit(store, RAISED)
    before = (store / "journal" / "events.jsonl").read_bytes()
    refused = cli("officer", "add", "440301123456", "--name", "李四", actor="clerkonly@station3")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK122"), refused.output
    assert "settings record" in refused.stderr
    checked = cli.json("verify", actor="clerkonly@station3")
    assert checked["ok"] is True and "may not record settings" in checked["journal_error"]
    assert (store / "journal" / "events.jsonl").read_bytes() == before
    assert "an admin records it" in ok(cli("settings", "history")).stdout
    done = cli.json("settings", "record", actor="tester@test")
    assert done["recorded"] is True and settings_events(store)[-1]["seq"] == done["seq"]
    assert settings_events(store)[-1]["actor"] == "tester@test"
    assert cli.json("settings", "record", actor="tester@test") == {**done, "seq": None, "recorded": False}
    ok(cli("officer", "add", "440301123456", "--name", "李四", actor="clerkonly@station3"))
    assert cli.json("log", "verify")["ok"] is True


def test_a_settings_line_a_clerk_signed_under_an_earlier_release_is_a_notice_and_fails_with_strict(
        cli, store):
    """Earlier releases let any key record the settings: such a line in a store they wrote is a
    notice of log verify (RK243), a failure with --strict; one a clerk appends by hand now records
    nothing (the index folds settings only from an admin's batch), so her writes stay refused."""
    from recordkeep.trust import keys

    from .test_trust import append_as, enrolled

    clerk = enrolled(cli, "clerkonly@station3", "clerk")
    edit(store, RAISED)
    with Archive.open(store, actor="tester@test") as archive:
        form, last = archive.settings.recorded, settings_events(store)[-1]["data"]["digest"]
    append_as(store, keys.load_key(keys.key_path("clerkonly@station3")), "clerkonly@station3", [
        Draft("settings.changed", {"digest": settings.digest(form), "previous": last, "settings": form})])
    assert clerk.id
    assert cli.json("settings", "history")["recorded"] is False  # a line no admin sealed records nothing
    assert cli.json("stats")["settings_recorded"] is False
    refused = cli("officer", "add", "440301123456", "--name", "李四", actor="clerkonly@station3")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK122"), refused.output
    report = cli.json("log", "verify")
    assert report["ok"] is True and any(f["code"] == "RK243" and f["notice"] for f in report["findings"])
    strict = cli("log", "verify", "--strict")
    assert strict.exit_code == 3 and "RK243" in strict.stdout, strict.output


def test_a_clerks_import_under_unrecorded_settings_is_refused_before_a_byte_is_copied(cli, store, tmp_path):
    """Refused at the journal, a card's import would have copied every file for nothing: it is
    refused before the copy, and objects/ gains nothing."""
    from .test_trust import enrolled

    enrolled(cli, "clerkonly@station3", "clerk")
    dump = tmp_path / "card"
    dump.mkdir()
    (dump / "DSJ001_440301123456_20210315083000_0001.txt").write_bytes(b"a recording's bytes")
    edit(store, RAISED)
    before = sorted(p.name for p in (store / "objects").rglob("*"))
    refused = cli("import", str(dump), actor="clerkonly@station3")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK122"), refused.output
    assert sorted(p.name for p in (store / "objects").rglob("*")) == before
