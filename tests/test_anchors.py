"""Nothing rewritten unseen: checkpoints kept outside the store catch an insider who rewrites
and re-signs the journal; timestamps from a real TSA (OpenSSL); proofs anyone can check."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main
from recordkeep import Archive
from recordkeep.store.journal import canonical, event_hash
from recordkeep.trust import batches, keys
from recordkeep.trust import checkpoint as notes
from recordkeep.trust.merkle import leaf_hash, root

from .conftest import FOUNDER, REPO, blob_path, run_recordkeep
from .tsa import Authority


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    authority = Authority(tmp_path_factory.mktemp("tsa"))
    yield authority
    authority.stop()


def journal_lines(store: Path) -> list[bytes]:
    return (store / "journal" / "events.jsonl").read_bytes().splitlines()


def store_id(store: Path) -> str:
    return json.loads(journal_lines(store)[0])["data"]["store_id"]


def verifier_key(cli, actor: str = FOUNDER) -> str:
    return next(k["verifier_key"] for k in cli.json("key", "list")["keys"] if k["actor"] == actor)


def checkpoint(cli, *args: str, actor: str = FOUNDER) -> dict:
    result = cli("log", "checkpoint", *args, "--json", actor=actor)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def problems(report: dict) -> list[str]:
    return [f["code"] for v in report["checkpoints"] for f in v["findings"] if not f["notice"]]


def open_case(cli, case: str, name: str, digest: str, stage: str = "start") -> None:
    assert cli("party", "add", "--name", name, "--credit-code", "91512081MA62K0260E").exit_code == 0
    assert cli("case", "open", case, "--party", name, "--at", "2021-03-01").exit_code == 0
    assert cli("case", "link", case, digest, "--stage", stage).exit_code == 0


def rewrite_without(store: Path, digest: str) -> None:
    """The insider's script: drop every line about one record, then re-chain and re-sign."""
    resign(store, [json.loads(x) for x in journal_lines(store) if digest not in x.decode()])


def resign(store: Path, events: list[dict]) -> None:
    """Renumber, re-chain and re-sign every batch with the key that signed it (an insider who
    holds the keys), and write the journal whole."""
    sid = store_id(store)
    by_key = {}
    for actor in {e["actor"] for e in events}:
        key = keys.load_key(keys.key_path(actor))
        by_key[key.id] = key
    out, batch_start = [], 1
    for e in events:
        if e["type"] == "batch.signed":
            if len(out) + 1 == batch_start:  # every line of the batch was about the record
                continue
            key = by_key[e["data"]["key"]]
            e["data"] = batches.seal_data(key, sid, batch_start, len(out), out[-1]["hash"])
        e["seq"] = len(out) + 1
        e["prev"] = out[-1]["hash"] if out else "0" * 64
        e["hash"] = event_hash(e)
        out.append(e)
        if e["type"] == "batch.signed":
            batch_start = e["seq"] + 1
    (store / "journal" / "events.jsonl").write_bytes(b"".join(canonical(e) + b"\n" for e in out))


# -- the insider ----------------------------------------------------------------------------------
def test_an_insider_who_deletes_a_records_lines_and_resigns_the_journal_is_caught_by_a_published_checkpoint(
        cli, imported, tmp_path):
    digest = next(f["digest"] for f in imported["files"] if f["kind"] == "video")
    open_case(cli, "粤城管罚〔2026〕101号", "某建材有限公司", digest, "investigate")
    share = tmp_path / "share"
    share.mkdir()
    made = checkpoint(cli, "--publish", str(share))
    published = Path(made["published"][0])
    assert published == share / store_id(cli.store) / f"{made['size']}.checkpoint"
    assert cli("log", "verify", "--checkpoint", str(published)).exit_code == 0

    # the insider also removes what the store kept, and the lines that journaled it
    resign(cli.store, [json.loads(x) for x in journal_lines(cli.store)
                       if digest not in x.decode() and b'"checkpoint.made"' not in x])
    shutil.rmtree(cli.store / "checkpoints")
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):  # it still knew the old lines
        (cli.store / name).unlink(missing_ok=True)
    blob = blob_path(cli.store, digest)
    blob.unlink()
    assert cli("rebuild-index").exit_code == 0
    for n in range(10):  # the store goes on being used, past the size of the published checkpoint
        if len(journal_lines(cli.store)) > made["size"]:
            break
        assert cli("officer", "add", f"44030112345{n}", "--name", "李四").exit_code == 0
    assert cli("verify").exit_code == 0
    assert cli("log", "verify").exit_code == 0  # the chain and every signature agree with themselves

    result = cli("log", "verify", "--checkpoint", str(published))
    assert result.exit_code == 3
    assert "RK249" in result.output and f"lines 1..{made['size']} were rewritten" in result.output
    report = cli.json("log", "verify", "--checkpoint", str(published))
    assert problems(report) == ["RK249"] and not report["ok"]


