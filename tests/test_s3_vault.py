"""The personal-data vault of a store kept in a bucket (SeaweedFS, real, with Object Lock):
objects under pii/ that are never locked, found from a second station, and erased with every
version of them."""

from __future__ import annotations

import secrets

import pytest

from recordkeep import Archive

from .conftest import Cli

pytestmark = pytest.mark.slow  # a real S3 server (SeaweedFS)

FOUNDER = "clerk@station1"
PERSON = "11010519491231002X"


def versions(client, bucket: str, prefix: str) -> list[str]:
    listed = client.list_object_versions(Bucket=bucket, Prefix=prefix)
    return [v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]


def test_an_s3_stores_vault_is_erasable_every_version_and_holds_no_plain_number(seaweed, tmp_path):
    bucket = seaweed.make_bucket(f"rk-{secrets.token_hex(5)}", object_lock=True)
    url = f"s3://{bucket}/bureau"
    Archive.init(tmp_path / "a", actor=FOUNDER, backend=url, endpoint=seaweed.endpoint).close()
    first = Cli(tmp_path / "a")
    added = first("party", "add", "--name", "张三", "--id-number", PERSON, "--phone", "13912345678")
    assert added.exit_code == 0, added.output
    client = seaweed.client()
    names = versions(client, bucket, "bureau/pii/")
    assert any(n.endswith("pii/keys/P1.json") for n in names) and any("pii/lookup/" in n for n in names)
    for name in set(names):
        held = client.get_object(Bucket=bucket, Key=name)["Body"].read()
        assert PERSON.encode() not in held and b"13912345678" not in held
        retention = client.head_object(Bucket=bucket, Key=name).get("ObjectLockMode")
        assert retention is None  # the vault must stay erasable
    journal = b"".join(client.get_object(Bucket=bucket, Key=k)["Body"].read()
                       for k in versions(client, bucket, "bureau/journal/"))
    assert PERSON.encode() not in journal and b"13912345678" not in journal

    Archive.init(tmp_path / "b", actor="proc@test", backend=url, endpoint=seaweed.endpoint).close()
    second = Cli(tmp_path / "b")
    assert second.json("party", "show", PERSON)["party"]["key"] == "P1"  # the lookup table is shared

    done = first.json("party", "erase-pii", "P1", "--reason", "当事人申请删除")
    assert done["fields"] == ["id_number", "phone"]
    left = [n for n in versions(client, bucket, "bureau/pii/") if not n.endswith("lookup.key")]
    assert left == []  # every version of keys, values and lookup entries is gone
    assert second("party", "show", PERSON).exit_code == 1
    assert second("log", "verify").exit_code == 0
