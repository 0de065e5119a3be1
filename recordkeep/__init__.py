"""recordkeep: law-enforcement evidence kept honest.

The public API (all that cli.py imports): ``Archive`` and the operations on it, the
``RecordkeepError`` tree, and the feature modules, each imported on first use (PEP 562),
so a command loads only what it needs and ``recordkeep.i18n`` is cheap for ``--help``.
``recordkeep.verify`` is the function (its module is ``verification``, so no submodule
import can shadow the name). The layers
(see design.md's module map): ``store`` (bytes), ``index`` (the SQLite projection and its
queries), ``media``, ``dossier``, ``export``, and the feature modules on top.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_NAMES = {
    "verify": "verification",
    "Report": "verification",
    "HeadStart": "store.headstart",
    "Archive": "archive",
    "is_store": "archive",
    "default_actor": "archive",
    "RecordkeepError": "errors",
    "Options": "ingest",
    "Receipt": "ingest",
    "add_files": "ingest",
    "add_and_link": "ingest",
    "import_dump": "ingest",
    "add_party": "dossier.parties",
    "find_parties": "dossier.parties",
    "get_party": "dossier.parties",
    "show_pii": "dossier.parties",
    "void": "dossier.corrections",
    "reopen": "dossier.corrections",
    "amend_record": "amending",
    "erase_pii": "erasure",
    "pii_status": "dossier.privacy",
    "open_case": "dossier.cases",
    "add_stage": "dossier.cases",
    "decide": "dossier.cases",
    "publish": "dossier.cases",
    "close_case": "dossier.cases",
    "register_officer": "dossier.officers",
    "assign_device": "dossier.officers",
    "list_officers": "dossier.officers",
    "list_devices": "dossier.officers",
    "case_list": "dossier.views",
    "case_view": "dossier.views",
    "party_view": "dossier.views",
    "link": "linking",
    "link_window": "linking",
    "unlink": "linking",
    "unlink_party": "linking",
    "export_bag": "export.bagit",
    "check_bag": "export.bagcheck",
    "scope_name": "export.completeness",
    "parse_stage": "refs",
    "parse_stage_act": "refs",
}

#: public module name -> the module (old flat names kept as aliases of their new homes)
_MODULES = {
    "bagcheck": "export.bagcheck", "check": "check", "custody": "custody", "dossier": "dossier",
    "dossier_view": "dossier.views", "errors": "errors", "export": "export",
    "export_html": "export.html", "fixity": "fixity", "ids": "ids",
    "index": "index", "ingest": "ingest", "linking": "linking", "media": "media", "refs": "refs",
    "progress": "progress", "registry": "dossier.officers", "retention": "retention", "scope": "scope",
    "search": "search",
    "settings": "settings", "stats": "stats", "store": "store", "workdays": "workdays",
}

__all__ = ["__version__", *_NAMES, *_MODULES]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{_MODULES[name]}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
