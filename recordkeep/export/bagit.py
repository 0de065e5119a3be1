"""BagIt 1.0 packages of a case or a party that standard tools verify without recordkeep.

Layout: ``data/`` arranged by case and stage with readable, safe names;
``manifest-sha256.txt`` and ``manifest-blake3.txt`` (``b3sum --check`` form);
``recordkeep/journal.jsonl`` (the journal lines for these records, verbatim);
``recordkeep/checkpoint/<size>.checkpoint`` (and ``<size>.tsr``, its token), the newest
checkpoint (made first when the store is writable), ``recordkeep/proofs.jsonl`` (an RFC 9162
inclusion proof of each journal line in it) and ``recordkeep/verifier-key.txt`` (the key
that signed it, as ``key list`` prints it); lines after it are named in bag-info as not
covered;
``recordkeep/summary.json`` and ``summary.txt`` (original names kept there);
``bag-info.txt`` (store id, exporter, time, counts, journal head);
``tagmanifest-sha256.txt``. The bag is built in a hidden sibling folder and
renamed into place, so a crash never leaves a bag that looks complete.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import errors
from ..archive import Archive
from ..dossier.parties import get_party, resolve_party, unmasked
from ..dossier.views import case_view, party_view
from ..i18n import _
from ..ids import mask_personal_numbers
from ..index import dossier as rows
from ..index import resolve, touching
from ..index.core import snapshot
from ..personal import holds_plain, shown_data
from ..progress import Progress, tell
from ..store.fs import fsync_dir, lies_inside, os_error, remove_stale, temp_name
from ..store.hashing import hash_stream
from ..store.journal import Draft, Event
from ..trust.merkle import leaf_hash
from .arrangement import BAG_INFO_LABELS, PII_FILE, TAG_FILES, arrange, description, summary_text
from .arrangement import VERSION as ARRANGEMENT
from .completeness import payload_id, sha256_id
from .proofs import anchor_files, anchor_for_export


@dataclass
class ExportResult:
    """What an export wrote, and the journal event that records it."""

    dest: Path
    format: str
    records: int = 0
    files: int = 0
    bytes: int = 0
    seq: int | None = None
    journal_error: str | None = None
    entries: list[dict] = field(default_factory=list)
    checkpoint_size: int | None = None  # the checkpoint the bag carries
    not_covered: list[int] = field(default_factory=list)  # its journal lines after that checkpoint
    checkpoint_error: str | None = None  # why no (new) checkpoint could be made
    with_pii: list[str] = field(default_factory=list)  # the parties whose numbers are in pii.json
    pii: str | None = None  # pii.json's SHA-256 (``sha256:`` hex), as journaled
    summary: str | None = None  # summary.json's SHA-256 (``sha256:`` hex), as journaled
    summary_text: str | None = None  # summary.txt's SHA-256 (``sha256:`` hex), as journaled
    manifest: str | None = None  # an HTML dossier's manifest-sha256.txt's SHA-256, as journaled
    payload: str | None = None  # the payload's identity, as journaled (completeness.payload_id)
    exported_at: str | None = None  # the time bag-info.txt gives, as journaled
    agent: str | None = None  # the Bag-Software-Agent bag-info.txt gives, as journaled


def plan(archive: Archive, *, case: str | None, party: str | None,
         through: int | None = None) -> tuple[dict, list[dict]]:
    """The scope and one entry per payload file (``arrangement.arrange``): only records
    imported up to seq ``through`` when given (another writer may import meanwhile)."""
    ix = archive.index
    if (case is None) == (party is None):
        raise errors.InvalidValue(_("export needs exactly one of --case or --party"))
    scope = {"case": resolve.case(ix, case)} if case is not None else {"party": resolve_party(archive, party)}
    return scope, arrange(ix, scope, through)


def _journal_seqs(archive: Archive, scope: dict, digests: list[str], through: int,
                  own: frozenset[int] = frozenset()) -> list[int]:
    """The seqs of the lines touching the bag's records, case or party: up to ``through`` (what
    the plan saw), and the export's own lines ``own``."""
    seqs = set()
    for d in digests:
        seqs.update(touching(archive.index, "record", d))
    for kind in ("case", "party"):
        if kind in scope:
            seqs.update(touching(archive.index, kind, scope[kind]))
    return sorted(seq for seq in seqs if seq <= through or seq in own)


