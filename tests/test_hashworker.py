"""The hash worker: cached windows hashed in place, the others read from the device and dropped;
every mix of the two gives the file's BLAKE3, and a file shorter than asked is said so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from blake3 import blake3

from recordkeep.store import hashpool, hashworker

from .conftest import drop_pages, resident, write_random

PAGE = os.sysconf("SC_PAGE_SIZE")
WINDOW = 16 * PAGE


@pytest.fixture()
def worker(monkeypatch):
    """The worker module, imported (not run), with small windows."""
    monkeypatch.setattr(hashworker, "WINDOW", WINDOW)
    return hashworker


def cache(path: Path, start: int, length: int) -> None:
    """Bring these bytes, and no others (read-ahead off), into the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        os.pread(fd, length, start)
    finally:
        os.close(fd)


def test_runs_group_consecutive_windows_of_the_same_state(worker):
    assert worker.runs([]) == []
    assert worker.runs([True, True, False, True, False, False]) == [
        (True, 0, 2), (False, 2, 3), (True, 3, 4), (False, 4, 6)]


@pytest.mark.parametrize("size", [1, PAGE, WINDOW - 1, WINDOW, WINDOW + 1, 3 * WINDOW + 5, 4 * WINDOW])
@pytest.mark.parametrize("layout", ["cold", "warm", "alternate", "last_cached"])
def test_every_mix_of_cached_and_uncached_windows_hashes_to_the_files_blake3(
        worker, tmp_path, monkeypatch, size, layout):
    path = write_random(tmp_path / "blob", size, seed=size)
    expected = blake3(path.read_bytes()).hexdigest()
    drop_pages(path)
    droppable = resident(path) == 0
    windows = range(0, size, WINDOW)
    cached = {"cold": [False] * len(windows), "warm": [True] * len(windows),
              "alternate": [k % 2 == 1 for k in range(len(windows))],
              "last_cached": [k == len(windows) - 1 for k in range(len(windows))]}[layout]
    for start, mark in zip(windows, cached, strict=True):
        if mark:
            cache(path, start, WINDOW)
    seen = []
    runs = worker.runs
    monkeypatch.setattr(worker, "runs", lambda marks: seen.append(list(marks)) or runs(marks))
    assert worker._hash(str(path), size, worker.Reader()) == expected
    if not droppable:
        pytest.skip("this file system cannot drop pages: the mix cannot be made (the hash matched)")
    assert seen[0] == cached, "the worker saw the mix this case is about"


def test_a_blob_read_from_the_device_leaves_no_page_behind_and_cached_windows_stay(worker, tmp_path):
    path = write_random(tmp_path / "blob", 6 * WINDOW, seed=3)
    drop_pages(path)
    if resident(path) != 0:
        pytest.skip("this file system cannot drop pages")
    cache(path, 2 * WINDOW, 2 * WINDOW)  # windows 2 and 3: the working set's
    assert worker._hash(str(path), 6 * WINDOW, worker.Reader()) == blake3(path.read_bytes()).hexdigest()
    # read_bytes() above cached everything again: measure on a second, fresh run
    drop_pages(path)
    cache(path, 2 * WINDOW, 2 * WINDOW)
    worker._hash(str(path), 6 * WINDOW, worker.Reader())
    assert resident(path) == 2 * WINDOW


def test_a_file_shorter_than_its_record_is_answered_size_changed_not_hashed(worker, tmp_path):
    path = write_random(tmp_path / "blob", 2 * WINDOW, seed=4)
    assert worker._hash(str(path), 3 * WINDOW, worker.Reader()) == "size-changed"


def test_a_file_that_shrinks_between_the_size_check_and_the_read_is_answered_size_changed(
        worker, tmp_path, monkeypatch):
    path = write_random(tmp_path / "blob", 3 * WINDOW, seed=5)
    drop_pages(path)
    real_fstat = os.fstat

    def fstat_then_shrink(fd):  # the size check passes, then the file loses its last window
        result = real_fstat(fd)
        os.truncate(path, 2 * WINDOW)
        return result

    monkeypatch.setattr(os, "fstat", fstat_then_shrink)
    assert worker._hash(str(path), 3 * WINDOW, worker.Reader()) == "size-changed"


def test_a_file_that_shrinks_while_its_windows_are_read_from_the_device_is_answered_size_changed(
        worker, tmp_path, monkeypatch):
    path = write_random(tmp_path / "blob", 3 * WINDOW, seed=7)
    drop_pages(path)
    if resident(path) != 0:
        pytest.skip("this file system cannot drop pages: no window would be read")
    read = worker.Reader._read

    def shrink_then_read(self, fd, start, buffer):  # mapped whole, then cut short under the reads
        os.truncate(path, WINDOW + 1)
        read(self, fd, start, buffer)

    monkeypatch.setattr(worker.Reader, "_read", shrink_then_read)
    assert worker._hash(str(path), 3 * WINDOW, worker.Reader()) == "size-changed"


def test_the_worker_answers_each_request_on_its_own_line(tmp_path):
    paths = [write_random(tmp_path / f"b{i}", (i + 1) * 100_000, seed=i) for i in range(3)]
    requests = "".join(f"{p.stat().st_size}\t{p}\n" for p in paths) + f"10\t{tmp_path / 'gone'}\n"
    out = subprocess.run([sys.executable, "-S", hashpool.WORKER, hashpool.BLAKE3_HOME],
                         input=requests, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [blake3(p.read_bytes()).hexdigest() for p in paths] + [
        "error:No such file or directory"]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="runs the probe as another user: needs root and setpriv")
def test_a_blob_another_user_owns_is_not_taken_for_cached_though_mincore_says_so(tmp_path):
    # the kernel answers mincore truly only to a file's owner (and root); to anyone else every
    # page is cached. A reader not the owner (an auditor's account) probes by reading instead.
    folder = Path(tempfile.mkdtemp(dir="/var/tmp"))  # a folder another user can reach
    try:
        folder.chmod(0o755)
        path = write_random(folder / "blob", 4 * PAGE, seed=6)
        path.chmod(0o444)
        probe = ("import os, sys; sys.path[:0] = sys.argv[1:3]; import hashworker as h; "
                 "fd = os.open(sys.argv[3], os.O_RDONLY); "
                 "print(h._mincore().resident(fd, 0, 1), h.cached(fd, 0))")
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-S",
                     "-c", probe, str(Path(hashpool.WORKER).parent), hashpool.BLAKE3_HOME, str(path)]
        # the kernel may bring the page back between the drop and the probe (more often with the
        # suite's other workers loading the machine): one clean observation is what is asked
        for _attempt in range(30):
            drop_pages(path)
            if resident(path) != 0:
                pytest.skip("this file system cannot drop pages")
            said = subprocess.run(as_nobody, capture_output=True, text=True, check=True).stdout.split()
            if said == ["True", "False"]:
                break
        assert said == ["True", "False"], "mincore says cached to another user; the probe does not"
        cache(path, 0, PAGE)
        said = subprocess.run(as_nobody, capture_output=True, text=True, check=True).stdout.split()
        assert said == ["True", "True"]
    finally:
        shutil.rmtree(folder)
