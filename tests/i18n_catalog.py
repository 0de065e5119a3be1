"""The message catalogs, built with Babel (a development tool: the `test` extra).

    python -m tests.i18n_catalog      # (./tasks.sh catalog) update the .po files, compile the .mo

The template holds every message the reader can meet: the ``_``/``ngettext``/``N_`` calls of
``cli.py`` and ``recordkeep/``, the help of every command and option (read from the click
tree: help is data there, not a call), and click's own strings ("Usage:", "Options"), which
click looks up in the global gettext domain recordkeep binds. Each language's ``.po`` is
updated from it (new messages untranslated, gone ones dropped, no fuzzy guessing) and
compiled into the ``.mo`` shipped in the package.
"""

from __future__ import annotations

import io
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parent.parent
LOCALE = REPO / "recordkeep" / "locale"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
TRANSLATED = ("zh",)


def _add(catalog: Catalog, msgid, where: str, line: int = 0) -> None:
    if msgid:
        catalog.add(msgid, locations=[(where, line)])


def _help(catalog: Catalog, command: click.Command, path: str) -> None:
    for item in (command, *command.params):
        msgid = getattr(item, "_msgid", (item.help, getattr(item, "short_help", None)))
        for text in msgid:
            _add(catalog, text, f"cli.py:{path or 'recordkeep'}")
    for name, sub in getattr(command, "commands", {}).items():
        _help(catalog, sub, f"{path} {name}".strip())


def template() -> Catalog:
    """Every message of the interface, English, untranslated."""
    import cli

    catalog = Catalog(project="recordkeep", domain="recordkeep")
    sources = [(REPO, "cli.py"), *((REPO / "recordkeep", str(p.relative_to(REPO / "recordkeep")))
                                   for p in sorted((REPO / "recordkeep").rglob("*.py")))]
    for base, name in sources:
        path = base / name
        with open(path, "rb") as f:
            for line, message, _comments, _context in extract("python", f, keywords=KEYWORDS):
                _add(catalog, message, str(path.relative_to(REPO)), line)
    for filename, line, message, _comments, _context in extract_from_dir(
            Path(click.__file__).parent, method_map=[("**.py", "python")],
            keywords={"_": None, "ngettext": (1, 2)}):
        _add(catalog, message, f"click/{filename}", line)
    _help(catalog, cli.main, "")
    return catalog


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "recordkeep.po"


def read(language: str) -> Catalog:
    with open(po_path(language), "rb") as f:
        return read_po(f, locale=language)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def translated(message) -> bool:
    """Whether every form of the message has its translation."""
    return all(message.string) if isinstance(message.string, tuple) else bool(message.string)


def update(language: str, fresh: Catalog) -> Catalog:
    """The language's catalog brought up to ``fresh`` and written (``.po`` and ``.mo``)."""
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog = read(language) if path.exists() else Catalog(locale=language, domain="recordkeep")
    catalog.update(fresh, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    out = io.BytesIO()
    write_po(out, catalog, width=100, sort_output=True, include_previous=False)
    path.write_bytes(out.getvalue())
    path.with_suffix(".mo").write_bytes(compiled(read(language)))
    return catalog


def merge(language: str, parts: list[Path]) -> None:
    """Fill the language's untranslated messages from other ``.po`` files (translations made
    apart, by message id); the catalog is then written and compiled."""
    catalog = read(language)
    for part in parts:
        with open(part, "rb") as f:
            for message in read_po(f, locale=language):
                if message.id and translated(message) and message.id in catalog and \
                        not translated(catalog[message.id]):
                    catalog[message.id].string = message.string
    out = io.BytesIO()
    write_po(out, catalog, width=100, sort_output=True, include_previous=False)
    po_path(language).write_bytes(out.getvalue())
    po_path(language).with_suffix(".mo").write_bytes(compiled(read(language)))


def main(argv: list[str] | None = None) -> int:
    """Update every catalog; ``--merge FILE.po...`` first fills the Chinese one from those."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    fresh = template()
    for language in TRANSLATED:
        catalog = update(language, fresh)
        if args[:1] == ["--merge"]:
            merge(language, [Path(a) for a in args[1:]])
            catalog = read(language)
        missing = sum(1 for m in catalog if m.id and not translated(m))
        print(f"{po_path(language).relative_to(REPO)}: {len(fresh)} messages, {missing} untranslated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
