"""The index is a projection: deleted or rebuilt, it answers exactly as before."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recordkeep import Archive, Options, add_files, verify
from recordkeep.store.journal import Draft

from .conftest import REPO, new_store
from .index_dump import dump


def test_deleting_index_sqlite_and_reopening_gives_the_same_answers(store, tmp_path, cli):
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text(f"content {i % 2}")
    cli("add", *[str(tmp_path / f"f{i}.txt") for i in range(3)], "--doc-type", "现场检查笔录")
    cli("verify")
    before = dump(store / "index.sqlite")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}/index.sqlite{suffix}").unlink(missing_ok=True)
    with Archive.open(store) as archive:
        assert archive.index.head.seq > 0
    assert dump(store / "index.sqlite") == before


def test_a_crash_between_journal_and_index_heals_on_open(archive, store):
    head_before = archive.index.head.seq
    signer = archive.signer()
    archive.journal.append([Draft("verify.run", {"mode": "fast", "scope": {}, "result": "ok"})],
                           actor=signer.actor, at=archive.now(), expect_head=archive.journal.head().hash,
                           seal=signer.seal)
    archive.close()
    with Archive.open(store) as reopened:
        assert reopened.index.head.seq == head_before + 2  # the event and its seal


def _schema(path: Path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    finally:
        conn.close()


def test_rebuild_index_command_rebuilds_from_the_journal(cli, store, tmp_path):
    (tmp_path / "a.txt").write_text("a")
    cli("add", str(tmp_path / "a.txt"))
    before, schema = dump(store / "index.sqlite"), _schema(store / "index.sqlite")
    result = cli.json("rebuild-index")
    assert result["events"] == max(row[0] for row in before["events"])
    assert dump(store / "index.sqlite") == before
    assert _schema(store / "index.sqlite") == schema  # the indexes rebuild creates last included


def test_an_index_built_when_imports_had_event_touches_rows_opens_with_the_same_answers(
        cli, store, tmp_path):
    for name, content in (("a.txt", "a"), ("b.txt", "b"), ("a copy.txt", "a")):
        (tmp_path / name).write_text(content)
    cli("add", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    cli("add", str(tmp_path / "a copy.txt"))  # a record.seen
    cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X")
    digest = cli.json("search")["records"][0]["digest"]
    cli("case", "open", "坡城管罚〔2021〕12号", "--party", "P1", "--at", "2021-03-01")
    cli("case", "link", "坡城管罚〔2021〕12号", digest, "--stage", "investigate")
    cli("verify")
    digests = [r["digest"] for r in cli.json("search")["records"]]
    custody = {d: cli.json("log", "--record", d) for d in digests}
    current = dump(store / "index.sqlite")
    # what recordkeep wrote before m006: a touch row for every import and sighting
    conn = sqlite3.connect(store / "index.sqlite")
    with conn:
        conn.execute("INSERT INTO event_touches (kind, ref, seq) SELECT 'record', digest, seq FROM sightings")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_record_touches_in_sightings'")
    conn.close()
    assert dump(store / "index.sqlite") != current
    assert {d: cli.json("log", "--record", d) for d in digests} == custody
    assert dump(store / "index.sqlite") == current


operation = st.one_of(
    st.tuples(st.just("add"), st.lists(st.sampled_from([b"a", b"b", b"", b"c" * 5000, b"\xff"]),
                                       min_size=1, max_size=3),
              st.sampled_from([None, "询问笔录", "送达回证"]), st.booleans()),
    st.tuples(st.just("verify"), st.sampled_from(["fast", "full"])),
    st.tuples(st.just("torn"), st.binary(min_size=1, max_size=20).filter(lambda b: b"\n" not in b)),
)


@pytest.mark.slow  # 25 generated stores, ~11 s
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=8))
def test_a_live_index_equals_one_rebuilt_from_the_journal(tmp_path_factory, ops):
    root = tmp_path_factory.mktemp("hyp")
    store = root / "store"
    files = root / "files"
    files.mkdir()
    new_store(store)
    live = _run(store, files, ops)
    copy = root / "copy"
    shutil.copytree(store, copy)
    with Archive.open(copy) as archive:
        archive.rebuild_index()
    assert dump(copy / "index.sqlite") == live


def _run(store: Path, files: Path, ops: list) -> dict:
    """Apply the operations through the library; return the live index's content."""
    with Archive.open(store, actor="h@test") as archive:
        for n, op in enumerate(ops):
            if op[0] == "add":
                _, contents, doc_type, gbk_name = op
                paths = []
                for i, content in enumerate(contents):
                    name = (f"{n}-{i}-询问".encode("gbk") if gbk_name else f"{n}-{i}.bin".encode())
                    path = os.path.join(os.fsencode(files), name)
                    with open(path, "wb") as f:
                        f.write(content)
                    paths.append(path)
                add_files(archive, paths, options=Options(doc_type=doc_type))
            elif op[0] == "verify":
                verify(archive, mode=op[1])
            else:
                with open(store / "journal" / "events.jsonl", "ab") as f:
                    f.write(op[1])
        archive.commit([Draft("verify.run", {"mode": "fast", "scope": {}, "result": "ok"})])
    return dump(store / "index.sqlite")


_BUCKETS: dict[str, str] = {}


@pytest.mark.slow  # a real S3 server (SeaweedFS)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation.filter(lambda op: op[0] != "torn"), min_size=1, max_size=6))
def test_a_live_index_over_s3_equals_one_rebuilt_and_one_on_a_second_workstation(
        seaweed, tmp_path_factory, ops):
    if seaweed.endpoint not in _BUCKETS:
        _BUCKETS[seaweed.endpoint] = seaweed.make_bucket(f"rk-hyp-{uuid.uuid4().hex[:8]}")
    url = f"s3://{_BUCKETS[seaweed.endpoint]}/{uuid.uuid4().hex}"
    root = tmp_path_factory.mktemp("hyp-s3")
    store = root / "store"
    files = root / "files"
    files.mkdir()
    Archive.init(store, actor="h@test", backend=url, endpoint=seaweed.endpoint).close()
    live = _run(store, files, ops)
    copy = root / "copy"
    shutil.copytree(store, copy)
    with Archive.open(copy) as archive:
        archive.rebuild_index()
    assert dump(copy / "index.sqlite") == live
    Archive.init(root / "second", actor="h@test", backend=url, endpoint=seaweed.endpoint).close()
    assert dump(root / "second" / "index.sqlite") == live


def test_the_migrations_table_read_without_sqlite_utils_is_the_one_sqlite_utils_writes(store):
    import sqlite_utils

    from recordkeep.index import MIGRATIONS_TABLE, migrations

    assert sqlite_utils.Migrations.migrations_table == MIGRATIONS_TABLE
    with Archive.open(store) as archive:
        assert migrations.pending(archive.index.conn) == []
        applied = [r[0] for r in archive.index.conn.execute(
            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = 'recordkeep' ORDER BY rowid")]
    assert applied == [step.__name__ for step in migrations.ordered()]


@pytest.mark.parametrize("module", ["index", "index.fts", "index.people", "index.dossier",
                                    "index.retention", "index.core", "search", "retention"])
def test_whichever_module_is_imported_first_the_migrations_apply_in_the_order_of_their_names(module):
    probe = (f"import recordkeep.{module}\n"
             "from recordkeep.index import migrations\n"
             "print(' '.join(step.__name__ for step in migrations.ordered()))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=REPO).stdout.split()
    assert out == sorted(out) and out[0].startswith("m001_") and len(out) == len(set(out)) >= 7