def test_a_checkpoint_resigned_by_another_key_passes_alone_but_not_under_the_verifier_key_kept(
        cli, imported, tmp_path):
    made = checkpoint(cli)
    vkey = verifier_key(cli)
    lines = journal_lines(cli.store)[:made["size"]]
    forger = keys.load_key(keys.key_path("clerk@station1"))  # enrolled, but not the key noted outside
    note = notes.sign(f"recordkeep/{store_id(cli.store)}", made["size"], root([leaf_hash(x) for x in lines]),
                      forger)
    forged = tmp_path / f"{made['size']}.checkpoint"
    forged.write_bytes(note)
    assert cli("log", "verify", "--checkpoint", str(forged)).exit_code == 0
    result = cli("log", "verify", "--checkpoint", str(forged), "--vkey", vkey)
    assert result.exit_code == 3 and "RK250" in result.output
    kept = cli.store / "checkpoints" / f"{made['size']}.checkpoint"
    assert cli("log", "verify", "--checkpoint", str(kept), "--vkey", vkey).exit_code == 0



def test_vkey_judges_the_checkpoints_given_not_those_kept_that_other_keys_made(cli, imported):
    """A store where two people made checkpoints: --vkey of one must not fail the other's."""
    enrolled = cli("key", "enrol", keys.new_key(keys.key_path("auditor@legal")).public_b64,
                   "--actor", "auditor@legal", "--role", "auditor")
    assert enrolled.exit_code == 0, enrolled.output
    mine = checkpoint(cli)
    checkpoint(cli, actor="auditor@legal")
    kept = cli.store / "checkpoints" / f"{mine['size']}.checkpoint"
    result = cli("log", "verify", "--checkpoint", str(kept), "--vkey", verifier_key(cli))
    assert result.exit_code == 0, result.output

def test_a_journal_cut_before_a_checkpoints_end_is_caught(cli, imported, tmp_path):
    made = checkpoint(cli)
    kept = tmp_path / "kept.checkpoint"
    shutil.copy(cli.store / "checkpoints" / f"{made['size']}.checkpoint", kept)
    journal = cli.store / "journal" / "events.jsonl"
    cut = made["size"] - 5
    journal.write_bytes(b"".join(x + b"\n" for x in journal_lines(cli.store)[:cut]))
    report = cli.json("log", "verify", "--checkpoint", str(kept))
    assert "RK251" in problems(report)
    assert any(f"lines {cut + 1}..{made['size']} were cut" in f["message"]
               for v in report["checkpoints"] for f in v["findings"])


def test_a_checkpoint_names_the_lines_rewritten_since_the_last_one_that_still_matches(cli, imported):
    first = checkpoint(cli)
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    second = checkpoint(cli)
    events = [json.loads(x) for x in journal_lines(cli.store)]
    added = next(e for e in events if e["type"] == "officer.registered")
    added["data"]["name"] = "王五"
    resign(cli.store, events)
    report = cli.json("log", "verify")
    messages = [f["message"] for v in report["checkpoints"] for f in v["findings"]]
    assert any(f"lines {first['size'] + 1}..{second['size']} were rewritten" in m for m in messages), messages


def test_a_checkpoint_of_another_store_or_not_a_checkpoint_is_refused_clearly(cli, imported, tmp_path):
    other = tmp_path / "other.checkpoint"
    founder = keys.load_key(keys.key_path(FOUNDER))
    other.write_bytes(notes.sign("recordkeep/another-store", 3, b"\x00" * 32, founder))
    junk = tmp_path / "junk.checkpoint"
    junk.write_bytes(b"\xff\xfe not a note")
    report = cli.json("log", "verify", "--checkpoint", str(other), "--checkpoint", str(junk))
    assert problems(report) == ["RK255", "RK248"]


