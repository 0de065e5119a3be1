"""The personal-data vault in a bucket: objects under ``pii/`` beside ``journal/``, written
without Object Lock (they must be erasable); deleting one deletes every version of it."""

from __future__ import annotations

from ...i18n import N_
from ..vault import FOLDER
from .bucket import Bucket, is_missing, is_precondition_failed

PREFIX = FOLDER + "/"


class S3Vault:
    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self.location = bucket.url(FOLDER)

    def _key(self, rel: str) -> str:
        return self.bucket.key(PREFIX + rel)

    def put(self, rel: str, data: bytes) -> None:
        with self.bucket.guard(N_("writing to the personal-data vault"), PREFIX + rel):
            self.bucket.client.put_object(Bucket=self.bucket.name, Key=self._key(rel), Body=data)

    def create(self, rel: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        with self.bucket.guard(N_("writing to the personal-data vault"), PREFIX + rel):
            try:
                self.bucket.client.put_object(Bucket=self.bucket.name, Key=self._key(rel), Body=data,
                                              IfNoneMatch="*")
                return True
            except ClientError as exc:
                if not is_precondition_failed(exc):
                    raise
        return False

    def get(self, rel: str) -> bytes | None:
        from botocore.exceptions import ClientError

        with self.bucket.guard(N_("reading the personal-data vault"), PREFIX + rel):
            try:
                answer = self.bucket.client.get_object(Bucket=self.bucket.name, Key=self._key(rel))
            except ClientError as exc:
                if is_missing(exc):
                    return None
                raise
            return answer["Body"].read()

    def delete(self, rel: str) -> bool:
        client, name, key = self.bucket.client, self.bucket.name, self._key(rel)
        with self.bucket.guard(N_("erasing from the personal-data vault"), PREFIX + rel):
            listed = client.list_object_versions(Bucket=name, Prefix=key)
            every = listed.get("Versions", []) + listed.get("DeleteMarkers", [])
            versions = [v.get("VersionId") for v in every if v["Key"] == key]
            for version in versions or [None]:
                if version and version != "null":
                    client.delete_object(Bucket=name, Key=key, VersionId=version)
                else:
                    client.delete_object(Bucket=name, Key=key)
        return bool(versions)

    def names(self, prefix: str = "") -> list[str]:
        skip = len(self.bucket.key(PREFIX))
        found = []
        with self.bucket.guard(N_("listing the personal-data vault"), PREFIX + prefix):
            pages = self.bucket.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket.name, Prefix=self._key(prefix))
            for page in pages:
                found.extend(item["Key"][skip:] for item in page.get("Contents", ()))
        return sorted(found)
