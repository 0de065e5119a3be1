"""How far a long task has come, told to whoever watches (the CLI draws bars from it).

The library never prints: a long operation (import, verify, catching the index up with the
journal, rebuilding it, export, disposal) updates one ``Progress`` and hands it to the
``Watcher`` it was given (``Archive.watch``, or an argument) after each step. A watcher
must be quick; it may ignore calls (the CLI's bars redraw at most ten times a second).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .i18n import N_, _

#: the words a bar shows for a task, a unit or an item (translated where shown: ``label``)
LABELS = {
    "import": N_("import"), "add": N_("add"), "verify": N_("verify"), "catch-up": N_("catch-up"),
    "rebuild-index": N_("rebuild-index"), "export": N_("export"), "dispose": N_("dispose"),
    "events": N_("events"), "blobs": N_("blobs"), "records": N_("records"), "files": N_("files"),
}


@dataclass
class Progress:
    """One task's running totals.

    ``task`` names it (``import``, ``add``, ``verify``, ``catch-up``, ``rebuild-index``,
    ``export``, ``dispose``); ``done`` of ``total`` (None: not known beforehand) counts
    ``unit`` (``bytes`` or ``events``); ``items_done`` of ``items_total`` counts ``items``
    (``records``, ``files``) beside it, when the task has a second count.
    """

    task: str
    unit: str
    total: int | None = None
    done: int = 0
    items: str | None = None
    items_total: int | None = None
    items_done: int = 0


Watcher = Callable[[Progress], None]


def label(word: str) -> str:
    """A task's, unit's or item's name in the reader's language (itself when not in ``LABELS``)."""
    return _(LABELS[word]) if word in LABELS else word


def tell(watch: Watcher | None, progress: Progress, *, done: int = 0, items_done: int = 0) -> None:
    """Add ``done`` and ``items_done`` to ``progress`` and show it to ``watch`` (if any)."""
    progress.done += done
    progress.items_done += items_done
    if watch is not None:
        watch(progress)
