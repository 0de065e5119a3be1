"""Who acted, proved: keys, roles and signed batches, as a forger and a careless clerk would
try them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recordkeep import Archive, errors
from recordkeep.store.journal import Draft, canonical, event_hash
from recordkeep.trust import keys, roles
from recordkeep.trust.signer import Signer

from .conftest import REPO, Cli, new_store


def lines(store: Path) -> list[dict]:
    return [json.loads(x) for x in (store / "journal" / "events.jsonl").read_bytes().splitlines()]


def write(store: Path, events: list[dict]) -> None:
    (store / "journal" / "events.jsonl").write_bytes(b"".join(canonical(e) + b"\n" for e in events))


def rechain(events: list[dict], start: int = 0) -> list[dict]:
    """Renumber and re-hash every event from ``start`` on, as a forger's script would."""
    for i in range(start, len(events)):
        e = events[i]
        e["seq"] = i + 1
        e["prev"] = events[i - 1]["hash"] if i else "0" * 64
        e["hash"] = event_hash(e)
    return events


def enrolled(cli, actor: str, *roles: str, by: str = "tester@test") -> keys.SigningKey:
    """A key for ``actor``, enrolled by the store's admin ``by`` with ``roles``."""
    path = keys.key_path(actor)
    key = keys.load_key(path) if path.exists() else keys.new_key(path)
    args = [x for role in roles for x in ("--role", role)]
    result = cli("key", "enrol", key.public_b64, "--actor", actor, *args, actor=by)
    assert result.exit_code == 0, result.output
    return key


def verified(cli, *args: str) -> dict:
    report = cli.json("log", "verify", *args)
    return report


def codes(report: dict) -> list[str]:
    return [f["code"] for f in report["findings"] if not f["notice"]]


# -- keys and roles ---------------------------------------------------------------------------
def test_a_new_store_is_signed_from_its_first_batch_by_a_key_enrolled_with_every_role(cli, store):
    first = lines(store)[:4]
    assert [e["type"] for e in first] == ["store.created", "key.enrolled", "settings.changed",
                                          "batch.signed"]
    assert first[0]["data"]["layout"] == "recordkeep-2"
    assert first[0]["data"]["admin_key"] == first[1]["data"]["key"] == first[3]["data"]["key"]
    assert first[1]["data"]["roles"] == ["admin", "clerk", "records", "auditor", "reviewer"]
    report = verified(cli)
    assert report["ok"] and report["signed"] and report["batches"] >= 2


@pytest.mark.parametrize("args", [("dispose", "0" * 8, "--reason", "x"), ("release", "--party", "P1"),
                                  ("key", "enrol", "AAAA", "--actor", "x@y", "--role", "admin")])
def test_a_clerks_key_is_refused_for_records_and_admin_work_before_writing(cli, store, args):
    enrolled(cli, "clerkonly@station3", "clerk")
    before = lines(store)
    result = cli(*args, actor="clerkonly@station3")
    assert result.exit_code == 1 and result.stderr.startswith(("RK118", "RK40", "RK43")), result.output
    if result.stderr.startswith("RK118"):
        assert "needs" in result.stderr
    assert lines(store) == before



def test_roles_added_to_a_keys_row_in_the_index_by_hand_grant_nothing(cli, store, tmp_path):
    """An insider with a clerk's key edits index.sqlite to give it the records role: the write
    is refused before anything is journaled, as the key's enrolment line says clerk only."""
    import sqlite3

    scan = tmp_path / "scan.txt"
    scan.write_bytes(b"a record to hold")
    digest = cli.json("add", str(scan))["files"][0]["digest"]
    key = enrolled(cli, "clerkonly@station3", "clerk")
    with sqlite3.connect(store / "index.sqlite") as db:
        db.execute("UPDATE keys SET roles = '[\"clerk\", \"records\"]' WHERE key = ?", (key.id,))
    before = lines(store)
    refused = cli("hold", digest, "--reason", "x", actor="clerkonly@station3")
    assert refused.exit_code == 3 and refused.stderr.startswith("RK233"), refused.output
    assert lines(store) == before
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0  # the founder still writes

def append_as(store: Path, key: keys.SigningKey, actor: str, drafts: list[Draft],
              seal_key_id: str | None = None, seal_copied: dict | None = None) -> None:
    """Whoever can write the files appends ``drafts`` by hand, sealed by ``key`` (its signature),
    naming ``seal_key_id`` as the sealing key when given (another's id over her own signature),
    or with ``seal_copied`` as the seal's data (a genuine seal of other lines, copied)."""
    with Archive.open(store, actor="tester@test") as archive:
        signer = Signer(key, actor, frozenset(roles.ALL_ROLES), archive.settings.store_id)

        def seal(first: int, last: int, head: str) -> Draft:
            draft = signer.seal(first, last, head)
            if seal_copied is not None:
                return Draft(draft.type, seal_copied)
            return Draft(draft.type, {**draft.data, "key": seal_key_id or draft.data["key"]})
        archive.journal.append(drafts, actor=actor, at=archive.now(), expect_head=archive.journal.head().hash,
                               seal=seal)


