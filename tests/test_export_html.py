"""The offline HTML dossier: self-contained, escaped, atomic, journaled, and rendered for
real in headless Chromium without a single request over the network."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from recordkeep import Archive, errors, export_html

from .conftest import REPO, Cli, make_dump, new_store, run_recordkeep

CASE = "坡城管罚〔2021〕12号"
PERSON = "11010519491231002X"
O1, O2 = make_dump.OFFICER_1, make_dump.OFFICER_2
HOSTILE = "<img src=x onerror=alert(1)>\n现场.mp4"
GBK_NAME = "询问笔录".encode("gbk") + b".pdf"
CHROMIUM = next((shutil.which(x) for x in ("chromium", "chromium-browser") if shutil.which(x)), None)


def ok(result) -> None:
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory, dump_dir) -> tuple[Path, Cli]:
    """A store holding one case across all four stages, built from the generated dump, plus
    a text file posing as a clip under a hostile name, a PDF under a GBK name and a loose photo."""
    root = tmp_path_factory.mktemp("html")
    store = root / "store"
    new_store(store)
    cli = Cli(store)
    ok(cli("officer", "add", O1, "--name", "李明"))
    ok(cli("party", "add", "--name", "张三", "--id-number", PERSON, "--address", "湛江市坡头区龙头镇1号"))
    ok(cli("case", "open", CASE, "--party", "P1", "--title", "违法建设", "--officer", O1, "--officer", O2,
           "--at", "2021-03-15 08:00"))
    assert cli("import", str(dump_dir)).exit_code in (0, 5)
    ok(cli("case", "stage", CASE, "start", "--at", "2021-03-15 08:00", "--action", "立案"))
    ok(cli("case", "stage", CASE, "investigate", "--at", "2021-03-15 08:30", "--until", "2021-03-15 10:30",
           "--officer", O1, "--officer", O2, "--on-site", "--action", "现场检查", "--note", "扣押工具一批"))
    ok(cli("case", "link", CASE, "--officer", O1, "--from", "2021-03-15 08:00", "--to", "2021-03-15 10:30",
           "--stage", "investigate", "--party", "P1"))
    ok(cli("case", "link", CASE, "--officer", O2, "--from", "2021-03-15 08:00", "--to", "2021-03-15 09:00",
           "--stage", "investigate"))
    scans = dump_dir / make_dump.SCANS_DIR
    ok(cli("add", str(scans / "现场检查笔录.jpg"), "--case", CASE, "--stage", "start",
           "--doc-type", "立案审批表"))
    ok(cli("add", str(scans / "询问笔录_2021-03-15.pdf"), "--case", CASE, "--stage", "investigate",
           "--doc-type", "询问笔录"))
    ok(cli("case", "stage", CASE, "decide", "--at", "2021-03-20", "--action", "法制审核"))
    ok(cli("case", "decide", CASE, "--penalty-kind", "罚款", "--amount", "150000", "--at", "2021-03-22"))
    ok(cli("case", "publish", CASE, "--at", "2021-03-25"))
    ok(cli("add", str(scans / "送达回证.tif"), "--case", CASE, "--stage", "serve", "--doc-type", "送达回证"))
    odd = root / "odd"
    odd.mkdir()
    (odd / HOSTILE).write_text("not a clip at all\n", encoding="utf-8")
    pdf = io.BytesIO()  # Pillow's PDF writer decodes a file name as UTF-8: write via memory
    scan = Image.new("L", (120, 170), 255)
    ImageDraw.Draw(scan).text((10, 10), "GBK-named scan", fill=0)
    scan.save(pdf, "PDF")
    with open(os.path.join(os.fsencode(odd), GBK_NAME), "wb") as f:
        f.write(pdf.getvalue())
    files = cli.json("import", str(odd))["files"]
    ok(cli("case", "link", CASE, *[f["digest"] for f in files], "--stage", "serve", "--party", "P1"))
    ok(cli("case", "close", CASE, "--at", "2021-04-30"))
    Image.new("RGB", (64, 48), (200, 30, 30)).save(root / "loose.jpg", "JPEG")
    ok(cli("add", str(root / "loose.jpg"), "--party", "P1"))
    return root, cli


def export(cli: Cli, dest: Path, *args: str) -> dict:
    result = cli("export", *args, str(dest), "--format", "html", "--json")
    ok(result)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def dossier(built) -> Path:
    root, cli = built
    export(cli, root / "case-dossier", "--case", CASE)
    return root / "case-dossier"


def network_refs(folder: Path) -> list[str]:
    """Every http(s) or protocol-relative address in any file of ``folder``."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("latin-1")
            found += [f"{path.name}: {m}" for m in re.findall(r"(?:https?:)?//[\w.-]+\.\w+", text)]
    return found


