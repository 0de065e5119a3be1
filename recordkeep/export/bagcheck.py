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
import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path

from .. import errors, validate
from ..anchoring import anchor_settings
from ..archive import Archive
from ..i18n import N_, _
from ..index import keys as key_rows
from ..index import records
from ..store.fs import os_error
from ..store.hashing import hash_fd
from ..store.journal import Event, event_hash
from ..trust import timestamp
from ..trust.merkle import leaf_hash
from .arrangement import BAG_INFO_LABELS, PII_FILE, TAG_FILES
from .bagfiles import Tags, left_by_a_desktop, listing, open_regular, unreadable
from .bagreport import BagReport, from_bag
from .completeness import ExportsFound, Readable, check_whole
from .proofs import FOLDER, PROOFS, VERIFIER_KEY, check_bag_proofs, withheld_leaf

MANIFESTS = {"sha256": "manifest-sha256.txt", "blake3": "manifest-blake3.txt"}
TAG_MANIFEST = "tagmanifest-sha256.txt"


def _hashes(bag: Path, name: str, report: BagReport) -> dict[str, str] | None:
    """The BLAKE3 and SHA-256 of the payload file ``name``; None (a problem) when it is no
    regular file (a FIFO, a symlink, a device)."""
    try:
        fd = open_regular(bag / name)
    except OSError as exc:
        unreadable(exc, bag / name)
        report.problems.append((errors.BagInvalid.code, _("{file} cannot be read as a file of the bag: {why}")
                                .format(file=from_bag(name), why=from_bag(exc.strerror or exc))))
        return None
    try:
        blake3, _size, extra = hash_fd(fd, extra=("sha256",))
    except OSError as exc:
        raise os_error(exc, N_("reading the bag"), bag / name) from exc
    finally:
        os.close(fd)
    return {"blake3": blake3, "sha256": extra["sha256"]}


def _manifest(data: bytes | None, faults: list[str] | None = None) -> dict[str, str]:
    """A manifest's ``hash path`` lines (any run of spaces or tabs between, as RFC 8493 allows) as
    path -> hash (bytes that are not UTF-8 read as U+FFFD: such a line names no file of the bag,
    which the check then says). A line that is no such line, or a path listed again, is said in
    ``faults``."""
    listed: dict[str, str] = {}
    for line in (data or b"").decode("utf-8", errors="replace").splitlines():
        m = re.fullmatch(r"\s*(\S+)[ \t]+(.*)", line)
        if m is None:
            if line.strip() and faults is not None:
                faults.append(_("a line that is no digest and path: {line}").format(line=from_bag(line)))
            continue
        digest, name = m.group(1).lower(), m.group(2)
        if name in listed and faults is not None:
            faults.append(_("{name} listed more than once").format(name=from_bag(name)))
        listed[name] = digest
    return listed


def _info(tags: Tags, report: BagReport) -> dict[str, str]:
    """bag-info.txt's fields; a problem for each label it repeats, a field continued onto
    another line, or a label recordkeep does not write (what a reader and a parser would see
    differently, or what the export did not say)."""
    fields: dict[str, str] = {}
    said: list[str] = []
    for line in (tags("bag-info.txt") or b"").decode("utf-8", errors="replace").splitlines():
        m = re.fullmatch(r"([A-Za-z0-9-]+): (.*)", line)
        if m is None:
            if line.strip():
                said.append(_("bag-info.txt has a line that is no field of its own: {line}").format(
                    line=from_bag(line)))
            continue
        label, value = m.groups()
        if label in fields:
            said.append(_("bag-info.txt names {label} twice").format(label=from_bag(label)))
        elif label not in BAG_INFO_LABELS:
            said.append(_("bag-info.txt holds {label}, which recordkeep does not write").format(
                label=from_bag(label)))
        fields.setdefault(label, value)
    report.problems.extend((errors.BagInvalid.code, message) for message in said)
    return fields


