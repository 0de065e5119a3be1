"""Check an exported bag whole, by itself, and its journal lines against the store they came from.

The package first, as bagit-python would: ``bagit.txt``, every payload file listed in each
manifest (``manifest-sha256.txt``, ``manifest-blake3.txt``) and hashing to it, no payload
file unlisted, ``Payload-Oxum`` right, every tag file hashing to ``tagmanifest-sha256.txt``.
Then the journal: ``recordkeep/journal.jsonl`` holds as many lines as ``bag-info.txt`` says
(``Recordkeep-Journal-Events``), each hashing to its own ``hash``, seqs rising and none past
the head the bag names (``Recordkeep-Journal-Head``); its checkpoint signed and each line
proved in it (export/proofs.py). With the store at hand, the store's journal holds the very
same line at each seq, and that head in its unbroken chain; and the bag holds its whole case
or party, arranged as its export planned it (export/completeness.py).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections import Counter
from pathlib import Path

from .. import errors, validate
from ..anchoring import anchor_settings
from ..archive import Archive
from ..i18n import _
from ..index import keys as key_rows
from ..index import records
from ..store.hashing import hash_fd
from ..store.journal import Event, event_hash
from ..trust import timestamp
from ..trust.merkle import leaf_hash
from .bagreport import BagReport, from_bag
from .completeness import ExportsFound, Readable, check_whole
from .proofs import check_bag_proofs, withheld_leaf

MANIFESTS = {"sha256": "manifest-sha256.txt", "blake3": "manifest-blake3.txt"}
TAG_MANIFEST = "tagmanifest-sha256.txt"


def _hashes(path: Path) -> dict[str, str]:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        blake3, _size, extra = hash_fd(fd, extra=("sha256",))
    finally:
        os.close(fd)
    return {"blake3": blake3, "sha256": extra["sha256"]}


def _manifest(path: Path) -> dict[str, str]:
    """A manifest's ``hash  path`` lines as path -> hash (bytes that are not UTF-8 read as U+FFFD:
    such a line names no file of the bag, which the check then says)."""
    listed = {}
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        if line.strip():
            digest, _sep, name = line.partition("  ")
            listed[name] = digest.strip().lower()
    return listed


def _info(bag: Path) -> dict[str, str]:
    path = bag / "bag-info.txt"
    text = path.read_bytes().decode("utf-8", errors="replace") if path.is_file() else ""
    return dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", text, flags=re.M))


def check_package(bag: Path, report: BagReport) -> dict[str, str]:
    """Check the bag's manifests, tag manifest and Payload-Oxum; return bag-info's fields."""
    bad = errors.BagInvalid.code
    if not (bag / "bagit.txt").is_file():
        report.problems.append((bad, _("bagit.txt is missing: not a bag")))
    payload = sorted(p.relative_to(bag).as_posix() for p in (bag / "data").rglob("*") if p.is_file()) \
        if (bag / "data").is_dir() else []
    computed = {name: _hashes(bag / name) for name in payload}
    for algorithm, manifest in MANIFESTS.items():
        if not (bag / manifest).is_file():
            report.problems.append((bad, _("{file} is missing").format(file=manifest)))
            continue
        listed = _manifest(bag / manifest)
        for name in sorted(set(listed) - set(computed)):
            report.problems.append((bad, _("{manifest}: {name} is listed but not in the bag").format(
                manifest=manifest, name=from_bag(name))))
        for name in sorted(set(computed) - set(listed)):
            report.problems.append((bad, _("{manifest}: {name} is in the bag but not listed").format(
                manifest=manifest, name=from_bag(name))))
        for name in sorted(set(listed) & set(computed)):
            if computed[name][algorithm] != listed[name]:
                changed = _("{manifest}: {name} does not hash to its {algorithm} (changed)")
                report.problems.append((bad, changed.format(manifest=manifest, name=from_bag(name),
                                                            algorithm=algorithm)))
    if (bag / TAG_MANIFEST).is_file():
        for name, digest in _manifest(bag / TAG_MANIFEST).items():
            if not (bag / name).is_file():
                report.problems.append((bad, _("{manifest}: {name} is missing").format(manifest=TAG_MANIFEST,
                                                                                        name=from_bag(name))))
            elif _hashes(bag / name)["sha256"] != digest:
                changed = _("{manifest}: {name} does not hash to its {algorithm} (changed)")
                report.problems.append((bad, changed.format(manifest=TAG_MANIFEST, name=from_bag(name),
                                                            algorithm="sha256")))
    else:
        report.problems.append((bad, _("{file} is missing").format(file=TAG_MANIFEST)))
    info = _info(bag)
    oxum = f"{sum((bag / n).stat().st_size for n in payload)}.{len(payload)}"
    if info.get("Payload-Oxum") != oxum:
        report.problems.append((bad, _("Payload-Oxum {given} but the payload is {oxum}").format(
            given=from_bag(info.get("Payload-Oxum")), oxum=oxum)))
    return info


def check_bag(bag: str | os.PathLike, *, archive: Archive | None = None, vkey: str | None = None,
              tsa_ca: str | os.PathLike | None = None) -> BagReport:
    """Check a bag with no store: its manifests, its journal lines (each hashing to itself, in
    order, none past its head), its checkpoint (signed under ``vkey``, else the verifier key
    it carries or a key ``archive`` enrols; its token under ``tsa_ca``) and each line's
    inclusion proof. With ``archive`` (the store it came from), also each line and its head
    against the store's journal."""
    bag = Path(bag)
    path = bag / "recordkeep" / "journal.jsonl"
    if not path.is_file():
        raise errors.InvalidValue(_("not a recordkeep bag: recordkeep/journal.jsonl is missing"), path=bag)
    report = BagReport()
    info = check_package(bag, report)
    summary = _summary(bag, report)
    m = re.fullmatch(r"(\d{1,18}) ([0-9a-f]{64})", info.get("Recordkeep-Journal-Head", ""))
    if m:
        report.head_seq = int(m.group(1))
    else:
        report.problems.append((errors.BagInvalid.code, _("bag-info.txt names no Recordkeep-Journal-Head")))
    lines, last_seq = {}, 0
    for n, raw in enumerate(path.read_bytes().splitlines(), start=1):
        report.lines += 1
        problem, seq = _line_problem(raw, last_seq, report.head_seq)
        if problem:
            report.problems.append((errors.BagLineMismatch.code, _("line {n}: {problem}").format(
                n=n, problem=problem)))
        else:
            lines[seq], last_seq = raw, seq
    if len(lines) == report.lines:  # every line sound: else the lines say what is wrong, not the payload
        _payload_against_journal(bag, lines, report)
    events = info.get("Recordkeep-Journal-Events")
    if events != str(report.lines):
        report.problems.append((errors.BagLineMismatch.code,
                                _("the bag holds {n} journal lines, bag-info.txt says {events}: lines "
                                  "removed or added").format(n=report.lines, events=events)))
    store_id = info.get("Recordkeep-Store-Id", "")
    same_store = archive is not None and archive.settings.store_id == store_id
    if archive is not None and not same_store:
        known = records.event_seqs(archive.index)
        ours = [seq for seq, raw in lines.items() if seq in known and _same_line(archive, seq, raw)]
        if ours:  # this store's lines, whatever store bag-info names: checked against it
            same_store = True
            report.problems.append((errors.BagStoreRelabelled.code, _(
                "bag-info.txt names store {store_id}, but the bag's journal lines (seq {seqs}) are this "
                "store's: checked against this store").format(store_id=from_bag(store_id), seqs=_seqs(ours))))
        else:
            report.notices.append((errors.StoreIdMismatch.code, _(
                "the bag is of store {store_id}, not of this store: checked by itself").format(
                    store_id=from_bag(store_id))))
    kept_ca = anchor_settings(archive).tsa_ca if same_store else None
    ca_path = validate.given_path(tsa_ca) if tsa_ca is not None else kept_ca
    check_bag_proofs(bag, info, lines, report, vkey=vkey, known=_enrolled(archive) if same_store else {},
                     ca=timestamp.read_ca(ca_path, given=tsa_ca is not None) if ca_path is not None else None)
    if same_store:
        found = _against_store(archive, lines, report, m.group(2) if m else None)
        if report.head_found and (bag / MANIFESTS["blake3"]).is_file():
            claimed = _claimed_scope(summary, info, report) if summary is not None else None
            said = Readable(_manifest(bag / MANIFESTS["blake3"]), (summary or {}).get("files"),
                            _read_or_none(bag / "recordkeep" / "summary.txt"), info)
            check_whole(archive, report, found=found, bag=said, claimed=claimed, head_seq=report.head_seq)
    return report


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


