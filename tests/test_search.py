"""search: filters that combine, Chinese substrings, case numbers in any bracket, and the
same answers after rebuild-index. One store (a real dump, parties, cases, scans and
links, all made through the CLI) serves the read-only tests of this module."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recordkeep import Archive, errors, search, validate
from recordkeep.index import atomic
from recordkeep.index import fts as index_search
from recordkeep.index import search as finder
from recordkeep.search import Query

from .conftest import Cli, new_store

OFFICER_1, OFFICER_2 = "440301123456", "440301654321"
CASE_12, CASE_13, CASE_7 = "坡城管罚〔2021〕12号", "坡城管罚〔2021〕13号", "赤城管罚〔2020〕7号"
ZHANG_SAN_ID = "11010519491231002X"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bureau(tmp_path_factory, dump_dir) -> Cli:
    """A store with the generated dump imported and a small dossier around it:

    - P1 张三 (坡头区南调路), P2 张三丰 (赤坎区), P3 李四 (霞山区),
      P4 湛江市海湾建筑工程有限公司 (麻章区);
    - CASE_12 (张三, 违法建设案): officer 1's 08:00-09:00 footage at investigate, and a
      scan 询问笔录 added to it; CASE_13 (李四 + the company, 占道经营案): a decision
      scan for the company at decide, officer 2's 08:52 clip at serve with a stage note;
      CASE_7 (张三丰, 噪声扰民案): nothing linked;
    - a scan linked to 李四 alone (no case), and an unlinked scan with punctuation in its name.
    """
    root = tmp_path_factory.mktemp("search")
    store, files = root / "store", root / "files"
    files.mkdir()
    new_store(store)
    cli = Cli(store)

    def ok(*args: str) -> str:
        result = cli(*args)
        assert result.exit_code == 0, result.output
        return result.output

    ok("import", str(dump_dir))
    ok("party", "add", "--name", "张三", "--id-number", ZHANG_SAN_ID,
       "--address", "广东省湛江市坡头区南调路88号")
    ok("party", "add", "--name", "张三丰", "--id-number", "440802198001010011",
       "--address", "广东省湛江市赤坎区中山路1号")
    ok("party", "add", "--name", "李四", "--id-number", "440803199001010012",
       "--address", "广东省湛江市霞山区海滨大道2号")
    ok("party", "add", "--name", "湛江市海湾建筑工程有限公司", "--credit-code", "91350100M000100Y43",
       "--address", "广东省湛江市麻章区湖光路3号")
    ok("case", "open", CASE_12, "--party", "张三", "--title", "违法建设案", "--at", "2021-03-14")
    ok("case", "open", CASE_13, "--party", "P3", "--party", "P4", "--title", "占道经营案",
       "--at", "2021-03-15")
    ok("case", "open", CASE_7, "--party", "张三丰", "--title", "噪声扰民案", "--at", "2020-06-01")
    ok("case", "link", "坡城管罚[2021]12号", "--officer", OFFICER_1, "--from", "2021-03-15 08:00",
       "--to", "2021-03-15 09:00", "--stage", "investigate")
    ok("add", str(_write(files, "ask-zhang.txt", "询问笔录 张三")), "--case", CASE_12,
       "--stage", "调查取证", "--doc-type", "询问笔录")
    ok("add", str(_write(files, "decision.txt", "行政处罚决定书")), "--case", CASE_13,
       "--stage", "decide", "--party", "P4", "--doc-type", "行政处罚决定书")
    ok("add", str(_write(files, "photo-li.txt", "李四 现场")), "--party", "李四", "--doc-type", "现场照片")
    ok("add", str(_write(files, 'odd "name" (copy)*.txt', "punctuation")))
    axon = _by_name(cli)["Axon Body 3 Video 2021-03-15 0852.mp4"]["digest"]
    ok("case", "link", CASE_13, axon, "--stage", "serve")
    ok("case", "stage", CASE_13, "serve", "--at", "2021-03-20 10:00", "--note", "留置送达，见证人王五在场",
       "--action", "送达")
    return cli


def _by_name(cli: Cli) -> dict[str, dict]:
    return {r["name"]: r for r in cli.json("search", "--limit", "1000")["records"]}


def digests(result: dict) -> set[str]:
    return {r["digest"] for r in result["records"]}


@pytest.fixture(scope="module")
def everything(bureau: Cli) -> list[dict]:
    return bureau.json("search", "--limit", "1000")["records"]


def names_of(records: list[dict] | dict) -> set[str]:
    if isinstance(records, dict):
        records = records["records"]
    return {r["name"] for r in records}


# -- listing -------------------------------------------------------------------------------
def test_search_with_no_arguments_lists_every_record_newest_first(bureau, everything):
    with Archive.open(bureau.store) as archive:
        count = archive.index.conn.execute("SELECT count(*) FROM records").fetchone()[0]
    assert len(everything) == count
    timed = [r["recorded_at"] for r in everything if r["recorded_at"]]
    assert timed == sorted(timed, reverse=True)
    untimed = [r["recorded_at"] for r in everything[len(timed):]]
    assert untimed == [None] * len(untimed), "records without a recorded time come last"
    assert bureau.json("search")["records"] == everything[:100]
    assert len(bureau.json("search", "--limit", "3")["records"]) == 3


def test_each_record_carries_its_cases_and_parties_in_the_json_contract(bureau, everything):
    first = everything[0]
    for key in ("digest", "kind", "size", "recorded_at", "officer", "device", "cases", "parties"):
        assert key in first
    by_name = {r["name"]: r for r in everything}
    decision = by_name["decision.txt"]
    assert decision["cases"] == [CASE_13]
    assert decision["parties"] == ["P3", "P4"], "the linked party and the case's parties"
    assert by_name["photo-li.txt"] == {**by_name["photo-li.txt"], "cases": [], "parties": ["P3"]}
    assert by_name["ask-zhang.txt"]["doc_type"] == "询问笔录"
    assert len(first["digest"]) == 64


# -- each filter alone ---------------------------------------------------------------------
def test_case_filter_folds_brackets_and_widths(bureau):
    expected = {"DSJ001_440301123456_20210315083000_0001.MP4",
                "DSJ001_440301123456_20210315084500_0002_IMP.MP4", "ask-zhang.txt"}
    for form in (CASE_12, "坡城管罚[2021]12号", "坡城管罚（2021）12号", "坡城管罚〔２０２１〕１２号"):
        assert names_of(bureau.json("search", "--case", form)) == expected, form
    assert bureau.json("search", "--case", CASE_7)["records"] == []


def test_party_filter_takes_records_linked_directly_or_through_the_partys_cases(bureau):
    li = names_of(bureau.json("search", "--party", "李四"))
    assert li == {"photo-li.txt", "decision.txt", "Axon Body 3 Video 2021-03-15 0852.mp4"}
    assert names_of(bureau.json("search", "--party", "P4")) == {
        "decision.txt", "Axon Body 3 Video 2021-03-15 0852.mp4"}
    assert names_of(bureau.json("search", "--party", ZHANG_SAN_ID)) == names_of(
        bureau.json("search", "--case", CASE_12))


@pytest.mark.parametrize(("flag", "value", "keep"), [
    ("--officer", OFFICER_2, lambda r: r["officer"] == OFFICER_2),
    ("--device", "DSJ001", lambda r: r["device"] == "DSJ001"),
    ("--kind", "audio", lambda r: r["kind"] == "audio"),
    ("--since", "2021-03-15 10:00", lambda r: (r["recorded_at"] or "") >= "2021-03-15T10:00"),
    ("--until", "2021-03-15 08:50", lambda r: r["recorded_at"] and r["recorded_at"] < "2021-03-15T08:50"),
    ("--until", "2021-03-15", lambda r: r["recorded_at"] and r["recorded_at"] < "2021-03-16"),
    ("--important", None, lambda r: r["important"]),
    ("--unlinked", None, lambda r: not r["cases"]),
])
def test_each_filter_alone_keeps_exactly_the_records_it_names(bureau, everything, flag, value, keep):
    args = (flag,) if value is None else (flag, value)
    result = bureau.json("search", *args, "--limit", "1000")
    expected = [r for r in everything if keep(r)]
    assert result["records"] == expected
    assert expected, "the store holds records for every filter"
    assert result["parties"] == [] and result["cases"] == []


def test_until_a_bare_date_includes_that_whole_day(bureau):
    same_day = bureau.json("search", "--until", "2021-03-15", "--limit", "1000")["records"]
    assert any(r["recorded_at"].startswith("2021-03-15T11:00") for r in same_day)
    assert not any(r["recorded_at"].startswith("2021-03-16") for r in same_day)


def test_stage_filter_keeps_records_linked_at_that_stage(bureau):
    assert names_of(bureau.json("search", "--stage", "serve")) == {"Axon Body 3 Video 2021-03-15 0852.mp4"}
    assert names_of(bureau.json("search", "--stage", "审核决定")) == {"decision.txt"}
    assert names_of(bureau.json("search", "--stage", "investigate")) == names_of(
        bureau.json("search", "--case", CASE_12))


# -- filters combined ----------------------------------------------------------------------
@pytest.mark.parametrize(("args", "expected"), [
    (("--case", CASE_12, "--kind", "video"), {"DSJ001_440301123456_20210315083000_0001.MP4",
                                              "DSJ001_440301123456_20210315084500_0002_IMP.MP4"}),
    (("--case", CASE_12, "--important"), {"DSJ001_440301123456_20210315084500_0002_IMP.MP4"}),
    (("--case", CASE_12, "--stage", "decide"), set()),
    (("--case", CASE_13, "--stage", "serve"), {"Axon Body 3 Video 2021-03-15 0852.mp4"}),
    (("--party", "李四", "--stage", "decide"), {"decision.txt"}),
    (("--party", "李四", "--kind", "video", "--officer", OFFICER_2),
     {"Axon Body 3 Video 2021-03-15 0852.mp4"}),
    (("--officer", OFFICER_1, "--since", "2021-03-15 09:00", "--until", "2021-03-15 10:00"),
     {"DSJ001_440301123456_20210315090000_0003.MOV", "DSJ001_440301123456_20210315092000_0006.JPG",
      "DSJ001_440301123456_20210315094000_0005.WAV"}),
    (("--unlinked", "--officer", OFFICER_2), {"Axon Body 3 Video 2021-03-15 0830.mp4"}),
    (("--unlinked", "--case", CASE_12), set()),
    (("--device", "DSJ001", "--kind", "photo", "--until", "2021-03-15 10:00"),
     {"DSJ001_440301123456_20210315092000_0006.JPG"}),
    (("张三", "--kind", "other"), {"ask-zhang.txt"}),
    (("坡头区", "--officer", OFFICER_1, "--important"), {"DSJ001_440301123456_20210315084500_0002_IMP.MP4"}),
    (("占道", "--party", "P4", "--stage", "serve"), {"Axon Body 3 Video 2021-03-15 0852.mp4"}),
])
def test_filters_combine_as_and(bureau, args, expected):
    assert names_of(bureau.json("search", *args)) == expected


# -- text ----------------------------------------------------------------------------------
def test_a_two_character_name_finds_the_parties_and_their_records(bureau):
    result = bureau.json("search", "张三")
    assert [p["key"] for p in result["parties"]] == ["P1", "P2"], "张三 and 张三丰"
    assert result["parties"][0]["id_number"] != ZHANG_SAN_ID, "identity numbers are masked"
    assert result["parties"][0]["id_number"].endswith("002X")
    assert names_of(result) == names_of(bureau.json("search", "--case", CASE_12))
    assert result["cases"] == []


def test_an_address_substring_finds_the_party_and_records_through_its_case(bureau):
    result = bureau.json("search", "坡头区")
    assert [p["key"] for p in result["parties"]] == ["P1"]
    assert names_of(result) == names_of(bureau.json("search", "--case", CASE_12))
    assert all(r["parties"] == ["P1"] for r in result["records"])


def test_a_record_linked_to_a_party_alone_is_found_through_its_address(bureau):
    assert names_of(bureau.json("search", "霞山区")) == names_of(bureau.json("search", "--party", "李四"))
    assert "photo-li.txt" in names_of(bureau.json("search", "海滨大道"))


@pytest.mark.parametrize("text", ["〔2021〕12号", "[2021]12号", "(2021)12号", "（2021）12号",
                                  "坡城管罚〔2021〕12号", "坡城管罚[2021]12号"])
def test_a_case_number_in_text_matches_in_full_or_half_width_brackets(bureau, text):
    result = bureau.json("search", text)
    assert [c["case_no"] for c in result["cases"]] == [CASE_12]
    assert result["cases"][0] == {"case_no": CASE_12, "title": "违法建设案", "status": "open",
                                  "opened_at": "2021-03-14T00:00:00.000+08:00"}
    assert names_of(result) == names_of(bureau.json("search", "--case", CASE_12))


def test_a_short_case_number_fragment_finds_every_case_holding_it(bureau):
    result = bureau.json("search", "〔2021〕")
    assert [c["case_no"] for c in result["cases"]] == [CASE_13, CASE_12], "newest opened first"


@pytest.mark.parametrize(("text", "expected"), [
    ("询问", {"ask-zhang.txt"}),  # doc type (2 characters: not 询问笔录_2021-03-15.pdf's name)
    ("询问笔录_2021", {"询问笔录_2021-03-15.pdf"}),  # file name
    ("axon body", {"Axon Body 3 Video 2021-03-15 0830.mp4", "Axon Body 3 Video 2021-03-15 0852.mp4"}),
    ("副本", set()),  # a 2-character file name fragment is not searched in names
    ("0001 - 副本", {"DSJ001_440301123456_20210315083000_0001.MP4"}),  # 3+ characters: any sighting
    ("见证人王五", {"Axon Body 3 Video 2021-03-15 0852.mp4"}),  # stage note, linked at that stage
    ("送达", {"Axon Body 3 Video 2021-03-15 0852.mp4"}),  # stage action (2 characters)
    ("占道经营", {"decision.txt", "Axon Body 3 Video 2021-03-15 0852.mp4"}),  # case title
    ("海湾建筑", {"decision.txt", "Axon Body 3 Video 2021-03-15 0852.mp4"}),  # organisation
    ("91350100M000100Y43", {"decision.txt", "Axon Body 3 Video 2021-03-15 0852.mp4"}),
])
def test_text_matches_names_doc_types_notes_titles_and_linked_parties(bureau, text, expected):
    assert names_of(bureau.json("search", text, "--limit", "1000")) == expected


@pytest.mark.parametrize("text", ['"', "*", "(", ")", "'", "AND", "OR NOT", "NEAR(", "^x", "a:b", "{x}",
                                  "-", 'odd "name" (copy)*', '〔2021〕"12号', "\\", "%", "_"])
def test_punctuation_in_the_text_never_raises_a_query_error(bureau, text):
    result = bureau("search", "--json", "--", text)
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=12) | st.text(alphabet='"*()^:{}-+ 〔〕[]号张三坡头区\x00\x1f\udcff',
                                            max_size=8))
def test_any_text_at_all_gives_lists_or_is_refused_as_text_never_another_error(bureau, text):
    with Archive.open(bureau.store) as archive:
        try:
            result = search.search(archive, Query(text=text, limit=5))
        except errors.InvalidText:  # undecodable bytes or a control character, as every field refuses
            with pytest.raises(errors.InvalidText):
                validate.text(text, "text")
            return
    assert set(result) == {"records", "parties", "cases", "names_searched"}


@pytest.mark.parametrize("text", ["\udcd5\udcc5\udcc8\udcfd", "\x01"])  # 张三 typed on a GBK terminal
def test_text_that_is_not_decodable_is_refused_not_taken_as_no_text(bureau, text):
    result = bureau("search", "--", text)
    assert result.exit_code == 1 and result.stderr.startswith("RK413"), result.output


def test_punctuation_matches_literally(bureau):
    for text in ('odd "name" (copy)*', '"name"', "(copy)*"):
        result = bureau("search", "--json", "--", text)
        assert names_of(json.loads(result.stdout)) == {'odd "name" (copy)*.txt'}, text


@pytest.mark.parametrize("args", [("没有这个",), ("没有", "--kind", "audio"), ("--officer", "999999"),
                                  ("--since", "2030-01-01"), ("--case", CASE_7), ("xyz123",)])
def test_no_match_is_an_empty_list_not_an_error(bureau, args):
    result = bureau(*["search", *args, "--json"])
    assert result.exit_code == 0, result.output
    found = bureau.json("search", *args)
    assert (found["records"], found["parties"], found["cases"]) == ([], [], [])


def test_limit_caps_records_parties_and_cases(bureau):
    result = bureau.json("search", "湛江市", "--limit", "2")
    assert len(result["parties"]) == 2 and len(result["records"]) == 2
    assert bureau.json("search", "〔", "--limit", "1")["cases"] == [
        bureau.json("search", "〔")["cases"][0]]


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "code"), [(("--case", "坡城管罚〔1999〕1号"), "RK440"),
                                            (("--party", "王五"), "RK430"),
                                            (("--party", "P99"), "RK430"),
                                            (("--officer", "no such!"), "RK420")])
def test_an_unknown_case_party_or_bad_officer_is_an_rk4xx_error(bureau, args, code):
    result = bureau("search", *args)
    assert result.exit_code == 1
    assert code in result.output


@pytest.mark.parametrize("args", [("--stage", "lunch"), ("--since", "yesterday"), ("--kind", "movie")])
def test_a_stage_date_or_kind_that_does_not_parse_is_a_usage_error(bureau, args):
    assert bureau("search", *args).exit_code == 2


def test_an_ambiguous_party_name_lists_the_candidates(tmp_path):
    store = tmp_path / "s"
    new_store(store)
    cli = Cli(store)
    cli("party", "add", "--name", "王五", "--id-number", "440802198001010011")
    cli("party", "add", "--name", "王五", "--id-number", "440803199001010012")
    result = cli("search", "--party", "王五")
    assert result.exit_code == 1 and "RK431" in result.output


def test_the_table_for_people_shows_records_parties_and_cases(bureau):
    result = bureau("search", "张三")
    assert result.exit_code == 0
    assert "张三丰" in result.output and "record(s)" in result.output


# -- the index -----------------------------------------------------------------------------
QUERIES = [(), ("张三",), ("坡头区",), ("〔2021〕12号",), ("[2021]12号",), ("--party", "李四"),
           ("--case", CASE_13), ("--unlinked",), ("--officer", OFFICER_1, "--since", "2021-03-15 09:00"),
           ("询问",), ("axon body",), ("见证人王五",), ("--stage", "serve")]


def test_results_are_identical_after_rebuild_index(bureau, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bureau.store, copy)
    cli = Cli(copy)
    before = [cli.json("search", *q) for q in QUERIES]
    assert cli("rebuild-index").exit_code == 0
    assert [cli.json("search", *q) for q in QUERIES] == before
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}/index.sqlite{suffix}").unlink(missing_ok=True)
    assert [cli.json("search", *q) for q in QUERIES] == before


def test_walking_records_newest_first_gives_what_gathering_them_gives(bureau, monkeypatch):
    """Text hitting more than DRIVE_CAP records is answered by walking records newest first,
    and file names hitting more than DRIVE_CAP sightings by checking each walked record."""
    before = [bureau.json("search", *q) for q in QUERIES]
    assert sum(len(r["records"]) for r in before) > 0  # something to walk to
    monkeypatch.setattr(finder, "DRIVE_CAP", 0)
    assert [bureau.json("search", *q) for q in QUERIES] == before


def test_an_index_without_search_tables_or_with_a_pending_queue_answers_by_scanning(bureau, tmp_path):
    """A read-only store's index from before m004 has no FTS tables; search scans instead."""
    before = [bureau.json("search", *q) for q in QUERIES]
    copy = tmp_path / "copy"
    shutil.copytree(bureau.store, copy)
    with Archive.open(copy) as archive:
        conn = archive.index.conn
        conn.execute("INSERT INTO search_fts_queue (fts, op, row) VALUES ('search_names_fts', NULL, 0)")
    assert [Cli(copy).json("search", *q) for q in QUERIES] == before
    with Archive.open(copy) as archive:
        conn = archive.index.conn
        conn.execute("DELETE FROM search_fts_queue")
        _drop_m004(conn)
    assert [Cli(copy).json("search", *q) for q in QUERIES] == before, "m004 applied again on open"
    with Archive.open(copy) as archive:
        _drop_m004(archive.index.conn)
    with Archive.open(copy) as archive:
        archive.readonly = True  # as on a read-only store: the current index is used as is
        assert search.search(archive, Query(text="张三")) == bureau.json("search", "张三")
        assert search.search(archive, Query(text="axon body")) == bureau.json("search", "axon body")
        assert search.search(archive, Query(text="[2021]12号")) == bureau.json("search", "[2021]12号")
        assert not archive.index.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'search_names_fts'").fetchone()


