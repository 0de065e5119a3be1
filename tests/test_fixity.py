"""The rolling fixity audit (``verify --full --budget``) and ``verify --status``: every record
is re-hashed least recently verified first, no record twice before every record once, each
check journaled as the run goes (so a run that is stopped goes on next time), and the age of
each record's last verification folded into the index, rebuilt alike from the journal."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from recordkeep import Archive, errors, fixity, verification
from recordkeep.refs import parse_duration

from .conftest import (
    REPO,
    Cli,
    blob_path,
    drop_pages,
    new_store,
    resident,
    sigint_as_at_a_terminal,
    write_random,
)


def rolling_parts(store: Path) -> list[dict]:
    """The data of every rolling audit part in the journal, in order."""
    found = []
    with open(store / "journal" / "events.jsonl", encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            if event["type"] == "verify.run" and event["data"]["scope"] == {"rolling": True}:
                found.append(event["data"])
    return found


def checked_in_order(store: Path) -> list[str]:
    return [d.split(":", 1)[1] for part in rolling_parts(store) for d in part["digests"]]


def record_digests(archive: Archive) -> set[str]:
    return {d for d, _, _ in archive.index.conn.execute("SELECT digest, size, 0 FROM records")}


def fixity_rows(store: Path) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(store / "index.sqlite")
    try:
        return conn.execute("SELECT digest, seq, at, at_utc, ok FROM fixity ORDER BY digest").fetchall()
    finally:
        conn.close()


def ticking() -> object:
    """A clock that moves one second each time it is read."""
    return itertools.count().__next__


# -- durations -------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400),
                                               ("1h0m5s", 3605), (" 45M ", 2700)])
def test_a_budget_is_read_as_hours_minutes_and_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "1x", "m", "30m2h", "1.5h", "-5m"])
def test_a_budget_that_is_not_a_duration_is_malformed(text):
    with pytest.raises(errors.BadDuration):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0s", "0h0m", "9000h"])
def test_a_budget_of_nothing_or_over_a_year_is_refused_as_a_value_exit_1(cli, imported, text):
    """A duration that parses is well-formed: refusing it is exit 1 with an RK4xx code, not usage."""
    with pytest.raises(errors.DurationOutOfRange):
        parse_duration(text)
    result = cli("verify", "--full", "--budget", text)
    assert result.exit_code == 1 and result.stderr.startswith("RK478"), result.output


@pytest.mark.parametrize("args", [["--budget", "1x"], ["--budget", "30m", "--fast"],
                                  ["--budget", "30m", "--case", "X"], ["--status", "--budget", "1m"],
                                  ["--as-of", "2021-01-01"], ["--status", "--since", "2021-01-01"],
                                  ["--fast", "--full"], ["--full", "--fast"]])
def test_a_bad_budget_or_status_call_is_a_usage_error(cli, imported, args):
    result = cli("verify", *args)
    assert result.exit_code == 2, result.output


# -- the rolling audit ---------------------------------------------------------------------
def test_budgeted_runs_cover_the_store_with_no_record_checked_twice_before_all_are_checked_once(
        imported, store):
    with Archive.open(store, actor="clerk@station1") as archive:
        every = record_digests(archive)
        runs = []
        while len(checked_in_order(store)) < len(every) + 3:
            runs.append(fixity.audit(archive, 4, clock=ticking()))
            assert len(runs) < 3 * len(every), "the audit does not advance"
    order = checked_in_order(store)
    assert len(runs) > 3, "several runs share the store"
    assert all(not r.complete for r in runs), "no run came round to a record it checked"
    first_round = order[:len(every)]
    assert len(set(first_round)) == len(every) and set(first_round) == every
    assert order[len(every):len(every) + 3] == first_round[:3], "then the least recently verified again"
    assert all(r.report.ok and r.parts for r in runs)


def test_one_run_checks_each_record_once_however_long_its_budget(imported, store):
    with Archive.open(store, actor="clerk@station1") as archive:
        every = record_digests(archive)
        done = fixity.audit(archive, 3600)
    assert done.complete and done.report.ok
    assert sorted(checked_in_order(store)) == sorted(every)
    assert done.report.checked == len(every)
    assert done.report.bytes == sum(f["size"] for f in imported["files"] if f["status"] == "stored")


def test_never_verified_records_come_first_then_the_least_recently_verified(imported, store, dump_dir):
    with Archive.open(store, actor="clerk@station1") as archive:
        fixity.audit(archive, 3600)
    scan = write_random(store.parent / "scan.pdf", 5000, seed=7)
    new = Cli(store).json("add", str(scan))["files"][0]["digest"]
    with Archive.open(store, actor="clerk@station1") as archive:
        before = len(checked_in_order(store))
        fixity.audit(archive, 3, clock=ticking())
    assert checked_in_order(store)[before] == new


def test_a_full_verify_counts_for_the_audit_and_a_fast_one_does_not(imported, store, cli):
    assert cli("verify", "--fast").exit_code == 0
    with Archive.open(store) as archive:
        assert fixity.status(archive).by_age["never"] == 16
    assert cli("verify", "--full").exit_code == 0
    with Archive.open(store, actor="clerk@station1") as archive:
        assert fixity.status(archive).by_age == {"never": 0, "under_30_days": 16, "under_90_days": 0,
                                                 "older": 0}
        done = fixity.audit(archive, 3, clock=ticking())
    assert done.report.checked >= 1


def test_a_problem_found_by_the_audit_is_journaled_with_the_record_and_fails_the_status(imported, store, cli):
    digest = next(f["digest"] for f in imported["files"] if f["status"] == "stored")
    blob = blob_path(store, digest)
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    result = cli("verify", "--full", "--budget", "1h", "--json")
    assert result.exit_code == 3
    out = json.loads(result.stdout)
    assert [p["digest"] for p in out["problems"]] == [digest] and out["complete"]
    assert any(p["digest"] == digest for part in rolling_parts(store) for p in part["problems"])
    status = cli("verify", "--status", "--json")
    assert status.exit_code == 3
    found = json.loads(status.stdout)
    assert found["failing"] == 1 and [r["digest"] for r in found["failing_records"]] == [digest]
    said = cli("verify", "--status")  # names the record, so that 'log --record' can be asked of it
    assert said.exit_code == 3 and f"failed: {digest[:12]}" in said.output


def test_the_audit_refuses_before_any_work_when_it_could_not_journal(imported, store, tmp_path):
    env_key = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path / "no-keys")
    try:
        with Archive.open(store, actor="nobody@nowhere") as archive, pytest.raises(errors.KeyMissing):
            fixity.audit(archive, 60)
    finally:
        os.environ["XDG_CONFIG_HOME"] = env_key
    assert rolling_parts(store) == []


# -- the index ---------------------------------------------------------------------------------
def test_rebuild_index_reproduces_each_records_last_verification(imported, store, cli):
    assert cli("verify", "--full", "--case", "nonesuch").exit_code == 1
    assert cli("verify").exit_code == 0
    with Archive.open(store, actor="clerk@station1") as archive:
        fixity.audit(archive, 5, clock=ticking())
    before = fixity_rows(store)
    assert len(before) == 16
    assert cli("rebuild-index").exit_code == 0
    assert fixity_rows(store) == before


def test_an_index_from_before_the_fixity_table_learns_the_verifications_it_had_folded(imported, store, cli):
    import sqlite3

    assert cli("verify").exit_code == 0
    assert cli("verify", "--full", "--party", "nobody").exit_code == 1
    expected = fixity_rows(store)
    conn = sqlite3.connect(store / "index.sqlite")
    conn.execute("DROP TABLE fixity")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm014_fixity'")
    conn.commit()
    conn.close()
    with Archive.open(store) as archive:
        archive.index  # noqa: B018  (migrated on opening)
    assert fixity_rows(store) == expected


# -- status --------------------------------------------------------------------------------
def shanghai(days: int) -> str:
    moment = datetime.now().astimezone() + timedelta(days=days)
    return moment.isoformat(timespec="seconds")


def test_status_counts_records_by_the_age_of_their_last_verification_at_the_time_given(imported, store, cli):
    fresh = cli.json("verify", "--status")
    assert fresh["by_age"] == {"never": 16, "under_30_days": 0, "under_90_days": 0, "older": 0}
    assert fresh["overdue"] == 0 and fresh["ok"]
    assert fresh["oldest"]["verified_at"] is None
    assert fresh["bytes_per_day"] == -(-fresh["bytes"] // 90)
    assert cli("verify").exit_code == 0
    later = cli.json("verify", "--status", "--as-of", shanghai(45))
    assert later["by_age"] == {"never": 0, "under_30_days": 0, "under_90_days": 16, "older": 0}
    assert later["overdue"] == 0 and later["ok"]
    assert later["oldest"]["verified_at"] is not None
    result = cli("verify", "--status", "--as-of", shanghai(100))
    assert result.exit_code == 3
    assert "RK218" in result.output and "16 overdue" in result.output


def test_a_record_never_verified_is_overdue_a_cycle_after_its_import(imported, cli):
    assert cli("verify", "--status", "--as-of", shanghai(89)).exit_code == 0
    overdue = cli("verify", "--status", "--as-of", shanghai(91), "--json")
    assert overdue.exit_code == 3
    data = json.loads(overdue.stdout)
    assert data["overdue"] == 16 and data["by_age"]["never"] == 16
    assert [p["code"] for p in data["problems"]] == [errors.FixityOverdue.code]


def test_the_cycle_is_fixity_max_age_days_of_recordkeep_toml(imported, store, cli):
    settings = store / "recordkeep.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + "\n[fixity]\nmax_age_days = 30\n",
                        encoding="utf-8")
    data = cli.json("verify", "--status", "--as-of", shanghai(45))
    assert data["max_age_days"] == 30 and data["overdue"] == 16
    assert data["bytes_per_day"] == -(-data["bytes"] // 30)
    settings.write_text(settings.read_text(encoding="utf-8").replace("= 30", "= 0"), encoding="utf-8")
    refused = cli("verify", "--status")
    assert refused.exit_code == 1 and refused.stderr.startswith(errors.ConfigError.code)


def test_stats_carries_the_fixity_line(imported, cli):
    assert cli.json("stats")["fixity"]["records"] == 16
    assert "fixity: 16 records" in cli("stats").stdout


# -- interrupted runs ----------------------------------------------------------------------------
@pytest.fixture
def many_store(tmp_path) -> Path:
    """A store of 3000 small records: an audit journals them in several parts (1000 records at
    most each), so it can be stopped between two."""
    root = new_store(tmp_path / "store")
    src = tmp_path / "scans"
    src.mkdir()
    for i in range(3000):
        write_random(src / f"page{i:05d}.bin", 2000, seed=i)
    assert Cli(root)("import", "--no-readback", str(src)).exit_code == 0
    return root


def run_audit_until_a_part_is_journaled(store: Path, stop: int) -> subprocess.CompletedProcess:
    """Start ``verify --full --budget 1h`` and send it ``stop`` as soon as its first part is
    journaled (watching only the bytes appended to the journal, to be quick)."""
    journal = store / "journal" / "events.jsonl"
    start = journal.stat().st_size
    env = {**os.environ, "RECORDKEEP_ACTOR": "proc@test"}
    proc = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--store", str(store), "verify", "--full",
                             "--budget", "1h", "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=sigint_as_at_a_terminal)
    deadline = time.monotonic() + 60
    with open(journal, "rb") as f:
        f.seek(start)
        seen = b""
        while b'"rolling":true' not in seen and proc.poll() is None and time.monotonic() < deadline:
            seen += f.read()
            time.sleep(0.001)
    proc.send_signal(stop)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM],
                         ids=["kill-9", "ctrl-c", "kill"])
def test_a_run_stopped_midway_and_run_again_continues_where_it_stopped(many_store, stop):
    stopped = run_audit_until_a_part_is_journaled(many_store, stop)
    first = checked_in_order(many_store)
    assert 0 < len(first) < 3000, "stopped midway"
    assert len(set(first)) == len(first)
    if stop != signal.SIGKILL:
        assert stopped.returncode != 0 and stopped.stdout == ""
        assert len(first) > 1000 or len(rolling_parts(many_store)) == 1
    again = Cli(many_store)("verify", "--full", "--budget", "1h", "--json", actor="proc@test")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["complete"]
    order = checked_in_order(many_store)
    rest = order[len(first):len(first) + 3000 - len(first)]
    assert set(rest) | set(first) == set(order) and len(set(rest) | set(first)) == 3000, (
        "the second run began with exactly what the first had not checked")
    assert order[3000:] == first, "then the least recently verified: the first run's, in its order"


# -- reads at the device's rate ----------------------------------------------------------------
@pytest.mark.slow
def test_verify_drops_the_pages_it_read_from_the_device_and_keeps_those_already_cached(store, tmp_path):
    big = write_random(tmp_path / "big.bin", (130 << 20) + 7, seed=1)  # three windows of a hash worker
    small = write_random(tmp_path / "small.bin", 3 << 20, seed=2)     # streamed, read ahead
    added = Cli(store).json("add", str(big), str(small))["files"]
    blobs = [blob_path(store, d) for d in (f["digest"] for f in added)]
    for blob in blobs:
        drop_pages(blob)
        assert resident(blob) == 0, "this file system cannot drop pages: nothing to test"
    assert Cli(store)("verify", "--full").exit_code == 0
    assert [resident(b) for b in blobs] == [0, 0], "an audit leaves no pages of its own behind"
    # kswapd was seen reclaiming page cache while the suite ran here, which no code can prevent:
    # each try reads the working set in whole, then verifies. Reclaim strikes a try now and then;
    # a verify that dropped cached pages would spoil every try.
    kept = []
    for _ in range(3):
        for _ in range(5):
            for blob in blobs:
                blob.read_bytes()  # now the working set's
            cached = [resident(b) for b in blobs]
            if all(n >= b.stat().st_size for n, b in zip(cached, blobs, strict=True)):
                break
        assert all(n >= b.stat().st_size for n, b in zip(cached, blobs, strict=True))
        assert Cli(store)("verify", "--full").exit_code == 0
        kept.append([resident(b) for b in blobs] == cached)
        if kept[-1]:
            break
    assert kept[-1], "the working set stays cached"


def test_blobs_read_ahead_but_never_hashed_when_the_budget_is_spent_leave_no_pages_behind(store, tmp_path):
    sources = [write_random(tmp_path / f"scan{i}.bin", 200_000, seed=i) for i in range(8)]
    added = Cli(store).json("add", *map(str, sources))["files"]
    blobs = [blob_path(store, f["digest"]) for f in added]
    for blob in blobs:
        drop_pages(blob)
    if any(resident(b) for b in blobs):
        pytest.skip("this file system cannot drop pages")
    budget = iter([True])  # one blob, then the budget is spent
    with Archive.open(store, actor="tester@test") as archive:
        items = [(f["digest"], f["size"]) for f in added]
        done = list(verification.hash_each(archive, items, [], more=lambda: next(budget, False)))
        assert len(done) == 1 and done[0][2] == done[0][0]
        assert archive.objects._ahead == {}, "nothing read ahead is left to hash"
    assert [resident(b) for b in blobs] == [0] * len(blobs), "and nothing read ahead stays cached"