def render_in_chromium(page: Path, work: Path) -> tuple[Path, list[str]]:
    """Screenshot ``page`` in headless Chromium; return the PNG and the URLs the page itself
    asked for, read from Chromium's net log. File loads never reach the net log, so every
    entry there whose top-level site is a file: page is a request over the network. The
    browser's own background requests (update checks, sign-in) carry no page origin and are
    not the page's doing; a dead proxy keeps them off the wire."""
    shot, netlog = work / "shot.png", work / "net.json"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-extensions", "--no-first-run",
           "--proxy-server=127.0.0.1:9", f"--user-data-dir={work / 'profile'}",
           f"--log-net-log={netlog}", f"--screenshot={shot}", "--window-size=1200,2000",
           page.as_uri()]
    done = subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    assert shot.is_file(), done.stderr.decode("utf-8", "replace")[-2000:]
    log = json.loads(netlog.read_text(encoding="utf-8"))
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    asked = []
    for event in log["events"]:
        params = event.get("params") or {}
        if types.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params:
            site = params.get("network_isolation_key", "")
            by_page = params.get("initiator") == "null" or "file://" in site
            if by_page and not params["url"].startswith(("file:", "data:")):
                asked.append(params["url"])
    return shot, asked


@pytest.mark.slow  # Chromium
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (./tasks.sh test installs it)")
def test_the_dossier_renders_in_headless_chromium_without_asking_the_network(dossier, tmp_path):
    assert network_refs(dossier) == []
    shot, asked = render_in_chromium(dossier / "index.html", tmp_path)
    assert asked == []
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 2000)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50, "the screenshot is (nearly) blank"
    white = sum(n for n, rgb in colours if rgb == (255, 255, 255))
    assert white < 0.95 * image.width * image.height
    accent = sum(n for n, rgb in colours if rgb == (0x1F, 0x5F, 0x8B))
    assert accent > 10_000, "the stylesheet did not load (no stage headers in its colour)"


@pytest.mark.slow  # Chromium
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (./tasks.sh test installs it)")
def test_the_network_check_catches_a_page_that_asks_for_a_remote_image(tmp_path):
    page = tmp_path / "bad" / "index.html"
    page.parent.mkdir()
    page.write_text('<!DOCTYPE html><p>remote</p><img src="http://127.0.0.1:9/x.png">', encoding="utf-8")
    _, asked = render_in_chromium(page, tmp_path)
    assert asked == ["http://127.0.0.1:9/x.png"]


def test_the_page_shows_party_cases_stages_and_every_record_with_digest_and_custody(built, dossier):
    _, cli = built
    text = (dossier / "index.html").read_text(encoding="utf-8")
    assert PERSON not in text and "110105********002X" in text
    for expected in (CASE, "张三", "违法建设", "启动", "调查取证", "审核决定", "送达执行", "现场检查",
                     "扣押工具一批", "法制审核", "罚款 150000.00 元", "公示", "结案", f"{O1} 李明"):
        assert expected in text, expected
    view = cli.json("case", "show", CASE)
    records = [i for s in view["stages"] for i in s["items"] if i["type"] == "record"]
    assert len(records) >= 14
    for r in records:
        assert f"blake3:{r['digest']}" in text
    assert text.count('class="custody"') == len(records)
    assert "stored from" in text and "linked to" in text
    assert "2021-03-15 08:30:00" in text and "0:02" in text  # recorded time, a 2 s clip's duration


