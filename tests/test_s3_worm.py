"""Object Lock (WORM) on a real SeaweedFS bucket, no mock: disposal refused while a blob is
retained and done once its date has passed, permanent records' locks lengthened, and blobs
downloaded from the bucket for an export."""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path

import bagit
import pytest
from PIL import Image, ImageDraw

from recordkeep import Archive, errors, retention
from recordkeep.store.hashing import hash_file
from recordkeep.trust import keys

from .conftest import Cli

pytestmark = pytest.mark.slow  # a real S3 server (SeaweedFS)

OLD = "DSJ001_440301123456_20210315083000_{:04d}{}.bin"  # recorded 2021-03-15: long past six months
CASE = "坡城管罚〔2021〕12号"
SHORT = 0.00005  # [worm] blob_days of about 4 seconds: a lock a test can see run out
FOUNDER = "clerk@station1"  # the actor of Cli calls founds each store: its key has every role


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def worm_station(seaweed, tmp_path: Path, **worm: float) -> tuple[Cli, str]:
    """A store on a fresh Object Lock bucket, its ``[worm]`` settings changed as given."""
    bucket = seaweed.make_bucket(f"rk-{secrets.token_hex(5)}", object_lock=True)
    root = tmp_path / "station"
    Archive.init(root, actor=FOUNDER, backend=f"s3://{bucket}/worm", endpoint=seaweed.endpoint).close()
    toml = root / "recordkeep.toml"
    text = toml.read_text(encoding="utf-8")
    for key, value in worm.items():
        line = next(x for x in text.splitlines() if x.startswith(f"{key} = "))
        text = text.replace(line + "\n", f"{key} = {value}\n")
    toml.write_text(text, encoding="utf-8")
    return Cli(root), bucket


def enrol(cli: Cli, actor: str, *roles: str) -> None:
    """``actor``'s key (made when missing), enrolled by the store's founding admin with ``roles``."""
    path = keys.key_path(actor)
    key = keys.load_key(path) if path.exists() else keys.new_key(path)
    ok(cli("key", "enrol", key.public_b64, "--actor", actor, *[x for r in roles for x in ("--role", r)]))


def old_record(cli: Cli, tmp_path: Path, n: int, *args: str, important: bool = False) -> str:
    path = tmp_path / OLD.format(n, "_IMP" if important else "")
    path.write_bytes(f"footage {n} {secrets.token_hex(8)}".encode() * 100)
    return cli.json("add", str(path), *args)["files"][0]["digest"]


def key(digest: str) -> str:
    return f"worm/objects/blake3/{digest[:2]}/{digest[2:4]}/{digest}"


def versions(seaweed, bucket: str, digest: str) -> list[dict]:
    """Every version and delete marker stored under the blob's key."""
    answer = seaweed.client().list_object_versions(Bucket=bucket, Prefix=key(digest))
    return answer.get("Versions", []) + answer.get("DeleteMarkers", [])


def retain_until(seaweed, bucket: str, object_key: str) -> datetime:
    retention_ = seaweed.client().get_object_retention(Bucket=bucket, Key=object_key)["Retention"]
    assert retention_["Mode"] == "COMPLIANCE"
    return retention_["RetainUntilDate"]


def events(cli: Cli, type_: str) -> list[dict]:
    return [e for e in cli.json("log")["events"] if e["type"] == type_]


def wait_until_unlocked(cli: Cli, digest: str, timeout: float = 120) -> None:
    """Wait (on the server's lock, not on a clock) until the blob's lock has run out."""
    deadline = time.monotonic() + timeout
    with Archive.open(cli.store) as archive:
        while archive.objects.locked_until(digest) is not None:
            assert time.monotonic() < deadline, "the blob's Object Lock did not run out"
            time.sleep(0.5)


