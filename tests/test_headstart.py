"""A whole-store ``verify --full`` hashes large blobs from its first moment (store/headstart.py):
its answers stand for those blobs, nothing is hashed twice, and a run that never reaches the
hashing leaves no worker behind."""

from __future__ import annotations

import os
import threading
import time

import pytest
from blake3 import blake3

from recordkeep import Archive, verify
from recordkeep.store.hashpool import MMAP_FROM_BYTES, HashWorker
from recordkeep.store.headstart import HeadStart

from .conftest import Cli, blob_path, write_random
from .test_hashpool import workers_of

LARGE = MMAP_FROM_BYTES + 4096


def large_records(store, tmp_path, n: int = 2) -> list[str]:
    """Add ``n`` blobs large enough for the hash workers; their digests."""
    sources = [write_random(tmp_path / f"clip{i}.bin", LARGE, seed=i) for i in range(n)]
    assert Cli(store)("add", "--no-readback", *map(str, sources)).exit_code == 0
    return [blake3(s.read_bytes()).hexdigest() for s in sources]


def answered_all(head_start: HeadStart, digests: list[str]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if set(digests) <= head_start.answered():
            return True
        time.sleep(0.01)
    return False


def test_blobs_hashed_by_the_head_start_stand_in_verify_and_are_not_hashed_again(store, tmp_path,
                                                                                 monkeypatch):
    digests = large_records(store, tmp_path)
    small = write_random(tmp_path / "note.txt", 1000, seed=9)
    assert Cli(store)("add", str(small)).exit_code == 0
    with HeadStart(store) as head_start:
        assert len(head_start.workers) == 2
        assert answered_all(head_start, digests), "the head start hashed both large blobs"
        assert [head_start.answer(d, blob_path(store, d), LARGE) for d in digests] == digests
        asked = []
        real = HashWorker.hash
        monkeypatch.setattr(HashWorker, "hash",
                            lambda self, path, size: asked.append(path) or real(self, path, size))
        with Archive.open(store, actor="tester@test") as archive:
            report = verify(archive, mode="full", head_start=head_start)
    assert report.ok and report.checked == 3 and report.bytes == 2 * LARGE + 1000
    assert asked == [], "no blob the head start answered was asked of a worker again"


def test_a_blob_replaced_after_the_head_start_hashed_it_is_hashed_again_and_found(store, tmp_path):
    digest = large_records(store, tmp_path, n=1)[0]
    blob = blob_path(store, digest)
    with HeadStart(store) as head_start:
        assert answered_all(head_start, [digest])
        swapped = blob.with_name("swap")
        swapped.write_bytes(b"\0" * LARGE)  # the same size, other bytes, put in its place
        os.replace(swapped, blob)
        with Archive.open(store, actor="tester@test") as archive:
            report = verify(archive, mode="full", head_start=head_start)
    assert [p.what for p in report.problems] == ["digest_mismatch"]


def test_a_blob_written_over_in_place_after_the_head_start_hashed_it_is_hashed_again(store, tmp_path):
    digest = large_records(store, tmp_path, n=1)[0]
    blob = blob_path(store, digest)
    with HeadStart(store) as head_start:
        assert answered_all(head_start, [digest])
        os.chmod(blob, 0o644)
        with open(blob, "r+b") as f:
            f.seek(LARGE // 2)
            f.write(b"\x00tampered")
        assert head_start.answer(digest, blob, LARGE) is None
        with Archive.open(store, actor="tester@test") as archive:
            report = verify(archive, mode="full", head_start=head_start)
    assert [p.what for p in report.problems] == ["digest_mismatch"]


def test_an_answer_of_the_head_start_stands_only_for_the_size_it_hashed(store, tmp_path):
    digest = large_records(store, tmp_path, n=1)[0]
    with HeadStart(store) as head_start:
        assert answered_all(head_start, [digest])
        head_start.handover()
        blob = blob_path(store, digest)
        assert head_start.answer(digest, blob, LARGE) == digest
        assert head_start.answer(digest, blob, LARGE - 1) is None
        assert head_start.answer("0" * 64, blob, LARGE) is None
        same_bytes = tmp_path / "clip0.bin"
        assert head_start.answer(digest, same_bytes, LARGE) is None, "another file of the same bytes"


def test_a_folder_that_is_not_a_store_gets_no_head_start_and_starts_no_worker(tmp_path):
    digest = "ab" * 32
    lookalike = tmp_path / "objects" / "blake3" / "ab" / "ab" / digest
    lookalike.parent.mkdir(parents=True)
    write_random(lookalike, LARGE)
    for root in (tmp_path, None, "", "   ", tmp_path / ("x" * 5000), "a\0b"):
        with HeadStart(root) as head_start:
            head_start.handover()
            assert head_start.workers == []
    assert workers_of(os.getpid()) == []


def test_a_verify_that_fails_to_open_its_store_after_the_head_start_began_leaves_no_worker(store, tmp_path,
                                                                                        monkeypatch):
    large_records(store, tmp_path)
    (store / "recordkeep.toml").write_text("[store\nbroken = ")
    began = []
    real = HeadStart.__init__
    monkeypatch.setattr(HeadStart, "__init__", lambda self, root: real(self, root) or began.append(self))
    result = Cli(store)("verify", "--full")
    assert [len(h.workers) for h in began] == [2], "the head start began before the store failed to open"
    assert result.exit_code not in (0, 3) and "Traceback" not in result.output
    assert "recordkeep.toml" in result.output
    assert workers_of(os.getpid()) == [], "the head start's workers ended with the command"


def test_files_that_are_not_blobs_of_the_store_are_left_to_verify_to_report(store, tmp_path):
    digests = large_records(store, tmp_path, n=1)
    stray = blob_path(store, digests[0]).parent / ("f" * 64)  # a digest name in the wrong folder
    write_random(stray, LARGE)
    link = blob_path(store, "cd" * 32)
    link.parent.mkdir(parents=True)
    link.symlink_to(blob_path(store, digests[0]))
    with HeadStart(store) as head_start:
        assert answered_all(head_start, digests)
        head_start.handover()
        assert head_start.answered() == set(digests)
    found = Cli(store).json("verify", "--full")
    assert sorted(p["what"] for p in found["problems"]) == ["stray_file", "stray_file"]


def test_leaving_a_head_start_by_an_error_kills_its_workers_without_waiting_for_their_blobs(store, tmp_path):
    large_records(store, tmp_path)
    with pytest.raises(KeyboardInterrupt), HeadStart(store) as head_start:
        raise KeyboardInterrupt  # Ctrl-C while the store opens
    assert head_start.workers and all(w.interrupted for w in head_start.workers)
    assert workers_of(os.getpid()) == []
    assert not [t for t in threading.enumerate() if t.name == "head-start"]


def test_ctrl_c_as_a_head_start_starts_leaves_no_worker_and_no_feeder(store, tmp_path, monkeypatch):
    large_records(store, tmp_path)
    real, started = threading.Thread.start, []

    def interrupted_at_the_second(thread):  # Ctrl-C at this instant cannot be made for real
        started.append(thread)
        if len(started) == 2:
            raise KeyboardInterrupt
        real(thread)

    monkeypatch.setattr(threading.Thread, "start", interrupted_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        HeadStart(store)
    monkeypatch.undo()
    assert workers_of(os.getpid()) == []
    assert not [t for t in threading.enumerate() if t.name == "head-start"]


def test_a_head_start_given_to_a_run_that_does_not_want_it_is_abandoned_at_once(store, tmp_path):
    large_records(store, tmp_path)
    with HeadStart(store) as head_start, Archive.open(store, actor="tester@test") as archive:
        report = verify(archive, mode="fast", head_start=head_start)
        assert all(w.interrupted for w in head_start.workers), "killed, not waited for"
        assert workers_of(os.getpid()) == []
    assert report.ok and report.checked == 2


def test_only_a_full_run_of_the_whole_store_gets_a_head_start(store, tmp_path, monkeypatch):
    large_records(store, tmp_path)
    assert Cli(store)("party", "add", "--name", "张三", "--id-number", "11010519491231002X").exit_code == 0
    began = []
    real = HeadStart.__init__
    monkeypatch.setattr(HeadStart, "__init__", lambda self, root: real(self, root) or began.append(self))
    runs = ((["--full"], 2), (["--fast"], 0), (["--full", "--party", "P1"], 0),
            (["--full", "--since", "2021-01-01"], 0))
    for args, expected in runs:
        began.clear()
        assert Cli(store)("verify", *args).exit_code == 0
        assert [len(h.workers) for h in began] == [expected], args
