"""Progress bars: drawn on a terminal (a real pseudo-terminal here) for every long command, never
on a pipe nor with --json unless --progress asks; --no-progress silences them on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from recordkeep import Archive
from recordkeep.progress import Progress

from .conftest import REPO, Cli, run_recordkeep, write_random

PERCENT = re.compile(rb"(\d+)%\|")


def under_a_terminal(*args: str, store: Path) -> tuple[int, bytes]:
    """Run recordkeep with stdin, stdout and stderr on a pseudo-terminal of 120 columns; return
    its exit code and everything it wrote there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "RECORDKEEP_ACTOR": "proc@test", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--store", str(store), *args],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every end of the terminal's other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return proc.wait(timeout=120), out


@pytest.fixture
def blobs_store(store: Path, tmp_path: Path) -> Path:
    files = [write_random(tmp_path / f"clip{i}.bin", (9 << 20) + i, seed=i) for i in range(6)]
    assert Cli(store)("add", *map(str, files)).exit_code == 0
    return store


def test_verify_draws_a_bar_of_bytes_and_records_that_moves_on_a_terminal(blobs_store):
    code, out = under_a_terminal("verify", "--full", store=blobs_store)
    assert code == 0, out
    assert b"verify" in out and b"records" in out and b"B/s" in out
    shown = [int(p) for p in PERCENT.findall(out)]
    assert shown[0] == 0 and shown[-1] == 100, "the bar starts empty and is drawn full before it goes"
    assert b"6/6 records" in out
    assert b"verify --full (whole store): 6 records" in out


def test_rebuild_index_draws_a_bar_of_events(blobs_store):
    code, out = under_a_terminal("rebuild-index", store=blobs_store)
    assert code == 0, out
    assert b"rebuild-index" in out and b"events" in out
    assert PERCENT.findall(out)[-1] == b"100"


@pytest.mark.parametrize("args", [("import", "{src}"), ("export", "--party", "P1", "{tmp}/bag")],
                         ids=["import", "export"])
def test_import_and_export_draw_a_bar_of_bytes(store, tmp_path, args):
    src = tmp_path / "card"
    src.mkdir()
    for i in range(3):
        write_random(src / f"DSJ001_440301123456_2021031508300{i}_000{i}.bin", 1 << 20, seed=i)
    cli = Cli(store)
    if args[0] == "export":
        assert cli("import", str(src)).exit_code == 0
        assert cli("party", "add", "--name", "张三").exit_code == 2  # a party needs a number
        assert cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X").exit_code == 0
        digests = [r["digest"] for r in cli.json("search")["records"]]
        assert cli("case", "open", "X1", "--party", "P1").exit_code == 0
        assert cli("case", "link", "X1", *digests, "--stage", "start").exit_code == 0
    code, out = under_a_terminal(*(a.format(src=src, tmp=tmp_path) for a in args), store=store)
    assert code == 0, out
    assert args[0].encode() in out and b"3/3 files" in out
    assert PERCENT.findall(out)[-1] == b"100"


def test_no_bar_on_a_pipe_nor_with_json_nor_with_no_progress(blobs_store):
    piped = run_recordkeep("verify", "--full", store=blobs_store)
    assert piped.returncode == 0 and piped.stderr == ""
    code, out = under_a_terminal("verify", "--full", "--json", store=blobs_store)
    assert code == 0 and not PERCENT.search(out) and b"B/s" not in out
    code, out = under_a_terminal("--no-progress", "verify", "--full", store=blobs_store)
    assert code == 0 and not PERCENT.search(out)


def test_progress_forces_the_bar_on_a_pipe_and_leaves_json_alone(blobs_store):
    import json

    forced = run_recordkeep("--progress", "verify", "--full", "--json", store=blobs_store)
    assert forced.returncode == 0
    assert "verify" in forced.stderr and "100%" in forced.stderr
    assert json.loads(forced.stdout)["checked"] == 6


def test_a_station_catching_up_a_long_journal_tells_its_watcher(dump_imported_once, tmp_path):
    import shutil

    template, _ = dump_imported_once
    store = tmp_path / "store"
    shutil.copytree(template, store, symlinks=True)
    (store / "index.sqlite").unlink()
    seen: list[Progress] = []
    with Archive.open(store) as archive:
        archive.watch = lambda p: seen.append(Progress(**vars(p)))
        archive.index  # noqa: B018  (a new index catches up with the whole journal)
    assert seen and seen[-1].task == "catch-up"
    assert seen[-1].done == seen[-1].total > 0


def test_recordkeep_help_imports_no_progress_library():
    probe = ("import sys\nfrom click.testing import CliRunner\nfrom cli import main\n"
             "CliRunner().invoke(main, ['--help'])\nprint('tqdm' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_a_finished_task_clears_its_bar_at_once_so_no_result_is_printed_beside_it():
    from cli import Bars

    bars = Bars()
    catch_up = Progress("catch-up", "events", total=3)
    for _ in range(3):
        catch_up.done += 1
        bars(catch_up)
        assert (bars.bar is None) == (catch_up.done == 3)
    bars(catch_up)  # a last word on it (the index tells once more after its last batch)
    assert bars.bar is None, "a finished task's bar is not drawn again"
    verify = Progress("verify", "bytes", total=10, items="records", items_total=2)
    verify.done, verify.items_done = 10, 1  # the bytes are all read, the last record not yet judged
    bars(verify)
    assert bars.bar is not None
    verify.items_done = 2
    bars(verify)
    assert bars.bar is None
    add = Progress("add", "bytes")  # how much is not known beforehand: the command clears it
    add.done = 5
    bars(add)
    assert bars.bar is not None
    bars.close()
    assert bars.bar is None


def test_a_catch_up_done_in_its_first_report_makes_no_bar(monkeypatch):
    import tqdm

    from cli import Bars

    def no_bar(*args, **kwargs):
        raise AssertionError("a bar was made (and tqdm loaded) for a catch-up that is over")

    monkeypatch.setattr(tqdm, "tqdm", no_bar)  # its bar would wait a second: it could never show
    Bars()(Progress("catch-up", "events", total=2, done=2))
