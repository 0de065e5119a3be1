"""`check`: each rule of the three enforcement systems, both kept and broken, through the real CLI."""

from __future__ import annotations

import itertools
import subprocess
import time
from datetime import date
from pathlib import Path

import ffmpeg
import pytest

from recordkeep import errors, workdays

from .mounts import read_only_view

CASE = "坡城管罚〔2021〕12号"
PERSON = "11010519491231002X"
ORG = "91512081MA62K0260E"
A, B = "440301123456", "440301654321"
_unique = itertools.count()


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def record(cli, tmp_path: Path, *args: str, name: str | None = None, content: bytes | None = None) -> str:
    """Add a real file (unique bytes) with ``args`` (e.g. --case/--stage/--doc-type); its digest."""
    n = next(_unique)
    path = tmp_path / (name or f"scan-{n}.txt")
    path.write_bytes(content if content is not None else f"scan {n} {time.time_ns()}".encode())
    data = cli.json("add", str(path), *args)
    assert data["files"][0]["status"] in ("stored", "present"), data
    return data["files"][0]["digest"]


def check(cli, *args: str) -> dict:
    return cli.json("check", *args)


def codes(cli, *args: str) -> set[str]:
    return {f["code"] for c in check(cli, *args)["cases"] for f in c["findings"]}


def findings(cli, code: str, *args: str) -> list[dict]:
    return [f for c in check(cli, *args)["cases"] for f in c["findings"] if f["code"] == code]