def test_checkpoints_grow_from_the_kept_range_and_from_nothing_after_a_rebuild_to_the_same_root(
        cli, imported):
    first = checkpoint(cli)
    assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    grown = checkpoint(cli)
    lines = journal_lines(cli.store)
    assert bytes.fromhex(grown["root"]) == root([leaf_hash(x) for x in lines[:grown["size"]]])
    assert grown["size"] > first["size"]
    assert cli("rebuild-index").exit_code == 0
    again = checkpoint(cli)
    lines = journal_lines(cli.store)
    assert bytes.fromhex(again["root"]) == root([leaf_hash(x) for x in lines[:again["size"]]])


def test_the_checkpoint_made_event_records_size_root_tsa_and_token(cli, imported):
    made = checkpoint(cli)
    event = json.loads(journal_lines(cli.store)[made["seq"] - 1])
    assert event["type"] == "checkpoint.made"
    assert event["data"] == {"size": made["size"], "root": made["root"], "tsa": None, "token_sha256": None}
    assert made["size"] < made["seq"]  # a checkpoint never covers its own event


def test_a_clerk_without_the_stores_key_for_checkpoints_cannot_make_one(cli, imported, monkeypatch, tmp_path):
    monkeypatch.setenv("RECORDKEEP_KEY", str(tmp_path / "none.key"))
    result = cli("log", "checkpoint")
    assert result.exit_code == 1 and "RK113" in result.output
    assert not (cli.store / "checkpoints").exists()


# -- trusted timestamps -------------------------------------------------------------------------
def test_a_token_from_a_real_tsa_is_kept_verified_and_checkable_with_openssl(cli, imported, tsa):
    made = checkpoint(cli, "--tsa", tsa.url, "--tsa-ca", str(tsa.ca))
    assert made["token"] and made["token_time"] and made["tsa"] == tsa.url
    folder = cli.store / "checkpoints"
    note, token = folder / f"{made['size']}.checkpoint", folder / f"{made['size']}.tsr"
    event = json.loads(journal_lines(cli.store)[made["seq"] - 1])
    import hashlib
    assert event["data"]["token_sha256"] == hashlib.sha256(token.read_bytes()).hexdigest()
    report = cli.json("log", "verify", "--tsa-ca", str(tsa.ca))
    assert report["ok"] and report["checkpoints"][0]["token"] == "verified"
    script = documented("openssl ts -verify")
    command = script.replace("N.checkpoint", str(note)).replace("N.tsr", str(token))
    command = command.replace("CA.crt", str(tsa.ca))
    assert subprocess.run(command, shell=True, capture_output=True).returncode == 0
    flip(note, 5)
    assert subprocess.run(command, shell=True, capture_output=True).returncode != 0


