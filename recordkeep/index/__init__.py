"""The index: SQLite projections of the journal and the named queries over them.

This package is the only one that knows table layouts or sends SQL. ``core`` holds the
``Index``, its migrations and the fold; each projection module registers, when imported
here, its schema steps and the event types it folds, and offers the queries over its
tables; ``resolve`` turns typed references into keys; ``search`` and ``stats`` are the
query builders of those features.
"""

# Registration, explicit: each projection adds its migrations and event handlers to core's.
from . import anchors, core, corrections, dossier, fixity, fts, keys, people, records, retention, settings
from .core import (
    FILENAME,
    HANDLERS,
    MIGRATIONS_TABLE,
    Index,
    Writer,
    atomic,
    folded_head,
    migrations,
    open_live,
    open_snapshot,
    readable,
    rebuild,
    replace_by_rebuild,
    set_aside,
    touching,
)

__all__ = [
    "FILENAME", "HANDLERS", "MIGRATIONS_TABLE", "Index", "Writer", "anchors", "atomic", "core", "corrections",
    "dossier", "fixity", "folded_head", "fts", "keys",
    "migrations", "open_live", "open_snapshot", "people", "readable", "rebuild", "records",
    "replace_by_rebuild", "retention", "set_aside", "settings", "touching",
]
