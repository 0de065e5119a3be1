"""Check an exported bag whole, and its journal lines against the store they came from.

The package first, as bagit-python would: ``bagit.txt``, every payload file listed in each
manifest (``manifest-sha256.txt``, ``manifest-blake3.txt``) and hashing to it, no payload
file unlisted, ``Payload-Oxum`` right, every tag file hashing to ``tagmanifest-sha256.txt``.
Then the journal: ``recordkeep/journal.jsonl`` holds as many lines as ``bag-info.txt`` says
(``Recordkeep-Journal-Events``), each hashing to its own ``hash``, seqs rising and none past
the head the bag names (``Recordkeep-Journal-Head``); the store's journal holds the very
same line at each seq, and that head in its unbroken chain.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import errors
from ..archive import Archive
from ..index import records
from ..store.hashing import hash_fd
from ..store.journal import event_hash

MANIFESTS = {"sha256": "manifest-sha256.txt", "blake3": "manifest-blake3.txt"}
TAG_MANIFEST = "tagmanifest-sha256.txt"


@dataclass
class BagJournalReport:
    """What checking a bag found: each problem is (code, what is wrong); a head the store's
    chain lacks is ``HEAD_CODE``."""

    LINE_CODE = errors.BagLineMismatch.code
    HEAD_CODE = errors.HeadNotFound.code

    lines: int = 0
    head_seq: int | None = None
    head_found: bool | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.head_found is not False


def _hashes(path: Path) -> dict[str, str]:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        blake3, _, extra = hash_fd(fd, extra=("sha256",))
    finally:
        os.close(fd)
    return {"blake3": blake3, "sha256": extra["sha256"]}


def _manifest(path: Path) -> dict[str, str]:
    """A manifest's ``hash  path`` lines as path -> hash."""
    listed = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            listed[name] = digest.strip().lower()
    return listed


def _info(bag: Path) -> dict[str, str]:
    path = bag / "bag-info.txt"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", text, flags=re.M))


def check_package(bag: Path, report: BagJournalReport) -> dict[str, str]:
    """Check the bag's manifests, tag manifest and Payload-Oxum; return bag-info's fields."""
    bad = errors.BagInvalid.code
    if not (bag / "bagit.txt").is_file():
        report.problems.append((bad, "bagit.txt is missing: not a bag"))
    payload = sorted(p.relative_to(bag).as_posix() for p in (bag / "data").rglob("*") if p.is_file()) \
        if (bag / "data").is_dir() else []
    computed = {name: _hashes(bag / name) for name in payload}
    for algorithm, manifest in MANIFESTS.items():
        if not (bag / manifest).is_file():
            report.problems.append((bad, f"{manifest} is missing"))
            continue
        listed = _manifest(bag / manifest)
        for name in sorted(set(listed) - set(computed)):
            report.problems.append((bad, f"{manifest}: {name} is listed but not in the bag"))
        for name in sorted(set(computed) - set(listed)):
            report.problems.append((bad, f"{manifest}: {name} is in the bag but not listed"))
        for name in sorted(set(listed) & set(computed)):
            if computed[name][algorithm] != listed[name]:
                report.problems.append((bad, f"{manifest}: {name} does not hash to its {algorithm} "
                                             "(changed)"))
    if (bag / TAG_MANIFEST).is_file():
        for name, digest in _manifest(bag / TAG_MANIFEST).items():
            if not (bag / name).is_file():
                report.problems.append((bad, f"{TAG_MANIFEST}: {name} is missing"))
            elif _hashes(bag / name)["sha256"] != digest:
                report.problems.append((bad, f"{TAG_MANIFEST}: {name} does not hash to its sha256 (changed)"))
    else:
        report.problems.append((bad, f"{TAG_MANIFEST} is missing"))
    info = _info(bag)
    oxum = f"{sum((bag / n).stat().st_size for n in payload)}.{len(payload)}"
    if info.get("Payload-Oxum") != oxum:
        report.problems.append((bad, f"Payload-Oxum {info.get('Payload-Oxum')} but the payload is {oxum}"))
    return info


def check_bag_journal(archive: Archive, bag: str | os.PathLike) -> BagJournalReport:
    """Check the bag whole, then its journal lines and head against this store's journal."""
    bag = Path(bag)
    path = bag / "recordkeep" / "journal.jsonl"
    if not path.is_file():
        raise errors.InvalidValue("not a recordkeep bag: recordkeep/journal.jsonl is missing", path=bag)
    report = BagJournalReport()
    info = check_package(bag, report)
    m = re.fullmatch(r"(\d+) ([0-9a-f]{64})", info.get("Recordkeep-Journal-Head", ""))
    if m:
        report.head_seq = int(m.group(1))
    else:
        report.problems.append((errors.BagInvalid.code, "bag-info.txt names no Recordkeep-Journal-Head"))
    known, last_seq = records.event_seqs(archive.index), 0
    for n, raw in enumerate(path.read_bytes().splitlines(), start=1):
        report.lines += 1
        problem = _line_problem(archive, raw, known, last_seq, report.head_seq)
        if problem:
            report.problems.append((report.LINE_CODE, f"line {n}: {problem}"))
        else:
            last_seq = json.loads(raw)["seq"]
    events = info.get("Recordkeep-Journal-Events")
    if events != str(report.lines):
        report.problems.append((report.LINE_CODE, f"the bag holds {report.lines} journal lines, bag-info.txt "
                                                  f"says {events}: lines removed or added"))
    if m:
        report.head_found = archive.journal.verify_chain(head=m.group(2)).found_head is True
    return report


def _line_problem(archive: Archive, raw: bytes, known: set[int], last_seq: int,
                  head_seq: int | None) -> str | None:
    try:
        event = json.loads(raw)
    except ValueError:
        return "not JSON"
    if not isinstance(event, dict):
        return "not an event"
    if event_hash(event) != event.get("hash"):
        return f"seq {event.get('seq')} does not hash to its hash (edited)"
    seq = event["seq"]
    if not isinstance(seq, int) or seq <= last_seq:
        return f"seq {seq} does not follow seq {last_seq}: reordered or repeated"
    if head_seq is not None and seq > head_seq:
        return f"seq {seq} is past the bag's journal head (seq {head_seq}): the head was rewound"
    if seq not in known:
        return f"seq {seq} is not in the store's journal"
    _, [stored] = archive.events_at([seq])
    if stored != raw:
        return f"seq {seq} differs from the store's journal line"
    return None