def test_a_tsa_named_in_the_settings_is_asked_after_every_import_when_auto(cli, store, dump_dir, tsa):
    with open(store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[anchor]\nauto = true\ntsa_url = "{tsa.url}"\ntsa_ca = "{tsa.ca}"\n')
    receipt = cli.json("import", str(dump_dir))
    assert receipt["checkpoint"]["token"] and receipt["checkpoint_error"] is None
    assert (store / "checkpoints" / f"{receipt['checkpoint']['size']}.tsr").is_file()


def test_a_token_under_another_ca_is_refused_and_the_checkpoint_stays_signed(cli, imported, tsa, tmp_path):
    stranger = Authority(tmp_path / "stranger")
    try:
        result = cli("log", "checkpoint", "--tsa", tsa.url, "--tsa-ca", str(stranger.ca))
    finally:
        stranger.stop()
    assert result.exit_code == 3 and "RK253" in result.output
    made = sorted((cli.store / "checkpoints").glob("*.checkpoint"))
    assert made and not list((cli.store / "checkpoints").glob("*.tsr"))
    assert json.loads(journal_lines(cli.store)[-2])["data"]["token_sha256"] is None


def test_a_token_over_other_bytes_is_found_by_log_verify(cli, imported, tsa):
    first = checkpoint(cli, "--tsa", tsa.url, "--tsa-ca", str(tsa.ca))
    second = checkpoint(cli)
    folder = cli.store / "checkpoints"
    shutil.copy(folder / f"{first['size']}.tsr", folder / f"{second['size']}.tsr")
    report = cli.json("log", "verify", "--tsa-ca", str(tsa.ca))
    assert problems(report) == ["RK253"]



def test_a_line_dated_after_the_token_over_its_checkpoint_is_a_notice_and_fails_strict(cli, imported, tsa):
    """A token bounds when the lines it covers were written: an insider (or a station whose clock
    runs ahead) who wrote a line dated two days on is told so, and --strict fails the journal."""
    honest = checkpoint(cli, "--tsa", tsa.url, "--tsa-ca", str(tsa.ca))
    report = cli.json("log", "verify", "--tsa-ca", str(tsa.ca))
    assert "RK261" not in [f["code"] for v in report["checkpoints"] for f in v["findings"]]
    events = [json.loads(x) for x in journal_lines(cli.store)]
    dated = events[honest["size"] + 1]  # after the honest checkpoint: its root still matches
    dated["at"] = "2099-01-01T09:00:00.000+08:00"
    resign(cli.store, events)
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):  # the insider rebuilds it
        (cli.store / name).unlink(missing_ok=True)
    later = checkpoint(cli, "--tsa", tsa.url, "--tsa-ca", str(tsa.ca))
    result = cli("log", "verify", "--tsa-ca", str(tsa.ca), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    [verdict] = [v for v in report["checkpoints"] if v["size"] == later["size"]]
    [finding] = verdict["findings"]
    assert finding["code"] == "RK261" and finding["notice"]
    assert f"line {dated['seq']} claims 2099-01-01" in finding["message"]
    assert all(not v["findings"] for v in report["checkpoints"] if v["size"] != later["size"])
    shown = cli("log", "verify", "--tsa-ca", str(tsa.ca))
    assert shown.exit_code == 0 and "notice  RK261" in shown.output
    strict = cli("log", "verify", "--tsa-ca", str(tsa.ca), "--strict")
    assert strict.exit_code == 3 and "PROBLEM RK261" in strict.output, strict.output


def journal_codes(report: dict) -> list[str]:
    return [f["code"] for f in report["findings"] if not f["notice"]]


@pytest.mark.parametrize("removed", [(".tsr",), (".checkpoint",), (".tsr", ".checkpoint")])
def test_a_kept_checkpoint_or_token_deleted_after_the_journal_named_it_is_found(cli, imported, tsa, removed):
    made = checkpoint(cli, "--tsa", tsa.url, "--tsa-ca", str(tsa.ca))
    for suffix in removed:
        (cli.store / "checkpoints" / f"{made['size']}{suffix}").unlink()
    result = cli("log", "verify", "--tsa-ca", str(tsa.ca), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 3 and journal_codes(report) == ["RK259"] * len(removed), result.output
    assert all(f"seq {made['seq']}" in f["message"] for f in report["findings"] if f["code"] == "RK259")


def test_a_token_swapped_for_one_another_tsa_made_over_the_same_checkpoint_is_found_under_its_ca(
        cli, imported, tsa, tmp_path):
    """An insider asks a TSA of her own (its clock set back) for a token over the kept
    checkpoint and names its CA in the settings: the token verifies under that CA, but it is not
    the token the signed journal names."""
    made = checkpoint(cli, "--tsa", tsa.url, "--tsa-ca", str(tsa.ca))
    folder = cli.store / "checkpoints"
    own = Authority(tmp_path / "own")
    try:
        from recordkeep.trust import timestamp
        forged = timestamp.fetch(own.url, (folder / f"{made['size']}.checkpoint").read_bytes())
    finally:
        own.stop()
    (folder / f"{made['size']}.tsr").write_bytes(forged)
    report = cli.json("log", "verify", "--tsa-ca", str(own.ca))
    assert report["checkpoints"][0]["token"] == "verified" and journal_codes(report) == ["RK259"]
    assert "replaced" in report["findings"][0]["message"]
    assert cli("log", "verify").exit_code == 3

def test_an_unreachable_tsa_leaves_the_checkpoint_signed_and_says_the_token_is_missing(cli, imported, tsa):
    result = cli("log", "checkpoint", "--tsa", "http://127.0.0.1:9/tsa", "--tsa-ca", str(tsa.ca), "--json")
    assert result.exit_code == 1
    made = json.loads(result.stdout)
    assert not made["token"] and "RK119" in made["problems"][0] and made["seq"]
    assert "RK119" in result.stderr
    assert cli("log", "verify").exit_code == 0


def test_a_tsa_reply_rfc3161_client_cannot_parse_has_its_own_code(cli, imported, tmp_path):
    odd = Authority(tmp_path / "odd")  # 'certs' in its config: the certificates in an unsorted SET
    try:
        config = odd.folder / "tsa.cnf"
        config.write_text(config.read_text(encoding="utf-8") + "certs = $dir/ca.crt\n", encoding="utf-8")
        result = cli("log", "checkpoint", "--tsa", odd.url, "--tsa-ca", str(odd.ca))
    finally:
        odd.stop()
    assert result.exit_code == 3 and "RK252" in result.output
    assert cli("log", "verify").exit_code == 0


def test_a_tsa_without_its_ca_is_refused_before_anything_is_written(cli, imported, tsa):
    before = journal_lines(cli.store)
    result = cli("log", "checkpoint", "--tsa", tsa.url)
    assert (result.exit_code == 1 and "RK105" in result.output) or "tsa_ca" in result.output
    assert journal_lines(cli.store) == before


# -- proofs, checked as docs/auditing.md says -----------------------------------------------------
def documented(marker: str) -> str:
    """The code block of docs/auditing.md that holds ``marker``."""
    text = (REPO / "docs" / "auditing.md").read_text(encoding="utf-8")
    return next(b for b in re.findall(r"```(?:python|sh)\n(.*?)```", text, flags=re.S) if marker in b)


def run_script(tmp_path: Path, marker: str, *args: str | Path) -> subprocess.CompletedProcess:
    path = tmp_path / (re.sub(r"\W", "_", marker) + ".py")
    path.write_text(documented(marker), encoding="utf-8")
    return subprocess.run([sys.executable, str(path), *map(str, args)], capture_output=True, text=True)


def flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_documented_note_script_checks_the_signature_and_fails_on_a_changed_byte(cli, imported, tmp_path):
    made = checkpoint(cli)
    note = tmp_path / "n.checkpoint"
    shutil.copy(cli.store / "checkpoints" / f"{made['size']}.checkpoint", note)
    vkey = verifier_key(cli)
    assert len(documented("Ed25519PublicKey.from_public_bytes(key[1:])").strip().splitlines()) <= 20
    ok = run_script(tmp_path, "Ed25519PublicKey.from_public_bytes(key[1:])", note, vkey)
    assert ok.returncode == 0 and "signature holds" in ok.stdout, ok.stderr
    flip(note, len(note.read_bytes().split(b"\n")[0]) + 1)  # the size
    assert run_script(tmp_path, "Ed25519PublicKey.from_public_bytes(key[1:])", note, vkey).returncode != 0


def test_the_documented_root_script_agrees_with_the_checkpoint_and_fails_on_a_changed_byte(
        cli, imported, tmp_path):
    made = checkpoint(cli)
    note = cli.store / "checkpoints" / f"{made['size']}.checkpoint"
    journal = cli.store / "journal" / "events.jsonl"
    assert len(documented("def mth(").strip().splitlines()) <= 15
    ok = run_script(tmp_path, "def mth(", journal, note)
    assert ok.returncode == 0, ok.stderr
    flip(journal, 100)
    assert run_script(tmp_path, "def mth(", journal, note).returncode != 0


def test_the_documented_inclusion_script_checks_a_records_proof_and_fails_on_a_changed_byte(
        cli, imported, tmp_path):
    digest = imported["files"][0]["digest"]
    checkpoint(cli)
    proof = cli.json("log", "prove", digest)
    line = json.loads(proof["line"])
    assert line["type"] == "record.imported" and line["data"]["digest"].endswith(digest)
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof), encoding="utf-8")
    note = Path(proof["checkpoint"])
    assert len(documented('h(b"\\x00", proof["line"].encode())').strip().splitlines()) <= 20
    ok = run_script(tmp_path, 'h(b"\\x00", proof["line"].encode())', path, note)
    assert ok.returncode == 0 and f"line {line['seq']} is in" in ok.stdout, ok.stderr
    changed = dict(proof, line=proof["line"].replace('"seq":', '"seq": ', 1))
    path.write_text(json.dumps(changed), encoding="utf-8")
    assert run_script(tmp_path, 'h(b"\\x00", proof["line"].encode())', path, note).returncode != 0