def test_every_readable_kind_gets_a_preview_image(built, dossier):
    _, cli = built
    view = cli.json("case", "show", CASE)
    records = {i["digest"]: i for s in view["stages"] for i in s["items"] if i["type"] == "record"}
    thumbs = {p.stem: p for p in (dossier / "assets" / "thumbs").iterdir()}
    kinds = {records[d]["kind"] for d in thumbs}
    assert kinds == {"video", "audio", "photo", "document"}
    documents = {records[d]["doc_type"] for d in thumbs if records[d]["kind"] == "document"}
    assert documents >= {"询问笔录", "送达回证"}
    for path in thumbs.values():
        with Image.open(path) as img:
            assert img.width <= 240 and len(img.convert("RGB").getcolors(1 << 16) or range(99)) > 1, path
    text = (dossier / "index.html").read_text(encoding="utf-8")
    for digest in thumbs:
        assert f'src="assets/thumbs/{digest}.' in text


def test_a_broken_clip_gets_an_icon_and_a_note_and_does_not_stop_the_export(dossier):
    text = (dossier / "index.html").read_text(encoding="utf-8")
    assert '<use href="#icon-video"/>' in text and "no preview: no video frame" in text


def test_names_with_markup_newlines_and_gbk_bytes_are_shown_escaped(dossier):
    text = (dossier / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in text and "onerror=alert(1)>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;\\n现场.mp4" in text
    assert "as GBK: 询问笔录.pdf" in text


def test_the_export_is_journaled_with_format_html(built, tmp_path):
    _, cli = built
    data = export(cli, tmp_path / "d", "--case", CASE)
    assert data["format"] == "html" and data["records"] >= 14 and data["journal_error"] is None
    files = [p for p in (tmp_path / "d").rglob("*") if p.is_file()]
    assert data["files"] == len(files) and data["bytes"] == sum(p.stat().st_size for p in files)
    last = json.loads((cli.store / "journal" / "events.jsonl").read_text(encoding="utf-8").splitlines()[-2])
    assert last["type"] == "export.created" and last["seq"] == data["journaled_seq"]
    assert last["data"]["format"] == "html" and last["data"]["scope"] == {"case": CASE}


def sha256sum_check(folder: Path) -> subprocess.CompletedProcess:
    """coreutils' own check of the dossier's manifest, run in its folder."""
    return subprocess.run(["sha256sum", "--check", "--strict", "--quiet", "manifest-sha256.txt"], cwd=folder,
                          capture_output=True, text=True)


def unlisted_check(folder: Path) -> subprocess.CompletedProcess:
    """docs/auditing.md's check that the folder holds no file its manifest does not list."""
    [command] = [line for line in (REPO / "docs" / "auditing.md").read_text(encoding="utf-8").splitlines()
                 if line.startswith("find . -type f ! -path ./manifest-sha256.txt")]
    return subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True)


