"""Uploaded archives (ZIP, tar, gzip, tar.gz), inspected in memory and never unpacked to disk.

:func:`inspect_archive` is the gate an upload passes before it is stored. It refuses:

- entry names that are absolute (``/x``, ``C:\\x``), climb out (``..``), hold a NUL, or repeat;
- symbolic and hard links, device files and FIFOs;
- more than ``max_entries`` entries, more than ``max_total_bytes`` uncompressed, or (above
  1 MiB) a compression ratio over ``max_ratio`` (zip bombs) -- checked on the declared sizes
  first and then on the bytes actually inflated, streamed and counted, so a header that lies
  about a size is caught too;
- encrypted entries, unknown compression methods and broken archives (bad CRC, truncated);
- archives nested deeper than ``max_depth`` (an archive inside the upload is depth 1).

:func:`list_archive` and :func:`read_text_members` are the safe views assessors and reviewers
get: entry metadata, and the text of small UTF-8 members within limits. Pure: standard library.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from service.evidence.sniff import decode_text, is_zip_container, sniff

CHUNK = 64 * 1024
RATIO_FLOOR = 1024 * 1024  # below this many uncompressed bytes the ratio is not judged
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveRefused(ValueError):
    """The archive breaks a safety rule. ``code`` is stable (``archive_...``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ArchiveLimits:
    """How much an archive may hold. ``max_depth``: levels of archives inside the upload."""

    max_entries: int = 2000
    max_total_bytes: int = 100 * 1024 * 1024
    max_ratio: int = 100
    max_depth: int = 1


@dataclass(frozen=True)
class ArchiveEntry:
    """One entry: its name as stored, uncompressed size, whether it is a folder, and whether it
    is itself an archive (inspected by the same rules, never listed further)."""

    name: str
    size: int
    is_dir: bool = False
    is_archive: bool = False


@dataclass
class _Budget:
    limits: ArchiveLimits
    entries: int = 0
    inflated: int = 0
    names: set[str] = field(default_factory=set)

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise ArchiveRefused(
                "archive_too_many_entries", f"the archive has more than {self.limits.max_entries} entries"
            )

    def count_bytes(self, n: int) -> None:
        self.inflated += n
        if self.inflated > self.limits.max_total_bytes:
            raise ArchiveRefused("archive_too_large", f"the archive expands beyond {self.limits.max_total_bytes} bytes")


def is_archive_type(media_type: str) -> bool:
    """Whether bytes of this (sniffed) media type are inspected as an archive."""
    return is_zip_container(media_type) or media_type in ("application/gzip", "application/x-tar")


def inspect_archive(data: bytes, limits: ArchiveLimits = ArchiveLimits()) -> list[ArchiveEntry]:
    """Check ``data`` (a ZIP, tar, gzip or tar.gz) against every rule above; its top-level entries.

    Raises :class:`ArchiveRefused` with a stable ``code``. Nothing is written anywhere.
    """
    return _inspect(data, limits, _Budget(limits), depth=0, top=True)


def list_archive(data: bytes, limits: ArchiveLimits = ArchiveLimits()) -> list[ArchiveEntry]:
    """The entries of an archive (after the full safety inspection)."""
    return inspect_archive(data, limits)


def read_text_members(
    data: bytes,
    limits: ArchiveLimits = ArchiveLimits(),
    *,
    max_member_bytes: int = 256 * 1024,
    max_total_bytes: int = 2 * 1024 * 1024,
    max_members: int = 200,
) -> dict[str, str]:
    """``{name: text}`` of the archive's small UTF-8 text members, in archive order.

    Only members of at most ``max_member_bytes``, at most ``max_members`` of them and
    ``max_total_bytes`` in all; binary members, folders and nested archives are skipped. The
    archive is inspected first, so a refused archive raises :class:`ArchiveRefused`.
    """
    inspect_archive(data, limits)
    texts: dict[str, str] = {}
    total = 0
    for name, content in _members(data, max_member_bytes):
        if len(texts) >= max_members or total + len(content) > max_total_bytes:
            break
        text = decode_text(content)
        if text is not None and not is_archive_type(sniff(content, name).media_type):
            texts[name] = text
            total += len(content)
    return texts


# --- inspection -----------------------------------------------------------------------------

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OTHER_ARCHIVE_MAGIC = (b"BZh", b"\xfd7zXZ\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"\x28\xb5\x2f\xfd")


def _is_tar(data: bytes) -> bool:
    return data[257:262] == b"ustar"


def _inspect(data: bytes, limits: ArchiveLimits, budget: _Budget, *, depth: int, top: bool) -> list[ArchiveEntry]:
    if data.startswith(b"\x1f\x8b"):
        return _inspect_gzip(data, limits, budget, depth=depth, top=top)
    if data.startswith(_ZIP_MAGIC):
        return _inspect_zip(data, limits, budget, depth=depth, top=top)
    if _is_tar(data):
        return _inspect_tar(io.BytesIO(data), limits, budget, depth=depth, top=top)
    raise ArchiveRefused("archive_broken", "not a ZIP, tar or gzip archive")


def check_entry_name(name: str) -> str:
    """``name`` with ``\\`` read as ``/``, or :class:`ArchiveRefused` if it is absolute or climbs out."""
    if not name or "\x00" in name:
        raise ArchiveRefused("archive_bad_name", "an archive entry has an empty name or a NUL character")
    normal = name.replace("\\", "/")
    if normal.startswith("/") or _DRIVE.match(normal):
        raise ArchiveRefused("archive_absolute_path", f"the archive entry {name[:200]!r} is an absolute path")
    if ".." in normal.split("/"):
        raise ArchiveRefused("archive_path_traversal", f"the archive entry {name[:200]!r} climbs out with '..'")
    return normal


def _register(budget: _Budget, name: str, *, top: bool) -> str:
    normal = check_entry_name(name)
    budget.count_entry()
    key = normal.rstrip("/")
    if top:
        if key in budget.names:
            raise ArchiveRefused("archive_duplicate_entry", f"the archive holds {name[:200]!r} twice")
        budget.names.add(key)
    return normal


def _check_ratio(limits: ArchiveLimits, inflated: int, compressed: int) -> None:
    if inflated > RATIO_FLOOR and inflated > limits.max_ratio * max(compressed, 1):
        raise ArchiveRefused("archive_ratio", f"the archive expands more than {limits.max_ratio} times (a zip bomb?)")


def _nested(name: str, head: bytes, limits: ArchiveLimits, depth: int) -> bool:
    """Whether a member starting with ``head`` is an archive; refused when too deep or unreadable."""
    inspectable = head.startswith((b"\x1f\x8b", *_ZIP_MAGIC)) or _is_tar(head)
    if not inspectable and not head.startswith(_OTHER_ARCHIVE_MAGIC):
        return False
    if depth + 1 > limits.max_depth:
        raise ArchiveRefused(
            "archive_nested", f"{name[:200]!r}: archives nested more than {limits.max_depth} deep are refused"
        )
    if not inspectable:
        raise ArchiveRefused(
            "archive_nested", f"{name[:200]!r}: only nested ZIP, tar and gzip archives can be inspected"
        )
    return True


def _read_member(
    stream: IO[bytes] | gzip.GzipFile,
    name: str,
    declared: int | None,
    budget: _Budget,
    limits: ArchiveLimits,
    *,
    depth: int,
    count: bool,
) -> bool:
    """Inflate one member, counting its bytes when ``count``; a nested archive is inspected by
    the same rules (its contents count against the same budget). True when it is an archive."""
    size = 0
    buffer = bytearray()  # the first 512 bytes; all of them once the member is an archive
    nested: bool | None = None
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if count:
            budget.count_bytes(len(chunk))
        if declared is not None and size > declared:
            raise ArchiveRefused("archive_broken", f"the archive entry {name[:200]!r} is larger than declared")
        if nested is not False:
            buffer += chunk
        if nested is None and len(buffer) >= 512:
            nested = _nested(name, bytes(buffer[:512]), limits, depth)
            if not nested:
                buffer.clear()
    if nested is None:
        nested = bool(buffer) and _nested(name, bytes(buffer), limits, depth)
    if nested:
        _inspect(bytes(buffer), limits, budget, depth=depth + 1, top=False)
    return nested


def _inspect_zip(data: bytes, limits: ArchiveLimits, budget: _Budget, *, depth: int, top: bool) -> list[ArchiveEntry]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as err:
        raise ArchiveRefused("archive_broken", f"not a readable ZIP archive: {err}") from None
    if len(infos) + budget.entries > limits.max_entries:
        raise ArchiveRefused("archive_too_many_entries", f"the archive has more than {limits.max_entries} entries")
    declared = sum(info.file_size for info in infos)
    if declared + budget.inflated > limits.max_total_bytes:
        raise ArchiveRefused(
            "archive_too_large",
            f"the archive expands to {declared} bytes; at most {limits.max_total_bytes} are accepted",
        )
    _check_ratio(limits, declared, len(data))
    entries = []
    start = budget.inflated
    for info in infos:
        name = _register(budget, info.filename, top=top)
        kind = (info.external_attr >> 16) & 0o170000
        if kind == 0o120000:
            raise ArchiveRefused("archive_symlink", f"the archive entry {info.filename[:200]!r} is a symbolic link")
        if kind not in (0, 0o100000, 0o040000):
            raise ArchiveRefused(
                "archive_special_file", f"the archive entry {info.filename[:200]!r} is not a regular file or folder"
            )
        if info.flag_bits & 0x1:
            raise ArchiveRefused("archive_encrypted", f"the archive entry {info.filename[:200]!r} is encrypted")
        if info.is_dir():
            entries.append(ArchiveEntry(name, 0, is_dir=True))
            continue
        try:
            with archive.open(info) as member:
                nested = _read_member(member, info.filename, info.file_size, budget, limits, depth=depth, count=True)
        except ArchiveRefused:
            raise
        except (
            zipfile.BadZipFile,
            NotImplementedError,
            RuntimeError,
            EOFError,
            OSError,
            zlib.error,
            ValueError,
        ) as err:
            raise ArchiveRefused(
                "archive_broken", f"the archive entry {info.filename[:200]!r} cannot be read: {err}"
            ) from None
        entries.append(ArchiveEntry(name, info.file_size, is_archive=nested))
    _check_ratio(limits, budget.inflated - start, len(data))
    return entries


def _inspect_gzip(data: bytes, limits: ArchiveLimits, budget: _Budget, *, depth: int, top: bool) -> list[ArchiveEntry]:
    """First pass: inflate everything once, counted (the bomb check). Second pass: walk the tar
    inside, or probe the single compressed file, without counting the same bytes again."""
    size, head = 0, b""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                budget.count_bytes(len(chunk))
                _check_ratio(limits, size, len(data))
                if len(head) < 512:
                    head += chunk[: 512 - len(head)]
    except (OSError, EOFError, zlib.error) as err:
        raise ArchiveRefused("archive_broken", f"not a readable gzip stream: {err}") from None
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        if _is_tar(head):
            return _inspect_tar(stream, limits, budget, depth=depth, top=top)
        name = _register(budget, "content", top=top)
        nested = _read_member(stream, name, size, budget, limits, depth=depth, count=False)
    return [ArchiveEntry(name, size, is_archive=nested)]


def _inspect_tar(
    stream: IO[bytes] | gzip.GzipFile, limits: ArchiveLimits, budget: _Budget, *, depth: int, top: bool
) -> list[ArchiveEntry]:
    """A tar stream whose bytes are already accounted for (they are the upload, or were counted
    when they were inflated)."""
    entries = []
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                name = _register(budget, member.name, top=top)
                if member.issym() or member.islnk():
                    raise ArchiveRefused("archive_symlink", f"the archive entry {member.name[:200]!r} is a link")
                if member.isdir():
                    entries.append(ArchiveEntry(name, 0, is_dir=True))
                    continue
                if not member.isfile():
                    raise ArchiveRefused(
                        "archive_special_file",
                        f"the archive entry {member.name[:200]!r} is not a regular file or folder",
                    )
                extracted = tar.extractfile(member)
                nested = extracted is not None and _read_member(
                    extracted, member.name, member.size, budget, limits, depth=depth, count=False
                )
                entries.append(ArchiveEntry(name, member.size, is_archive=nested))
    except ArchiveRefused:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as err:
        raise ArchiveRefused("archive_broken", f"not a readable tar archive: {err}") from None
    return entries


# --- reading members (after inspection) -------------------------------------------------------


def _members(data: bytes, max_member_bytes: int) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of the regular top-level members no larger than ``max_member_bytes``."""
    if data.startswith(_ZIP_MAGIC):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.is_dir() and info.file_size <= max_member_bytes:
                    with archive.open(info) as member:
                        yield info.filename, member.read(max_member_bytes + 1)
        return
    if _is_tar(data):
        yield from _tar_members(io.BytesIO(data), max_member_bytes)
        return
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        head = stream.read(512)
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        if _is_tar(head):
            yield from _tar_members(stream, max_member_bytes)
            return
        content = stream.read(max_member_bytes + 1)
    if len(content) <= max_member_bytes:
        yield "content", content


def _tar_members(stream: IO[bytes] | gzip.GzipFile, max_member_bytes: int) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            if member.isfile() and member.size <= max_member_bytes:
                extracted = tar.extractfile(member)
                if extracted is not None:
                    yield member.name, extracted.read(max_member_bytes + 1)
