"""recordkeep: law-enforcement evidence kept honest.

The public API (all that cli.py imports): ``Archive`` and the operations on it,
and the ``RecordkeepError`` tree. ``verify`` (and with it the archive) is imported at
once; other names and submodules on first use, so a command loads only what it needs.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Eager, so that ``recordkeep.verify`` is always the function: importing the submodule
# in any other way would otherwise leave the module under that name.
from .verify import Report, verify

_NAMES = {
    "Archive": "archive",
    "default_actor": "archive",
    "RecordkeepError": "errors",
    "Options": "ingest",
    "Receipt": "ingest",
    "add_files": "ingest",
    "display_path": "ingest",
    "import_dump": "ingest",
}

_SUBMODULES = (
    "bagcheck", "check", "custody", "dossier", "dossier_view", "errors", "export", "export_html",
    "registry", "retention", "scope", "search", "stats", "workdays",
)

__all__ = ["Report", "__version__", "verify", *_NAMES, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
