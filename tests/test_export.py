"""BagIt export: a package of a case or a party that standard tools verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bagit
import pytest

from recordkeep import Archive, export
from recordkeep.store.journal import canonical, event_hash

from .conftest import REPO, blob_path, run_recordkeep
from .mounts import read_only_view, small_disk

CASE = "坡城管罚〔2021〕12号"


@pytest.fixture
def dossier(cli, imported, tmp_path):
    cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X")
    cli("party", "add", "--name", "湛江某某建材有限公司", "--credit-code", "91512081MA62K0260E")
    cli("case", "open", CASE, "--party", "P1", "--title", "违法建设", "--at", "2021-03-01")
    cli("case", "link", CASE, "--officer", "440301123456", "--from", "2021-03-15 08:00",
        "--to", "2021-03-15 09:10", "--stage", "investigate")
    scan = tmp_path / "送达\n回证<1>.pdf"
    scan.write_bytes(b"%PDF-1.4 proof of service")
    added = cli("add", str(scan), "--case", CASE, "--stage", "送达执行", "--doc-type", "送达回证")
    assert added.exit_code == 0
    loose = tmp_path / "loose.jpg"
    loose.write_bytes(b"photo outside any case")
    cli("add", str(loose), "--party", "P1")


def test_a_case_bag_is_valid_for_bagit_python_and_arranged_by_stage(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    data = cli.json("export", "--case", "坡城管罚[2021]12号", str(dest))
    assert data["records"] == 4 and data["files"] == 4
    bag = bagit.Bag(str(dest))
    bag.validate()
    assert bag.info["Payload-Oxum"] == f"{data['bytes']}.{data['files']}"
    assert bag.info["External-Identifier"] == CASE
    folders = sorted(p.parent.name for p in (dest / "data").rglob("*") if p.is_file())
    assert folders == ["2-调查取证-investigate"] * 3 + ["4-送达执行-serve"]


def test_file_names_in_the_bag_are_safe_and_originals_are_kept_in_the_summary(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    names = [p.name for p in (dest / "data").rglob("*") if p.is_file()]
    assert all("\n" not in n and "<" not in n for n in names)
    summary = json.loads((dest / "recordkeep" / "summary.json").read_text(encoding="utf-8"))
    originals = [n for f in summary["files"] for n in f["original_names"]]
    assert any(n.endswith("送达\n回证<1>.pdf") for n in originals)


def test_b3sum_check_passes_inside_the_bag(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    result = subprocess.run(["b3sum", "--check", "manifest-blake3.txt"], cwd=dest, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    line = (dest / "manifest-blake3.txt").read_text(encoding="utf-8").splitlines()[0]
    assert len(line.split("  ", 1)[0]) == 64 and line.split("  ", 1)[1].startswith("data/")


def test_a_party_bag_is_its_one_household_folder(cli, dossier, tmp_path):
    dest = tmp_path / "party"
    data = cli.json("export", "--party", "张三", str(dest))
    bagit.Bag(str(dest)).validate()
    top = sorted(p.name for p in (dest / "data").iterdir())
    assert top == ["0-未关联案件-no-case", "坡城管罚〔2021〕12号"]
    assert data["records"] == 5
    summary = json.loads((dest / "recordkeep" / "summary.json").read_text(encoding="utf-8"))
    assert summary["dossier"]["party"]["id_number"] == "110105********002X"


def test_the_bag_carries_the_journal_lines_of_its_records_verbatim(cli, dossier, tmp_path, store):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    store_lines = set((store / "journal" / "events.jsonl").read_bytes().splitlines())
    bag_lines = (dest / "recordkeep" / "journal.jsonl").read_bytes().splitlines()
    assert bag_lines and all(line in store_lines for line in bag_lines)
    types = {json.loads(x)["type"] for x in bag_lines}
    assert {"record.imported", "record.linked", "case.opened"} <= types


def test_exports_are_journaled_and_show_in_each_records_custody(cli, dossier, tmp_path, store):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest), actor="auditor@office")
    last = json.loads((store / "journal" / "events.jsonl").read_text().splitlines()[-2])  # before its seal
    assert last["type"] == "export.created" and last["actor"] == "auditor@office"
    digest = last["data"]["digests"][0].split(":")[1]
    custody = cli.json("log", "--record", digest)["events"]
    assert custody[-1]["type"] == "export.created"


def test_an_existing_non_empty_destination_is_refused(cli, dossier, tmp_path):
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "something").write_text("keep me")
    result = cli("export", "--case", CASE, str(dest))
    assert result.exit_code == 1 and result.stderr.startswith("RK460")
    assert (dest / "something").read_text() == "keep me"


@pytest.mark.slow  # a real tmpfs mount
def test_a_full_disk_mid_export_leaves_no_bag_that_looks_complete(cli, dossier, tmp_path):
    with small_disk(tmp_path / "small", "96k") as mnt:
        result = cli("export", "--case", CASE, str(mnt / "bag"))
        assert result.exit_code == 1 and result.stderr.startswith("RK105"), result.output
        assert os.listdir(mnt) == []


def test_a_damaged_blob_stops_the_export_with_an_integrity_error(cli, dossier, tmp_path, store):
    digest = cli.json("case", "show", CASE)["stages"][1]["items"][0]["digest"]
    blob = blob_path(store, digest)
    os.chmod(blob, 0o644)
    blob.write_bytes(b"tampered")
    result = cli("export", "--case", CASE, str(tmp_path / "bag"))
    assert result.exit_code == 3 and "RK200" in result.stderr
    assert not (tmp_path / "bag").exists()


def test_a_flipped_bit_in_the_bag_is_caught_by_bagit(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    victim = next(p for p in (dest / "data").rglob("*") if p.is_file())
    data = bytearray(victim.read_bytes())
    data[0] ^= 1
    victim.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(dest)).validate()


@pytest.mark.slow  # a real read-only bind mount
def test_export_to_elsewhere_works_from_a_read_only_store(cli, dossier, tmp_path, store):
    with read_only_view(store, tmp_path / "ro") as view:
        with Archive.open(view) as archive:
            result = export.export_bag(archive, tmp_path / "bag", case=CASE)
        assert result.journal_error and "read-only" in result.journal_error
        bagit.Bag(str(tmp_path / "bag")).validate()
    by_itself = run_recordkeep("log", "verify", "--bag", str(tmp_path / "bag"), store=tmp_path / "no store")
    assert by_itself.returncode == 0, by_itself.stdout + by_itself.stderr
    found = cli.json("log", "verify", "--bag", str(tmp_path / "bag"))  # not journaled: not shown whole
    assert found["ok"] is False and found["complete"] is False
    assert [p["code"] for p in found["problems"]] == ["RK266"], found["problems"]



def test_log_verify_bag_checks_the_bags_journal_lines_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    good = cli.json("log", "verify", "--bag", str(dest))
    assert good["ok"] is True and good["lines"] > 0 and good["head_found"] is True
    assert good["complete"] is True and [e["scope"] for e in good["exports"]] == [{"case": CASE}]
    journal = dest / "recordkeep" / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    event = json.loads(lines[0])
    event["actor"] = "forger@elsewhere"
    event["hash"] = event_hash(event)
    lines[0] = canonical(event) + b"\n"
    journal.write_bytes(b"".join(lines))
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3 and "differs from the store" in result.stdout


def remanifest_tags_only(bag) -> None:
    """The tag manifest made again to match the tag files (the payload's manifests as they are)."""
    import hashlib

    tags = [p for p in bag.rglob("*") if p.is_file() and p.relative_to(bag).parts[0] != "data"
            and p.name != "tagmanifest-sha256.txt"]
    (bag / "tagmanifest-sha256.txt").write_text(
        "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(bag).as_posix()}\n"
                for p in sorted(tags)), encoding="utf-8")


def remanifest(bag) -> None:
    """An insider's script: make both manifests, Payload-Oxum and the tag manifest match the
    payload again, so bagit.py and b3sum --check pass."""
    import hashlib
    import re

    from blake3 import blake3

    payload = sorted(p for p in (bag / "data").rglob("*") if p.is_file())
    for name, algorithm in (("manifest-sha256.txt", hashlib.sha256), ("manifest-blake3.txt", blake3)):
        lines = [f"{algorithm(p.read_bytes()).hexdigest()}  {p.relative_to(bag).as_posix()}\n"
                 for p in payload]
        (bag / name).write_text("".join(lines), encoding="utf-8")
    info = bag / "bag-info.txt"
    oxum = f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"
    info.write_text(re.sub(r"Payload-Oxum: .*", f"Payload-Oxum: {oxum}", info.read_text(encoding="utf-8")),
                    encoding="utf-8")
    remanifest_tags_only(bag)