def test_a_page_changed_or_added_after_its_export_is_found_out_by_coreutils_and_the_journal_line(
        built, tmp_path):
    import hashlib

    _, cli = built
    dest = tmp_path / "d"
    data = export(cli, dest, "--case", CASE)
    manifest = dest / "manifest-sha256.txt"
    assert sha256sum_check(dest).returncode == 0
    assert unlisted_check(dest).returncode == 0, unlisted_check(dest).stdout
    assert data["manifest"] and data["manifest"].startswith("sha256:")
    listed = {line.split("  ", 1)[1] for line in manifest.read_text(encoding="utf-8").splitlines()}
    files = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert listed == files - {manifest.name} and "index.html" in listed
    lines = (cli.store / "journal" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    [line] = [e for e in map(json.loads, lines) if e["seq"] == data["journaled_seq"]]
    vouched = line["data"]["manifest"]
    assert vouched == data["manifest"]
    corrected = dest / "index-corrected.html"  # a page beside the others: listed nowhere
    corrected.write_text("<h1>罚款 0 元</h1>", encoding="utf-8")
    assert sha256sum_check(dest).returncode == 0 and unlisted_check(dest).returncode == 1
    corrected.unlink()
    assert vouched == "sha256:" + hashlib.sha256(manifest.read_bytes()).hexdigest()
    page = dest / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("违法建设", "无违法事实"), encoding="utf-8")
    assert sha256sum_check(dest).returncode == 1, "the changed page fails coreutils' check"
    manifest.write_text("".join(f"{hashlib.sha256((dest / rel).read_bytes()).hexdigest()}  {rel}\n"
                                for rel in sorted(listed)), encoding="utf-8")
    assert sha256sum_check(dest).returncode == 0, "the manifest made again to match"
    assert "sha256:" + hashlib.sha256(manifest.read_bytes()).hexdigest() != vouched, "but not the journal"


def test_log_verify_html_names_the_export_of_an_untouched_dossier(built, tmp_path):
    _, cli = built
    dest = tmp_path / "d"
    data = export(cli, dest, "--case", CASE)
    found = cli.json("log", "verify", "--html", str(dest))
    assert found["ok"] is True and found["store_compared"] is True and found["problems"] == []
    assert found["export"]["seq"] == data["journaled_seq"] and found["export"]["scope"] == {"case": CASE}
    assert found["files"] == data["files"] - 1  # all but the manifest
    people = cli("log", "verify", "--html", str(dest))
    assert people.exit_code == 0 and f"(export seq {data['journaled_seq']})" in people.stdout
    alone = run_recordkeep("log", "verify", "--html", str(dest), store=tmp_path / "no store")
    assert alone.returncode == 0 and "no store compared" in alone.stdout, alone.stdout + alone.stderr


@pytest.mark.parametrize("tamper", ["a page changed", "a page added", "a preview removed",
                                    "the manifest remade", "a fifo added", "a page made a symlink",
                                    "the manifest removed"])
def test_log_verify_html_fails_a_dossier_changed_after_its_export_and_never_hangs(built, tmp_path, tamper):
    import hashlib

    _, cli = built
    dest = tmp_path / "d"
    export(cli, dest, "--case", CASE)
    page, manifest = dest / "index.html", dest / "manifest-sha256.txt"
    listed = [line.split("  ", 1)[1] for line in manifest.read_text(encoding="utf-8").splitlines()]
    if tamper in ("a page changed", "the manifest remade"):
        page.write_text(page.read_text(encoding="utf-8").replace("违法建设", "无违法事实"), encoding="utf-8")
    if tamper == "the manifest remade":
        manifest.write_text("".join(f"{hashlib.sha256((dest / rel).read_bytes()).hexdigest()}  {rel}\n"
                                    for rel in listed), encoding="utf-8")
    if tamper == "a page added":
        (dest / "index-corrected.html").write_text("<h1>罚款 0 元</h1>", encoding="utf-8")
    if tamper == "a preview removed":
        (dest / next(rel for rel in listed if rel.startswith("assets/thumbs/"))).unlink()
    if tamper == "a fifo added":
        os.mkfifo(dest / "assets" / "pipe")
    if tamper == "a page made a symlink":
        shutil.move(page, tmp_path / "elsewhere.html")
        page.symlink_to(tmp_path / "elsewhere.html")
    if tamper == "the manifest removed":
        manifest.unlink()
    result = run_recordkeep("log", "verify", "--html", str(dest), store=cli.store, timeout=60)
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stdout + result.stderr
    code = "RK272" if tamper == "the manifest remade" else "RK271"
    assert f"PROBLEM {code}" in result.stdout and "BROKEN" in result.stdout, result.stdout


