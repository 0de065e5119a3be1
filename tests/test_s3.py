"""The store on a real S3 server (SeaweedFS, started by the ``seaweed`` fixture): no mock."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recordkeep import Archive, Options, add_files, errors, verify
from recordkeep.store.hashing import hash_file
from recordkeep.store.journal import LocalJournal
from recordkeep.trust import keys as key_files

from .conftest import REPO, Cli, write_random
from .index_dump import dump as dump_index
from .s3server import SeaweedFS, weed_binary

pytestmark = pytest.mark.slow  # a real S3 server (SeaweedFS)


#: the actor of ``Cli`` calls: the founding admin of every store here (its key enrolled with every role)
FOUNDER = "clerk@station1"


def rk(*args: str, store: Path, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """``recordkeep`` as a real process (its own boto3, its own credentials)."""
    full = {**os.environ, "RECORDKEEP_ACTOR": FOUNDER, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, str(REPO / "cli.py"), "--store", str(store), *args],
                          capture_output=True, text=True, env=full, timeout=timeout, cwd=REPO)


@pytest.fixture
def bucket(seaweed) -> str:
    """A fresh bucket with Object Lock (WORM), as an evidence bureau would set it up."""
    return seaweed.make_bucket(f"rk-{secrets.token_hex(5)}", object_lock=True)


class Station(Cli):
    """The CLI of one workstation, acting as its own actor (whose key file it uses)."""

    def __init__(self, store: Path, actor: str = FOUNDER) -> None:
        super().__init__(store)
        self.actor = actor

    def __call__(self, *args: str, actor: str | None = None, input: str | None = None):
        return super().__call__(*args, actor=actor or self.actor, input=input)


def station(seaweed, root: Path, url: str, actor: str = FOUNDER) -> Station:
    """A workstation's store folder on the bucket prefix ``url``: created (``actor``'s key
    founds it, enrolled with every role) or joined (enrolling nothing)."""
    Archive.init(root, actor=actor, backend=url, endpoint=seaweed.endpoint).close()
    return Station(root, actor)


def enrol(admin: Cli, actor: str, *roles: str) -> key_files.SigningKey:
    """``actor``'s key (made when missing), enrolled through ``admin``'s station with ``roles``."""
    path = key_files.key_path(actor)
    key = key_files.load_key(path) if path.exists() else key_files.new_key(path)
    result = admin("key", "enrol", key.public_b64, "--actor", actor,
                   *[x for role in roles or ("clerk",) for x in ("--role", role)])
    assert result.exit_code == 0, result.output
    return key


def keys(seaweed, bucket: str, prefix: str) -> list[str]:
    pages = seaweed.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", ())]


def journal_in(seaweed, bucket: str, prefix: str) -> list[dict]:
    """Every event of the journal under ``prefix``, read straight from the bucket."""
    client = seaweed.client()
    return [json.loads(client.get_object(Bucket=bucket, Key=k)["Body"].read())
            for k in sorted(keys(seaweed, bucket, f"{prefix}/journal/"))]


def proved_batches(store_id: str, events: list[dict]) -> list[tuple[str, list[dict]]]:
    """Each batch of ``events`` as (its signer's actor, its events and seal), every seal checked
    here as an auditor's script would (docs/auditing.md), without recordkeep: it seals exactly
    the events since the seal before it, its head is the last one's hash, its key was enrolled
    by an earlier batch (or is the founding key ``store.created`` names), the Ed25519 signature
    holds over this store's id, and every event it seals (and the seal) names the key's actor."""
    enrolled: dict[str, dict] = {}
    batches, start = [], 0
    for i, seal in enumerate(events):
        if seal["type"] != "batch.signed":
            continue
        d, sealed = seal["data"], events[start:i]
        assert [e["seq"] for e in sealed] == list(range(d["from"], d["to"] + 1)), seal
        assert d["head"] == sealed[-1]["hash"], seal
        key = enrolled.get(d["key"])
        if key is None:  # only the founding batch may be signed by a key it enrols itself
            [founding] = [e for e in sealed if e["type"] == "store.created"]
            assert founding["data"]["admin_key"] == d["key"], seal
            [key] = [e["data"] for e in sealed
                     if e["type"] == "key.enrolled" and e["data"]["key"] == d["key"]]
        public = base64.b64decode(key["public_key"])
        assert hashlib.sha256(public).digest()[:8].hex() == d["key"]
        message = f"recordkeep-batch/v1\n{store_id}\n{d['from']}\n{d['to']}\n{d['head']}\n".encode()
        Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(d["sig"]), message)  # or raises
        assert {e["actor"] for e in [*sealed, seal]} == {key["actor"]}, seal
        enrolled.update({e["data"]["key"]: e["data"] for e in sealed if e["type"] == "key.enrolled"})
        batches.append((key["actor"], [*sealed, seal]))
        start = i + 1
    assert start == len(events), "events after the last seal"
    return batches


def store_id(cli: Cli) -> str:
    with Archive.open(cli.store) as archive:
        return archive.settings.store_id


def records(cli: Cli) -> dict[str, int]:
    with Archive.open(cli.store) as archive:
        return dict(archive.index.conn.execute("SELECT digest, size FROM records"))


def test_import_and_verify_over_s3_keep_the_local_names_the_same_chain_and_worm(
        seaweed, bucket, tmp_path, dump_dir):
    cli = Cli(tmp_path / "station1")
    made = cli.json("init", "--backend", f"s3://{bucket}/bureau", "--endpoint", seaweed.endpoint)
    assert made["joined"] is False
    toml = (tmp_path / "station1" / "recordkeep.toml").read_text()
    assert seaweed.endpoint in toml and seaweed.secret_key not in toml and seaweed.access_key not in toml

    receipt = cli.json("import", str(dump_dir))
    assert receipt["verdict"] == "may_wipe", receipt  # every file read back equal from the bucket
    clip = write_random(tmp_path / "long-clip.bin", 21 << 20, seed=3)  # multipart, ranged re-reads
    added = cli.json("add", str(clip))
    digest = added["files"][0]["digest"]
    assert added["files"][0]["status"] == "stored" and digest == hash_file(clip)[0]
    assert cli.json("add", str(clip))["files"][0]["status"] == "present"  # not uploaded again

    report = cli.json("verify")
    assert report["ok"] and report["checked"] == receipt["stored"] + 1 and report["notices"] == []
    assert cli("log", "verify").exit_code == 0

    client = seaweed.client()
    blob = f"bureau/objects/blake3/{digest[:2]}/{digest[2:4]}/{digest}"
    assert client.head_object(Bucket=bucket, Key=blob)["ContentLength"] == 21 << 20
    head = cli.json("log", "head")
    journal = sorted(k for k in keys(seaweed, bucket, "bureau/journal/"))
    assert journal == [f"bureau/journal/{seq:012d}.json" for seq in range(1, head["seq"] + 1)]
    # the objects, concatenated in order, are byte for byte a local events.jsonl
    local = tmp_path / "as-local"
    (local / "journal").mkdir(parents=True)
    (local / "journal" / "events.jsonl").write_bytes(
        b"".join(client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in journal))
    chain = LocalJournal(local).verify_chain(head=head["hash"])
    assert chain.problem is None and chain.found_head and chain.lines == head["seq"]

    # WORM: COMPLIANCE retention on blobs and journal objects; removing a version is refused
    for key in (blob, journal[0]):
        assert client.get_object_retention(Bucket=bucket, Key=key)["Retention"]["Mode"] == "COMPLIANCE"
    version = client.list_object_versions(Bucket=bucket, Prefix=blob)["Versions"][0]["VersionId"]
    with pytest.raises(ClientError):
        client.delete_object(Bucket=bucket, Key=blob, VersionId=version)

    live = dump_index(tmp_path / "station1" / "index.sqlite")
    assert cli.json("rebuild-index")["events"] == head["seq"]
    assert dump_index(tmp_path / "station1" / "index.sqlite") == live


def test_a_second_workstation_catches_up_with_what_the_first_one_did(seaweed, bucket, tmp_path):
    url = f"s3://{bucket}/city/bureau-2"
    first = station(seaweed, tmp_path / "a", url)
    (tmp_path / "one.txt").write_text("询问笔录 page 1")
    assert first("add", str(tmp_path / "one.txt"), "--doc-type", "询问笔录").exit_code == 0

    second = Station(tmp_path / "b", "clerk@station2")
    joined = second.json("init", "--backend", url, "--endpoint", seaweed.endpoint, "--region", "cn-north-1")
    with Archive.open(first.store) as archive:
        assert joined["joined"] is True and joined["store_id"] == archive.settings.store_id
    assert "cn-north-1" in (second.store / "recordkeep.toml").read_text(encoding="utf-8")
    assert records(second) == records(first)
    enrol(first, second.actor, "clerk")  # the first station's admin lets the second one write

    (tmp_path / "two.txt").write_text("现场检查笔录")
    assert first("add", str(tmp_path / "two.txt")).exit_code == 0
    assert second.json("verify", "--fast")["checked"] == 2  # caught up before it verified
    (tmp_path / "three.txt").write_text("送达回证")
    third = second.json("add", str(tmp_path / "three.txt"))["files"][0]["digest"]
    assert first.json("log", "head") == second.json("log", "head")
    assert records(first) == records(second) and len(records(first)) == 3

    custody = first.json("log", "--record", third)  # events read back by position (= seq)
    assert [e["type"] for e in custody["events"]] == ["record.imported"]
    assert custody["events"][0]["actor"] == "clerk@station2"  # the second station's key's actor

    # the shared settings are recorded once: each station's own [backend] (here its region) is
    # left out of them
    history = first.json("settings", "history")
    assert history == second.json("settings", "history") and history["recorded"] is True
    assert [(c["seq"], c["actor"]) for c in history["changes"]] == [(3, FOUNDER)]  # in the founding batch


DRIVER = """
import os, sys, time
from pathlib import Path
from recordkeep import Archive, Options, add_files, errors, import_dump
store, barrier, dump, *files = sys.argv[1:]
moved = []  # each HeadMoved the journal raised: another station's put came first, so a retry
with Archive.open(store) as archive:
    archive.index  # open and catch up before the start line
    append = archive.journal.append

    def counted(*args, **kw):
        try:
            return append(*args, **kw)
        except errors.HeadMoved as exc:
            moved.append(str(exc))
            raise

    archive.journal.append = counted
    Path(barrier, str(os.getpid())).touch()
    deadline = time.monotonic() + 120
    while len(os.listdir(barrier)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # both stations start writing together, even on a loaded machine
    for f in files:
        add_files(archive, [f])
    receipt = import_dump(archive, dump, options=Options(readback=False))
    assert receipt.complete, receipt.as_data()
print(len(moved))
"""


def test_two_stations_importing_into_one_bucket_at_once_leave_one_intact_chain_signed_by_each_writer(
        seaweed, bucket, tmp_path):
    url = f"s3://{bucket}/shared"
    a = station(seaweed, tmp_path / "a", url)
    b = station(seaweed, tmp_path / "b", url)  # joined: its clerk writes once the admin enrolled the key
    signers = {enrol(a, f"clerk@{name}", "clerk").id: f"clerk@{name}" for name in ("a", "b")}
    digests = set()
    work = {}
    for name, seed in (("a", 100), ("b", 200)):
        dump = tmp_path / f"dump-{name}"
        dump.mkdir()
        for i in range(12):  # 4 files are the same bytes on both cards
            path = write_random(dump / f"clip{i:02d}.bin", 40_000 + i, seed=seed + i if i >= 4 else i)
            digests.add(hash_file(path)[0])
        singles = []
        for i in range(10):
            single = tmp_path / f"{name}-scan{i}.txt"
            single.write_text(f"scan {i} of station {name}")
            digests.add(hash_file(single)[0])
            singles.append(str(single))
        work[name] = (str(dump), singles)
    barrier = tmp_path / "start-line"
    barrier.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / name), str(barrier),
                               *work[name][:1],
                               *work[name][1]], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "RECORDKEEP_ACTOR": f"clerk@{name}",
                                              "PYTHONPATH": str(REPO)})
             for name in ("a", "b")]
    retries = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        retries.append(int(out.split()[-1]))

    c = Cli(tmp_path / "c")
    assert c.json("init", "--backend", url, "--endpoint", seaweed.endpoint)["joined"]
    assert c("log", "verify").exit_code == 0
    assert set(records(c)) == digests
    assert records(a) == records(b) == records(c)
    heads = [x.json("log", "head") for x in (a, b, c)]
    assert heads[0] == heads[1] == heads[2]
    with Archive.open(tmp_path / "c") as archive:
        actors = [r[0] for r in archive.index.conn.execute(
            "SELECT actor FROM events WHERE type = 'batch.finished' ORDER BY seq")]
        seqs = [r[0] for r in archive.index.conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, heads[0]["seq"] + 1))
    assert sorted(actors) == ["clerk@a"] * 11 + ["clerk@b"] * 11
    assert c.json("verify")["ok"]

    # every batch sealed by its own writer's key, proved from the bucket's objects alone
    events = journal_in(seaweed, bucket, "shared")
    batches = proved_batches(store_id(a), events)
    for actor, sealed in batches:
        if actor in signers.values():
            assert signers[sealed[-1]["data"]["key"]] == actor
    writers = [actor for actor, _ in batches if actor in signers.values()]
    assert writers.count("clerk@a") >= 11 and writers.count("clerk@b") >= 11
    assert sum(retries) >= 1, (retries, writers)  # a writer found the other's put first: re-signed
    for x in (a, b):
        report = x.json("log", "verify")
        assert report["ok"] and report["signed"] and report["findings"] == [], report
        assert report["batches"] == len(batches) and report["lines"] == len(events)


def test_a_wrong_secret_is_refused_with_one_clear_line(seaweed, bucket, tmp_path, dump_dir):
    root = tmp_path / "station"
    station(seaweed, root, f"s3://{bucket}/wrong-secret")
    before = keys(seaweed, bucket, "wrong-secret/")
    refused = rk("import", str(dump_dir), store=root, env={"AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    assert refused.returncode == 1, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("RK108: the object store refused the credentials"), lines
    assert keys(seaweed, bucket, "wrong-secret/") == before

    other = tmp_path / "other"
    init = rk("init", "--backend", f"s3://{bucket}/wrong-secret", "--endpoint", seaweed.endpoint,
              store=other, env={"AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    assert init.returncode == 1 and init.stderr.startswith("RK108"), init.stderr
    assert len(init.stderr.strip().splitlines()) == 1
    assert not (other / "recordkeep.toml").exists()


def test_a_tampered_object_is_found_by_verify_and_its_original_version_stays(seaweed, bucket, tmp_path):
    cli = station(seaweed, tmp_path / "s", f"s3://{bucket}/tamper")
    (tmp_path / "decision.txt").write_text("行政处罚决定书 坡城管罚〔2021〕12号")
    write_random(tmp_path / "clip.bin", 3 << 20, seed=9)
    files = cli.json("add", str(tmp_path / "decision.txt"), str(tmp_path / "clip.bin"))["files"]
    digest = files[0]["digest"]
    key = f"tamper/objects/blake3/{digest[:2]}/{digest[2:4]}/{digest}"
    client = seaweed.client()
    original = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    forged = original.replace("12号".encode(), "13号".encode())
    assert len(forged) == len(original) and forged != original
    client.put_object(Bucket=bucket, Key=key, Body=forged)  # WORM lets a new version in, not an edit

    assert cli("verify", "--fast").exit_code == 0  # same size: only the full hash can tell
    found = cli("verify", "--json")
    assert found.exit_code == 3
    problems = json.loads(found.stdout)["problems"]
    assert [(p["code"], p["digest"]) for p in problems] == [("RK210", digest)]
    versions = client.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert len(versions) == 2  # the original bytes are still in the bucket, under lock

    client.delete_object(Bucket=bucket, Key="tamper/journal/000000000002.json")  # a delete marker
    broken = cli("log", "verify", "--json")
    assert broken.exit_code == 3
    assert json.loads(broken.stdout)["problem"]["code"] == "RK223"


def test_the_server_killed_mid_import_then_restarted_and_the_import_rerun_loses_nothing(
        tmp_path, monkeypatch):
    server = SeaweedFS(tmp_path / "seaweedfs", weed_binary())
    server.start()
    try:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        bucket = server.make_bucket("crash-test")
        dump = tmp_path / "dump"
        dump.mkdir()
        expected = {hash_file(write_random(dump / f"CAM1_{i:03d}.bin", 1 << 20, seed=i))[0]
                    for i in range(48)}
        root = tmp_path / "station"
        Archive.init(root, actor=FOUNDER, backend=f"s3://{bucket}/evidence",
                     endpoint=server.endpoint).close()
        env = {**os.environ, "RECORDKEEP_ACTOR": FOUNDER, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--store", str(root), "import",
                                 str(dump)], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while len(keys(server, bucket, "evidence/objects/")) < 6 and proc.poll() is None:
            assert time.monotonic() < deadline, "the import stored nothing"
            time.sleep(0.02)
        server.kill()
        _, err = proc.communicate(timeout=300)
        assert proc.returncode != 0, "the import finished before the server was killed"
        assert err.strip().splitlines()[-1].startswith("RK1"), err  # one clear line, no traceback

        server.start()
        rerun = rk("import", "--json", str(dump), store=root)
        assert rerun.returncode == 0, rerun.stderr
        receipt = json.loads(rerun.stdout)
        assert receipt["stored"] + receipt["present"] == 48 and receipt["present"] >= 1
        with Archive.open(root) as archive:
            stored = {r[0] for r in archive.index.conn.execute("SELECT digest FROM records")}
            assert stored == expected
            report = verify(archive, journal=False)
            assert report.ok, [f.message for f in report.problems]
        assert rk("log", "verify", store=root).returncode == 0
    finally:
        server.stop()


def test_library_add_over_s3_with_probe_of_the_spooled_copy(seaweed, bucket, tmp_path, dump_dir):
    """Probing reads the spool kept from the upload, or downloads when it is gone."""
    root = tmp_path / "lib"
    enrol(station(seaweed, root, f"s3://{bucket}/lib"), "lib@test", "clerk")
    with Archive.open(root, actor="lib@test") as archive:
        clips = sorted(p for p in dump_dir.rglob("*.mp4"))[:2]
        receipt = add_files(archive, [str(p) for p in clips], options=Options())
        assert receipt.complete and receipt.may_wipe
        kinds = {r[0] for r in archive.index.conn.execute("SELECT kind FROM records")}
        assert kinds == {"video"}
        digest = receipt.outcomes[0].digest
        archive.objects.close()  # drops the kept spools
        with archive.objects.local_file(digest) as path:  # so this one comes from the bucket
            assert hash_file(path)[0] == digest
        assert not path.exists()


def _abandon_a_batch(seaweed, bucket: str, prefix: str, cli: Cli, writer: str) -> int:
    """Write the first event of a three-event batch as a writer that then died would have."""
    from recordkeep.store.journal import canonical, event_hash

    head = cli.json("log", "head")
    body = {"actor": "ghost@elsewhere", "at": "2021-03-15T08:30:00.000+08:00",
            "data": {"mode": "fast", "scope": {}, "result": "ok"}, "prev": head["hash"],
            "seq": head["seq"] + 1, "type": "verify.run"}
    body["hash"] = event_hash(body)
    seaweed.client().put_object(
        Bucket=bucket, Key=f"{prefix}/journal/{body['seq']:012d}.json", Body=canonical(body) + b"\n",
        IfNoneMatch="*", Metadata={"rk-batch": f"{body['seq']}-{body['seq'] + 2}", "rk-writer": writer})
    return body["seq"]


def test_a_batch_its_writer_left_unfinished_is_cut_and_journaled_by_the_next_writer(
        seaweed, bucket, tmp_path):
    cli = station(seaweed, tmp_path / "s", f"s3://{bucket}/cut")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    # a process of this host that is gone: cut at once
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    seq = _abandon_a_batch(seaweed, bucket, "cut", cli, f"{os.uname().nodename}:{dead}:feed")
    assert cli("add", str(tmp_path / "a.txt")).exit_code == 0
    # a writer elsewhere that makes no progress: cut after [backend] batch_wait_seconds
    toml = tmp_path / "s" / "recordkeep.toml"
    toml.write_text(toml.read_text() + "batch_wait_seconds = 1\n")  # [backend] is the last table
    seq2 = _abandon_a_batch(seaweed, bucket, "cut", cli, "other-host:4242:beef")
    assert cli("add", str(tmp_path / "b.txt")).exit_code == 0
    assert cli("log", "verify").exit_code == 0
    events = cli.json("log")["events"]
    cuts = [e for e in events if e["type"] == "journal.batch_cut"]
    assert [(c["seq"], c["data"]["after_seq"], c["data"]["missing"]) for c in cuts] == [
        (seq + 1, seq, 2), (seq2 + 1, seq2, 2)]
    assert cuts[1]["data"]["writer"] == "other-host:4242:beef"
    assert [c["data"]["why"] for c in cuts] == ["writer_gone", "no_progress"]  # not waited for, then waited
    assert [c["data"].get("wait_ms") for c in cuts] == [None, 1000]  # how long, as [backend] is not recorded
    seals = {e["data"]["from"]: e for e in events if e["type"] == "batch.signed"}
    assert [seals[c["seq"]]["actor"] for c in cuts] == [FOUNDER] * 2  # each cut opens the next writer's batch
    report = cli.json("log", "verify")  # the cut-off lines: never acknowledged, a notice only
    assert report["ok"] and report["signed"] and report["batches"] == 3
    assert [(f["code"], f["seq"], f["notice"]) for f in report["findings"]] == [
        ("RK245", seq, True), ("RK245", seq2, True)]


# -- who acted, proved: keys and signed batches over S3 -------------------------------------------
def test_a_station_joining_an_s3_store_writes_nothing_until_an_admin_enrols_its_key_then_signs_with_it(
        seaweed, bucket, tmp_path):
    url = f"s3://{bucket}/join"
    first = station(seaweed, tmp_path / "a", url)
    joiner = "clerk@station3"
    assert not key_files.key_path(joiner).exists()
    journal = keys(seaweed, bucket, "join/journal/")
    second = Station(tmp_path / "b", joiner)
    assert second.json("init", "--backend", url, "--endpoint", seaweed.endpoint)["joined"] is True
    assert keys(seaweed, bucket, "join/journal/") == journal  # joining journals nothing
    assert not key_files.key_path(joiner).exists()  # and makes no key

    scan = tmp_path / "询问笔录.txt"
    scan.write_text("询问笔录 第1页", encoding="utf-8")
    blobs = keys(seaweed, bucket, "join/objects/")

    def refused(code: str, *args: str) -> None:
        result = second(*args)
        assert result.exit_code == 1 and result.stderr.startswith(code), result.output
        assert keys(seaweed, bucket, "join/journal/") == journal  # nothing journaled
        assert keys(seaweed, bucket, "join/objects/") == blobs  # and no blob uploaded

    refused("RK113", "add", str(scan))  # no key file at all
    made = second.json("key", "new")
    refused("RK116", "add", str(scan))  # a key, but not enrolled in this store
    refused("RK116", "key", "enrol", made["public_key"], "--actor", joiner, "--role", "clerk")  # not itself
    assert records(second) == {} and records(first) == {}

    enrolled = first.json("key", "enrol", made["public_key"], "--actor", joiner, "--role", "clerk")
    assert enrolled["key"] == made["key"] and enrolled["roles"] == ["clerk"]
    added = second.json("add", str(scan))
    digest = added["files"][0]["digest"]
    assert added["files"][0]["status"] == "stored"
    blob = f"join/objects/blake3/{digest[:2]}/{digest[2:4]}/{digest}"
    assert keys(seaweed, bucket, "join/objects/") == [blob]  # only the enrolled station's upload

    events = journal_in(seaweed, bucket, "join")
    actor, sealed = proved_batches(store_id(first), events)[-1]  # the joined station's add
    seal = sealed[-1]
    assert actor == joiner and seal["actor"] == joiner and seal["data"]["key"] == made["key"]
    assert [e["data"]["digest"] for e in sealed if e["type"] == "record.imported"] == [f"blake3:{digest}"]
    assert records(first) == records(second) == {digest: scan.stat().st_size}
    for x in (first, second):
        report = x.json("log", "verify")
        assert report["ok"] and report["signed"] and report["findings"] == [], report


def test_a_station_whose_conditional_put_loses_re_chains_and_re_signs_its_batch_after_the_winners(
        seaweed, bucket, tmp_path, monkeypatch):
    url = f"s3://{bucket}/race"
    first = station(seaweed, tmp_path / "a", url)
    second = station(seaweed, tmp_path / "b", url, actor="clerk@station4")  # joined
    key = enrol(first, second.actor, "clerk")
    for name in ("first.txt", "second.txt"):
        (tmp_path / name).write_text(f"现场照片说明 {name}", encoding="utf-8")
    with Archive.open(first.store, actor=FOUNDER) as a, Archive.open(second.store, actor=second.actor) as b:
        assert a.index.seen == b.index.seen  # both caught up: the same head
        create, taken = b.journal._create, []

        def the_other_station_puts_first(seq: int, line: bytes, metadata: dict, lock: dict) -> bool:
            if not taken:  # after b read the head and signed its batch, a appends at that very seq
                taken.append(seq)
                assert add_files(a, [str(tmp_path / "first.txt")]).complete
            return create(seq, line, metadata, lock)

        append, moved = b.journal.append, []

        def counted(*args, **kw):
            try:
                return append(*args, **kw)
            except errors.HeadMoved as exc:
                moved.append(exc.message)
                raise

        monkeypatch.setattr(b.journal, "_create", the_other_station_puts_first)
        monkeypatch.setattr(b.journal, "append", counted)
        assert add_files(b, [str(tmp_path / "second.txt")]).complete
    assert len(moved) == 1 and "another station appended it first" in moved[0], moved  # the put's 412

    batches = proved_batches(store_id(first), journal_in(seaweed, bucket, "race"))
    (winner, won), (loser, retried) = batches[-2:]
    assert winner == FOUNDER and won[0]["seq"] == taken[0]
    assert loser == second.actor and retried[-1]["data"]["key"] == key.id
    assert retried[0]["seq"] == won[-1]["seq"] + 1 and retried[0]["prev"] == won[-1]["hash"]  # re-chained
    assert retried[-1]["data"]["from"] == retried[0]["seq"] > taken[0]  # and signed again over it
    assert records(first) == records(second) and len(records(first)) == 2
    for x in (first, second):
        report = x.json("log", "verify")
        assert report["ok"] and report["signed"] and report["findings"] == [], report


def test_log_verify_json_on_an_s3_store_says_it_is_signed_and_counts_every_batch(seaweed, bucket, tmp_path):
    cli = station(seaweed, tmp_path / "s", f"s3://{bucket}/count")
    (tmp_path / "a.txt").write_text("送达回证")
    assert cli("add", str(tmp_path / "a.txt")).exit_code == 0
    enrol(cli, "auditor@office", "auditor")
    events = journal_in(seaweed, bucket, "count")
    seals = [e for e in events if e["type"] == "batch.signed"]
    assert len(seals) == len(proved_batches(store_id(cli), events)) == 3  # founding, add, enrolment
    report = cli.json("log", "verify")
    assert report["ok"] is True and report["signed"] is True and report["batches"] == 3
    assert report["findings"] == [] and report["lines"] == len(events) == events[-1]["seq"]
    assert report["head"] == {"seq": seals[-1]["seq"], "hash": seals[-1]["hash"]}
    plain = cli("log", "verify")
    assert plain.exit_code == 0 and f"journal: {len(events)} lines, 3 signed batches" in plain.stdout


def test_a_bag_exported_at_one_station_is_shown_whole_at_another_against_the_same_bucket(
        seaweed, bucket, tmp_path):
    url = f"s3://{bucket}/city/bureau-bag"
    first = station(seaweed, tmp_path / "a", url)
    assert first("party", "add", "--name", "张三", "--id-number", "11010519491231002X").exit_code == 0
    assert first("case", "open", "坡城管罚〔2021〕12号", "--party", "P1", "--at", "2021-03-01").exit_code == 0
    for name in ("询问笔录.pdf", "送达回证.pdf"):
        (tmp_path / name).write_bytes(f"%PDF-1.4 {name}".encode())
        added = first("add", str(tmp_path / name), "--case", "坡城管罚〔2021〕12号", "--stage", "调查取证")
        assert added.exit_code == 0, added.output
    bag = tmp_path / "bag"
    assert first("export", "--case", "坡城管罚〔2021〕12号", str(bag)).exit_code == 0
    second = Station(tmp_path / "b", "auditor@station2")
    assert second("init", "--backend", url, "--endpoint", seaweed.endpoint).exit_code == 0
    for checker in (first, second):
        found = checker.json("log", "verify", "--bag", str(bag))
        assert found["ok"] is True and found["complete"] is True, found["problems"]
        assert [e["scope"] for e in found["exports"]] == [{"case": "坡城管罚〔2021〕12号"}]


@pytest.mark.parametrize("wait", ["nan", "inf", "-1", '"30"'])
def test_a_batch_wait_that_is_no_finite_number_of_seconds_is_refused_before_the_bucket_is_asked(tmp_path,
                                                                                               wait):
    """A wait of nan would end the wait at once and fail the cut it journals (wait_ms)."""
    root = tmp_path / "station"
    (root / "tmp").mkdir(parents=True)
    (root / "journal.lock").touch()
    (root / "recordkeep.toml").write_text(
        f'[store]\nid = "x"\n[backend]\ntype = "s3"\nurl = "s3://bucket-x/p"\n'
        f'endpoint = "http://127.0.0.1:9"\nbatch_wait_seconds = {wait}\n', encoding="utf-8")
    result = Cli(root)("log", "head")
    assert result.exit_code == 1 and result.stderr.startswith("RK104")
    assert "batch_wait_seconds" in result.stderr
