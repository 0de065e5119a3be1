"""Text kept in the journal (a finding's message in verify.run, a reason in an import's receipt)
is stored in English with its message id and parameters, whatever the writer's language, and
shown in the reader's language (issue 21)."""

from __future__ import annotations

import os
import pickle

import pytest

from cli import main
from recordkeep import errors, i18n, validate
from recordkeep.i18n import Message, _

from .conftest import Cli, blob_path, new_store


@pytest.fixture(autouse=True)
def english_after():
    """Whatever a test installs, the rest of the session reads English (help included)."""
    yield
    from click.testing import CliRunner

    CliRunner().invoke(main, ["--lang", "en", "--help"])


def test_a_message_remembers_its_msgid_its_parameters_and_its_english():
    i18n.install("zh")
    said = _("blob cannot be read: {error}").format(error="Input/output error")
    assert isinstance(said, Message) and said == "证据文件无法读取：Input/output error"
    assert i18n.parts(said) == ("blob cannot be read: Input/output error", "blob cannot be read: {error}",
                                {"error": "Input/output error"})
    assert i18n.render(said.msgid, said.params, "x") == said
    i18n.install("en")
    assert i18n.render(said.msgid, said.params, "x") == "blob cannot be read: Input/output error"
    assert pickle.loads(pickle.dumps(said)).english == said.english


def test_a_message_inside_a_message_is_kept_as_an_id_and_rendered_in_the_readers_language():
    i18n.install("zh")
    inner = _("blob has {actual} bytes, the record says {size}").format(actual=3, size=4)
    outer = _("the stored copy could not be read back: {message}").format(message=inner)
    english, msgid, params = i18n.parts(outer)
    assert english == "the stored copy could not be read back: blob has 3 bytes, the record says 4"
    assert params == {"message": {"id": "blob has {actual} bytes, the record says {size}",
                                  "params": {"actual": 3, "size": 4}}}
    assert i18n.render(msgid, params, english) == "存入的副本无法回读：证据文件为 3 字节，记录为 4 字节"


def test_plain_text_and_a_stored_text_without_an_id_are_shown_as_they_are():
    i18n.install("zh")
    assert i18n.parts("ffprobe said no") == ("ffprobe said no", None, None)
    joined = _("blob is missing") + "!"  # a plain str operation: the text itself
    assert i18n.parts(joined) == ("证据文件缺失!", None, None)
    assert i18n.shown({"message": "blob is missing"}, "message") == "blob is missing"  # an older event
    assert i18n.shown({"message": "x", "message_id": "no {such}", "message_params": {}}, "message") == "x"


def _not_stored(cli: Cli) -> list[dict]:
    batch = next(e for e in cli.json("log")["events"] if e["type"] == "batch.finished")
    return sorted(batch["data"]["receipt"]["not_stored_files"], key=lambda f: f["path"])


def _card(tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    (card / "a.txt").write_bytes(b"a note")
    (card / "locked.jpg").write_bytes(b"\xff\xd8\xff\xe0 another")
    os.mkfifo(card / "pipe")
    return card


@pytest.fixture
def unopenable(monkeypatch):
    """``locked.jpg`` cannot be opened (the tests run as root, for whom a mode keeps nothing out)."""
    real = os.open

    def refusing(path, flags, *args, **kw):
        if os.fsencode(path).endswith(b"locked.jpg"):
            raise PermissionError(13, "Permission denied", path)
        return real(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", refusing)


def test_an_import_under_chinese_journals_the_same_english_reasons_and_its_receipt_says_them_in_chinese(
        cli, tmp_path, unopenable):
    card = _card(tmp_path)
    zh = cli("--lang", "zh", "import", str(card))
    assert zh.exit_code == 5
    assert "RK303: 无法打开：Permission denied" in zh.stdout and "RK304: FIFO：不是普通文件" in zh.stdout
    assert "结论：不完整" in zh.stdout and "could not be opened" not in zh.stdout
    english = Cli(new_store(tmp_path / "en"))
    en = english("--lang", "en", "import", str(card))
    assert "RK303: could not be opened: Permission denied" in en.stdout
    assert "VERDICT: INCOMPLETE: some files were not stored: DO NOT wipe the recorder." in en.stdout

    stored = _not_stored(cli)
    assert stored == _not_stored(english)  # the same journal whatever the writer's language
    assert stored == [
        {"status": "failed", "path": "locked.jpg", "code": "RK303",
         "reason": "could not be opened: Permission denied", "reason_id": "could not be opened: {error}",
         "reason_params": {"error": "Permission denied"}},
        {"status": "skipped", "path": "pipe", "code": "RK304", "reason": "FIFO: not a regular file",
         "reason_id": "FIFO: not a regular file", "reason_params": {}}]
    shown = cli("--lang", "zh", "log").stdout
    assert "locked.jpg: 无法打开：Permission denied" in shown and "pipe: FIFO：不是普通文件" in shown
    assert "locked.jpg: could not be opened: Permission denied" in cli("--lang", "en", "log").stdout
    fresh = cli.json("--lang", "zh", "import", str(card))  # --json of a fresh receipt: the reader's words
    locked = next(f for f in fresh["files"] if f["path"] == "locked.jpg")
    assert locked["reason"] == "无法打开：Permission denied"
    assert locked["reason_id"] == "could not be opened: {error}"


def test_a_verify_under_chinese_journals_its_finding_in_english_with_its_id_and_shows_it_in_chinese(
        cli, store, tmp_path):
    src = tmp_path / "a.bin"
    src.write_bytes(b"evidence bytes")
    digest = cli.json("add", str(src))["files"][0]["digest"]
    blob = blob_path(store, digest)
    blob.chmod(0o644)
    blob.write_bytes(b"Evidence bytes")
    changed = blake3_of(blob)

    zh = cli("--lang", "zh", "verify")
    assert zh.exit_code == 3
    assert f"问题 RK210 摘要不符：{digest} " in zh.stdout and f"内容的哈希值为 {changed}" in zh.stdout
    assert "校验 --full（整个证据库）：1 条记录" in zh.stdout

    run = next(e for e in cli.json("log")["events"] if e["type"] == "verify.run")
    problem = run["data"]["problems"][0]
    assert problem["message"] == f"content hashes to {changed}"  # stored as written, in English
    assert problem["message_id"] == "content hashes to {digest}"
    assert problem["message_params"] == {"digest": changed}

    assert f"问题 RK210：内容的哈希值为 {changed}" in cli("--lang", "zh", "log").stdout
    assert f"PROBLEM RK210: content hashes to {changed}" in cli("--lang", "en", "log").stdout
    assert f"内容的哈希值为 {changed}" in cli("--lang", "zh", "log", "--record", digest, "--report").stdout
    status = cli("--lang", "zh", "verify", "--status")
    assert status.exit_code == 3 and "1 条记录最近一次校验未通过" in status.stdout
    assert "last verification" in cli("--lang", "en", "verify", "--status").stdout


def blake3_of(path) -> str:
    from recordkeep.store.hashing import hash_file

    return hash_file(path)[0]


def test_a_label_translated_before_it_is_passed_on_keeps_its_english_in_the_stored_message():
    i18n.install("zh")
    with pytest.raises(errors.InvalidText) as caught:
        validate.text("a\nb", i18n._("the reason"))
    assert str(caught.value.message) == "理由含有控制字符 U+000A"
    assert i18n.english_of(caught.value.message) == "the reason holds the control character U+000A"
