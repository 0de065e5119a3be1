"""Blobs in an S3 bucket: ``PREFIX/objects/blake3/ab/cd/<64 hex>``, written once.

A blob's name is its digest, known only after the last byte is read, and S3 has
no rename. So ``put_fd`` reads the source once, hashing it while it spools the
bytes to ``tmp/`` in the local store folder (a page-cache write, no fsync: it is
only a staging copy), then asks whether the bucket already has that digest (an
object that exists is not uploaded again) and uploads the spool with
``If-None-Match: *``: a single PUT for small blobs, a multipart upload with parts
sent in parallel for large ones (memory: parts in flight x part size). Two
stations storing the same bytes at once: one wins, the other gets 412 and counts
the blob as present. With Object Lock on the bucket every blob is written in
COMPLIANCE mode with a retain-until date (``[worm] blob_days``); ``extend_lock`` lengthens it
for permanent records and ``locked_until`` tells retention whether a blob may go yet.

The last spools are kept a little while (``SPOOL_KEEP``) so that probing a blob just
stored reads the local copy instead of downloading it again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ... import errors
from ...i18n import N_, _
from ..fs import os_error, temp_name
from ..hashing import AlignedBuffer, hash_fd, hash_stream, new_hasher
from ..objects import ALGO, HEX64, OBJECTS, TMP, PutResult, StoredFile
from .bucket import Bucket, is_missing, is_precondition_failed

PART_SIZE = 16 * 1024 * 1024  # multipart part size, and the single-PUT limit
PART_WORKERS = 4  # parts (or ranged reads) in flight per blob
RANGE_SIZE = 16 * 1024 * 1024  # ranged reads when hashing a stored blob
SPOOL_KEEP = 12  # recent spools kept for probes
SPOOL_KEEP_BYTES = 8 * 1024 * 1024 * 1024
MANY = 5000  # from this many digests on, sizes() lists the bucket instead of asking each
_NAME = re.compile(r"objects/blake3/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")


class _Spool:
    """Writes chunks fully to the staging file."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, chunk: memoryview) -> None:
        while chunk:
            n = os.write(self.fd, chunk)
            chunk = chunk[n:]


