"""The shape of the codebase: imports flow one way, only the index sends SQL, every RK code
is defined once, and a built wheel carries every subpackage."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from recordkeep import errors

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "recordkeep"

#: Each module's layer. A module may import from a lower layer, from its own package, or (for
#: the features) another feature; nothing imports upward. media sits beside store and imports
#: neither store nor index.
LAYERS = [
    ("i18n", 0), ("errors", 0.5), ("progress", 0.5), ("refs", 1), ("ids", 0.75), ("personal", 2),
    ("workdays", 1), ("validate", 1), ("settings", 2),
    ("store", 3), ("media", 3), ("index", 4), ("trust", 4), ("archive", 5),
    ("dossier", 6), ("anchoring", 6), ("custody", 7), ("export", 8),
    ("ingest", 9), ("linking", 9), ("verification", 9), ("search", 9), ("check", 9), ("retention", 9),
    ("stats", 9), ("scope", 9), ("fixity", 9), ("protection", 9), ("keyring", 9), ("logcheck", 9),
    ("amending", 9), ("pins", 9), ("disposals", 9), ("settings_history", 9), ("erasure", 9),
    ("__init__", 10),
]
FEATURES = 9


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def part(name: str) -> str:
    """The layer unit of a module: ``recordkeep.index.core`` -> ``index``."""
    pieces = name.split(".")
    return "__init__" if len(pieces) == 1 else pieces[1]


def layer(name: str) -> int:
    unit = part(name)
    for prefix, rank in LAYERS:
        if unit == prefix:
            return rank
    raise AssertionError(f"{name} is in no layer of tests/test_layout.py: give it one")


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported recordkeep module, line) for every import in the file, functions included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("recordkeep")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("recordkeep"):
                continue
            for alias in node.names:  # "from . import x" imports a submodule when there is one
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in ALL else target, node.lineno))
    return found


ALL = modules()


def test_every_module_of_the_library_belongs_to_a_layer():
    for name in ALL:
        layer(name)


def test_imports_flow_one_way_down_the_layers():
    wrong = []
    for name, path in ALL.items():
        for target, line in imports(name, path):
            if target not in ALL or target == name:
                continue
            same_unit = part(target) == part(name)
            both_features = layer(name) == layer(target) == FEATURES
            if not (layer(target) < layer(name) or same_unit or both_features):
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {target} (layer {layer(target)} "
                             f"from layer {layer(name)})")
    assert wrong == []


def test_the_library_has_no_import_cycle():
    graph = {name: {t for t, _ in imports(name, path) if t in ALL and t != name}
             for name, path in ALL.items()}
    # an import of a submodule runs its package's __init__ first: edges into it count too
    for name in list(graph):
        for target in list(graph[name]):
            pieces = target.split(".")
            for i in range(2, len(pieces)):
                parent = ".".join(pieces[:i])
                if parent in graph and not name.startswith(parent + ".") and parent != name:
                    graph[name].add(parent)
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ importing its own modules is how packages are made, not a cycle
    cycles = [c for c in cycles if not all(x.startswith(c.split(" -> ")[0]) for x in c.split(" -> "))]
    assert cycles == []


def test_media_imports_nothing_of_the_store_or_the_index():
    for name, path in ALL.items():
        if part(name) == "media":
            assert not [t for t, _ in imports(name, path) if part(t) in ("store", "index", "archive")], name


def test_the_library_never_imports_click():
    for name, path in ALL.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "click"], name


def test_only_the_index_sends_sql():
    wrong = []
    for name, path in ALL.items():
        if part(name) == "index":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                wrong += [f"{name}:{node.lineno} imports {m}" for m in mods
                          if m.split(".")[0] in ("sqlite3", "sqlite_utils")]
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "executescript"):
                wrong.append(f"{name}:{node.lineno} calls .{node.attr}")
    assert wrong == []


# -- the table of codes ----------------------------------------------------------------
def test_every_code_is_defined_once():
    codes = [code for code, *_ in errors.table()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"RK[1-5]\d\d", c) for c in codes)


def test_every_code_has_a_meaning_and_an_exit_code_of_the_contract():
    for _, name, meaning, exit_code in errors.table():
        assert meaning, name
        assert exit_code in (1, 2, 3, 4), name


def test_every_code_is_raised_or_reported_somewhere_in_the_library():
    text = "\n".join(p.read_text(encoding="utf-8") for p in (*PACKAGE.rglob("*.py"), REPO / "cli.py")
                     if p.name != "errors.py")
    unused = [name for _, name, _, _ in errors.table()
              if not re.search(rf"\b{name}\b", text) and name not in _USED_THROUGH_REFUSALS]
    assert unused == []


_USED_THROUGH_REFUSALS = {cls.__name__ for cls in errors.REFUSALS.values()}  # by reason, in retention


def test_no_code_is_written_out_in_the_library_outside_errors_py():
    literal = re.compile(r"[\"']RK\d{3}[\"']")
    found = [f"{p.relative_to(REPO)}" for p in (*PACKAGE.rglob("*.py"), REPO / "cli.py")
             if p.name != "errors.py" and literal.search(p.read_text(encoding="utf-8"))]
    assert found == []


def test_docs_errors_md_is_the_table_of_codes():
    doc = REPO / "docs" / "errors.md"
    assert doc.read_text(encoding="utf-8") == errors.markdown(), (
        "docs/errors.md is stale: regenerate it with "
        "python -c 'from recordkeep import errors; open(\"docs/errors.md\", \"w\").write(errors.markdown())'")


# -- packaging ---------------------------------------------------------------------------
@pytest.mark.slow
def test_a_built_wheel_carries_every_subpackage(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(REPO)], check=True, capture_output=True)
    [wheel] = (tmp_path / "dist").glob("recordkeep-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        assert "recordkeep/locale/zh/LC_MESSAGES/recordkeep.mo" in z.namelist(), "the compiled catalog ships"
        z.extractall(site)
    packages = sorted(name for name, path in ALL.items() if path.name == "__init__.py")
    probe = ("import importlib, sys\n"
             f"for name in {packages!r}:\n"
             "    m = importlib.import_module(name)\n"
             f"    assert m.__file__.startswith({str(site)!r}), (name, m.__file__)\n"
             "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=site, capture_output=True, text=True,
                          env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "ok", done.stderr