def set_rules(store: Path, text: str) -> None:
    with open(store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write("\n" + text + "\n")


def add_parties(cli) -> None:
    """P1, a person, and P2, an organisation; and the officers A and B the cases name, registered."""
    ok(cli("party", "add", "--name", "张三", "--id-number", PERSON))
    ok(cli("party", "add", "--name", "湛江某某建材有限公司", "--credit-code", ORG))
    ok(cli("officer", "add", A, "--name", "李四"))
    ok(cli("officer", "add", B, "--name", "王五"))


@pytest.fixture
def parties(cli) -> None:
    add_parties(cli)


def open_case(cli, tmp_path: Path, case: str = CASE, party: str = "P1", at: str = "2021-09-01") -> str:
    """A case opened with its 立案 record linked (so the start stage is recorded)."""
    ok(cli("case", "open", case, "--party", party, "--at", at, "--officer", A, "--officer", B))
    record(cli, tmp_path, "--case", case, "--stage", "start", "--doc-type", "立案审批表")
    return case


def review_act(cli, tmp_path: Path, case: str, at: str, action: str, *more: str) -> int:
    """A review act (法制审核, 集体讨论) typed from its paper record, linked to the case: the way an
    act entered after the fact still counts (a bare typed act entered days later does not)."""
    paper = record(cli, tmp_path, "--case", case, "--stage", "decide", "--doc-type", action + "签批单")
    return cli.json("case", "stage", case, "decide", "--at", at, "--action", action,
                    "--transcribed-from", paper, *more)["seq"]


def on_site(cli, tmp_path: Path, case: str, at: str, *more: str) -> int:
    """An on-site inspection by A and B typed from its site record (现场检查笔录), linked to the
    case: the way an on-site act entered after the fact still shows who took part."""
    paper = record(cli, tmp_path, "--case", case, "--stage", "investigate", "--doc-type", "现场检查笔录")
    return cli.json("case", "stage", case, "investigate", "--at", at, "--on-site", "--officer", A,
                    "--officer", B, "--transcribed-from", paper, *more)["seq"]


def publish(cli, tmp_path: Path, case: str, at: str) -> None:
    """The publication typed from the record of its notice, linked to the case: the way a
    publication entered after the fact still counts on its date (docs/rules.md)."""
    notice = record(cli, tmp_path, "--case", case, "--stage", "decide", "--doc-type", "行政处罚决定公示")
    ok(cli("case", "publish", case, "--at", at, "--transcribed-from", notice))


def full_case(cli, tmp_path: Path, case: str = CASE, party: str = "P1", amount: str = "10000") -> str:
    """A closed case that keeps every rule: the clean case."""
    open_case(cli, tmp_path, case, party)
    on_site(cli, tmp_path, case, "2021-09-10 09:00")
    for at, action, officer in (("2021-09-20 10:00", "法制审核", A), ("2021-09-22 15:00", "集体讨论", B)):
        review_act(cli, tmp_path, case, at, action, "--officer", officer)
    ok(cli("case", "decide", case, "--penalty-kind", "fine", "--amount", amount, "--at", "2021-09-24"))
    record(cli, tmp_path, "--case", case, "--stage", "decide", "--doc-type", "行政处罚决定书")
    publish(cli, tmp_path, case, "2021-10-09")
    ok(cli("case", "stage", case, "serve", "--at", "2021-10-12 10:00", "--officer", A, "--officer", B))
    record(cli, tmp_path, "--case", case, "--stage", "serve", "--doc-type", "送达回证")
    ok(cli("case", "close", case, "--at", "2021-10-20"))
    return case


# -- a clean case ------------------------------------------------------------------------------
def test_a_case_that_keeps_every_rule_is_clean_and_exits_0(cli, parties, tmp_path):
    full_case(cli, tmp_path)
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert "0 broken" in result.stdout and result.stdout.rstrip().endswith("OK")
    data = check(cli, "--case", "坡城管罚[2021]12号")
    assert data["ok"] is True and data["broken"] == 0 and data["cases_checked"] == 1
    assert data["cases"][0]["findings"] == []


def test_check_without_cases_is_clean(cli):
    assert cli("check").exit_code == 0


# -- two officers on site ----------------------------------------------------------------------
def test_one_officer_on_site_breaks_rk501_and_exits_4(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-09-10 09:00", "--on-site", "--officer", A))
    record(cli, tmp_path, "--case", CASE, "--stage", "investigate")
    result = cli("check")
    assert result.exit_code == 4
    assert "RK501" in result.stdout and "fix:" in result.stdout
    [f] = findings(cli, "RK501")
    assert f["officers"] == [A] and f["stage"] == "investigate" and f["status"] == "broken"


def test_two_officers_on_site_keep_the_rule(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    on_site(cli, tmp_path, CASE, "2021-09-10 09:00")
    assert cli("check").exit_code == 0


def test_two_officers_on_site_typed_long_after_from_no_paper_are_a_claim_that_breaks_rk501(
        cli, parties, tmp_path, monkeypatch):
    """A two-officer 查封 typed years later names whoever the clerk types: a claim, until typed
    from the site record the officers signed; one entered the day it happened counts as typed."""
    entered_on(monkeypatch, "2021-09-10T18:00:00.000+08:00")
    open_case(cli, tmp_path)
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-09-10 10:00", "--action", "现场检查",
           "--on-site", "--officer", A, "--officer", B))
    record(cli, tmp_path, "--case", CASE, "--stage", "investigate")
    early = cli("check")
    assert early.exit_code == 0, early.output  # entered the day it happened: it counts as typed
    monkeypatch.undo()
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-09-10 09:00", "--on-site",
           "--officer", A, "--officer", B))
    result = cli("check")
    assert result.exit_code == 4 and "RK501" in result.stdout and "entered late" in result.stdout
    [f] = findings(cli, "RK501")
    assert f["officers"] == [A, B] and f["entered_late"] is True and f["status"] == "broken"


def test_a_demolition_is_on_site_without_the_flag_and_the_same_officer_twice_counts_once(cli, parties,
                                                                                         tmp_path):
    open_case(cli, tmp_path)
    ok(cli("case", "stage", CASE, "serve", "--at", "2021-10-12 09:00", "--action", "强制拆除",
           "--officer", A, "--officer", A))
    assert [f["officers"] for f in findings(cli, "RK501")] == [[A]]


# -- major decisions: thresholds ---------------------------------------------------------------
@pytest.mark.parametrize(("party", "amount", "inclusive", "major"), [
    ("P1", "10000.00", True, True),
    ("P1", "9999.99", True, False),
    ("P1", "10000.00", False, False),
    ("P1", "10000.01", False, True),
    ("P2", "100000.00", True, True),
    ("P2", "99999.99", True, False),
    ("P2", "100000.00", False, False),
    ("P2", "100000.01", False, True),
    ("P2", "10000.00", True, False),  # an organisation is judged by its own threshold
])
def test_a_fine_is_major_at_or_above_its_threshold_as_configured(cli, store, parties, tmp_path, party,
                                                                 amount, inclusive, major):
    if not inclusive:
        set_rules(store, "[rules]\nmajor_fine_inclusive = false")
    open_case(cli, tmp_path, party=party)
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", amount, "--at", "2021-09-24"))
    found = codes(cli)
    assert ("RK502" in found) is major and ("RK503" in found) is major


