"""Crashes, parallel writers and read-only media never cost a byte or break the chain."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recordkeep import Archive, verify
from recordkeep.store.hashing import hash_file

from .conftest import REPO, run_recordkeep, write_random
from .mounts import read_only_view

pytestmark = pytest.mark.slow  # processes killed and racing, real read-only mounts


def start_add(store: Path, *files: Path) -> subprocess.Popen:
    env = {**os.environ, "RECORDKEEP_ACTOR": "proc@test"}
    return subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--store", str(store), "add",
                             *map(str, files)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def assert_consistent(store: Path) -> None:
    """Opens, verifies clean (notices at most), chain intact, no half record."""
    assert run_recordkeep("log", "verify", store=store).returncode == 0
    with Archive.open(store) as archive:
        report = verify(archive, mode="full", journal=False)
        assert report.ok, [f.message for f in report.problems]
        assert {n.code for n in report.notices} <= {"RK215"}
        for digest, size in archive.index.conn.execute("SELECT digest, size FROM records"):
            assert archive.objects.size(digest) == size


def test_sigkill_of_a_real_add_at_random_moments_leaves_a_consistent_store_and_the_rerun_completes(
        store, tmp_path):
    big = write_random(tmp_path / "big.bin", 96 << 20, seed=7)
    small = tmp_path / "small.txt"
    small.write_text("a scan that goes with the clip")
    rng = random.Random(20211015)
    for _ in range(12):
        proc = start_add(store, small, big)
        time.sleep(rng.uniform(0.05, 1.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_consistent(store)
    done = run_recordkeep("add", "--json", str(small), str(big), store=store)
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)["files"]
    assert [f["status"] in ("stored", "present") for f in files] == [True, True]
    assert files[1]["digest"] == hash_file(big)[0]
    assert_consistent(store)
    with Archive.open(store) as archive:
        assert verify(archive, journal=False).notices == []
        count = archive.index.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        assert count == 2


def test_two_processes_adding_to_one_store_at_once_both_succeed_with_an_intact_chain(store, tmp_path):
    shared = tmp_path / "shared.bin"
    shared.write_bytes(b"the same clip, docked twice")
    a = [write_random(tmp_path / f"a{i}.bin", 2 << 20, seed=i) for i in range(6)]
    b = [write_random(tmp_path / f"b{i}.bin", 2 << 20, seed=100 + i) for i in range(6)]
    procs = [start_add(store, shared, *a), start_add(store, shared, *b)]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0, 0]
    assert_consistent(store)
    with Archive.open(store) as archive:
        records = archive.index.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        sightings = archive.index.conn.execute("SELECT COUNT(*) FROM sightings").fetchone()[0]
    assert records == 13 and sightings == 14


@pytest.fixture
def readonly_view(store: Path, tmp_path: Path, cli):
    """The store, with one record, under a real read-only bind mount."""
    (tmp_path / "clip.bin").write_bytes(b"evidence")
    cli("add", str(tmp_path / "clip.bin"))
    with read_only_view(store, tmp_path / "ro") as view:
        yield view


def test_on_a_read_only_mount_verify_and_log_verify_work_and_add_says_read_only(readonly_view, tmp_path):
    proc = run_recordkeep("verify", store=readonly_view)
    assert proc.returncode == 0, proc.stderr
    assert "could not be journaled" in proc.stdout
    assert run_recordkeep("log", "verify", store=readonly_view).returncode == 0
    (tmp_path / "new.bin").write_bytes(b"new")
    proc = run_recordkeep("add", str(tmp_path / "new.bin"), store=readonly_view)
    assert proc.returncode == 1
    assert proc.stderr.startswith("RK103") and "read-only" in proc.stderr


def test_a_read_only_store_with_a_stale_index_is_read_through_a_temporary_index(
        store, tmp_path, cli):
    (tmp_path / "clip.bin").write_bytes(b"evidence")
    cli("add", str(tmp_path / "clip.bin"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}/index.sqlite{suffix}").unlink(missing_ok=True)
    with read_only_view(store, tmp_path / "ro") as view:
        proc = run_recordkeep("verify", "--json", store=view)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["checked"] == 1
        assert not (store / "index.sqlite").exists()