def test_a_clerk_who_appends_a_line_enrolling_herself_as_admin_gains_no_role(cli, store, tmp_path,
                                                                             monkeypatch):
    """A clerk who can write the store's files appends a batch, sealed by her own key, that
    enrols her key again with every role and a second key of hers as admin: the index folds
    neither, so she still cannot enrol or revoke the admins; her second key is not
    enrolled; log verify names the lines, and a batch the second key signs; a rebuilt index
    says the same."""
    clerk = enrolled(cli, "clerkonly@station3", "clerk")
    second = keys.new_key(tmp_path / "second.key")
    every = list(roles.ALL_ROLES)
    append_as(store, clerk, "clerkonly@station3", [
        Draft("key.enrolled", {"key": clerk.id, "public_key": clerk.public_b64, "actor": "clerkonly@station3",
                               "roles": every}),
        Draft("key.enrolled", {"key": second.id, "public_key": second.public_b64,
                               "actor": "clerkonly@station3", "roles": every})])
    founder = next(k["key"] for k in cli.json("key", "list")["keys"] if k["actor"] == "tester@test")
    for _round in ("folded", "rebuilt"):
        listed = {k["key"]: k for k in cli.json("key", "list")["keys"]}
        assert listed[clerk.id]["roles"] == ["clerk"] and second.id not in listed
        before = lines(store)
        for args in (("key", "enrol", second.public_b64, "--actor", "x@y", "--role", "admin"),
                     ("key", "revoke", founder, "--reason", "x")):
            refused = cli(*args, actor="clerkonly@station3")
            assert refused.exit_code == 1 and refused.stderr.startswith("RK118"), refused.output
        with monkeypatch.context() as m:
            m.setenv("RECORDKEEP_KEY", str(tmp_path / "second.key"))
            refused = cli("officer", "add", "440301123456", "--name", "李四", actor="clerkonly@station3")
        assert refused.exit_code == 1 and refused.stderr.startswith("RK116"), refused.output
        assert lines(store) == before
        assert codes(verified(cli)).count("RK243") == 2
        assert cli("rebuild-index").exit_code == 0
    append_as(store, second, "clerkonly@station3", [  # the second key signs a batch of its own
        Draft("retention.held", {"digests": ["blake3:" + "0" * 64], "reason": "x"})])
    assert "RK242" in codes(verified(cli))  # by a key no batch could enrol


@pytest.mark.parametrize("sealed", ["by the clerk", "with the founder's seal copied"])
def test_a_key_row_written_into_the_index_for_a_line_no_admin_sealed_grants_nothing(cli, store, tmp_path,
                                                                                    monkeypatch, sealed):
    """The clerk's appended enrolment of a second key (sealed by her, or with a copy of the
    founder's genuine seal of other lines), and that key's row added to index.sqlite by hand to
    match the line: the key's writes are refused, since no admin sealed its batch."""
    import sqlite3

    clerk = enrolled(cli, "clerkonly@station3", "clerk")
    second = keys.new_key(tmp_path / "second.key")
    data = {"key": second.id, "public_key": second.public_b64, "actor": "boss@station3",
            "roles": ["admin", "clerk"]}
    copied = next(e for e in lines(store) if e["type"] == "batch.signed")["data"]
    append_as(store, clerk, "clerkonly@station3", [Draft("key.enrolled", data)],
              seal_copied=copied if sealed.startswith("with") else None)
    seq = next(e["seq"] for e in lines(store) if e["data"].get("key") == second.id)
    with sqlite3.connect(store / "index.sqlite") as db:
        db.execute("INSERT INTO keys (key, public_key, actor, roles, enrolled_seq) VALUES (?,?,?,?,?)",
                   (second.id, second.public_b64, "boss@station3", '["admin", "clerk"]', seq))
    before = lines(store)
    monkeypatch.setenv("RECORDKEEP_KEY", str(tmp_path / "second.key"))
    refused = cli("officer", "add", "440301123456", "--name", "李四", actor="boss@station3")
    assert refused.exit_code == 3 and refused.stderr.startswith("RK243"), refused.output
    assert "no admin key sealed" in refused.stderr and lines(store) == before