def test_thresholds_come_from_recordkeep_toml(cli, store, parties, tmp_path):
    set_rules(store, '[rules]\nmajor_fine_person = "5000"\nmajor_fine_organisation = 50000')
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "5000", "--at", "2021-09-24"))
    assert "RK502" in codes(cli)


def test_check_names_the_rules_recordkeep_toml_sets_otherwise_than_the_defaults(
        cli, store, parties, tmp_path):
    full_case(cli, tmp_path)
    assert check(cli)["rules_changed"] == {}
    assert "otherwise than the defaults" not in cli("check").stdout
    set_rules(store, '[rules]\nmajor_fine_person = "1000000"\nlegal_review_actions = ["法制审核", "审核"]')
    assert check(cli)["rules_changed"] == {
        "major_fine_person": {"value": "1000000", "default": "10000"},
        "legal_review_actions": {"value": ["法制审核", "审核"], "default": ["法制审核"]}}
    said = cli("check").stdout  # the file is not in the journal: an auditor reads what was in force here
    assert 'major_fine_person = "1000000" (default "10000")' in said
    assert 'legal_review_actions = ["法制审核", "审核"] (default ["法制审核"])' in said


@pytest.mark.parametrize(("kind", "major"), [("suspend", True), ("revoke", True), ("warning", False)])
def test_suspension_and_revocation_are_major_whatever_the_amount(cli, parties, tmp_path, kind, major):
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", kind, "--at", "2021-09-24"))
    assert ("RK502" in codes(cli)) is major


@pytest.mark.parametrize("line", ["bogus = 1", "major_fine_person = 10000.5", 'major_kinds = ["fines"]',
                                  'major_fine_inclusive = "yes"'])
def test_a_bad_rules_table_is_a_configuration_error(cli, store, parties, line):
    set_rules(store, "[rules]\n" + line)
    result = cli("check")
    assert result.exit_code == 1 and result.stderr.startswith("RK104"), result.output


