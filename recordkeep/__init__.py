"""recordkeep: law-enforcement evidence kept honest.

The public API (all that cli.py imports): ``Archive`` and the operations on it,
and the ``RecordkeepError`` tree.
"""

from . import (
    bagcheck,
    check,
    custody,
    dossier,
    dossier_view,
    errors,
    export,
    export_html,
    registry,
    retention,
    scope,
    stats,
    workdays,
)
from .archive import Archive, default_actor
from .errors import RecordkeepError
from .ingest import Options, Receipt, add_files, display_path, import_dump
from .verify import Report, verify

__version__ = "0.1.0"

__all__ = [
    "Archive",
    "Options",
    "Receipt",
    "RecordkeepError",
    "Report",
    "__version__",
    "add_files",
    "bagcheck",
    "check",
    "custody",
    "default_actor",
    "display_path",
    "dossier",
    "dossier_view",
    "errors",
    "export",
    "export_html",
    "import_dump",
    "registry",
    "retention",
    "scope",
    "stats",
    "verify",
    "workdays",
]
