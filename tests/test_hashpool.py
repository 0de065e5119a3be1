"""Hashes begun before the store is opened: every large blob answered once, the small ones left
to the caller, nothing waited for forever, and a whole-store verify that takes them finds what
it always found."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from blake3 import blake3

from recordkeep import Archive, add_files, verify
from recordkeep.store.hashpool import MMAP_FROM_BYTES, EarlyHashes, HashWorker

from .conftest import write_random


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