# -- major decisions: review before the decision ------------------------------------------------
def test_a_review_dated_after_the_decision_breaks_rk502(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    review_act(cli, tmp_path, CASE, "2021-09-25 10:00", "法制审核")
    review_act(cli, tmp_path, CASE, "2021-09-22 10:00", "集体讨论")
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24 16:00"))
    [f] = findings(cli, "RK502")
    assert f["review"] == "after" and "after the decision" in f["message"]
    assert findings(cli, "RK503") == []


def test_a_review_on_the_day_of_a_bare_dated_decision_comes_before_it(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    review_act(cli, tmp_path, CASE, "2021-09-24 10:00", "法制审核")
    review_act(cli, tmp_path, CASE, "2021-09-24 11:00", "集体讨论")
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    assert not {"RK502", "RK503"} & codes(cli)


def _pdf(path: Path, utc: str) -> Path:
    from PIL import Image

    Image.new("L", (40, 40), 255).save(path, creationDate=time.strptime(utc, "%Y-%m-%d %H:%M"))
    return path


def entered_on(monkeypatch, iso: str) -> None:
    """Everything journaled from now on is journaled at ``iso`` (the station's clock then): a
    store kept as things happen."""
    from recordkeep import Archive

    monkeypatch.setattr(Archive, "now", lambda self: iso)


def test_linked_review_documents_entered_on_time_count_and_an_undated_one_is_unknown(cli, parties, tmp_path,
                                                                                     monkeypatch):
    entered_on(monkeypatch, "2021-09-24T18:00:00.000+08:00")
    open_case(cli, tmp_path)
    _pdf(tmp_path / "review.pdf", "2021-09-22 02:00")  # 10:00 in Shanghai, two days before it entered
    data = cli.json("add", str(tmp_path / "review.pdf"), "--case", CASE, "--stage", "decide",
                    "--doc-type", "法制审核意见书")
    assert data["files"][0]["status"] == "stored"
    # a .txt carries no date
    record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "集体讨论记录")
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    entered_on(monkeypatch, "2021-09-27T18:00:00.000+08:00")
    ok(cli("case", "publish", CASE, "--at", "2021-09-27"))
    report = check(cli)
    found = {f["code"]: f for f in report["cases"][0]["findings"]}
    assert set(found) == {"RK510"}
    assert found["RK510"]["status"] == "unknown" and "集体讨论" in found["RK510"]["message"]
    assert report["ok"] is True and report["unknown"] == 1
    assert cli("check").exit_code == 0
    assert cli("check", "--strict").exit_code == 4


def test_a_review_document_dated_by_itself_long_before_it_reached_the_store_is_a_claim_not_evidence(
        cli, parties, tmp_path):
    """A clerk's PDF whose CreationDate says 2021, first imported years later, proves no review
    before the decision: the metadata is the file maker's to write."""
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    _pdf(tmp_path / "review.pdf", "2021-09-20 02:00")
    ok(cli("add", str(tmp_path / "review.pdf"), "--case", CASE, "--stage", "decide",
           "--doc-type", "法制审核意见书"))
    [finding] = findings(cli, "RK502")
    assert finding["review"] == "missing" and "is dated 2021-09-20 10:00 but entered the store" in \
        finding["message"]
    assert finding["claims"] and "--transcribed-from" in finding["claims"][0]
    assert cli("check").exit_code == 4


def test_an_undated_review_document_added_long_after_the_decision_leaves_the_review_missing(
        cli, parties, tmp_path):
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    record(cli, tmp_path, "--case", CASE, "--stage", "decide", "--doc-type", "集体讨论记录")  # no date
    [finding] = findings(cli, "RK503")
    assert finding["review"] == "missing" and "carries no date of its own" in finding["message"]
    assert findings(cli, "RK510") == [] and cli("check").exit_code == 4


def test_a_station_clock_set_back_does_not_make_a_review_document_entered_on_time(
        cli, parties, tmp_path, monkeypatch):
    """The import is journaled after the case's lines, so no earlier than the latest time they claim."""
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "fine", "--amount", "20000", "--at", "2021-09-24"))
    _pdf(tmp_path / "review.pdf", "2021-09-20 02:00")
    entered_on(monkeypatch, "2021-09-21T09:00:00.000+08:00")
    ok(cli("add", str(tmp_path / "review.pdf"), "--case", CASE, "--stage", "decide",
           "--doc-type", "法制审核意见书"))
    monkeypatch.undo()
    [finding] = findings(cli, "RK502")
    assert "but entered the store" in finding["message"]


# -- full AV recording of seizures and demolitions ------------------------------------------------
def _clip(path: Path, seconds: int, tag: str) -> Path:
    job = ffmpeg.input(f"testsrc=size=64x48:rate=1:duration={seconds}", f="lavfi").output(
        str(path), metadata=f"comment={tag}", preset="ultrafast", pix_fmt="yuv420p", **{"c:v": "libx264"})
    cmd = job.global_args("-hide_banner", "-nostdin", "-v", "error").overwrite_output().compile()
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)  # ffmpeg-python's run has no timeout
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> list[Path]:
    """Two real 60 s body-camera clips named for 2021-03-16 09:00:00 and 09:01:00."""
    out = tmp_path_factory.mktemp("clips")
    return [_clip(out / f"DSJ001_{A}_2021031609{m:02d}00_{m + 1:04d}.MP4", 60, str(m)) for m in (0, 1)]


def seizure_case(cli, tmp_path: Path, at: str = "2021-03-16 09:00", until: str = "2021-03-16 09:02") -> None:
    """A seizure by A and B, typed from its record (查封扣押现场笔录) linked to the case."""
    open_case(cli, tmp_path, at="2021-03-15")
    paper = record(cli, tmp_path, "--case", CASE, "--stage", "investigate", "--doc-type", "查封扣押现场笔录")
    ok(cli("case", "stage", CASE, "investigate", "--at", at, "--until", until, "--action", "查封扣押",
           "--officer", A, "--officer", B, "--transcribed-from", paper))