@pytest.mark.parametrize("tamper", ["swapped", "removed"])
def test_a_payload_file_swapped_or_removed_with_the_manifests_made_again_is_found_by_log_verify_bag(
        cli, dossier, tmp_path, tamper):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    victim = max((p for p in (dest / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    if tamper == "swapped":
        victim.write_bytes(b"other footage, same name")
    else:
        victim.unlink()
    remanifest(dest)
    bagit.Bag(str(dest)).validate()  # the standard tool is satisfied
    said = "swapped in" if tamper == "swapped" else "removed"
    with_store = cli("log", "verify", "--bag", str(dest))
    assert with_store.exit_code == 3 and said in with_store.stdout, with_store.output
    alone = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert alone.returncode == 3 and said in alone.stdout, alone.stdout + alone.stderr


def test_a_record_another_process_adds_to_the_case_while_it_is_exported_leaves_no_line_in_the_bag(
        cli, dossier, tmp_path, store, monkeypatch):
    from blake3 import blake3

    from recordkeep.export import bagit as bagit_module

    later = tmp_path / "later.pdf"
    later.write_bytes(b"%PDF-1.4 a proof of service scanned while the case was exported")
    copy, added = bagit_module._copy_blob, []

    def another_clerk_adds_meanwhile(archive, digest, target):  # a real second process, at this moment
        if not added:
            added.append(run_recordkeep("add", str(later), "--case", CASE, "--stage", "送达执行",
                                        "--doc-type", "送达回证", store=store))
        return copy(archive, digest, target)

    monkeypatch.setattr(bagit_module, "_copy_blob", another_clerk_adds_meanwhile)
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    assert added and added[0].returncode == 0, added and added[0].stderr
    late = blake3(later.read_bytes()).hexdigest()
    carried = (dest / "recordkeep" / "journal.jsonl").read_text()
    assert late not in carried, "no line of a record the bag does not hold"
    alone = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert alone.returncode == 0, alone.stdout + alone.stderr
    with_store = cli.json("log", "verify", "--bag", str(dest))
    assert with_store["ok"] is True and with_store["complete"] is True, with_store["problems"]


def change_links_by_hand(store, sql: str, *params) -> None:
    """An insider's edit of index.sqlite's links, the journal untouched."""
    import sqlite3

    with sqlite3.connect(store / "index.sqlite") as conn:
        assert conn.execute(sql, params).rowcount >= 1


@pytest.mark.parametrize("scope", [("--case", CASE), ("--party", "P1")])
def test_a_bag_exported_from_an_index_with_a_link_deleted_by_hand_fails_against_the_store(
        cli, dossier, tmp_path, store, scope):
    honest = tmp_path / "honest"
    assert cli("export", *scope, str(honest)).exit_code == 0
    found = cli.json("log", "verify", "--bag", str(honest))
    assert found["ok"] is True and found["complete"] is True, found["problems"]
    hidden = json.loads((honest / "recordkeep" / "summary.json").read_text())["files"][0]["digest"]
    change_links_by_hand(store, "DELETE FROM links WHERE digest = ?", hidden)
    short = tmp_path / "short"
    assert cli("export", *scope, str(short)).exit_code == 0
    assert bagit.Bag(str(short)).is_valid(), "the bag agrees with itself: only the journal can tell"
    result = cli("log", "verify", "--bag", str(short))
    assert result.exit_code == 3, result.output
    assert f"RK265 record {hidden[:12]} is not in the bag, but the journal linked it to" in result.stdout
    assert cli.json("log", "verify", "--bag", str(short))["complete"] is False


def test_a_bag_given_a_record_of_another_case_by_an_index_changed_by_hand_fails_against_the_store(
        cli, dossier, tmp_path, store):
    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.4 another household's decision")
    assert cli("add", str(other), "--doc-type", "行政处罚决定书").exit_code == 0
    from blake3 import blake3

    leaked = blake3(other.read_bytes()).hexdigest()
    change_links_by_hand(store, "INSERT INTO links (digest, case_no, stage, party, seq) "
                         "VALUES (?, ?, ?, '', 1)", leaked, CASE, "decide")
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert f"RK265 record {leaked[:12]} is in the bag, but the journal did not link it to" in result.stdout


def test_a_bag_checks_whole_against_the_export_that_planned_it_after_more_is_linked_to_its_case(
        cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    later = tmp_path / "later.pdf"
    later.write_bytes(b"%PDF-1.4 a scan added after the export")
    added = cli("add", str(later), "--case", CASE, "--stage", "送达执行", "--doc-type", "送达回证")
    assert added.exit_code == 0
    found = cli("log", "verify", "--bag", str(dest))
    assert found.exit_code == 0, found.output
    assert "every record the journal linked to it there" in found.stdout
    assert cli.json("log", "verify", "--bag", str(dest))["complete"] is True


def test_a_bag_whose_payload_was_changed_after_its_export_fails_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    victim = max((p for p in (dest / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    victim.unlink()
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3 and "RK266 no export of case" in result.stdout, result.output
    assert cli.json("log", "verify", "--bag", str(dest))["complete"] is False


def test_a_bag_relabelled_as_another_case_fails_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    other = "坡城管罚〔2021〕13号"
    for name in ("bag-info.txt", "recordkeep/summary.json", "recordkeep/summary.txt"):
        path = dest / name
        path.write_text(path.read_text(encoding="utf-8").replace(CASE, other), encoding="utf-8")
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert f"RK266 no export of case {other} in this store's journal made this payload" in result.stdout


@pytest.mark.parametrize("labels", [("bag-info.txt",), ("bag-info.txt", "recordkeep/summary.json")])
def test_a_bag_relabelled_as_another_case_is_found_by_the_bag_alone(cli, dossier, tmp_path, labels):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    other = "坡城管罚〔2021〕13号"
    for name in labels:
        path = dest / name
        path.write_text(path.read_text(encoding="utf-8").replace(CASE, other), encoding="utf-8")
    remanifest(dest)
    bagit.Bag(str(dest)).validate()
    alone = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    said = ("is not the case or party" if len(labels) == 1
            else f"of case {other}, but its journal lines carry no opening")
    assert alone.returncode == 3 and said in alone.stdout, alone.stdout + alone.stderr


def test_a_linked_record_removed_with_its_import_line_and_proof_is_found_by_the_bag_alone(
        cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    victim = max((p for p in (dest / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    digest = next(line.split()[0] for line in (dest / "manifest-blake3.txt").read_text().splitlines()
                  if line.endswith(victim.relative_to(dest).as_posix()))
    victim.unlink()
    journal, proofs = dest / "recordkeep" / "journal.jsonl", dest / "recordkeep" / "proofs.jsonl"
    gone = [line for line in journal.read_text(encoding="utf-8").splitlines()
            if json.loads(line)["type"] == "record.imported" and digest in line]
    assert len(gone) == 1
    kept = [line for line in journal.read_text(encoding="utf-8").splitlines() if line not in gone]
    journal.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    proofs.write_text("".join(line + "\n" for line in proofs.read_text(encoding="utf-8").splitlines()
                              if json.loads(line)["line"] not in gone), encoding="utf-8")
    info = dest / "bag-info.txt"
    text = info.read_text(encoding="utf-8")
    for key in ("Recordkeep-Records", "Recordkeep-Journal-Events"):
        n = int(text.split(key + ": ")[1].split()[0])
        text = text.replace(f"{key}: {n}\n", f"{key}: {n - 1}\n")
    info.write_text(text, encoding="utf-8")
    remanifest(dest)
    bagit.Bag(str(dest)).validate()
    alone = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert alone.returncode == 3, alone.stdout + alone.stderr
    assert f"record {digest[:12]} is linked to {CASE} in the bag's journal lines but not in its payload" in \
        alone.stdout


def retell(bag, change) -> None:
    """An insider's edit of the bag's recordkeep/summary.json (``change`` given its files, and
    returning what replaces them, or None), the tag manifest made again to match."""
    path = bag / "recordkeep" / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    replaced = change(summary["files"])
    if replaced is not None:
        summary["files"] = replaced
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    remanifest(bag)


def test_a_record_moved_to_another_stage_folder_after_export_fails_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    served = next(f for f in json.loads((dest / "recordkeep" / "summary.json").read_text())["files"]
                  if f["stage"] == "serve")
    moved = served["path"].replace("4-送达执行-serve", "2-调查取证-investigate")
    (dest / moved).parent.mkdir(exist_ok=True)
    (dest / served["path"]).rename(dest / moved)

    def as_if_investigated(files):
        entry = next(f for f in files if f["path"] == served["path"])
        entry["path"], entry["stage"] = moved, "investigate"

    retell(dest, as_if_investigated)
    assert bagit.Bag(str(dest)).is_valid(), "the bag agrees with itself: only the journal can tell"
    assert run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store").returncode == 0
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert f"RK268 summary.json does not list {served['path']}, where the journal put record " \
           f"{served['digest'][:12]}" in result.stdout
    assert f"RK268 {moved} holds record {served['digest'][:12]}, where the journal put no record" \
        in result.stdout
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is False and found["complete"] is True, "every record is there, not where it was"


def test_a_record_given_another_doc_type_in_the_bags_summary_fails_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    served = {}

    def as_a_decision(files):
        served.update(next(f for f in files if f["doc_type"] == "送达回证"))
        next(f for f in files if f["path"] == served["path"])["doc_type"] = "行政处罚决定书"

    retell(dest, as_a_decision)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    wrong = '"行政处罚决定书"; the journal, "送达回证"'
    assert f'RK268 summary.json gives {served["path"]} the doc_type {wrong}' in result.stdout


def test_a_payload_file_moved_behind_an_unchanged_summary_fails_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    first = json.loads((dest / "recordkeep" / "summary.json").read_text())["files"][0]
    elsewhere = first["path"].rsplit("/", 1)[0] + "/renamed.bin"
    (dest / first["path"]).rename(dest / elsewhere)
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert f"RK268 {first['path']} is not in the payload, where the journal put record" in result.stdout


@pytest.mark.parametrize("files", ["not a list", [["a", "list"]], [{"path": ["a", "list"]}]])
def test_a_summary_whose_files_are_not_entries_fails_with_a_reason_not_a_traceback(
        cli, dossier, tmp_path, files):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    retell(dest, lambda listed: files)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3 and "RK268" in result.stdout, result.output
    assert "Traceback" not in result.output


def test_a_bag_exported_in_chinese_stands_as_exported_when_checked_in_english(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    assert cli("--lang", "zh", "export", "--case", CASE, str(dest)).exit_code == 0
    assert "原文件名" in (dest / "recordkeep" / "summary.txt").read_text(encoding="utf-8")
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True and found["notices"] == [], found


def retold(bag) -> None:
    """An insider's edit of the bag's summary.txt (a record's original name), manifests remade."""
    import re

    told = bag / "recordkeep" / "summary.txt"
    text = told.read_text(encoding="utf-8")
    told.write_text(re.sub(r"original: .*", "original: 张三询问笔录.pdf", text, count=1), encoding="utf-8")
    assert text != told.read_text(encoding="utf-8")
    remanifest(bag)


def as_the_release_before(monkeypatch, *, dropped: tuple[str, ...]) -> None:
    """Exports journal as the release before did: without the ``dropped`` keys of export.created."""
    from recordkeep import Archive as ArchiveClass

    commit = ArchiveClass.commit

    def journaled_without(self, drafts, *args, **kwargs):
        for draft in drafts:
            if draft.type == "export.created":
                for key in dropped:
                    draft.data.pop(key)
        return commit(self, drafts, *args, **kwargs)

    monkeypatch.setattr(ArchiveClass, "commit", journaled_without)


def test_a_summary_txt_edited_after_export_fails_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    retold(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert "RK268 recordkeep/summary.txt is not the file the export journaled" in result.stdout


def test_a_summary_txt_edited_in_a_bag_of_the_release_before_is_a_notice_naming_summary_json_as_the_record(
        cli, dossier, tmp_path, monkeypatch):
    as_the_release_before(monkeypatch, dropped=("summary", "summary_text"))
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    monkeypatch.undo()
    assert cli.json("log", "verify", "--bag", str(dest))["notices"] == [], "honest, it stands"
    retold(dest)
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found
    [notice] = [n for n in found["notices"] if n["code"] == "RK268"]
    assert "summary.txt is not what this recordkeep writes" in notice["message"]


@pytest.mark.parametrize("edit", ["a key twice", "a key of its own"])
def test_a_summary_json_that_says_more_than_recordkeep_writes_fails_by_itself(cli, dossier, tmp_path, edit):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    path = dest / "recordkeep" / "summary.json"
    text = path.read_text(encoding="utf-8")
    if edit == "a key twice":  # a reader from the top sees the first; a JSON parser keeps the last
        real = '"doc_type": "送达回证"'
        text = text.replace(real, f'"doc_type": "行政处罚决定书", {real}', 1)
        said = "RK228 recordkeep/summary.json names doc_type twice in one object"
    else:
        text = text.replace('{\n  "scope"', '{\n  "remark": "已核对无误",\n  "scope"', 1)
        said = "RK228 recordkeep/summary.json holds remark, which recordkeep does not write there"
    path.write_text(text, encoding="utf-8")
    remanifest(dest)
    for store in (None, "store"):
        result = cli("log", "verify", "--bag", str(dest)) if store else \
            run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
        output = result.output if store else result.stdout
        assert said in output, output


@pytest.mark.parametrize("path", [r"data/\ud800.pdf", r"data/x\r\u001b[2K OK\u001b[8m"])  # JSON escapes
def test_text_from_a_bag_is_shown_escaped_never_raw_on_the_terminal(cli, dossier, tmp_path, path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    summary = dest / "recordkeep" / "summary.json"
    text = summary.read_text(encoding="utf-8")
    text = text.replace('"path": "data/', f'"path": "{path}", "was": "data/', 1)
    summary.write_text(text, encoding="utf-8")
    remanifest(dest)
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=cli.store, text=False)
    assert result.returncode == 3 and b"Traceback" not in result.stderr, result.stderr
    assert b"\x1b" not in result.stdout and b"\r" not in result.stdout, result.stdout
    assert b"RK268 summary.json lists data/" in result.stdout


def test_a_bag_arranged_by_another_version_is_a_notice_not_a_failure(cli, dossier, tmp_path, monkeypatch):
    from recordkeep.export import bagit as bagit_module

    arrange = bagit_module.arrange
    monkeypatch.setattr(bagit_module, "ARRANGEMENT", 0)  # as an older or newer recordkeep journals it
    monkeypatch.setattr(bagit_module, "arrange",  # and arranges it: otherwise than this one
                        lambda *args: [{**f, "doc_type": "行政处罚决定书"} for f in arrange(*args)])
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    monkeypatch.undo()
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found
    [notice] = [n for n in found["notices"] if n["code"] == "RK268"]
    assert "arranged by another version of recordkeep than this one (arrangement 0)" in notice["message"]


@pytest.mark.parametrize("edit", ["the dossier view", "summary.txt"])
def test_a_bag_of_another_arrangement_is_still_held_to_the_files_its_export_vouched_for(
        cli, dossier, tmp_path, monkeypatch, edit):
    from recordkeep.export import bagit as bagit_module

    monkeypatch.setattr(bagit_module, "ARRANGEMENT", 0)
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    monkeypatch.undo()
    if edit == "summary.txt":
        retold(dest)
    else:
        path = dest / "recordkeep" / "summary.json"
        summary = json.loads(path.read_text(encoding="utf-8"))
        summary["dossier"]["case"]["title"] = "无违法事实"
        path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    name = "summary.txt" if edit == "summary.txt" else "summary.json"
    assert f"RK268 recordkeep/{name} is not the file the export journaled" in result.stdout


def test_two_cases_of_a_party_whose_numbers_make_one_folder_name_keep_a_folder_each(cli, dossier, tmp_path):
    other, twin = "坡城管罚/2021/14号", "坡城管罚:2021:14号"
    for case, day in ((other, "2021-04-01"), (twin, "2021-04-02")):
        assert cli("case", "open", case, "--party", "P1", "--title", "占道经营", "--at", day).exit_code == 0
    for case, body in ((other, b"%PDF-1.4 one"), (twin, b"%PDF-1.4 two")):
        scan = tmp_path / f"{len(body)}{body[-3:].decode()}.pdf"
        scan.write_bytes(body)
        assert cli("add", str(scan), "--case", case, "--stage", "decide").exit_code == 0
    dest = tmp_path / "bag"
    assert cli("export", "--party", "P1", str(dest)).exit_code == 0
    files = json.loads((dest / "recordkeep" / "summary.json").read_text())["files"]
    folders = {f["case_no"]: f["path"].split("/")[1] for f in files if f["case_no"] in (other, twin)}
    assert len(folders) == 2 and len(set(folders.values())) == 2, folders
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found


def test_a_bag_cut_back_to_an_export_of_the_release_before_is_still_held_to_its_arrangement(
        cli, dossier, tmp_path, monkeypatch):
    as_the_release_before(monkeypatch, dropped=("arrangement", "exported_at", "summary", "summary_text"))
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    monkeypatch.undo()
    assert cli.json("log", "verify", "--bag", str(dest))["ok"] is True, "honest, it stands"
    retell(dest, lambda files: [{**f, "doc_type": "行政处罚决定书"} for f in files])
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3 and "RK268 summary.json gives" in result.stdout, result.output


@pytest.mark.parametrize("name", ["recordkeep/summary.json", "recordkeep/summary.txt", "bag-info.txt"])
@pytest.mark.parametrize("kind", ["fifo", "symlink to /dev/zero"])
def test_a_tag_file_that_is_no_regular_file_fails_the_check_and_never_hangs_it(
        cli, dossier, tmp_path, name, kind):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    (dest / name).unlink()
    if kind == "fifo":
        os.mkfifo(dest / name)
    else:
        (dest / name).symlink_to("/dev/zero")
    for store in (tmp_path / "no store", cli.store):
        result = run_recordkeep("log", "verify", "--bag", str(dest), store=store, timeout=60)
        assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
        said = result.stdout.splitlines()
        assert any(line.startswith("PROBLEM RK228") and name in line for line in said), result.stdout


@pytest.mark.parametrize("edit", ["a label twice", "a field continued", "a label of its own"])
def test_a_bag_info_that_says_what_recordkeep_does_not_write_fails_by_itself(cli, dossier, tmp_path, edit):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    info = dest / "bag-info.txt"
    text = info.read_text(encoding="utf-8")
    exporter = "Recordkeep-Exporter: clerk@station1\n"
    text = {"a label twice": "Recordkeep-Exporter: chief@hq\n" + text,
            "a field continued": text.replace(exporter, exporter + "  on behalf of chief@hq\n"),
            "a label of its own": text + "Recordkeep-Verified: complete, checked by the chief\n"}[edit]
    info.write_text(text, encoding="utf-8")
    remanifest(dest)
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert result.returncode == 3, result.stdout
    said = {"a label twice": "RK228 bag-info.txt names Recordkeep-Exporter twice",
            "a field continued": "RK228 bag-info.txt has a line that is no field of its own:   on behalf",
            "a label of its own": "RK228 bag-info.txt holds Recordkeep-Verified, which recordkeep does not"}
    assert said[edit] in result.stdout, result.stdout


def test_a_tag_file_the_tag_manifest_does_not_list_fails_by_itself(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    (dest / "recordkeep" / "verified-by-chief.txt").write_text("全部核对无误\n", encoding="utf-8")
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert result.returncode == 3, result.stdout
    assert "RK228 recordkeep/verified-by-chief.txt is a tag file tagmanifest-sha256.txt does not list" \
        in result.stdout


def test_party_numbers_added_to_a_bag_exported_without_them_fail_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    made_up = '{"P1": {"name": "张三", "id_number": "110105194912310021"}}'
    (dest / "recordkeep" / "pii.json").write_text(made_up, encoding="utf-8")
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert 'RK268 recordkeep/pii.json holds the numbers of ["P1"]; the export journaled those of null' \
        in result.stdout


def test_a_summary_value_of_another_type_that_compares_equal_fails_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    retell(dest, lambda files: [{**f, "disposed": 0, "size": float(f["size"])} for f in files])
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert "the disposed 0; the journal, false" in result.stdout and ".0; the journal," in result.stdout


def test_a_summary_json_that_is_no_object_fails_by_itself(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    (dest / "recordkeep" / "summary.json").write_text('"all in order"\n', encoding="utf-8")
    remanifest(dest)
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert result.returncode == 3 and "RK228 recordkeep/summary.json is not a JSON object" in result.stdout


def test_a_bag_whose_tag_manifest_bagit_python_wrote_again_still_passes(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    tags = dest / "tagmanifest-sha256.txt"  # bagit-python writes "hash path", one space
    tags.write_text(tags.read_text(encoding="utf-8").replace("  ", " "), encoding="utf-8")
    bagit.Bag(str(dest)).validate()
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found


def bag_of_another_store(tmp_path):
    """A bag exported from a second, real store (a party of its own and one record); and that
    store's Cli."""
    from .conftest import Cli, new_store

    other = Cli(new_store(tmp_path / "other"))
    assert other("party", "add", "--name", "李四", "--id-number", "11010519491231002X").exit_code == 0
    scan = tmp_path / "elsewhere.pdf"
    scan.write_bytes(b"%PDF-1.4 a record of another bureau")
    assert other("add", str(scan), "--party", "P1").exit_code == 0
    dest = tmp_path / "bag"
    assert other("export", "--party", "P1", str(dest)).exit_code == 0
    return dest, other


def test_strict_fails_a_bag_on_its_notices_too(cli, dossier, tmp_path):
    dest, _store = bag_of_another_store(tmp_path)
    assert cli("log", "verify", "--bag", str(dest)).exit_code == 0, "another store's bag: a notice"
    strict = cli("log", "verify", "--bag", str(dest), "--strict")
    assert strict.exit_code == 3 and "notice RK112" in strict.stdout and "BROKEN" in strict.stdout
    assert cli.json("log", "verify", "--bag", str(dest), "--strict")["ok"] is False
    own = tmp_path / "own"
    cli("export", "--case", CASE, str(own))
    found = cli.json("log", "verify", "--bag", str(own), "--strict")
    assert found["ok"] is True and found["notices"] == [], "an honest bag of this store has nothing to fail"


def verify_as_nobody(bag, tmp_path, lock: str | None = None):
    """``log verify --bag`` run by a user who owns none of the bag (uid 65534), on a copy of
    ``bag`` readable by all but ``recordkeep/pii.json`` (0600, as exported) and the folder
    ``lock`` (0000)."""
    import shutil
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="rk-bag-"))
    try:
        os.chmod(where, 0o755)
        shutil.copytree(bag, where / "bag")
        for path in (where / "bag").rglob("*"):
            if path.is_dir():
                os.chmod(path, 0o755)
        if lock is not None:
            os.chmod(where / "bag" / lock, 0)
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        words = ["--store", str(where / "none"), "log", "verify", "--bag", str(where / "bag")]
        return subprocess.run([*as_nobody, sys.executable, str(REPO / "cli.py"), *words],
                              capture_output=True, text=True, env={**os.environ, "HOME": "/"})
    finally:
        shutil.rmtree(where)


def test_a_checker_who_may_not_read_pii_json_is_told_so_not_given_a_traceback(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest), "--with-pii", actor="auditor@office").exit_code == 0
    result = verify_as_nobody(dest, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "Permission denied while reading the bag" in result.stderr, result.stderr
    assert "recordkeep/pii.json" in result.stderr


@pytest.mark.parametrize("lock", ["data", "recordkeep", "recordkeep/checkpoint"])
def test_a_folder_of_the_bag_the_checker_may_not_read_gives_no_verdict(cli, dossier, tmp_path, lock):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    result = verify_as_nobody(dest, tmp_path, lock)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert "Permission denied while reading the bag" in result.stderr and "BROKEN" not in result.stdout


@pytest.mark.parametrize("kind", ["a folder", "a fifo", "a symlink to /dev/zero"])
def test_a_checkpoint_that_is_no_regular_file_fails_and_never_hangs(cli, dossier, tmp_path, kind):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    [checkpoint] = (dest / "recordkeep" / "checkpoint").glob("*.checkpoint")
    checkpoint.unlink()
    {"a folder": checkpoint.mkdir, "a fifo": lambda: os.mkfifo(checkpoint),
     "a symlink to /dev/zero": lambda: checkpoint.symlink_to("/dev/zero")}[kind]()
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=cli.store, timeout=60)
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    unread = f"RK228 recordkeep/checkpoint/{checkpoint.name} cannot be read as a file of the bag"
    assert unread in result.stdout or "holds 0 checkpoints" in result.stdout, result.stdout


def test_what_a_mac_leaves_beside_a_checkpoint_is_not_a_second_checkpoint(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    [checkpoint] = (dest / "recordkeep" / "checkpoint").glob("*.checkpoint")
    (checkpoint.parent / f"._{checkpoint.name}").write_bytes(b"\x00\x05\x16\x07 resource fork")
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found
    assert any("a file manager left it" in n["message"] for n in found["notices"])


def test_party_numbers_changed_in_pii_json_fail_against_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest), "--with-pii", actor="auditor@office").exit_code == 0
    pii = dest / "recordkeep" / "pii.json"
    pii.write_text(pii.read_text(encoding="utf-8").replace("张三", "李四"), encoding="utf-8")
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert "RK268 recordkeep/pii.json is not the file the export journaled" in result.stdout


def test_a_fine_changed_in_the_dossier_view_of_summary_json_fails_against_the_store(cli, dossier, tmp_path):
    decided = cli("case", "decide", CASE, "--party", "P1", "--penalty-kind", "fine", "--amount", "20000",
                  "--at", "2021-03-20")
    assert decided.exit_code == 0, decided.output
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    assert cli.json("log", "verify", "--bag", str(dest))["ok"] is True
    summary = dest / "recordkeep" / "summary.json"
    data = json.loads(summary.read_text(encoding="utf-8"))
    [decision] = data["dossier"]["decisions"]
    assert decision["amount"] == "20000.00"
    decision["amount"] = "200.00"  # the files' entries untouched: only the view lies
    summary.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert "RK268 recordkeep/summary.json is not the file the export journaled" in result.stdout


@pytest.mark.parametrize(("field", "changed", "said"), [
    ("Recordkeep-Exporter", "chief@hq",
     'RK268 bag-info.txt gives Recordkeep-Exporter "chief@hq"; the export journaled "clerk@station1"'),
    ("Bag-Software-Agent", "recordkeep 0.1.0 VERIFIED COMPLETE BY THE COURT",
     'RK268 bag-info.txt gives Bag-Software-Agent "recordkeep 0.1.0 VERIFIED COMPLETE BY THE COURT"'),
])
def test_a_bag_whose_bag_info_says_otherwise_than_its_export_fails_against_the_store(
        cli, dossier, tmp_path, field, changed, said):
    import re

    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    info = dest / "bag-info.txt"
    info.write_text(re.sub(rf"{field}: .*", f"{field}: {changed}", info.read_text(encoding="utf-8")),
                    encoding="utf-8")
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert said in result.stdout, result.stdout


def test_a_manifest_that_lists_a_file_twice_fails_by_itself(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    tags = dest / "tagmanifest-sha256.txt"
    line = next(x for x in tags.read_text(encoding="utf-8").splitlines(keepends=True) if "bag-info.txt" in x)
    tags.write_text("0" * 64 + "  bag-info.txt\n" + tags.read_text(encoding="utf-8"), encoding="utf-8")
    assert line in tags.read_text(encoding="utf-8")
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert result.returncode == 3, result.stdout
    assert "RK228 tagmanifest-sha256.txt: bag-info.txt listed more than once" in result.stdout


def test_a_manifest_with_tabs_reads_names_that_hold_two_spaces(cli, dossier, tmp_path):
    scan = tmp_path / "两个  空格.pdf"
    scan.write_bytes(b"%PDF-1.4 a name with two spaces")
    assert cli("add", str(scan), "--case", CASE, "--stage", "decide").exit_code == 0
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    for name in ("manifest-sha256.txt", "manifest-blake3.txt"):
        path = dest / name
        path.write_text(path.read_text(encoding="utf-8").replace("  data/", "\tdata/"), encoding="utf-8")
    remanifest_tags_only(dest)
    bagit.Bag(str(dest)).validate()
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found


def test_a_tag_manifest_naming_a_file_outside_the_bag_or_a_huge_one_fails_fast(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    huge = dest / "recordkeep" / "huge.bin"
    with open(huge, "wb") as f:
        f.truncate(1 << 40)  # a sparse TiB
    (tmp_path / "outside.txt").write_text("elsewhere", encoding="utf-8")
    tags = dest / "tagmanifest-sha256.txt"
    tags.write_text(tags.read_text(encoding="utf-8") + "0" * 64 + "  ../outside.txt\n" + "0" * 64
                    + "  recordkeep/huge.bin\n", encoding="utf-8")
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store", timeout=60)
    assert result.returncode == 3, result.stdout
    assert "RK228 tagmanifest-sha256.txt: ../outside.txt is outside the bag" in result.stdout
    assert "RK228 recordkeep/huge.bin cannot be read as a file of the bag: larger than a tag file can be" \
        in result.stdout


def test_what_a_file_manager_leaves_in_a_bag_is_a_notice_and_a_fifo_there_a_failure(
        cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    (dest / ".DS_Store").write_bytes(b"Bud1")
    (dest / "recordkeep" / "Thumbs.db").write_bytes(b"thumbs")
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found
    assert sum("a file manager left it" in n["message"] for n in found["notices"]) == 2
    os.mkfifo(dest / "recordkeep" / "pipe")
    os.mkfifo(dest / "data" / "pipe")
    (dest / "data" / "gone").symlink_to(tmp_path / "nothing here")
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=cli.store, timeout=60)
    assert result.returncode == 3, result.stdout
    assert "RK228 recordkeep/pipe is a tag file tagmanifest-sha256.txt does not list" in result.stdout
    assert "RK228 data/pipe cannot be read as a file of the bag" in result.stdout
    assert "RK228 data/gone cannot be read as a file of the bag" in result.stdout


def test_a_bag_stays_as_exported_after_its_records_are_amended_in_the_store(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    served = next(f for f in json.loads((dest / "recordkeep" / "summary.json").read_text())["files"]
                  if f["doc_type"] == "送达回证")
    amended = cli("record", "set", served["digest"][:12], "--doc-type", "现场检查笔录",
                  "--reason", "扫描时选错")
    assert amended.exit_code == 0, amended.output
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found["problems"]


def test_a_bag_of_another_store_is_checked_by_itself_and_not_called_whole(cli, dossier, tmp_path):
    dest, other = bag_of_another_store(tmp_path)
    assert other.json("log", "verify", "--bag", str(dest))["complete"] is True
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["store_compared"] is False and found["complete"] is None, found
    assert "RK112" in [n["code"] for n in found["notices"]]


@pytest.mark.parametrize("checkpoint", ["kept", "dropped"])
def test_a_bag_relabelled_as_another_stores_is_still_checked_against_the_store_whose_lines_it_holds(
        cli, dossier, tmp_path, checkpoint):
    import re
    import shutil

    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    strip_record(dest, json.loads((dest / "recordkeep" / "summary.json").read_text())["files"][0]["digest"])
    info = dest / "bag-info.txt"
    info.write_text(re.sub(r"Recordkeep-Store-Id: .*", "Recordkeep-Store-Id: elsewhere",
                           info.read_text(encoding="utf-8")), encoding="utf-8")
    if checkpoint == "dropped":  # its signature names the store: kept, the bag fails by itself
        shutil.rmtree(dest / "recordkeep" / "checkpoint")
        (dest / "recordkeep" / "proofs.jsonl").unlink()
        (dest / "recordkeep" / "verifier-key.txt").unlink()
        unproved = re.sub(r"Recordkeep-(Checkpoint|Not-Covered).*\n", "", info.read_text(encoding="utf-8"))
        info.write_text(unproved, encoding="utf-8")
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert "RK269 bag-info.txt names store elsewhere, but the bag's journal lines (seq" in result.stdout
    assert "RK266 no export of case" in result.stdout
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["store_compared"] is True and found["complete"] is False, found


def test_another_export_journaled_of_the_same_payload_with_a_wrong_plan_leaves_an_honest_bag_whole(
        cli, dossier, tmp_path, store):
    from recordkeep.store.journal import Draft

    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    honest = cli.json("log", "verify", "--bag", str(dest))
    assert honest["complete"] is True
    [made] = honest["exports"]
    with Archive.open(store) as archive:  # the library, with an enrolled key
        events = archive.events_at([made["seq"]])[0]
        archive.commit([Draft("export.created", {**events[0].data, "through": 2}),
                        Draft("export.created", {**events[0].data, "through": True})])
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found["problems"]
    assert [e["complete"] for e in found["exports"]] == [True, False]


@pytest.mark.parametrize("meanwhile", ["link", "unlink"])
def test_a_link_or_unlink_by_another_process_while_the_export_plans_leaves_the_bag_whole(
        cli, dossier, tmp_path, store, monkeypatch, meanwhile):
    from recordkeep.export import bagit as bagit_module

    files = cli.json("search", "--json", "--limit", "1000")["records"]
    outside = next(r["digest"] for r in files if not r["cases"])
    inside = next(r["digest"] for r in files if CASE in r["cases"])
    plan, done = bagit_module.plan, []

    def another_clerk_meanwhile(*args, **kwargs):  # a real second process, after the plan's head
        words = (["case", "link", CASE, outside, "--stage", "investigate"] if meanwhile == "link"
                 else ["case", "unlink", CASE, inside])
        done.append(run_recordkeep(*words, store=store))
        return plan(*args, **kwargs)

    monkeypatch.setattr(bagit_module, "plan", another_clerk_meanwhile)
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    assert done[0].returncode == 0, done[0].stderr
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found["problems"]
    codes = [n["code"] for n in found["notices"]]
    assert ("RK267" in codes) == (meanwhile == "link"), found["notices"]  # linked while exported: said


@pytest.mark.slow  # a real tmpfs mount
def test_no_room_to_fold_the_journal_leaves_the_bag_unchecked_for_completeness_and_says_why(
        cli, dossier, tmp_path, store):
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    with small_disk(tmp_path / "tmp", "16k") as full:
        found = run_recordkeep("log", "verify", "--bag", str(dest), "--json", store=store,
                               env={"TMPDIR": str(full)})
    assert found.returncode == 0 and "Traceback" not in found.stderr, found.stderr
    report = json.loads(found.stdout)
    assert report["complete"] is None and report["problems"] == []
    assert any("was not checked: no space left" in n["message"]
               for n in report["notices"]), report["notices"]


@pytest.mark.parametrize("tag", ["manifest-blake3.txt", "tagmanifest-sha256.txt", "bag-info.txt"])
def test_a_tag_file_that_is_not_utf8_fails_the_bag_with_a_reason_not_a_traceback(cli, dossier, tmp_path, tag):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    path = dest / tag
    path.write_bytes(path.read_bytes().replace(b"data/", b"data/\xff", 1) + b"\xfe\n")
    for store in (None, tmp_path / "no store"):
        found = (cli("log", "verify", "--bag", str(dest)) if store is None
                 else run_recordkeep("log", "verify", "--bag", str(dest), store=store))
        code = found.exit_code if store is None else found.returncode
        assert code == 3 and "Traceback" not in (found.stderr or ""), found.stdout


def test_a_name_with_unicode_line_separators_makes_one_manifest_line_and_a_valid_bag(cli, dossier, tmp_path):
    scan = tmp_path / "送达\u2028回证\x85副本\u2029.pdf"  # str.splitlines() ends a line at each
    scan.write_bytes(b"%PDF-1.4 a copy of the proof of service")
    added = cli("add", str(scan), "--case", CASE, "--stage", "送达执行", "--doc-type", "送达回证")
    assert added.exit_code == 0
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    bagit.Bag(str(dest)).validate()
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is True and found["complete"] is True, found["problems"]


def strip_record(bag, digest: str) -> None:
    """An insider's script: a record taken out of a bag with every trace of it (its file, its
    manifest and journal lines, their proofs, its summary entry), the counts and the tag
    manifest made to match."""
    import re

    for name in ("manifest-blake3.txt", "manifest-sha256.txt"):
        kept = []
        for line in (bag / name).read_text(encoding="utf-8").splitlines(keepends=True):
            if f"_{digest[:8]}_" in line:
                (bag / line.partition("  ")[2].strip()).unlink(missing_ok=True)
            else:
                kept.append(line)
        (bag / name).write_text("".join(kept), encoding="utf-8")
    for name in ("recordkeep/journal.jsonl", "recordkeep/proofs.jsonl"):
        path = bag / name
        kept = [x for x in path.read_bytes().splitlines(keepends=True) if digest.encode() not in x]
        path.write_bytes(b"".join(kept))
    summary = bag / "recordkeep" / "summary.json"
    data = json.loads(summary.read_text(encoding="utf-8"))
    data["files"] = [f for f in data["files"] if f["digest"] != digest]
    summary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    lines = len((bag / "recordkeep" / "journal.jsonl").read_bytes().splitlines())
    info = bag / "bag-info.txt"
    info.write_text(re.sub(r"Recordkeep-Journal-Events: .*", f"Recordkeep-Journal-Events: {lines}",
                           info.read_text(encoding="utf-8")), encoding="utf-8")
    remanifest(bag)


def test_a_bag_stripped_of_a_record_and_given_a_later_head_fails_against_the_store(
        cli, dossier, tmp_path, store):
    import re

    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    [made] = cli.json("log", "verify", "--bag", str(dest))["exports"]
    strip_record(dest, json.loads((dest / "recordkeep" / "summary.json").read_text())["files"][0]["digest"])
    with Archive.open(store) as archive:
        later = archive.events_at([made["seq"]])[0][0]  # a head in the store's chain, past the export
    info = dest / "bag-info.txt"
    head = f"Recordkeep-Journal-Head: {later.seq} {later.hash}"
    info.write_text(re.sub(r"Recordkeep-Journal-Head: .*", head, info.read_text(encoding="utf-8")),
                    encoding="utf-8")
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3 and "RK266 no export of case" in result.stdout, result.output


def test_a_newer_bag_cut_back_to_an_older_exports_payload_fails_against_the_store(cli, dossier, tmp_path):
    from blake3 import blake3

    assert cli("export", "--case", CASE, str(tmp_path / "older")).exit_code == 0
    later = tmp_path / "later.pdf"
    later.write_bytes(b"%PDF-1.4 a scan linked after the first export")
    added = cli("add", str(later), "--case", CASE, "--stage", "送达执行", "--doc-type", "送达回证")
    assert added.exit_code == 0
    newer = tmp_path / "newer"
    assert cli("export", "--case", CASE, str(newer)).exit_code == 0
    strip_record(newer, blake3(later.read_bytes()).hexdigest())
    result = cli("log", "verify", "--bag", str(newer))
    assert result.exit_code == 3 and "RK266 no export of case" in result.stdout, result.output


def test_a_bag_whose_bag_info_names_another_case_than_its_summary_fails(cli, dossier, tmp_path):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    info = dest / "bag-info.txt"
    info.write_text(info.read_text(encoding="utf-8").replace(f"External-Identifier: {CASE}",
                                                             "External-Identifier: 坡城管罚〔2021〕13号"),
                    encoding="utf-8")
    remanifest(dest)
    result = cli("log", "verify", "--bag", str(dest))
    assert result.exit_code == 3, result.output
    assert "External-Identifier 坡城管罚〔2021〕13号 is not" in result.stdout


def fail_at_the_export_line(monkeypatch, method: str, fault: BaseException) -> None:
    """``Archive.<method>`` (``commit`` given drafts, ``_fold`` given events) raises ``fault``
    when the export's line is among them, as a fault at that instant would."""
    from recordkeep.archive import Archive as ArchiveClass

    real = getattr(ArchiveClass, method)

    def failing(self, lines):
        if any(line.type == "export.created" for line in lines):
            raise fault
        return real(self, lines)

    monkeypatch.setattr(ArchiveClass, method, failing)


@pytest.mark.parametrize("fmt", ["bagit", "html"])
def test_an_export_the_journal_cannot_record_leaves_no_package_behind(
        cli, dossier, tmp_path, monkeypatch, fmt):
    from recordkeep import errors

    fail_at_the_export_line(monkeypatch, "commit",  # the disk fills at that instant
                            errors.StoreFull("no space left while appending to the journal"))
    dest = tmp_path / "out" / "package"
    dest.parent.mkdir()
    result = cli("export", "--case", CASE, "--format", fmt, str(dest))
    assert result.exit_code != 0 and "RK105" in result.stderr, result.output
    assert "Traceback" not in result.output
    assert list(dest.parent.iterdir()) == [], "no package, and no partial one, that evidence left unrecorded"


def two_scans_whose_digests_begin_alike() -> tuple[bytes, bytes]:
    """Two contents whose BLAKE3 digests share their first 8 hex digits (a birthday pair: ~2^16 tries)."""
    from blake3 import blake3

    seen: dict[str, bytes] = {}
    for n in range(1 << 20):
        content = b"%PDF-1.4 scan " + str(n).encode()
        prefix = blake3(content).hexdigest()[:8]
        if prefix in seen:
            return seen[prefix], content
        seen[prefix] = content
    raise AssertionError("no pair found")


def test_two_records_of_one_name_and_stage_whose_digests_begin_alike_are_both_in_the_bag(
        cli, dossier, tmp_path):
    first, second = two_scans_whose_digests_begin_alike()
    for folder, content in (("a", first), ("b", second)):
        scan = tmp_path / folder / "询问笔录.pdf"  # same name, undated: the same stamp
        scan.parent.mkdir()
        scan.write_bytes(content)
        assert cli("add", str(scan), "--case", CASE, "--stage", "调查取证").exit_code == 0
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    bagit.Bag(str(dest)).validate()
    held = {p.read_bytes() for p in (dest / "data").rglob("*.pdf")}
    assert {first, second} <= held, "neither record is dropped for the other's file name"
    assert cli.json("log", "verify", "--bag", str(dest))["complete"] is True


@pytest.mark.parametrize("line", [{"data": [1]}, {"data": "text"}, {"seq": None}, {"seq": True}])
def test_a_self_hashing_journal_line_of_an_odd_shape_in_a_bag_is_a_problem_not_a_traceback(
        cli, dossier, tmp_path, line):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    journal = dest / "recordkeep" / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    event = {**json.loads(lines[-1]), **line}
    event["seq"] = event["seq"] if "seq" in line else event["seq"] + 1
    if event["seq"] is None:
        del event["seq"]
    event["hash"] = event_hash(event)  # a line hashes only to itself: anyone can write one
    journal.write_bytes(b"".join(lines) + canonical(event) + b"\n")
    for found in (cli("log", "verify", "--bag", str(dest)),
                  run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")):
        code = getattr(found, "exit_code", None) or getattr(found, "returncode", None)
        assert code == 3 and "Traceback" not in (found.stderr or "") + found.stdout, found.stdout


@pytest.mark.parametrize("fmt", ["bagit", "html"])
def test_a_journaled_export_that_cannot_be_put_in_place_keeps_its_package_and_says_where(
        cli, dossier, tmp_path, store, monkeypatch, fmt):
    from recordkeep.export import bagit as bagit_module
    from recordkeep.export import html as html_module

    module = bagit_module if fmt == "bagit" else html_module
    journal_export = module.journal_export
    dest = tmp_path / "usb" / "case12"
    dest.parent.mkdir()

    def another_clerks_export_lands_first(archive, result, *args, **kwargs):  # at that instant
        journal_export(archive, result, *args, **kwargs)
        dest.mkdir()
        (dest / "bagit.txt").write_text("BagIt-Version: 1.0\n")

    monkeypatch.setattr(module, "journal_export", another_clerks_export_lands_first)
    result = cli("export", "--case", CASE, "--format", fmt, str(dest))
    assert result.exit_code != 0 and result.stderr.startswith("RK120"), result.output
    [kept] = [p for p in dest.parent.iterdir() if p.name.startswith("case12.unplaced-seq")]
    seq = int(kept.name.rsplit("seq", 1)[1])
    assert f"journaled (seq {seq})" in result.stderr and str(kept) in result.stderr
    with Archive.open(store) as archive:
        [line] = archive.events_at([seq])[0]
    assert line.type == "export.created" and line.data["dest"] == str(dest)
    if fmt == "bagit":
        bagit.Bag(str(kept)).validate()  # the finished package, whole
    else:
        assert (kept / "index.html").is_file()
    assert [p.name for p in dest.iterdir()] == ["bagit.txt"], "the other clerk's package is untouched"


def test_a_bag_head_naming_one_seq_with_another_lines_hash_is_not_in_the_stores_chain(
        cli, dossier, tmp_path, store):
    import re

    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    info = dest / "bag-info.txt"
    seq = int(re.search(r"Recordkeep-Journal-Head: (\d+) ", info.read_text(encoding="utf-8")).group(1))
    with Archive.open(store) as archive:
        later = archive.events_at([seq + 1])[0][0]
    head = f"Recordkeep-Journal-Head: {seq} {later.hash}"
    info.write_text(re.sub(r"Recordkeep-Journal-Head: .*", head, info.read_text(encoding="utf-8")),
                    encoding="utf-8")
    remanifest(dest)
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["ok"] is False and found["head_found"] is False


@pytest.mark.parametrize("fmt", ["bagit", "html"])
@pytest.mark.parametrize("fault", ["full disk", "Ctrl-C"])
def test_an_export_whose_line_is_journaled_but_not_folded_keeps_its_package_and_says_where(
        cli, dossier, tmp_path, store, monkeypatch, fmt, fault):
    from recordkeep import errors

    fail_at_the_export_line(monkeypatch, "_fold",  # the journal has the line; the index, not
                            KeyboardInterrupt() if fault == "Ctrl-C"
                            else errors.StoreFull("no space left while using the index"))
    dest = tmp_path / "usb" / "case12"
    dest.parent.mkdir()
    result = cli("export", "--case", CASE, "--format", fmt, str(dest))
    assert result.exit_code != 0 and result.stderr.startswith("RK120"), result.output
    [kept] = [p for p in dest.parent.iterdir() if p.name.startswith("case12.unplaced-seq")]
    assert str(kept) in result.stderr
    if fmt == "bagit":
        bagit.Bag(str(kept)).validate()
    else:
        assert (kept / "index.html").is_file()
    monkeypatch.undo()
    with Archive.open(store) as archive:  # the index catches up: the line is there
        [line] = archive.events_at([int(kept.name.rsplit("seq", 1)[1])])[0]
    assert line.type == "export.created" and line.data["dest"] == str(dest)


def test_an_export_put_in_place_whose_folder_cannot_be_synced_fails_but_stays_at_its_destination(
        cli, dossier, tmp_path, monkeypatch):
    import errno

    from recordkeep.export import bagit as bagit_module

    fsync_dir = bagit_module.fsync_dir
    dest = tmp_path / "usb" / "case12"
    dest.parent.mkdir()

    def eio_once_it_is_there(path):  # the USB disk fails that one write
        if path == dest.parent and dest.exists():
            raise OSError(errno.EIO, "Input/output error")
        return fsync_dir(path)

    monkeypatch.setattr(bagit_module, "fsync_dir", eio_once_it_is_there)
    result = cli("export", "--case", CASE, str(dest))
    assert result.exit_code != 0 and "Input/output error" in result.stderr, result.output
    assert "RK120" not in result.stderr, "not said to be elsewhere: it is at DEST"
    assert [p.name for p in dest.parent.iterdir()] == ["case12"]
    bagit.Bag(str(dest)).validate()



def test_a_store_chain_broken_after_the_bags_head_leaves_its_completeness_unchecked_and_says_why(
        cli, dossier, tmp_path, store):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    journal = store / "journal" / "events.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    event = json.loads(lines[-2])  # the export's own line, before its seal
    assert event["type"] == "export.created"
    event["data"]["dest"] = "/elsewhere"  # edited, not chained again
    lines[-2] = canonical(event) + b"\n"
    journal.write_bytes(b"".join(lines))
    found = cli.json("log", "verify", "--bag", str(dest))
    assert found["complete"] is None and found["exports"] == [], found
    assert any("was not checked" in n["message"] for n in found["notices"]), found["notices"]


@pytest.mark.parametrize("fmt", ["bagit", "html"])
@pytest.mark.parametrize("leads_to", ["an empty folder", "nothing"])
def test_an_export_to_a_symbolic_link_is_refused_before_anything_is_journaled(cli, dossier, tmp_path, store,
                                                                             fmt, leads_to):
    """The package could not be put at the link, yet the journal would say it went there."""
    target = tmp_path / "target"
    if leads_to == "an empty folder":
        target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    journal = (store / "journal" / "events.jsonl").read_bytes()
    result = cli("export", "--case", CASE, "--format", fmt, str(link))
    assert result.exit_code == 1 and result.stderr.startswith("RK415"), result.output
    assert "symlink" in result.stderr and str(target) in result.stderr
    assert (store / "journal" / "events.jsonl").read_bytes() == journal
    assert sorted(p.name for p in tmp_path.iterdir() if "unplaced" in p.name or "partial" in p.name) == []


@pytest.mark.parametrize("carried", [b"garbage", b"", b"recordkeep/x+00000000+AAAA\n"])
def test_a_bag_whose_verifier_key_file_is_no_key_fails_with_its_whole_report_not_an_error(
        cli, dossier, tmp_path, carried):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    (dest / "recordkeep" / "verifier-key.txt").write_bytes(carried)
    result = cli("log", "verify", "--bag", str(dest), "--json")
    assert result.exit_code == 3 and "Traceback" not in result.output, result.output
    found = json.loads(result.stdout)
    assert any("verifier-key.txt" in p["message"] for p in found["problems"]), found["problems"]
    assert "RK228" in {p["code"] for p in found["problems"]}  # the tag manifest names the change too


def test_a_verifier_or_founding_key_that_is_no_key_is_a_usage_error(cli, dossier, tmp_path):
    for option in ("--vkey", "--founding-key"):
        result = cli("log", "verify", option, "garbage")
        assert result.exit_code == 2 and "not an Ed25519" in result.output, result.output


@pytest.mark.parametrize("fmt", ["bagit", "html"])
def test_an_export_to_a_read_only_disk_blames_the_disk_not_the_store_and_journals_nothing(
        cli, dossier, tmp_path, store, fmt):
    from .mounts import read_only_view

    usb = tmp_path / "usb"
    usb.mkdir()
    journal = (store / "journal" / "events.jsonl").read_bytes()
    with read_only_view(usb, tmp_path / "usb-ro") as ro:
        result = cli("export", "--case", CASE, "--format", fmt, str(ro / "case12"))
    assert result.exit_code == 1 and result.stderr.startswith("RK415"), result.output
    assert "export destination is on a read-only file system" in result.stderr
    assert "store is read-only" not in result.stderr
    assert (store / "journal" / "events.jsonl").read_bytes() == journal


def test_a_fine_changed_in_the_index_before_the_export_fails_the_bag_by_its_own_journal_lines(
        cli, dossier, tmp_path, store):
    """The export journals the digest of the view it made, so a view made from an edited index
    is vouched for all the same; the decision's own line, carried and proved, says otherwise."""
    import sqlite3

    from tests.test_check import ok

    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "300000", "--at", "2021-09-20"))
    seq = cli.json("case", "stage", CASE, "investigate", "--at", "2021-03-02 10:00",
                   "--note", "现场检查")["seq"]
    honest = tmp_path / "honest"
    ok(cli("export", "--case", CASE, str(honest)))
    assert cli.json("log", "verify", "--bag", str(honest))["ok"]
    with sqlite3.connect(store / "index.sqlite") as conn:
        conn.execute("UPDATE decisions SET amount = '300.00'")
        conn.execute("UPDATE stage_events SET note = '无异常' WHERE seq = ?", (seq,))
    forged = tmp_path / "forged"
    ok(cli("export", "--case", CASE, str(forged)))
    view = json.loads((forged / "recordkeep" / "summary.json").read_text(encoding="utf-8"))["dossier"]
    assert view["decisions"][0]["amount"] == "300.00"  # made from the edited index
    from recordkeep.export.bagcheck import check_bag

    found = cli.json("log", "verify", "--bag", str(forged))
    assert not found["ok"]
    for said in ([p["message"] for p in found["problems"] if p["code"] == "RK275"],
                 [m for code, m in check_bag(forged).problems if code == "RK275"]):  # no store at hand
        assert len(said) == 2, found["problems"]
        assert any("'300.00'" in m and "'300000.00'" in m for m in said)
        assert any("'无异常'" in m and "'现场检查'" in m for m in said)


CASE_13 = "坡城管罚〔2021〕13号"


def test_an_honest_party_bag_passes_though_its_cases_acts_and_other_parties_decisions_are_not_carried(
        cli, dossier, tmp_path):
    from tests.test_check import ok

    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-03-02 10:00", "--note", "现场检查"))
    ok(cli("case", "open", CASE_13, "--party", "P1", "--party", "P2", "--title", "t2", "--at", "2021-03-01"))
    ok(cli("case", "decide", CASE_13, "--party", "P2", "--penalty-kind", "fine", "--amount", "5000",
           "--at", "2021-09-20"))
    fine = cli.json("case", "decide", CASE, "--party", "P1", "--penalty-kind", "fine", "--amount", "100",
                    "--at", "2021-09-20")
    ok(cli("case", "void", CASE, str(fine["seq"]), "--reason", "金额有误"))
    for scope, dest in ((("--party", "P1"), tmp_path / "party"), (("--case", CASE), tmp_path / "case"),
                        (("--case", CASE_13), tmp_path / "case13")):
        ok(cli("export", *scope, str(dest)))
        found = cli.json("log", "verify", "--bag", str(dest))
        assert found["ok"], (scope, found["problems"])


def test_a_voided_fine_an_acts_officers_and_on_site_changed_in_the_index_fail_the_case_bag(
        cli, dossier, tmp_path, store):
    import sqlite3

    from tests.test_check import ok

    fine = cli.json("case", "decide", CASE, "--party", "P1", "--penalty-kind", "fine", "--amount", "100",
                    "--at", "2021-09-20")
    ok(cli("case", "void", CASE, str(fine["seq"]), "--reason", "金额有误"))
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-03-02 10:00", "--officer", "440301123456",
           "--on-site"))
    with sqlite3.connect(store / "index.sqlite") as conn:  # the void forgotten, another officer, not on site
        conn.execute("DELETE FROM voids")
        conn.execute("INSERT INTO decisions (seq, case_no, party, penalty_kind, amount, at) "
                     "VALUES (?,?,?,?,?,?)",
                     tuple(fine[k] for k in ("seq", "case_no", "party", "penalty_kind", "amount", "at")))
        conn.execute("UPDATE stage_events SET officers = '[\"440301999999\"]', on_site = 0")
    forged = tmp_path / "forged"
    ok(cli("export", "--case", CASE, str(forged)))
    said = [p["message"] for p in cli.json("log", "verify", "--bag", str(forged))["problems"]
            if p["code"] == "RK275"]
    assert any(f"seq {fine['seq']} in force, but the bag carries its void" in m for m in said), said
    assert any("officers ['440301999999']" in m for m in said) and any("on_site False" in m for m in said)


@pytest.mark.parametrize("item", [{"type": ["decision"], "seq": 1}, {"type": {"a": 1}, "seq": 1},
                                  {"type": "decision", "seq": True}, {"type": "decision", "seq": 10**30}])
def test_a_dossier_view_of_odd_shapes_fails_the_bag_with_its_report_never_a_traceback(
        cli, dossier, tmp_path, item):
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    summary = dest / "recordkeep" / "summary.json"
    data = json.loads(summary.read_text(encoding="utf-8"))
    data["dossier"]["decisions"] = [item]
    summary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = cli("log", "verify", "--bag", str(dest), "--json")
    assert result.exit_code == 3 and "Traceback" not in result.output, result.output


@pytest.mark.parametrize("scope", [("--case", "坡城管罚〔2021〕99号"), ("--party", "P2")],
                         ids=["case", "party"])
def test_a_bag_of_a_case_or_party_with_no_records_is_a_valid_bag_with_an_empty_payload(cli, dossier, tmp_path,
                                                                                      scope):
    """BagIt requires data/ even with nothing in it: bagit-python rejects a bag without one (as
    releases before this one made it: a notice of log verify --bag, since nothing is missing)."""
    cli("case", "open", "坡城管罚〔2021〕99号", "--party", "P2", "--at", "2021-04-01")
    dest = tmp_path / "bag"
    data = cli.json("export", *scope, str(dest))
    assert data["records"] == 0 and (dest / "data").is_dir()
    bagit.Bag(str(dest)).validate()
    assert cli("log", "verify", "--bag", str(dest)).exit_code == 0
    os.rmdir(dest / "data")  # as releases before this one exported it: a notice, the bag stands
    result = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert result.returncode == 0 and "RK228 data/ is missing: bagit-python rejects" in result.stdout, \
        result.stdout


def test_a_tag_file_recordkeep_never_writes_fails_the_bag_even_when_the_tag_manifest_lists_it(
        cli, dossier, tmp_path):
    """A "correction" slipped in beside the summary, with the tag manifest made again to list
    it: bagit-python passes it; the bag, checked alone or against the store, does not."""
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    (dest / "README-更正.txt").write_text("更正: 罚款金额改为300元\n", encoding="utf-8")
    (dest / "recordkeep" / "notes.txt").write_text("核对无误\n", encoding="utf-8")
    remanifest_tags_only(dest)
    bagit.Bag(str(dest)).validate()
    with_store = cli("log", "verify", "--bag", str(dest))
    alone = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")
    assert with_store.exit_code == alone.returncode == 3
    for out in (with_store.stdout, alone.stdout):
        assert "RK228 README-更正.txt is not a file recordkeep writes into a bag" in out, out
        assert "RK228 recordkeep/notes.txt is not a file recordkeep writes into a bag" in out, out


def test_a_file_name_never_carries_a_right_to_left_override_or_loses_its_extension_into_the_bag(
        cli, dossier, tmp_path):
    """A name with U+202E shows ``x\u202egpj.exe`` as ``xexe.jpg`` in a file manager; a long name
    cut from its end loses ``.pdf``. The bag's names have neither fault; summary.json keeps the
    original."""
    hostile = tmp_path / "rtl\u202egpj.exe"
    hostile.write_bytes(b"not a picture")
    long = tmp_path / ("长文件名" * 12 + ".pdf")
    long.write_bytes(b"%PDF-1.4 a long name")
    for path in (hostile, long):
        assert cli("add", str(path), "--case", CASE, "--stage", "investigate").exit_code == 0
    dest = tmp_path / "bag"
    cli("export", "--case", CASE, str(dest))
    names = [p.name for p in (dest / "data").rglob("*") if p.is_file()]
    assert not any("\u202e" in n for n in names) and any(n.endswith("_rtl_gpj.exe") for n in names), names
    cut = next(n for n in names if "长文件名" in n)
    assert cut.endswith("长文.pdf") and len(cut.encode()) <= 150, cut
    summary = json.loads((dest / "recordkeep" / "summary.json").read_text(encoding="utf-8"))
    assert any(n.endswith("rtl\u202egpj.exe") for f in summary["files"] for n in f["original_names"])
    assert cli.json("log", "verify", "--bag", str(dest))["ok"] is True
    bagit.Bag(str(dest)).validate()
