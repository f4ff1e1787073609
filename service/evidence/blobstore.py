"""Content-addressed blob storage for evidence bytes: a blob's name is the SHA-256 of its bytes.

:class:`BlobStore` is the interface (a local folder today; an S3-compatible bucket can implement
the same five methods). :class:`LocalBlobStore` keeps each blob in a sharded folder
(``ab/cd/abcd...``), written to a temporary file in the same file system, flushed, then renamed
into place, so a reader never sees half a blob and a crash leaves at most a stray temporary file.
The same bytes stored twice are one blob. When the file system has no room (full, over quota, or
past the process's file size limit) :meth:`LocalBlobStore.put` removes what it wrote and raises
:class:`NoRoomForBlob`. No FastAPI and no database here.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

from service.core.config import Settings

_DIGEST = re.compile(r"[0-9a-f]{64}")


class BlobNotFound(LookupError):
    """No blob has this digest."""


class BlobCorrupted(RuntimeError):
    """A stored blob's bytes no longer hash to its name (disk corruption or tampering)."""


class NoRoomForBlob(OSError):
    """The store's file system has no room for the bytes (ENOSPC, EDQUOT or EFBIG); nothing of
    them was left behind. An ``OSError`` with the original ``errno``."""


NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""The errors that mean "no room": the disk is full, the quota is used up, or the file would
pass the process's size limit (``RLIMIT_FSIZE``)."""


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of ``data``: a blob's name."""
    return hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    """``digest`` if it is 64 lower-case hex characters, else ``ValueError`` (never a path)."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise ValueError("a blob digest is 64 lower-case hex characters")
    return digest


@runtime_checkable
class BlobStore(Protocol):
    """Where evidence bytes live, addressed by their SHA-256 (lower-case hex)."""

    def put(self, data: bytes) -> str:
        """Store ``data`` (once, however often it is put) and return its digest;
        :class:`NoRoomForBlob` when there is no room for it (nothing of it is left behind)."""
        ...

    def get(self, digest: str) -> bytes:
        """The bytes named ``digest``, checked against it; :class:`BlobNotFound` or
        :class:`BlobCorrupted` otherwise."""
        ...

    def exists(self, digest: str) -> bool:
        """Whether a blob named ``digest`` is stored."""
        ...

    def delete(self, digest: str) -> None:
        """Remove the blob (no error when it is already gone)."""
        ...

    def digests(self) -> Iterator[tuple[str, float]]:
        """Every stored blob as ``(digest, last time it was put, as a Unix timestamp)``."""
        ...


class LocalBlobStore:
    """A :class:`BlobStore` in a local folder. Thread- and process-safe for put/get/delete."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._made = False
        self._lock = threading.Lock()

    def _path(self, digest: str) -> Path:
        check_digest(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def _ensure_root(self) -> None:
        if not self._made:
            with self._lock:
                self._tmp.mkdir(parents=True, exist_ok=True)
                self._made = True

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        path = self._path(digest)
        if path.exists():
            # Refresh its time: a sweep spares blobs put recently (their row may be on its way).
            os.utime(path)
            return digest
        temporary: str | None = None
        try:
            self._ensure_root()
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self._tmp, prefix=digest[:8] + "-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o640)
            os.replace(temporary, path)  # atomic: readers see all of it or nothing
        except BaseException as err:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            if isinstance(err, OSError) and err.errno in NO_ROOM_ERRNOS:
                raise NoRoomForBlob(err.errno, f"no room for blob {digest}: {err.strerror}") from err
            raise
        return digest

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(digest) from None
        if sha256_hex(data) != digest:
            raise BlobCorrupted(f"blob {digest} does not match its digest")
        return data

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)

    def digests(self) -> Iterator[tuple[str, float]]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                for blob in sorted(second.iterdir()) if second.is_dir() else ():
                    if _DIGEST.fullmatch(blob.name):
                        try:
                            yield blob.name, blob.stat().st_mtime
                        except FileNotFoundError:
                            continue


@lru_cache(maxsize=16)
def _local_store(root: str) -> LocalBlobStore:
    return LocalBlobStore(root)


def get_blob_store(settings: Settings) -> BlobStore:
    """The blob store for ``settings`` (``settings.blob_dir``), one instance per folder."""
    return _local_store(str(Path(settings.blob_dir).resolve()))
