"""The evidence store: blobs written once, found when altered, never 'repaired'."""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from pathlib import Path

import pytest
from blake3 import blake3

from recordkeep import Archive, add_files, errors, import_dump, verify
from recordkeep.store import copying
from recordkeep.store.hashing import hash_file

from .conftest import blob_path, new_store, run_recordkeep, write_random
from .mounts import grow, small_disk


def add_one(cli, tmp_path: Path, content: bytes = b"evidence bytes", name: str = "a.bin") -> str:
    src = tmp_path / name
    src.write_bytes(content)
    data = cli.json("add", str(src))
    return data["files"][0]["digest"]


def test_init_twice_is_an_error_that_says_what_to_do(cli):
    result = cli("init")
    assert result.exit_code == 1
    assert result.stderr.startswith("RK102")


def test_a_folder_that_is_not_a_store_is_refused_with_rk101(tmp_path, cli):
    cli.store = tmp_path / "nowhere"
    result = cli("verify")
    assert result.exit_code == 1
    assert "RK101" in result.stderr and "init" in result.stderr


def test_a_copy_of_a_store_without_its_settings_file_says_so_and_where_its_id_is(cli, store):
    (store / "recordkeep.toml").unlink()
    for args in (("log", "head"), ("log", "verify")):
        result = cli(*args)
        assert result.exit_code == 1 and result.stderr.startswith("RK101"), result.output
        assert "no recordkeep.toml" in result.stderr and "store.created" in result.stderr
        assert "init" not in result.stderr


def test_the_store_has_the_contract_layout(store):
    for part in ("recordkeep.toml", "objects/blake3", "journal/events.jsonl", "journal/torn",
                 "index.sqlite", "tmp"):
        assert (store / part).exists(), part


def test_add_reports_digest_size_kind_and_new(cli, tmp_path):
    src = tmp_path / "scan.pdf"
    src.write_bytes(b"%PDF-1.4\n%fake\n")
    first = cli.json("add", str(src), "--doc-type", "询问笔录")["files"][0]
    assert first["digest"] == hash_file(src)[0]
    assert first["size"] == src.stat().st_size
    assert first["kind"] == "document"
    assert first["new"] is True
    again = cli.json("add", str(src))["files"][0]
    assert again["new"] is False and again["status"] == "present"


def test_the_same_bytes_twice_give_one_blob_and_two_sightings(cli, archive, tmp_path):
    d1 = add_one(cli, tmp_path, b"same", "one.bin")
    d2 = add_one(cli, tmp_path, b"same", "two.bin")
    assert d1 == d2
    blobs = [s for s in archive.objects.iterate()]
    assert len(blobs) == 1
    archive.index.catch_up(archive.journal)
    paths = [r[0] for r in archive.index.conn.execute("SELECT path FROM sightings WHERE digest=?", (d1,))]
    assert [Path(p).name for p in paths] == ["one.bin", "two.bin"]


def test_stored_blobs_are_read_only(cli, store, tmp_path):
    digest = add_one(cli, tmp_path)
    assert blob_path(store, digest).stat().st_mode & 0o777 == 0o444


def test_a_zero_byte_file_is_stored(cli, tmp_path):
    src = tmp_path / "empty"
    src.write_bytes(b"")
    f = cli.json("add", str(src))["files"][0]
    assert f["status"] == "stored" and f["size"] == 0


def test_a_large_file_is_stored_in_one_pass_and_verifies(cli, store, tmp_path):
    src = write_random(tmp_path / "big.bin", 40 << 20)
    digest = cli.json("add", str(src))["files"][0]["digest"]
    assert hash_file(blob_path(store, digest))[0] == digest
    assert cli("verify").exit_code == 0


def test_flipping_one_bit_in_a_blob_is_found_by_verify(cli, store, tmp_path):
    digest = add_one(cli, tmp_path, os.urandom(100_000))
    path = blob_path(store, digest)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[5000] ^= 0x01
    path.write_bytes(bytes(data))
    report = cli.json("verify")
    assert report["ok"] is False
    assert [(p["code"], p["digest"]) for p in report["problems"]] == [("RK210", digest)]
    assert cli("verify").exit_code == 3


def test_flipping_one_bit_in_a_large_blob_is_found_by_the_mmap_path(cli, store, tmp_path):
    src = write_random(tmp_path / "big.bin", 20 << 20)
    digest = cli.json("add", str(src))["files"][0]["digest"]
    path = blob_path(store, digest)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(15 << 20)
        byte = f.read(1)
        f.seek(15 << 20)
        f.write(bytes([byte[0] ^ 0x80]))
    report = cli.json("verify")
    assert [p["code"] for p in report["problems"]] == ["RK210"]