def _drop_m004(conn) -> None:
    """Make an index look as if it predated m004_search."""
    for kind, name in conn.execute("SELECT type, name FROM sqlite_master WHERE name LIKE 'search%' "
                                   "AND type IN ('table', 'index') AND sql IS NOT NULL").fetchall():
        if kind == "index":
            conn.execute(f"DROP INDEX {name}")
        elif not name.endswith(("_data", "_idx", "_config")):
            conn.execute(f"DROP TABLE {name}")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm004_search'")


def test_the_search_migration_indexes_the_rows_an_older_index_already_holds(bureau, tmp_path):
    before = [bureau.json("search", *q) for q in QUERIES]
    copy = tmp_path / "copy"
    shutil.copytree(bureau.store, copy)
    with Archive.open(copy) as archive:
        _drop_m004(archive.index.conn)
    with Archive.open(copy) as archive:  # opening a writable store applies m004 again
        assert archive.index.conn.execute(
            "SELECT 1 FROM _sqlite_migrations WHERE name = 'm004_search'").fetchone()
    assert [Cli(copy).json("search", *q) for q in QUERIES] == before


@pytest.mark.parametrize(("text", "keys"), [
    ("张", ["P1", "P2"]), ("三", ["P1", "P2"]), ("丰", ["P2"]), ("X", []), ("88号", ["P1"]),
    ("号", ["P1", "P2", "P3", "P4"])])