def test_a_blob_and_its_journal_objects_carry_compliance_retain_until_dates_from_the_worm_settings(
        seaweed, tmp_path):
    cli, bucket = worm_station(seaweed, tmp_path, blob_days=2, journal_days=30)
    digest = old_record(cli, tmp_path, 1)
    [imported] = events(cli, "record.imported")
    at = datetime.fromisoformat(imported["at"])
    assert abs(retain_until(seaweed, bucket, key(digest)) - at - timedelta(days=2)) < timedelta(minutes=5)
    journal_key = f"worm/journal/{imported['seq']:012d}.json"
    assert abs(retain_until(seaweed, bucket, journal_key) - at - timedelta(days=30)) < timedelta(minutes=5)
    status = cli.json("retention", "show", digest)["records"][0]
    assert status["due"] is False and status["locked_until"] is not None


def test_a_worm_period_must_be_a_number_of_days_above_zero(seaweed, tmp_path):
    cli, _ = worm_station(seaweed, tmp_path, blob_days=0)
    result = cli("log", "head")
    assert result.exit_code == 1 and result.stderr.startswith("RK1")
    assert "[worm] blob_days must be a number of days above 0" in result.stderr


def test_disposal_of_a_blob_still_under_object_lock_is_refused_with_rk527_and_journals_nothing(
        seaweed, tmp_path):
    cli, bucket = worm_station(seaweed, tmp_path)  # the default lock: 183 days
    digest = old_record(cli, tmp_path, 1)
    assert cli.json("retention", "due")["records"] == []  # past retention, but the bucket keeps it
    head = cli.json("log", "head")
    result = cli("dispose", digest, "--reason", "retention period over")
    assert result.exit_code == 1
    assert result.stderr.startswith("RK527") and "kept by the bucket's Object Lock until" in result.stderr
    assert cli.json("log", "head") == head and events(cli, "record.disposed") == []
    assert len(versions(seaweed, bucket, digest)) == 1
    due = cli.json("retention", "due")
    assert due["records"] == [] and due["unfinished_disposals"] == []
    assert cli.json("verify")["ok"]