def test_truncating_a_blob_is_found_and_verify_does_not_crash(cli, store, tmp_path):
    small = add_one(cli, tmp_path, os.urandom(5000), "s.bin")
    big = cli.json("add", str(write_random(tmp_path / "b.bin", 12 << 20)))["files"][0]["digest"]
    for digest in (small, big):
        os.truncate(blob_path(store, digest), 100)
    report = cli.json("verify")
    assert sorted((p["code"], p["digest"]) for p in report["problems"]) == sorted(
        [("RK211", small), ("RK211", big)])
    assert cli.json("verify", "--fast")["problems"][0]["code"] == "RK211"


@pytest.mark.slow  # a 768 MiB file, ~6 s
def test_a_blob_truncated_while_verify_hashes_it_is_reported_not_a_crash(store, tmp_path):
    src = write_random(tmp_path / "huge.bin", 768 << 20)
    run_recordkeep("add", "--no-readback", str(src), store=store, check=True)
    digest = hash_file(src)[0]
    path = blob_path(store, digest)
    src.unlink()

    def cut() -> None:
        time.sleep(0.15)
        os.truncate(path, 4096)

    cutter = threading.Thread(target=cut)
    cutter.start()
    proc = run_recordkeep("verify", "--json", store=store)
    cutter.join()
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert report["problems"][0]["digest"] == digest
    assert report["problems"][0]["code"] in ("RK210", "RK211", "RK213")


def test_deleting_a_blob_is_found(cli, store, tmp_path):
    digest = add_one(cli, tmp_path)
    blob_path(store, digest).unlink()
    report = cli.json("verify", "--fast")
    assert [(p["code"], p["digest"]) for p in report["problems"]] == [("RK212", digest)]



