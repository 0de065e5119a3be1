"""Whose clip and when: a recorder's name with device and time but no officer takes the
officer from the device's assignment; a clip that nothing else dates is dated by its file's
modification time, marked ``time_source: "mtime"``, and only within the store's window."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import ffmpeg
import pytest
from PIL import Image

from recordkeep import Archive
from recordkeep.index import records
from recordkeep.retention import add_months

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICER, NEXT_OFFICER = "440804003", "440804004"


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def clip(folder: Path, name: str, *, file_time: str | None = None) -> Path:
    """A real 1 s H.264 clip with no time in its metadata (distinct bytes per name), its
    modification time set to ``file_time`` (local Shanghai time) when given."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    job = ffmpeg.input("testsrc=size=32x24:rate=1:duration=1", f="lavfi").output(
        str(path), metadata=f"comment={name}", preset="ultrafast", pix_fmt="yuv420p", f="mp4",
        **{"c:v": "libx264"})
    cmd = job.global_args("-hide_banner", "-nostdin", "-v", "error").overwrite_output().compile()
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)  # ffmpeg-python's run has no timeout
    if file_time is not None:
        stamp = datetime.fromisoformat(file_time).replace(tzinfo=SHANGHAI).timestamp()
        os.utime(path, (stamp, stamp))
    return path


def imported_event(cli, digest: str) -> dict:
    events = cli.json("log", "--record", digest)["events"]
    return next(e for e in events if e["type"] == "record.imported")["data"]


def only_record(cli) -> dict:
    found = cli.json("search")["records"]
    assert len(found) == 1, found
    return found[0]


