"""Commands refuse what cannot be: a second close, a link for a party not in the case, a
device assigned to two officers at once (naming the overlap). A handover is not an overlap,
and `stats` does not call a handed-over device shared."""

from __future__ import annotations

import pytest

from recordkeep import Archive
from recordkeep.store.journal import Draft

from .test_check import CASE, A, B, add_parties, ok, open_case, record

C = "440301999999"


def refused(result, code: str) -> str:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(code) and result.stdout == "", result.output
    return result.stderr


@pytest.fixture
def opened(cli, tmp_path) -> None:
    """CASE opened for P1 only; P2 exists but is no party of it."""
    add_parties(cli)
    open_case(cli, tmp_path, CASE, "P1")


# -- closing --------------------------------------------------------------------------------
def test_a_second_close_is_refused_and_the_first_date_stays(cli, opened, store):
    ok(cli("case", "close", CASE, "--at", "2021-10-20"))
    before = (store / "journal" / "events.jsonl").read_bytes()
    reason = refused(cli("case", "close", "坡城管罚[2021]12号", "--at", "2021-11-01"), "RK475")
    assert "closed already" in reason and "2021-10-20" in reason
    assert (store / "journal" / "events.jsonl").read_bytes() == before
    assert cli.json("case", "show", CASE)["case"]["closed_at"].startswith("2021-10-20")


# -- links ----------------------------------------------------------------------------------
def test_a_link_for_a_party_not_in_the_case_is_refused_by_digest_by_window_and_by_add(cli, opened, tmp_path):
    clip = record(cli, tmp_path, name=f"DSJ001_{A}_20210910090000_0001.bin")
    reason = refused(cli("case", "link", CASE, clip, "--stage", "investigate", "--party", "P2"), "RK430")
    assert "P2 is not a party of case" in reason and "P1" in reason
    refused(cli("case", "link", CASE, "--officer", A, "--from", "2021-09-10", "--to", "2021-09-10",
                "--stage", "investigate", "--party", "P2"), "RK430")
    refused(cli("case", "link", CASE, "--officer", B, "--from", "2021-09-10", "--to", "2021-09-10",
                "--stage", "investigate", "--party", "P2"), "RK430")  # even when the window finds nothing
    scan = tmp_path / "询问笔录.txt"
    scan.write_text("询问笔录 of P2")
    refused(cli("add", str(scan), "--case", CASE, "--stage", "investigate", "--party", "P2"), "RK430")
    assert cli.json("search", "--party", "P2")["records"] == []
    assert cli.json("case", "link", CASE, clip, "--stage", "investigate", "--party", "P1")["linked"] == [clip]


# -- device assignments -----------------------------------------------------------------------
def test_an_assignment_to_a_unit_that_overlaps_another_is_refused_naming_both_holders(cli, store):
    ok(cli("device", "add", "DSJ003", "--unit", "三中队"))
    reason = refused(cli("device", "add", "DSJ003", "--unit", "三中队"), "RK476")
    assert "device DSJ003 to unit 三中队" in reason and "its assignment to unit 三中队" in reason
    ok(cli("device", "add", "DSJ004", "--officer", A, "--from", "2021-01-01", "--until", "2021-06-30"))
    reason = refused(cli("device", "add", "DSJ004", "--unit", "二中队", "--from", "2021-03-01",
                         "--until", "2021-04-01"), "RK476")
    assert f"its assignment to {A}" in reason


def test_an_overlapping_assignment_is_refused_naming_the_one_it_overlaps(cli, store):
    ok(cli("device", "add", "DSJ002", "--officer", A, "--from", "2021-01-01", "--until", "2021-06-30"))
    before = (store / "journal" / "events.jsonl").read_bytes()
    reason = refused(cli("device", "add", "DSJ002", "--officer", B, "--from", "2021-06-01"), "RK476")
    assert f"overlaps its assignment to {A} from 2021-01-01 00:00 until 2021-07-01 00:00" in reason
    refused(cli("device", "add", "DSJ002", "--officer", B, "--until", "2021-03-01"), "RK476")  # no start
    refused(cli("device", "add", "DSJ002", "--officer", B, "--from", "2021-03-01", "--until", "2021-04-01"),
            "RK476")
    assert (store / "journal" / "events.jsonl").read_bytes() == before
    # a bare --until includes its day: ending on 31 December touches A's start, 1 January would overlap it
    refused(cli("device", "add", "DSJ002", "--officer", B, "--from", "2020-01-01", "--until", "2021-01-01"),
            "RK476")
    ok(cli("device", "add", "DSJ002", "--officer", B, "--from", "2020-01-01", "--until", "2020-12-31"))


