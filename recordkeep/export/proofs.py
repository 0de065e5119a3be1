"""What a bag carries so that its journal lines can be proved without the store: the newest
checkpoint, its timestamp token, the verifier key that signed it, and an RFC 9162 inclusion
proof of each line against it (``recordkeep/proofs.jsonl``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from .. import anchoring, errors
from ..archive import Archive
from ..i18n import _
from ..index import keys as key_rows
from ..store.checkpoints import token_name
from ..trust import checkpoint as notes
from ..trust import keys, timestamp
from ..trust.anchors import signer_of
from ..trust.checkpoint import origin
from ..trust.merkle import leaf_hash, verify_inclusion
from .bagfiles import Tags, left_by_a_desktop, listing
from .bagreport import BagReport, from_bag

FOLDER = "recordkeep/checkpoint"
PROOFS = "recordkeep/proofs.jsonl"
VERIFIER_KEY = "recordkeep/verifier-key.txt"


def anchor_for_export(archive: Archive) -> tuple[anchoring.Anchored | None, str | None]:
    """The checkpoint a bag carries, and why it is not one covering the head: a writable store
    first makes one covering its head; a read-only one (or one that could not) uses the newest
    kept, its later lines then not covered."""
    problem = None
    if not archive.readonly:
        try:
            made = anchoring.make_checkpoint(archive)
            problem = "; ".join(str(p) for p in made.problems) or None
        except errors.RecordkeepError as exc:
            problem = _("no new checkpoint: {error}").format(error=exc)
    try:
        return anchoring.newest(archive), problem
    except errors.InvalidValue:
        return None, problem or _("the store keeps no checkpoint")


def anchor_files(archive: Archive, anchored: anchoring.Anchored | None, seqs: list[int],
                 withheld: frozenset[int] = frozenset()) -> tuple[dict[str, bytes], list[int]]:
    """The checkpoint, token, verifier key and proofs of ``seqs`` (those ``withheld`` by their
    leaf hash), as the bag's tag files (path -> bytes); and the seqs after the checkpoint."""
    if anchored is None:
        return {}, list(seqs)
    size = anchored.note.size
    covered = [s for s in seqs if s <= size]
    tree, lines = anchoring.tree_for(archive, anchored, frozenset(covered))
    name = Path(anchored.name).name
    written = {f"{FOLDER}/{name}": anchored.data}
    token = archive.checkpoints.get(token_name(size))
    if token is not None:
        written[f"{FOLDER}/{token_name(size)}"] = token
    proofs = [json.dumps(anchoring.inclusion_of(tree, size, s, lines[s], withheld=s in withheld),
                         ensure_ascii=False, sort_keys=True) for s in covered]
    written[PROOFS] = "".join(p + "\n" for p in proofs).encode("utf-8")
    verifier = _verifier_key(archive, anchored)
    if verifier is not None:
        written[VERIFIER_KEY] = (verifier + "\n").encode("ascii")
    return written, [s for s in seqs if s > size]


def _verifier_key(archive: Archive, anchored: anchoring.Anchored) -> str | None:
    """The verifier key of the enrolled key that signed the checkpoint."""
    enrolled = {row["key"]: base64.b64decode(row["public_key"]) for row in key_rows.all_keys(archive.index)}
    signer = signer_of(anchored.note, enrolled)
    return None if signer is None else keys.verifier_key(origin(archive.settings.store_id), enrolled[signer])


# -- checking a bag's proofs, without the store -------------------------------------------------
def check_bag_proofs(tags: Tags, info: dict[str, str], lines: dict[int, bytes], report: BagReport, *,
                     vkey: str | None, known: dict[str, bytes], ca: bytes | None) -> None:
    """The bag's checkpoint signed (under ``vkey``, else the verifier key the bag carries or one
    of ``known``), its token verified under ``ca``, and every line up to its size proved in it;
    each file read through ``tags`` (what a file manager leaves beside them is not counted)."""
    folder = tags.bag / FOLDER
    found = [name for name in listing(tags.bag, FOLDER) if name.endswith(".checkpoint")
             and not left_by_a_desktop(name)] if folder.is_dir() and not folder.is_symlink() else []
    if len(found) != 1:
        if found or info.get("Recordkeep-Checkpoint"):
            report.problems.append((errors.BagInvalid.code,
                                    _("{folder} holds {n} checkpoints, not one").format(folder=FOLDER,
                                                                                         n=len(found))))
        else:
            report.not_covered = sorted(lines)
            report.notices.append((errors.NotCovered.code, _("the bag carries no checkpoint: its lines are "
                                                             "proved only against the store they came from")))
        return
    data = tags(found[0])
    if data is None:
        return
    try:
        note = notes.parse(data, found[0])
    except errors.BadCheckpoint as exc:
        report.problems.append((exc.code, exc.message))
        return
    report.checkpoint_size = note.size
    if note.origin != origin(info.get("Recordkeep-Store-Id", "")):
        report.problems.append((errors.OtherStoreCheckpoint.code,
                                _("the checkpoint is of {origin}, not of the store bag-info.txt names")
                                .format(origin=from_bag(note.origin))))
    _check_signature(tags, note, report, vkey, known)
    token = tags(found[0].removesuffix(".checkpoint") + ".tsr")
    if token is not None:
        _check_token(token, data, ca, report)
    _check_inclusions(tags, note, lines, report)


