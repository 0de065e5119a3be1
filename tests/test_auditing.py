"""The steps of docs/auditing.md, run exactly as documented, catch tampering."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, blob_path, run_recordkeep
from .test_export import remanifest

DOC = (REPO / "docs" / "auditing.md").read_text(encoding="utf-8")
DOC_ZH = (REPO / "docs" / "auditing.zh.md").read_text(encoding="utf-8")
CASE, OTHER_CASE = "坡城管罚〔2021〕12号", "坡城管罚〔2021〕13号"


def blocks(language: str, doc: str = DOC) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", doc, flags=re.S)


@pytest.fixture
def exported(cli, imported, tmp_path) -> Path:
    cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X")
    cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-01")
    result = cli("case", "link", CASE, "--officer", "440301123456",
                 "--from", "2021-03-15", "--to", "2021-03-15", "--stage", "investigate")
    assert result.exit_code == 0, result.output
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    return dest


def documented_script(tmp_path: Path, name: str, marker: str) -> Path:
    """The docs' Python block holding ``marker``, saved as ``name``."""
    script = tmp_path / name
    script.write_text(next(b for b in blocks("python") if marker in b), encoding="utf-8")
    return script


def run_script(script: Path, journal: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), str(journal)], capture_output=True, text=True)


def edit_settings(store: Path, text: str) -> None:
    with open(store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write(text)


def run_shell(script: str, cwd: Path, **subs: str) -> subprocess.CompletedProcess:
    for key, value in subs.items():
        script = script.replace(key, value)
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True)


def test_the_documented_b3sum_step_passes_and_then_catches_a_flipped_bit(cli, store, imported, tmp_path):
    step = blocks("sh")[0].replace("/tmp/store.b3", str(tmp_path / "store.b3"))
    ok = run_shell(step, tmp_path, STORE=str(store))
    assert ok.returncode == 0 and "every blob found is intact" in ok.stdout, ok.stderr
    blob = next(p for p in (store / "objects" / "blake3").rglob("*") if p.is_file())
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.write_bytes(bytes(data))
    bad = run_shell(step, tmp_path, STORE=str(store))
    assert bad.returncode != 0 and "FAILED" in bad.stdout


def test_the_documented_chain_script_passes_and_then_names_an_edited_line(cli, store, imported, tmp_path):
    script = documented_script(tmp_path, "check_chain.py", "chain intact")
    journal = store / "journal" / "events.jsonl"
    ok = run_script(script, journal)
    assert ok.returncode == 0 and "chain intact" in ok.stdout, ok.stderr
    head = cli.json("log", "head")["hash"]
    assert head in ok.stdout
    lines = journal.read_bytes().splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if b'"actor":"clerk@station1"' in line)
    lines[n] = lines[n].replace(b"clerk@station1", b"forger@station9")
    journal.write_bytes(b"".join(lines))
    bad = run_script(script, journal)
    assert bad.returncode != 0 and f"line {n + 1}" in bad.stderr


def test_the_documented_settings_script_lists_each_change_and_names_a_line_that_claims_other_settings(
        cli, store, imported, tmp_path):
    script = documented_script(tmp_path, "check_settings.py", "settings.changed")
    edit_settings(store, "\n[retention]\nordinary_months = 12\n")
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    journal = store / "journal" / "events.jsonl"
    ok = run_script(script, journal)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stderr
    assert "kept 6 months" in ok.stdout and "kept 12 months" in ok.stdout
    text = journal.read_text(encoding="utf-8").replace('"ordinary_months":12', '"ordinary_months":3', 1)
    journal.write_text(text, encoding="utf-8")
    bad = run_script(script, journal)
    assert bad.returncode != 0 and "does not say what it records" in bad.stderr


def test_the_documented_settings_script_passes_an_honest_store_whose_writer_crashed_before_its_seal(
        cli, store, tmp_path):
    """A batch whose seal never reached the disk is cut by the next writer and never counts: its
    settings line neither stands as recorded nor breaks the chain of digests (as log verify)."""
    import json

    script = documented_script(tmp_path, "check_settings.py", "settings.changed")
    edit_settings(store, '\n[retention]\nordinary_months = 12\n"$why" = "local rule"\n')
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    journal = store / "journal" / "events.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    assert json.loads(lines[-1])["type"] == "batch.signed"
    journal.write_bytes(b"".join(lines[:-1]) + lines[-1][:40])  # the seal torn: a crash in the write
    for suffix in ("", "-wal", "-shm"):  # no index folded that batch either
        Path(f"{store}/index.sqlite{suffix}").unlink(missing_ok=True)
    torn = run_script(script, journal)
    assert torn.returncode == 0 and "kept 12 months" not in torn.stdout, torn.stderr
    assert cli("officer", "add", "440301123457", "--name", "王五").exit_code == 0  # cuts the batch
    ok = run_script(script, journal)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stderr
    assert ok.stdout.count("kept 12 months") == 1  # recorded again, after the cut
    assert cli.json("log", "verify")["ok"]


