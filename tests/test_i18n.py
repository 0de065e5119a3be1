"""The reader's language: chosen from --lang, $RECORDKEEP_LANG or the locale; the catalogs
compiled from their .po and shipped; help and click's own strings in Chinese."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from recordkeep import i18n

from . import i18n_catalog
from .conftest import REPO


@pytest.mark.parametrize(("argv", "environ", "language"), [
    ([], {}, "en"),
    ([], {"LANG": "zh_CN.UTF-8"}, "zh"),
    ([], {"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
    ([], {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
    ([], {"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),
    ([], {"RECORDKEEP_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
    (["--lang", "en", "log"], {"RECORDKEEP_LANG": "zh", "LANG": "zh_CN.UTF-8"}, "en"),
    (["--lang=zh", "verify"], {}, "zh"),
    (["--", "--lang", "zh"], {}, "en"),
])
def test_the_language_is_the_flag_else_recordkeep_lang_else_the_locale_else_english(argv, environ, language):
    assert i18n.choose(argv, environ) == language


def test_the_shipped_catalog_is_its_po_compiled():
    for language in i18n_catalog.TRANSLATED:
        mo = i18n_catalog.po_path(language).with_suffix(".mo")
        assert mo.read_bytes() == i18n_catalog.compiled(i18n_catalog.read(language)), (
            f"{mo} is stale: run ./tasks.sh catalog")


def test_the_catalog_holds_every_message_of_the_code_and_no_other():
    fresh = {m.id for m in i18n_catalog.template() if m.id}
    for language in i18n_catalog.TRANSLATED:
        held = {m.id for m in i18n_catalog.read(language) if m.id}
        assert fresh - held == set(), "messages missing from the catalog: run ./tasks.sh catalog"
        assert held - fresh == set(), "messages the code no longer has: run ./tasks.sh catalog"


def test_every_error_class_hint_is_marked_for_translation():
    from recordkeep import errors

    def classes(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from classes(sub)

    marked = {m.id for m in i18n_catalog.template() if m.id}  # what the code marks with _() or N_()
    unmarked = sorted(c.__name__ for c in classes(errors.RecordkeepError) if c.hint and c.hint not in marked)
    assert unmarked == [], "hints not marked N_() for translation"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "cli.py"), *args], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env}, check=False)


def test_speaking_another_language_answers_in_it_inside_the_block_and_as_before_after():
    i18n.install("en")
    with i18n.speaking("zh"):
        assert i18n.language() == "zh" and i18n._("original: {name}") != "original: {name}"
    assert i18n.language() == "en" and i18n._("original: {name}") == "original: {name}"
    with pytest.raises(KeyError), i18n.speaking("zh"):
        raise KeyError("an error inside")
    assert i18n.language() == "en"


def test_lang_en_under_a_chinese_locale_gives_english_and_lang_zh_chinese():
    english = _run("--lang", "en", "--help", LANG="zh_CN.UTF-8")
    chinese = _run("--lang", "zh", "--help", LANG="en_US.UTF-8")
    assert english.stdout.startswith("Usage:") and "Options:" in english.stdout
    assert chinese.stdout.startswith("用法") and "Usage" not in chinese.stdout
    assert _run("--help", LANG="zh_CN.UTF-8").stdout == chinese.stdout
    assert _run("--help", RECORDKEEP_LANG="en", LANG="zh_CN.UTF-8").stdout == english.stdout


def test_a_usage_error_is_in_the_language_asked_for():
    refused = _run("--lang", "zh", "--no-such-flag")
    assert refused.returncode == 2 and "用法" in refused.stderr and "Usage" not in refused.stderr


def test_recordkeep_verify_is_the_function_whatever_was_imported_first():
    probe = ("import importlib, pkgutil, recordkeep\n"
             "for m in pkgutil.walk_packages(recordkeep.__path__, 'recordkeep.'):\n"
             "    importlib.import_module(m.name)\n"
             "assert callable(recordkeep.verify) and type(recordkeep.verify).__name__ == 'function'\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_the_help_of_every_command_is_in_chinese():
    from click.testing import CliRunner

    from cli import main

    runner = CliRunner()
    try:
        for path, command in _commands(main):
            shown = runner.invoke(main, ["--lang", "zh", *path, "--help"]).output
            assert shown.startswith("用法") and "Options" not in shown, path
            flat = "".join(shown.split())
            for item in (command, *command.params):
                if item._msgid[0]:
                    assert item.help != item._msgid[0], (path, item._msgid[0])  # translated
                    assert "".join(item.help.split())[:30] in flat, (path, item.help)
    finally:
        runner.invoke(main, ["--lang", "en", "--help"])  # the rest of the session reads English


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{[^{}]*\}|%\([a-z_]+\)[sd]", text))


def test_every_message_is_translated_with_its_placeholders_and_none_is_fuzzy():
    catalog = i18n_catalog.read("zh")
    untranslated, broken = [], []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            untranslated.append(ids[0])
            continue
        # a translation may leave out what its language says otherwise (the English slug beside a
        # Chinese name), never add a placeholder the code does not fill
        if any(not _placeholders(s) <= _placeholders(ids[-1] if len(ids) > 1 else ids[0]) for s in strings):
            broken.append(ids[0])
    assert untranslated == [] and broken == []


def glossary() -> list[tuple[str, str]]:
    """(English, 中文) of docs/glossary.md's table, the longest English first."""
    rows = []
    for line in (REPO / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and cells[0] not in ("English", "") \
                and not set(cells[0]) <= set("-: "):
            rows.append((cells[0], cells[1]))
    return sorted(rows, key=lambda row: -len(row[0]))


#: what is not prose in a message: placeholders, quoted commands, options, METAVARS, config
#: keys, URLs, identifiers, file names and paths
NOT_PROSE = re.compile(r"\{[^{}]*\}|'[^']*'|`[^`]*`|\"[^\"]*\"|--[\w-]+|\b[A-Z][A-Z_]+\b|\[[a-z_]+\][ \w.]*"
                       r"|s3://\S+|\b\w+_\w+\b|\b\w+\.\w+\b|\b\w+/\S*|\brecordkeep(?: [a-z-]+)+")


def test_the_chinese_catalog_uses_the_glossarys_term_wherever_the_english_term_appears():
    terms = glossary()
    assert len(terms) >= 30
    wrong = []
    for message in i18n_catalog.read("zh"):
        if not message.id or isinstance(message.id, tuple):
            continue
        prose = NOT_PROSE.sub(" ", message.id)
        for english, chinese in terms:
            found = re.compile(rf"(?<![\w-]){re.escape(english)}(?![\w-])", re.IGNORECASE)
            if found.search(prose):
                if not any(zh in message.string for zh in chinese.split("/")):
                    wrong.append((english, chinese, message.id, message.string))
                prose = found.sub(" ", prose)  # a shorter term inside it is not judged again
    assert wrong == []