def _check_signature(tags: Tags, note: notes.Checkpoint, report: BagReport, vkey: str | None,
                     known: dict[str, bytes]) -> None:
    if vkey is not None:
        if note.signed_by(note.origin, keys.public_from_text(vkey)):
            report.signer = "--vkey"
        else:
            report.problems.append((errors.CheckpointUnsigned.code, _(
                "the checkpoint's signature does not hold under the verifier key given")))
        return
    candidates = dict(known)
    carried = tags(VERIFIER_KEY)
    if carried is not None:
        try:
            candidates["the bag's verifier key"] = keys.public_from_text(carried.decode("ascii", "replace"))
        except errors.InvalidValue as exc:  # the bag's own file, changed: a finding, not an error
            report.problems.append((errors.CheckpointUnsigned.code, _("{file}: {error}").format(
                file=VERIFIER_KEY, error=exc.message)))
    report.signer = signer_of(note, candidates)
    if report.signer is None:
        report.problems.append((errors.CheckpointUnsigned.code, _("no key known here signed the checkpoint")))
    elif report.signer == "the bag's verifier key":
        report.notices.append((errors.CheckpointUnsigned.code, _(
            "the checkpoint is signed by the key the bag names: give --vkey to check it against a key you "
            "hold from elsewhere")))


def _check_token(token: bytes, data: bytes, ca: bytes | None, report: BagReport) -> None:
    if ca is None:
        report.token = "not checked"
        report.notices.append((errors.TokenMissing.code, _(
            "the checkpoint's timestamp token was not checked: give the TSA's CA certificate (--tsa-ca)")))
        return
    try:
        report.token_time = timestamp.verify(token, data, ca)
        report.token = "verified"
    except (errors.TokenUnreadable, errors.TokenUntrusted) as exc:
        report.token = "bad"
        report.problems.append((exc.code, exc.message))


def _check_inclusions(tags: Tags, note: notes.Checkpoint, lines: dict[int, bytes], report: BagReport) -> None:
    proofs = {}
    for raw in (tags(PROOFS) or b"").splitlines():
        try:
            proof = json.loads(raw)
            proofs[proof["leaf_index"] + 1] = proof
        except (ValueError, KeyError, TypeError, RecursionError):
            report.problems.append((errors.ProofInvalid.code,
                                    _("{file}: a line is not a proof").format(file=PROOFS)))
    for seq, raw in sorted(lines.items()):
        if seq > note.size:
            report.not_covered.append(seq)
            continue
        proof = proofs.get(seq)
        if proof is None:
            report.problems.append((errors.ProofInvalid.code,
                                    _("seq {seq}: no inclusion proof in {file}").format(seq=seq,
                                                                                        file=PROOFS)))
        elif not _holds(proof, raw, note):
            report.problems.append((errors.ProofInvalid.code,
                                    _("seq {seq}: its inclusion proof does not lead to the checkpoint's root")
                                    .format(seq=seq)))
        else:
            report.proved += 1
    if report.not_covered:
        seqs = ", ".join(map(str, report.not_covered))
        report.notices.append((errors.NotCovered.code,
                               _("seq {seqs}: after the bag's checkpoint ({n} lines), not covered").format(
                                   seqs=seqs, n=note.size)))


def withheld_leaf(raw: bytes) -> bytes | None:
    """The leaf hash of a bag line carried as ``{"seq", "leaf_hash", "masked"}`` (a line from
    before the vault holding personal numbers plain), else None."""
    try:
        obj = json.loads(raw)
        if isinstance(obj, dict) and set(obj) == {"seq", "leaf_hash", "masked"}:
            leaf = base64.b64decode(obj["leaf_hash"], validate=True)
            return leaf if len(leaf) == 32 else None
    except (ValueError, TypeError, RecursionError):
        return None
    return None


def _holds(proof: dict, raw: bytes, note: notes.Checkpoint) -> bool:
    withheld = withheld_leaf(raw)
    try:
        hashes = [base64.b64decode(h, validate=True) for h in proof["hashes"]]
        index, size = proof["leaf_index"], proof["tree_size"]
        if withheld is None:
            same, leaf = proof["line"].encode("utf-8") == raw, leaf_hash(raw)
        else:
            same, leaf = base64.b64decode(proof["leaf_hash"], validate=True) == withheld, withheld
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return same and size == note.size and verify_inclusion(index, size, leaf, hashes, note.root)