def write_file(path: Path, content: str | bytes) -> None:
    """Write a file of the bag (text as UTF-8 with \\n line ends) and fsync it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(content.encode("utf-8") if isinstance(content, str) else content)
        f.flush()
        os.fsync(f.fileno())


def _copy_blob(archive: Archive, digest: str, target: Path) -> tuple[str, int]:
    """Copy a blob, checking its BLAKE3 on the way; return (sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if archive.objects.size(digest) is None:  # a missing blob is an integrity problem, not the disk's
        raise errors.IntegrityError(_("blob {digest} is missing: export stopped").format(digest=digest[:12]),
                                    path=archive.objects.location(digest))
    with archive.objects.open(digest) as src, open(target, "wb") as out:
        blake, size, extra = hash_stream(src, extra=("sha256",), sink=out.write)
        out.flush()
        os.fsync(out.fileno())
    if blake != digest:
        raise errors.IntegrityError(_("blob {digest} no longer matches its digest: export stopped").format(
                                        digest=digest[:12]),
                                    path=archive.objects.location(digest))
    return extra["sha256"], size


def require_vacant(dest: Path) -> None:
    """ExportDestExists unless ``dest`` is absent or an empty folder; InvalidPath when it is a
    symbolic link (the package would not be put there, yet the journal would say so);
    InvalidValue when its parent folder does not exist."""
    try:
        if dest.is_symlink():
            raise errors.InvalidPath(_("the export destination is a symlink (to {target}): give "
                                       "the folder itself").format(target=os.readlink(dest)), path=dest)
        if dest.exists() and not dest.is_dir():
            raise errors.ExportDestExists(_("the export destination exists and is a file, not a folder"),
                                          path=dest)
        if dest.exists() and any(dest.iterdir()):
            raise errors.ExportDestExists(_("the export destination exists and is not empty"), path=dest)
        if not dest.parent.is_dir():
            raise errors.InvalidValue(_("the export destination's parent folder does not exist"), path=dest)
    except OSError as exc:  # a name too long, a folder that cannot be read
        raise _dest_error(exc, _("looking at the export destination"), dest) from exc


@dataclass
class Staging:
    """A package being written in ``work``; ``journaled`` is the seq of its ``export.created``
    once the caller has journaled it (after ``seal``)."""

    work: Path
    journaled: int | None = None
    sealed: bool = False

    def seal(self) -> None:
        """fsync every folder of the package: what follows the journal line is only the rename."""
        for d in sorted({p.parent for p in self.work.rglob("*")} | {self.work}):
            fsync_dir(d)
        self.sealed = True


@contextmanager
def staged(dest: Path) -> Iterator[Staging]:
    """A hidden work folder beside ``dest``, renamed into place when the block ends well.

    ``dest`` must be absent or an empty folder (``require_vacant``). Every folder is fsynced
    before the rename (by ``Staging.seal``, which the caller runs before journaling). On a
    failure before the package is journaled the work folder is removed, so a crash or a full
    disk never leaves a package that looks complete; after, the finished package is kept as
    ``DEST.unplaced-seqN`` and ExportNotPlaced says where (for Ctrl-C too).
    """
    require_vacant(dest)
    partial = f".{dest.name[:100]}.partial-"
    remove_stale(dest.parent, prefix=partial)  # a killed export's partial bag, its hour past
    stage = Staging(dest.parent / f"{partial}{temp_name()}")
    try:
        stage.work.mkdir()
    except OSError as exc:
        raise _dest_error(exc, _("starting the export"), dest) from exc
    placed = False
    try:
        yield stage
        if not stage.sealed:
            stage.seal()
        if dest.exists():
            dest.rmdir()
        os.rename(stage.work, dest)
        placed = True
        fsync_dir(dest.parent)
    except BaseException as exc:
        if stage.journaled is not None and not placed:
            _keep_unplaced(stage, dest, exc)
        if placed and isinstance(exc, OSError):  # at DEST, its folder entry maybe not yet on disk
            raise _dest_error(exc, _("writing the export"), dest) from exc
        shutil.rmtree(stage.work, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _dest_error(exc, _("writing the export"), dest) from exc
        raise


def journaled_dest(dest: Path) -> str:
    """Where an export went, as the journal holds it: an identity or mobile number in the path
    (a folder named after the party) masked (design principle 9)."""
    return mask_personal_numbers(str(dest))


def _dest_error(exc: OSError, what: str, dest: Path) -> errors.RecordkeepError:
    """``os_error`` of the export's destination: a read-only file system there is the
    destination's, not the store's (RK415, not RK103)."""
    if exc.errno == errno.EROFS:
        return errors.InvalidPath(_("the export destination is on a read-only file system"), path=dest,
                                  hint=_("give a folder on a writable disk; the store was not changed"))
    return os_error(exc, what, dest)


def _keep_unplaced(stage: Staging, dest: Path, exc: BaseException) -> None:
    """A journaled package that did not reach ``dest``: renamed to ``DEST.unplaced-seqN``
    (or left where it is if even that fails) and ExportNotPlaced raised, naming it."""
    kept = dest.parent / f"{dest.name[:100]}.unplaced-seq{stage.journaled}"
    try:
        os.rename(stage.work, kept)
        fsync_dir(dest.parent)
    except OSError:
        kept = kept if kept.is_dir() else stage.work
    raise errors.ExportNotPlaced(  # Ctrl-C too: where the journaled package is matters more
        _("the export is journaled (seq {seq}) as gone to {dest}, but could not be put there ({error}): "
          "the finished package is at {kept}").format(seq=stage.journaled, dest=dest, kept=kept,
                                                       error=_interrupted_or(exc)),
        path=kept) from exc


def _interrupted_or(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return _("interrupted")
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def destination(archive: Archive, dest: str | os.PathLike) -> Path:
    """``dest`` as an absolute path; InvalidPath when it is empty, inside the store, or not
    UTF-8 (the journal says where evidence went, as people read it)."""
    if not os.fspath(dest).strip():
        raise errors.EmptyPath(_("an empty export destination was given"))
    path = Path(dest).absolute()
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        raise errors.InvalidPath(_("the export destination's name holds bytes that are not UTF-8"),
                                 path=os.fsencode(path).decode("utf-8", "backslashreplace"),
                                 hint=_("export to a folder whose name is UTF-8 text")) from None
    if lies_inside(path, archive.root):
        raise errors.InvalidPath(_("the export destination lies inside the store"), path=path,
                                 hint=_("export to a folder outside the store (a USB disk, a share)"))
    return path


def export_bag(archive: Archive, dest: str | os.PathLike, *, case: str | None = None,
               party: str | None = None, with_pii: bool = False) -> ExportResult:
    """Write a BagIt bag of a case or a party to ``dest`` (new or empty) and journal it.
    ``with_pii`` (role auditor, for a court) adds the parties' numbers in full as the tag file
    ``recordkeep/pii.json``, once ``party.pii_shown`` of each is journaled (never on a
    read-only store)."""
    archive.require_intact_chain()
    dest = destination(archive, dest)
    if with_pii:
        archive.require_writable()
    if not archive.readonly:
        archive.require_can_write(["export.created", *(["party.pii_shown"] if with_pii else [])])
    with snapshot(archive.index.conn):  # the bag is the case as of here: another writer may fold meanwhile
        planned = archive.index.head.seq
        scope, entries = plan(archive, case=case, party=party, through=planned)
    require_vacant(dest)  # before anything is journaled: a refused export hands nothing over
    keys = scope_parties(archive, scope) if with_pii else []
    held = [e for e in entries if not e["disposed"]]
    progress = Progress("export", "bytes", total=sum(e["size"] or 0 for e in held), items="files",
                        items_total=len(held))
    with staged(dest) as stage:  # its work folder made first: a destination it cannot write journals nothing
        work = stage.work
        own: frozenset[int] = frozenset()
        if keys:  # on the record before the numbers are written
            shown = archive.commit([Draft("party.pii_shown", {"party": k, "export": journaled_dest(dest)})
                                    for k in keys])
            own = frozenset(e.seq for e in shown)
        result = ExportResult(dest, "bagit", entries=entries, exported_at=archive.now(), agent=agent())
        anchor, result.checkpoint_error = anchor_for_export(archive)
        sha, blake = [], []
        (work / "data").mkdir(exist_ok=True)  # BagIt's payload folder, also when it stays empty
        for e in held:
            digest_sha, size = _copy_blob(archive, e["digest"], work / e["path"])
            sha.append(f"{digest_sha}  {e['path']}\n")
            blake.append(f"{e['digest']}  {e['path']}\n")
            result.files += 1
            result.bytes += size
            tell(archive.watch, progress, done=size, items_done=1)
        result.records = len({e["digest"] for e in entries})
        digests = sorted({e["digest"] for e in entries})
        seqs = _journal_seqs(archive, scope, digests, planned, own)
        events, lines = archive.events_at(seqs)
        withheld = frozenset(e.seq for e in events if holds_plain(e.type, e.data))
        carried = [bag_line(e, raw, e.seq in withheld) for e, raw in zip(events, lines, strict=True)]
        write_file(work / "recordkeep" / "journal.jsonl", "".join(x + "\n" for x in carried))
        anchored, result.not_covered = anchor_files(archive, anchor, seqs, withheld)
        for rel, data in anchored.items():
            write_file(work / rel, data)
        result.checkpoint_size = anchor.note.size if anchor is not None else None
        view = case_view(archive, scope["case"]) if "case" in scope else party_view(archive, scope["party"])
        summary = (json.dumps({"scope": scope, "files": entries, "dossier": view}, ensure_ascii=False,
                              indent=2) + "\n").encode()
        told = summary_text(scope, entries).encode()
        write_file(work / "recordkeep" / "summary.json", summary)
        write_file(work / "recordkeep" / "summary.txt", told)
        # the dossier view and the text for people are vouched for by no fold: by the export
        result.summary, result.summary_text = sha256_id(summary), sha256_id(told)
        if with_pii:
            pii = {k: {"name": p.name, **unmasked(archive, p)} for k in keys for p in [get_party(archive, k)]}
            text = (json.dumps(pii, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
            write_file(work / PII_FILE, text)
            os.chmod(work / PII_FILE, 0o600)  # readable by whoever the court names, not by every user
            result.with_pii, result.pii = keys, sha256_id(text)
        write_file(work / "manifest-sha256.txt", "".join(sha))
        write_file(work / "manifest-blake3.txt", "".join(blake))
        result.payload = payload_id(e["digest"] for e in held)
        head = archive.journal.head()
        write_file(work / "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        write_file(work / "bag-info.txt", _bag_info(archive, scope, result, head.seq, head.hash, len(lines)))
        tags = [*TAG_FILES, *sorted(anchored), *([PII_FILE] if with_pii else [])]
        write_file(work / "tagmanifest-sha256.txt", "".join(f"{sha256_of(work / t)}  {t}\n" for t in tags))
        stage.seal()
        try:
            journal_export(archive, result, scope, digests, through=planned)
        finally:
            stage.journaled = result.seq  # also when the line is in but its fold failed
    return result


def scope_parties(archive: Archive, scope: dict) -> list[str]:
    """The parties an export's scope covers: the party, or the case's parties."""
    if "party" in scope:
        return [scope["party"]]
    return rows.members(archive.index, scope["case"])


def bag_line(event: Event, raw: bytes, withheld: bool) -> str:
    """A journal line as the bag carries it: verbatim, or, for a line from before the vault
    holding personal numbers plain, ``{"seq", "leaf_hash", "masked"}``: its Merkle leaf hash
    (so its proof still holds) and the event with those numbers masked, without its ``hash``
    and ``prev`` (hashes of the plain line). The leaf hash remains a hash of the plain line:
    next to the mask, a few thousand guesses recover the hidden digits (docs/privacy.md)."""
    if not withheld:
        return raw.decode("utf-8")
    masked = {k: v for k, v in event.as_dict().items() if k not in ("hash", "prev")}  # hashes of the plain
    masked["data"] = shown_data(event.type, event.data)
    return json.dumps({"seq": event.seq, "leaf_hash": base64.b64encode(leaf_hash(raw)).decode(),
                       "masked": masked}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_of(path: Path) -> str:
    """A file's SHA-256 (hex), as a manifest lists it."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def agent() -> str:
    """bag-info.txt's Bag-Software-Agent: recordkeep and its version."""
    from importlib.metadata import version

    return f"recordkeep {version('recordkeep')}"


def _bag_info(archive: Archive, scope: dict, result: ExportResult, seq: int, head: str, events: int) -> str:
    given = {
        "Bag-Software-Agent": result.agent,
        "Bagging-Date": result.exported_at[:10],
        "External-Identifier": scope.get("case") or scope.get("party"),
        "External-Description": description(scope),
        "Payload-Oxum": f"{result.bytes}.{result.files}",
        "Recordkeep-Store-Id": archive.settings.store_id,
        "Recordkeep-Exporter": archive.actor,
        "Recordkeep-Exported-At": result.exported_at,
        "Recordkeep-Records": str(result.records),
        "Recordkeep-Journal-Events": str(events),
        "Recordkeep-Journal-Head": f"{seq} {head}",
        "Recordkeep-Checkpoint": None if result.checkpoint_size is None else str(result.checkpoint_size),
        "Recordkeep-Not-Covered": " ".join(map(str, result.not_covered)) or None,
    }
    return "".join(f"{label}: {given[label]}\n" for label in BAG_INFO_LABELS if given[label] is not None)


def journal_export(archive: Archive, result: ExportResult, scope: dict, digests: list[str], *,
                   through: int | None = None) -> None:
    """Journal ``export.created``; called inside ``staged``, once the package is sealed, so that
    a package the journal cannot record is never left in place (the error is raised;
    ``result.seq`` is set when the journal took the line all the same, its fold failing). On a
    read-only store, say in ``journal_error`` why it is not journaled. A bag's also names the
    seq its plan saw the index at (``through``) and its payload (``payload``), against which
    ``log verify --bag`` checks that it holds its whole case, and the SHA-256 of the files no
    fold vouches for (``pii``, ``summary``, ``summary_text``); an HTML dossier's, that of its
    manifest (``manifest``)."""
    if archive.readonly:
        result.journal_error = _("the store is read-only: this export could not be journaled")
        return
    data = {"format": result.format, "scope": scope, "dest": journaled_dest(result.dest),
            "records": result.records, "files": result.files, "bytes": result.bytes,
            "digests": ["blake3:" + d for d in digests]}
    if through is not None and result.payload is not None:
        data.update(through=through, payload=result.payload, arrangement=ARRANGEMENT,
                    exported_at=result.exported_at, agent=result.agent)
    if result.with_pii:
        data["with_pii"] = result.with_pii
    if result.pii is not None:
        data["pii"] = result.pii
    if result.summary is not None:
        data.update(summary=result.summary, summary_text=result.summary_text)
    if result.manifest is not None:
        data["manifest"] = result.manifest
    try:
        result.seq = archive.commit([Draft("export.created", data)])[-1].seq
    except BaseException as exc:  # Ctrl-C too; transact says what the journal took all the same
        taken = getattr(exc, "journaled", ())
        result.seq = next((e.seq for e in taken if e.type == "export.created"), None)
        raise
