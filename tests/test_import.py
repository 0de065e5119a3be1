"""import: the clerk's daily job. Every byte stored once, nothing skipped silently."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import mmap
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from recordkeep import Archive, import_dump, verify
from recordkeep.store.hashing import hash_file

from .conftest import REPO, new_store, run_recordkeep, sigint_as_at_a_terminal, write_random
from .mounts import grow, small_disk


def record(archive: Archive, digest: str) -> dict:
    row = archive.index.conn.execute("SELECT * FROM records WHERE digest = ?", (digest,)).fetchone()
    return dict(row)


def files_by_path(receipt_json: dict) -> dict[str, dict]:
    return {f.get("path") or f["path_hex"]: f for f in receipt_json["files"]}


def test_importing_a_dump_stores_every_file_and_says_the_recorder_may_be_wiped(imported, dump):
    _, manifest = dump
    files = files_by_path(imported)
    assert set(files) == set(manifest)
    assert all(f["status"] in ("stored", "present") and f["readback"] == "equal" for f in files.values())
    assert imported["verdict"] == "may_wipe" and imported["may_wipe"] is True
    assert imported["seen"] == len(manifest) and imported["not_stored"] == 0


def test_the_human_receipt_prints_the_verdict(cli, dump_dir):
    result = cli("import", str(dump_dir))
    assert result.exit_code == 0
    assert "the recorder may be wiped" in result.stdout
    assert "\r" not in result.output


def test_a_duplicated_clip_is_stored_once_and_its_second_sighting_is_journaled(imported, dump, archive):
    _, manifest = dump
    files = files_by_path(imported)
    copy = next(k for k, v in manifest.items() if v.get("duplicate_of"))
    original = manifest[copy]["duplicate_of"]
    assert files[copy]["digest"] == files[original]["digest"]
    assert sorted([files[copy]["status"], files[original]["status"]]) == ["present", "stored"]
    sightings = archive.index.conn.execute("SELECT COUNT(*) FROM sightings WHERE digest = ?",
                                           (files[copy]["digest"],)).fetchone()[0]
    assert sightings == 2


def test_hidden_and_system_files_are_stored(imported):
    files = files_by_path(imported)
    assert files[".DS_Store"]["status"] == "stored"
    assert files["System Volume Information/IndexerVolumeGuid"]["status"] == "stored"


def test_records_carry_the_media_facts_of_each_file(imported, dump, archive):
    _, manifest = dump
    files = files_by_path(imported)
    for name, info in manifest.items():
        if info.get("duplicate_of"):
            continue
        row = record(archive, files[name]["digest"])
        assert row["kind"] == info["kind"], name
        facts = info["facts"]
        for key in ("duration_ms", "width", "height", "video_codec", "audio_codec", "pages",
                    "gps_lat", "gps_lon", "make", "model", "serial", "container"):
            if key in facts:
                assert row[key] == facts[key], (name, key)
        if facts.get("recorded_at"):
            assert row["recorded_at"] == facts["recorded_at"], name
            assert row["time_source"] == "metadata"


def test_the_file_name_gives_device_officer_and_important(imported, archive):
    files = files_by_path(imported)
    row = record(archive, files["DCIM/100DSJ01/DSJ001_440301123456_20210315084500_0002_IMP.MP4"]["digest"])
    assert (row["device"], row["officer"], row["important"]) == ("DSJ001", "440301123456", 1)
    aac = record(archive, files["DCIM/100DSJ01/DSJ001_440301123456_20210315100000_0007.AAC"]["digest"])
    assert aac["recorded_at"] == "2021-03-15T10:00:00.000+08:00" and aac["time_source"] == "name"
    assert aac["officer_source"] == "name"


def test_embedded_time_wins_over_the_name_and_the_conflict_is_recorded(imported, dump, archive):
    _, manifest = dump
    name = next(k for k, v in manifest.items() if v.get("conflict"))
    row = record(archive, files_by_path(imported)[name]["digest"])
    assert row["recorded_at"] == manifest[name]["facts"]["recorded_at"]
    conflict = json.loads(row["time_conflict"])
    assert conflict["name"].startswith(manifest[name]["name_time"])
    assert conflict["seconds"] > 60


def test_an_axon_clip_takes_its_device_from_the_serial_and_officer_from_metadata(imported, archive):
    axon = files_by_path(imported)["DCIM/101AXON/Axon Body 3 Video 2021-03-15 0830.mp4"]
    row = record(archive, axon["digest"])
    assert row["device"] == "X6039412A"
    assert (row["officer"], row["officer_source"]) == ("440301654321", "metadata")


def test_the_officer_flag_wins_over_metadata_and_name(cli, dump_dir, archive):
    data = cli.json("import", str(dump_dir), "--officer", "440399000001")
    digest = files_by_path(data)["DCIM/100DSJ01/DSJ001_440301123456_20210315084500_0002_IMP.MP4"]["digest"]
    row = record(archive, digest)
    assert (row["officer"], row["officer_source"]) == ("440399000001", "flag")


def test_a_device_assignment_names_the_officer_when_nothing_else_does(cli, store, tmp_path, dump_dir):
    toml = store / "recordkeep.toml"
    toml.write_text(toml.read_text() + '\n[[naming.patterns]]\nname = "cam"\n'
                    "regex = '^(?P<device>CAM\\d+)-(?P<start>\\d{14})\\.\\w+$'\n")
    card = tmp_path / "card"
    card.mkdir()
    shutil.copy(dump_dir / "SCANS" / "现场检查笔录.jpg", card / "CAM7-20210315090000.jpg")
    shutil.copy(dump_dir / "SCANS" / "现场检查笔录.jpg", card / "CAM7-20210316090000.jpg")
    (card / "CAM7-20210316090000.jpg").write_bytes((card / "CAM7-20210316090000.jpg").read_bytes() + b"x")
    assert cli("device", "add", "CAM7", "--officer", "440301000007", "--from", "2021-03-01").exit_code == 0
    assert cli("device", "add", "CAM7", "--officer", "440301000008", "--from", "2021-03-16").exit_code == 0
    data = cli.json("import", str(card))
    with Archive.open(store) as archive:
        got = {f["path"]: record(archive, f["digest"])["officer"] for f in data["files"]}
    assert got == {"CAM7-20210315090000.jpg": "440301000007", "CAM7-20210316090000.jpg": "440301000008"}
    officers = cli.json("officer", "list")["officers"]
    assert {o["cert_no"]: o["registered"] for o in officers} == {"440301000007": False,
                                                                 "440301000008": False}
    devices = cli.json("device", "list")["devices"]
    assert devices[0]["until"] == devices[1]["from"] == "2021-03-16T00:00:00.000+08:00"


def test_officer_add_names_an_officer_seen_unregistered(cli, imported):
    before = {o["cert_no"]: o for o in cli.json("officer", "list")["officers"]}
    assert before["440301123456"]["registered"] is False and before["440301123456"]["records"] > 0
    assert cli("officer", "add", "440301123456", "--name", "张三", "--unit", "坡头中队").exit_code == 0
    after = {o["cert_no"]: o for o in cli.json("officer", "list")["officers"]}
    assert after["440301123456"]["name"] == "张三" and after["440301123456"]["registered"] is True


def test_every_bad_input_is_stored_or_listed_with_its_reason(cli, bad, archive):
    bad_dir, manifest = bad
    data = cli.json("import", str(bad_dir))
    files = files_by_path(data)
    for name, info in manifest.items():
        key = info.get("name_hex", name)
        assert key in files, name
        got = files[key]
        if info["regular"]:
            assert got["status"] in ("stored", "present"), (name, got)
        else:
            assert got["status"] == "skipped" and got["code"] == "RK304", (name, got)
            assert got["reason"]
    assert data["not_stored"] == 0 and data["skipped"] == 4
    probe = {name: record(archive, files[info.get("name_hex", name)]["digest"])
             for name, info in manifest.items() if info["regular"]}
    assert probe["empty.mp4"]["size"] == 0
    assert probe["moov_lost.mp4"]["probe_status"] == "failed"
    assert probe["half_cut_faststart.mp4"]["probe_status"] == "suspect"
    assert probe["not_a_video.mp4"]["probe_status"] == "failed"
    assert "symlink to target.jpg" in files["link_to_target.jpg"]["reason"]
    assert "FIFO" in files["camera.fifo"]["reason"]


def test_a_name_that_is_not_utf8_is_kept_exactly_as_path_hex(cli, bad, archive):
    bad_dir, manifest = bad
    cli("import", str(bad_dir))
    info = next(v for v in manifest.values() if "name_hex" in v)
    row = archive.index.conn.execute("SELECT path, path_hex FROM sightings WHERE path_hex = ?",
                                     (info["name_hex"],)).fetchone()
    assert row is not None and row["path"] is None



def test_a_dump_whose_own_folder_name_is_not_utf8_is_imported_whole(store, tmp_path):
    card = os.path.join(os.fsencode(tmp_path), b"card\xff")
    os.mkdir(card)
    for i in range(70):  # more than one chunk of journal lines
        with open(os.path.join(card, b"c%03d.txt" % i), "wb") as f:
            f.write(b"scan %d" % i)
    done = run_recordkeep("import", "--json", card, store=store)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stored"] == 70
    finished = [json.loads(x) for x in (store / "journal" / "events.jsonl").read_bytes().splitlines()
                if b'"batch.finished"' in x]
    assert finished[-1]["data"]["source"].endswith("card\\xff")  # printable, and exact beside it
    assert bytes.fromhex(finished[-1]["data"]["source_hex"]) == os.path.abspath(card)
    assert run_recordkeep("log", "verify", store=store).returncode == 0
    assert run_recordkeep("import", "--json", card, store=store).returncode == 0


def test_a_dump_walks_sorted_depth_first_and_a_tree_deeper_than_pythons_recursion_is_imported(cli, tmp_path):
    from recordkeep.ingest import walk

    small = tmp_path / "small"
    for rel in ("b/1", "a/x/2", "a/3", "c"):
        (small / rel).parent.mkdir(parents=True, exist_ok=True)
        (small / rel).write_text(rel, encoding="utf-8")
    assert [rel for rel, _, _ in walk(os.fsencode(small))] == [b"a/3", b"a/x/2", b"b/1", b"c"]
    deep = tmp_path / "deep"
    bottom = str(deep)
    os.mkdir(bottom)
    try:
        for _ in range(1100):  # not os.makedirs: it recurses too
            bottom = os.path.join(bottom, "d")
            os.mkdir(bottom)
        with open(os.path.join(bottom, "scan.txt"), "w", encoding="utf-8") as f:
            f.write("at the bottom")
        done = cli.json("import", str(deep))
        assert done["stored"] == 1 and done["files"][0]["path"].endswith("d/scan.txt")
    finally:  # removed here: shutil.rmtree (pytest's clean-up of old runs) recurses as well
        if os.path.exists(os.path.join(bottom, "scan.txt")):
            os.remove(os.path.join(bottom, "scan.txt"))
        while bottom != str(deep):
            os.rmdir(bottom)
            bottom = os.path.dirname(bottom)

def test_a_name_with_a_newline_is_kept_exactly(cli, bad, archive):
    bad_dir, _ = bad
    cli("import", str(bad_dir))
    found = archive.index.conn.execute("SELECT 1 FROM sightings WHERE path = ?", ("line\nbreak.jpg",))
    assert found.fetchone()


def test_a_second_import_copies_nothing_and_journals_the_sightings(cli, dump_dir, imported):
    again = cli.json("import", str(dump_dir))
    assert again["stored"] == 0 and again["copied_bytes"] == 0
    assert again["present"] == again["seen"]
    assert again["verdict"] == "may_wipe"


def test_dry_run_stores_nothing(cli, dump_dir, store):
    data = cli.json("import", str(dump_dir), "--dry-run")
    assert data["verdict"] == "dry_run" and data["may_wipe"] is False
    assert list((store / "objects" / "blake3").iterdir()) == []


def test_a_dry_runs_receipt_calls_no_file_stored(cli, dump_dir):
    lines = cli("import", str(dump_dir), "--dry-run").stdout.splitlines()
    assert not [line for line in lines if line.startswith("stored ")]
    assert [line for line in lines if line.startswith("new ")] and "dry run: nothing was stored" in lines


def test_no_readback_stores_but_does_not_say_wipe(cli, dump_dir):
    result = cli("import", str(dump_dir), "--no-readback", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["verdict"] == "stored_not_reread" and data["may_wipe"] is False


def test_a_file_that_grows_while_being_read_is_unstable_and_not_recorded(store, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    growing = write_random(card / "growing.mp4", 64 << 20)
    stop = threading.Event()

    def keep_writing() -> None:
        with open(growing, "ab") as f:
            while not stop.is_set():
                f.write(b"x" * 4096)
                f.flush()
                time.sleep(0.0005)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with Archive.open(store) as archive:
            receipt = import_dump(archive, card)
    finally:
        stop.set()
        writer.join()
    outcome = receipt.outcomes[0]
    assert outcome.status == "failed" and outcome.code == "RK302"
    assert not receipt.complete and receipt.verdict == "incomplete"
    with Archive.open(store) as archive:
        assert archive.index.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
    assert not [p for p in (store / "objects").rglob("*") if p.is_file()]  # nothing placed
    assert not [p for p in (store / "tmp").iterdir()]  # and nothing left behind



def camera_card(tmp_path, clips: int) -> Path:
    """A card of ``clips`` body-camera clips of 24 MiB each (an import of it takes a while)."""
    card = tmp_path / "card"
    card.mkdir()
    for i in range(clips):
        write_random(card / f"DSJ001_440301123456_2021031508{i:02d}00_{i:04d}.MP4", 24 << 20, seed=i)
    return card

@pytest.mark.slow  # a process killed
def test_an_import_killed_part_way_then_rerun_completes_without_duplicates(store, tmp_path):
    card = camera_card(tmp_path, 6)
    env = {**os.environ, "RECORDKEEP_ACTOR": "proc@test"}
    proc = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--store", str(store), "import",
                             str(card)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = run_recordkeep("import", "--json", str(card), store=store)
    assert done.returncode == 0, done.stderr
    with Archive.open(store) as archive:
        assert archive.index.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 6
        report = verify(archive, journal=False)
        assert report.ok and report.notices == []
    assert run_recordkeep("log", "verify", store=store).returncode == 0


@pytest.mark.slow  # two import processes at once, ~2-3 s
def test_two_imports_into_one_store_at_once_both_succeed(store, dump_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(dump_dir, other)
    write_random(other / "extra.bin", 1 << 20)
    env = {**os.environ, "RECORDKEEP_ACTOR": "proc@test"}
    procs = [subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--store", str(store), "import",
                               "--json", str(d)], env=env, stdout=subprocess.PIPE, text=True)
             for d in (dump_dir, other)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert all(json.loads(o)["may_wipe"] for o in outs)
    with Archive.open(store) as archive:
        assert verify(archive, journal=False).ok
    assert run_recordkeep("log", "verify", store=store).returncode == 0


@pytest.mark.slow  # a real tmpfs mount
def test_a_full_disk_mid_import_exits_5_and_the_rerun_completes_once_space_is_freed(tmp_path):
    with small_disk(tmp_path / "small", "24m") as mnt:
        store = mnt / "store"
        new_store(store)
        card = tmp_path / "card"
        card.mkdir()
        digests = [hash_file(write_random(card / f"clip{i}.mp4", 6 << 20, seed=i))[0] for i in range(5)]
        proc = run_recordkeep("import", "--json", str(card), store=store)
        assert proc.returncode == 5, (proc.stderr, proc.stdout[-3000:])
        data = json.loads(proc.stdout)
        failed = [f for f in data["files"] if f["status"] == "failed"]
        assert failed and all(f["code"] == "RK105" for f in failed)
        assert data["verdict"] == "incomplete"
        assert run_recordkeep("verify", store=store).returncode == 0
        grow(mnt, "64m")
        again = run_recordkeep("import", "--json", str(card), store=store)
        assert again.returncode == 0, again.stderr
        assert sorted(f["digest"] for f in json.loads(again.stdout)["files"]) == sorted(digests)


def test_importing_a_missing_folder_is_a_clear_error(cli, tmp_path):
    result = cli("import", str(tmp_path / "nope"))
    assert result.exit_code == 1 and result.stderr.startswith("RK301")



def test_a_missing_ffprobe_never_blocks_storing_and_the_records_say_why(store, dump_dir, monkeypatch):
    monkeypatch.setenv("RECORDKEEP_FFPROBE", "/nonexistent/ffprobe")
    with Archive.open(store) as archive:
        receipt = import_dump(archive, dump_dir)
        assert receipt.complete and receipt.may_wipe
        row = archive.index.conn.execute(
            "SELECT kind, probe_status, probe_error FROM records WHERE kind = 'video' LIMIT 1").fetchone()
    assert row["probe_status"] == "unprobed" and "RK107" in row["probe_error"]


def test_a_missing_ffprobe_leaves_good_clips_unread_never_called_damaged(cli, dump_dir, monkeypatch):
    """A tool missing on the station says nothing of the evidence: the receipt, printed and
    --json, says they were not read, and calls no file damaged."""
    monkeypatch.setenv("RECORDKEEP_FFPROBE", "/nonexistent/ffprobe")
    receipt = cli.json("import", str(dump_dir))
    assert receipt["damaged"] == 0 and receipt["unprobed"] > 0
    assert not [f for f in receipt["files"] if f.get("damage")]
    again = cli("import", str(dump_dir)).stdout  # the same clips seen again: still said
    assert "stored but not read: ffprobe was not found (RK107)" in again and "damaged" not in again


def _bytes_read_from_storage() -> int:
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("read_bytes:")).split()[1])


def _pages(size: int) -> int:
    """Bytes in the pages that hold ``size`` bytes: what a read of them all from the device costs."""
    return -(-size // mmap.PAGESIZE) * mmap.PAGESIZE


def test_the_read_back_of_a_large_copy_comes_from_the_device_range_by_range(store, tmp_path):
    size = 3 * (32 << 20) + 12345  # more than one writeback range, not a multiple of one
    src = write_random(tmp_path / "clip.mp4", size, seed=7)
    expected = hash_file(src)
    with Archive.open(store) as archive, open(src, "rb") as f:
        before = _bytes_read_from_storage()
        put = archive.objects.put_fd(f.fileno(), reread=True)
        read = _bytes_read_from_storage() - before
    assert (put.digest, put.size) == expected and put.new_blob
    assert put.reread == expected
    assert read >= _pages(size)  # every page from the device, the last partial one too


def test_a_copy_written_in_pieces_of_odd_sizes_is_read_back_from_the_device_every_page_of_it(store, tmp_path):
    size = 3 * (32 << 20) + 12345
    data = write_random(tmp_path / "clip.mp4", size, seed=8).read_bytes()
    source, feed = os.pipe()  # the kernel cannot copy from a pipe: written as read, in pieces

    def writer():
        with open(feed, "wb", buffering=0) as pipe, contextlib.suppress(BrokenPipeError):
            for start in range(0, size, 100_003):  # pieces that end anywhere in a page
                pipe.write(data[start:start + 100_003])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with Archive.open(store) as archive:
            before = _bytes_read_from_storage()
            put = archive.objects.put_fd(source, reread=True)
            read = _bytes_read_from_storage() - before
    finally:
        os.close(source)  # a copy that failed midway leaves no writer blocked on a full pipe
        thread.join()
    assert put.size == size and put.reread == (put.digest, size)
    assert read >= _pages(size)  # no page shared by two ranges, nor the last, came from memory


def test_the_read_back_drops_a_range_only_after_the_copys_own_hash_has_read_it(store, tmp_path, monkeypatch):
    # A page being read when it is dropped stays cached, and the read-back would take it
    # from memory: seen once under load, one batch of pages (~1.9 MB) short of the device.
    size = 3 * (32 << 20) + 12345
    src = write_random(tmp_path / "clip.mp4", size, seed=9)
    real_preadv, real_fadvise = os.preadv, os.posix_fadvise
    hashed_through = 0
    drops = []  # (start, end of a range the read-back dropped, how far the copy's hash had read)

    def preadv_of_a_hasher_held_up(fd, buffers, offset, *flags):  # as on a loaded machine
        nonlocal hashed_through
        hasher = threading.current_thread().name == "copy-hasher"
        if hasher and offset % (32 << 20) == 0:
            time.sleep(0.3)  # before each range
        n = real_preadv(fd, buffers, offset, *flags)
        if hasher:
            hashed_through = max(hashed_through, offset + n)
        return n

    def posix_fadvise_seen(fd, offset, length, advice):
        if threading.current_thread().name == "read-back" and advice == os.POSIX_FADV_DONTNEED:
            drops.append((offset, offset + length if length else size, hashed_through))
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "preadv", preadv_of_a_hasher_held_up)
    monkeypatch.setattr(os, "posix_fadvise", posix_fadvise_seen)
    with Archive.open(store) as archive, open(src, "rb") as f:
        before = _bytes_read_from_storage()
        put = archive.objects.put_fd(f.fileno(), reread=True)
        read = _bytes_read_from_storage() - before
    assert put.reread == (put.digest, size) == hash_file(src)
    assert drops and drops[-1][1] == size
    assert all(end <= hashed for _, end, hashed in drops), drops
    assert read >= _pages(size)


def test_pages_the_kernel_keeps_cached_through_the_drop_are_read_back_from_the_device_all_the_same(
        store, tmp_path, monkeypatch):
    # Dropping pages is advice: the kernel keeps a page that someone maps, or holds at that
    # instant. Here another mapping of the copy holds a page in every 64 of the first range.
    size = 3 * (32 << 20) + 12345
    src = write_random(tmp_path / "clip.mp4", size, seed=10)
    real_fadvise = os.posix_fadvise
    held: list[mmap.mmap] = []

    def posix_fadvise_beside_a_mapping(fd, offset, length, advice):
        if threading.current_thread().name == "read-back" and advice == os.POSIX_FADV_DONTNEED and not held:
            mapping = mmap.mmap(fd, offset + length, prot=mmap.PROT_READ)
            for page in range(offset, offset + length, 64 * mmap.PAGESIZE):
                mapping[page]  # mapped now, so not dropped
            held.append(mapping)
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", posix_fadvise_beside_a_mapping)
    try:
        with Archive.open(store) as archive, open(src, "rb") as f:
            before = _bytes_read_from_storage()
            put = archive.objects.put_fd(f.fileno(), reread=True)
            read = _bytes_read_from_storage() - before
    finally:
        for mapping in held:
            mapping.close()
    assert held, "the read-back dropped no range"
    assert put.reread == (put.digest, size) == hash_file(src)
    assert read >= _pages(size)  # the held pages too came from the device


@pytest.mark.parametrize("refusal", [errno.EINVAL, errno.EOPNOTSUPP, 524])  # 524: the kernel's ENOTSUPP
def test_a_read_back_whose_reads_past_the_cache_are_refused_is_made_through_the_cache(
        store, tmp_path, monkeypatch, refusal):
    # as on a network or FUSE file system that opens O_DIRECT but will not read so
    from recordkeep.store import copying

    size = 2 * (32 << 20) + 4097
    src = write_random(tmp_path / "clip.mp4", size, seed=11)
    monkeypatch.setattr(copying, "cached_within", lambda fd, start, end: True)  # every range held
    real_preadv, refused = os.preadv, []

    def preadv_refused_past_the_cache(fd, buffers, offset, *flags):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            refused.append(offset)
            raise OSError(refusal, os.strerror(refusal))
        return real_preadv(fd, buffers, offset, *flags)

    monkeypatch.setattr(os, "preadv", preadv_refused_past_the_cache)
    with Archive.open(store) as archive, open(src, "rb") as f:
        put = archive.objects.put_fd(f.fileno(), reread=True)
    assert refused, "no read past the cache was asked"
    assert put.reread == (put.digest, size) == hash_file(src)


def test_a_copy_that_reads_back_different_from_the_device_is_failed_and_the_recorder_may_not_be_wiped(
        store, tmp_path, monkeypatch):
    card = tmp_path / "card"
    card.mkdir()
    write_random(card / "DEV1_00012345_20240301101500_0001.mp4", 40 << 20, seed=3)
    real_preadv = os.preadv

    def preadv_with_a_bad_sector(fd, buffers, offset, *flags):
        n = real_preadv(fd, buffers, offset, *flags)
        device = threading.current_thread().name == "read-back"  # not the page cache's copy
        if device and offset <= 33 << 20 < offset + n:  # one flipped bit in the second range
            buffers[0][(33 << 20) - offset] ^= 1
        return n

    monkeypatch.setattr(os, "preadv", preadv_with_a_bad_sector)
    with Archive.open(store) as archive:
        receipt = import_dump(archive, card)
    outcome = receipt.outcomes[0]
    assert outcome.status == "failed" and outcome.code == "RK305" and outcome.readback == "mismatch"
    assert not receipt.may_wipe and receipt.verdict != "may_wipe"
    with Archive.open(store) as archive:
        assert archive.index.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0


@pytest.mark.slow  # a process interrupted
def test_ctrl_c_mid_import_says_do_not_wipe_and_the_import_run_again_completes(store, tmp_path):
    card = camera_card(tmp_path, 8)
    env = {**os.environ, "RECORDKEEP_ACTOR": "proc@test"}
    command = [sys.executable, str(REPO / "cli.py"), "--store", str(store), "import", str(card)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_at_a_terminal)
    deadline = time.monotonic() + 60
    while not [p for p in (store / "objects" / "blake3").rglob("*") if p.is_file()]:  # the first blob stored
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 5 and "DO NOT wipe" in err and "Traceback" not in err, (out, err)
    assert "may be wiped" not in out
    done = run_recordkeep("import", "--json", str(card), store=store)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["may_wipe"] is True
    assert run_recordkeep("verify", store=store).returncode == 0
