"""Commands refuse what cannot be: a second close, a link for a party not in the case."""

from __future__ import annotations

import pytest

from .test_check import CASE, A, B, add_parties, ok, open_case, record


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
    reason = refused(cli("case", "close", "坡城管罚[2021]12号", "--at", "2021-11-01"), "RK470")
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
