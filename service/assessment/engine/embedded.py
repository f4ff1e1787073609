"""Text carried inside binary evidence files: a PDF's pages and document information, an image's
EXIF, PNG text chunks and JPEG comments. An attacker controls all of it, so the assessors screen it
for injection (:mod:`.reading`), and a PDF's page text is read as evidence like any document.

Reading is bounded before it starts, and a file that cannot be read within its bounds yields
nothing but the reason (it stays an unreadable item), never an exception:

- a PDF is parsed in a child process (``python -m service.assessment.engine.embedded``) limited
  to :data:`PDF_SECONDS` of wall-clock and CPU time and :data:`PDF_MEMORY_BYTES` of memory: a few
  kilobytes of PDF can ask a parser for minutes or gigabytes (shared annotation references,
  nested form XObjects), and no in-process check can stop a parser in the middle of a page.
  Inside it: the first :data:`MAX_PDF_PAGES` pages, each annotation object once and at most
  :data:`MAX_ANNOTATIONS_PER_PAGE` per page, at most :data:`MAX_ENTRIES` metadata values, and
  :data:`MAX_CHARS` characters in all, each value cut to :data:`MAX_FIELD_CHARS`;
- image headers are read in process (Pillow reads headers on open; pixels are never decoded),
  at most :data:`MAX_ENTRIES` values;
- what was read is kept per digest (:data:`CACHE_SIZE` files), so opening a bundle again does not
  parse its files again.

Libraries: pypdf (pure Python, BSD) for PDF; Pillow for images.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import resource
import subprocess
import sys
import threading
import warnings
from dataclasses import dataclass, field

from cachetools import LRUCache

MAX_PDF_PAGES = 30
MAX_CHARS = 200_000
MAX_FIELD_CHARS = 2_000
MAX_ENTRIES = 50
MAX_ANNOTATIONS_PER_PAGE = 20
PDF_SECONDS = 3.0
PDF_MEMORY_BYTES = 768 * 1024 * 1024
CACHE_SIZE = 256
PDF = "application/pdf"
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff")

# EXIF tags whose values are free text (EXIF 2.32, TIFF 6.0): ImageDescription, Artist, Copyright,
# UserComment, and Windows' XPTitle, XPComment, XPAuthor, XPKeywords, XPSubject (UTF-16LE)
EXIF_TEXT_TAGS = {
    0x010E: "ImageDescription",
    0x013B: "Artist",
    0x8298: "Copyright",
    0x9286: "UserComment",
    0x9C9B: "XPTitle",
    0x9C9C: "XPComment",
    0x9C9D: "XPAuthor",
    0x9C9E: "XPKeywords",
    0x9C9F: "XPSubject",
}
EXIF_IFD = 0x8769
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedContent:
    """What a binary file carries as text: ``text`` (a PDF's pages; None for images) and
    ``metadata`` as ``(where, value)`` pairs (``"PDF /Title"``, ``"EXIF ImageDescription"``...);
    ``unread``: why the file could not be read within its bounds (None when it was, or when its
    type carries no text)."""

    text: str | None = None
    metadata: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    unread: str | None = None


_cache: LRUCache[tuple[str, str], EmbeddedContent] = LRUCache(maxsize=CACHE_SIZE)
_cache_lock = threading.Lock()


def read_embedded(data: bytes, media_type: str, *, seconds: float = PDF_SECONDS) -> EmbeddedContent:
    """The text inside ``data`` (of the sniffed ``media_type``); empty for other types, and empty
    with the reason when it cannot be read within its bounds (``seconds``: a PDF's time)."""
    if media_type not in (PDF, *IMAGES):
        return EmbeddedContent()
    key = (hashlib.sha256(data).hexdigest(), media_type)
    with _cache_lock:
        kept = _cache.get(key)
    if kept is not None:
        return kept
    if seconds <= 0:
        return EmbeddedContent(unread="not read: the time for reading this bundle's files was spent")
    content = _pdf_isolated(data, seconds) if media_type == PDF else _image(data)
    if content.unread is None or "took longer" not in content.unread:  # a slow read may pass another time
        with _cache_lock:
            _cache[key] = content
    return content


def _image(data: bytes) -> EmbeddedContent:
    try:
        return EmbeddedContent(None, _image_metadata(data)[:MAX_ENTRIES])
    except Exception as err:
        log.info("image metadata not read: %s", type(err).__name__)
        return EmbeddedContent(unread="not read: the image could not be parsed")


def _pdf_isolated(data: bytes, seconds: float) -> EmbeddedContent:
    """:func:`pdf_content` in a child process under time and memory limits."""
    child = subprocess.Popen(
        [sys.executable, "-m", "service.assessment.engine.embedded"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        cpu = int(seconds) + 1
        resource.prlimit(child.pid, resource.RLIMIT_CPU, (cpu, cpu))
        resource.prlimit(child.pid, resource.RLIMIT_AS, (PDF_MEMORY_BYTES, PDF_MEMORY_BYTES))
    except (OSError, ValueError):
        pass  # the child already ended, or the platform has no prlimit: the time limit still holds
    try:
        out, _ = child.communicate(data, timeout=seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return EmbeddedContent(unread=f"not read: the PDF took longer than {seconds:g} s to read")
    if child.returncode != 0:
        return EmbeddedContent(unread="not read: the PDF could not be parsed within its limits")
    try:
        answer = json.loads(out)
        text = answer["text"]
        metadata = tuple((str(where), str(value)) for where, value in answer["metadata"])[:MAX_ENTRIES]
    except (ValueError, KeyError, TypeError):
        return EmbeddedContent(unread="not read: the PDF could not be parsed")
    return EmbeddedContent(text if isinstance(text, str) and text else None, metadata)


def _clip(value: object) -> str:
    """``value`` as trimmed text of at most :data:`MAX_FIELD_CHARS` (bytes read as UTF-8)."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text.replace("\x00", "").strip()[:MAX_FIELD_CHARS]


def _exif_text(tag: int, value: object) -> str:
    """An EXIF text value: Windows' XP tags are UTF-16LE bytes; UserComment starts with an
    8-byte character code ("ASCII", "UNICODE", ...; EXIF 2.32 section 4.6.5)."""
    if isinstance(value, tuple):
        value = bytes(value)
    if isinstance(value, bytes) and tag in (0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F):
        return _clip(value.decode("utf-16-le", "replace"))
    if isinstance(value, bytes) and tag == 0x9286:
        code, body = value[:8], value[8:]
        return _clip(body.decode("utf-16", "replace") if code.startswith(b"UNICODE") else body)
    return _clip(value)


class _Budget:
    """What is left of a file's character and entry allowances."""

    def __init__(self) -> None:
        self.chars = MAX_CHARS
        self.entries = MAX_ENTRIES

    def add(self, found: list[tuple[str, str]], where: str, value: object) -> None:
        if self.entries <= 0 or self.chars <= 0:
            return
        text = _clip(value)[: self.chars]
        if text:
            found.append((where, text))
            self.entries -= 1
            self.chars -= len(text)


def pdf_content(data: bytes) -> dict[str, object]:
    """A PDF's page text and metadata within the bounds of the module docstring, as JSON-ready
    ``{"text": str, "metadata": [[where, value], ...]}``. Run in the child process."""
    from pypdf import PdfReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        reader = PdfReader(io.BytesIO(data), strict=False)
        budget = _Budget()
        metadata: list[tuple[str, str]] = []
        for key, value in list((reader.metadata or {}).items())[:MAX_ENTRIES]:
            budget.add(metadata, f"PDF {key}", value)
        xmp = reader.xmp_metadata
        if xmp is not None:
            for name in ("dc_title", "dc_description", "dc_subject", "dc_creator", "pdf_keywords"):
                value = getattr(xmp, name, None)
                values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
                for item in list(values or [])[:MAX_ENTRIES]:
                    if item:
                        budget.add(metadata, f"XMP {name}", item)
        pages: list[str] = []
        seen: set[int] = set()
        for page in reader.pages[:MAX_PDF_PAGES]:
            if budget.chars <= 0:
                break
            annotations = page.get("/Annots") or []
            for annotation in list(annotations)[:MAX_ANNOTATIONS_PER_PAGE]:
                number = getattr(annotation, "idnum", None)
                if number is not None:
                    if number in seen:
                        continue  # one annotation object referenced again and again counts once
                    seen.add(number)
                contents = annotation.get_object().get("/Contents")
                if contents:
                    budget.add(metadata, "PDF annotation", contents)
            text = (page.extract_text() or "")[: budget.chars]
            pages.append(text)
            budget.chars -= len(text)
    body = "\n\n".join(p.strip() for p in pages if p.strip())
    return {"text": body, "metadata": metadata}


def _image_metadata(data: bytes) -> tuple[tuple[str, str], ...]:
    from PIL import Image

    found: list[tuple[str, str]] = []
    with Image.open(io.BytesIO(data)) as image:  # reads headers only; pixels stay undecoded
        for key, value in image.info.items():
            if len(found) >= MAX_ENTRIES:
                break
            # PNG tEXt/iTXt/zTXt chunks and JPEG/GIF comments arrive as text (or bytes) values
            if key in ("comment", "xmp", "XML:com.adobe.xmp") or isinstance(value, str):
                text = _clip(value)
                if text:
                    found.append((f"{image.format} {key}", text))
        exif = image.getexif()
        tags = dict(exif.items()) | dict(exif.get_ifd(EXIF_IFD).items())
        for tag, name in EXIF_TEXT_TAGS.items():
            value = tags.get(tag)
            if value:
                text = _exif_text(tag, value)
                if text:
                    found.append((f"EXIF {name}", text))
    return tuple(found)


if __name__ == "__main__":  # the child process of _pdf_isolated: PDF bytes in, JSON out
    sys.stdout.write(json.dumps(pdf_content(sys.stdin.buffer.read())))