def check_package(bag: Path, report: BagReport, tags: Tags) -> dict[str, str]:
    """Check the bag's manifests, tag manifest and Payload-Oxum; return bag-info's fields."""
    bad = errors.BagInvalid.code
    if not (bag / "bagit.txt").is_file():
        report.problems.append((bad, _("bagit.txt is missing: not a bag")))
    has_payload = (bag / "data").is_dir() and not (bag / "data").is_symlink()
    if not has_payload and all(not (tags(m) or b"").strip() for m in MANIFESTS.values()):
        report.notices.append((bad, _("data/ is missing: bagit-python rejects the bag; releases before "
                                      "this one left it out of an export with no records")))
    elif not has_payload:
        report.problems.append((bad, _("data/ is missing: a bag has its payload folder, empty or not")))
    payload = listing(bag, "data") if has_payload else []
    computed = {name: found for name in payload if (found := _hashes(bag, name, report)) is not None}
    for algorithm, manifest in MANIFESTS.items():
        if not (bag / manifest).is_file():
            report.problems.append((bad, _("{file} is missing").format(file=manifest)))
            continue
        listed = _manifest(tags(manifest), faults := [])
        report.problems.extend((bad, f"{manifest}: {fault}") for fault in dict.fromkeys(faults))
        for name in sorted(set(listed) - set(payload)):
            report.problems.append((bad, _("{manifest}: {name} is listed but not in the bag").format(
                manifest=manifest, name=from_bag(name))))
        for name in sorted(set(payload) - set(listed)):
            report.problems.append((bad, _("{manifest}: {name} is in the bag but not listed").format(
                manifest=manifest, name=from_bag(name))))
        for name in sorted(set(listed) & set(computed)):
            if computed[name][algorithm] != listed[name]:
                changed = _("{manifest}: {name} does not hash to its {algorithm} (changed)")
                report.problems.append((bad, changed.format(manifest=manifest, name=from_bag(name),
                                                            algorithm=algorithm)))
    if (bag / TAG_MANIFEST).is_file():
        tagged = _manifest(tags(TAG_MANIFEST), faults := [])
        report.problems.extend((bad, f"{TAG_MANIFEST}: {fault}") for fault in dict.fromkeys(faults))
        for name, digest in tagged.items():
            if not _written_by_recordkeep(name):
                report.problems.append((bad, _("{name} is not a file recordkeep writes into a bag").format(
                    name=from_bag(name))))
            if name.startswith("/") or ".." in name.split("/"):
                report.problems.append((bad, _("{manifest}: {name} is outside the bag").format(
                    manifest=TAG_MANIFEST, name=from_bag(name))))
            elif not os.path.lexists(bag / name):
                report.problems.append((bad, _("{manifest}: {name} is missing").format(manifest=TAG_MANIFEST,
                                                                                        name=from_bag(name))))
            elif (data := tags(name)) is not None and hashlib.sha256(data).hexdigest() != digest:
                changed = _("{manifest}: {name} does not hash to its {algorithm} (changed)")
                report.problems.append((bad, changed.format(manifest=TAG_MANIFEST, name=from_bag(name),
                                                            algorithm="sha256")))
        for name in sorted(_tag_files(bag) - tagged.keys() - {TAG_MANIFEST}):
            if left_by_a_desktop(name):
                report.notices.append((bad, _("{name} is not the bag's: a file manager left it (bagit-python "
                                              "ignores it too)").format(name=from_bag(name))))
            else:
                report.problems.append((bad, _("{name} is a tag file {manifest} does not list").format(
                    name=from_bag(name), manifest=TAG_MANIFEST)))
    else:
        report.problems.append((bad, _("{file} is missing").format(file=TAG_MANIFEST)))
    info = _info(tags, report)
    oxum = f"{sum((bag / n).lstat().st_size for n in payload)}.{len(payload)}"
    if info.get("Payload-Oxum") != oxum:
        report.problems.append((bad, _("Payload-Oxum {given} but the payload is {oxum}").format(
            given=from_bag(info.get("Payload-Oxum")), oxum=oxum)))
    return info


def _written_by_recordkeep(name: str) -> bool:
    """Whether an export writes a tag file of this name: a note put beside them, listed in the
    tag manifest made again, would pass bagit-python as the bag's own."""
    return name in {*TAG_FILES, TAG_MANIFEST, PII_FILE, PROOFS, VERIFIER_KEY} or (
        name.startswith(FOLDER + "/") and "/" not in name[len(FOLDER) + 1:])


def _tag_files(bag: Path) -> set[str]:
    """Every entry of the bag outside data/ that is no folder (its tag files, and anything else
    put there: a FIFO, a symlink), as a manifest names them."""
    return {name for name in listing(bag, "", skip="data")}


