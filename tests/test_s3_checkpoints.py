"""Checkpoints of a store kept in a bucket (SeaweedFS, real): the ``checkpoints/`` key beside
``journal/``, written once, checked from another station and by the documented root script."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from recordkeep import Archive

from .conftest import REPO, Cli
from .test_anchors import documented

pytestmark = pytest.mark.slow  # a real S3 server (SeaweedFS)

FOUNDER = "clerk@station1"


def test_checkpoints_of_an_s3_store_sit_beside_its_journal_and_prove_it_from_another_station(
        seaweed, tmp_path, dump_dir):
    bucket = seaweed.make_bucket(f"rk-{secrets.token_hex(5)}", object_lock=True)
    url = f"s3://{bucket}/bureau"
    Archive.init(tmp_path / "a", actor=FOUNDER, backend=url, endpoint=seaweed.endpoint).close()
    first = Cli(tmp_path / "a")
    assert first("import", str(dump_dir)).exit_code == 0
    made = first.json("log", "checkpoint")
    client = seaweed.client()
    name = f"bureau/checkpoints/{made['size']}.checkpoint"
    note = client.get_object(Bucket=bucket, Key=name)["Body"].read()
    assert made["checkpoint"].endswith(f"checkpoints/{made['size']}.checkpoint")
    assert note.startswith(b"recordkeep/")

    Archive.init(tmp_path / "b", actor="proc@test", backend=url, endpoint=seaweed.endpoint).close()
    second = Cli(tmp_path / "b")
    report = second.json("log", "verify")
    assert report["ok"] and [v["size"] for v in report["checkpoints"]] == [made["size"]]
    proof = second.json("log", "prove", "--seq", "2")
    assert proof["tree_size"] == made["size"]

    saved = tmp_path / "n.checkpoint"
    saved.write_bytes(note)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="bureau/journal/")
    names = sorted(item["Key"] for page in pages for item in page.get("Contents", ()))
    journal = tmp_path / "events.jsonl"
    journal.write_bytes(b"".join(client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in names))
    script = tmp_path / "check_root.py"
    script.write_text(documented("def mth("), encoding="utf-8")
    ok = subprocess.run([sys.executable, str(script), str(journal), str(saved)], capture_output=True,
                        text=True, cwd=REPO)
    assert ok.returncode == 0, ok.stderr
    again = first.json("log", "checkpoint")
    newer = tmp_path / "newer.checkpoint"
    newer.write_bytes(client.get_object(Bucket=bucket, Key=f"bureau/checkpoints/{again['size']}.checkpoint")
                      ["Body"].read())
    consistency = second.json("log", "prove", "--from", str(saved), "--to", str(newer))
    assert (consistency["old_size"], consistency["new_size"]) == (made["size"], again["size"])
    kept = second.json("log", "verify")["checkpoints"]
    assert [v["size"] for v in kept] == [made["size"], again["size"]] and all(v["ok"] for v in kept)
    with Archive.open(tmp_path / "b", actor="proc@test") as archive:  # written once, never replaced
        assert archive.checkpoints.put(f"{made['size']}.checkpoint", b"forged") is False
        assert archive.checkpoints.put(f"{made['size']}.checkpoint", note) is True
    assert client.get_object(Bucket=bucket, Key=name)["Body"].read() == note
