"""Checkpoints in a bucket: the ``checkpoints/`` key beside ``journal/``, each object created
once (``If-None-Match: *``) and, when the bucket has Object Lock, kept as long as journal
objects."""

from __future__ import annotations

from ...i18n import N_
from ..checkpoints import FOLDER, size_of
from .bucket import Bucket, is_missing, is_precondition_failed

PREFIX = FOLDER + "/"


class S3Checkpoints:
    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self.location = bucket.url(FOLDER)

    def put(self, name: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        with self.bucket.guard(N_("writing a checkpoint"), PREFIX + name):
            try:
                self.bucket.client.put_object(Bucket=self.bucket.name, Key=self.bucket.key(PREFIX + name),
                                              Body=data, IfNoneMatch="*",
                                              **self.bucket.lock_args(self.bucket.journal_lock_days))
                return True
            except ClientError as exc:
                if not is_precondition_failed(exc):
                    raise
        return self.get(name) == data

    def get(self, name: str) -> bytes | None:
        from botocore.exceptions import ClientError

        with self.bucket.guard(N_("reading a checkpoint"), PREFIX + name):
            try:
                answer = self.bucket.client.get_object(Bucket=self.bucket.name,
                                                       Key=self.bucket.key(PREFIX + name))
            except ClientError as exc:
                if is_missing(exc):
                    return None
                raise
            return answer["Body"].read()

    def sizes(self) -> list[int]:
        skip = len(self.bucket.key(PREFIX))
        found = []
        with self.bucket.guard(N_("listing the checkpoints"), PREFIX):
            pages = self.bucket.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket.name, Prefix=self.bucket.key(PREFIX))
            for page in pages:
                found.extend(size_of(item["Key"][skip:]) for item in page.get("Contents", ()))
        return sorted(s for s in found if s is not None)