def test_one_or_two_characters_find_every_party_holding_them_even_at_the_end(bureau, text, keys):
    """(An identity number's X finds nothing: numbers are found whole, through the vault.)"""
    assert [p["key"] for p in bureau.json("search", text)["parties"]] == keys


def test_short_text_starting_too_many_trigrams_is_answered_by_scanning(bureau, monkeypatch):
    queries = [("张",), ("三",), ("12",), ("号",), ("询问",), ("送达",)]
    before = [bureau.json("search", *q) for q in queries]
    assert all(r["parties"] or r["cases"] or r["records"] for r in before)  # each finds something
    monkeypatch.setattr(finder, "VOCAB_TERMS", 0)
    assert [bureau.json("search", *q) for q in queries] == before


def test_longer_text_must_appear_whole_not_as_scattered_trigrams(cli, tmp_path):
    for name in ("abc-def-ghi.txt", "xabcdefghix.txt"):
        (tmp_path / name).write_text(name)
        cli("add", str(tmp_path / name))
    assert names_of(cli.json("search", "abcdefghi")) == {"xabcdefghix.txt"}
    assert names_of(cli.json("search", "ABCDEFGHI")) == {"xabcdefghix.txt"}, "ASCII case is ignored"
    assert names_of(cli.json("search", "def")) == {"abc-def-ghi.txt", "xabcdefghix.txt"}


