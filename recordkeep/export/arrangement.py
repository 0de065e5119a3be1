"""Where each record of a case or a party goes in a bag, and what summary.json and summary.txt say of it.

``arrange`` reads only the index it is given, so the arrangement an export wrote can be made
again from the journal folded to the seq its plan saw (export/completeness.py): the same
index state gives the same entries, path for path. Each export journals ``VERSION``; a bag
is compared only with the arrangement of its own version.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime

from ..i18n import _
from ..index import Index, records
from ..index import dossier as rows
from ..refs import STAGES

VERSION = 2  # raise it with any change to where a record goes or what its entry says
VERSIONS = (1, 2)  # the arrangements this release can make again, to hold a bag of any to its own
# (2: file names lose invisible format characters and keep their extension when cut)
STAGE_DIRS = {slug: f"{i}-{zh}-{slug}" for i, (slug, zh) in enumerate(STAGES.items(), start=1)}
OUTSIDE_CASES = "0-未关联案件-no-case"
PII_FILE = "recordkeep/pii.json"  # the parties' numbers, in a bag exported --with-pii
# the tag files every bag has (beside them: the tag manifest, PII_FILE, and export/proofs.py's)
TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-blake3.txt",
             "recordkeep/journal.jsonl", "recordkeep/summary.json", "recordkeep/summary.txt")
# every label recordkeep writes in bag-info.txt, in its order (a bag's check refuses any other)
BAG_INFO_LABELS = (
    "Bag-Software-Agent", "Bagging-Date", "External-Identifier", "External-Description", "Payload-Oxum",
    "Recordkeep-Store-Id", "Recordkeep-Exporter", "Recordkeep-Exported-At", "Recordkeep-Records",
    "Recordkeep-Journal-Events", "Recordkeep-Journal-Head", "Recordkeep-Checkpoint", "Recordkeep-Not-Covered")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f\x85\u2028\u2029/\\:*?"<>|%]')  # line ends of any kind too
_ENDS = re.compile(r"^[\s.]+|[\s.]+$")  # any space (U+3000 too: bagit-python strips it) or dot at either end


def safe_name(name: str, limit: int = 120, version: int = VERSION) -> str:
    """A file name without control characters, line ends (U+0085, U+2028, U+2029 too: a manifest
    line must stay one line), invisible format characters (a right-to-left override shows
    ``x\u202egpj.exe`` as ``xexe.jpg``), separators, ``%``, or spaces or dots at its ends (kept
    readable); cut to ``limit`` bytes before its extension, which it keeps. ``version`` 1: as
    arrangement 1 made it, format characters kept and cut from its end."""
    text = unicodedata.normalize("NFC", name)
    if version == 1:
        text = _ENDS.sub("", _UNSAFE.sub("_", text)) or "file"
        while len(text.encode("utf-8")) > limit:
            text = text[:-1]
        return text
    text = "".join("_" if unicodedata.category(c) == "Cf" else c for c in _UNSAFE.sub("_", text))
    text = _ENDS.sub("", text) or "file"
    stem, dot, suffix = text.rpartition(".")
    keep = f".{suffix}" if dot and stem and len(suffix.encode("utf-8")) < 16 else ""
    body = text[:len(text) - len(keep)]
    while len((body + keep).encode("utf-8")) > limit:
        body = body[:-1]
    return (_ENDS.sub("", body) or "file") + keep


def _stamp(recorded_at: str | None) -> str:
    if not recorded_at:
        return "undated"
    return datetime.fromisoformat(recorded_at).strftime("%Y%m%d-%H%M%S")


def _case_folder(case_no: str, taken: set[str], version: int) -> str:
    """A party bag's folder for a case: its number made safe, and when another case's number (or
    the folder for records outside cases) made the same, that with the start of its SHA-256."""
    folder = safe_name(case_no, version=version)
    if folder in taken:
        folder = f"{folder}_{hashlib.sha256(case_no.encode()).hexdigest()[:12]}"
    taken.add(folder)
    return folder


def arrange(ix: Index, scope: dict, through: int | None = None, version: int = VERSION) -> list[dict]:
    """One entry per payload file of ``scope`` (``{"case": NO}`` or ``{"party": KEY}``, resolved):
    digest, data path (by case for a party, then by stage), case, stage, size, kind, time,
    officer, doc type, original names, disposed; only records imported up to seq ``through``
    when given; as arrangement ``version`` (one of ``VERSIONS``) places them."""
    if "case" in scope:
        cases, party_key = [scope["case"]], None
    else:
        party_key = scope["party"]
        cases = [row["case_no"] for row in rows.cases_where(ix, party=party_key)]
    found, folders = [], {OUTSIDE_CASES}
    for case_no in cases:
        prefix = "" if party_key is None else _case_folder(case_no, folders, version) + "/"
        for digest, stage in rows.case_links(ix, case_no):
            found.append((digest, case_no, stage, prefix + STAGE_DIRS[stage] + "/"))
    if party_key is not None:
        for digest in rows.party_only_digests(ix, party_key):
            found.append((digest, None, None, OUTSIDE_CASES + "/"))
    entries, placed, used = [], set(), set()
    for digest, case_no, stage, folder in found:
        rec = records.record(ix, digest)
        if (through is not None and rec["first_seq"] > through) or (digest, folder) in placed:
            continue  # added after the plan's head; or in this folder already (linked twice)
        placed.add((digest, folder))
        names = records.original_names(ix, digest)
        base = (rec["name"] or (names[0].rsplit("/", 1)[-1] if names else rec["kind"]))
        name = safe_name(base, version=version)
        path = f"data/{folder}{_stamp(rec['recorded_at'])}_{digest[:8]}_{name}"
        if path in used:  # another record of the same time, name and first 8 hex digits
            path = f"data/{folder}{_stamp(rec['recorded_at'])}_{digest}_{name}"
        used.add(path)
        entries.append({"digest": digest, "path": path, "case_no": case_no, "stage": stage,
                        "size": rec["size"], "kind": rec["kind"], "recorded_at": rec["recorded_at"],
                        "officer": rec["officer"], "doc_type": rec["doc_type"],
                        "original_names": names, "disposed": rec["disposed_seq"] is not None})
    return entries


def description(scope: dict) -> str:
    """bag-info.txt's External-Description of a bag of ``scope`` (English, as BagIt tools show it)."""
    return f"recordkeep export of case {scope['case']}" if "case" in scope else \
        f"recordkeep export of party {scope['party']}"


def summary_text(scope: dict, entries: list[dict]) -> str:
    """summary.txt, for people: in their language (summary.json is the machine-readable one)."""
    title = (_("recordkeep export of case {case_no}").format(case_no=scope["case"]) if "case" in scope
             else _("recordkeep export of party {party}").format(party=scope["party"]))
    lines = [title, "", _("file in data/ <- original name(s), digest"), ""]
    for e in entries:
        lines.append(e["path"])
        for name in e["original_names"]:
            lines.append("    " + _("original: {name}").format(name=repr(name) if "\n" in name else name))
        lines.append("    " + _("blake3:{digest}  {size} bytes  {kind}  {recorded_at}").format(
            digest=e["digest"], size=e["size"], kind=e["kind"], recorded_at=e["recorded_at"] or ""))
        if e["disposed"]:
            lines.append("    " + _("(disposed under retention: not in the bag; its digest remains)"))
    return "\n".join(lines) + "\n"