def test_the_documented_index_check_passes_on_a_store_and_fails_once_the_index_is_edited(cli, imported):
    import sqlite3

    step = next(b for b in blocks("sh") if "--index" in b).strip()
    assert step.startswith("recordkeep --store STORE ")
    args = step.split()[3:]
    assert cli(*args).exit_code == 0
    with sqlite3.connect(cli.store / "index.sqlite") as conn:
        conn.execute("UPDATE records SET size = size + 1 WHERE digest = (SELECT min(digest) FROM records)")
    edited = cli(*args)
    assert edited.exit_code == 3 and "table records" in edited.stdout, edited.output


def test_bagit_and_b3sum_validate_the_exported_bag_and_both_catch_a_flipped_bit(exported, tmp_path):
    validate, b3 = next(b for b in blocks("sh") if "bagit" in b).strip().splitlines()[:2]
    bagit_cmd = validate.split("#")[0].strip().replace("bagit.py", f"{sys.executable} -m bagit")
    b3_cmd = b3.split("#")[0].strip()
    assert run_shell(bagit_cmd, tmp_path, DEST=str(exported)).returncode == 0
    assert run_shell(b3_cmd, tmp_path, DEST=str(exported)).returncode == 0
    victim = next(p for p in (exported / "data").rglob("*") if p.is_file())
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0x40
    victim.write_bytes(bytes(data))
    assert run_shell(bagit_cmd, tmp_path, DEST=str(exported)).returncode != 0
    assert "FAILED" in run_shell(b3_cmd, tmp_path, DEST=str(exported)).stdout


def test_the_documented_package_line_check_passes_on_the_bag_journal(exported, tmp_path):
    script = documented_script(tmp_path, "check_lines.py", "every event line of the package")
    journal = exported / "recordkeep" / "journal.jsonl"
    ok = run_script(script, journal)
    assert ok.returncode == 0, ok.stderr
    text = journal.read_text(encoding="utf-8").replace("investigate", "decide", 1)
    journal.write_text(text, encoding="utf-8")
    assert run_script(script, journal).returncode != 0


def test_the_bag_names_a_journal_head_that_log_verify_proves(exported, cli):
    info = (exported / "bag-info.txt").read_text(encoding="utf-8")
    head = re.search(r"Recordkeep-Journal-Head: \d+ ([0-9a-f]{64})", info).group(1)
    assert cli("log", "verify", "--head", head).exit_code == 0


def test_b3sum_is_installed_for_these_steps():
    assert shutil.which("b3sum"), "tasks.sh installs b3sum (Debian package)"


# -- a blob deleted (section 1) -------------------------------------------------------------------
def test_the_documented_steps_report_a_deleted_blob_that_the_b3sum_list_cannot_see(
        cli, store, imported, tmp_path):
    step = blocks("sh")[0].replace("/tmp/store.b3", str(tmp_path / "store.b3"))
    script = documented_script(tmp_path, "check_blobs.py", "MISSING blake3:")
    ok = run_script(script, store)
    assert ok.returncode == 0 and f"{imported['stored']} records" in ok.stdout, ok.stderr
    digest = imported["files"][0]["digest"]
    blob_path(store, digest).unlink()
    assert run_shell(step, tmp_path, STORE=str(store)).returncode == 0  # b3sum checks only what is there
    bad = run_script(script, store)
    assert bad.returncode != 0 and f"MISSING blake3:{digest}" in bad.stdout, bad.stdout
    assert cli("verify").exit_code != 0  # as recordkeep says