SUMMARY_KEYS = ("scope", "files", "dossier")


def _summary(bag: Path, report: BagReport) -> dict | None:
    """recordkeep/summary.json as it stands (None when it cannot be read as JSON); a problem when
    it cannot, when an object in it names a key twice (a reader from the top would see another
    value than a JSON parser keeps), or when it holds more than recordkeep writes there."""
    twice: list[str] = []

    def no_repeats(pairs: list[tuple[str, object]]) -> dict:
        twice.extend(k for k, n in Counter(k for k, _v in pairs).items() if n > 1)
        return dict(pairs)

    bad = errors.BagInvalid.code
    try:
        summary = json.loads((bag / "recordkeep" / "summary.json").read_bytes(), object_pairs_hook=no_repeats)
    except (OSError, ValueError, RecursionError) as exc:
        report.problems.append((bad, _("recordkeep/summary.json cannot be read: {error}").format(
            error=from_bag(exc.strerror if isinstance(exc, OSError) else exc))))
        return None
    for key in twice:
        report.problems.append((bad, _("recordkeep/summary.json names {key} twice in one object").format(
            key=from_bag(key))))
    if not isinstance(summary, dict):
        return {}
    for key in sorted(summary.keys() - set(SUMMARY_KEYS)):
        report.problems.append((bad, _("recordkeep/summary.json holds {key}, which recordkeep does not write "
                                       "there").format(key=from_bag(key))))
    return summary


