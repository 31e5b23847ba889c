"""Where the bytes of uploads live: one interface, `Storage`, and its implementations.

An upload's row (models.Upload) holds its name, sniffed type, size, owner and SHA-256; the
bytes are kept by a `Storage` under the SHA-256 (content-addressed: the same file stored twice
is one object, and a write that is rolled back with its row leaves at most an unreferenced
object, never a row without bytes). Rows written before storage existed still carry their
bytes in `uploads.content`; `service.content_of` reads either.

`XUEJI_UPLOAD_STORAGE` chooses the implementation:

    local   (default) files under XUEJI_UPLOAD_DIR (default <data_dir>/uploads), fanned out
            as ab/abcdef…; several API processes must share the directory (a volume)
    object  not built in: write a class with `put`/`get` over the bucket's client (S3, OSS,
            MinIO) and return it from `storage_for` below; nothing else changes
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

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


def storage_for(settings: Settings) -> Storage:
    """The storage the settings name (see the module's docstring)."""
    if settings.upload_storage == "local":
        return LocalStorage(settings.upload_dir or settings.data_dir / "uploads")
    raise ValueError(f"unknown XUEJI_UPLOAD_STORAGE {settings.upload_storage!r}")
