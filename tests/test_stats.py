"""`stats`: the year's figures, computed exactly from the store."""

from __future__ import annotations

from decimal import Decimal

from tests.test_check import CASE, A, B, add_parties, full_case, ok, open_case, record

C = "440301999999"


def decisions_by_show(cli, *cases: str) -> list[dict]:
    return [d for c in cases for d in cli.json("case", "show", c)["decisions"]]


def test_totals_equal_the_sum_of_the_decisions_exactly(cli, tmp_path):
    add_parties(cli)
    full_case(cli, tmp_path, CASE, "P1", amount="10000")
    second = "坡城管罚〔2021〕13号"
    open_case(cli, tmp_path, second, "P2", at="2021-05-01")
    ok(cli("case", "decide", second, "--penalty-kind", "罚款", "--amount", "2615135.05",
           "--at", "2021-05-20"))
    third = "坡城管罚〔2021〕14号"
    open_case(cli, tmp_path, third, "P1", at="2021-06-01")
    ok(cli("case", "decide", third, "--penalty-kind", "warning", "--at", "2021-06-02"))
    old = "坡城管罚〔2020〕2号"
    open_case(cli, tmp_path, old, "P2", at="2020-06-01")
    ok(cli("case", "decide", old, "--penalty-kind", "fine", "--amount", "0.10", "--at", "2020-06-02"))

    data = cli.json("stats", "--year", "2021")
    shown = decisions_by_show(cli, CASE, second, third)
    total = sum(Decimal(d["amount"]) for d in shown if d["amount"])
    assert data["decisions"]["total_amount"] == str(total) == "2625135.05"
    assert data["decisions"]["count"] == 3
    assert data["decisions"]["by_kind"] == {"warning": {"count": 1, "amount": None},
                                            "fine": {"count": 2, "amount": "2625135.05", "unvalued": 0}}
    everything = cli.json("stats")["decisions"]
    assert everything["count"] == 4 and everything["total_amount"] == "2625135.15"

    cases = data["cases"]
    assert cases["total"] == 3 and cases["by_status"] == {"closed": 1, "open": 2}
    assert cases["by_stage"] == {"start": 3, "investigate": 1, "decide": 3, "serve": 1}

    majors = {m["case_no"]: m for m in data["major_decisions"]["decisions"]}
    assert set(majors) == {CASE, second}
    assert majors[CASE]["reviewed"] is True and majors[CASE]["legal_review"] == "before"
    assert majors[second]["reviewed"] is False and majors[second]["collective_discussion"] == "missing"
    assert data["major_decisions"]["count"] == 2 and data["major_decisions"]["reviewed"] == 1
    assert cli("stats", "--year", "2021").exit_code == 0



def test_renaming_an_officer_keeps_the_unit_and_post_not_given_and_clears_one_given_empty(cli):
    ok(cli("officer", "add", "440301123456", "--name", "李四", "--unit", "一中队", "--post", "法制审核"))
    renamed = cli.json("officer", "add", "440301123456", "--name", "李四四")
    assert (renamed["unit"], renamed["post"]) == ("一中队", "法制审核")
    listed = {o["cert_no"]: o for o in cli.json("officer", "list")["officers"]}["440301123456"]
    assert (listed["name"], listed["unit"], listed["post"]) == ("李四四", "一中队", "法制审核")
    ok(cli("officer", "add", "440301123456", "--name", "李四四", "--post", ""))
    listed = {o["cert_no"]: o for o in cli.json("officer", "list")["officers"]}["440301123456"]
    assert (listed["unit"], listed["post"]) == ("一中队", None)

def test_records_officers_and_devices(cli, tmp_path):
    ok(cli("officer", "add", A, "--name", "李四"))
    ok(cli("officer", "add", B, "--name", "王五"))
    ok(cli("officer", "add", C, "--name", "赵六"))
    ok(cli("device", "add", "DSJ001", "--officer", A, "--from", "2021-01-01"))
    ok(cli("device", "add", "DSJ002", "--officer", B, "--from", "2021-01-01", "--until", "2021-06-30"))
    ok(cli("device", "add", "DSJ002", "--officer", C, "--from", "2021-07-01"))
    sizes = []
    for n, (device, officer, day) in enumerate([("DSJ001", A, "20210315"), ("DSJ001", A, "20210316"),
                                                ("DSJ002", B, "20210317"), ("DSJ002", C, "20210801"),
                                                ("DSJ001", A, "20200101")]):
        content = f"clip {n}".encode() * (n + 1)
        sizes.append(len(content))
        record(cli, tmp_path, name=f"{device}_{officer}_{day}083000_{n:04d}.bin", content=content)
    data = cli.json("stats", "--year", "2021")
    assert data["records"]["count"] == 4 and data["records"]["bytes"] == sum(sizes[:4])
    assert data["records"]["by_kind"] == {"other": {"count": 4, "bytes": sum(sizes[:4]), "disposed": 0}}
    per_officer = {x["officer"]: x["records"] for x in data["records_per_officer"]}
    assert per_officer == {A: 2, B: 1, C: 1}
    assert {x["device"]: x["records"] for x in data["records_per_device"]} == {"DSJ001": 2, "DSJ002": 2}
    assert data["devices_in_service"] == [{"device": "DSJ001", "officers": [A], "units": []},
                                          {"device": "DSJ002", "officers": [B, C], "units": []}]
    assert data["shared_devices"] == []  # DSJ002 was handed over (B until 30 June, C from 1 July)
    assert data["officers_without_device"] == []

    now = cli.json("stats")
    assert now["records"]["count"] == 5
    assert now["devices_in_service"] == [{"device": "DSJ001", "officers": [A], "units": []},
                                         {"device": "DSJ002", "officers": [C], "units": []}]
    assert [o["cert_no"] for o in now["officers_without_device"]] == [B]
    assert cli.json("stats", "--year", "2019")["records"]["count"] == 0
    result = cli("stats")
    assert result.exit_code == 0 and "DSJ002" in result.stdout
    assert f"officer without a device: {B}" in result.stdout


def test_a_window_that_ends_before_it_starts_names_the_times_as_typed(cli):
    ok(cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X"))
    ok(cli("officer", "add", A, "--name", "李四"))
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-03-01"))
    result = cli("case", "link", CASE, "--officer", A, "--from", "2021-03-15", "--to", "2021-03-14",
                 "--stage", "start")
    assert result.exit_code == 1 and "(2021-03-14) before it starts (2021-03-15)" in result.stderr