def test_a_handover_is_accepted_and_not_shared_in_stats(cli, tmp_path):
    add_parties(cli)
    ok(cli("device", "add", "DSJ002", "--officer", A, "--from", "2021-01-01", "--until", "2021-06-30"))
    ok(cli("device", "add", "DSJ002", "--officer", B, "--from", "2021-07-01"))  # where A's ends
    ok(cli("device", "add", "DSJ002", "--officer", C, "--from", "2021-09-01"))  # inside B's open one: ends it
    devices = cli.json("device", "list")["devices"]
    spans = [(d["officer"], d["from"][:10], (d["until"] or "")[:10]) for d in devices]
    assert spans == [(A, "2021-01-01", "2021-07-01"), (B, "2021-07-01", "2021-09-01"), (C, "2021-09-01", "")]
    for n, (officer, day) in enumerate(((A, "20210315"), (B, "20210801"), (C, "20211001"))):
        record(cli, tmp_path, name=f"DSJ002_{officer}_{day}083000_{n:04d}.bin")
    data = cli.json("stats", "--year", "2021")
    assert data["devices_in_service"] == [{"device": "DSJ002", "officers": [A, B, C], "units": []}]
    assert data["shared_devices"] == []
    assert "device shared" not in cli("stats", "--year", "2021").stdout


def test_a_device_two_officers_held_at_once_is_shared(cli, tmp_path, store):
    """Assignments that overlap (written before they were refused), or a record made with a
    device assigned then to another officer, are sharing."""
    with Archive.open(store, actor="clerk@station1") as archive:
        archive.commit([Draft("device.assigned", {"device": "DSJ003", "officer": A,
                                                  "from": "2021-01-01T00:00:00.000+08:00",
                                                  "until": "2021-06-30T00:00:00.000+08:00"}),
                        Draft("device.assigned", {"device": "DSJ003", "officer": B,
                                                  "from": "2021-03-01T00:00:00.000+08:00",
                                                  "until": "2021-04-01T00:00:00.000+08:00"})])
    ok(cli("device", "add", "DSJ004", "--officer", A, "--from", "2021-01-01"))
    record(cli, tmp_path, name=f"DSJ004_{C}_20210520160000_0001.bin")  # C used A's recorder
    data = cli.json("stats", "--year", "2021")
    assert data["shared_devices"] == [{"device": "DSJ003", "officers": [A, B]},
                                      {"device": "DSJ004", "officers": [A, C]}]
    assert cli.json("stats", "--year", "2022")["shared_devices"] == []


def _officer_of(cli, digest: str) -> str | None:
    found = [r for r in cli.json("search", "--device", "DSJ002")["records"] if r["digest"].startswith(digest)]
    assert len(found) == 1, found
    return found[0]["officer"]


def test_a_backdated_handover_that_would_move_records_to_another_officer_is_refused_until_confirmed(
        cli, tmp_path, store):
    ok(cli("device", "add", "DSJ002", "--officer", A, "--from", "2021-01-01"))
    clip = record(cli, tmp_path, name="DSJ002_20210315083000_0001.bin")  # the name names no officer
    assert _officer_of(cli, clip) == A
    before = (store / "journal" / "events.jsonl").read_bytes()
    reason = refused(cli("device", "add", "DSJ002", "--officer", B, "--from", "2021-03-01"), "RK484")
    assert "would move 1 record(s)" in reason and A in reason and clip[:12] in reason
    assert "--reattribute" in reason
    assert (store / "journal" / "events.jsonl").read_bytes() == before and _officer_of(cli, clip) == A
    refused(cli("device", "add", "DSJ002", "--unit", "三中队", "--from", "2021-03-01"), "RK484")  # to no one

    assert cli.json("device", "add", "DSJ002", "--officer", B, "--from", "2021-03-01",
                    "--reattribute")["records_attributed"] == 1
    assert _officer_of(cli, clip) == B
    custody = cli.json("log", "--record", clip)["events"]
    moved = [e for e in custody if e["type"] == "device.assigned"]
    assert [e["data"]["reattributed"] for e in moved] == [1]
    assert "follows the assignment" in moved[0]["summary"]
    ok(cli("rebuild-index"))
    assert [e["seq"] for e in cli.json("log", "--record", clip)["events"]] == [e["seq"] for e in custody]


