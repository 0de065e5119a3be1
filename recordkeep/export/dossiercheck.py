"""Whether an HTML dossier's folder is the one recordkeep exported: every file its manifest
(``manifest-sha256.txt``) lists unchanged and no other file there, and, when the store it came
from is at hand, the manifest the very one an ``export.created`` line of its journal vouched for.
The folder is read as a bag is (bagfiles): regular files only, no symlink followed, no FIFO
waited on; a file the checker may not read gives no verdict (exit 1). The export is found by
walking the store's journal, as ``log verify`` does."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import errors
from ..archive import Archive
from ..i18n import N_, _
from ..index.core import Acknowledged
from ..store.journal import Event
from .bagfiles import listing, open_regular, read_tag, unreadable
from .bagreport import from_bag
from .completeness import scope_name, sha256_id
from .html import MANIFEST

_LINE = re.compile(r"([0-9a-f]{64})  (.+)")
MANIFEST_LIMIT = 16 << 20  # ~150,000 files: more than any dossier an export writes
SHOWN = 20  # bad manifest lines named one by one
READING_THE_DOSSIER = N_("reading the dossier (check it as a user who may read every file of it)")


@dataclass
class DossierReport:
    """What checking an HTML dossier found: the files its manifest lists that were checked,
    problems (code, what), and the export that vouched for its manifest (None: none found, or
    no store compared)."""

    files: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    store_compared: bool = False
    export: Event | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_data(self) -> dict:
        e = self.export
        export = {"seq": e.seq, "actor": e.actor, "at": e.at, "scope": e.data.get("scope")} if e else None
        return {"ok": self.ok, "files": self.files, "store_compared": self.store_compared, "export": export,
                "problems": [{"code": code, "message": message} for code, message in self.problems]}


def check_dossier(folder: str | os.PathLike, *, archive: Archive | None = None) -> DossierReport:
    """Check the HTML dossier in ``folder`` by its manifest, and against ``archive``'s journal
    when given."""
    folder, report = Path(folder), DossierReport()
    changed = errors.DossierChanged.code
    try:
        manifest = read_tag(folder / MANIFEST, MANIFEST_LIMIT, N_("larger than a dossier's manifest can be"))
    except OSError as exc:
        unreadable(exc, folder / MANIFEST, READING_THE_DOSSIER)
        report.problems.append((changed, _(
            "{file} cannot be read ({why}): the dossier was changed, or exported by an older version of "
            "recordkeep, which wrote none").format(file=MANIFEST, why=from_bag(exc.strerror or exc))))
        return report
    listed = _listed(manifest, report)
    for name, expected in listed.items():
        found = _sha256(folder, name, report)
        report.files += 1
        if found is not None and found != expected:
            report.problems.append((changed, _("{file} is not the file the manifest lists (changed after the "
                                               "export)").format(file=from_bag(name))))
    for name in listing(folder, "", doing=READING_THE_DOSSIER):
        if name not in listed and name != MANIFEST:
            report.problems.append((changed, _("{file} is in the folder but not in the manifest (added after "
                                               "the export)").format(file=from_bag(name))))
    if archive is not None:
        _against_store(archive, manifest, report)
    return report


def _listed(manifest: bytes, report: DossierReport) -> dict[str, str]:
    """The manifest's lines as path -> SHA-256. A line that is none, or names a path listed
    again, outside the folder or not as the export writes one (``.``, ``//``, a NUL), is a
    problem; past ``SHOWN`` such lines, one more says how many."""
    listed: dict[str, str] = {}
    bad = 0
    for number, line in enumerate(manifest.decode("utf-8", "replace").splitlines(), start=1):
        m = _LINE.fullmatch(line)
        path = m.group(2) if m else ""
        parts = path.split("/")
        if m and not path.startswith("/") and not {"", ".", ".."} & set(parts) and "\0" not in path \
                and path not in listed:
            listed[path] = m.group(1)
            continue
        bad += 1
        if bad <= SHOWN:
            report.problems.append((errors.DossierChanged.code, _(
                "{file} line {number} is no SHA-256 and path of a file of the folder, or lists one again: "
                "{line}").format(file=MANIFEST, number=number, line=from_bag(line))))
    if bad > SHOWN:
        report.problems.append((errors.DossierChanged.code, _(
            "{file}: {n} more lines like those").format(file=MANIFEST, n=bad - SHOWN)))
    return listed


def _sha256(folder: Path, name: str, report: DossierReport) -> str | None:
    """The SHA-256 of the folder's file ``name``; None (and a problem) when it is no regular file
    there."""
    path = folder / name
    try:
        fd = open_regular(path)
    except OSError as exc:
        unreadable(exc, path, READING_THE_DOSSIER)
        report.problems.append((errors.DossierChanged.code, _(
            "{file} cannot be read as a file of the dossier: {why}").format(
                file=from_bag(name), why=from_bag(exc.strerror or exc))))
        return None
    with os.fdopen(fd, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _against_store(archive: Archive, manifest: bytes, report: DossierReport) -> None:
    """The export that vouched for this manifest, found by walking the store's journal itself:
    only lines of its intact chain, counted as the index folds them (a batch at its seal), never
    what the index says."""
    report.store_compared = True
    vouched, counted, found = sha256_id(manifest), Acknowledged(), []

    def visit(event: Event) -> None:
        found.extend(e for e in counted.feed(event) if e.type == "export.created"
                     and e.data.get("format") == "html" and e.data.get("manifest") == vouched)

    walked = archive.journal.verify_chain(visit=visit)
    if walked.problem is not None:
        report.problems.append((walked.problem.code, _(
            "the store's journal is broken at line {line}, so no export can vouch for the dossier: "
            "{error}").format(line=walked.problem.line, error=walked.problem.message)))
    elif found:
        report.export = found[-1]
    else:
        report.problems.append((errors.DossierNotJournaled.code, _(
            "no HTML export in this store's journal vouched for this manifest ({digest})").format(
                digest=vouched)))


def exported(report: DossierReport) -> str:
    """The export a report found, for people: what, by whom, when, at which seq."""
    e = report.export
    return _("{what}, exported by {actor} at {at} (export seq {seq})").format(
        what=scope_name(e.data["scope"]), actor=e.actor, at=e.at, seq=e.seq)