def test_search_tables_follow_rows_that_change_or_go(archive, cli, tmp_path):
    cli("party", "add", "--name", "赵六", "--id-number", "440802198001010011", "--address", "吴川市梅菉街道")
    assert [p["key"] for p in search.search(archive, Query(text="梅菉街道"))["parties"]] == ["P1"]
    conn = archive.index.conn
    with atomic(archive.index.conn):  # as a future projection would: change a row, then apply
        conn.execute("UPDATE parties SET address = '雷州市西湖街道' WHERE key = 'P1'")
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_seq', "
                     "(SELECT value FROM meta WHERE key = 'last_seq'))")
    assert search.search(archive, Query(text="梅菉街道"))["parties"] == []
    assert [p["key"] for p in search.search(archive, Query(text="西湖街道"))["parties"]] == ["P1"]
    with atomic(archive.index.conn):
        conn.execute("DELETE FROM parties WHERE key = 'P1'")
        conn.execute("UPDATE meta SET value = value WHERE key = 'last_seq'")
    assert search.search(archive, Query(text="西湖街道"))["parties"] == []
    assert conn.execute("SELECT count(*) FROM search_fts_queue").fetchone()[0] == 0
    with atomic(archive.index.conn):  # a row that takes the deleted one's rowid
        conn.execute("INSERT INTO parties (key, num, kind, name, address, seq) "
                     "VALUES ('P9', 9, 'person', '钱七', '徐闻县海安镇', 1)")
        conn.execute("UPDATE meta SET value = value WHERE key = 'last_seq'")
    assert conn.execute("SELECT rowid FROM parties WHERE name = '钱七'").fetchone()[0] == 1, "rowid reused"
    assert [p["name"] for p in search.search(archive, Query(text="海安镇"))["parties"]] == ["钱七"]
    assert search.search(archive, Query(text="西湖街道"))["parties"] == []


