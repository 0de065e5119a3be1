"""Recorder file names: what they say, read in the store's timezone."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordkeep.errors import ConfigError
from recordkeep.media.naming import (
    DEFAULT_PATTERNS,
    NameFacts,
    NamePattern,
    parse_name,
    patterns_from_config,
)

DSJ_NAME = "DSJA8K01_310123456_20210315083005_0003_IMP.MP4"


# default patterns -----------------------------------------------------------

def test_the_defaults_are_the_dsj_device_time_and_axon_conventions_in_that_order():
    assert [p.name for p in DEFAULT_PATTERNS] == ["dsj", "dsj_device_time", "axon"]


def test_a_recorder_name_with_device_and_time_but_no_officer_gives_device_time_and_sequence():
    facts = parse_name("DSJ003_20210520160000_0001.MP4")
    assert facts == NameFacts(pattern="dsj_device_time", device="DSJ003",
                              started_at="2021-05-20T16:00:00.000+08:00", seq=1)
    assert facts.officer is None


@pytest.mark.parametrize("name, device", [
    ("ZF0012_20210520160000_0002_IMP.MP4", "ZF0012"),
    ("zfy7_20210520160000.mp4", "zfy7"),           # lower case from a FAT card; no sequence
    ("DSJ_20210520160000_000001.WAV", "DSJ"),
])
def test_every_recorder_prefix_is_read_in_either_case_with_or_without_a_sequence(name, device):
    facts = parse_name(name)
    assert facts is not None and facts.pattern == "dsj_device_time"
    assert facts.device == device and facts.started_at == "2021-05-20T16:00:00.000+08:00"


@pytest.mark.parametrize("name", ["IMG_20210520160000_0001.JPG", "VID_20210520160000.mp4",
                                  "DSJ003_2021052016000_0001.MP4", "DSJ003-20210520160000_0001.MP4"])
def test_a_device_and_time_name_is_read_only_for_a_recorder_prefix_and_fourteen_digits(name):
    assert parse_name(name) is None


def test_a_name_with_an_officer_is_still_read_by_the_dsj_convention():
    facts = parse_name("DSJ003_440804003_20210520160000_0001.MP4")
    assert facts is not None and facts.pattern == "dsj" and facts.officer == "440804003"


def test_a_dsj_name_gives_device_officer_local_start_sequence_and_importance():
    facts = parse_name(DSJ_NAME)
    assert facts == NameFacts(
        pattern="dsj",
        device="DSJA8K01",
        officer="310123456",
        started_at="2021-03-15T08:30:05.000+08:00",
        seq=3,
        important=True,
    )


def test_a_dsj_name_without_the_imp_suffix_is_not_important():
    facts = parse_name("DSJA8K01_310123456_20210315083005_0004.mp4")
    assert facts is not None
    assert facts.important is False
    assert facts.seq == 4


def test_an_officer_number_keeps_its_leading_zeros():
    facts = parse_name("DSJ7_000123_20210315083005_000001.mp4")
    assert facts is not None
    assert facts.officer == "000123"
    assert facts.seq == 1


def test_an_axon_title_gives_model_and_start_minute():
    facts = parse_name("Axon Body 3 Video 2021-03-15 0830.mp4")
    assert facts == NameFacts(
        pattern="axon", model="Axon Body 3", started_at="2021-03-15T08:30:00.000+08:00"
    )


def test_an_axon_title_may_join_date_and_time_with_a_hyphen_and_write_video_in_lower_case():
    facts = parse_name("Axon Flex 2 video 2020-11-03-1422.MP4")
    assert facts is not None
    assert facts.model == "Axon Flex 2"
    assert facts.started_at == "2020-11-03T14:22:00.000+08:00"


def test_a_name_no_pattern_knows_gives_none():
    assert parse_name("IMG_20210315_083005.jpg") is None
    assert parse_name("") is None


def test_only_the_base_name_is_matched_not_the_folders():
    facts = parse_name("/media/usb0/DCIM/100DSJ/" + DSJ_NAME)
    assert facts is not None and facts.device == "DSJA8K01"
    windows = parse_name("E:\\DCIM\\" + DSJ_NAME)
    assert windows is not None and windows.officer == "310123456"
    assert parse_name(DSJ_NAME + "/notes.txt") is None
    assert parse_name(Path("/media/usb0") / DSJ_NAME) == parse_name(DSJ_NAME)


def test_the_whole_base_name_must_match_so_a_trailing_newline_does_not():
    assert parse_name(DSJ_NAME + "\n") is None
    assert parse_name("copy of " + DSJ_NAME) is None


# times ----------------------------------------------------------------------

def test_an_impossible_start_time_gives_no_time_and_keeps_the_other_facts():
    facts = parse_name("DSJA8K01_310123456_20211332083005_0003.MP4")
    assert facts is not None
    assert facts.started_at is None
    assert facts.device == "DSJA8K01" and facts.seq == 3


@pytest.mark.parametrize(
    "stamp",
    ["20210229083005", "20210315250000", "20210315086000", "20210315083060", "00000101000000"],
)
def test_no_impossible_calendar_time_raises(stamp):
    facts = parse_name(f"DSJA8K01_310123456_{stamp}_0003.MP4")
    assert facts is not None and facts.started_at is None


def test_february_29_of_a_leap_year_is_a_real_time():
    facts = parse_name("DSJA8K01_310123456_20200229235959_0003.MP4")
    assert facts is not None
    assert facts.started_at == "2020-02-29T23:59:59.000+08:00"


def test_an_impossible_axon_date_gives_no_time():
    facts = parse_name("Axon Body 3 Video 2021-02-30 0830.mp4")
    assert facts is not None and facts.started_at is None


def test_non_ascii_digits_in_the_start_give_no_time_instead_of_a_guess():
    facts = parse_name("DSJA8K01_310123456_٢٠٢١٠٣١٥٠٨٣٠٠٥_0003.MP4")
    assert facts is not None and facts.started_at is None


def test_the_names_local_time_is_read_in_the_given_timezone():
    assert parse_name(DSJ_NAME, timezone="UTC").started_at == "2021-03-15T08:30:05.000+00:00"
    summer = parse_name("DSJA8K01_310123456_20210701120000_0001.mp4", timezone="Europe/Berlin")
    assert summer.started_at == "2021-07-01T12:00:00.000+02:00"


def test_an_unknown_timezone_is_a_configuration_error():
    with pytest.raises(ConfigError) as caught:
        parse_name(DSJ_NAME, timezone="Asia/Pocheng")
    assert caught.value.code == "RK104"
    assert "Asia/Pocheng" in caught.value.message


# journal data ---------------------------------------------------------------

def test_facts_as_data_leave_out_what_the_name_did_not_say_and_hold_no_floats():
    data = parse_name(DSJ_NAME).to_data()
    assert data == {
        "pattern": "dsj",
        "device": "DSJA8K01",
        "officer": "310123456",
        "started_at": "2021-03-15T08:30:05.000+08:00",
        "seq": 3,
        "important": True,
    }
    assert all(type(v) in (str, int, bool) for v in data.values())


def test_importance_is_always_in_the_data_even_when_false():
    data = parse_name("Axon Body 3 Video 2021-03-15 0830.mp4").to_data()
    assert data["important"] is False
    assert "device" not in data and "seq" not in data


# configured patterns --------------------------------------------------------

def test_configured_patterns_are_used_in_order_and_the_first_match_wins():
    patterns = patterns_from_config([
        {"name": "station", "regex": r"(?P<device>ZF\d+)-(?P<start>\d{14})\.mp4"},
        {"name": "catch_all", "regex": r"(?P<device>[A-Z]+)\d*-.*"},
    ])
    assert [p.name for p in patterns] == ["station", "catch_all"]
    facts = parse_name("ZF0042-20210315083005.mp4", patterns=patterns)
    assert facts == NameFacts(
        pattern="station", device="ZF0042", started_at="2021-03-15T08:30:05.000+08:00"
    )
    assert parse_name("ZF0042-notes.txt", patterns=patterns).pattern == "catch_all"


def test_a_configured_important_group_marks_any_non_empty_text_as_important():
    patterns = patterns_from_config([
        {"name": "zy", "regex": r"(?P<officer>\d{6})_(?P<seq>\d+)(?P<important>_重要)?\.mp4"},
    ])
    assert parse_name("310123_7_重要.mp4", patterns=patterns).important is True
    assert parse_name("310123_7.mp4", patterns=patterns).important is False


def test_a_configured_date_group_may_use_compact_digits_and_seconds():
    patterns = patterns_from_config([
        {"name": "dated", "regex": r"REC(?P<date>\d{8})_(?P<hhmm>\d{6})\.mov"},
    ])
    facts = parse_name("REC20210315_083005.mov", patterns=patterns)
    assert facts.started_at == "2021-03-15T08:30:05.000+08:00"


def test_an_empty_pattern_list_gives_no_patterns():
    assert patterns_from_config([]) == ()


def test_an_invalid_regex_is_a_configuration_error_naming_the_pattern():
    with pytest.raises(ConfigError) as caught:
        patterns_from_config([{"name": "broken", "regex": r"(?P<device>[A-Z+"}])
    assert caught.value.code == "RK104"
    assert "'broken'" in caught.value.message and "regular expression" in caught.value.message


def test_an_unknown_group_is_a_configuration_error_naming_the_group():
    with pytest.raises(ConfigError) as caught:
        patterns_from_config([{"name": "typo", "regex": r"(?P<officr>\d+)\.mp4"}])
    assert "'typo'" in caught.value.message and "officr" in caught.value.message


def test_a_date_without_a_time_of_day_is_a_configuration_error():
    with pytest.raises(ConfigError) as caught:
        patterns_from_config([{"name": "dayonly", "regex": r"(?P<date>\d{8})\.mp4"}])
    assert "'dayonly'" in caught.value.message and "hhmm" in caught.value.message


@pytest.mark.parametrize(
    ("items", "words"),
    [
        ([{"name": "x"}], "'regex'"),
        ([{"regex": r".*"}], "'name'"),
        ([{"name": "", "regex": r".*"}], "'name'"),
        ([{"name": "x", "regexp": r".*"}], "regexp"),
        ([{"name": "x", "regex": r"a"}, {"name": "x", "regex": r"b"}], "twice"),
        (["(?P<seq>\\d+)"], "table"),
        ({"name": "x", "regex": "a"}, "list"),
    ],
)
def test_a_malformed_pattern_entry_is_a_configuration_error(items, words):
    with pytest.raises(ConfigError) as caught:
        patterns_from_config(items)
    assert caught.value.code == "RK104"
    assert words in caught.value.message


def test_a_pattern_built_by_hand_is_compiled_only_when_first_used():
    pattern = NamePattern("late", r"(unclosed")
    with pytest.raises(ConfigError) as caught:
        parse_name(DSJ_NAME, patterns=[pattern])
    assert "'late'" in caught.value.message


def test_the_compiled_regex_is_cached():
    pattern = NamePattern("dsj", DEFAULT_PATTERNS[0].regex)
    assert pattern.compiled is DEFAULT_PATTERNS[0].compiled