def check_bag(bag: str | os.PathLike, *, archive: Archive | None = None, vkey: str | None = None,
              tsa_ca: str | os.PathLike | None = None, strict: bool = False) -> BagReport:
    """Check a bag with no store: its manifests and tag files (none unlisted, none but regular
    files, bag-info.txt and summary.json saying nothing twice and nothing recordkeep does not
    write), its journal lines (each hashing to itself, in order, none past its head), its
    checkpoint (signed under ``vkey``, else the verifier key it carries or a key ``archive``
    enrols; its token under ``tsa_ca``) and each line's inclusion proof. With ``archive``, the
    store its lines come from (whatever store it names: RK269), also each line and its head
    against the store's journal, and that it holds its whole case or party as its export
    arranged it (export/completeness.py). ``strict``: a notice fails the bag too (a bag of
    another store, lines its checkpoint does not cover, a checkpoint only the key it carries
    signs...)."""
    bag = Path(bag)
    path = bag / "recordkeep" / "journal.jsonl"
    try:
        a_bag = path.is_file()
    except OSError as exc:
        unreadable(exc, path)
        a_bag = False
    if not a_bag:
        raise errors.InvalidValue(_("not a recordkeep bag: recordkeep/journal.jsonl is missing"), path=bag)
    report = BagReport(strict=strict)
    tags = Tags(bag, report)
    info = check_package(bag, report, tags)
    summary = _summary(tags, report)
    m = re.fullmatch(r"(\d{1,18}) ([0-9a-f]{64})", info.get("Recordkeep-Journal-Head", ""))
    if m:
        report.head_seq = int(m.group(1))
    else:
        report.problems.append((errors.BagInvalid.code, _("bag-info.txt names no Recordkeep-Journal-Head")))
    lines, last_seq = {}, 0
    for n, raw in enumerate((tags("recordkeep/journal.jsonl") or b"").splitlines(), start=1):
        report.lines += 1
        problem, seq = _line_problem(raw, last_seq, report.head_seq)
        if problem:
            report.problems.append((errors.BagLineMismatch.code, _("line {n}: {problem}").format(
                n=n, problem=problem)))
        else:
            lines[seq], last_seq = raw, seq
    claimed = _claimed_scope(summary, info, report) if summary is not None else None
    if len(lines) == report.lines:  # every line sound: else the lines say what is wrong, not the payload
        carried = {seq: json.loads(raw) for seq, raw in lines.items()}  # each sound: parsed once here
        _payload_against_journal(tags, carried, report, claimed if isinstance(claimed, dict) else {})
        if isinstance(summary, dict):
            _view_against_lines(summary, carried, report)
    events = info.get("Recordkeep-Journal-Events")
    if events != str(report.lines):
        report.problems.append((errors.BagLineMismatch.code,
                                _("the bag holds {n} journal lines, bag-info.txt says {events}: lines "
                                  "removed or added").format(n=report.lines, events=events)))
    store_id = info.get("Recordkeep-Store-Id", "")
    same_store = archive is not None and archive.settings.store_id == store_id
    known = records.event_seqs(archive.index) if archive is not None else set()
    if archive is not None and not same_store:
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
    check_bag_proofs(tags, info, lines, report, vkey=vkey, known=_enrolled(archive) if same_store else {},
                     ca=timestamp.read_ca(ca_path, given=tsa_ca is not None) if ca_path is not None else None)
    if same_store:
        found = _against_store(archive, lines, known, report, m.group(2) if m else None)
        if report.head_found and (bag / MANIFESTS["blake3"]).is_file():
            said = Readable(_manifest(tags(MANIFESTS["blake3"])), (summary or {}).get("files"),
                            tags("recordkeep/summary.txt"), info, tags(PII_FILE),
                            tags("recordkeep/summary.json"))
            check_whole(archive, report, found=found, bag=said, claimed=claimed, head_seq=report.head_seq)
    return report


SUMMARY_KEYS = ("scope", "files", "dossier")
#: what the dossier view says of a decision or an act, as its journal line does (the same keys)
VIEW_FROM_LINE = {"decision": ("case.decided", ("party", "penalty_kind", "amount", "at")),
                  "stage_event": ("case.stage", ("at", "until", "action", "note", "officers", "on_site"))}