def set_limits(store: Path, earliest: str) -> None:
    with open(store / "recordkeep.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[limits]\nearliest = "{earliest}"\n')


# -- the device-plus-time name ------------------------------------------------------------
def test_a_device_and_time_name_takes_the_officer_of_the_device_then_and_search_finds_it(cli, tmp_path):
    ok(cli("device", "add", "DSJ003", "--officer", OFFICER, "--from", "2021-05-01"))
    ok(cli("device", "add", "DSJ003", "--officer", NEXT_OFFICER, "--from", "2021-06-01"))  # handed over
    card = tmp_path / "card"
    clip(card, "DSJ003_20210520160000_0001.MP4")
    clip(card, "DSJ003_20210602090000_0002.MP4")
    assert cli.json("import", str(card))["stored"] == 2
    mine = cli.json("search", "--officer", OFFICER)["records"]
    assert [(r["name"], r["device"], r["recorded_at"], r["time_source"]) for r in mine] == [
        ("DSJ003_20210520160000_0001.MP4", "DSJ003", "2021-05-20T16:00:00.000+08:00", "name")]
    theirs = cli.json("search", "--officer", NEXT_OFFICER)["records"]
    assert [r["name"] for r in theirs] == ["DSJ003_20210602090000_0002.MP4"]
    data = imported_event(cli, mine[0]["digest"])
    assert data["name"]["pattern"] == "dsj_device_time" and "officer" not in data["name"]
    assert (data["officer"], data["officer_source"]) == (OFFICER, "device")


def test_an_assignment_entered_after_the_import_gives_the_officer_as_well(cli, tmp_path):
    clip(tmp_path / "card", "DSJ003_20210520160000_0001.MP4")
    ok(cli("import", str(tmp_path / "card")))
    assert only_record(cli)["officer"] is None
    ok(cli("device", "add", "DSJ003", "--officer", OFFICER, "--from", "2021-05-01", "--until", "2021-05-31"))
    assert [r["name"] for r in cli.json("search", "--officer", OFFICER)["records"]] == [
        "DSJ003_20210520160000_0001.MP4"]


# -- the file's time ------------------------------------------------------------------------
def test_a_clip_no_metadata_or_name_dates_is_dated_by_its_file_time_marked_so(cli, store, tmp_path):
    clip(tmp_path / "card", "现场录像.mp4", file_time="2021-05-20 16:00:00")
    ok(cli("import", str(tmp_path / "card")))
    found = only_record(cli)
    assert (found["recorded_at"], found["time_source"]) == ("2021-05-20T16:00:00.000+08:00", "mtime")
    data = imported_event(cli, found["digest"])
    assert data["time_source"] == "mtime" and data["recorded_at"] == data["source"]["mtime"]
    assert "time_ignored" not in data
    with Archive.open(store, actor="clerk@station1") as archive:  # what item 4's AV rule reads
        assert records.record(archive.index, found["digest"])["time_source"] == "mtime"
    assert cli.json("search", "--since", "2021-05-20", "--until", "2021-05-20")["records"] == [found]
    assert "2021-05-20 16:00 (file time)" in ok(cli("search")).output


def test_a_file_time_outside_the_window_is_not_used_and_the_record_says_so(cli, store, tmp_path):
    set_limits(store, "2015-01-01")
    clip(tmp_path / "card", "现场录像.mp4", file_time="2001-01-01 08:00:00")  # a camera never set
    ok(cli("import", str(tmp_path / "card")))
    found = only_record(cli)
    assert (found["recorded_at"], found["time_source"]) == (None, None)
    data = imported_event(cli, found["digest"])
    assert data["source"]["mtime"] is None and "recorded_at" not in data
    assert data["time_ignored"] == [{"source": "mtime", "value": "2001-01-01T08:00:00.000+08:00",
                                     "why": "outside 2015-01-01 to 2099-12-31"}]


def test_a_name_time_outside_the_window_gives_way_to_the_file_time(cli, store, tmp_path):
    set_limits(store, "2015-01-01")
    ok(cli("device", "add", "DSJ003", "--officer", OFFICER, "--from", "2021-05-01"))
    clip(tmp_path / "card", "DSJ003_20000101000000_0001.MP4", file_time="2021-05-20 16:00:00")
    ok(cli("import", str(tmp_path / "card")))
    found = only_record(cli)
    assert (found["recorded_at"], found["time_source"]) == ("2021-05-20T16:00:00.000+08:00", "mtime")
    assert found["officer"] == OFFICER  # the device's officer at the file's time
    assert [i["source"] for i in imported_event(cli, found["digest"])["time_ignored"]] == ["name"]


def test_a_photo_or_a_scan_without_a_date_of_its_own_is_never_dated_by_its_file_time(cli, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    Image.new("RGB", (16, 16), "white").save(card / "现场检查笔录.png")  # a scan: its file time is the scan's
    (card / "询问笔录.txt").write_text("询问笔录")
    for path in card.iterdir():
        stamp = datetime(2021, 5, 20, 16, tzinfo=SHANGHAI).timestamp()
        os.utime(path, (stamp, stamp))
    ok(cli("import", str(card)))
    found = cli.json("search")["records"]
    assert sorted((r["kind"], r["recorded_at"], r["time_source"]) for r in found) == [
        ("other", None, None), ("photo", None, None)]


def test_a_clip_dated_by_an_old_file_time_is_kept_from_its_import(cli, tmp_path):
    clip(tmp_path / "card", "现场录像.mp4", file_time="2019-01-01 08:00:00")
    ok(cli("import", str(tmp_path / "card")))
    found = only_record(cli)
    status = cli.json("retention", "show", found["digest"])["records"][0]
    assert found["time_source"] == "mtime" and found["recorded_at"].startswith("2019-01-01")
    six_months_on = add_months(datetime.fromisoformat(found["first_seen_at"]), 6)
    assert status["keep_until"] == six_months_on.isoformat(timespec="milliseconds") and not status["due"]


@pytest.mark.parametrize("name", ["IMG_20210520160000_0001.mp4"])
def test_a_phone_name_is_no_recorder_name_and_its_clip_falls_back_to_the_file_time(cli, tmp_path, name):
    clip(tmp_path / "card", name, file_time="2021-05-20 16:00:00")
    ok(cli("import", str(tmp_path / "card")))
    found = only_record(cli)
    assert (found["device"], found["time_source"]) == (None, "mtime")