def test_the_documented_consistency_script_checks_two_checkpoints_and_fails_on_a_rewritten_one(
        cli, imported, tmp_path):
    for _ in range(3):
        checkpoint(cli)
        assert cli("officer", "add", "440301123456", "--name", "李四").exit_code == 0
    sizes = sorted(int(p.stem) for p in (cli.store / "checkpoints").glob("*.checkpoint"))
    for old, new in ((sizes[0], sizes[-1]), (sizes[1], sizes[2]), (sizes[0], sizes[0])):
        a, b = (cli.store / "checkpoints" / f"{s}.checkpoint" for s in (old, new))
        proof = cli.json("log", "prove", "--from", str(a), "--to", str(b))
        path = tmp_path / "consistency.json"
        path.write_text(json.dumps(proof), encoding="utf-8")
        ok = run_script(tmp_path, "the older journal was rewritten", path, a, b)
        assert ok.returncode == 0, ok.stderr
    forged = tmp_path / "forged.checkpoint"
    text = (cli.store / "checkpoints" / f"{sizes[0]}.checkpoint").read_text(encoding="utf-8").split("\n")
    text[2] = base64.b64encode(b"\x01" * 32).decode()
    forged.write_text("\n".join(text), encoding="utf-8")
    b = cli.store / "checkpoints" / f"{sizes[-1]}.checkpoint"
    proof = cli.json("log", "prove", "--from", str(cli.store / "checkpoints" / f"{sizes[0]}.checkpoint"),
                     "--to", str(b))
    path.write_text(json.dumps(proof), encoding="utf-8")
    assert run_script(tmp_path, "the older journal was rewritten", path, forged, b).returncode != 0
    result = cli("log", "prove", "--from", str(forged), "--to", str(b))
    assert result.exit_code == 3 and "RK249" in result.output


