"""Check an exported bag's journal lines against the store they came from.

Each line of ``BAG/recordkeep/journal.jsonl`` must hash to its own ``hash``, and the
store's journal must hold the very same line at that seq; the journal head named in
``bag-info.txt`` must still be in the store's unbroken chain.
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
from ..store.journal import event_hash


@dataclass
class BagJournalReport:
    """What checking a bag's journal lines against the store found: each problem is a
    line of the bag that the store's journal does not hold (``LINE_CODE``); a head the
    store's chain lacks is ``HEAD_CODE``."""

    LINE_CODE = errors.BagLineMismatch.code
    HEAD_CODE = errors.HeadNotFound.code

    lines: int = 0
    head_seq: int | None = None
    head_found: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.head_found is not False


def check_bag_journal(archive: Archive, bag: str | os.PathLike) -> BagJournalReport:
    """Compare a bag's journal lines and head with this store's journal."""
    bag = Path(bag)
    path = bag / "recordkeep" / "journal.jsonl"
    if not path.is_file():
        raise errors.InvalidValue("not a recordkeep bag: recordkeep/journal.jsonl is missing", path=bag)
    report = BagJournalReport()
    known = records.event_seqs(archive.index)
    for n, raw in enumerate(path.read_bytes().splitlines(), start=1):
        report.lines += 1
        try:
            event = json.loads(raw)
        except ValueError:
            report.problems.append(f"line {n}: not JSON")
            continue
        if event_hash(event) != event.get("hash"):
            report.problems.append(f"line {n}: seq {event.get('seq')} does not hash to its hash (edited)")
            continue
        if event.get("seq") not in known:
            report.problems.append(f"line {n}: seq {event.get('seq')} is not in the store's journal")
            continue
        _, [stored] = archive.events_at([event["seq"]])
        if stored != raw:
            report.problems.append(f"line {n}: seq {event['seq']} differs from the store's journal line")
    info = (bag / "bag-info.txt").read_text(encoding="utf-8") if (bag / "bag-info.txt").is_file() else ""
    m = re.search(r"^Recordkeep-Journal-Head: (\d+) ([0-9a-f]{64})$", info, flags=re.M)
    if m:
        report.head_seq = int(m.group(1))
        report.head_found = archive.journal.verify_chain(head=m.group(2)).found_head is True
    else:
        report.problems.append("bag-info.txt names no Recordkeep-Journal-Head")
    return report