def test_a_seizure_without_footage_breaks_rk504(cli, parties, tmp_path):
    seizure_case(cli, tmp_path)
    record(cli, tmp_path, "--case", CASE, "--stage", "investigate", "--doc-type", "查封扣押决定书")
    assert codes(cli) == {"RK504"}


def test_footage_covering_part_of_a_seizure_reports_the_uncovered_gap(cli, parties, tmp_path, clips):
    seizure_case(cli, tmp_path)
    data = cli.json("add", str(clips[0]), "--case", CASE, "--stage", "investigate")
    assert data["files"][0]["kind"] == "video"
    result = cli("check")
    assert result.exit_code == 4 and "RK505" in result.stdout and "09:01:00-09:02:00" in result.stdout
    [f] = findings(cli, "RK505")
    assert f["gaps"] == [{"from": "2021-03-16T09:01:00.000+08:00", "until": "2021-03-16T09:02:00.000+08:00",
                          "seconds": 60.0}]
    assert f["covered_by"] == [data["files"][0]["digest"]]


def test_footage_covering_the_whole_seizure_keeps_the_rule(cli, parties, tmp_path, clips):
    seizure_case(cli, tmp_path)
    for clip in clips:
        ok(cli("add", str(clip), "--case", CASE, "--stage", "investigate"))
    assert codes(cli) == set()
    assert cli("check").exit_code == 0


def test_footage_recorded_outside_the_span_does_not_count(cli, parties, tmp_path, clips):
    seizure_case(cli, tmp_path, "2021-03-16 10:00", "2021-03-16 10:30")
    ok(cli("add", str(clips[0]), "--case", CASE, "--stage", "investigate"))
    assert codes(cli) == {"RK504"}


# -- publication within 7 working days ----------------------------------------------------------
def test_the_working_day_calendar_knows_national_day_2021_and_its_make_up_days():
    assert workdays.is_workday(date(2021, 9, 26)) and workdays.is_workday(date(2021, 10, 9))  # make-up
    assert not workdays.is_workday(date(2021, 10, 4))  # holiday Monday
    assert workdays.nth_workday_after(date(2021, 9, 24), 7) == date(2021, 10, 9)
    assert workdays.nth_workday_after(date(2021, 9, 28), 7) == date(2021, 10, 13)
    assert workdays.workdays_between(date(2021, 9, 24), date(2021, 10, 11)) == 8
    with pytest.raises(errors.UnknownYear) as exc:
        workdays.is_workday(date(2099, 3, 2))
    assert exc.value.code == "RK507" and exc.value.year == 2099


@pytest.mark.parametrize(("decided", "published", "late"), [
    ("2021-09-24", "2021-10-09", False),  # 7th working day: Sun 26 Sep and Sat 9 Oct are make-up days
    ("2021-09-24", "2021-10-11", True),   # 8th working day
    ("2021-09-28", "2021-10-13", False),  # 7th, across the Oct 1-7 holiday
    ("2021-09-28", "2021-10-14", True),   # 8th
    ("2021-09-29", "2021-10-03", False),  # published during the holiday
])
def test_publication_on_the_7th_working_day_keeps_the_rule_and_the_8th_breaks_it(cli, parties, tmp_path,
                                                                                decided, published, late):
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "warning", "--at", decided))
    record(cli, tmp_path, "--case", CASE, "--stage", "decide")
    publish(cli, tmp_path, CASE, published)
    result = cli("check")
    assert result.exit_code == (4 if late else 0), result.output
    if late:
        [f] = findings(cli, "RK506")
        assert f["deadline"] == str(workdays.nth_workday_after(date.fromisoformat(decided), 7))