# -- the founding key (section 2a) ----------------------------------------------------------------
def test_the_documented_signature_script_given_the_founding_key_fails_a_journal_signed_again_under_another(
        cli, imported, tmp_path):
    from .test_anchors import resign_under_a_key_of_ones_own

    script = documented_script(tmp_path, "check_signatures.py", "recordkeep-batch/v1")
    journal = cli.store / "journal" / "events.jsonl"
    listed = cli.json("key", "list")["keys"]
    [founding] = [k["verifier_key"] for k in listed if k["founding"]]
    other = next(k["verifier_key"] for k in listed if not k["founding"])
    ok = subprocess.run([sys.executable, str(script), str(journal), founding], capture_output=True, text=True)
    assert ok.returncode == 0 and "signatures hold" in ok.stdout, ok.stderr
    wrong = subprocess.run([sys.executable, str(script), str(journal), other], capture_output=True, text=True)
    assert wrong.returncode != 0 and "another key" in wrong.stderr

    resign_under_a_key_of_ones_own(cli.store, tmp_path)  # every line written again under a key of one's own
    alone = run_script(script, journal)
    assert alone.returncode == 0 and "signatures hold" in alone.stdout, alone.stderr  # it agrees with itself
    bad = subprocess.run([sys.executable, str(script), str(journal), founding], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "roots its trust in another key" in bad.stderr, bad.stdout


def test_the_documented_signature_script_takes_an_older_stores_first_admin_key_as_its_founding_key(tmp_path):
    from recordkeep.trust import keys

    from .conftest import Cli
    from .test_trust import older_store

    cli = Cli(older_store(tmp_path))
    own = keys.load_key(keys.key_path("clerk@station1"))
    assert cli("key", "enrol", own.public_b64, "--actor", "clerk@station1", "--role", "admin").exit_code == 0
    vkey = next(k["verifier_key"] for k in cli.json("key", "list")["keys"] if k["founding"])
    script = documented_script(tmp_path, "check_signatures.py", "recordkeep-batch/v1")
    journal = cli.store / "journal" / "events.jsonl"
    ok = subprocess.run([sys.executable, str(script), str(journal), vkey], capture_output=True, text=True)
    assert ok.returncode == 0 and "signatures hold" in ok.stdout, ok.stderr


# -- a kept head (section 4) ----------------------------------------------------------------------
def test_the_documented_head_check_finds_a_kept_head_until_lines_up_to_it_are_cut(cli, imported, tmp_path):
    step = next(b for b in blocks("sh") if "the head kept" in b)
    journal = cli.store / "journal" / "events.jsonl"
    head = cli.json("log", "head")["hash"]
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    ok = run_shell(step, tmp_path, STORE=str(cli.store), HASH=head)
    assert ok.returncode == 0 and "still in the journal" in ok.stdout, ok.stderr
    lines = journal.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if f'"hash":"{head}"'.encode() in line)
    journal.write_bytes(b"".join(lines[:at]))  # cut from the end, the kept head with it
    assert run_shell(step, tmp_path, STORE=str(cli.store), HASH=head).returncode != 0


# -- an exported package tied to the journal (section 3) --------------------------------------------
def earlier_bag_steps_pass(bag: Path, tmp_path: Path) -> bool:
    """bagit.py, b3sum and the per-line hash check of section 3: what a changed bag passes."""
    validate, b3 = next(b for b in blocks("sh") if "bagit" in b).strip().splitlines()[:2]
    bagit_cmd = validate.split("#")[0].strip().replace("bagit.py", f"{sys.executable} -m bagit")
    lines = documented_script(tmp_path, "check_lines.py", "every event line of the package")
    return (run_shell(bagit_cmd, tmp_path, DEST=str(bag)).returncode == 0
            and run_shell(b3.split("#")[0].strip(), tmp_path, DEST=str(bag)).returncode == 0
            and run_script(lines, bag / "recordkeep" / "journal.jsonl").returncode == 0)


def bag_check(bag: Path, cli, tmp_path: Path) -> subprocess.CompletedProcess:
    """The documented ties of a bag to the journal: check_bag_ties.py, then check_note.py and
    check_inclusion.py of section 4 on the bag's checkpoint and every proof, under a verifier key
    held from elsewhere (the exporter's, as `key list` prints it)."""
    work = tmp_path / "audit"
    work.mkdir(exist_ok=True)
    documented_script(work, "check_bag_ties.py", "not the line its proof proves")
    documented_script(work, "check_note.py", "Ed25519PublicKey.from_public_bytes(key[1:])")
    documented_script(work, "check_inclusion.py", 'h(b"\\x00", proof["line"].encode())')
    step = next(b for b in blocks("sh") if "check_bag_ties.py DEST" in b)
    vkey = next(k["verifier_key"] for k in cli.json("key", "list")["keys"] if k["actor"] == "clerk@station1")
    return run_shell("set -e\n" + step.replace("/tmp/proof.json", str(work / "proof.json")), work,
                     DEST=str(bag), VKEY=vkey)