def test_a_genuine_admin_seal_copied_under_a_forged_enrolment_seals_nothing(cli, store, tmp_path,
                                                                           monkeypatch):
    """The clerk closes her line enrolling a second key as admin with an exact copy of the
    founder's seal of lines 1-3, whose signature holds over those: it seals nothing here, so
    the index folds no enrolment from it and the key writes nothing."""
    enrolled(cli, "clerkonly@station3", "clerk")
    second = keys.new_key(tmp_path / "second.key")
    founding_seal = next(e for e in lines(store) if e["type"] == "batch.signed")
    append_as(store, second, "tester@test", [Draft("key.enrolled", {
        "key": second.id, "public_key": second.public_b64, "actor": "boss@station3",
        "roles": ["admin", "clerk"]})], seal_copied=founding_seal["data"])
    assert second.id not in {k["key"] for k in cli.json("key", "list")["keys"]}
    monkeypatch.setenv("RECORDKEEP_KEY", str(tmp_path / "second.key"))
    refused = cli("officer", "add", "440301123456", "--name", "李四", actor="boss@station3")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK116"), refused.output
    monkeypatch.delenv("RECORDKEEP_KEY")
    assert "RK241" in codes(verified(cli))


def test_an_index_that_folded_a_clerks_enrolment_of_herself_as_admin_is_folded_again(cli, store):
    """Indexes before m024 let a clerk's own batch enrol her key again with every role: her row
    then holds admin, so the batch looks admin-sealed; such an index is rebuilt on opening."""
    import sqlite3

    clerk = enrolled(cli, "clerkonly@station3", "clerk")
    append_as(store, clerk, "clerkonly@station3", [Draft("key.enrolled", {
        "key": clerk.id, "public_key": clerk.public_b64, "actor": "clerkonly@station3",
        "roles": list(roles.ALL_ROLES)})])
    seq = max(e["seq"] for e in lines(store) if e["type"] == "key.enrolled")
    assert [k["roles"] for k in cli.json("key", "list")["keys"] if k["key"] == clerk.id] == [["clerk"]]
    with sqlite3.connect(store / "index.sqlite") as db:  # as the release before m024 left it
        db.execute("UPDATE keys SET roles = ?, enrolled_seq = ? WHERE key = ?",
                   ('["admin", "clerk", "records", "auditor", "reviewer"]', seq, clerk.id))
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm024_keys_from_admins'")
    assert [k["roles"] for k in cli.json("key", "list")["keys"] if k["key"] == clerk.id] == [["clerk"]]


def test_an_index_that_folded_an_enrolment_no_admin_sealed_is_folded_again_on_opening(cli, store, tmp_path):
    """Indexes before m024 folded any enrolment: one holding a key a clerk's batch enrolled is
    rebuilt when opened, and the key is gone from it."""
    import sqlite3

    clerk = enrolled(cli, "clerkonly@station3", "clerk")
    second = keys.new_key(tmp_path / "second.key")
    append_as(store, clerk, "clerkonly@station3", [Draft("key.enrolled", {
        "key": second.id, "public_key": second.public_b64, "actor": "boss@station3", "roles": ["admin"]})])
    assert second.id not in {k["key"] for k in cli.json("key", "list")["keys"]}
    seq = next(e["seq"] for e in lines(store) if e["data"].get("key") == second.id)
    with sqlite3.connect(store / "index.sqlite") as db:  # as the release before m024 left it
        db.execute("INSERT INTO keys (key, public_key, actor, roles, enrolled_seq) VALUES (?,?,?,?,?)",
                   (second.id, second.public_b64, "boss@station3", '["admin"]', seq))
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm024_keys_from_admins'")
    assert second.id not in {k["key"] for k in cli.json("key", "list")["keys"]}


def test_an_enrolment_sealed_in_an_admins_name_over_a_clerks_signature_grants_nothing(cli, store, tmp_path,
                                                                                      monkeypatch):
    """The clerk names the founding admin's key as the seal's key over her own signature: the
    index, which does not check signatures, folds the enrolment, but the key it enrols writes
    nothing, since the seal's signature does not hold (and log verify says so)."""
    clerk = enrolled(cli, "clerkonly@station3", "clerk")
    second = keys.new_key(tmp_path / "second.key")
    founder = next(k["key"] for k in cli.json("key", "list")["keys"] if k["actor"] == "tester@test")
    append_as(store, clerk, "tester@test", [Draft("key.enrolled", {
        "key": second.id, "public_key": second.public_b64, "actor": "boss@station3",
        "roles": ["admin", "clerk"]})],
        seal_key_id=founder)
    before = lines(store)
    with monkeypatch.context() as m:
        m.setenv("RECORDKEEP_KEY", str(tmp_path / "second.key"))
        refused = cli("officer", "add", "440301123456", "--name", "李四", actor="boss@station3")
    assert refused.exit_code == 3 and refused.stderr.startswith("RK241"), refused.output
    assert lines(store) == before and "RK241" in codes(verified(cli))


def test_a_clerks_key_may_do_a_clerks_work(cli, tmp_path):
    enrolled(cli, "clerkonly@station3", "clerk")
    scan = tmp_path / "scan.txt"
    scan.write_text("询问笔录", encoding="utf-8")
    assert cli("add", str(scan), actor="clerkonly@station3").exit_code == 0
    assert lines(cli.store)[-1]["actor"] == "clerkonly@station3"