def test_a_journal_line_never_sealed_cannot_vouch_for_a_forged_dossier_whatever_the_index_says(
        built, tmp_path):
    import hashlib
    import sqlite3

    _, cli = built
    dest, store = tmp_path / "d", tmp_path / "store"
    export(cli, dest, "--case", CASE)
    shutil.copytree(cli.store, store)
    page, manifest = dest / "index.html", dest / "manifest-sha256.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("违法建设", "合法建设"), encoding="utf-8")
    listed = [line.split("  ", 1)[1] for line in manifest.read_text(encoding="utf-8").splitlines()]
    manifest.write_text("".join(f"{hashlib.sha256((dest / rel).read_bytes()).hexdigest()}  {rel}\n"
                                for rel in listed), encoding="utf-8")
    journal = store / "journal" / "events.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines()
    honest = json.loads(next(line for line in reversed(lines) if '"export.created"' in line))
    last = json.loads(lines[-1])
    remade = "sha256:" + hashlib.sha256(manifest.read_bytes()).hexdigest()
    forged = {**honest, "seq": last["seq"] + 1, "prev": last["hash"],
              "data": {**honest["data"], "manifest": remade}}
    offset = journal.stat().st_size
    with open(journal, "a", encoding="utf-8") as f:  # no line end: a torn tail, never acknowledged
        f.write(json.dumps(forged, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    with sqlite3.connect(store / "index.sqlite") as db:  # and an index row that points at it
        db.execute("INSERT INTO events (seq, offset, type, at, actor, hash) VALUES (?, ?, ?, ?, ?, ?)",
                   (forged["seq"], offset, "export.created", forged["at"], forged["actor"], forged["hash"]))
    result = run_recordkeep("log", "verify", "--html", str(dest), store=store)
    assert result.returncode == 3 and "PROBLEM RK272" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("line", ["a path with a NUL", "a page listed again as ./index.html"])
def test_a_manifest_line_no_export_writes_fails_even_without_the_store(built, tmp_path, line):
    _, cli = built
    dest = tmp_path / "d"
    export(cli, dest, "--case", CASE)
    manifest = dest / "manifest-sha256.txt"
    page = next(x for x in manifest.read_text(encoding="utf-8").splitlines() if x.endswith("  index.html"))
    added = {"a path with a NUL": "0" * 64 + "  a\0b", "a page listed again as ./index.html":
             page.replace("  index.html", "  ./index.html")}[line]
    with open(manifest, "a", encoding="utf-8") as f:
        f.write(added + "\n")
    result = run_recordkeep("log", "verify", "--html", str(dest), store=tmp_path / "no store")
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert "PROBLEM RK271 manifest-sha256.txt line" in result.stdout, result.stdout


def test_a_party_dossier_holds_its_cases_and_its_records_outside_cases(built, tmp_path):
    _, cli = built
    export(cli, tmp_path / "p", "--party", "张三")
    text = (tmp_path / "p" / "index.html").read_text(encoding="utf-8")
    assert "一户式档案 张三（P1）" in text and CASE in text and PERSON not in text
    loose = cli.json("party", "show", "P1")["records_outside_cases"]
    assert len(loose) == 1 and f"blake3:{loose[0]['digest']}" in text
    assert network_refs(tmp_path / "p") == []


def test_an_existing_non_empty_destination_is_refused(built, tmp_path):
    _, cli = built
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    result = cli("export", "--case", CASE, str(tmp_path / "taken"), "--format", "html")
    assert result.exit_code == 1 and result.stderr.startswith("RK460")
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


def test_a_failure_midway_leaves_neither_a_dossier_nor_its_work_folder(built, tmp_path, monkeypatch):
    _, cli = built

    def crash(self):
        raise OSError(5, "injected I/O error")

    monkeypatch.setattr(export_html._Page, "render", crash)
    with Archive.open(cli.store, actor="tester@test") as archive, pytest.raises(errors.RecordkeepError):
        export_html.export_html(archive, tmp_path / "d", case=CASE)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_blob_or_a_missing_ffmpeg_gives_a_note_never_an_exception(tmp_path, dump_dir):
    from recordkeep.media import thumbnails

    gone = thumbnails.render(tmp_path / "no-such-blob", "photo", tmp_path / "t1")
    assert gone.path is None and "blob unreadable" in gone.note
    clip = next((dump_dir / make_dump.DEVICE_1_DIR).glob("*.MP4"))
    no_tool = thumbnails.render(clip, "video", tmp_path / "t2", ffmpeg="/nonexistent/ffmpeg")
    assert no_tool.path is None and "ffmpeg not found" in no_tool.note
    assert thumbnails.render(None, "video", tmp_path / "t3").note == "no preview: the file was disposed"
    assert list(tmp_path.glob("t*")) == []


def test_previews_are_made_from_a_path_that_is_not_utf8_and_looks_like_a_protocol(
        tmp_path, dump_dir, monkeypatch):
    """ffmpeg-python builds the command: a blob's and a preview's raw path bytes must reach
    ffmpeg as files (``file:``), even relative paths that start like the ``concat:``
    protocol, and a folder name that is not UTF-8 must not break the command."""
    from recordkeep.media import thumbnails

    monkeypatch.chdir(tmp_path)
    folder = Path(os.fsdecode(b"concat:" + GBK_NAME))
    folder.mkdir()
    clip = next((dump_dir / make_dump.DEVICE_1_DIR).glob("*.MP4"))
    wav = next((dump_dir / make_dump.DEVICE_1_DIR).glob("*.WAV"))
    shutil.copyfile(clip, folder / "clip")
    shutil.copyfile(wav, folder / "sound")
    out = folder / "thumbs%03d"  # relative too, and image2 must not read it as a pattern
    frame = thumbnails.render(folder / "clip", "video", out / "v")
    wave = thumbnails.render(folder / "sound", "audio", out / "a")
    assert (frame.path, frame.note) == (out / "v.jpg", None)
    assert (wave.path, wave.note) == (out / "a.png", None)
    with Image.open(frame.path) as img:
        assert img.size == (240, 180)
    with Image.open(wave.path) as img:
        assert img.size == (thumbnails.WIDTH, thumbnails.WAVE_HEIGHT)


# -- in Chinese ---------------------------------------------------------------------------
class _VisibleText(HTMLParser):
    """The text a reader sees: no style, script or icon definitions."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("style", "script", "svg")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("style", "script", "svg")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


#: what may stay in Latin letters in a Chinese page, by kind (never by word): digests and
#: ids, code and commands, paths and file names, actors, RK codes, officer and device
#: numbers, units of size, encodings and software names, and an external tool's own
#: diagnostic quoted in brackets (ffmpeg's); values read from the files are removed apart
NOT_WORDS = re.compile(r"blake3:[0-9a-f]*|\b[0-9a-f]{8,}\b|[0-9a-f]{4,}(?:-[0-9a-f]{4,})+|\S*/\S*"
                       r"|\S+\.\w{2,4}\b|\S+@\S+|\bRK\d{3}\b|\b[A-Z]+[0-9_][\w-]*|\b\d+(?:\.\d+)? ?[KMGT]?B\b"
                       r"|\b(?:BagIt|UTF-8|GBK|recordkeep)\b|（[ -~]*）|\([ -~]*\)")


@pytest.fixture(scope="module")
def chinese_dossier(built) -> Path:
    root, cli = built
    result = cli("--lang", "zh", "export", "--case", CASE, str(root / "case-dossier-zh"), "--format", "html")
    cli("--lang", "en", "--help")  # the rest of the session reads English
    ok(result)
    return root / "case-dossier-zh"


def test_the_dossier_in_chinese_has_no_english_word_but_codes_digests_names_and_paths(built, chinese_dossier):
    _, cli = built
    page = (chinese_dossier / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in page
    parser = _VisibleText()
    parser.feed(page)
    text = " ".join(parser.parts).replace(HOSTILE.replace("\n", "\\n"), " ")
    for code in re.findall(r"<code[^>]*>(.*?)</code>", page, re.S):
        text = text.replace(html.unescape(code), " ")
    from_files = {v for s in cli.json("case", "show", CASE)["stages"] for i in s["items"]
                  for k, v in i.items() if isinstance(v, str) and k != "type" and re.search("[A-Za-z]", v)}
    for value in sorted(from_files, key=len, reverse=True):
        text = text.replace(value, " ")
    text = NOT_WORDS.sub(" ", text)
    words = sorted(set(re.findall(r"[A-Za-z]{2,}", text)))
    assert words == [], words


@pytest.mark.slow  # Chromium
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (./tasks.sh test installs it)")
def test_the_chinese_dossier_renders_in_chromium_with_a_cjk_font(chinese_dossier, tmp_path):
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    assert fonts.stdout.strip(), "no CJK font: ./tasks.sh test installs fonts-wqy-microhei"
    shot, asked = render_in_chromium(chinese_dossier / "index.html", tmp_path)
    assert asked == []
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50 and sum(n for n, rgb in colours if rgb == (0x1F, 0x5F, 0x8B)) > 10_000
    # characters without a glyph all render as the same box: two different headings in the
    # dossier's stylesheet must render differently
    css = (chinese_dossier / "assets" / "dossier.css").as_uri()
    shots = []
    for n, heading in enumerate(("调查取证", "送达执行")):
        page = tmp_path / f"glyphs{n}" / "index.html"
        page.parent.mkdir()
        page.write_text(f'<!DOCTYPE html><meta charset="utf-8"><link rel="stylesheet" href="{css}">'
                        f"<h1>{heading}</h1>", encoding="utf-8")
        shot, _ = render_in_chromium(page, page.parent)
        shots.append(Image.open(shot).convert("RGB").tobytes())
    assert shots[0] != shots[1], "CJK characters render as boxes: no font has their glyphs"


def test_an_unreadable_scan_and_an_identity_document_worded_otherwise_leak_nothing_into_the_dossier(
        cli, tmp_path):
    """The no-preview note of a broken photo or PDF names no path of the store (Pillow's message
    quotes it); a photo typed 身份证正反面 (containing 身份证) gets an icon, not its picture."""
    ok(cli("party", "add", "--name", "张三", "--id-number", "11010519491231002X"))
    ok(cli("case", "open", "坡城管罚〔2021〕7号", "--party", "P1", "--at", "2021-03-01"))
    broken, photo = tmp_path / "broken.pdf", tmp_path / "broken.jpg"
    broken.write_bytes(b"%PDF-1")
    photo.write_bytes(b"no picture in these bytes")
    card = tmp_path / "card.jpg"
    Image.new("RGB", (64, 40), "white").save(card, "JPEG")
    for path, doc_type in ((broken, "询问笔录"), (photo, "现场照片"), (card, "身份证正反面")):
        ok(cli("add", str(path), "--case", "坡城管罚〔2021〕7号", "--stage", "start", "--doc-type", doc_type))
    dossier = tmp_path / "html"
    ok(cli("export", "--case", "坡城管罚〔2021〕7号", "--format", "html", str(dossier)))
    page = (dossier / "index.html").read_text(encoding="utf-8")
    assert str(cli.store) not in page and "objects/blake3" not in page
    card_digest = cli.json("search", "身份证正反面")["records"][0]["digest"]
    thumbs = dossier / "assets" / "thumbs"
    assert not (thumbs.is_dir() and list(thumbs.glob(f"{card_digest}*")))
