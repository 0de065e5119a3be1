"""Every RK code, once: its class, its one-line meaning (the docstring) and its exit code.

1xx store and configuration, 2xx integrity, 3xx import and media, 4xx input validation,
5xx compliance rules. Errors are raised; *findings* (a digest mismatch found by verify, a
broken rule found by check) are reported in lists, and carry their class's code.
``str(error)`` is one line: code, what happened, which file, what to do, in the reader's
language (``i18n``: a message is translated where it is raised, a class's hint where shown).
docs/errors.md is generated from ``table()`` (a test keeps them equal).
"""

from __future__ import annotations

import os

from .i18n import N_, _

EXIT_ERROR, EXIT_USAGE, EXIT_INTEGRITY, EXIT_COMPLIANCE, EXIT_INCOMPLETE = 1, 2, 3, 4, 5


class RecordkeepError(Exception):
    """Base of every expected error (abstract: raise a subclass). ``journaled`` holds the
    events the journal took before it was raised (their fold into the index failed), if any;
    ``Archive.transact`` sets it on whatever it raises then, Ctrl-C included."""

    code = "RK000"
    hint = ""
    exit_code = EXIT_ERROR
    journaled: tuple = ()

    def __init__(self, message: str, *, path: str | bytes | os.PathLike | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = os.fsdecode(path) if path is not None else None
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        parts = [f"{self.code}: {self.message}"]
        if self.path:
            shown = repr(self.path) if "\n" in self.path else self.path
            parts.append(_("file: {path}").format(path=shown))
        if self.hint:
            parts.append(_(self.hint))
        # one printable line whatever was typed: undecodable bytes escaped, never a second line
        line = " | ".join(parts).encode("utf-8", "backslashreplace").decode("utf-8")
        return line.replace("\n", "\\n").replace("\r", "\\r")


# 1xx: store and configuration ------------------------------------------------
class StoreError(RecordkeepError):
    """The store cannot be used as asked."""

    code = "RK100"


class NotAStore(StoreError):
    """The folder is not a recordkeep store."""

    code = "RK101"
    hint = N_("run 'recordkeep --store PATH init' to create a store, or pass the right --store")


class StoreExists(StoreError):
    """A store already exists where a new one was to be created."""

    code = "RK102"
    hint = N_("this folder already holds a store; use it as it is")


class ReadOnlyStore(StoreError):
    """The store is read-only: nothing can be written."""

    code = "RK103"
    hint = N_("the store is read-only; read commands work, writes need a writable copy")


class ConfigError(StoreError):
    """recordkeep.toml says something that cannot be used."""

    code = "RK104"
    hint = N_("fix recordkeep.toml")


class StoreFull(StoreError):
    """The store's disk is full."""

    code = "RK105"
    hint = N_("free space on the store's disk, then run the same command again")


class StoreIOError(StoreError):
    """The store's disk failed a read or a write."""

    code = "RK106"
    hint = N_("check the disk and its permissions, then run the same command again")


class OutputUnwritten(StoreError):
    """The command's output could not be written (its stdout on a full disk, say); what the
    command did stands."""

    code = "RK121"
    hint = N_("what the command did stands ('recordkeep log' shows what it journaled); send its output "
              "where there is room")


class SettingsUnrecorded(StoreError):
    """recordkeep.toml is not as the journal last recorded it, and the acting key may not record
    it (an admin's act): nothing is written under settings no admin has put on record."""

    code = "RK122"
    hint = N_("an admin records them first: 'recordkeep settings record' ('recordkeep settings history' "
              "shows what changed)")


class ExportNotPlaced(StoreError):
    """An export was journaled, but its finished package could not be renamed into place: it
    is kept beside the destination, under the name the message gives."""

    code = "RK120"
    hint = N_("move that folder to the destination yourself (the journal already says it went there), "
              "or remove it and export again")


class ToolMissing(StoreError):
    """ffprobe or ffmpeg cannot be found."""

    code = "RK107"
    hint = N_("install ffmpeg (apt-get install -y ffmpeg) or set RECORDKEEP_FFPROBE")


class BackendAuth(StoreError):
    """The object store refused the credentials (or none were found)."""

    code = "RK108"
    hint = N_("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE / ~/.aws/credentials) "
            "to a key the object store accepts")


class BackendUnavailable(StoreError):
    """The object store cannot be reached (down, wrong endpoint, network)."""

    code = "RK109"
    hint = N_("check that the object store is up and the endpoint in recordkeep.toml is right, "
            "then run the same command again")


class BackendError(StoreError):
    """The object store answered with an error recordkeep does not expect."""

    code = "RK110"
    hint = N_("check the bucket and its permissions, then run the same command again")


class BlobLocked(StoreError):
    """Object Lock (WORM) keeps a blob until its retention date: it cannot be removed yet."""

    code = "RK111"
    hint = N_("the bucket's Object Lock keeps this blob until the date shown: dispose of it again after that")


class StoreIdMismatch(StoreError):
    """recordkeep.toml names another store than the journal's ``store.created``."""

    code = "RK112"
    hint = N_("recordkeep.toml and the journal belong to different stores: restore this store's own "
            "recordkeep.toml (its [store] id is in the journal's first line)")


class KeyMissing(StoreError):
    """No private key for the actor: nothing can be written (reading needs none)."""

    code = "RK113"
    hint = N_("make one with 'recordkeep key new' and have an admin enrol it ('recordkeep key enrol'), "
            "or point $RECORDKEEP_KEY at yours")


class KeyUnusable(StoreError):
    """The private key file cannot be used: readable by others, or not an Ed25519 key."""

    code = "RK114"
    hint = N_("keep the key file mode 600, readable by its owner only")


class KeyExists(StoreError):
    """A private key file already exists where a new one was to be written."""

    code = "RK115"
    hint = N_("use the key there, or give another path with $RECORDKEEP_KEY")


class KeyNotEnrolled(StoreError):
    """The key is not enrolled in this store (or was revoked): its writes are refused."""

    code = "RK116"
    hint = N_("an admin enrols it: 'recordkeep key enrol PUBKEY --actor NAME --role R'")


class ActorMismatch(StoreError):
    """--actor names someone else than the key's enrolled actor."""

    code = "RK117"
    hint = N_("act with your own key; --actor only selects it")


class RoleMissing(StoreError):
    """The key's roles do not allow what the command would journal."""

    code = "RK118"
    hint = N_("ask an admin for the role, or let someone who has it do this")


class TsaUnreachable(StoreError):
    """The timestamp authority could not be asked, or refused: the checkpoint stays signed, without token."""

    code = "RK119"
    hint = N_("check [anchor] tsa_url and the network; 'recordkeep log checkpoint --tsa URL' asks again")


# 2xx: integrity --------------------------------------------------------------
class IntegrityError(RecordkeepError):
    """Stored bytes or the journal are not what they must be."""

    code = "RK200"
    hint = N_("run 'recordkeep log verify' and 'recordkeep verify'; do not edit the store by hand")
    exit_code = EXIT_INTEGRITY


class JournalCorrupt(IntegrityError):
    """A journal line is not an event."""

    code = "RK201"


class HeadMoved(IntegrityError):
    """Another writer appended to the journal first."""

    code = "RK202"
    hint = N_("another writer appended first; re-read the head and retry")


class DigestMismatch(IntegrityError):
    """A blob's content no longer hashes to its digest."""

    code = "RK210"


class SizeMismatch(IntegrityError):
    """A blob's size differs from its record's."""

    code = "RK211"


class BlobMissing(IntegrityError):
    """A record's blob is missing."""

    code = "RK212"


class BlobUnreadable(IntegrityError):
    """A blob cannot be read."""

    code = "RK213"


class StrayFile(IntegrityError):
    """A file under objects/ is not a valid digest path."""

    code = "RK214"


class UnreferencedBlob(IntegrityError):
    """A valid blob no record claims (notice: a write interrupted before it was journaled)."""

    code = "RK215"


class DisposedBlob(IntegrityError):
    """A record's blob was disposed of under retention (notice)."""

    code = "RK216"


class StaleTemporary(IntegrityError):
    """A temporary file of a writer that is gone (a notice: the next write command removes it)."""

    code = "RK217"


class FixityOverdue(IntegrityError):
    """Records whose bytes were last verified (never verified: imported) longer ago than the
    fixity cycle allows (``[fixity] max_age_days``)."""

    code = "RK218"
    hint = N_("run 'recordkeep verify --full --budget DURATION' (daily, e.g. from cron) "
              "until none is overdue")


class LineNotEvent(IntegrityError):
    """A journal line does not parse as an event."""

    code = "RK220"


class LineEdited(IntegrityError):
    """A journal line's hash does not match its content, or it is not canonical (edited)."""

    code = "RK221"


class PrevMismatch(IntegrityError):
    """A journal line's prev is not the hash of the line before (reordered, inserted, deleted)."""

    code = "RK222"


class SeqOutOfOrder(IntegrityError):
    """A journal line's seq is not the one due (lines deleted or inserted)."""

    code = "RK223"


class HeadNotFound(IntegrityError):
    """The journal does not hold a head noted earlier."""

    code = "RK224"
    hint = N_("the journal does not contain that head: it was cut or rewritten")


class ChainBroken(IntegrityError):
    """The journal's chain is broken: nothing is decided on it (the first bad line is named)."""

    code = "RK225"
    hint = N_("run 'recordkeep log verify' and compare the journal with a copy or a checkpoint; "
            "import and add still store evidence, nothing else is decided on this journal")


class FloatInEvent(IntegrityError):
    """A journal event holds a float (events hold integers and strings only)."""

    code = "RK226"


class BagLineMismatch(IntegrityError):
    """A bag's journal line is not the store's line at that seq."""

    code = "RK227"


class BagInvalid(IntegrityError):
    """A bag's manifest, tag manifest or bag-info does not match its files."""

    code = "RK228"


class BagIncomplete(IntegrityError):
    """A bag lacks a record that the store's journal linked to its case or party when the
    export that made it planned it, or holds one it did not link."""

    code = "RK265"
    hint = N_("the export was planned from an index that disagrees with the journal (changed by "
              "hand?): run 'recordkeep log verify --index', then export again")


class BagNotJournaled(IntegrityError):
    """No export in the store's journal made a bag of this payload and scope around its journal
    head: the bag cannot be shown whole against the store."""

    code = "RK266"
    hint = N_("a bag changed after its export, or an export the journal does not hold (from a "
              "read-only store, or by an older recordkeep); export again from the store")


class BagLinkedMeanwhile(IntegrityError):
    """A record was linked to the bag's case or party after its export's plan and before the
    export was journaled: the bag is whole as of its plan, without it (a notice)."""

    code = "RK267"
    hint = N_("another clerk linked it while the case was exported; export again for a bag with it")


class BagMisarranged(IntegrityError):
    """A bag whole in its records says otherwise than the journal where they stand: a file in
    another case's or stage's folder, summary.json giving a record another stage, doc type, time
    or name than the journal did where its export planned it, bag-info.txt another exporter or
    time than the export journaled, or pii.json, summary.json or summary.txt not the file whose
    SHA-256 the export journaled (the tag manifest made again)."""

    code = "RK268"
    hint = N_("the bag's folders or tag files (summary.json, summary.txt, pii.json, bag-info.txt) were "
              "changed after its export; export again from the store")


class BagStoreRelabelled(IntegrityError):
    """A bag's bag-info.txt names another store than the one whose journal lines it holds: its
    Store-Id was changed (so that it would be checked only by itself)."""

    code = "RK269"
    hint = N_("a bag is checked against the store its journal lines come from, whatever store it "
              "names; ask who changed its bag-info.txt")


class UnsignedBatch(IntegrityError):
    """Events no enrolled key signed, in a store that signs its batches."""

    code = "RK240"


class BadSignature(IntegrityError):
    """A batch's signature does not hold (its events, its range or its store id changed)."""

    code = "RK241"


class SignerNotEnrolled(IntegrityError):
    """A batch signed by a key not enrolled, or revoked, when it was written."""

    code = "RK242"


class KeyEnrolledAgain(IntegrityError):
    """A key enrolled again: after its revocation a failure (it stays revoked), else a notice."""

    code = "RK260"


class RoleNotAllowed(IntegrityError):
    """A batch holds an event its key's roles do not allow, or an actor other than the key's."""

    code = "RK243"


class NoStoreCreated(IntegrityError):
    """The journal does not begin with store.created, holds a second one, or is empty (the store exists)."""

    code = "RK244"


class UnfinishedBatch(IntegrityError):
    """Events after the last seal (a writer that crashed before it): never acknowledged (a notice)."""

    code = "RK245"


class UnsignedBefore(IntegrityError):
    """Unsigned batches of a store from before signatures (a notice; a failure with --strict)."""

    code = "RK246"


class TrustOnFirstUse(IntegrityError):
    """The first admin key of a store from before signatures, trusted on first use (a notice)."""

    code = "RK247"


class BadCheckpoint(IntegrityError):
    """A file given or kept as a checkpoint is not one (damaged, or another kind of file)."""

    code = "RK248"


class CheckpointMismatch(IntegrityError):
    """The journal's Merkle tree at a checkpoint's size has another root: lines were rewritten."""

    code = "RK249"
    hint = N_("compare with the copies published elsewhere; the lines named were changed after it")


class CheckpointUnsigned(IntegrityError):
    """A checkpoint's signature does not hold under the verifier key given, or any enrolled key."""

    code = "RK250"


class CheckpointBeyondJournal(IntegrityError):
    """A checkpoint covers more lines than the journal holds: lines were cut from its end."""

    code = "RK251"


class TokenUnreadable(IntegrityError):
    """A timestamp token (RFC 3161 reply) does not parse: damaged, or a form this reader cannot read."""

    code = "RK252"
    hint = N_("check it with 'openssl ts -reply -in FILE.tsr -text'; a TSA that puts its certificates in "
            "an unsorted SET gives tokens that rfc3161-client cannot parse")


class TokenUntrusted(IntegrityError):
    """A timestamp token does not verify: another CA signed it, or it is over other bytes."""

    code = "RK253"


class TokenMissing(IntegrityError):
    """A checkpoint's timestamp token missing (the TSA did not answer) or not checked (no CA): a notice."""

    code = "RK254"


class AnchorGone(IntegrityError):
    """A checkpoint or token the journal says was made is not kept, or another is kept instead."""

    code = "RK259"
    hint = N_("restore it from the copies published elsewhere (log checkpoint --publish); compare them")


class TimeAfterToken(IntegrityError):
    """A journal line claims a time after the timestamp token of a checkpoint that covers it: the
    station's clock was ahead, or the time was written false (a notice; with --strict, a failure)."""

    code = "RK261"
    hint = N_("the times the journal claims for those lines cannot be relied on; the token's time bounds "
              "when they were written. Set the station's clock by NTP")


class TimeBehindJournal(IntegrityError):
    """A journal line claims a time well before a line journaled ahead of it: the writing
    station's clock ran behind, or the time was written false (a notice; with --strict, a
    failure). check counts such an act as entered no earlier than its case's lines before it."""

    code = "RK263"
    hint = N_("the times those lines claim cannot be relied on; set the station's clock by NTP and find who "
              "wrote them ('log' around the seq)")


class TimeAheadOfClock(IntegrityError):
    """A journal line claims a time after the clock that verifies it: the writing station's
    clock ran ahead, or the time was written false (a notice; with --strict, a failure). check
    counts such a line as written when it runs."""

    code = "RK276"
    hint = N_("the times those lines claim cannot be relied on; set the station's clock by NTP and find who "
              "wrote them ('log' around the seq)")


class RetentionLowered(IntegrityError):
    """A disposal names a retention period shorter than the settings the journal recorded in force
    for it (``settings.changed``), which dispose never writes: a line made by other means, or by a
    release before settings were journaled, under settings it never recorded (a failure). In a
    journal that recorded no settings before it: shorter than the store's setting now, which was
    lowered for it or raised since (a notice; with --strict, a failure)."""

    code = "RK264"
    hint = N_("ask who changed [retention] ordinary_months in recordkeep.toml and why ('settings history'); "
              "the disposal's line names its actor")


class SettingsRecordFalse(IntegrityError):
    """A ``settings.changed`` line does not say what it records: its digest is not that of the
    settings it holds, its ``previous`` is not the digest recorded before it, or it holds no
    settings. recordkeep never writes one: the line was made by other means."""

    code = "RK270"
    hint = N_("the settings' history cannot be relied on from this line on; 'settings history' and the "
              "line's signer (log) tell who wrote it")


class DossierChanged(IntegrityError):
    """An HTML dossier's folder is not as its manifest lists it: a file changed, missing, not a
    regular file, or there besides the files listed; or its manifest cannot be read as one."""

    code = "RK271"
    hint = N_("the dossier was changed after its export; export it again from the store")


class DossierNotJournaled(IntegrityError):
    """No ``export.created`` line of the store vouches for an HTML dossier's manifest."""

    code = "RK272"
    hint = N_("a manifest made again after the export, a dossier of another store, or one exported from "
              "a read-only store (its exporter's --json gave the digest); export it again from the store")


class BagViewDisagrees(IntegrityError):
    """A bag's dossier view (recordkeep/summary.json) shows a decision or an act otherwise than
    the journal line the bag carries for it: a fine, its kind or party, an act's time or note.
    The view is made from the store's index; an index edited before the export makes a view
    that its export's digest vouches for all the same, while the lines are proved."""

    code = "RK275"
    hint = N_("the journal lines are what holds: audit the store's index ('log verify --index'), "
              "rebuild it, and export again")


class FoundingKeyOther(IntegrityError):
    """The key a journal roots its trust in (the founding key its ``store.created`` names, or the
    first admin key of a store from before signatures) is not the founding key an auditor gave
    (``log verify --founding-key``): the journal was written again from its first line, under a
    key of its own. A chain and its signatures agree with themselves whoever wrote them; only a
    key known from outside the journal tells."""

    code = "RK274"
    hint = N_("compare the journal with a copy or a checkpoint kept outside the store; the key given "
              "is the one 'key list' printed for the founding key when the store was made")


class DisposedUndue(IntegrityError):
    """A ``record.disposed`` line disposed of a record that, as the journal's lines before it
    say, was marked important, kept, linked to a case or a party, under a hold, or not yet due
    by the months the line names. ``dispose`` refuses each of these, deciding from the journal:
    the line was written by other means (a notice for lines from before signatures; with
    --strict, a failure)."""

    code = "RK273"
    hint = N_("find who signed that batch ('log' around the seq) and what became of the blob; the "
              "record's metadata and digest stay, so 'verify' still names it")


class RemovedUnderHold(IntegrityError):
    """A journal line takes links away (an unlink, or a void of a link) while a hold on their case
    or one of its parties stood, which every release that signs refuses: the check was got
    around (the index edited by hand). Records it took away stay held for dispose while the hold stands (a
    notice for lines from before signatures; with --strict, a failure)."""

    code = "RK262"
    hint = N_("find who signed that batch ('log' around the seq); the line stays in the journal as the "
              "record of it, so link the records again with 'case link' to protect them while the hold "
              "stands")


class OtherStoreCheckpoint(IntegrityError):
    """A checkpoint names another store's origin."""

    code = "RK255"


class NotCovered(IntegrityError):
    """Journal lines after the newest checkpoint: no checkpoint vouches for them yet (a notice)."""

    code = "RK256"


class ProofInvalid(IntegrityError):
    """An inclusion or consistency proof does not lead to the checkpoint's root."""

    code = "RK257"


class VaultDamaged(IntegrityError):
    """A file of the personal-data vault does not parse or decrypt (changed, or moved between parties)."""

    code = "RK258"


class IndexCorrupt(IntegrityError):
    """The index does not follow the journal."""

    code = "RK230"
    hint = N_("run 'recordkeep log verify' to check the journal")


class IndexFoldFailed(IntegrityError):
    """The index cannot fold a journal event; reads answer from the last event folded."""

    code = "RK231"
    hint = N_("run 'recordkeep log verify'; read commands answer from the index as it was before "
            "that event, and nothing can be written until a recordkeep that folds it is installed")


class IndexDamaged(IntegrityError):
    """index.sqlite is not a readable database: it was set aside and is rebuilt from the journal."""

    code = "RK232"
    hint = N_("run the command again: the index is rebuilt from the journal")


class IndexDiffers(IntegrityError):
    """The index says otherwise than the journal about a record or what protects it: it was changed."""

    code = "RK233"
    hint = N_("run 'recordkeep log verify', then 'recordkeep rebuild-index' (the journal decides); "
            "find out who changed index.sqlite")


# 3xx: import and media -------------------------------------------------------
class ImportProblem(RecordkeepError):
    """A file could not be imported (the category: raise a subclass)."""


class SourceNotFound(ImportProblem):
    """A file or folder to import does not exist."""

    code = "RK301"
    hint = N_("check the path")


class SourceUnstable(ImportProblem):
    """A file changed while it was read."""

    code = "RK302"
    hint = N_("the file changed while it was read; stop writing to it and import again")


class SourceUnreadable(ImportProblem):
    """A file to import cannot be read."""

    code = "RK303"
    hint = N_("check the device and permissions, then import again")


class NotARegularFile(ImportProblem):
    """A symlink or special file was listed, not followed."""

    code = "RK304"
    hint = N_("symlinks and special files are listed, never followed")


class MediaDamaged(ImportProblem):
    """A stored file's media is damaged or cut (a notice: its bytes are kept exactly as read)."""

    code = "RK306"


class NothingStored(ImportProblem):
    """Nothing given could be stored (no regular file among the arguments)."""

    code = "RK307"
    hint = N_("give regular files; symlinks and special files are listed, never followed")


class ReadbackMismatch(ImportProblem):
    """The stored copy did not read back equal from the disk."""

    code = "RK305"
    hint = N_("the stored copy did not read back equal; check the store's disk, then import again")


# 4xx: input validation -------------------------------------------------------
class InputError(RecordkeepError):
    """A value given is refused."""

    code = "RK400"


class MalformedInput(InputError):
    """Syntax that does not parse (a date, a stage): the CLI exits 2, as for usage."""

    exit_code = EXIT_USAGE


class InvalidDigest(MalformedInput):
    """Not a digest at all (too short, not hex); an unknown or ambiguous digest is a
    well-formed value refused (RK402, RK403)."""

    code = "RK401"
    hint = N_("give 64 hex digits (optionally 'blake3:'), or a unique prefix of at least 8")


class UnknownRecord(InputError):
    """No record has that digest."""

    code = "RK402"
    hint = N_("'recordkeep search' lists the records in this store")


class AmbiguousDigest(InputError):
    """A digest prefix matches several records."""

    code = "RK403"
    hint = N_("give more hex digits")


class InvalidValue(InputError):
    """A value is not acceptable here."""

    code = "RK404"


class BadTime(MalformedInput):
    """A time that does not parse."""

    code = "RK405"
    hint = N_("write YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], or ISO 8601 with an offset")


class BadStage(MalformedInput):
    """Not a stage."""

    code = "RK406"
    hint = N_("a stage is start|investigate|decide|serve or 启动|调查取证|审核决定|送达执行, or the name "
              "of an act in it (立案, 现场检查, 告知, 送达, ...: docs/rules.md, [acts] in recordkeep.toml)")


class BadPenaltyKind(MalformedInput):
    """Not a penalty kind."""

    code = "RK407"
    hint = N_("a penalty kind is warning|criticize|fine|confiscate|confiscate_income|confiscate_property|"
            "suspend_permit|downgrade|revoke|restrict|suspend|close_down|other or 警告|通报批评|罚款|没收|"
            "没收违法所得|没收非法财物|暂扣许可证件|降低资质等级|吊销许可证|限制开展生产经营活动|限制从业|"
            "责令停产停业|责令关闭|其他")


class BadKind(MalformedInput):
    """Not a record kind."""

    code = "RK408"
    hint = N_("a kind is video|audio|photo|document|other")


class EmptyPath(MalformedInput):
    """An empty path (an unset variable, say): never taken for the current folder."""

    code = "RK409"
    hint = N_("name the file or folder")


class InvalidIdNumber(InputError):
    """A 居民身份证号 failed a check (``check`` names it: length, charset, birth_date, region
    or check_digit)."""

    code = "RK410"
    hint = N_("copy the number again from the identity card (18 characters, last may be X)")

    def __init__(self, message: str, *, check: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.check = check


class InvalidCreditCode(InputError):
    """A 统一社会信用代码 failed a check (``check`` names it: length, charset or check_digit)."""

    code = "RK411"
    hint = N_("copy the code again from the business licence or registration certificate")

    def __init__(self, message: str, *, check: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.check = check


class TimeOutOfRange(InputError):
    """A time outside the window the store accepts ([limits] in recordkeep.toml)."""

    code = "RK412"
    hint = N_("check the year; [limits] earliest and latest in recordkeep.toml set the window")


class Reattribution(InputError):
    """A device assignment whose period covers records already attributed, by the device's
    earlier assignment, to someone else: it would move them to its holder. Given only as
    meant (``reattribute``); each record's chain of custody then shows it."""

    code = "RK484"
    hint = N_("check the handover's date; if it is right, give --reattribute; to correct single records "
              "instead, 'record amend DIGEST --officer CERT --reason ...'")


class DecisionsInForce(InputError):
    """``case void`` of a case's opening, while the case has decisions in force, by a key without
    the records role: the void would take them out of every count, as voiding each would."""

    code = "RK483"
    hint = N_("have it voided by a key with the records role")


class RecordGone(InputError):
    """A hold or a keep of records already disposed of (their bytes not imported again since):
    it would protect nothing, yet read as if it did."""

    code = "RK482"
    hint = N_("'retention show DIGEST' says when it was disposed of; import its bytes again first, if "
              "they are found elsewhere")


class PersonalNumberInText(InputError):
    """Text to be journaled (a title, a note, a reason, a doc type, an address) holds an identity
    number or a mobile number in full: the append-only journal keeps them only masked, the
    values in the vault, so that they can be erased (个人信息保护法)."""

    code = "RK481"
    hint = N_("write the masked form shown, or the party's key (P1); give the number itself to the party "
              "('party add --id-number' or '--phone'), whose vault keeps it erasable")


class InvalidText(InputError):
    """Text with control characters, line breaks, bidi controls or undecodable bytes, or too long."""

    code = "RK413"
    hint = N_("type the text again on one line, without control characters")


class InvalidActor(InputError):
    """Not an actor name (1-64 letters, digits and ._-@, no spaces)."""

    code = "RK414"
    hint = N_("name the actor as user@station: letters, digits and . _ - @, no spaces")


class InvalidPath(InputError):
    """A path that cannot be used here (empty, or inside the store, or the store inside it)."""

    code = "RK415"


class OutOfBounds(InputError):
    """A number outside the range allowed."""

    code = "RK416"


class BadDuration(MalformedInput):
    """A duration that does not parse (``--budget``)."""

    code = "RK417"
    hint = N_("write hours, minutes and seconds such as 90s, 30m, 2h or 1h30m")


class DurationOutOfRange(InputError):
    """A duration that parses but is nothing, or longer than a year (``--budget``)."""

    code = "RK478"
    hint = N_("give a budget from 1s to a year, such as 30m or 8h")


class InvalidOfficer(InputError):
    """Not an officer's certificate number (执法证号)."""

    code = "RK420"
    hint = N_("an officer is named by the 执法证号: letters, digits and '-'")


class InvalidDevice(InputError):
    """Not a device id."""

    code = "RK421"
    hint = N_("a device id is letters, digits, '_', '.' and '-'")


class UnknownParty(InputError):
    """No such party (or not a party of that case)."""

    code = "RK430"
    hint = N_("'recordkeep party list' shows the parties; 'party add' registers one")


class AmbiguousParty(InputError):
    """Several parties have that name."""

    code = "RK431"
    hint = N_("name the party by its key (P12) or identity number")


class PartyExists(InputError):
    """A party with that identity number or unified social credit code is already registered."""

    code = "RK432"


class UnknownCase(InputError):
    """No case has that number."""

    code = "RK440"
    hint = N_("'recordkeep case open' opens a case; check the case number")


class CaseExists(InputError):
    """A case with that number already exists."""

    code = "RK441"
    hint = N_("case numbers are unique; check the number")


class AlreadyDecided(InputError):
    """The case already has a decision of that kind for that party (并处 takes another kind)."""

    code = "RK442"
    hint = N_("one penalty of each kind per party (行政处罚法 art. 29: no second fine for one act); "
            "'case show NO' lists the decisions with their seq")


class InvalidAmount(InputError):
    """Not an amount in yuan."""

    code = "RK443"
    hint = N_("write the amount in yuan, e.g. 2625135.05 (at most two decimals)")


class AmountNotAllowed(InputError):
    """An amount given for a penalty kind that carries no money."""

    code = "RK446"
    hint = N_("--amount goes only with 罚款 (fine), 没收违法所得 (confiscate_income), 没收非法财物 "
            "(confiscate_property) or 没收 (confiscate); decide the other kinds without it")


class PartyNeeded(InputError):
    """The case has several parties: which one was not said."""

    code = "RK444"
    hint = N_("the case has several parties: say which with --party")


class NotLinked(InputError):
    """The record is not linked to that case (or to that party outside a case)."""

    code = "RK445"


class NotHeld(InputError):
    """No hold is in force on that."""

    code = "RK450"
    hint = N_("'recordkeep retention holds' lists the holds in force")


class ExportDestExists(InputError):
    """The export destination exists and is not empty."""

    code = "RK460"
    hint = N_("export into a new or empty folder")


class CaseClosed(InputError):
    """The case is closed (结案): stages, decisions and publication wait until it is reopened."""

    code = "RK470"
    hint = N_("reopen it first ('recordkeep case reopen NO --reason R'); links and scans are still accepted")


class CaseVoided(InputError):
    """The case's opening was voided: it takes no more events."""

    code = "RK471"


class NotVoidable(InputError):
    """The seq names no event of this case that can be voided (a stage, decision, publication,
    close, reopening, link or the opening)."""

    code = "RK472"
    hint = N_("'recordkeep case show NO' prints each event's seq")


class AlreadyVoided(InputError):
    """The event was voided already."""

    code = "RK473"


class NothingToAmend(InputError):
    """``record set`` was given no field, or only the values the record already has."""

    code = "RK474"


class AlreadyClosed(InputError):
    """The case is closed already: a second close is refused."""

    code = "RK475"
    hint = N_("'case show NO' gives when it was closed; a case is closed once")


class AlreadyPublished(InputError):
    """The case was published after every decision that stands (since its last reopening): a
    second publication would only move its date, and is refused."""

    code = "RK479"


class LastAdminKey(InputError):
    """The key is the store's last admin key not revoked: without one no key could ever be
    enrolled or revoked again."""

    code = "RK480"
    hint = N_("enrol another admin's key first ('recordkeep key enrol PUBKEY --actor NAME --role admin'), "
              "then revoke this one")


class AssignmentOverlap(InputError):
    """A device assignment would overlap another assignment of the same device."""

    code = "RK476"
    hint = N_("an assignment may begin where another ends (--from at its --until); a new open-ended one "
            "inside an open-ended assignment ends it there (a handover): a loan for a while is a handover "
            "and another back; 'device list' shows them")


class CaseDateNeeded(InputError):
    """The case number carries another year than this one: its opening date was not given."""

    code = "RK477"
    hint = N_("give the date it was opened (立案): 'case open NO --party P --at 2021-03-15'")


# 5xx: compliance rules -------------------------------------------------------
class ComplianceError(RecordkeepError):
    """A rule forbids what was asked (the category: raise a subclass)."""


class RuleFinding(ComplianceError):
    """A compliance rule broken by a case (a ``check`` finding; exit 4)."""

    exit_code = EXIT_COMPLIANCE


class OnSiteOfficers(RuleFinding):
    """An on-site action names fewer officers than the rule asks."""

    code = "RK501"


class LegalReviewMissing(RuleFinding):
    """A major decision has no legal review (法制审核) before it."""

    code = "RK502"


class CollectiveDiscussionMissing(RuleFinding):
    """A major decision has no collective discussion (集体讨论) before it."""

    code = "RK503"


class AvMissing(RuleFinding):
    """A seizure or forced demolition has no linked audio or video."""

    code = "RK504"


class AvGaps(RuleFinding):
    """A seizure or forced demolition is not recorded throughout."""

    code = "RK505"


class PublicationLate(RuleFinding):
    """A decision was published late, or is overdue."""

    code = "RK506"


class UnknownYear(ComplianceError):
    """The working-day calendar does not know the year, so a day count is unknown."""

    code = "RK507"
    hint = N_("upgrade chinese-calendar (pip install -U chinesecalendar) once the year's "
            "holiday arrangement is published")

    def __init__(self, year: int) -> None:
        super().__init__(_("the working-day calendar does not know the year {year}").format(year=year))
        self.year = year


class StageUnrecorded(RuleFinding):
    """A stage was reached but has no linked record."""

    code = "RK508"


class StagesIncomplete(RuleFinding):
    """A closed case lacks stages."""

    code = "RK509"


class ReviewUndated(RuleFinding):
    """A review document has no date, so it cannot be shown to come before the decision."""

    code = "RK510"


class DecidedBeforeOpening(RuleFinding):
    """A decision is dated before the case was opened (立案)."""

    code = "RK530"


class PublishedBeforeDecision(RuleFinding):
    """The publication (公示) is dated before a decision it should publish."""

    code = "RK531"


class ClosedBeforeDecision(RuleFinding):
    """The case is closed (结案) before a decision of it is dated."""

    code = "RK532"


class ClosedBeforeOpening(RuleFinding):
    """The case is closed (结案) before it was opened (立案)."""

    code = "RK533"


class UnregisteredOfficer(RuleFinding):
    """An officer named in the case (at opening, in a stage, on a linked record) is not registered."""

    code = "RK534"


class CaseYearMismatch(RuleFinding):
    """A notice: the year in the case number (〔2021〕) is not the year of its decision."""

    code = "RK535"


class DisposalRefused(ComplianceError):
    """Some records may not be disposed of; nothing was. ``refusals`` lists
    (digest, reason, detail); the code is the reason's own when every refused record has the
    same reason."""

    code = "RK520"
    hint = N_("dispose only what 'recordkeep retention due' lists; nothing was disposed of")

    def __init__(self, refusals: list[tuple[str, str, str]]) -> None:
        reasons = {reason for _, reason, _ in refusals}
        mixed = len(reasons) > 1
        listed = "; ".join(f"{d[:12]} {detail}" + (f" ({REFUSALS[reason].code})" if mixed else "")
                           for d, reason, detail in refusals)
        records = len({d for d, _, _ in refusals})
        super().__init__(_("{records} record(s) may not be disposed of: {listed}").format(
            records=records, listed=listed))
        self.refusals = refusals
        if not mixed:
            self.code = REFUSALS[reasons.pop()].code


class NotDue(DisposalRefused):
    """The record's retention period has not ended."""

    code = "RK521"


class LinkedRecord(DisposalRefused):
    """The record is linked to a case or a party (permanent)."""

    code = "RK522"


class ImportantRecord(DisposalRefused):
    """The record was marked important on the camera (permanent)."""

    code = "RK523"


class KeptRecord(DisposalRefused):
    """A clerk marked the record permanent."""

    code = "RK524"


class HeldRecord(DisposalRefused):
    """A legal hold covers the record."""

    code = "RK525"


class AlreadyDisposed(DisposalRefused):
    """The record was disposed of already."""

    code = "RK526"


class HeldLink(ComplianceError):
    """A legal hold covers the link: it stays while the hold stands."""

    code = "RK528"
    hint = N_("release the hold first ('recordkeep release'), if the court or reviewing body allows")


class HeldParty(ComplianceError):
    """A legal hold covers the party (or one of its cases): its personal data stay while it stands."""

    code = "RK529"
    hint = N_("release the hold first ('recordkeep release'), if the court or reviewing body allows")


class LockedRecord(DisposalRefused):
    """The bucket's Object Lock keeps the record's blob."""

    code = "RK527"


#: Why a record may not be disposed of: reason -> its class (and code).
REFUSALS: dict[str, type[DisposalRefused]] = {
    "not_due": NotDue, "linked": LinkedRecord, "important": ImportantRecord, "kept": KeptRecord,
    "held": HeldRecord, "disposed": AlreadyDisposed, "locked": LockedRecord,
}


def _classes() -> list[type[RecordkeepError]]:
    found, todo = [], [RecordkeepError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def table() -> list[tuple[str, str, str, int]]:
    """Every code defined here, sorted: (code, class name, one-line meaning, exit code)."""
    rows = []
    for cls in _classes():
        if "code" in vars(cls) and cls is not RecordkeepError:
            meaning = " ".join((cls.__doc__ or "").split())
            rows.append((cls.code, cls.__name__, meaning, cls.exit_code))
    return sorted(rows)


def markdown() -> str:
    """docs/errors.md: the table of codes."""
    lines = ["# Error and finding codes", "",
             "Generated from `recordkeep/errors.py` by `errors.markdown()`;",
             "tests/test_layout.py keeps it current.",
             "Exit codes: 1 error, 2 usage, 3 integrity problem, 4 compliance rule broken.", "",
             "| code | name | meaning | exit |", "|---|---|---|---|"]
    lines += [f"| {code} | {name} | {meaning} | {exit_code} |" for code, name, meaning, exit_code in table()]
    return "\n".join(lines) + "\n"
