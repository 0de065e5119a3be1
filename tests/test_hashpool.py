"""Hash workers: started again after a SIGBUS, not after Ctrl-C; any path hashed or left to the
caller; and Ctrl-C on a whole-store verify leaves no worker behind."""

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

from recordkeep.store.hashpool import HashWorker

from .conftest import REPO, Cli, drop_pages, sigint_as_at_a_terminal, write_random


def test_a_worker_dead_of_sigbus_is_started_again_and_one_killed_for_an_interrupt_is_not(tmp_path):
    blob = write_random(tmp_path / "blob", 100_000, seed=7)
    expected = blake3(blob.read_bytes()).hexdigest()
    worker = HashWorker()
    try:
        assert worker.hash(blob, 100_000) == expected
        worker.proc.send_signal(signal.SIGBUS)  # what a blob shrinking under the mmap does
        worker.proc.wait()
        assert worker.hash(blob, 100_000) == expected, "started again"
        worker.kill()
        assert worker.hash(blob, 100_000) is None and worker.interrupted, "not started again"
    finally:
        worker.close()


def test_workers_are_in_a_process_group_of_their_own_so_ctrl_c_reaches_only_recordkeep():
    worker = HashWorker()
    try:
        assert os.getpgid(worker.proc.pid) == worker.proc.pid != os.getpgid(0)
    finally:
        worker.close()


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


def _cmdline(pid: int) -> bytes:
    """The process's command line; empty once it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def hashing(pids: list[int], under: str) -> bool:
    """Whether one of the processes ``pids`` has a file under ``under`` open."""
    for pid in pids:
        with contextlib.suppress(OSError):
            if any(os.readlink(fd.path).startswith(under) for fd in os.scandir(f"/proc/{pid}/fd")):
                return True
    return False


@pytest.mark.slow  # 1 GiB of blobs, read cold
def test_ctrl_c_in_a_whole_store_verify_ends_it_cleanly_journals_nothing_leaves_no_worker(store, tmp_path):
    sources = [write_random(tmp_path / f"clip{i}.bin", 128 << 20, seed=i) for i in range(8)]
    assert Cli(store)("add", "--no-readback", *map(str, sources)).exit_code == 0
    for blob in (store / "objects").rglob("*"):
        if blob.is_file():
            drop_pages(blob)  # read from the device: ~1 s
    journal = (store / "journal" / "events.jsonl").read_bytes()
    proc = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--store", str(store), "verify", "--full"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=sigint_as_at_a_terminal,
                            env={**os.environ, "RECORDKEEP_ACTOR": "tester@test"})
    deadline = time.monotonic() + 30
    objects = str(store / "objects")
    workers: list[int] = []
    while not hashing(workers, objects) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
        workers = workers_of(proc.pid)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C on a terminal does: the whole group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Aborted" in err and "Traceback" not in err
    # once the command is gone its orphans would belong to init: look for the workers themselves
    alive = [pid for pid in workers if b"hashworker.py" in _cmdline(pid)]
    assert workers and alive == [], "no hash worker outlives the interrupted command"
    assert (store / "journal" / "events.jsonl").read_bytes() == journal, "an interrupted run is not journaled"


def test_a_worker_that_cannot_start_leaves_the_blob_to_the_caller(tmp_path, monkeypatch):
    def no_process():  # a fault (out of processes) injected: it cannot be made here for real
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(HashWorker, "_start", staticmethod(no_process))
    worker = HashWorker()
    blob = write_random(tmp_path / "blob", 1000)
    assert worker.hash(blob, 1000) is None and not worker.interrupted
    worker.close()