def test_once_its_lock_has_run_out_a_due_blob_is_disposed_of_with_every_version_gone(seaweed, tmp_path):
    cli, bucket = worm_station(seaweed, tmp_path, blob_days=SHORT)
    short = old_record(cli, tmp_path, 1)
    long = old_record(cli, tmp_path, 2)
    client = seaweed.client()
    later = retain_until(seaweed, bucket, key(long)) + timedelta(days=1)
    client.put_object_retention(Bucket=bucket, Key=key(long),
                                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
    original = client.get_object(Bucket=bucket, Key=key(short))["Body"].read()
    client.put_object(Bucket=bucket, Key=key(short), Body=original)  # a second version of the blob
    assert len(versions(seaweed, bucket, short)) == 2
    wait_until_unlocked(cli, short)

    assert [r["digest"] for r in cli.json("retention", "due")["records"]] == [short]
    both = cli("dispose", short, long, "--reason", "retention period over")  # all or nothing
    assert both.exit_code == 1 and both.stderr.startswith("RK527") and long[:12] in both.stderr
    assert events(cli, "record.disposed") == [] and len(versions(seaweed, bucket, short)) == 2

    done = cli.json("dispose", short, "--reason", "retention period over")
    assert done["disposed"] == [short] and done["finished"] == []
    assert versions(seaweed, bucket, short) == []  # no version and no delete marker is left
    assert [e["data"]["digest"] for e in events(cli, "record.disposed")] == [f"blake3:{short}"]
    assert cli.json("retention", "due")["unfinished_disposals"] == []
    report = cli.json("verify")
    assert report["ok"] and [(n["code"], n["digest"]) for n in report["notices"]] == [("RK216", short)]
    assert len(versions(seaweed, bucket, long)) == 1


def test_a_lock_lengthened_after_the_disposal_was_journaled_leaves_it_unfinished_until_the_new_date(
        seaweed, tmp_path, monkeypatch):
    cli, bucket = worm_station(seaweed, tmp_path, blob_days=SHORT)
    digest = old_record(cli, tmp_path, 1)
    wait_until_unlocked(cli, digest)
    client = seaweed.client()
    enrol(cli, "archivist@office", "records")  # a records officer's key disposes
    with Archive.open(cli.store, actor="archivist@office") as archive:
        remove = archive.objects.dispose

        def another_station_locks_it_first(d: str) -> bool:  # the race, with a real lock
            version = versions(seaweed, bucket, d)[0]["VersionId"]
            until = datetime.now().astimezone() + timedelta(seconds=10)
            client.put_object_retention(Bucket=bucket, Key=key(d), VersionId=version,
                                        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until})
            monkeypatch.setattr(archive.objects, "dispose", remove)
            return remove(d)

        monkeypatch.setattr(archive.objects, "dispose", another_station_locks_it_first)
        with pytest.raises(errors.BlobLocked) as raised:
            retention.dispose(archive, [digest], reason="retention period over")
        assert raised.value.code == "RK111"
    assert len(events(cli, "record.disposed")) == 1 and len(versions(seaweed, bucket, digest)) == 1
    assert cli.json("retention", "due")["unfinished_disposals"] == [digest]
    head = cli.json("log", "head")
    again = cli("dispose", digest, "--reason", "retention period over", "--json")
    if again.exit_code == 1:  # before the new date (nearly always): refused, journaling nothing
        assert again.stderr.startswith("RK527") and "disposal is journaled" in again.stderr
        assert cli.json("log", "head") == head
        wait_until_unlocked(cli, digest)
        again = cli("dispose", digest, "--reason", "retention period over", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {"disposed": [], "finished": [digest], "bytes": 0}
    assert versions(seaweed, bucket, digest) == []
    assert cli.json("retention", "due")["unfinished_disposals"] == []
    assert len(events(cli, "record.disposed")) == 1


def test_records_made_permanent_have_their_blob_locks_lengthened_once_and_journaled(seaweed, tmp_path):
    cli, bucket = worm_station(seaweed, tmp_path, blob_days=1, permanent_days=1000)
    kept = old_record(cli, tmp_path, 1)
    linked = old_record(cli, tmp_path, 2)
    important = old_record(cli, tmp_path, 3, important=True)
    ordinary = old_record(cli, tmp_path, 4)
    first_at = {e["data"]["digest"][7:]: datetime.fromisoformat(e["at"])
                for e in events(cli, "record.imported")}

    def lengthened(digest: str) -> bool:
        until = retain_until(seaweed, bucket, key(digest))
        return abs(until - first_at[digest] - timedelta(days=1000)) < timedelta(seconds=2)

    assert lengthened(important) and not lengthened(kept)  # important on the camera: locked at import
    ok(cli("retention", "keep", kept, "--reason", "信访材料"))
    assert lengthened(kept) and not lengthened(linked)
    ok(cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X"))
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-15"))
    ok(cli("case", "link", CASE, linked, "--stage", "investigate"))
    assert lengthened(linked) and not lengthened(ordinary)

    assert cli.json("retention", "lock")["locked"] == []  # idempotent: nothing changed, nothing journaled
    journaled = events(cli, "retention.locked")
    assert [[lock["digest"][7:] for lock in e["data"]["locks"]] for e in journaled] == [
        [important], [kept], [linked]]
    until = datetime.fromisoformat(journaled[1]["data"]["locks"][0]["until"])
    assert until == retain_until(seaweed, bucket, key(kept))
    assert "retention.locked" in [e["type"] for e in cli.json("log", "--record", kept)["events"]]
    with Archive.open(cli.store) as archive:
        assert archive.objects.extend_lock(kept, until - timedelta(days=10)) is None  # never shortened
    assert retain_until(seaweed, bucket, key(kept)) == until
    assert cli("log", "verify").exit_code == 0
    assert cli.json("rebuild-index")["events"] == cli.json("log", "head")["seq"]


def test_exports_from_an_s3_store_download_the_blobs_into_a_valid_bag_and_a_dossier_with_previews(
        seaweed, tmp_path, dump_dir):
    cli, _ = worm_station(seaweed, tmp_path)
    ok(cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X"))
    photo = tmp_path / "现场照片.jpg"
    picture = Image.new("RGB", (64, 48), (200, 30, 30))
    ImageDraw.Draw(picture).rectangle((8, 8, 40, 30), fill=(255, 255, 255))
    picture.save(photo, "JPEG")
    clip = sorted(dump_dir.rglob("*.mp4"))[0]
    added = cli.json("add", str(photo), str(clip), "--party", "P1")["files"]
    digests = {f["digest"] for f in added}
    spools = [p for p in (cli.store / "tmp").iterdir() if p.suffix == ".spool"]
    assert spools == []  # the add's process is done: every blob comes from the bucket

    exported = cli.json("export", "--party", "P1", str(tmp_path / "dossier"), "--format", "html")
    assert exported["records"] == 2
    thumbs = {p.stem: p for p in (tmp_path / "dossier" / "assets" / "thumbs").iterdir()}
    assert set(thumbs) == digests
    for path in thumbs.values():
        with Image.open(path) as img:
            assert len(img.convert("RGB").getcolors(1 << 16) or range(99)) > 1, path
    assert not [p for p in (cli.store / "tmp").iterdir() if p.suffix == ".get"]  # downloads removed

    ok(cli("export", "--party", "P1", str(tmp_path / "bag")))
    bag = bagit.Bag(str(tmp_path / "bag"))
    bag.validate()  # bagit-python re-hashes every payload file against its manifests
    payload = {hash_file(tmp_path / "bag" / name)[0] for name in bag.payload_files()}
    assert digests <= payload


def test_an_important_record_whose_lock_failed_at_import_is_locked_by_retention_lock(seaweed, tmp_path):
    cli, bucket = worm_station(seaweed, tmp_path, blob_days=1, permanent_days=1000)
    toml = cli.store / "recordkeep.toml"
    good = toml.read_text(encoding="utf-8")
    toml.write_text(good.replace("permanent_days = 1000", "permanent_days = -1"), encoding="utf-8")
    path = tmp_path / OLD.format(1, "_IMP")
    path.write_bytes(b"important footage" * 100)
    receipt = cli.json("add", str(path))
    assert receipt["files"][0]["status"] == "stored" and receipt["lock_error"].startswith("RK")
    digest = receipt["files"][0]["digest"]
    first = retain_until(seaweed, bucket, key(digest))  # blob_days only
    toml.write_text(good, encoding="utf-8")
    locked = cli.json("retention", "lock")["locked"]
    assert [x["digest"] for x in locked] == [digest]
    assert retain_until(seaweed, bucket, key(digest)) - first > timedelta(days=900)


def test_a_disposed_record_brought_back_under_a_name_marked_important_has_its_restored_blob_locked_for_good(
        seaweed, tmp_path):
    cli, bucket = worm_station(seaweed, tmp_path, blob_days=SHORT, permanent_days=1000)
    footage = f"footage {secrets.token_hex(8)}".encode() * 100
    plain = tmp_path / "first" / OLD.format(1, "")
    plain.parent.mkdir()
    plain.write_bytes(footage)
    digest = cli.json("add", str(plain))["files"][0]["digest"]
    [imported] = events(cli, "record.imported")
    wait_until_unlocked(cli, digest)
    ok(cli("dispose", digest, "--reason", "retention period over"))
    assert versions(seaweed, bucket, digest) == []

    marked = tmp_path / "again" / OLD.format(1, "_IMP")  # the camera's copy, marked 重要文件
    marked.parent.mkdir()
    marked.write_bytes(footage)
    receipt = cli.json("add", str(marked))
    assert receipt["files"][0]["status"] == "stored" and receipt.get("lock_error") is None
    assert [e["data"]["digest"] for e in events(cli, "record.restored")] == [f"blake3:{digest}"]
    first_at = datetime.fromisoformat(imported["at"])
    until = retain_until(seaweed, bucket, key(digest))
    assert abs(until - first_at - timedelta(days=1000)) < timedelta(seconds=2)  # not blob_days
    [locked] = events(cli, "retention.locked")
    assert [lock["digest"] for lock in locked["data"]["locks"]] == [f"blake3:{digest}"]
    assert cli.json("retention", "due")["records"] == []
    assert cli("log", "verify").exit_code == 0
