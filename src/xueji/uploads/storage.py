"""Where the bytes of uploads live: one interface, `Storage`, and its implementations.

An upload's row (models.Upload) holds its name, sniffed type, size, owner and SHA-256; the
bytes are kept by a `Storage` under the SHA-256 (content-addressed: the same file stored twice
is one object, and a write that is rolled back with its row leaves at most an unreferenced
object, never a row without bytes). Rows written before storage existed still carry their
bytes in `uploads.content`; `service.content_of` reads either.

`XUEJI_UPLOAD_STORAGE` chooses the implementation:

    local   (default) files under XUEJI_UPLOAD_DIR (default <data_dir>/uploads), fanned out
            as ab/abcdef…; several API processes must share the directory (a volume)
    s3      objects in the bucket XUEJI_S3_BUCKET of an S3-protocol service (AWS S3, MinIO,
            OSS, COS: XUEJI_S3_ENDPOINT_URL), under XUEJI_S3_PREFIX; boto3, one client per
            process (thread-safe)
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from xueji.config import Settings
from xueji.errors import XuejiError

_KEY = re.compile(r"^[0-9a-f]{64}$")


class StorageError(XuejiError):
    """The storage does not hold a file it should (a lost object)."""

    status_code = 500
    error = "StorageError"


class Storage(Protocol):
    def put(self, key: str, content: bytes) -> None:
        """Keep `content` under `key` (its SHA-256, hex); idempotent."""

    def get(self, key: str) -> bytes:
        """The content kept under `key`; StorageError when there is none."""


class LocalStorage:
    """Files on local disk, written atomically (temporary file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def put(self, key: str, content: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"the stored file {key} is missing") from None


class S3Storage:
    """Objects in a bucket of an S3-protocol service, one per key under `prefix`."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _name(self, key: str) -> str:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return f"{self.prefix}{key[:2]}/{key}"

    def put(self, key: str, content: bytes) -> None:
        # Content-addressed: writing the same key again writes the same bytes.
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=content)

    def get(self, key: str) -> bytes:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise StorageError(f"the stored file {key} is missing") from None
            raise
        return found["Body"].read()


@lru_cache(maxsize=8)
def _s3(
    bucket: str, endpoint: str, region: str, prefix: str, key_id: str, secret: str
) -> S3Storage:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region,
        aws_access_key_id=key_id or None,
        aws_secret_access_key=secret or None,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )
    return S3Storage(client, bucket, prefix)


def storage_for(settings: Settings) -> Storage:
    """The storage the settings name (see the module's docstring)."""
    if settings.upload_storage == "s3":
        if not settings.s3_bucket:
            raise ValueError("XUEJI_UPLOAD_STORAGE=s3 needs XUEJI_S3_BUCKET")
        return _s3(
            settings.s3_bucket,
            settings.s3_endpoint_url,
            settings.s3_region,
            settings.s3_prefix,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
        )
    return LocalStorage(settings.upload_dir or settings.data_dir / "uploads")