def test_an_import_by_a_key_without_the_role_stores_nothing(cli, tmp_path):
    enrolled(cli, "auditoronly@office", "auditor")
    scan = tmp_path / "scan.txt"
    scan.write_text("询问笔录", encoding="utf-8")
    result = cli("add", str(scan), actor="auditoronly@office")
    assert result.exit_code == 1 and result.stderr.startswith("RK118")
    assert not [p for p in (cli.store / "objects").rglob("*") if p.is_file()]


def test_a_forged_actor_is_refused(cli, monkeypatch):
    key = enrolled(cli, "clerkonly@station3", "clerk")
    monkeypatch.setenv("RECORDKEEP_KEY", str(key.path))
    before = lines(cli.store)
    result = cli("officer", "add", "440301123456", "--name", "李四", actor="chief-auditor@bureau")
    assert result.exit_code == 1 and result.stderr.startswith("RK117"), result.output
    assert lines(cli.store) == before


def test_without_actor_the_keys_own_actor_acts(store, monkeypatch):
    from click.testing import CliRunner

    from cli import main

    monkeypatch.setenv("RECORDKEEP_KEY", str(keys.key_path("clerk@station1")))
    monkeypatch.delenv("RECORDKEEP_ACTOR", raising=False)
    args = ["--store", str(store), "officer", "add", "440301123456", "--name", "李四"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert lines(store)[-1]["actor"] == "clerk@station1"


def test_a_private_key_readable_by_others_is_refused(cli):
    path = keys.key_path("clerk@station1")
    path.chmod(0o644)
    try:
        result = cli("officer", "add", "440301123456", "--name", "李四")
        assert result.exit_code == 1 and result.stderr.startswith("RK114"), result.output
    finally:
        path.chmod(0o600)


def test_a_station_without_a_key_reads_and_verifies_but_does_not_journal_its_run(cli, tmp_path):
    scan = tmp_path / "scan.txt"
    scan.write_text("询问笔录", encoding="utf-8")
    assert cli("add", str(scan)).exit_code == 0
    before = lines(cli.store)
    for args in (("search",), ("log",), ("log", "verify"), ("case", "show", "none")):
        assert cli(*args, actor="visitor@nowhere").exit_code in (0, 1)
    ran = cli("verify", actor="visitor@nowhere")
    assert ran.exit_code == 0 and "not journaled" in ran.stdout
    assert lines(cli.store) == before


# -- log verify proves it ---------------------------------------------------------------------
def test_an_unsigned_event_inserted_before_a_signed_batch_and_rechained_is_found(cli, tmp_path):
    scan = tmp_path / "scan.txt"
    scan.write_text("询问笔录", encoding="utf-8")
    assert cli("add", str(scan)).exit_code == 0
    events = lines(cli.store)
    forged = {"actor": "clerk@station1", "at": events[-1]["at"], "data": {"cert_no": "999", "name": "假"},
              "type": "officer.registered", "seq": 0, "prev": "", "hash": ""}
    at = len(events) - 3  # before the last batch's events
    write(cli.store, rechain([*events[:at], forged, *events[at:]], at))
    report = verified(cli)
    assert not report["ok"] and report["problem"] is None  # the chain itself is consistent again
    assert set(codes(report)) & {"RK240", "RK241"}
    assert cli("log", "verify").exit_code == 3


def test_an_unsigned_event_after_the_last_batch_is_unfinished_not_folded_and_cut_by_the_next_write(
        cli, store):
    assert cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X").exit_code == 0
    before = (cli.json("search", "张"), cli.json("stats"))
    with Archive.open(store, actor="clerk@station1") as archive:
        archive.journal.append([Draft("party.added", {"key": "P2", "kind": "person", "name": "张四",
                                                      "id_number": "110101198512151237"})],
                               actor="clerk@station1", at=archive.now(),
                               expect_head=archive.journal.head().hash)
    report = verified(cli)
    assert report["ok"] and [f["code"] for f in report["findings"]] == ["RK245"]
    assert (cli.json("search", "张"), cli.json("stats")["decisions"]) == (before[0], before[1]["decisions"])
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    cut = [e for e in lines(store) if e["type"] == "journal.batch_cut"]
    assert len(cut) == 1 and cut[0]["data"]["why"] == "unsealed"
    assert [p["key"] for p in cli.json("party", "list")["parties"]] == ["P1"]
    assert verified(cli)["ok"]
    assert cli("rebuild-index").exit_code == 0
    assert [p["key"] for p in cli.json("party", "list")["parties"]] == ["P1"]


def test_a_long_running_writer_whose_key_another_admin_revokes_signs_nothing_after(cli, store):
    """A long import or rolling audit found its key once: a revocation journaled meanwhile by
    another process stops its next write, so the store never holds a batch signed after it."""
    key = enrolled(cli, "clerk@station3", "clerk")
    with Archive.open(store, actor="clerk@station3") as archive:
        archive.commit([Draft("officer.registered", {"cert_no": "440301000001", "name": "甲"})])
        assert cli("key", "revoke", key.id, "--reason", "left", actor="tester@test").exit_code == 0
        with pytest.raises(errors.KeyNotEnrolled, match="revoked"):
            archive.commit([Draft("officer.registered", {"cert_no": "440301000002", "name": "乙"})])
    assert verified(cli)["ok"]
    assert [o["cert_no"] for o in cli.json("officer", "list")["officers"]] == ["440301000001"]


def test_a_station_that_held_back_an_unfinished_batch_writes_after_another_cut_it(cli, store):
    """A long-open archive holds a crashed writer's unsealed lines back; another process cuts them
    and writes: this one's next write catches up from what that process folded, not from its own
    held-back lines."""
    with Archive.open(store, actor="clerk@station1") as archive:
        archive.journal.append([Draft("officer.registered", {"cert_no": "440301000001", "name": "甲"})],
                               actor="clerk@station1", at=archive.now(),
                               expect_head=archive.journal.head().hash)  # a writer that crashed
    with Archive.open(store, actor="clerk@station1") as archive:
        archive.index.catch_up(archive.journal)  # holds the unsealed line back
        assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0  # cuts it
        archive.commit([Draft("officer.registered", {"cert_no": "440301654321", "name": "王五"})])
    assert sorted(o["cert_no"] for o in cli.json("officer", "list")["officers"]) == ["440301123456",
                                                                                      "440301654321"]
    assert verified(cli)["ok"]


def test_a_crash_between_the_lines_and_their_seal_is_an_unfinished_batch(cli, store):
    assert cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X").exit_code == 0
    events = lines(store)
    assert events[-1]["type"] == "batch.signed"
    write(store, events[:-1])  # the seal never reached the disk (a crash in the one write)...
    for suffix in ("", "-wal", "-shm"):  # ...so no index ever folded that batch either
        Path(f"{store}/index.sqlite{suffix}").unlink(missing_ok=True)
    report = verified(cli)
    assert report["ok"] and "RK245" in [f["code"] for f in report["findings"]]
    assert cli.json("party", "list")["parties"] == []  # never acknowledged, never folded
    assert cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X").exit_code == 0
    assert [p["key"] for p in cli.json("party", "list")["parties"]] == ["P1"]
    assert verified(cli)["ok"]


def test_the_stores_last_admin_key_cannot_be_revoked_so_keys_can_always_be_enrolled_again(tmp_path):
    solo = Cli(tmp_path / "solo")
    assert solo("init", actor="solo@station9").exit_code == 0
    founder = solo.json("key", "list")["keys"][0]["key"]
    lines = len(solo.json("log")["events"])
    refused = solo("key", "revoke", founder, "--reason", "oops", actor="solo@station9")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK480"), refused.output
    assert len(solo.json("log")["events"]) == lines
    enrolled(solo, "second-admin@office", "admin", by="solo@station9")
    assert solo("key", "revoke", founder, "--reason", "left", actor="second-admin@office").exit_code == 0
    enrolled(solo, "clerk9@station9", "clerk", by="second-admin@office")  # keys are still enrolled


def test_a_batch_signed_by_a_revoked_key_is_found(cli, store):
    key = enrolled(cli, "leaver@station3", "clerk")
    assert cli("key", "revoke", key.id, "--reason", "left", actor="tester@test").exit_code == 0
    refused = cli("officer", "add", "440301123456", "--name", "李四", actor="leaver@station3")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK116")
    with Archive.open(store, actor="tester@test") as archive:  # the leaver, writing by hand
        signer = Signer(key, "leaver@station3", frozenset({"clerk"}), archive.settings.store_id)
        archive.journal.append([Draft("officer.registered", {"cert_no": "440301123456", "name": "李四"})],
                               actor="leaver@station3", at=archive.now(),
                               expect_head=archive.journal.head().hash, seal=signer.seal)
    assert "RK242" in codes(verified(cli))



def enrol_by_hand(store: Path, data: dict) -> None:
    """An admin who writes a ``key.enrolled`` into the journal by hand, signed, past key enrol's checks."""
    with Archive.open(store, actor="tester@test") as archive:
        signer = archive.signer()
        archive.journal.append([Draft("key.enrolled", data)], actor=signer.actor, at=archive.now(),
                               expect_head=archive.journal.head().hash, seal=signer.seal)


def test_a_revoked_key_is_never_enrolled_again_so_its_revocation_stands(cli, store):
    key = enrolled(cli, "leaver@station3", "clerk")
    assert cli("key", "revoke", key.id, "--reason", "left", actor="tester@test").exit_code == 0
    again = cli("key", "enrol", key.public_b64, "--actor", "leaver@station3", "--role", "clerk",
                actor="tester@test")
    assert again.exit_code == 1 and "revoked at seq" in again.stderr, again.output
    twice = enrolled(cli, "clerk@station3", "clerk")
    other = cli("key", "enrol", twice.public_b64, "--actor", "records@legal", "--role", "records",
                actor="tester@test")
    assert other.exit_code == 1 and "enrolled already" in other.stderr, other.output
    enrol_by_hand(store, {"key": key.id, "public_key": key.public_b64, "actor": "leaver@station3",
                          "roles": ["clerk"]})
    assert codes(verified(cli)) == ["RK260"]
    enrol_by_hand(store, {"key": twice.id, "public_key": twice.public_b64, "actor": "clerk@station3",
                          "roles": ["clerk", "records"]})  # a live key enrolled again, as before
    again_live = verified(cli)
    assert codes(again_live) == ["RK260"]  # only the revoked key's: the live one's is a notice
    assert [f["code"] for f in again_live["findings"] if f["notice"]].count("RK260") == 1
    assert cli("rebuild-index").exit_code == 0
    refused = cli("officer", "add", "440301123456", "--name", "李四", actor="leaver@station3")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK116"), refused.output
    listed = {k["key"]: k for k in cli.json("key", "list")["keys"]}
    assert listed[key.id]["revoked_seq"] is not None
    assert sorted(listed[twice.id]["roles"]) == ["clerk", "records"]

def test_an_index_from_a_release_that_undid_revocations_revokes_the_key_again_on_opening(cli, store):
    """Earlier releases let a revoked key enrolled again (by hand) lose its revocation in the index:
    the migration revokes it again, so it cannot sign before anyone rebuilds the index."""
    import sqlite3

    key = enrolled(cli, "leaver@station3", "clerk")
    assert cli("key", "revoke", key.id, "--reason", "left", actor="tester@test").exit_code == 0
    enrol_by_hand(store, {"key": key.id, "public_key": key.public_b64, "actor": "leaver@station3",
                          "roles": ["clerk"]})
    assert cli("officer", "list").exit_code == 0  # folded
    conn = sqlite3.connect(store / "index.sqlite")
    with conn:  # the row as those releases left it
        conn.execute("UPDATE keys SET revoked_seq = NULL, reason = NULL WHERE key = ?", (key.id,))
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm017_revocations_stand'")
    conn.close()
    refused = cli("officer", "add", "440301123456", "--name", "李四", actor="leaver@station3")
    assert refused.exit_code == 1 and refused.stderr.startswith("RK116"), refused.output
    revoked = [e["seq"] for e in lines(store) if e["type"] == "key.revoked"]
    listed = {k["key"]: k for k in cli.json("key", "list")["keys"]}
    assert listed[key.id]["revoked_seq"] == revoked[0]


def test_a_signature_over_another_store_id_is_found(cli, store):
    with Archive.open(store, actor="clerk@station1") as archive:
        own = archive.signer()
        signer = Signer(own.key, own.actor, own.roles, "another-store")
        archive.journal.append([Draft("officer.registered", {"cert_no": "440301123456", "name": "李四"})],
                               actor=own.actor, at=archive.now(), expect_head=archive.journal.head().hash,
                               seal=signer.seal)
    assert codes(verified(cli)) == ["RK241"]


def test_an_event_beyond_the_keys_roles_is_found(cli, store):
    key = enrolled(cli, "clerkonly@station3", "clerk")
    with Archive.open(store, actor="tester@test") as archive:
        signer = Signer(key, "clerkonly@station3", frozenset({"clerk"}), archive.settings.store_id)
        archive.journal.append([Draft("record.disposed", {"digest": "blake3:" + "0" * 64, "size": 1,
                                                          "kind": "other", "reason": "x"})],
                               actor="clerkonly@station3", at=archive.now(),
                               expect_head=archive.journal.head().hash, seal=signer.seal)
    assert codes(verified(cli)) == ["RK243"]



def test_the_documented_signature_script_fails_a_key_that_signs_the_batch_enrolling_it(cli, store, tmp_path):
    """Whoever can write the files appends a batch enrolling a key of their own as admin, signed by
    that key: only a key an earlier batch enrolled may sign (as log verify's RK242 says)."""
    import re
    import subprocess
    import sys

    text = (REPO / "docs" / "auditing.md").read_text(encoding="utf-8")
    script = tmp_path / "check_signatures.py"
    script.write_text(next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)
                           if "recordkeep-batch/v1" in b), encoding="utf-8")
    forged = keys.new_key(tmp_path / "forged.key")
    with Archive.open(store, actor="clerk@station1") as archive:
        signer = Signer(forged, "records@legal", frozenset(roles.ALL_ROLES), archive.settings.store_id)
        enrolled = Draft("key.enrolled", {"key": forged.id, "public_key": forged.public_b64,
                                          "actor": "records@legal", "roles": list(roles.ALL_ROLES)})
        archive.journal.append([enrolled], actor="records@legal", at=archive.now(),
                               expect_head=archive.journal.head().hash, seal=signer.seal)
    done = subprocess.run([sys.executable, str(script), str(store / "journal" / "events.jsonl")],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "which no earlier batch enrolled" in done.stderr, done.stderr
    assert cli("log", "verify").exit_code == 3


def test_a_second_store_created_founds_no_key_so_a_clerk_cannot_enrol_as_another(cli, store, tmp_path):
    """A clerk who writes to the journal by hand puts a store.created naming her new key in a
    batch of her own, with that key enrolled as records@legal with every role: the auditor's
    check must find both the second store.created and the batches it would make signable."""
    forged = keys.new_key(tmp_path / "forged.key")
    with Archive.open(store, actor="clerk@station1") as archive:
        signer = Signer(forged, "records@legal", frozenset(roles.ALL_ROLES), archive.settings.store_id)
        founding = [Draft("store.created", {"store_id": archive.settings.store_id, "timezone": "UTC",
                                            "layout": "recordkeep-2", "admin_key": forged.id,
                                            "public_key": forged.public_b64}),
                    Draft("key.enrolled", {"key": forged.id, "public_key": forged.public_b64,
                                           "actor": "records@legal", "roles": list(roles.ALL_ROLES)})]
        held = Draft("retention.held", {"digests": ["blake3:" + "0" * 64], "reason": "x"})
        for drafts in (founding, [held]):
            archive.journal.append(drafts, actor="records@legal", at=archive.now(),
                                   expect_head=archive.journal.head().hash, seal=signer.seal)
    result = cli("log", "verify", "--json")
    found = codes(json.loads(result.stdout))
    assert result.exit_code == 3 and "RK244" in found and found.count("RK242") == 2, result.output

@pytest.mark.parametrize("event_type", ["retention.held", "case.opened", "settings.changed"])
@pytest.mark.parametrize("made", [{"data": [1, 2]}, {"data": "held"}, {"type": 7}],
                         ids=["data a list", "data text", "type a number"])
def test_a_line_whose_data_is_not_an_object_or_type_not_text_is_no_event_and_breaks_the_chain_there(
        tmp_path, event_type, made):
    """Every reader parses it as no event (RK201/RK220, exit 3), never a traceback in a fold or a check."""
    root = older_store(tmp_path)
    events = lines(root)
    write(root, rechain([*events, {**events[1], "type": event_type, **made}]))
    cli = Cli(root)
    report = cli.json("log", "verify")
    assert not report["ok"] and "not an event" in json.dumps(report, ensure_ascii=False)
    for args in (("check",), ("stats",), ("log", "--party", "P1")):
        result = cli(*args)
        assert result.exit_code == 3 and result.stderr.startswith("RK201"), result.output
    assert cli("rebuild-index").exit_code == 3


@pytest.mark.parametrize("cut", ["emptied", "first line removed"])
def test_a_journal_emptied_or_not_beginning_with_store_created_fails(cli, store, cut):
    events = lines(store)
    write(store, [] if cut == "emptied" else rechain(events[1:]))
    result = cli("log", "verify")
    assert result.exit_code == 3 and "RK244" in result.stdout, result.output


# -- a store from before signatures -----------------------------------------------------------
def older_store(tmp_path: Path) -> Path:
    """A store as the first version wrote it: layout recordkeep-1, every batch unsigned."""
    root = new_store(tmp_path / "old")
    created = lines(root)[0]
    created["data"] = {"store_id": created["data"]["store_id"], "timezone": "Asia/Shanghai",
                       "layout": "recordkeep-1"}
    created["actor"] = "clerk@old"
    party = {"actor": "clerk@old", "at": created["at"], "type": "party.added", "seq": 0, "prev": "",
             "hash": "", "data": {"key": "P1", "kind": "person", "name": "张三",
                                  "id_number": "11010519491231002X"}}
    write(root, rechain([created, party]))
    (root / "index.sqlite").unlink()
    return root



def test_a_store_created_forged_into_an_older_store_does_not_make_its_index_hold_back_its_writes(tmp_path):
    """A later store.created naming layout recordkeep-2 founds nothing: the index of a store from
    before signatures goes on folding its unsigned batches (the proof fails the line)."""
    root = older_store(tmp_path)
    events = lines(root)
    forged = {**events[0], "data": {**events[0]["data"], "layout": "recordkeep-2"}}
    party = {**events[1], "data": {**events[1]["data"], "key": "P2", "name": "李四"}}
    write(root, rechain([*events, forged, party]))
    with Archive.open(root) as archive:
        assert not archive.index.signed
        assert archive.index.conn.execute("SELECT COUNT(*) FROM parties").fetchone()[0] == 2

def test_an_older_stores_unsigned_batches_are_notices_and_failures_with_strict(tmp_path):
    from .conftest import Cli

    cli = Cli(older_store(tmp_path))
    report = cli.json("log", "verify")
    assert report["ok"] and not report["signed"] and [f["code"] for f in report["findings"]] == ["RK246"]
    assert cli("log", "verify", "--strict").exit_code == 3


def test_an_older_store_is_signed_from_its_first_admin_enrolment_trusted_on_first_use(tmp_path):
    from .conftest import Cli

    cli = Cli(older_store(tmp_path))
    own = keys.load_key(keys.key_path("clerk@station1"))
    other = keys.new_key(tmp_path / "someone.key")
    refused = cli("key", "enrol", other.public_b64, "--actor", "someone@x", "--role", "admin")
    assert refused.exit_code == 1 and "own key" in refused.stderr
    assert cli("key", "enrol", own.public_b64, "--actor", "clerk@station1", "--role", "admin",
               "--role", "clerk").exit_code == 0
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    report = cli.json("log", "verify")
    assert report["ok"] and report["signed"]
    assert sorted(f["code"] for f in report["findings"]) == ["RK246", "RK247"]
    with Archive.open(cli.store, actor="clerk@station1") as archive:  # an unsigned batch now
        archive.journal.append([Draft("officer.registered", {"cert_no": "440301654321", "name": "王五"})],
                               actor="clerk@station1", at=archive.now(),
                               expect_head=archive.journal.head().hash)
    assert cli("officer", "add", "440301777777", "--name", "赵六").exit_code == 0  # cuts it
    assert cli.json("log", "verify")["ok"]


def test_a_first_admin_enrolled_by_another_station_meanwhile_leaves_this_ones_enrolment_unsigned_by_itself(
        tmp_path):
    """Two admins of an older store enrol their own keys at once: the one whose index read the
    store as unsigned before the other's enrolment landed must not sign its own as a first admin."""
    from recordkeep import keyring

    from .conftest import Cli

    cli = Cli(older_store(tmp_path))
    own = keys.load_key(keys.key_path("clerk@station1"))
    second = keys.new_key(keys.key_path("admin@station2"))
    with Archive.open(cli.store, actor="admin@station2") as archive:
        assert not archive.index.signed  # station 2 has looked: unsigned
        first = cli("key", "enrol", own.public_b64, "--actor", "clerk@station1", "--role", "admin")
        assert first.exit_code == 0, first.output
        with pytest.raises(errors.KeyNotEnrolled):
            keyring.enrol(archive, second.public_b64, actor="admin@station2", role_names=["admin"])
    report = cli.json("log", "verify")
    assert report["ok"] and report["signed"], report["findings"]
    assert [k["actor"] for k in cli.json("key", "list")["keys"]] == ["clerk@station1"]


def test_a_key_revoked_by_another_admin_while_this_one_waits_for_the_lock_is_not_revoked_twice(
        cli, store, monkeypatch):
    from recordkeep import keyring

    key = enrolled(cli, "leaver@station3", "clerk")
    with Archive.open(store, actor="tester@test") as archive:
        transact = archive.transact

        def after_the_other_admin(build):  # the other admin's revocation lands while this one waits
            assert cli("key", "revoke", key.id, "--reason", "left", actor="tester@test").exit_code == 0
            return transact(build)

        monkeypatch.setattr(archive, "transact", after_the_other_admin)
        with pytest.raises(errors.InvalidValue, match="revoked already"):
            keyring.revoke(archive, key.id, reason="left too")
    assert [e["type"] for e in lines(store)].count("key.revoked") == 1


# -- checkable without recordkeep ------------------------------------------------------------
def test_the_documented_signature_script_passes_and_then_fails_on_a_changed_byte(cli, tmp_path):
    import re
    import subprocess
    import sys

    text = (REPO / "docs" / "auditing.md").read_text(encoding="utf-8")
    script = next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)
                  if "recordkeep-batch/v1" in b)
    assert len(script.strip().splitlines()) <= 30  # short enough to read before running it
    path = tmp_path / "check_signatures.py"
    path.write_text(script, encoding="utf-8")
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    journal = cli.store / "journal" / "events.jsonl"
    ok = subprocess.run([sys.executable, str(path), str(journal)], capture_output=True, text=True)
    assert ok.returncode == 0 and "signatures hold" in ok.stdout, ok.stderr
    data = journal.read_bytes()
    at = data.index("李四".encode())
    journal.write_bytes(data[:at] + "王".encode() + data[at + 3:])  # one character of one line changed
    bad = subprocess.run([sys.executable, str(path), str(journal)], capture_output=True, text=True)
    assert bad.returncode != 0