class S3Objects:
    """Blobs in a bucket; staging and probe copies in the local store folder's tmp/."""

    def __init__(self, root: str | os.PathLike, bucket: Bucket, *, part_size: int = PART_SIZE) -> None:
        self.root = Path(root)
        self.tmp = self.root / TMP
        self.bucket = bucket
        self.part_size = max(5 * 1024 * 1024, part_size)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._spools: OrderedDict[str, tuple[Path, int]] = OrderedDict()
        self._spool_lock = threading.Lock()

    # -- names -----------------------------------------------------------------------------
    def relpath(self, digest: str) -> str:
        return f"{OBJECTS}/{ALGO}/{digest[:2]}/{digest[2:4]}/{digest}"

    def key(self, digest: str) -> str:
        return self.bucket.key(self.relpath(digest))

    def location(self, digest: str) -> str:
        return self.bucket.url(self.relpath(digest))

    def mmap_path(self, digest: str) -> Path | None:
        return None

    def read_ahead(self, digest: str) -> None:
        pass  # hash_stored reads ranges in parallel already

    def forget_ahead(self, digest: str, *, settle: bool = True) -> None:
        pass

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=2 * PART_WORKERS,
                                                    thread_name_prefix="s3-part")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._spool_lock:
            for path, _ in self._spools.values():
                with contextlib.suppress(OSError):
                    os.unlink(path)
            self._spools.clear()

    # -- asking ----------------------------------------------------------------------------
    def size(self, digest: str) -> int | None:
        from botocore.exceptions import ClientError

        rel = self.relpath(digest)
        with self.bucket.guard(N_("looking a blob up"), rel):
            try:
                head = self.bucket.client.head_object(Bucket=self.bucket.name, Key=self.key(digest))
            except ClientError as exc:
                if is_missing(exc):
                    return None
                raise
        return int(head["ContentLength"])

    def exists(self, digest: str) -> bool:
        return self.size(digest) is not None

    def sizes(self, digests: Iterable[str]) -> dict[str, int | OSError | None]:
        wanted = list(dict.fromkeys(digests))
        if len(wanted) >= MANY:
            listed = {f.digest: f.size for f in self.iterate() if f.digest}
            return {d: listed.get(d) for d in wanted}
        return dict(zip(wanted, self.pool.map(self.size, wanted), strict=True))

    def iterate(self) -> Iterator[StoredFile]:
        """Every object under ``PREFIX/objects/`` (listing order is key order: sorted)."""
        prefix = self.bucket.key(OBJECTS + "/")
        skip = len(self.bucket.location.prefix)
        with self.bucket.guard(N_("listing the blobs"), OBJECTS + "/"):
            pages = self.bucket.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket.name, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", ()):
                    rel = item["Key"][skip:]
                    m = _NAME.fullmatch(rel)
                    valid = m and m.group(1) == m.group(3)[:2] and m.group(2) == m.group(3)[2:4]
                    yield StoredFile(rel, m.group(3) if valid else None, int(item["Size"]))

    # -- storing ---------------------------------------------------------------------------
    def put_fd(self, src_fd: int, *, buffer: AlignedBuffer | None = None, reread: bool = False,
               accept: Callable[[str, int], None] | None = None) -> PutResult:
        """Hash ``src_fd`` while spooling it (the one read), then upload unless present;
        ``accept`` may refuse the bytes before they are uploaded.

        ``reread`` is not done here: ``readback`` reads the object back from the bucket.
        """
        spool = self.tmp / temp_name(".part")
        try:
            out = os.open(spool, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise os_error(exc, N_("creating a staging file"), spool) from exc
        kept = False
        try:
            try:
                digest, size, _ = hash_fd(src_fd, buffer=buffer, sink=_Spool(out).write)
            except OSError as exc:
                raise os_error(exc, N_("staging a blob"), spool) from exc
            if accept is not None:
                accept(digest, size)
            new = not self.exists(digest) and self._upload(out, size, digest)
            kept = self._keep_spool(spool, digest, size)
            return PutResult(digest, size, new)
        finally:
            os.close(out)
            if not kept:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(spool)

    def _upload(self, fd: int, size: int, digest: str, *, create_only: bool = True) -> bool:
        """Upload the spool as the blob; False when another writer created it first."""
        from botocore.exceptions import ClientError

        rel = self.relpath(digest)
        lock = self.bucket.lock_args(self.bucket.blob_lock_days)
        condition = {"IfNoneMatch": "*"} if create_only else {}
        client, name, key = self.bucket.client, self.bucket.name, self.key(digest)
        with self.bucket.guard(N_("uploading a blob"), rel):
            try:
                if size <= self.part_size:
                    client.put_object(Bucket=name, Key=key, Body=os.pread(fd, size, 0) if size else b"",
                                      **condition, **lock)
                    return True
                self._multipart(fd, size, key, lock, condition)
                return True
            except ClientError as exc:
                if is_precondition_failed(exc):
                    return False
                raise

    def _multipart(self, fd: int, size: int, key: str, lock: dict, condition: dict) -> None:
        client, name = self.bucket.client, self.bucket.name
        upload = client.create_multipart_upload(Bucket=name, Key=key, **lock)["UploadId"]
        try:
            def part(number: int) -> dict:
                offset = (number - 1) * self.part_size
                body = os.pread(fd, min(self.part_size, size - offset), offset)
                answer = client.upload_part(Bucket=name, Key=key, UploadId=upload, PartNumber=number,
                                            Body=body)
                return {"PartNumber": number, "ETag": answer["ETag"]}

            count = -(-size // self.part_size)
            parts = list(bounded_map(self.pool, part, range(1, count + 1), PART_WORKERS))
            client.complete_multipart_upload(Bucket=name, Key=key, UploadId=upload, **condition,
                                             MultipartUpload={"Parts": parts})
        except BaseException:
            with contextlib.suppress(Exception):
                client.abort_multipart_upload(Bucket=name, Key=key, UploadId=upload)
            raise

    def _keep_spool(self, spool: Path, digest: str, size: int) -> bool:
        """Keep the spool for a probe of this digest; drop the oldest beyond the limits."""
        target = self.tmp / f"{os.getpid()}-{digest}.spool"
        try:
            os.replace(spool, target)
        except OSError:
            return False
        with self._spool_lock:
            old = self._spools.pop(digest, None)
            if old and old[0] != target:
                with contextlib.suppress(OSError):
                    os.unlink(old[0])
            self._spools[digest] = (target, size)
            while len(self._spools) > 1 and (len(self._spools) > SPOOL_KEEP or sum(
                    s for _, s in self._spools.values()) > SPOOL_KEEP_BYTES):
                _, (path, _) = self._spools.popitem(last=False)
                with contextlib.suppress(OSError):
                    os.unlink(path)
        return True

    # -- reading ---------------------------------------------------------------------------
    @contextmanager
    def open(self, digest: str) -> Iterator[BinaryIO]:
        from botocore.exceptions import ClientError

        rel = self.relpath(digest)
        with self.bucket.guard(N_("reading a blob"), rel):
            try:
                answer = self.bucket.client.get_object(Bucket=self.bucket.name, Key=self.key(digest))
            except ClientError as exc:
                if is_missing(exc):
                    raise errors.StoreIOError("blob is missing", path=self.location(digest)) from exc
                raise
            body = answer["Body"]
            try:
                yield _Reader(body, self.bucket, rel)
            finally:
                body.close()

    @contextmanager
    def local_file(self, digest: str) -> Iterator[Path]:
        """The kept spool when there is one (linked, so eviction cannot pull it away), else a
        download into tmp/; removed when the context ends."""
        private = self.tmp / temp_name(".get")
        with self._spool_lock:
            kept = self._spools.get(digest)
            linked = False
            if kept:
                try:
                    os.link(kept[0], private)
                    linked = True
                except OSError:
                    linked = False
        try:
            if not linked:
                with self.open(digest) as src, open(private, "wb") as out:
                    shutil.copyfileobj(src, out, RANGE_SIZE)
            yield private
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(private)

    def hash_stored(self, digest: str) -> tuple[str, int]:
        """Hash the object as the bucket serves it: ranged GETs in parallel, fed in order."""
        size = self.size(digest)
        if size is None:
            raise errors.StoreIOError("blob is missing", path=self.location(digest))
        if size <= RANGE_SIZE:
            with self.open(digest) as src:
                digest_read, total, _ = hash_stream(src)
            return digest_read, total
        hasher = new_hasher()
        rel = self.relpath(digest)

        def fetch(offset: int) -> bytes:
            end = min(offset + RANGE_SIZE, size) - 1
            with self.bucket.guard(N_("reading a blob"), rel):
                answer = self.bucket.client.get_object(Bucket=self.bucket.name, Key=self.key(digest),
                                                       Range=f"bytes={offset}-{end}")
                return answer["Body"].read()

        total = 0
        for data in bounded_map(self.pool, fetch, range(0, size, RANGE_SIZE), PART_WORKERS):
            hasher.update(data)
            total += len(data)
        return hasher.hexdigest(), total

    def readback(self, digest: str) -> tuple[str, int]:
        """Read the stored object back from the bucket and hash it (import's read-back).

        An object that does not read back equal (a server that crashed while storing it
        can keep a name whose data it lost) is stored again from the spool of the same
        bytes this process still holds, and read back once more. Bytes that hash to the
        name replace bytes that do not; with Object Lock the broken version stays too.
        """
        try:
            got = self.hash_stored(digest)
        except (errors.BackendError, errors.StoreIOError):
            got = None
        if got is not None and got[0] == digest:
            return got
        with self._spool_lock:
            kept = self._spools.get(digest)
        try:
            fd = os.open(kept[0], os.O_RDONLY | os.O_CLOEXEC) if kept else None
        except OSError:
            fd = None
        if fd is None:
            return got if got is not None else self.hash_stored(digest)
        try:
            self._upload(fd, os.fstat(fd).st_size, digest, create_only=False)
        finally:
            os.close(fd)
        return self.hash_stored(digest)

    # -- Object Lock -----------------------------------------------------------------------
    def _versions(self, digest: str) -> list[str]:
        """The ids of the blob's stored versions (delete markers hold no bytes and no lock)."""
        key = self.key(digest)
        answer = self.bucket.client.list_object_versions(Bucket=self.bucket.name, Prefix=key)
        return [v["VersionId"] for v in answer.get("Versions", []) if v["Key"] == key]

    def _retained(self, digest: str, version: str) -> datetime | None:
        """One version's retain-until date (UTC), None when it carries none."""
        from botocore.exceptions import ClientError

        try:
            answer = self.bucket.client.get_object_retention(Bucket=self.bucket.name, Key=self.key(digest),
                                                             VersionId=version)
        except ClientError as exc:
            if is_missing(exc) or "ObjectLock" in _code(exc)[0]:
                return None
            raise
        return answer["Retention"]["RetainUntilDate"].astimezone(UTC)

    @property
    def object_lock(self) -> bool:
        return self.bucket.object_lock

    def locked_until(self, digest: str) -> datetime | None:
        """The latest retain-until date of the blob's versions, when it is still ahead."""
        if not self.bucket.object_lock:
            return None
        with self.bucket.guard(N_("reading a blob's Object Lock"), self.relpath(digest)):
            dates = [d for v in self._versions(digest) if (d := self._retained(digest, v)) is not None]
        latest = max(dates, default=None)
        return latest if latest is not None and latest > datetime.now(UTC) else None

    def extend_lock(self, digest: str, until: datetime) -> datetime | None:
        """Lengthen the COMPLIANCE retention of every version held for less than ``until``
        (PutObjectRetention: COMPLIANCE may be lengthened, never shortened)."""
        if not self.bucket.object_lock:
            return None
        until = until.astimezone(UTC).replace(microsecond=0)
        extended = False
        with self.bucket.guard(N_("extending a blob's Object Lock"), self.relpath(digest)):
            for version in self._versions(digest):
                current = self._retained(digest, version)
                if current is None or current < until:
                    self.bucket.client.put_object_retention(
                        Bucket=self.bucket.name, Key=self.key(digest), VersionId=version,
                        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until})
                    extended = True
        return until if extended else None

    # -- disposal --------------------------------------------------------------------------
    def dispose(self, digest: str) -> bool:
        """Remove every version of the blob (Object Lock refuses while it is retained)."""
        from botocore.exceptions import ClientError

        if not HEX64.fullmatch(digest):
            raise ValueError(f"not a hex digest: {digest!r}")
        client, name, key, rel = self.bucket.client, self.bucket.name, self.key(digest), self.relpath(digest)
        removed = False
        with self.bucket.guard(N_("disposing of a blob"), rel):
            versions = client.list_object_versions(Bucket=name, Prefix=key)
            found = [(v["Key"], v.get("VersionId")) for v in
                     versions.get("Versions", []) + versions.get("DeleteMarkers", []) if v["Key"] == key]
            if not found and self.exists(digest):
                found = [(key, None)]
            for k, version in found:
                try:
                    if version and version != "null":
                        client.delete_object(Bucket=name, Key=k, VersionId=version)
                    else:
                        client.delete_object(Bucket=name, Key=k)
                    removed = True
                except ClientError as exc:
                    code, status = _code(exc)
                    if status == 403 or code == "AccessDenied":
                        until = _until(client, name, k, version)
                        message = (_("Object Lock keeps this blob until {date}").format(date=until) if until
                                   else _("Object Lock keeps this blob"))
                        raise errors.BlobLocked(message, path=self.location(digest)) from exc
                    raise
        return removed and not self.exists(digest)


def _code(exc: BaseException) -> tuple[str, int]:
    from .bucket import error_code

    return error_code(exc)


def _until(client, name: str, key: str, version: str | None) -> str:
    try:
        args = {"VersionId": version} if version and version != "null" else {}
        retention = client.get_object_retention(Bucket=name, Key=key, **args)["Retention"]
        return retention["RetainUntilDate"].isoformat()
    except Exception:
        return ""


class _Reader:
    """A stored object's bytes as a plain stream (``read(n)``), errors as RK errors."""

    def __init__(self, body, bucket: Bucket, rel: str) -> None:
        self.body = body
        self.bucket = bucket
        self.rel = rel

    def read(self, n: int = -1) -> bytes:
        with self.bucket.guard(N_("reading a blob"), self.rel):
            return self.body.read(None if n is None or n < 0 else n)

    def close(self) -> None:
        self.body.close()


def bounded_map(pool: ThreadPoolExecutor, fn, items: Iterable, window: int) -> Iterator:
    """``pool.map`` with at most ``window`` calls in flight, results in order (constant memory)."""
    pending: deque[Future] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for f in pending:
            f.cancel()
