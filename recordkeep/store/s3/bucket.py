"""The bucket behind an S3 store: where it is, a client, Object Lock, and RK errors.

A store on S3-compatible object storage (SeaweedFS, MinIO, Ceph, AWS) is a local
folder holding ``recordkeep.toml`` and this workstation's ``index.sqlite``, and a
bucket prefix holding the blobs (``objects/blake3/ab/cd/<hex>``), the journal
(``journal/<seq>.json``) and a copy of the shared settings (``recordkeep.toml``).
recordkeep.toml's ``[backend]`` table says where the bucket is; credentials come
from the usual AWS places (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, ``~/.aws``) and are never written to the store.

boto3 is the client: it signs with SigV4, retries what is safe to retry, pools
connections across threads, and (1.36+, pinned in pyproject.toml) sends ``If-None-Match`` on ``put_object``
and ``complete_multipart_upload``, the conditional create the journal relies on.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ... import errors
from ...i18n import N_, _

SCHEME = "s3://"
DEFAULT_REGION = "us-east-1"
DEFAULT_BLOB_LOCK_DAYS = 183  # about the default ordinary retention (6 months)
DEFAULT_JOURNAL_LOCK_DAYS = 3650  # the journal is the audit trail: kept for years
DEFAULT_PERMANENT_LOCK_DAYS = 36500  # a permanent record's blob: a century after its import
MAX_LOCK_DAYS = 365_000  # beyond this a retain-until date no longer fits a datetime
DOWN_SECONDS = 10.0  # after botocore's own retries gave up, fail fast for this long
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
AUTH_CODES = frozenset({"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "InvalidToken",
                        "ExpiredToken", "InvalidSecurity", "AuthorizationHeaderMalformed", "403",
                        "Forbidden", "InvalidClientTokenId", "UnrecognizedClientException"})


@dataclass(frozen=True)
class Location:
    """``s3://BUCKET/PREFIX``: a bucket and a key prefix (empty, or ending in ``/``)."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> Location:
        if not url.startswith(SCHEME):
            raise errors.InvalidValue(_("a backend is s3://BUCKET/PREFIX, not {url!r}").format(url=url))
        bucket, _slash, prefix = url[len(SCHEME):].partition("/")
        if not _BUCKET.fullmatch(bucket):
            raise errors.InvalidValue(_("not a valid bucket name: {bucket!r} (3-63 of a-z 0-9 . -)").format(
                bucket=bucket))
        prefix = prefix.strip("/")
        if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
            raise errors.InvalidValue(_("not a valid key prefix: {prefix!r}").format(prefix=prefix))
        return cls(bucket, prefix + "/" if prefix else "")

    def url(self, rel: str = "") -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}{rel}"


def backend_text(location: Location, endpoint: str | None, region: str | None) -> str:
    """The ``[backend]`` table of a workstation's recordkeep.toml (never credentials)."""
    lines = ["", "# where the blobs and the journal live; credentials come from AWS_ACCESS_KEY_ID /",
             "# AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws, never from this file", "[backend]",
             'type = "s3"', f'url = "{location.url()}"']
    if endpoint:
        lines.append(f'endpoint = "{endpoint}"')
    if region:
        lines.append(f'region = "{region}"')
    return "\n".join(lines) + "\n"


def worm_text() -> str:
    """The ``[worm]`` table written at init (shared through the bucket's settings copy)."""
    return ("\n# Object Lock (WORM): when the bucket has it, blobs and journal objects are written\n"
            "# in COMPLIANCE mode, kept from deletion and overwriting for this many days\n"
            "[worm]\n"
            f"blob_days = {DEFAULT_BLOB_LOCK_DAYS}\n"
            f"journal_days = {DEFAULT_JOURNAL_LOCK_DAYS}\n"
            "# a record that becomes permanent has its blob's lock lengthened to this many days\n"
            "# after its import ('recordkeep retention lock'; a lock is never shortened)\n"
            f"permanent_days = {DEFAULT_PERMANENT_LOCK_DAYS}\n")


def lock_days(worm: dict, key: str, default: float, where: str) -> float:
    """A ``[worm]`` period in days: a number above 0, fractions allowed (``0.5`` is 12 hours,
    which a test bucket uses to see a lock run out)."""
    value = worm.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= MAX_LOCK_DAYS:
        raise errors.ConfigError(_("[worm] {key} must be a number of days above 0 (fractions allowed), "
                                   "not {value!r}").format(key=key, value=value), path=where)
    return value


def error_code(exc: BaseException) -> tuple[str, int]:
    """(S3 error code, HTTP status) of a botocore ClientError, else ("", 0)."""
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def is_missing(exc: BaseException) -> bool:
    code, status = error_code(exc)
    return status == 404 or code in ("NoSuchKey", "NotFound", "404")


def is_precondition_failed(exc: BaseException) -> bool:
    code, status = error_code(exc)
    return status == 412 or code in ("PreconditionFailed", "ConditionalRequestConflict")


