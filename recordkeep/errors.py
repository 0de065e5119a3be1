"""The RecordkeepError tree: every expected failure has a stable ``RK`` code.

1xx store and configuration, 2xx integrity, 3xx import and media,
4xx input validation, 5xx compliance rules.  ``str(error)`` is one line:
code, what happened, which file, what to do.
"""

from __future__ import annotations

import os


class RecordkeepError(Exception):
    """Base of every expected error; ``code`` is stable across releases."""

    code = "RK100"
    hint = ""

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
            parts.append(f"file: {self.path!r}" if "\n" in self.path else f"file: {self.path}")
        if self.hint:
            parts.append(self.hint)
        return " | ".join(parts)


# 1xx: store and configuration ------------------------------------------------
class StoreError(RecordkeepError):
    code = "RK100"


class NotAStore(StoreError):
    code = "RK101"
    hint = "run 'recordkeep --store PATH init' to create a store, or pass the right --store"


class StoreExists(StoreError):
    code = "RK102"
    hint = "this folder already holds a store; use it as it is"


class ReadOnlyStore(StoreError):
    code = "RK103"
    hint = "the store is read-only; read commands work, writes need a writable copy"


class ConfigError(StoreError):
    code = "RK104"
    hint = "fix recordkeep.toml"


class StoreFull(StoreError):
    code = "RK105"
    hint = "free space on the store's disk, then run the same command again"


class StoreIOError(StoreError):
    code = "RK106"
    hint = "check the disk and its permissions, then run the same command again"


class ToolMissing(StoreError):
    code = "RK107"
    hint = "install ffmpeg (apt-get install -y ffmpeg) or set RECORDKEEP_FFPROBE"


class BackendAuth(StoreError):
    """The object store refused the credentials (or none were found)."""

    code = "RK108"
    hint = ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE / ~/.aws/credentials) "
            "to a key the object store accepts")


class BackendUnavailable(StoreError):
    """The object store cannot be reached (down, wrong endpoint, network)."""

    code = "RK109"
    hint = ("check that the object store is up and the endpoint in recordkeep.toml is right, "
            "then run the same command again")


class BackendError(StoreError):
    """The object store answered with an error recordkeep does not expect."""

    code = "RK110"
    hint = "check the bucket and its permissions, then run the same command again"


class BlobLocked(StoreError):
    """Object Lock (WORM) keeps a blob until its retention date: it cannot be removed yet."""

    code = "RK111"
    hint = "the bucket's Object Lock keeps this blob until the date shown: dispose of it again after that"


# 2xx: integrity --------------------------------------------------------------
class IntegrityError(RecordkeepError):
    code = "RK200"
    hint = "run 'recordkeep log verify' and 'recordkeep verify'; do not edit the store by hand"


class JournalCorrupt(IntegrityError):
    code = "RK201"


class HeadMoved(IntegrityError):
    code = "RK202"
    hint = "another writer appended first; re-read the head and retry"


class HeadNotFound(IntegrityError):
    code = "RK224"
    hint = "the journal does not contain that head: it was cut or rewritten"


class IndexCorrupt(IntegrityError):
    code = "RK230"
    hint = "run 'recordkeep rebuild-index'"


# 3xx: import and media -------------------------------------------------------
class ImportProblem(RecordkeepError):
    code = "RK300"


class SourceNotFound(ImportProblem):
    code = "RK301"
    hint = "check the path"


class SourceUnstable(ImportProblem):
    code = "RK302"
    hint = "the file changed while it was read; stop writing to it and import again"


class SourceUnreadable(ImportProblem):
    code = "RK303"
    hint = "check the device and permissions, then import again"


class NotARegularFile(ImportProblem):
    code = "RK304"
    hint = "symlinks and special files are listed, never followed"


class ReadbackMismatch(ImportProblem):
    code = "RK305"
    hint = "the stored copy did not read back equal; check the store's disk, then import again"


# 4xx: input validation -------------------------------------------------------
class InputError(RecordkeepError):
    code = "RK400"


class MalformedInput(InputError):
    """Syntax that does not parse (a date, a stage): the CLI exits 2, as for usage."""

    code = "RK405"


class InvalidDigest(MalformedInput):
    """Not a digest at all (too short, not hex): the CLI exits 2; an unknown or
    ambiguous digest is a well-formed value refused (RK402, RK403: exit 1)."""

    code = "RK401"
    hint = "give 64 hex digits (optionally 'blake3:'), or a unique prefix of at least 8"


class UnknownRecord(InputError):
    code = "RK402"
    hint = "'recordkeep search' lists the records in this store"


class AmbiguousDigest(InputError):
    code = "RK403"
    hint = "give more hex digits"


class InvalidValue(InputError):
    code = "RK404"


class InvalidIdNumber(InputError):
    """A 居民身份证号 failed a check; ``check`` names it: length, charset,
    birth_date, region or check_digit."""

    code = "RK410"
    hint = "copy the number again from the identity card (18 characters, last may be X)"

    def __init__(self, message: str, *, check: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.check = check


class InvalidCreditCode(InputError):
    """A 统一社会信用代码 failed a check; ``check`` names it: length, charset
    or check_digit."""

    code = "RK411"
    hint = "copy the code again from the business licence or registration certificate"

    def __init__(self, message: str, *, check: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.check = check


# 5xx: compliance rules -------------------------------------------------------
class ComplianceError(RecordkeepError):
    code = "RK500"
