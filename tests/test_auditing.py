"""The steps of docs/auditing.md, run exactly as documented, catch tampering."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

DOC = (REPO / "docs" / "auditing.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


@pytest.fixture
def exported(cli, imported, tmp_path) -> Path:
    cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X")
    cli("case", "open", "坡城管罚〔2021〕12号", "--party", "P1", "--at", "2021-03-01")
    result = cli("case", "link", "坡城管罚〔2021〕12号", "--officer", "440301123456",
                 "--from", "2021-03-15", "--to", "2021-03-15", "--stage", "investigate")
    assert result.exit_code == 0, result.output
    dest = tmp_path / "bag"
    assert cli("export", "--case", "坡城管罚〔2021〕12号", str(dest)).exit_code == 0
    return dest


def documented_script(tmp_path: Path, name: str, marker: str) -> Path:
    """The docs' Python block holding ``marker``, saved as ``name``."""
    script = tmp_path / name
    script.write_text(next(b for b in blocks("python") if marker in b))
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
    assert ok.returncode == 0 and "all blobs intact" in ok.stdout, ok.stderr
    blob = next(p for p in (store / "objects" / "blake3").rglob("*") if p.is_file())
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.write_bytes(bytes(data))
    bad = run_shell(step, tmp_path, STORE=str(store))
    assert bad.returncode != 0 and "FAILED" in bad.stdout


def test_the_documented_chain_script_passes_and_then_names_an_edited_line(cli, store, imported, tmp_path):
    script = tmp_path / "check_chain.py"
    script.write_text(blocks("python")[0])
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