def translate(exc: BaseException, what: str, where: str) -> errors.RecordkeepError:
    """A botocore exception as a one-line RecordkeepError."""
    from botocore import exceptions as bx

    what = _(what)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return errors.BackendAuth(_("no credentials for the object store were found while {what}").format(
            what=what), path=where)
    if isinstance(exc, bx.ClientError):
        code, status = error_code(exc)
        if code in AUTH_CODES or status == 403:
            return errors.BackendAuth(_("the object store refused the credentials ({code}) while {what}")
                                      .format(code=code or status, what=what), path=where)
        if code == "NoSuchBucket":
            return errors.BackendError(_("the bucket does not exist while {what}").format(what=what),
                                       path=where,
                                       hint=_("create the bucket (with Object Lock for WORM), or fix the "
                                              "url in recordkeep.toml's [backend]"))
        message = str(exc.response.get("Error", {}).get("Message", "")).replace("\n", " ")[:200]
        return errors.BackendError(_("the object store answered {code} while {what}: {message}").format(
            code=code or status, what=what, message=message), path=where)
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, bx.BotoCoreError | OSError):
        return errors.BackendUnavailable(_("cannot reach the object store while {what}: {error}").format(
            what=what, error=text), path=where)
    return errors.BackendError(_("{error} while {what}: {message}").format(
        error=type(exc).__name__, what=what, message=text), path=where)


class Bucket:
    """A bucket prefix reached through one boto3 client (shared by threads)."""

    def __init__(self, location: Location, *, endpoint: str | None = None, region: str | None = None,
                 profile: str | None = None, blob_lock_days: float = DEFAULT_BLOB_LOCK_DAYS,
                 journal_lock_days: float = DEFAULT_JOURNAL_LOCK_DAYS) -> None:
        self.location = location
        self.endpoint = endpoint
        self.blob_lock_days = blob_lock_days
        self.journal_lock_days = journal_lock_days
        self._client = None
        self._region = region
        self._profile = profile
        self._lock = threading.Lock()
        self._object_lock: bool | None = None
        self._down_until = 0.0

    @classmethod
    def from_settings(cls, backend: dict, worm: dict, where: str) -> Bucket:
        url = backend.get("url")
        if not isinstance(url, str):
            raise errors.ConfigError(_("recordkeep.toml's [backend] has no url = \"s3://BUCKET/PREFIX\""),
                                     path=where)
        try:
            location = Location.parse(url)
        except errors.InputError as exc:
            raise errors.ConfigError(exc.message, path=where) from exc
        days = {}
        for key, default in (("blob_days", DEFAULT_BLOB_LOCK_DAYS),
                             ("journal_days", DEFAULT_JOURNAL_LOCK_DAYS)):
            days[key] = lock_days(worm, key, default, where)
        return cls(location, endpoint=backend.get("endpoint"), region=backend.get("region"),
                   profile=backend.get("profile"), blob_lock_days=days["blob_days"],
                   journal_lock_days=days["journal_days"])

    # -- the client ----------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self):
        import boto3
        from botocore.config import Config

        try:
            session = boto3.session.Session(profile_name=self._profile)
        except Exception as exc:  # ProfileNotFound and friends
            raise errors.BackendAuth(_("the AWS profile {profile!r} cannot be used: {error}").format(
                profile=self._profile, error=exc)) from exc
        config = Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                        retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                        read_timeout=120, max_pool_connections=32, tcp_keepalive=True)
        return session.client("s3", endpoint_url=self.endpoint, config=config,
                              region_name=self._region or session.region_name or DEFAULT_REGION)

    # -- names -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.location.bucket

    def key(self, rel: str) -> str:
        return self.location.prefix + rel

    def url(self, rel: str = "") -> str:
        return self.location.url(rel)

    @contextmanager
    def guard(self, what: str, rel: str = "") -> Iterator[None]:
        """Turn botocore's exceptions raised inside into RecordkeepErrors."""
        from botocore import exceptions as bx

        if time.monotonic() < self._down_until:  # one unreachable store, not one wait per file
            raise errors.BackendUnavailable(_("cannot reach the object store while {what} "
                                              "(it did not answer a moment ago)").format(what=_(what)),
                                            path=self.url(rel))
        try:
            yield
        except (bx.BotoCoreError, bx.ClientError) as exc:
            error = translate(exc, what, self.url(rel))
            if isinstance(error, errors.BackendUnavailable):
                self._down_until = time.monotonic() + DOWN_SECONDS
            raise error from exc

    # -- what the bucket can do --------------------------------------------------------------
    def check(self) -> None:
        """Raise a clear error when the bucket cannot be reached with these credentials."""
        from botocore.exceptions import ClientError

        with self.guard(N_("opening the bucket")):
            try:
                self.client.head_bucket(Bucket=self.name)
            except ClientError as exc:
                if error_code(exc)[1] != 404:
                    raise
                raise errors.BackendError(_("the bucket does not exist"), path=self.url(),
                                          hint=_("create it first (with Object Lock enabled for WORM), "
                                                 "or give the right s3://BUCKET/PREFIX")) from exc

    @property
    def object_lock(self) -> bool:
        """Whether the bucket has Object Lock enabled (asked once)."""
        if self._object_lock is None:
            from botocore.exceptions import ClientError

            with self.guard(N_("reading the bucket's Object Lock configuration")):
                try:
                    conf = self.client.get_object_lock_configuration(Bucket=self.name)
                except ClientError as exc:
                    code, status = error_code(exc)
                    if "ObjectLockConfiguration" not in code and status != 404:
                        raise
                    conf = {}
            self._object_lock = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
        return self._object_lock

    def lock_args(self, days: float) -> dict:
        """``put_object`` / ``create_multipart_upload`` arguments for a COMPLIANCE retention."""
        if not self.object_lock:
            return {}
        until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
        return {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until}