def test_rows_written_outside_apply_are_found_by_scanning_until_the_next_batch(archive, cli, tmp_path):
    (tmp_path / "a.txt").write_text("a")
    cli("add", str(tmp_path / "a.txt"))
    conn = archive.index.conn
    digest = conn.execute("SELECT digest FROM records").fetchone()[0]
    path = "outside/新的文件名.txt"
    conn.execute("INSERT INTO sightings (seq, digest, path) VALUES (1, ?, ?)", (digest, path))
    assert not index_search.ready(conn)
    assert [r["digest"] for r in search.search(archive, Query(text="新的文件名"))["records"]] == [digest]
    conn.execute("UPDATE meta SET value = value WHERE key = 'last_seq'")  # what the next apply does
    assert index_search.ready(conn)
    assert [r["digest"] for r in search.search(archive, Query(text="新的文件名"))["records"]] == [digest]


def test_disposed_records_are_still_found_with_their_metadata(bureau, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bureau.store, copy)
    with Archive.open(copy) as archive:
        digest = search.search(archive, Query(case=CASE_12, kind="other"))["records"][0]["digest"]
        archive.index.conn.execute("UPDATE records SET disposed_seq = 1 WHERE digest = ?", (digest,))
        found = search.search(archive, Query(text="张三", kind="other"))["records"]
    assert [(r["digest"], r.get("disposed")) for r in found] == [(digest, True)]