def passes(result: subprocess.CompletedProcess) -> bool:
    return result.returncode == 0 and "FAILED" not in result.stdout


@pytest.fixture
def two_bags(cli, exported, tmp_path) -> tuple[Path, Path]:
    """The bag of case 12 and, from the same store, the bag of case 13 (another party's, other records)."""
    added = cli("party", "add", "--name", "某建材有限公司", "--credit-code", "91512081MA62K0260E")
    assert added.exit_code == 0, added.output
    assert cli("case", "open", OTHER_CASE, "--party", "P2", "--at", "2021-03-01").exit_code == 0
    result = cli("case", "link", OTHER_CASE, "--officer", "440301654321",
                 "--from", "2021-03-15", "--to", "2021-03-15", "--stage", "investigate")
    assert result.exit_code == 0, result.output
    dest = tmp_path / "bag13"
    assert cli("export", "--case", OTHER_CASE, str(dest)).exit_code == 0
    return exported, dest


def test_the_documented_bag_check_passes_a_bag_as_exported(cli, exported, tmp_path):
    result = bag_check(exported, cli, tmp_path)
    assert passes(result), result.stdout + result.stderr
    assert "is in the journal's lines" in result.stdout and f"of case {CASE}" in result.stdout


def test_the_documented_bag_check_passes_a_partys_bag_as_exported(cli, exported, tmp_path):
    dest = tmp_path / "party-bag"
    assert cli("export", "--party", "P1", str(dest)).exit_code == 0
    result = bag_check(dest, cli, tmp_path)
    assert passes(result), result.stdout + result.stderr
    assert "of party P1" in result.stdout


def test_the_documented_bag_check_passes_a_bag_whose_case_had_records_unlinked_and_links_voided(
        cli, imported, tmp_path):
    import json

    videos = list(dict.fromkeys(f["digest"] for f in imported["files"] if f["kind"] == "video"))[:4]
    assert cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X").exit_code == 0
    assert cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-01").exit_code == 0
    for digest in (*videos[:3], videos[0]):  # the first linked twice
        assert cli("case", "link", CASE, digest, "--stage", "investigate").exit_code == 0
    assert cli("case", "link", CASE, videos[3], "--stage", "start").exit_code == 0
    assert cli("case", "unlink", CASE, videos[1]).exit_code == 0
    events = list(map(json.loads, (cli.store / "journal" / "events.jsonl").read_bytes().splitlines()))
    for digest in (videos[0], videos[3]):  # the first link of each voided: the repeat still links videos[0]
        seq = next(e["seq"] for e in events
                   if e["type"] == "record.linked" and e["data"]["digests"] == [f"blake3:{digest}"])
        assert cli("case", "void", CASE, str(seq), "--reason", "entered wrong").exit_code == 0
    dest = tmp_path / "bag"
    assert cli("export", "--case", CASE, str(dest)).exit_code == 0
    manifest = (dest / "manifest-blake3.txt").read_text(encoding="utf-8")
    assert {line.split()[0] for line in manifest.splitlines()} == {videos[0], videos[2]}
    result = bag_check(dest, cli, tmp_path)
    assert passes(result), result.stdout + result.stderr
    alone = run_recordkeep("log", "verify", "--bag", str(dest), store=tmp_path / "no store")  # alike
    assert alone.returncode == 0, alone.stdout + alone.stderr


def test_the_documented_bag_check_fails_a_bag_whose_payload_byte_was_flipped(cli, exported, tmp_path):
    victim = next(p for p in (exported / "data").rglob("*") if p.is_file())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    remanifest(exported)
    assert earlier_bag_steps_pass(exported, tmp_path)
    result = bag_check(exported, cli, tmp_path)
    assert not passes(result) and "imported by no line" in result.stderr, result.stderr


def test_the_documented_bag_check_fails_a_bag_carrying_another_cases_lines_proofs_and_checkpoint(
        cli, two_bags, tmp_path):
    bag12, bag13 = two_bags
    for name in ("journal.jsonl", "proofs.jsonl", "checkpoint"):
        target = bag12 / "recordkeep" / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        copy = shutil.copytree if (bag13 / "recordkeep" / name).is_dir() else shutil.copy
        copy(bag13 / "recordkeep" / name, target)
    remanifest(bag12)
    assert earlier_bag_steps_pass(bag12, tmp_path)
    result = bag_check(bag12, cli, tmp_path)
    assert not passes(result) and f"no line opens case {CASE}" in result.stderr, result.stderr
    assert passes(bag_check(bag13, cli, tmp_path))


