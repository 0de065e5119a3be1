"""Every command and option of the CLI is documented, as sqlite-utils' tests/test_docs.py
holds its CLI to its docs: a command or option added without a word in README.md or
docs/ fails here, and docs/cli.md lists each option under its own command."""

from __future__ import annotations

import re

import click
import pytest

from cli import main

from .conftest import REPO

DOCS = "\n".join(p.read_text(encoding="utf-8")
                 for p in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))])
REFERENCE = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")


def commands() -> dict[str, click.Command]:
    """Every command by its path ("" is recordkeep itself, "case" a group, "case stage")."""
    found: dict[str, click.Command] = {}

    def walk(cmd: click.Command, path: tuple[str, ...]) -> None:
        found[" ".join(path)] = cmd
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))

    walk(main, ())
    return found


def long_options(cmd: click.Command) -> list[str]:
    """The command's long option names, both sides of a flag pair (--readback/--no-readback)."""
    return [name for p in cmd.params if isinstance(p, click.Option)
            for name in (*p.opts, *p.secondary_opts) if name.startswith("--") and name != "--help"]


def runnable(cmd: click.Command) -> bool:
    """A leaf, or a group that acts on its own (log)."""
    return not isinstance(cmd, click.Group) or (cmd is not main and cmd.invoke_without_command)


COMMANDS = commands()
OPTIONS = [(path, option) for path, cmd in COMMANDS.items() for option in long_options(cmd)]


def reference_sections() -> dict[str, str]:
    """docs/cli.md's text under each "### `recordkeep WORDS ARGS`" heading, by WORDS;
    the options common to every command under "" (the text before the first command)."""
    parts = re.split(r"^### `recordkeep ([^`]*)`\n", REFERENCE, flags=re.M)
    sections = {"": parts[0]}
    for heading, text in zip(parts[1::2], parts[2::2], strict=True):
        words = []
        for word in heading.split():
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            words.append(word)
        sections[" ".join(words)] = text
    return sections


@pytest.mark.parametrize("path", [p for p in COMMANDS if p])
def test_every_command_appears_in_the_readme_or_docs(path):
    assert f"recordkeep {path}" in DOCS


@pytest.mark.parametrize(("path", "option"), OPTIONS, ids=[f"{p} {o}".strip() for p, o in OPTIONS])
def test_every_option_appears_in_the_readme_or_docs(path, option):
    assert option in DOCS


@pytest.mark.parametrize("path", [p for p, cmd in COMMANDS.items() if runnable(cmd)])
def test_the_reference_has_a_section_for_every_command_listing_each_of_its_options(path):
    sections = reference_sections()
    assert path in sections, f"docs/cli.md has no '### `recordkeep {path} ...`' section"
    missing = [o for o in long_options(COMMANDS[path]) if f"`{o}" not in sections[path]]
    assert missing == [], f"docs/cli.md's section on {path} does not list {missing}"


def test_the_reference_lists_the_options_common_to_every_command():
    common = reference_sections()[""]
    assert [o for o in long_options(main) if f"`{o}" not in common] == []


def test_the_reference_describes_no_command_the_cli_lacks():
    runnable_paths = {p for p, cmd in COMMANDS.items() if runnable(cmd)}
    assert set(reference_sections()) - {""} - runnable_paths == set()


@pytest.mark.parametrize("path", [p for p, cmd in COMMANDS.items() if runnable(cmd)])
def test_every_command_says_what_it_does_in_its_help(path):
    assert (COMMANDS[path].help or "").strip()
