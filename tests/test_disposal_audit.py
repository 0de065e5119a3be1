"""log verify replays each disposal against what protected its record then: a disposal line
written past ``dispose`` (the library called directly, with a key that may dispose) of a
record that was important, kept, linked, held or not yet due fails it (RK273), whatever the
index says; honest disposals never do."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordkeep import Archive
from recordkeep.index import FILENAME as INDEX_FILE
from recordkeep.store.journal import Draft
from tests.test_check import CASE, ok, record
from tests.test_retention import old_record, party  # noqa: F401 (a fixture)

from .conftest import TEST_ACTORS


def dispose_past_the_checks(store: Path, digest: str, *, months: object = 6, at: str | None = None) -> int:
    """Journal a disposal as ``dispose`` would, without its checks (``months`` None: naming
    none; ``at``: the time the line claims), signed, and remove the blob; its seq."""
    with Archive.open(store, actor=TEST_ACTORS[0]) as archive:
        size, kind = archive.index.conn.execute("SELECT size, kind FROM records WHERE digest = ?",
                                                (digest,)).fetchone()
        data = {"digest": "blake3:" + digest, "size": size, "kind": kind, "reason": "past retention",
                "months": months, "kept_until": "2021-09-15T08:30:00.000+08:00"}
        if months is None:
            del data["months"]
        if at is None:
            [event] = archive.commit([Draft("record.disposed", data)])
        else:
            signer = archive.signer()
            with archive.journal.locked():
                archive.index.catch_up(archive.journal)
                event = archive.journal.append([Draft("record.disposed", data)], actor=signer.actor, at=at,
                                               expect_head=archive.index.seen.hash, seal=signer.seal)[0]
        archive.objects.dispose(digest)
    return event.seq


def undue(cli) -> list[dict]:
    report = cli.json("log", "verify")
    return [f for f in report["findings"] if f["code"] == "RK273"]


def test_a_disposal_written_past_dispose_of_a_record_held_through_its_case_fails_log_verify(
        cli, store, party, tmp_path):  # noqa: F811
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-15"))
    digest = old_record(cli, tmp_path, 1, "--case", CASE, "--stage", "investigate")
    ok(cli("hold", "--case", CASE, "--reason", "行政复议"))
    seq = dispose_past_the_checks(store, digest)
    result = cli("log", "verify")
    assert result.exit_code == 3 and "RK273" in result.output, result.output
    [found] = undue(cli)
    assert found["seq"] == seq and not found["notice"]
    assert digest[:12] in found["message"] and f"linked to case {CASE}" in found["message"]
    assert f"held (case {CASE})" in found["message"]


def test_a_disposal_hidden_from_the_index_is_judged_from_the_journal_alone(cli, store, tmp_path):
    digest = old_record(cli, tmp_path)
    ok(cli("hold", digest, "--reason", "行政复议"))
    seq = dispose_past_the_checks(store, digest)
    import sqlite3

    with sqlite3.connect(store / INDEX_FILE) as conn:  # the index says it was never disposed of
        conn.execute("UPDATE records SET disposed_seq = NULL")
    [found] = undue(cli)
    assert found["seq"] == seq and "held (the record's own hold)" in found["message"]
    (store / INDEX_FILE).unlink()  # and with no index at all
    assert [f["seq"] for f in undue(cli)] == [seq]


def test_a_disposal_before_the_retention_it_names_ended_fails_log_verify(cli, store, tmp_path):
    digest = record(cli, tmp_path)  # no recorded time: kept from its import, which is now
    seq = dispose_past_the_checks(store, digest)
    [found] = undue(cli)
    assert found["seq"] == seq and "kept until" in found["message"]


def test_disposals_written_past_dispose_of_important_and_kept_records_fail_log_verify(cli, store, tmp_path):
    important = old_record(cli, tmp_path, 1, important=True)
    kept = old_record(cli, tmp_path, 2)
    ok(cli("retention", "keep", kept, "--reason", "典型案例"))
    first, second = dispose_past_the_checks(store, important), dispose_past_the_checks(store, kept)
    found = {f["seq"]: f["message"] for f in undue(cli)}
    assert "marked important on the camera" in found[first] and "kept by a clerk" in found[second]


def test_honest_disposals_pass_log_verify_whatever_was_unlinked_released_or_amended_before(
        cli, store, party, tmp_path):  # noqa: F811
    released = old_record(cli, tmp_path, 1)
    ok(cli("hold", released, "--reason", "行政复议"))
    ok(cli("release", released))
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-15"))
    unlinked = old_record(cli, tmp_path, 2, "--case", CASE, "--stage", "investigate")
    ok(cli("case", "unlink", CASE, unlinked))
    typed = record(cli, tmp_path)
    ok(cli("record", "set", typed, "--recorded-at", "2020-01-01", "--reason", "clock of the scanner wrong"))
    for digest in (released, unlinked):
        ok(cli("dispose", digest, "--reason", "retention period over"))
    refused = cli("dispose", typed, "--reason", "retention period over")
    assert refused.exit_code == 1  # a typed time never shortens the keeping
    toml = store / "recordkeep.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("Asia/Shanghai", "America/New_York"),
                    encoding="utf-8")
    report = cli.json("log", "verify", "--strict")
    assert report["ok"] and [f["code"] for f in report["findings"] if f["code"] == "RK273"] == []


@pytest.mark.parametrize(("months", "at"), [(None, None), ("6", None), (0, None),
                                            (6, "2099-01-01T00:00:00"), (6, "2099-01-01T00:00:00.000+08:00"),
                                            (6, "not a time")])
def test_a_disposal_naming_no_usable_retention_or_time_is_still_held_to_its_records_due_date(
        cli, store, tmp_path, months, at):
    """No months (or none a release writes): the months in force; a time in the future, or
    none that reads as an instant, proves nothing due."""
    digest = record(cli, tmp_path)  # kept from its import, which is now
    seq = dispose_past_the_checks(store, digest, months=months, at=at)
    assert [f["seq"] for f in undue(cli)] == [seq]


def test_an_honest_disposal_from_before_settings_were_journaled_is_not_accused_after_a_zone_change(
        tmp_path, monkeypatch):
    """The zone then is unknown (the settings file's now may differ by up to a day's offset):
    a day's slack, so month-end dates that a zone moves are not taken for an early disposal."""
    from recordkeep import archive as archive_module

    from .conftest import Cli, new_store

    monkeypatch.setattr(archive_module.Archive, "_settings_changed", lambda self, last: [])  # older release
    cli = Cli(new_store(tmp_path / "store"))
    clip = tmp_path / "DSJ001_440301123456_20260531040000_0001.bin"  # 2026-05-30T20:00Z, Shanghai time
    clip.write_bytes(b"zone test" * 50)
    digest = cli.json("add", str(clip))["files"][0]["digest"]
    monkeypatch.setattr(archive_module.Archive, "now", lambda self: "2026-11-30T12:00:00.000+08:00")
    ok(cli("dispose", digest, "--reason", "retention period over"))  # due 2026-11-30 04:00 Shanghai
    monkeypatch.undo()
    toml = cli.store / "recordkeep.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("Asia/Shanghai", "UTC"), encoding="utf-8")
    ok(cli("officer", "add", "440301654321", "--name", "王五"))  # this release records the settings
    assert undue(cli) == []


def test_a_disposal_by_a_release_that_named_no_months_and_recorded_no_settings_is_not_judged_by_todays(
        tmp_path, monkeypatch):
    """Raised since (6 to 36 months), the setting now would accuse it; the months it ran under
    are named nowhere, so its due date is not judged (its protections still are)."""
    from recordkeep import archive as archive_module

    from .conftest import Cli, new_store

    monkeypatch.setattr(archive_module.Archive, "_settings_changed", lambda self, last: [])  # older release
    cli = Cli(new_store(tmp_path / "store"))
    clip = tmp_path / "DSJ001_440301123456_20250101100000_0001.bin"
    clip.write_bytes(b"an old clip" * 50)
    digest = cli.json("add", str(clip))["files"][0]["digest"]
    seq = dispose_past_the_checks(cli.store, digest, months=None)  # due under 6 months, as that release said
    monkeypatch.undo()
    toml = cli.store / "recordkeep.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[retention]\nordinary_months = 36\n",
                    encoding="utf-8")
    ok(cli("officer", "add", "440301654321", "--name", "王五"))  # this release records the settings
    assert seq and undue(cli) == []
