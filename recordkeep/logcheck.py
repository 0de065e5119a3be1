"""``log verify``: the journal's chain and, in the same walk, the proof of its signatures and
the Merkle roots its checkpoints (kept in the store, and any given) must find."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import errors, index, settings, validate
from .anchoring import anchor_settings
from .archive import Archive
from .disposals import Disposals, Undue, judge_unwatched
from .i18n import _
from .index import FILENAME as INDEX_FILE
from .index import audit, records
from .index.core import Acknowledged
from .pins import Breach, Pins
from .refs import bare
from .retention import ordinary_months, recorded_months
from .store import fs
from .store.checkpoints import checkpoint_name, token_name
from .store.journal import ChainReport, Event
from .trust import timestamp
from .trust.anchors import Anchor, TreeWalk, Verdict, against_journal, judge, moment
from .trust.checkpoint import origin
from .trust.clock import ClockOrder
from .trust.keys import public_from_text
from .trust.proof import Finding, Proof


@dataclass
class JournalReport:
    """The chain walked and the batches proved."""

    chain: ChainReport
    findings: list[Finding]
    batches: int
    signed: bool
    head_asked: str | None = None
    checkpoints: list[Verdict] = field(default_factory=list)
    founding: str | None = None  # the id of the key the journal roots its trust in
    index: str | None = None  # with index_too: "matches", "differs" or "not compared"

    @property
    def ok(self) -> bool:
        return (self.chain.problem is None and self.chain.found_head is not False
                and not [f for f in self.findings if not f.notice]
                and all(v.ok for v in self.checkpoints))


def verify_journal(archive: Archive, *, head: str | None = None, strict: bool = False,
                   checkpoints: list[str | os.PathLike] | None = None, vkey: str | None = None,
                   tsa_ca: str | os.PathLike | None = None, index_too: bool = False,
                   founding_key: str | None = None) -> JournalReport:
    """Walk the whole chain; check every batch's signature, key, actor and roles on the way
    (``strict``: the unsigned batches of a store from before signatures fail too), and grow
    the journal's Merkle tree: every checkpoint kept in the store, and each of
    ``checkpoints`` (files kept elsewhere, their ``.tsr`` beside them), must find its root
    at its size and be signed (under ``vkey`` when given, else by a key the journal enrols);
    tokens are verified under ``tsa_ca`` or ``[anchor] tsa_ca``. Every checkpoint and token
    the journal says was made must still be kept, unchanged (``against_journal``). Also named:
    acknowledged lines claiming a time well behind a line before them (RK263) and disposals
    made under a shorter retention than the setting now (RK264), disposals of records protected
    then (RK273), and (``founding_key``, a key an auditor knows from outside the journal) a
    journal rooted in another key (RK274). ``index_too``:
    on an intact chain, the index must hold what a fresh fold of the journal makes (``index_findings``)."""
    key = public_from_text(vkey) if vkey is not None else None
    ca_path = validate.given_path(tsa_ca) if tsa_ca is not None else anchor_settings(archive).tsa_ca
    ca = timestamp.read_ca(ca_path, given=tsa_ca is not None) if ca_path is not None else None
    anchors = [*kept_anchors(archive), *(given_anchor(p) for p in checkpoints or [])]
    root = public_from_text(founding_key) if founding_key is not None else None
    proof = Proof(archive.settings.store_id, strict=strict, founding_key=root)
    walk = TreeWalk({_size_hint(a) for a in anchors})
    made: list[Event] = []
    folded = index.folded_head(archive.root / INDEX_FILE)  # read as it is: never caught up here
    met: list[bool] = []
    counted, pins, clock = Acknowledged(), Pins(), ClockOrder(now=moment(archive.now()))
    months, shorter = _ordinary_months(archive), []  # disposals under a shorter retention
    disposals = Disposals(archive, records.disposed_in(archive.root / INDEX_FILE))  # what protected them
    in_force: dict = {"seq": None, "months": None, "digest": None}  # the settings last recorded
    false_settings: list[int] = []  # settings.changed lines that do not say what they record

    def visit(event: Event) -> None:
        proof.feed(event)
        for each in counted.feed(event):  # what counts: a cut batch's lines never do (RK245)
            pins.feed(each, signed=counted.signed)
            disposals.feed(each, signed=counted.signed)
            clock.feed(each)
            data = each.data
            if each.type == "settings.changed":  # in force for what follows it, its batch's acts too
                content, said = settings.recorded_digest(data), (data.get("digest"), data.get("previous"))
                if content is None or said != (content, in_force["digest"]):
                    false_settings.append(each.seq)
                in_force.update(seq=each.seq, months=recorded_months(data.get("settings")), digest=content)
            used = data.get("months") if each.type == "record.disposed" else None
            if not isinstance(used, int) or isinstance(used, bool):
                continue
            digest = bare(str(data.get("digest", "")))[:12]
            if in_force["months"] is not None and used < in_force["months"]:
                shorter.append((each.seq, digest, used, (in_force["seq"], in_force["months"])))
            elif months is not None and used < months:
                shorter.append((each.seq, digest, used, None))
        if anchors:
            walk.feed(event)
        if event.type == "checkpoint.made":
            made.append(event)
        if folded is not None and event.seq == folded.seq:
            met.append(event.hash == folded.hash)

    try:
        chain = archive.journal.verify_chain(head=head, visit=visit)
        findings = proof.finish() if chain.problem is None else proof.settled()
    finally:
        proof.close()
    findings += against_journal(made, archive.checkpoints.get, archive.checkpoints.location)
    findings += [_removed_under_hold(b, strict) for b in pins.breaches.values()]
    if chain.problem is None:
        undue = disposals.found + judge_unwatched(archive, disposals)
        findings += [_disposed_undue(u, strict) for u in sorted(undue, key=lambda u: u.seq)]
    if clock.first is not None:
        findings.append(_behind(clock, strict))
    if clock.first_ahead is not None:
        findings.append(_ahead(clock, archive.now(), strict))
    findings += [_shorter_retention(seq, digest, used, months, under, strict)
                 for seq, digest, used, under in shorter]
    findings += [Finding(errors.SettingsRecordFalse.code, seq, _(
        "seq {seq} records settings but does not say what it records: it holds none, its digest is not "
        "theirs, or its previous digest is not that of the settings recorded before it").format(seq=seq))
        for seq in false_settings]
    compared = None
    if index_too and chain.problem is None:
        compared, found = index_findings(archive)
        findings += found
    if folded is not None and chain.problem is None and met != [True]:
        findings.append(Finding(errors.IndexCorrupt.code, folded.seq, _(
            "the index folded seq {seq}, which the journal no longer holds: the journal was cut or "
            "rewritten after it").format(seq=folded.seq)))
    keys = {key_id: k.public for key_id, k in proof.keys.items()}
    verdicts = judge(anchors, origin=origin(archive.settings.store_id), keys=keys, vkey=key, walk=walk, ca=ca,
                     broken=chain.problem is not None, strict=strict) if anchors else []
    unchecked = [v for v in verdicts if v.token == "not checked"]
    if unchecked:
        findings.append(Finding(errors.TokenMissing.code, 0,
                                _("{n} timestamp token(s) not checked: no CA certificate "
                                  "([anchor] tsa_ca, or --tsa-ca)").format(n=len(unchecked)), notice=True))
    return JournalReport(chain, findings, proof.batches, proof.signed, head, verdicts, proof.founding,
                         compared)


def _disposed_undue(undue: Undue, strict: bool) -> Finding:
    """A failure for a disposal, in a signed batch, of a record its protections then forbade
    disposing of; a notice (unless ``strict``) in the lines of a store from before signatures."""
    return Finding(errors.DisposedUndue.code, undue.seq, _(
        "seq {seq} disposed of {digest} while it was {why}").format(
            seq=undue.seq, digest=undue.digest[:12], why="; ".join(undue.why)),
        notice=not (undue.signed or strict))


def _removed_under_hold(breach: Breach, strict: bool) -> Finding:
    """A failure for links taken away under a hold in a signed batch; a notice (unless
    ``strict``) in the lines of a store from before signatures."""
    if breach.voided is not None:
        what = _("seq {seq} voids the link of seq {link} to case {case_no} while a hold stood ({holds})")
    elif breach.case_no:
        what = _("seq {seq} takes {n} record(s) out of case {case_no} while a hold stood ({holds})")
    else:
        what = _("seq {seq} takes {n} record(s) away from a party while a hold stood ({holds})")
    message = what.format(seq=breach.seq, n=len(breach.digests), case_no=breach.case_no, link=breach.voided,
                          holds=breach.named_holds())
    return Finding(errors.RemovedUnderHold.code, breach.seq, message, notice=not (breach.signed or strict))


def index_findings(archive: Archive) -> tuple[str, list[Finding]]:
    """Whether index.sqlite ``matches`` a fresh fold of the journal, ``differs`` or was ``not
    compared``, and the findings: each table the fold does not make as it is (RK233: changed by
    hand; a notice for an index migrated in place from an older release, which may honestly hold
    less). A notice when they cannot be compared: another schema (not migrated yet), another
    head (another process writing, or a read-only store's index behind), or an index that
    cannot be read."""
    path = archive.root / INDEX_FILE

    def notice(message: str) -> tuple[str, list[Finding]]:
        return "not compared", [Finding(errors.IndexDiffers.code, 0, message, notice=True)]

    if not path.exists():
        return notice(_("there is no index.sqlite to compare"))
    try:
        if not archive.readonly:
            archive.index.catch_up(archive.journal)  # opening it migrates it
        found = audit.compare(path, archive.journal, archive.watch)
        if not found.same_head and not archive.readonly:  # a writer went on: catch up, compare again
            archive.index.catch_up(archive.journal)
            found = audit.compare(path, archive.journal, archive.watch)
    except errors.IndexDamaged as exc:
        return notice(_("{message}: not compared").format(message=exc.message))
    if found.other_schema:
        return notice(_("index.sqlite has another schema than this version of recordkeep ({tables}): not "
                        "compared (any writing command migrates it; rebuild-index replaces it)").format(
            tables=", ".join(found.other_schema)))
    if not found.same_head:
        return notice(_(
            "the index folded up to seq {index}, the journal to seq {fold}: not compared (run again when no "
            "one writes; a read-only store's index is compared once a writer caught it up)").format(
                index=found.index_head[0] if found.index_head else 0,
                fold=found.fold_head[0] if found.fold_head else 0))
    said = (_("index.sqlite table {table}: {extra} row(s) a fold of the journal does not make, {missing} it "
              "makes missing; the index was migrated in place from an older version, whose migrations may "
              "leave such rows: rebuild-index replaces it with a fold of the journal (e.g. {example})")
            if found.migrated else
            _("index.sqlite table {table}: {extra} row(s) a fold of the journal does not make, {missing} it "
              "makes missing: changed by hand (e.g. {example})"))
    return ("differs" if found.tables else "matches",
            [Finding(errors.IndexDiffers.code, 0, said.format(table=d.table, extra=d.extra, missing=d.missing,
                                                             example=d.example or "-"), notice=found.migrated)
             for d in found.tables])


def _ordinary_months(archive: Archive) -> int | None:
    try:
        return ordinary_months(archive)
    except errors.ConfigError:  # a bad setting is reported by the commands that use it
        return None


def _shorter_retention(seq: int, digest: str, used: int, months: int | None,
                       under: tuple[int, int] | None, strict: bool) -> Finding:
    """A disposal made under a retention period shorter than the settings the journal recorded
    in force for it (``under``: their seq and months), a failure: this release journals the
    settings it disposes under first, so the line was made by other means, or by an older release
    under settings it never recorded. Else shorter than the setting now (lowered for it, or raised
    since: ``settings history`` tells which), a notice unless ``strict``."""
    if under is not None:
        return Finding(errors.RetentionLowered.code, seq, _(
            "seq {seq} disposed of {digest} under a retention of {used} months, while the settings the "
            "journal recorded for it (seq {settings_seq}) keep ordinary records {months} months").format(
                seq=seq, digest=digest, used=used, settings_seq=under[0], months=under[1]))
    return Finding(errors.RetentionLowered.code, seq, _(
        "seq {seq} disposed of {digest} under a retention of {used} months; the store keeps ordinary "
        "records {months} months now").format(seq=seq, digest=digest, used=used, months=months),
        notice=not strict)


def _behind(clock: ClockOrder, strict: bool) -> Finding:
    """The first line that claims a time behind the journal's, and how many do."""
    line, ahead = clock.first
    message = _("journal line {seq} claims {at}, {behind} before line {ahead_seq} journaled ahead of it "
                "({ahead_at}): the writing station's clock ran behind, or the time was written false").format(
        seq=line.seq, at=line.at, behind=str(ahead.moment - moment(line.at)).split(".")[0],
        ahead_seq=ahead.seq, ahead_at=ahead.at)
    if clock.behind > 1:
        message += _(" ({n} lines claim a time behind the journal's)").format(n=clock.behind)
    return Finding(errors.TimeBehindJournal.code, line.seq, message, notice=not strict)


def _ahead(clock: ClockOrder, now: str, strict: bool) -> Finding:
    """The first line that claims a time after the verifying clock, and how many do."""
    line = clock.first_ahead
    message = _("journal line {seq} claims {at}, after this verification's clock ({now}): the writing "
                "station's clock ran ahead, or the time was written false").format(seq=line.seq, at=line.at,
                                                                                   now=now)
    if clock.ahead > 1:
        message += _(" ({n} lines claim a time after the clock)").format(n=clock.ahead)
    return Finding(errors.TimeAheadOfClock.code, line.seq, message, notice=not strict)


def kept_anchors(archive: Archive) -> list[Anchor]:
    """The checkpoints the store keeps, with their tokens."""
    found = []
    for size in archive.checkpoints.sizes():
        data = archive.checkpoints.get(checkpoint_name(size))
        if data is not None:
            found.append(Anchor(f"{archive.checkpoints.location}/{checkpoint_name(size)}", data,
                                archive.checkpoints.get(token_name(size))))
    return found


def given_anchor(path: str | os.PathLike) -> Anchor:
    """A checkpoint file kept outside the store, with the ``.tsr`` beside it when there is one."""
    where = Path(validate.given_path(path))
    try:
        data = fs.read_regular(where, fs.GIVEN_LIMIT)
        token_path = where.with_suffix(".tsr")
        token = fs.read_regular(token_path, fs.GIVEN_LIMIT) if token_path.is_file() else None
    except OSError as exc:
        raise errors.InvalidPath(_("cannot read the checkpoint: {error}").format(error=exc.strerror),
                                 path=where) from exc
    return Anchor(str(where), data, token, given=True)


def _size_hint(anchor: Anchor) -> int:
    """The tree size a checkpoint states (0 when it does not parse: judged as bad later)."""
    try:
        return int(anchor.data.split(b"\n", 2)[1])
    except (IndexError, ValueError):
        return 0