def test_a_line_after_the_newest_checkpoint_cannot_be_proved_until_a_newer_one(cli, imported):
    made = checkpoint(cli)
    result = cli("log", "prove", "--seq", str(made["seq"] + 1))
    assert result.exit_code == 1 and "log checkpoint" in result.output


# -- bags ---------------------------------------------------------------------------------------
@pytest.fixture
def bag(cli, imported, tmp_path) -> Path:
    digest = imported["files"][0]["digest"]
    open_case(cli, "粤城管罚〔2026〕102号", "某建材有限公司", digest)
    dest = tmp_path / "bag"
    assert cli("export", "--case", "粤城管罚〔2026〕102号", str(dest)).exit_code == 0
    return dest


def test_an_export_carries_its_checkpoint_and_a_proof_of_each_journal_line(cli, bag, tmp_path):
    lines = (bag / "recordkeep" / "journal.jsonl").read_bytes().splitlines()
    proofs = (bag / "recordkeep" / "proofs.jsonl").read_bytes().splitlines()
    assert len(proofs) == len(lines) and list((bag / "recordkeep" / "checkpoint").glob("*.checkpoint"))
    nowhere = tmp_path / "nowhere"
    result = cli.runner.invoke(main, ["--store", str(nowhere), "log", "verify", "--bag", str(bag), "--json"],
                               catch_exceptions=False)
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"] and not report["store_compared"]
    assert report["proved"] == len(lines) and report["signer"] == "the bag's verifier key"
    vkey = verifier_key(cli, "clerk@station1")
    strict = cli.json("log", "verify", "--bag", str(bag), "--vkey", vkey)
    assert strict["ok"] and strict["store_compared"] and strict["signer"] == "--vkey"
    note = next((bag / "recordkeep" / "checkpoint").glob("*.checkpoint"))
    for raw in proofs[:3]:
        one = tmp_path / "one.json"
        one.write_bytes(raw)
        assert run_script(tmp_path, 'h(b"\\x00", proof["line"].encode())', one, note).returncode == 0