def _view_against_lines(summary: dict, carried: dict[int, dict], report: BagReport) -> None:
    """Each decision and act summary.json's dossier view shows must say what the journal line
    the bag carries for it says (the fine, its kind and party; the act's time, action, note,
    officers and whether on site), and be shown voided exactly when the bag carries its void:
    the view is made from the store's index, which an insider can edit, the lines are proved
    (RK275). A case's bag carries every line of its case, voids too, so each must be there; a
    party's bag the party's own decisions (the acts of its cases, other parties' decisions and
    the voids are shown but not carried: those are compared when carried)."""
    voids = {d.get("voided_seq"): seq for seq, line in carried.items()
             if line.get("type") == "case.voided" and isinstance(d := line.get("data"), dict)}
    scope = summary.get("scope") if isinstance(summary.get("scope"), dict) else {}
    for seq, item in _view_items(summary.get("dossier")):
        kind, keys = VIEW_FROM_LINE[item["type"]]
        required = "case" in scope or (kind == "case.decided" and item.get("party") == scope.get("party"))
        line = carried.get(seq)
        if line is None:
            if required:
                _disagrees(report, _("recordkeep/summary.json shows a {kind} at seq {seq}, which the bag "
                                     "carries no line of").format(kind=kind, seq=seq))
            continue
        if "masked" in line:  # carried masked (from before the vault): its numbers differ, not its act
            continue
        data = line.get("data") if line.get("type") == kind else None
        if not isinstance(data, dict):
            _disagrees(report, _("recordkeep/summary.json shows a {kind} at seq {seq}, but that line is a "
                                 "{type}").format(kind=kind, seq=seq, type=line.get("type")))
            continue
        for key in keys:
            shown, journaled = item.get(key), data.get(key)
            if key == "on_site":
                shown, journaled = bool(shown), bool(journaled)
            elif key == "officers":
                journaled = journaled or []
            if shown != journaled:
                _disagrees(report, _("recordkeep/summary.json says {key} {shown!r} of seq {seq}, its journal "
                                     "line {journaled!r}").format(key=key, shown=shown, seq=seq,
                                                                   journaled=journaled))
        if seq in voids and not item.get("voided"):
            _disagrees(report, _("recordkeep/summary.json shows seq {seq} in force, but the bag carries its "
                                 "void (seq {void})").format(seq=seq, void=voids[seq]))
        elif item.get("voided") and seq not in voids and "case" in scope:  # a party's bag carries no voids
            _disagrees(report, _("recordkeep/summary.json shows seq {seq} voided, but the bag carries no "
                                 "void of it").format(seq=seq))


def _view_items(view: object) -> list[tuple[int, dict]]:
    """Every showing of a decision or an act in a dossier view (one may be shown twice: in its
    stage and among the decisions), by seq."""
    found: list[tuple[int, dict]] = []
    stack = [view]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            kind, seq = node.get("type"), node.get("seq")
            if isinstance(kind, str) and kind in VIEW_FROM_LINE and type(seq) is int:
                found.append((seq, node))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found, key=lambda pair: pair[0])


def _disagrees(report: BagReport, message: str) -> None:
    """RK275, once however many times the view shows the item."""
    problem = (errors.BagViewDisagrees.code, message)
    if problem not in report.problems:
        report.problems.append(problem)


def _summary(tags: Tags, report: BagReport) -> dict | None:
    """recordkeep/summary.json as it stands (None when there is none or it cannot be read as JSON;
    ``{}`` when it is JSON but no object); a problem when it cannot be read, is no object, names a
    key twice in one object (a reader from the top would see another value than a JSON parser
    keeps), or holds more than recordkeep writes there."""
    twice: list[str] = []

    def no_repeats(pairs: list[tuple[str, object]]) -> dict:
        twice.extend(k for k, n in Counter(k for k, _v in pairs).items() if n > 1)
        return dict(pairs)

    bad = errors.BagInvalid.code
    data = tags("recordkeep/summary.json")
    if data is None:
        return None
    try:
        summary = json.loads(data, object_pairs_hook=no_repeats)
    except (ValueError, RecursionError) as exc:
        report.problems.append((bad, _("recordkeep/summary.json cannot be read: {error}").format(
            error=from_bag(exc))))
        return None
    for key, n in Counter(twice).most_common():
        report.problems.append((bad, _("recordkeep/summary.json names {key} twice in one object ({n} "
                                       "time(s))").format(key=from_bag(key), n=n)))
    if not isinstance(summary, dict):
        report.problems.append((bad, _("recordkeep/summary.json is not a JSON object")))
        return {}
    unknown = sorted(summary.keys() - set(SUMMARY_KEYS))
    for key in unknown[:5]:
        report.problems.append((bad, _("recordkeep/summary.json holds {key}, which recordkeep does not write "
                                       "there").format(key=from_bag(key))))
    if len(unknown) > 5:
        report.problems.append((bad, _("recordkeep/summary.json holds {n} more keys recordkeep does not "
                                       "write").format(n=len(unknown) - 5)))
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


