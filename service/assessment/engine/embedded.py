"""Text carried inside binary evidence files: a PDF's pages and document information, an image's
EXIF, PNG text chunks and JPEG comments. An attacker controls all of it, so the assessors screen it
for injection (:mod:`.reading`), and a PDF's page text is read as evidence like any document.

Reading is bounded before it starts: only the first :data:`MAX_PDF_PAGES` pages, at most
:data:`MAX_CHARS` characters in all, each metadata value cut to :data:`MAX_FIELD_CHARS`; image
pixels are never decoded (only the headers Pillow reads on open). A file that cannot be parsed
yields nothing (it stays an unreadable item), never an exception.

Libraries: pypdf (pure Python, BSD) for PDF; Pillow for images.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, field

MAX_PDF_PAGES = 30
MAX_CHARS = 200_000
MAX_FIELD_CHARS = 2_000
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


@dataclass(frozen=True)
class EmbeddedContent:
    """What a binary file carries as text: ``text`` (a PDF's pages; None for images) and
    ``metadata`` as ``(where, value)`` pairs (``"PDF /Title"``, ``"EXIF ImageDescription"``...)."""

    text: str | None = None
    metadata: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def read_embedded(data: bytes, media_type: str) -> EmbeddedContent:
    """The text inside ``data`` (of the sniffed ``media_type``); empty for other types or on any
    parsing error."""
    try:
        if media_type == PDF:
            return _pdf(data)
        if media_type in IMAGES:
            return EmbeddedContent(None, _image_metadata(data))
    except Exception as err:
        logging.getLogger(__name__).info("embedded text not read (%s): %s", media_type, type(err).__name__)
    return EmbeddedContent()


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


def _pdf(data: bytes) -> EmbeddedContent:
    from pypdf import PdfReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        reader = PdfReader(io.BytesIO(data), strict=False)
        metadata: list[tuple[str, str]] = []
        for key, value in (reader.metadata or {}).items():
            text = _clip(value)
            if text:
                metadata.append((f"PDF {key}", text))
        xmp = reader.xmp_metadata
        if xmp is not None:
            for name in ("dc_title", "dc_description", "dc_subject", "dc_creator", "pdf_keywords"):
                value = getattr(xmp, name, None)
                values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
                for item in values or []:
                    text = _clip(item) if item else ""
                    if text:
                        metadata.append((f"XMP {name}", text))
        pages: list[str] = []
        used = 0
        for page in reader.pages[:MAX_PDF_PAGES]:
            for annotation in page.get("/Annots") or []:
                contents = annotation.get_object().get("/Contents")
                if contents:
                    metadata.append(("PDF annotation", _clip(contents)))
            text = page.extract_text() or ""
            pages.append(text[: MAX_CHARS - used])
            used += len(pages[-1])
            if used >= MAX_CHARS:
                break
    body = "\n\n".join(p.strip() for p in pages if p.strip())
    return EmbeddedContent(body or None, tuple(metadata))


def _image_metadata(data: bytes) -> tuple[tuple[str, str], ...]:
    from PIL import Image

    found: list[tuple[str, str]] = []
    with Image.open(io.BytesIO(data)) as image:  # reads headers only; pixels stay undecoded
        for key, value in image.info.items():
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