def test_the_library_answers_as_the_cli_does(bureau):
    with Archive.open(bureau.store) as archive:
        assert search.search(archive, Query(text="坡头区")) == bureau.json("search", "坡头区")
        assert search.search(archive, Query(party="P3", stage="serve")) == bureau.json(
            "search", "--party", "P3", "--stage", "serve")
        with pytest.raises(Exception, match="at least 1"):
            search.search(archive, Query(limit=0))


@settings(max_examples=300, deadline=None)
@given(path=st.text(alphabet="ab/\\ .中é\U0001F600\x1f", max_size=16))
def test_basename_sql_gives_the_last_path_component_as_python_does(path):
    conn = sqlite3.connect(":memory:")
    try:
        got = conn.execute(f"SELECT {index_search.basename_sql(':p')}", {"p": path}).fetchone()[0]
    finally:
        conn.close()
    assert got == path.replace("\\", "/").rsplit("/", 1)[-1]


def test_text_too_short_for_file_names_says_so_to_people_and_in_json(cli, tmp_path):
    from tests.test_check import record

    record(cli, tmp_path, name="送达回证.tif", content=b"proof of service")
    short = cli.json("search", "送达")
    assert short["records"] == [] and short["names_searched"] is False
    said = cli("search", "送达")
    assert said.exit_code == 0 and "not looked for in file names" in said.output
    long = cli.json("search", "送达回")
    assert [r["name"] for r in long["records"]] == ["送达回证.tif"] and long["names_searched"] is True
    assert "not looked for" not in cli("search", "送达回").output
    assert cli.json("search")["names_searched"] is None
