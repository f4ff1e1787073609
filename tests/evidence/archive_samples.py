"""Archives built in memory for the tests: honest ones, bombs, traversals, links, nesting."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

MIB = 1024 * 1024


def make_zip(members: dict[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


def make_zip_with(info: zipfile.ZipInfo, content: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, content)
    return buffer.getvalue()


def symlink_zip() -> bytes:
    info = zipfile.ZipInfo("link-to-etc")
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    return make_zip_with(info, b"/etc/passwd")


def encrypted_zip() -> bytes:
    """A ZIP whose member is marked encrypted (bit 0 of the flags, local and central headers)."""
    data = bytearray(make_zip({"secret.txt": b"x"}, compression=zipfile.ZIP_STORED))
    data[6] |= 0x1
    central = data.rindex(b"PK\x01\x02")
    data[central + 8] |= 0x1
    return bytes(data)


def zip_bomb(uncompressed: int = 3 * MIB) -> bytes:
    """Zeros compress about a thousand times: a small upload that expands enormously."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * uncompressed)
    return buffer.getvalue()


def lying_zip() -> bytes:
    """A ZIP whose central directory claims its one member is 10 bytes; it inflates to 200 KiB."""
    data = bytearray(make_zip({"small.txt": b"a" * 200 * 1024}))
    real = (200 * 1024).to_bytes(4, "little")
    fake = (10).to_bytes(4, "little")
    central = data.rindex(b"PK\x01\x02")
    at = data.index(real, central)  # uncompressed size in the central directory entry
    data[at : at + 4] = fake
    local = data.index(real)  # ... and in the local header
    data[local : local + 4] = fake
    return bytes(data)


def make_tar_gz(members: dict[str, bytes], *, links: dict[str, str] | None = None, gz: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def gzip_bomb(uncompressed: int = 3 * MIB) -> bytes:
    return gzip.compress(b"\0" * uncompressed)
