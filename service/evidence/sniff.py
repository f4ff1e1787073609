"""What evidence bytes really are: the media type sniffed from the bytes, never taken from the client.

:func:`sniff` looks at magic numbers (PDF, PNG, JPEG, GIF, WebP, ZIP, gzip, tar, executables), then,
for bytes that decode as UTF-8 text, at their shape (HTML, SVG, XML, JSON; Markdown and CSV by
the file name's extension, only when the bytes are text). Anything else is an unknown binary.
Which of these the service accepts is policy, decided in :mod:`service.evidence.intake`.
Pure: standard library only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

EXECUTABLE = "application/x-executable"
UNKNOWN_BINARY = "application/octet-stream"
GIT_BUNDLE = "application/x-git-bundle"

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
ARCHIVE_TYPES = frozenset({"application/zip", "application/gzip", "application/x-tar"})
OOXML_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_TEXT_BY_EXTENSION = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".mdown": "text/markdown",
    ".csv": "text/csv",
}
TEXT_TYPES = frozenset(
    {"text/plain", "text/markdown", "text/csv", "text/html", "application/json", "application/xml", "image/svg+xml"}
)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # an empty archive
    (b"\x1f\x8b", "application/gzip"),
    (b"# v2 git bundle\n", GIT_BUNDLE),
    (b"# v3 git bundle\n", GIT_BUNDLE),
    # executables: ELF, PE (MZ), Mach-O (both byte orders, 32/64 bit, universal), WebAssembly
    (b"\x7fELF", EXECUTABLE),
    (b"MZ", EXECUTABLE),
    (b"\xfe\xed\xfa\xce", EXECUTABLE),
    (b"\xfe\xed\xfa\xcf", EXECUTABLE),
    (b"\xce\xfa\xed\xfe", EXECUTABLE),
    (b"\xcf\xfa\xed\xfe", EXECUTABLE),
    (b"\xca\xfe\xba\xbe", EXECUTABLE),
    (b"\x00asm", EXECUTABLE),
)

_HTML_START = re.compile(
    rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|script|iframe|title|style|div|p|a|table|br|h1)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_SVG_ROOT = re.compile(rb"<svg[\s>/]", re.IGNORECASE)
_XML_PROLOG = re.compile(rb"\s*<\?xml[\s?]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_SNIFF_WINDOW = 4096


@dataclass(frozen=True)
class Sniffed:
    """The verdict: ``media_type``; ``is_text`` when the bytes are UTF-8 text (and then ``text``
    holds them decoded exactly, byte order mark and all)."""

    media_type: str
    is_text: bool = False
    text: str | None = None


def extension_of(file_name: str | None) -> str:
    """The lower-case extension of ``file_name`` (``".md"``), or ``""``."""
    if not file_name or "." not in file_name:
        return ""
    return "." + file_name.rsplit(".", 1)[1].lower()


def decode_text(data: bytes) -> str | None:
    """``data`` as text when it is valid UTF-8 without NUL or other binary control characters."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


def _textual_type(data: bytes, text: str, file_name: str | None) -> str:
    head = data[:_SNIFF_WINDOW].lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(head):
        return "text/html"
    if _XML_PROLOG.match(head) or head.lstrip().startswith(b"<"):
        if _SVG_ROOT.search(head):
            return "image/svg+xml"
        if _XML_PROLOG.match(head):
            return "application/xml"
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "["):
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            return "application/json"
    return _TEXT_BY_EXTENSION.get(extension_of(file_name), "text/plain")


def sniff(data: bytes, file_name: str | None = None) -> Sniffed:
    """The media type of ``data``. ``file_name`` only refines *text* (Markdown, CSV) and ZIP
    containers (Office Open XML documents); it never makes binary bytes look like text."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            if media_type == "application/zip":
                return Sniffed(_zip_container_type(data, file_name))
            return Sniffed(media_type)
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("image/webp")
    if data[257:262] == b"ustar":
        return Sniffed("application/x-tar")
    text = decode_text(data)
    if text is None:
        return Sniffed(UNKNOWN_BINARY)
    return Sniffed(_textual_type(data, text, file_name), is_text=True, text=text)


def _zip_container_type(data: bytes, file_name: str | None) -> str:
    """An Office Open XML document is a ZIP with ``[Content_Types].xml``; named by its extension."""
    office = OOXML_TYPES.get(extension_of(file_name))
    if office and b"[Content_Types].xml" in data[:65536]:
        return office
    return "application/zip"


def is_zip_container(media_type: str) -> bool:
    """ZIP itself or a document format that is a ZIP underneath (inspected like one)."""
    return media_type == "application/zip" or media_type in OOXML_TYPES.values()