def _payload_against_journal(tags: Tags, carried: dict[int, dict], report: BagReport, scope: dict) -> None:
    """Every payload file is a record the bag's journal lines import (its BLAKE3, as
    manifest-blake3.txt lists it, a ``record.imported`` digest), and every record they import
    and leave undisposed, or link to the bag's case or party and leave linked, is in the
    payload: a file swapped or removed, its import line with it, and the manifests made again
    to match, is still found. A case's bag carries the case's opening (``scope`` from
    summary.json): a bag relabelled as another case is found without the store."""
    listed = _manifest(tags(MANIFESTS["blake3"]))
    held: dict[str, bool] = {}
    linked: Links = {}
    opened: set[str] = set()
    for event in carried.values():
        kind, data = event.get("type"), event.get("data")
        data = data if isinstance(data, dict) else {}
        digest = str(data.get("digest", "")).removeprefix("blake3:")
        if kind in ("record.imported", "record.restored"):
            held[digest] = True
        elif kind == "record.disposed":
            held[digest] = False
        elif kind == "case.opened":
            opened.add(str(data.get("case_no")))
        elif kind in ("record.linked", "record.unlinked", "case.voided"):
            _fold_links(linked, kind, data, event.get("seq"))
    bad = errors.BagInvalid.code
    present = set(listed.values())
    if "case" in scope and str(scope["case"]) not in opened:
        report.problems.append((bad, _("the bag is of case {case_no}, but its journal lines carry no "
                                       "opening of it (relabelled?)").format(
            case_no=from_bag(scope["case"]))))
    for digest in sorted({d for (d, case_no, _stage, party), seqs in linked.items() if seqs and (
                          ("case" in scope and case_no == scope["case"])
                          or ("party" in scope and party == scope["party"]))}):
        if digest not in present and held.get(digest) is not True:  # else told below
            report.problems.append((bad, _("record {digest} is linked to {scope} in the bag's journal lines "
                                           "but not in its payload (removed?)").format(
                digest=digest[:12], scope=from_bag(next(iter(scope.values()))))))
    for name, digest in sorted(listed.items()):
        if digest not in held:
            report.problems.append((bad, _("{name} is no record the bag's journal lines import (a file "
                                           "swapped in?)").format(name=from_bag(name))))
    for digest in sorted(d for d, kept in held.items() if kept and d not in present):
        report.problems.append((bad, _("record {digest} is imported in the bag's journal lines but not in "
                                       "its payload (removed?)").format(digest=digest[:12])))


Links = dict[tuple[str, str, str, str], set[object]]  # (digest, case_no, stage, party) -> the lines linking


def _fold_links(linked: Links, kind: str, data: dict, seq: object) -> None:
    """Fold a line into the links as the index does: ``record.linked`` links each record at its
    place (case, stage, party), ``record.unlinked`` removes them (from a case, at a stage or all;
    or from a party alone), and a ``case.voided`` of a link takes back that line's links (a place
    linked again by another line stays linked)."""
    if kind == "case.voided":
        if data.get("voided_type") == "record.linked":
            for seqs in linked.values():
                seqs.discard(data.get("voided_seq"))
        return
    if not isinstance(data.get("digests"), list):
        return
    case_no, party = str(data.get("case_no") or ""), str(data.get("party") or "")
    digests = {str(d).removeprefix("blake3:") for d in data["digests"]}
    if kind == "record.linked":
        for d in digests:
            linked.setdefault((d, case_no, str(data.get("stage") or ""), party), set()).add(seq)
        return
    stage = data.get("stage")
    for link in [link for link in linked if link[0] in digests and link[1] == case_no
                 and (stage is None or link[2] == stage) and (case_no or link[3] == party)]:
        del linked[link]


def _enrolled(archive: Archive) -> dict[str, bytes]:
    return {row["key"]: base64.b64decode(row["public_key"]) for row in key_rows.all_keys(archive.index)}


def _against_store(archive: Archive, lines: dict[int, bytes], known: set[int], report: BagReport,
                   head: str | None) -> ExportsFound:
    """Each line the very one the store's journal holds at its seq (``known``: the seqs it
    holds); the bag's head in its chain, at its seq. Returns the journal's bag exports, found in
    the same walk."""
    report.store_compared = True
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