def _claimed_scope(summary: dict, info: dict[str, str], report: BagReport) -> object:
    """The scope the bag names in summary.json; a problem when bag-info's External-Identifier
    names another."""
    scope = summary.get("scope")
    named = list(scope.values()) if isinstance(scope, dict) else []
    if named != [info.get("External-Identifier")]:
        report.problems.append((errors.BagInvalid.code, _(
            "bag-info.txt's External-Identifier {given} is not the case or party recordkeep/summary.json "
            "names").format(given=from_bag(info.get("External-Identifier")))))
    return scope


def _payload_against_journal(bag: Path, lines: dict[int, bytes], report: BagReport) -> None:
    """Every payload file is a record the bag's journal lines import (its BLAKE3, as
    manifest-blake3.txt lists it, a ``record.imported`` digest), and every record they import
    and leave undisposed is in the payload: a file swapped or removed, and the manifests made
    again to match, is still found."""
    manifest = bag / MANIFESTS["blake3"]
    listed = _manifest(manifest) if manifest.is_file() else {}
    held: dict[str, bool] = {}
    for raw in lines.values():
        event = json.loads(raw)
        data = event.get("data")
        digest = str(data.get("digest", "") if isinstance(data, dict) else "").removeprefix("blake3:")
        if event.get("type") in ("record.imported", "record.restored"):
            held[digest] = True
        elif event.get("type") == "record.disposed":
            held[digest] = False
    bad = errors.BagInvalid.code
    for name, digest in sorted(listed.items()):
        if digest not in held:
            report.problems.append((bad, _("{name} is no record the bag's journal lines import (a file "
                                           "swapped in?)").format(name=from_bag(name))))
    present = set(listed.values())
    for digest in sorted(d for d, kept in held.items() if kept and d not in present):
        report.problems.append((bad, _("record {digest} is imported in the bag's journal lines but not in "
                                       "its payload (removed?)").format(digest=digest[:12])))


def _enrolled(archive: Archive) -> dict[str, bytes]:
    return {row["key"]: base64.b64decode(row["public_key"]) for row in key_rows.all_keys(archive.index)}


def _against_store(archive: Archive, lines: dict[int, bytes], report: BagReport,
                   head: str | None) -> ExportsFound:
    """Each line the very one the store's journal holds at its seq; the bag's head in its chain,
    at its seq. Returns the journal's bag exports, found in the same walk."""
    report.store_compared = True
    known = records.event_seqs(archive.index)
    for seq, raw in lines.items():
        if seq not in known:
            report.problems.append((errors.BagLineMismatch.code,
                                    _("seq {seq} is not in the store's journal").format(seq=seq)))
        elif not _same_line(archive, seq, raw):
            report.problems.append((errors.BagLineMismatch.code,
                                    _("seq {seq} differs from the store's journal line").format(seq=seq)))
    found = ExportsFound()
    if head is not None:  # the line of that hash, in an intact chain, at the seq the bag names
        at: list[int] = []

        def visit(event: Event) -> None:
            found.feed(event)
            if event.hash == head:
                at.append(event.seq)

        walked = archive.journal.verify_chain(head=head, visit=visit)
        report.head_found = walked.found_head is True and at == [report.head_seq]
        found.broken = walked.problem
    return found


def _same_line(archive: Archive, seq: int, raw: bytes) -> bool:
    """Whether the bag's line ``raw`` is byte for byte the store's line at ``seq``, a seq its
    journal holds (a line the bag withholds: its leaf hash that line's)."""
    _events, [stored] = archive.events_at([seq])
    withheld = withheld_leaf(raw)
    return stored == raw if withheld is None else leaf_hash(stored) == withheld


def _seqs(seqs: list[int], shown: int = 5) -> str:
    """``seqs`` as people read them: the first few, then how many more."""
    more = _(" and {n} more").format(n=len(seqs) - shown) if len(seqs) > shown else ""
    return ", ".join(map(str, seqs[:shown])) + more


def _line_problem(raw: bytes, last_seq: int, head_seq: int | None) -> tuple[str | None, int]:
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):
        return _("not JSON"), 0
    if not isinstance(event, dict):
        return _("not an event"), 0
    if withheld_leaf(raw) is None and event_hash(event) != event.get("hash"):
        return _("seq {seq} does not hash to its hash (edited)").format(seq=from_bag(event.get("seq"))), 0
    seq = event.get("seq")
    if type(seq) is not int or seq <= last_seq:
        return _("seq {seq} does not follow seq {last}: reordered or repeated").format(seq=from_bag(seq),
                                                                                        last=last_seq), 0
    if head_seq is not None and seq > head_seq:
        return _("seq {seq} is past the bag's journal head (seq {head}): the head was rewound").format(
            seq=seq, head=head_seq), 0
    return None, seq