def test_the_documented_bag_check_fails_a_bag_relabelled_to_another_case(cli, two_bags, tmp_path):
    bag12, _ = two_bags
    info = bag12 / "bag-info.txt"
    info.write_text(info.read_text(encoding="utf-8").replace(CASE, OTHER_CASE), encoding="utf-8")
    remanifest(bag12)
    assert earlier_bag_steps_pass(bag12, tmp_path)
    result = bag_check(bag12, cli, tmp_path)
    assert not passes(result) and f"names {OTHER_CASE}" in result.stderr, result.stderr
    summary = bag12 / "recordkeep" / "summary.json"  # and summary.json relabelled to match
    summary.write_text(summary.read_text(encoding="utf-8").replace(CASE, OTHER_CASE), encoding="utf-8")
    remanifest(bag12)
    assert earlier_bag_steps_pass(bag12, tmp_path)
    result = bag_check(bag12, cli, tmp_path)
    assert not passes(result) and f"no line opens case {OTHER_CASE}" in result.stderr, result.stderr


def test_the_documented_bag_check_fails_a_bag_with_a_payload_file_deleted_even_with_its_line_and_proof(
        cli, exported, tmp_path):
    import json

    victim = next(p for p in (exported / "data").rglob("*") if p.is_file())
    digest = next(line.split()[0] for line in (exported / "manifest-blake3.txt").read_text(
        encoding="utf-8").splitlines() if line.endswith(victim.relative_to(exported).as_posix()))
    victim.unlink()
    remanifest(exported)
    assert earlier_bag_steps_pass(exported, tmp_path)
    result = bag_check(exported, cli, tmp_path)
    assert not passes(result) and "imported by the lines, not in the payload" in result.stderr, result.stderr

    journal, proofs = exported / "recordkeep" / "journal.jsonl", exported / "recordkeep" / "proofs.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    [seq] = [json.loads(x)["seq"] for x in lines if json.loads(x)["type"] == "record.imported"
             and json.loads(x)["data"]["digest"] == f"blake3:{digest}"]
    journal.write_bytes(b"".join(x for x in lines if json.loads(x)["seq"] != seq))
    proofs.write_bytes(b"".join(x for x in proofs.read_bytes().splitlines(keepends=True)
                                if json.loads(x)["leaf_index"] + 1 != seq))
    remanifest(exported)
    assert earlier_bag_steps_pass(exported, tmp_path)
    result = bag_check(exported, cli, tmp_path)
    assert not passes(result) and "not in the payload" in result.stderr, result.stderr
    assert digest in result.stderr


def test_the_documented_bag_check_fails_a_bag_whose_journal_line_was_edited_with_its_hash_computed_again(
        cli, exported, tmp_path):
    import json

    from blake3 import blake3

    journal = exported / "recordkeep" / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    n = next(i for i, x in enumerate(lines) if json.loads(x)["type"] == "record.linked")
    event = json.loads(lines[n])
    event["data"]["stage"] = "decide"
    body = {k: v for k, v in event.items() if k != "hash"}
    event["hash"] = blake3(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                      ensure_ascii=False).encode()).hexdigest()
    lines[n] = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    journal.write_bytes(b"".join(lines))
    remanifest(exported)
    assert earlier_bag_steps_pass(exported, tmp_path)
    result = bag_check(exported, cli, tmp_path)
    assert not passes(result) and f"seq {event['seq']}: not the line its proof proves" in result.stderr


# -- both languages --------------------------------------------------------------------------------
def code_blocks(doc: str) -> list[tuple[str, str]]:
    """Each fenced block (language, text), comments of shell lines left out (they are translated)."""
    found = re.findall(r"```(\w*)\n(.*?)```", doc, flags=re.S)
    return [(lang, re.sub(r"[ \t]+# .*$", "", text, flags=re.M) if lang in ("sh", "bash") else text)
            for lang, text in found]


def test_the_chinese_audit_guide_holds_every_code_block_of_the_english_one_in_the_same_order():
    english, chinese = code_blocks(DOC), code_blocks(DOC_ZH)
    missing = [b for b in english if b not in chinese]
    extra = [b for b in chinese if b not in english]
    assert not missing and not extra, (missing, extra)
    assert english == chinese