def test_an_unpublished_decision_past_its_deadline_breaks_rk506(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    ok(cli("case", "decide", CASE, "--penalty-kind", "warning", "--at", "2021-09-24"))
    [f] = findings(cli, "RK506")
    assert "not published" in f["message"] and f["deadline"] == "2021-10-09"


def test_a_year_the_calendar_does_not_know_is_unknown_not_guessed(cli, parties, tmp_path, monkeypatch):
    entered_on(monkeypatch, "2099-03-06T10:00:00.000+08:00")  # a year that came, the calendar not upgraded
    open_case(cli, tmp_path, case="坡城管罚〔2099〕1号", at="2099-03-01")
    ok(cli("case", "decide", "坡城管罚〔2099〕1号", "--penalty-kind", "warning", "--at", "2099-03-02"))
    record(cli, tmp_path, "--case", "坡城管罚〔2099〕1号", "--stage", "decide")
    ok(cli("case", "publish", "坡城管罚〔2099〕1号", "--at", "2099-03-05"))
    [f] = findings(cli, "RK507")
    assert f["status"] == "unknown" and "2099" in f["message"]
    result = cli("check")
    assert result.exit_code == 0 and "UNKNOWN" in result.stdout and "1 unknown" in result.stdout
    assert cli("check", "--strict").exit_code == 4


# -- stages and their records ---------------------------------------------------------------------
def test_a_stage_reached_without_a_record_breaks_rk508(cli, parties, tmp_path):
    ok(cli("case", "open", CASE, "--party", "P1", "--at", "2021-09-01"))
    assert codes(cli) == {"RK508"}
    record(cli, tmp_path, "--case", CASE, "--stage", "start")
    assert codes(cli) == set()
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-09-02"))
    assert [f["stage"] for f in findings(cli, "RK508")] == ["investigate"]


def test_a_closed_case_without_all_four_stages_breaks_rk509(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    ok(cli("case", "close", CASE, "--at", "2021-10-20"))
    [f] = findings(cli, "RK509")
    assert f["missing_stages"] == ["investigate", "decide", "serve"]


# -- scope ------------------------------------------------------------------------------------------
def test_year_selects_the_cases_opened_in_it(cli, parties, tmp_path):
    full_case(cli, tmp_path)
    ok(cli("case", "open", "坡城管罚〔2020〕3号", "--party", "P2", "--at", "2020-05-01"))
    assert [c["case_no"] for c in check(cli, "--year", "2021")["cases"]] == [CASE]
    assert [c["case_no"] for c in check(cli, "--year", "2020")["cases"]] == ["坡城管罚〔2020〕3号"]
    assert cli("check", "--year", "2021").exit_code == 0
    assert cli("check", "--year", "2020").exit_code == 4
    assert cli("check", "--case", "坡城管罚〔2099〕9号").exit_code == 1


def test_check_answers_the_same_after_rebuild_index(cli, parties, tmp_path):
    open_case(cli, tmp_path)
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-09-10 09:00", "--on-site", "--officer", A))
    before = check(cli)
    ok(cli("rebuild-index"))
    assert check(cli) == before


@pytest.mark.slow  # a real read-only bind mount
def test_check_and_stats_work_on_a_read_only_mount_and_dispose_says_read_only(cli, store, parties, tmp_path):
    import json

    from tests.conftest import run_recordkeep

    open_case(cli, tmp_path)
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-09-10 09:00", "--on-site", "--officer", A))
    digest = record(cli, tmp_path)
    with read_only_view(store, tmp_path / "ro") as view:
        proc = run_recordkeep("check", "--json", store=view)
        assert proc.returncode == 4, proc.stderr
        assert "RK501" in {f["code"] for f in json.loads(proc.stdout)["cases"][0]["findings"]}
        assert run_recordkeep("stats", "--year", "2021", store=view).returncode == 0
        proc = run_recordkeep("dispose", digest, "--reason", "x", store=view)
        assert proc.returncode == 1 and proc.stderr.startswith("RK103")


def test_a_store_timezone_other_than_the_mainlands_is_named_beside_the_verdict(cli, parties, tmp_path, store):
    """Days are counted in it: moved to Kiritimati, a publication crosses its deadline."""
    open_case(cli, tmp_path)
    assert "store.timezone" not in check(cli)["rules_changed"]
    text = (store / "recordkeep.toml").read_text(encoding="utf-8")
    (store / "recordkeep.toml").write_text(text.replace('"Asia/Shanghai"', '"Pacific/Kiritimati"'),
                                           encoding="utf-8")
    assert check(cli)["rules_changed"]["store.timezone"] == {"value": "Pacific/Kiritimati",
                                                             "default": "Asia/Shanghai"}
    assert 'store.timezone = "Pacific/Kiritimati"' in cli("check").stdout
    stats = cli.json("stats", "--year", "2021")
    assert stats["rules_changed"]["store.timezone"]["value"] == "Pacific/Kiritimati"