def test_a_changed_proof_in_a_bag_is_found_without_the_store(cli, bag, tmp_path):
    path = bag / "recordkeep" / "proofs.jsonl"
    proofs = [json.loads(x) for x in path.read_bytes().splitlines()]
    proofs[0]["hashes"][0] = base64.b64encode(b"\x02" * 32).decode()
    path.write_text("".join(json.dumps(p) + "\n" for p in proofs), encoding="utf-8")
    result = cli.runner.invoke(main, ["--store", str(tmp_path / "none"), "log", "verify", "--bag", str(bag)],
                               catch_exceptions=False)
    assert result.exit_code == 3 and "RK257" in result.output and "RK228" in result.output


def test_an_export_from_a_read_only_store_uses_the_newest_checkpoint_and_names_later_lines(
        cli, imported, tmp_path):
    digest = imported["files"][0]["digest"]
    checkpoint(cli)
    open_case(cli, "粤城管罚〔2026〕103号", "某建材有限公司", digest)
    with Archive.open(cli.store, actor=FOUNDER) as archive:
        from recordkeep.export.bagit import export_bag

        archive.readonly = True
        result = export_bag(archive, tmp_path / "ro-bag", case="粤城管罚〔2026〕103号")
    assert result.not_covered and result.checkpoint_size < min(result.not_covered)
    info = (tmp_path / "ro-bag" / "bag-info.txt").read_text(encoding="utf-8")
    assert "Recordkeep-Not-Covered: " + " ".join(map(str, result.not_covered)) in info
    alone = run_recordkeep("log", "verify", "--bag", str(tmp_path / "ro-bag"), "--json",
                           store=tmp_path / "none")
    report = json.loads(alone.stdout)
    assert report["ok"] and report["not_covered"] == result.not_covered
    assert "RK256" in [n["code"] for n in report["notices"]]
    with_store = cli.json("log", "verify", "--bag", str(tmp_path / "ro-bag"))  # its export is not journaled
    assert [p["code"] for p in with_store["problems"]] == ["RK266"] and with_store["complete"] is False


def test_a_checkpoint_is_refused_once_lines_an_earlier_one_hashed_were_rewritten(cli, imported):
    made = checkpoint(cli)
    events = [json.loads(x) for x in journal_lines(cli.store)]
    first_import = next(e for e in events if e["type"] == "record.imported")
    first_import["data"]["officer"] = "440301999999"
    resign(cli.store, events)
    result = cli("log", "checkpoint", actor=FOUNDER)
    assert result.exit_code == 3 and any(code in result.output for code in ("RK249", "RK225", "RK230"))
    assert sorted(p.name for p in (cli.store / "checkpoints").iterdir()) == [f"{made['size']}.checkpoint"]


def test_a_tsa_given_on_the_command_line_that_is_not_a_url_is_a_refused_value_not_a_settings_error(
        cli, imported):
    result = cli("log", "checkpoint", "--tsa", "notaurl")
    assert result.exit_code == 1 and result.stderr.startswith("RK404"), result.output
    assert "--tsa http" in result.stderr and "recordkeep.toml" not in result.stderr
    assert not list((cli.store / "checkpoints").glob("*.checkpoint"))


def test_a_head_that_is_not_a_hash_is_told_where_heads_are_noted(cli, imported):
    result = cli("log", "verify", "--head", "zzz")
    assert result.exit_code == 2 and result.stderr.startswith("RK401"), result.output
    assert "log verify" in result.stderr and "prefix" not in result.stderr