def test_a_late_assignment_of_records_no_officer_had_needs_no_confirmation_and_shows_in_their_custody(
        cli, tmp_path):
    clip = record(cli, tmp_path, name="DSJ002_20210315083000_0001.bin")
    later = record(cli, tmp_path, name="DSJ002_20210915083000_0002.bin")
    assert _officer_of(cli, clip) is None
    result = cli("device", "add", "DSJ002", "--officer", A, "--from", "2021-01-01", "--until", "2021-06-30")
    assert "1 record(s) made with it in the period attributed anew" in ok(result).stdout
    assert _officer_of(cli, clip) == A and _officer_of(cli, later) is None
    assert "device.assigned" in [e["type"] for e in cli.json("log", "--record", clip)["events"]]
    assert "device.assigned" not in [e["type"] for e in cli.json("log", "--record", later)["events"]]


def test_a_loan_for_a_while_inside_an_open_ended_assignment_is_refused_not_a_cut(cli, tmp_path):
    """Accepted, it ended A's assignment at the loan's start and left the months after it with
    no holder: a loan is a handover and another back."""
    ok(cli("device", "add", "DSJ002", "--officer", A, "--from", "2021-01-01"))
    reason = refused(cli("device", "add", "DSJ002", "--officer", B, "--from", "2021-03-01",
                         "--until", "2021-03-31"), "RK476")
    assert f"its assignment to {A}" in reason and "a loan for a while is a handover" in reason
    ok(cli("device", "add", "DSJ002", "--officer", B, "--from", "2021-03-01"))
    ok(cli("device", "add", "DSJ002", "--officer", A, "--from", "2021-04-01"))
    devices = cli.json("device", "list")["devices"]
    spans = [(d["officer"], d["from"][:10], (d["until"] or "")[:10]) for d in devices]
    assert spans == [(A, "2021-01-01", "2021-03-01"), (B, "2021-03-01", "2021-04-01"), (A, "2021-04-01", "")]



# -- roles first, and names that are journaled forever ---------------------------------------
@pytest.fixture
def clerk_only(cli, tmp_path):
    """A key with the clerk role alone, enrolled by the founder, as clerkonly@station3."""
    from recordkeep.trust import keys

    path = keys.key_path("clerkonly@station3")
    key = keys.load_key(path) if path.exists() else keys.new_key(path)
    ok(cli("key", "enrol", key.public_b64, "--actor", "clerkonly@station3", "--role", "clerk",
           actor="tester@test"))
    return "clerkonly@station3"


@pytest.mark.parametrize("args", [("dispose", "0" * 12, "--reason", "x"),
                                  ("key", "revoke", "zzz", "--reason", "x")], ids=["dispose", "revoke"])
def test_a_key_without_the_role_is_told_so_before_anything_about_what_it_named(cli, clerk_only, args):
    """A clerk's dispose of a record that is not due, or revoke of a key that does not exist,
    is refused for the role (RK118), not for what it named: she learns nothing of the store."""
    assert refused(cli(*args, actor=clerk_only), "RK118")


def test_an_actor_name_holding_an_identity_number_is_refused_at_enrolment(cli, tmp_path):
    """Every event the key signs names its actor, forever: no identity number in it (RK481)."""
    from recordkeep.trust import keys

    key = keys.new_key(tmp_path / "k.key")
    result = cli("key", "enrol", key.public_b64, "--actor", "u11010519491231002X", "--role", "auditor",
                 actor="tester@test")
    assert refused(result, "RK481") and "11010519491231002X" not in result.stderr


def test_erasing_a_party_with_no_number_in_the_vault_is_refused_and_journals_nothing(cli, opened, store):
    """P2, an organisation given no phone, has nothing to erase: an empty erasure would mark it
    erased for ever and say nothing true."""
    before = (store / "journal" / "events.jsonl").read_bytes()
    reason = refused(cli("party", "erase-pii", "P2", "--reason", "申请", actor="tester@test"), "RK4")
    assert "nothing to erase" in reason
    assert (store / "journal" / "events.jsonl").read_bytes() == before


def test_an_export_to_a_file_says_it_is_a_file_not_that_it_is_not_empty(cli, opened, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    reason = refused(cli("export", "--case", CASE, str(target), actor="tester@test"), "RK460")
    assert "is a file, not a folder" in reason
