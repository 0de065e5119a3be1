"""Personal information kept apart (个人信息保护法): identity and phone numbers only in the
vault, found whole, shown on the record, erased for good, and masked in every output of an
older store whose journal holds them plain."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from recordkeep import Archive, ids
from recordkeep.store.journal import Draft

from .conftest import FOUNDER, Cli, make_dump, new_store

PERSON_1, PERSON_2 = "11010519491231002X", "440304199001010011"
PHONE_1, PHONE_2, PHONE_ORG = "13912345678", "13800138001", "0759-3361234"
CREDIT = "91512081MA62K0260E"
CASE = "坡城管罚〔2026〕7号"
#: every form a number could leak in: as typed, normalised, and the phone's digits alone
SECRETS = [PERSON_1, PERSON_2, PHONE_1, PHONE_2, "07593361234", "19491231002X", "199001010011"]


def ok(result) -> None:
    assert result.exit_code == 0, result.output


def leaks(data: bytes) -> list[str]:
    return [s for s in SECRETS if s.encode() in data]


def files_outside_vault(store: Path) -> list[Path]:
    return [p for p in store.rglob("*") if p.is_file() and "pii" not in p.relative_to(store).parts[:1]]


@pytest.fixture
def parties(cli, imported, tmp_path) -> dict:
    """Two persons and an organisation with phones, a case of both persons, records linked,
    a scan of an identity card (its pixels hold no number)."""
    ok(cli("party", "add", "--name", "张三", "--id-number", PERSON_1, "--phone", PHONE_1,
           "--address", "湛江市坡头区龙头镇1号"))
    ok(cli("party", "add", "--name", "李四", "--id-number", PERSON_2, "--phone", "+86 138-0013-8001"))
    ok(cli("party", "add", "--name", "湛江某某建材有限公司", "--credit-code", CREDIT, "--phone", PHONE_ORG))
    ok(cli("case", "open", CASE, "--party", "P1", "--party", "P2", "--title", "违法建设",
           "--at", "2021-03-01"))
    video = next(f["digest"] for f in imported["files"] if f["kind"] == "video")
    ok(cli("case", "link", CASE, video, "--stage", "investigate", "--party", "P1"))
    scan = tmp_path / "身份证复印件.pdf"
    make_dump._page("identity card copy (no number on it)").save(scan, "PDF", resolution=50.0)
    ok(cli("add", str(scan), "--case", CASE, "--stage", "start", "--party", "P1",
           "--doc-type", "身份证复印件"))
    return {"video": video}


def test_identity_and_phone_numbers_appear_nowhere_outside_the_vault(cli, parties, tmp_path):
    with open(cli.store / "journal" / "events.jsonl", "ab") as f:  # a torn tail set aside later
        f.write(b'{"actor":"clerk@station1"')
    ok(cli("officer", "add", "440301123456", "--name", "李警官"))  # sets the torn tail aside
    assert list((cli.store / "journal" / "torn").iterdir())
    outputs = [cli("log", "--json"), cli("log", "--party", "P1", "--json"), cli("search", "张三", "--json"),
               cli("search", PERSON_1, "--json"), cli("case", "show", CASE, "--json"),
               cli("party", "list", "--json"), cli("party", "show", "P1", "--json"), cli("log", "--report"),
               cli("pii", "status", "--json")]
    for result in outputs:
        ok(result)
        assert leaks(result.output.encode()) == [], result.output[:300]
    ok(cli("export", "--case", CASE, str(tmp_path / "bag")))
    ok(cli("export", "--party", "P1", "--format", "html", str(tmp_path / "html")))
    ok(cli("log", "checkpoint", actor=FOUNDER))
    found = {str(p): leaks(p.read_bytes()) for p in files_outside_vault(cli.store)}
    found |= {str(p): leaks(p.read_bytes()) for folder in ("bag", "html")
              for p in (tmp_path / folder).rglob("*") if p.is_file()}
    assert {k: v for k, v in found.items() if v} == {}
    assert any(p.name.endswith("-wal") or p.name == "index.sqlite" for p in cli.store.iterdir())
    vault = b"".join(p.read_bytes() for p in (cli.store / "pii").rglob("*") if p.is_file())
    assert leaks(vault) == []  # encrypted there too


def test_the_vault_is_private_to_its_owner(cli, parties):
    vault = cli.store / "pii"
    for path in [vault, *vault.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_a_whole_number_finds_its_party_and_some_digits_find_nothing(cli, parties):
    assert cli.json("party", "show", PERSON_1)["party"]["key"] == "P1"
    assert cli.json("party", "show", "110105491231002")["party"]["key"] == "P1"  # its 15-digit form
    assert cli.json("party", "show", "138 0013 8001")["party"]["key"] == "P2"
    assert [p["key"] for p in cli.json("search", PERSON_2)["parties"]] == ["P2"]
    assert [r["digest"] for r in cli.json("search", PERSON_1)["records"]]  # the party's records
    assert cli.json("party", "list", "19491231")["parties"] == []
    assert cli.json("search", "19900101")["parties"] == []
    assert cli.json("search", "110105")["parties"] == []
    again = cli("party", "add", "--name", "张三丰", "--id-number", PERSON_1)
    assert again.exit_code == 1 and "RK432" in again.output and "P1" in again.output
    assert "identity number" in again.stderr


def test_a_second_organisation_with_one_credit_code_is_refused_naming_the_code(cli, parties):
    again = cli("party", "add", "--name", "另一家公司", "--credit-code", CREDIT)
    assert again.exit_code == 1 and again.stderr.startswith("RK432"), again.output
    assert "unified social credit code" in again.stderr and "identity number" not in again.stderr


def test_unmasking_is_journaled_first_and_needs_the_auditor_role(cli, parties, tmp_path):
    shown = cli.json("party", "show", "P1", "--show-pii")["party"]
    assert (shown["id_number"], shown["phone"]) == (PERSON_1, PHONE_1)
    last = [json.loads(x) for x in (cli.store / "journal" / "events.jsonl").read_bytes().splitlines()]
    assert [e for e in last if e["type"] == "party.pii_shown"][-1]["data"] == {"party": "P1"}
    from recordkeep.trust import keys

    key = keys.new_key(tmp_path / "clerk.key")
    ok(cli("key", "enrol", key.public_b64, "--actor", "only-a-clerk@station3", "--role", "clerk",
           actor=FOUNDER))
    os.environ["RECORDKEEP_KEY"] = str(tmp_path / "clerk.key")
    try:
        refused = cli("party", "show", "P1", "--show-pii", actor="only-a-clerk@station3")
    finally:
        del os.environ["RECORDKEEP_KEY"]
    assert refused.exit_code == 1 and "RK118" in refused.output and PERSON_1 not in refused.output


def test_unmasking_on_a_read_only_store_is_refused_and_prints_nothing(parties, store):
    with Archive.open(store, actor=FOUNDER) as archive:
        from recordkeep import errors, show_pii

        archive.readonly = True
        with pytest.raises(errors.ReadOnlyStore):
            show_pii(archive, "P1")


def test_erasure_forgets_the_numbers_and_everything_still_verifies(cli, parties, tmp_path):
    made = cli.json("log", "checkpoint", actor=FOUNDER)
    kept = tmp_path / "kept.checkpoint"
    kept.write_bytes((cli.store / "checkpoints" / f"{made['size']}.checkpoint").read_bytes())
    done = cli.json("party", "erase-pii", "P1", "--reason", "当事人申请删除(个人信息保护法第47条)",
                    actor="archivist@office")
    assert done["fields"] == ["id_number", "phone"] and done["legacy_seq"] is None
    assert not (cli.store / "pii" / "P1").exists() and not (cli.store / "pii" / "keys" / "P1.json").exists()
    gone = cli("party", "show", PERSON_1)
    assert gone.exit_code == 1 and "RK430" in gone.output
    assert cli.json("party", "show", "P1", "--show-pii")["party"]["id_number"] == "110105********002X"
    assert cli.json("party", "show", PERSON_2)["party"]["key"] == "P2"  # the others are untouched
    ok(cli("verify"))
    ok(cli("log", "verify", "--checkpoint", str(kept)))
    ok(cli("rebuild-index"))
    ok(cli("log", "verify"))
    ok(cli("export", "--case", CASE, str(tmp_path / "bag")))
    ok(cli("log", "verify", "--bag", str(tmp_path / "bag")))
    assert cli.json("pii", "status")["erased"] == 1
    again = cli("party", "erase-pii", "P1", "--reason", "again", actor="archivist@office")
    assert again.exit_code == 1 and "erased at seq" in again.output


def test_erasure_is_refused_while_a_hold_covers_the_party(cli, parties):
    ok(cli("hold", "--case", CASE, "--reason", "行政复议", actor="archivist@office"))
    refused = cli("party", "erase-pii", "P2", "--reason", "x", actor="archivist@office")
    assert refused.exit_code == 1 and "RK529" in refused.output
    assert cli.json("party", "show", PERSON_2)["party"]["key"] == "P2"


@pytest.mark.parametrize("hold", [("--case", CASE), ("--party", "P2")], ids=["case", "party"])
def test_a_hold_deleted_from_the_index_does_not_let_a_partys_numbers_be_erased(cli, parties, hold):
    """Erasure cannot be undone: the holds are read from the journal's own lines, as dispose
    reads them, and a hold the index lost (a row deleted by hand) refuses it (RK233)."""
    import sqlite3

    ok(cli("hold", *hold, "--reason", "行政复议", actor="archivist@office"))
    with sqlite3.connect(cli.store / "index.sqlite") as db:
        db.execute("DELETE FROM holds")
    refused = cli("party", "erase-pii", "P2", "--reason", "x", actor="archivist@office")
    assert refused.exit_code == 3 and refused.stderr.startswith("RK233"), refused.output
    assert "under a hold" in refused.stderr and (cli.store / "pii" / "P2").exists()
    assert cli.json("party", "show", PERSON_2)["party"]["key"] == "P2"


def test_a_party_row_deleted_from_the_index_never_hands_its_key_and_its_numbers_to_the_next_party(
        cli, parties):
    """The index gives the next key from its highest party: with P3's row deleted, the next
    party would be P3 again, and the vault's P3 (the company's phone) erased to make room. The
    journal says P3 was added: refused, nothing written or erased; a rebuilt index stands."""
    import sqlite3

    with sqlite3.connect(cli.store / "index.sqlite") as db:
        db.execute("DELETE FROM parties WHERE key = 'P3'")
    before = (cli.store / "journal" / "events.jsonl").read_bytes()
    refused = cli("party", "add", "--name", "李四", "--id-number", "11010119900307803X")
    assert refused.exit_code == 3 and refused.stderr.startswith("RK233"), refused.output
    assert (cli.store / "journal" / "events.jsonl").read_bytes() == before
    assert (cli.store / "pii" / "P3").exists()
    ok(cli("rebuild-index"))
    shown = cli.json("party", "show", "P3", "--show-pii", actor="archivist@office")["party"]
    assert shown["phone"] and "*" not in shown["phone"], shown


def test_a_second_line_adding_a_partys_key_written_by_hand_is_not_folded_and_the_index_still_rebuilds(
        cli, parties, store):
    """A party.added of P1 again (another name) written into the journal past party add's
    checks: the index keeps the first (it crashed on the duplicate key before)."""
    with Archive.open(store, actor=FOUNDER) as archive:
        signer = archive.signer()
        archive.journal.append([Draft("party.added", {"key": "P1", "kind": "person", "name": "冒名"})],
                               actor=signer.actor, at=archive.now(), expect_head=archive.journal.head().hash,
                               seal=signer.seal)
    ok(cli("rebuild-index"))
    assert cli.json("party", "show", "P1")["party"]["name"] == "张三"


def test_an_identity_document_shows_an_icon_not_its_thumbnail_in_the_dossier(cli, parties, tmp_path):
    ok(cli("export", "--party", "P1", "--format", "html", str(tmp_path / "html")))
    page = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    scan = cli.json("search", "--kind", "document")["records"][0]["digest"]
    assert not list((tmp_path / "html" / "assets" / "thumbs").glob(f"{scan}*"))
    assert "身份证复印件 shows personal information" in page
    assert list((tmp_path / "html" / "assets" / "thumbs").glob(f"{parties['video']}*"))


def test_an_export_with_pii_adds_a_tag_file_and_is_journaled(cli, parties, tmp_path):
    result = cli.json("export", "--case", CASE, str(tmp_path / "bag"), "--with-pii", actor="auditor@office")
    assert result["with_pii"] == ["P1", "P2"]
    pii = json.loads((tmp_path / "bag" / "recordkeep" / "pii.json").read_text(encoding="utf-8"))
    assert pii["P1"]["id_number"] == PERSON_1 and pii["P2"]["phone"] == PHONE_2
    assert "recordkeep/pii.json" in (tmp_path / "bag" / "tagmanifest-sha256.txt").read_text(encoding="utf-8")
    events = [json.loads(x) for x in (cli.store / "journal" / "events.jsonl").read_bytes().splitlines()]
    assert [e["data"]["party"] for e in events if e["type"] == "party.pii_shown"] == ["P1", "P2"]
    assert next(e for e in events if e["type"] == "export.created")["data"]["with_pii"] == ["P1", "P2"]
    ok(cli("log", "verify", "--bag", str(tmp_path / "bag")))
    assert cli("export", "--case", CASE, str(tmp_path / "h"), "--format", "html", "--with-pii").exit_code == 2



@pytest.mark.parametrize("dest", ["taken", "no parent/bag"])
def test_an_export_with_pii_refused_for_its_destination_journals_nothing_handed_over(cli, parties, tmp_path,
                                                                                   dest):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "kept.txt").write_text("keep me", encoding="utf-8")
    before = (cli.store / "journal" / "events.jsonl").read_bytes()
    result = cli("export", "--case", CASE, str(tmp_path / dest), "--with-pii", actor="auditor@office")
    assert result.exit_code == 1 and result.stderr[:5] in ("RK460", "RK404"), result.output
    assert (cli.store / "journal" / "events.jsonl").read_bytes() == before

# -- an older store ------------------------------------------------------------------------
@pytest.fixture
def older(tmp_path) -> Cli:
    """A store whose party was added before the vault: its journal line holds the numbers plain."""
    root = new_store(tmp_path / "older")
    with Archive.open(root, actor=FOUNDER) as archive:
        archive.commit([Draft("party.added", {"key": "P1", "kind": "person", "name": "王五",
                                              "id_number": PERSON_1, "phone": PHONE_1})])
    cli = Cli(root)
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-01"))
    return cli


def test_an_older_stores_plain_numbers_are_masked_in_every_output(older, tmp_path):
    journal = (older.store / "journal" / "events.jsonl").read_bytes()
    assert PERSON_1.encode() in journal  # the chain forbids rewriting it
    for args in (("log", "--json"), ("log", "--party", "P1", "--json"), ("party", "show", "P1", "--json"),
                 ("search", "王五", "--json"), ("case", "show", CASE, "--json"), ("party", "list", "--json")):
        result = older(*args)
        ok(result)
        assert leaks(result.output.encode()) == [], args
    assert older.json("party", "show", PERSON_1)["party"]["id_number"] == ids.mask_id_number(PERSON_1)
    status = older.json("pii", "status")
    assert status["legacy"] == 1 and status["legacy_not_erased"] == 1 and "plain" in status["reach"]
    ok(older("export", "--party", "P1", str(tmp_path / "bag"), actor=FOUNDER))
    bag = tmp_path / "bag"
    assert {k: v for k, v in {str(p): leaks(p.read_bytes()) for p in bag.rglob("*") if p.is_file()}.items()
            if v} == {}
    withheld = [json.loads(x) for x in (bag / "recordkeep" / "journal.jsonl").read_bytes().splitlines()
                if b"leaf_hash" in x]
    assert withheld and withheld[0]["masked"]["data"]["id_number_mask"] == "110105********002X"
    elsewhere = Cli(tmp_path / "no-store")
    alone = elsewhere.json("log", "verify", "--bag", str(bag))
    assert alone["ok"] and alone["proved"] >= 1
    assert older.json("log", "verify", "--bag", str(bag))["store_compared"]
    done = older.json("party", "erase-pii", "P1", "--reason", "当事人申请", actor="archivist@office")
    assert done["legacy_seq"] is not None
    assert older("party", "show", PERSON_1).exit_code == 1  # an erased party is not found by its number


def test_a_phone_two_parties_share_finds_both_and_picks_neither_alone(cli, parties):
    """张三 (P1) and a third party, 王五, give the same phone (a family's): the number names both
    wherever a party is asked for, never silently the one added last; erasing one's numbers
    leaves the other found by it, and no version of the lookup entry names the erased party."""
    ok(cli("party", "add", "--name", "王五", "--id-number", "11010119900307125X",
           "--phone", "１３９ １２３４ ５６７８"))
    shared = cli("party", "show", PHONE_1)
    assert shared.exit_code == 1 and shared.stderr.startswith("RK431"), shared.output
    assert "P1" in shared.stderr and "P4" in shared.stderr and PHONE_1 not in shared.stderr
    assert cli("hold", "--party", PHONE_1, "--reason", "行政复议").exit_code == 1
    assert [p["key"] for p in cli.json("party", "list", PHONE_1)["parties"]] == ["P1", "P4"]
    found = cli.json("search", PHONE_1)
    assert [p["key"] for p in found["parties"]] == ["P1", "P4"]
    assert found["records"] and all("P1" in r["parties"] for r in found["records"])  # P4 has none
    assert cli.json("party", "show", PERSON_1)["party"]["key"] == "P1"  # an identity number is one's own

    ok(cli("party", "erase-pii", "P1", "--reason", "当事人申请删除(个人信息保护法第47条)",
           actor="archivist@office"))
    assert cli.json("party", "show", PHONE_1)["party"]["key"] == "P4"
    entries = [p.read_bytes().split() for p in (cli.store / "pii" / "lookup").iterdir()]
    assert [b"P4"] in entries and not [e for e in entries if b"P1" in e]


TYPED = "当事人张三（身份证 {id}，电话 １３９-1234-5678）拒不配合"


@pytest.mark.parametrize("args", [
    ("case", "open", "坡城管罚〔2026〕8号", "--party", "P2", "--at", "2021-03-01", "--title", TYPED),
    ("case", "stage", CASE, "investigate", "--at", "2021-03-02 10:00", "--note", TYPED),
    ("hold", "--case", CASE, "--reason", TYPED),
    ("party", "add", "--name", "王五", "--credit-code", "91440300MA5DC7DA3Y", "--address", TYPED),
    ("record", "set", "{video}", "--doc-type", "身份证 {id}", "--reason", "更正"),
    ("record", "set", "{video}", "--doc-type", "现场照片", "--reason", TYPED),
])
def test_an_identity_or_phone_number_typed_into_journaled_text_is_refused_and_nothing_is_written(
        cli, parties, args):
    journal = (cli.store / "journal" / "events.jsonl").read_bytes()
    filled = [a.format(id=PERSON_1, video=parties["video"]) for a in args]
    result = cli(*filled, actor="archivist@office")
    assert result.exit_code == 1 and result.stderr.startswith("RK481"), result.output
    assert "110105********002X" in result.stderr or "139****5678" in result.stderr
    assert leaks(result.output.encode()) == [] and "1234-5678" not in result.output
    assert (cli.store / "journal" / "events.jsonl").read_bytes() == journal


def test_numbers_in_what_is_only_read_are_searched_as_before(cli, parties):
    assert cli.json("party", "show", PERSON_1)["party"]["key"] == "P1"
    assert [p["key"] for p in cli.json("search", PHONE_1)["parties"]] == ["P1"]
    assert cli.json("party", "list", PERSON_1)["parties"][0]["key"] == "P1"


def test_a_number_in_a_file_name_is_masked_in_the_journal_and_the_receipt_and_the_file_is_stored(
        cli, parties, tmp_path):
    folder = tmp_path / f"张三_{PHONE_1}"
    folder.mkdir()
    scan = folder / f"身份证_{PERSON_1}.pdf"
    scan.write_bytes(b"%PDF-1.4 a scan named after the card")
    with open(os.fsencode(folder) + f"/回执_{PERSON_1}_".encode() + b"\xff.bin", "wb") as f:  # not UTF-8
        f.write(b"receipt")
    result = cli("import", str(folder), "--json")
    assert result.exit_code == 0, result.output
    assert leaks(result.stdout.encode()) == [] and "110105********002X" in cli("search", "身份证").output
    journal = (cli.store / "journal" / "events.jsonl").read_bytes()
    assert leaks(journal) == [] and b"110105********002X" in journal and b"139****5678" in journal
    assert PERSON_1.encode().hex().encode() not in journal  # nor in a name that is not UTF-8
    assert json.loads(result.stdout)["stored"] == 2


def test_an_identity_number_as_an_officers_or_a_devices_number_is_refused(cli, parties):
    journal = (cli.store / "journal" / "events.jsonl").read_bytes()
    for args in (("officer", "add", PERSON_2, "--name", "王五"),
                 ("device", "add", PERSON_2, "--unit", "一中队"),
                 ("case", "stage", CASE, "investigate", "--at", "2021-03-02 10:00", "--officer", PERSON_2)):
        result = cli(*args)
        assert result.exit_code == 1 and result.stderr.startswith("RK481"), result.output
        assert PERSON_2 not in result.output and "440304********0011" in result.stderr
    assert (cli.store / "journal" / "events.jsonl").read_bytes() == journal
    ok(cli("officer", "add", "13912345678", "--name", "赵六"))  # 11 digits: a certificate number may be


def test_numbers_in_an_export_path_a_settings_value_and_a_symlinks_target_are_masked_in_the_journal(
        cli, parties, tmp_path):
    toml = cli.store / "recordkeep.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[duty]\ncontact = "值班 {PHONE_1}"\n',
                    encoding="utf-8")
    ok(cli("export", "--case", CASE, str(tmp_path / f"张三_{PERSON_1}"), "--with-pii",
           actor="auditor@office"))
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "link").symlink_to(tmp_path / f"{PHONE_1}_secret.jpg")
    (dump / "clip.bin").write_bytes(b"clip")
    printed = cli("import", str(dump))
    assert "139****5678_secret.jpg" in printed.output and PHONE_1 not in printed.output
    journal = (cli.store / "journal" / "events.jsonl").read_bytes()
    assert leaks(journal) == []
    assert "110105********002X" in journal.decode() and "值班 139****5678" in journal.decode()
    assert (tmp_path / f"张三_{PERSON_1}" / "bagit.txt").exists()  # the bag is where it was asked to go