def resign_under_a_key_of_ones_own(store: Path, tmp_path: Path) -> None:
    """The insider's script without any key of the store's: a key of their own named by
    store.created and enrolled as the founding key, every batch signed again with it (and so
    every line said to be by the founder, the one actor that key is enrolled for)."""
    events = [json.loads(x) for x in journal_lines(store)]
    for e in events:
        e["actor"] = events[0]["actor"]
    own = keys.new_key(tmp_path / "own.key")
    founding = events[0]["data"]["admin_key"]
    events[0]["data"].update(admin_key=own.id, public_key=own.public_b64)
    for e in events:
        if e["type"] == "key.enrolled" and e["data"]["key"] == founding:
            e["data"].update(key=own.id, public_key=own.public_b64)
    sid, batch_start = store_id(store), 1
    for i, e in enumerate(events):
        e["seq"], e["prev"] = i + 1, events[i - 1]["hash"] if i else "0" * 64
        if e["type"] == "batch.signed":
            e["data"] = batches.seal_data(own, sid, batch_start, i, events[i - 1]["hash"])
            batch_start = i + 2
        e["hash"] = event_hash(e)
    (store / "journal" / "events.jsonl").write_bytes(b"".join(canonical(e) + b"\n" for e in events))


def test_a_journal_signed_again_whole_under_a_key_of_ones_own_fails_against_the_founding_key_kept(
        cli, imported, tmp_path):
    listed = cli.json("key", "list")["keys"]
    [founding] = [k for k in listed if k["founding"]]
    assert founding["enrolled_seq"] == 2 and "founding key" in cli("key", "list").output
    kept = founding["verifier_key"]  # noted outside the store when it was made
    report = cli.json("log", "verify", "--founding-key", kept)
    assert report["ok"] and report["founding_key"] == founding["key"]

    resign_under_a_key_of_ones_own(cli.store, tmp_path)
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (cli.store / name).unlink(missing_ok=True)
    alone = cli("log", "verify")
    assert alone.exit_code == 0, alone.output  # the chain and every signature agree with themselves
    result = cli("log", "verify", "--founding-key", kept)
    assert result.exit_code == 3 and "RK274" in result.output, result.output
    report = cli.json("log", "verify", "--founding-key", founding["public_key"])  # base64 of the key too
    assert [f["code"] for f in report["findings"] if not f["notice"]] == ["RK274"]
    assert not report["ok"] and report["founding_key"] != founding["key"]


def test_an_older_stores_key_trusted_on_first_use_is_its_founding_key(tmp_path):
    from .conftest import Cli
    from .test_trust import older_store

    cli = Cli(older_store(tmp_path))
    own = keys.load_key(keys.key_path("clerk@station1"))
    assert cli("key", "enrol", own.public_b64, "--actor", "clerk@station1", "--role", "admin").exit_code == 0
    assert cli.json("log", "verify", "--founding-key", own.public_b64)["ok"]
    other = keys.new_key(tmp_path / "other.key")
    assert cli("log", "verify", "--founding-key", other.public_b64).exit_code == 3
    assert cli("log", "verify", "--founding-key", own.public_b64, "--bag", str(tmp_path)).exit_code == 2


@pytest.mark.parametrize("args", [("log", "verify", "--checkpoint", "{fifo}"),
                                  ("log", "prove", "--from", "{fifo}", "--to", "{fifo}"),
                                  ("log", "verify", "--checkpoint", "{folder}"),
                                  ("log", "verify", "--tsa-ca", "{fifo}")])
def test_a_fifo_or_a_folder_given_as_a_checkpoint_or_certificate_is_refused_at_once_never_waited_on(
        store, tmp_path, args):
    import os

    fifo = tmp_path / "given.checkpoint"
    os.mkfifo(fifo)
    filled = [a.format(fifo=fifo, folder=tmp_path) for a in args]
    done = run_recordkeep(*filled, store=store, timeout=60)  # waiting on the FIFO would time out
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("RK"), done.stderr


@pytest.mark.parametrize("put", ["a FIFO", "a symlink"])
def test_a_kept_checkpoint_replaced_by_a_fifo_or_a_symlink_is_missing_not_waited_on(
        cli, imported, tmp_path, put):
    import os

    made = checkpoint(cli)
    kept = cli.store / "checkpoints" / f"{made['size']}.checkpoint"
    copy = tmp_path / "elsewhere.checkpoint"
    copy.write_bytes(kept.read_bytes())
    kept.unlink()
    if put == "a FIFO":
        os.mkfifo(kept)
    else:
        kept.symlink_to(copy)
    done = run_recordkeep("log", "verify", "--json", store=cli.store, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "RK259" in {f["code"] for f in json.loads(done.stdout)["findings"]}