@pytest.mark.parametrize("hidden", ["rows deleted", "marked disposed"])
def test_a_blob_deleted_and_hidden_in_the_index_is_still_found_by_a_full_verify(cli, store, tmp_path, hidden):
    """An insider removes a blob and edits index.sqlite so the index no longer lists the record
    (or calls it disposed): the full verify takes its records from the journal."""
    import sqlite3

    digest = add_one(cli, tmp_path)
    add_one(cli, tmp_path, b"another record", "b.bin")
    blob_path(store, digest).unlink()
    with sqlite3.connect(store / "index.sqlite") as db:
        if hidden == "rows deleted":
            for table in ("records", "sightings"):
                db.execute(f"DELETE FROM {table} WHERE digest = ?", (digest,))
        else:
            db.execute("UPDATE records SET disposed_seq = 1 WHERE digest = ?", (digest,))
    result = cli("verify", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 3, result.output
    found = sorted((p["code"], p["digest"]) for p in report["problems"])
    assert found == [("RK212", digest), ("RK233", digest)]
    assert report["checked"] == 2


def test_a_record_another_writer_adds_while_a_full_verify_runs_is_no_index_difference(cli, store, tmp_path):
    """verify notes the head first and lists the index's records after: one journaled (and
    folded into the shared index by its writer) in between is not a difference."""
    from recordkeep import verification

    add_one(cli, tmp_path)
    with Archive.open(store) as archive:
        head = archive.index.head
    add_one(cli, tmp_path, b"added meanwhile", "b.bin")
    with Archive.open(store) as archive:
        report = verification.Report("full", {"all": True})
        verification._check(archive, report, None, "full", [], head)
    assert [p.code for p in report.problems] == [] and report.checked == 1

def test_an_extra_file_under_objects_is_reported(cli, store, tmp_path):
    add_one(cli, tmp_path)
    (store / "objects" / "blake3" / "zz").mkdir()
    (store / "objects" / "blake3" / "zz" / "notes.txt").write_text("hello")
    report = cli.json("verify")
    assert [p["code"] for p in report["problems"]] == ["RK214"]
    assert report["problems"][0]["path"].endswith("notes.txt")


def test_verify_never_deletes_or_moves_a_damaged_blob(cli, store, tmp_path):
    digest = add_one(cli, tmp_path, b"original")
    path = blob_path(store, digest)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    cli("verify")
    assert path.read_bytes() == b"tampered"


def test_each_verify_run_is_journaled_with_actor_scope_and_result(cli, store, tmp_path):
    add_one(cli, tmp_path)
    cli("verify", actor="auditor@office")
    last, seal = (store / "journal" / "events.jsonl").read_text().splitlines()[-2:]
    event = json.loads(last)
    assert json.loads(seal)["type"] == "batch.signed" and json.loads(seal)["actor"] == "auditor@office"
    assert event["type"] == "verify.run"
    assert event["actor"] == "auditor@office"
    assert event["data"]["result"] == "ok" and event["data"]["mode"] == "full"
    assert event["data"]["scope"] == {"all": True}


def test_an_unreferenced_blob_is_a_notice_and_is_adopted_by_the_next_add(store, tmp_path):
    src = tmp_path / "orphan.bin"
    src.write_bytes(b"stored before a crash, never journaled")
    with Archive.open(store) as archive, open(src, "rb") as f:
        put = archive.objects.put_fd(f.fileno())
    with Archive.open(store) as archive:
        report = verify(archive)
        assert report.ok
        assert [(n.code, n.digest) for n in report.notices] == [("RK215", put.digest)]
        receipt = add_files(archive, [src])
        assert receipt.outcomes[0].new_record is True
        assert receipt.outcomes[0].status == "present"
        assert verify(archive).notices == []


@pytest.mark.slow  # a real tmpfs mount
def test_a_full_disk_during_add_gives_a_clear_error_and_leaves_the_store_consistent(tmp_path):
    with small_disk(tmp_path / "small", "8m") as mnt:
        store = mnt / "store"
        new_store(store)
        small = tmp_path / "small.bin"
        small.write_bytes(b"fits")
        big = write_random(tmp_path / "big.bin", 12 << 20)
        proc = run_recordkeep("add", str(small), str(big), "--json", store=store)
        assert proc.returncode == 5
        files = json.loads(proc.stdout)["files"]
        # files are copied side by side: the small one may have met the full disk too
        assert files[0]["status"] == "stored" or files[0]["code"] == "RK105"
        assert files[1]["status"] == "failed" and files[1]["code"] == "RK105"
        assert os.listdir(store / "tmp") == []
        assert run_recordkeep("verify", store=store).returncode == 0
        assert run_recordkeep("log", "verify", store=store).returncode == 0
        grow(mnt, "32m")
        again = run_recordkeep("add", str(small), str(big), "--json", store=store)
        assert again.returncode == 0, again.stderr
        assert [f["digest"] for f in json.loads(again.stdout)["files"]] == [
            hash_file(small)[0], hash_file(big)[0]]


@pytest.mark.slow  # a real tmpfs mount
def test_an_index_that_cannot_be_written_on_a_full_disk_is_rk105_not_a_rebuild_or_a_traceback(tmp_path):
    with small_disk(tmp_path / "small", "8m") as mnt:
        store = mnt / "store"
        new_store(store)
        first = tmp_path / "first.bin"
        first.write_bytes(b"stored while there was room")
        assert run_recordkeep("add", str(first), store=store).returncode == 0
        for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
            (store / name).unlink(missing_ok=True)
        filler = mnt / "filler"
        os.system(f"dd if=/dev/zero of={filler} bs=64k 2>/dev/null")
        second = tmp_path / "second.bin"
        second.write_bytes(b"no room for this one")
        proc = run_recordkeep("add", str(second), store=store)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith("RK105") and "Traceback" not in proc.stderr
        filler.unlink()
        again = run_recordkeep("add", "--json", str(first), str(second), store=store)
        assert again.returncode == 0, again.stderr
        assert [f["status"] for f in json.loads(again.stdout)["files"]] == ["present", "stored"]
        assert run_recordkeep("verify", store=store).returncode == 0


def test_a_directory_given_to_add_is_not_stored_and_says_use_import(cli, tmp_path):
    result = cli("add", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("RK307") and "import" in result.stderr


def test_a_digest_prefix_resolves_to_its_record(archive, cli, tmp_path):
    digest = add_one(cli, tmp_path)
    archive.index.catch_up(archive.journal)
    assert archive.resolve_digest(digest[:8]) == digest
    assert archive.resolve_digest("blake3:" + digest) == digest
    with pytest.raises(errors.InvalidDigest):
        archive.resolve_digest("xyz")
    with pytest.raises(errors.UnknownRecord):
        archive.resolve_digest("0" * 64)


def test_a_source_the_kernel_cannot_copy_from_is_stored_through_the_buffer_with_the_same_digest(
        store, tmp_path):
    data = os.urandom(3 << 20)
    read_end, write_end = os.pipe()  # sendfile refuses a pipe: the buffered loop takes over

    def feed() -> None:
        with open(write_end, "wb") as f:
            f.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        with Archive.open(store) as archive:
            put = archive.objects.put_fd(read_end, reread=True)
    finally:
        feeder.join()
        os.close(read_end)
    assert (put.digest, put.size, put.new_blob) == (blake3(data).hexdigest(), len(data), True)
    assert put.reread == (put.digest, put.size)
    assert blob_path(store, put.digest).read_bytes() == data


def test_a_source_that_fails_mid_copy_is_reported_unreadable_and_nothing_is_stored(
        store, tmp_path, monkeypatch):
    card = tmp_path / "card"
    card.mkdir()
    write_random(card / "clip.mp4", 70 << 20)
    real_sendfile, real_pread, source = os.sendfile, os.pread, []

    def sendfile_from_a_failing_card(out_fd, in_fd, offset, count):  # a card pulled mid-copy
        source.append(in_fd)
        if len(source) > 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_sendfile(out_fd, in_fd, offset, count)

    def pread(fd, n, offset):
        if source and fd == source[0]:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_pread(fd, n, offset)

    monkeypatch.setattr(os, "sendfile", sendfile_from_a_failing_card)
    monkeypatch.setattr(os, "pread", pread)
    with Archive.open(store) as archive:
        receipt = import_dump(archive, card)
    outcome = receipt.outcomes[0]
    assert outcome.status == "failed" and outcome.code == "RK303", outcome
    assert os.listdir(store / "tmp") == []
    assert list((store / "objects" / "blake3").rglob("*")) == []
    with Archive.open(store) as archive:
        assert archive.index.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0


def test_a_copy_whose_hashing_thread_fails_is_never_stored_under_a_digest(store, tmp_path, monkeypatch):
    src = write_random(tmp_path / "clip.bin", 40 << 20)
    real_hash = copying.RangeHasher._hash

    def hash_then_fail(self, start, end, *rest):
        if start > 0 and self.write_fd is None:
            raise MemoryError("no memory for the next range")
        return real_hash(self, start, end, *rest)

    monkeypatch.setattr(copying.RangeHasher, "_hash", hash_then_fail)
    with Archive.open(store) as archive, open(src, "rb") as f, \
            pytest.raises(errors.StoreIOError, match="no memory for the next range"):
        archive.objects.put_fd(f.fileno())
    assert os.listdir(store / "tmp") == []
    assert list((store / "objects" / "blake3").rglob("*")) == []


def test_add_stores_without_a_read_back_unless_asked_and_then_reads_every_copy_back(cli, tmp_path):
    src = tmp_path / "scan.pdf"
    src.write_bytes(b"%PDF-1.4 scanned document")
    plain = cli.json("add", str(src))
    assert plain["verdict"] == "stored_not_reread" and plain["files"][0]["readback"] == "skipped"
    checked = cli.json("add", "--readback", str(src))
    assert checked["verdict"] == "may_wipe" and checked["files"][0]["readback"] == "equal"
    assert cli.json("add", "--no-readback", str(src))["verdict"] == "stored_not_reread"



@pytest.mark.slow  # a real tmpfs mount
def test_a_nearly_full_disk_lets_reads_work_and_a_failed_rebuild_leaves_nothing_behind(tmp_path, dump_dir):
    """With a few KiB left, every read still answers (or says RK105 in one line) and a
    rebuild that cannot finish removes its half-made file: nothing piles up on the full disk."""
    with small_disk(tmp_path / "small", "24m") as mnt:
        store = mnt / "store"
        new_store(store)
        assert run_recordkeep("import", str(dump_dir), store=store).returncode in (0, 5)
        first = tmp_path / "first.bin"
        first.write_bytes(b"a line the index has not marked as verified yet")
        assert run_recordkeep("add", str(first), store=store).returncode == 0
        filler = mnt / "filler"
        os.system(f"dd if=/dev/zero of={filler} bs=4k 2>/dev/null")
        for command in (("verify", "--fast"), ("search", "--limit", "1"), ("log",), ("stats",)):
            done = run_recordkeep(*command, store=store)
            assert done.returncode in (0, 1) and "Traceback" not in done.stderr, (command, done.stderr)
            assert done.returncode == 0 or done.stderr.startswith("RK105"), (command, done.stderr)
        for _ in range(2):  # a whole new index cannot fit in the few KiB left
            rebuilt = run_recordkeep("rebuild-index", store=store)
            assert rebuilt.returncode == 1 and rebuilt.stderr.startswith("RK105"), rebuilt.stderr
        assert [p.name for p in (store / "tmp").iterdir() if "rebuild" in p.name] == []
        filler.unlink()
        assert run_recordkeep("verify", "--full", store=store).returncode == 0
        assert run_recordkeep("log", "verify", store=store).returncode == 0
