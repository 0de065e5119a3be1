"""Hashes begun before the store is opened: every large blob answered once, the small ones left
to the caller, nothing waited for forever, and a whole-store verify that takes them finds what
it always found."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from blake3 import blake3

from recordkeep import Archive, add_files, verify
from recordkeep.store.hashpool import MMAP_FROM_BYTES, EarlyHashes, HashWorker

from .conftest import REPO, Cli, write_random


def blob_path(store: Path, digest: str) -> Path:
    return store / "objects" / "blake3" / digest[:2] / digest[2:4] / digest


@pytest.fixture()
def filled(store, tmp_path):
    """A store with three large blobs and one small one: {digest: size}."""
    sources = [write_random(tmp_path / f"big{i}.bin", MMAP_FROM_BYTES + i * 4096 + 1, seed=i)
               for i in range(3)]
    sources.append(write_random(tmp_path / "small.bin", 5000, seed=9))
    with Archive.open(store, actor="tester@test") as archive:
        added = add_files(archive, sources)
    return {o.digest: o.size for o in added.outcomes}


def test_every_large_blob_is_answered_with_its_digest_and_small_ones_are_left_to_the_caller(store, filled):
    with EarlyHashes(store) as early:
        answers = {digest: early.take(digest, size) for digest, size in filled.items()}
    assert {d: a for d, a in answers.items() if filled[d] >= MMAP_FROM_BYTES} == {
        d: d for d in filled if filled[d] >= MMAP_FROM_BYTES}
    assert [a for d, a in answers.items() if filled[d] < MMAP_FROM_BYTES] == [None]


def test_a_size_other_than_the_planned_one_is_not_answered(store, filled):
    digest, size = next((d, s) for d, s in filled.items() if s >= MMAP_FROM_BYTES)
    with EarlyHashes(store) as early:
        assert early.take(digest, size + 1) is None
        assert early.take(digest, size) == digest


def test_a_folder_without_objects_plans_nothing_and_starts_no_worker(tmp_path):
    with EarlyHashes(tmp_path / "nowhere") as early:
        assert early.take("0" * 64, MMAP_FROM_BYTES) is None
        assert early._workers == []


def test_blobs_skipped_by_close_are_answered_none_at_once(store, filled):
    early = EarlyHashes(store, workers=1)
    early.close()
    answers = [early.take(d, s) for d, s in filled.items() if s >= MMAP_FROM_BYTES]
    assert answers.count(None) >= len(answers) - 1, "at most the blob in hand was finished"


def test_an_exception_kills_the_workers_and_leaves_nothing_waiting(store, filled):
    with pytest.raises(KeyboardInterrupt), EarlyHashes(store) as early:
        raise KeyboardInterrupt
    assert all(w.proc is None or w.proc.poll() is not None for w in early._workers)
    for digest, size in filled.items():
        assert early.take(digest, size) in (None, digest)


def test_a_blob_altered_on_disk_is_found_through_the_early_hashes(store, filled):
    digest = next(d for d, s in filled.items() if s >= MMAP_FROM_BYTES)
    path = blob_path(store, digest)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(100)
        f.write(b"\xff" * 8)
    with EarlyHashes(store) as early, Archive.open(store, actor="tester@test") as archive:
        report = verify(archive, mode="full", early=early)
        assert early.take(digest, filled[digest]) == blake3(path.read_bytes()).hexdigest() != digest
    assert [(p.what, p.digest) for p in report.problems] == [("digest_mismatch", digest)]
    assert report.checked == len(filled)


def test_a_large_blob_added_after_the_plan_was_made_is_hashed_all_the_same(store, filled, tmp_path):
    late = write_random(tmp_path / "late.bin", MMAP_FROM_BYTES + 12345, seed=42)
    with EarlyHashes(store) as early, Archive.open(store, actor="tester@test") as archive:
        added = add_files(archive, [late]).outcomes[0]
        assert early.take(added.digest, added.size) is None
        report = verify(archive, mode="full", early=early)
    assert report.ok and report.checked == len(filled) + 1
    assert added.digest == blake3(late.read_bytes()).hexdigest()


def test_a_worker_that_cannot_start_leaves_every_blob_to_the_caller_at_once(store, filled, monkeypatch):
    def no_process():  # a fault (out of processes) injected: it cannot be made here for real
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(HashWorker, "_start", staticmethod(no_process))
    with EarlyHashes(store) as early:
        assert [early.take(d, s) for d, s in filled.items()] == [None] * len(filled)
    with Archive.open(store, actor="tester@test") as archive:
        assert verify(archive, mode="full", early=early, journal=False).ok


def test_a_worker_dead_of_sigbus_is_started_again_and_one_ended_by_ctrl_c_is_not(tmp_path):
    blob = write_random(tmp_path / "blob", 100_000, seed=7)
    expected = blake3(blob.read_bytes()).hexdigest()
    worker = HashWorker()
    try:
        assert worker.hash(blob, 100_000) == expected
        worker.proc.send_signal(signal.SIGBUS)  # what a blob shrinking under the mmap does
        worker.proc.wait()
        assert worker.hash(blob, 100_000) == expected, "started again"
        worker.proc.send_signal(signal.SIGINT)  # Ctrl-C reaches the workers too
        worker.proc.wait()
        assert worker.hash(blob, 100_000) is None and worker.hash(blob, 100_000) is None
    finally:
        worker.kill()
        worker.wait()


def test_a_path_that_is_not_utf8_is_hashed_and_one_with_a_line_break_is_left_to_the_caller(tmp_path):
    odd = os.fsencode(tmp_path) + b"/clip\xff\xfe.mp4"
    with open(odd, "wb") as f:
        f.write(b"evidence" * 1000)
    broken = tmp_path / "two\nlines"
    broken.write_bytes(b"x")
    worker = HashWorker()
    try:
        assert worker.hash(os.fsdecode(odd), 8000) == blake3(b"evidence" * 1000).hexdigest()
        assert worker.hash(broken, 1) is None
        assert worker.hash(os.fsdecode(odd), 8000) is not None, "the worker still answers"
    finally:
        worker.close()
        worker.wait()


def workers_of(pid: int) -> list[int]:
    """The hash workers among the children of ``pid``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = Path(entry.path, "cmdline").read_bytes()
                if int(stat[1]) == pid and b"hashworker.py" in cmdline:
                    found.append(int(entry.name))
    return found


@pytest.mark.slow  # 1 GiB of blobs, read cold
def test_ctrl_c_in_a_whole_store_verify_ends_it_cleanly_journals_nothing_leaves_no_worker(store, tmp_path):
    sources = [write_random(tmp_path / f"clip{i}.bin", 128 << 20, seed=i) for i in range(8)]
    assert Cli(store)("add", "--no-readback", *map(str, sources)).exit_code == 0
    for blob in (store / "objects").rglob("*"):
        if blob.is_file():
            fd = os.open(blob, os.O_RDONLY)
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # read from the device: ~1 s
            os.close(fd)
    journal = (store / "journal" / "events.jsonl").read_bytes()
    proc = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--store", str(store), "verify", "--full"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "RECORDKEEP_ACTOR": "tester@test"})
    deadline = time.monotonic() + 30
    while not workers_of(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C on a terminal does: the whole group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Aborted" in err and "Traceback" not in err
    assert workers_of(proc.pid) == []
    assert (store / "journal" / "events.jsonl").read_bytes() == journal, "an interrupted run is not journaled"
