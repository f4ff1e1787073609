"""Open Badges 3.0 baking (OB 3.0 section 5.3 "Baked Badge"): a credential inside a PNG or SVG.

PNG: one uncompressed ``iTXt`` chunk with keyword ``openbadgecredential`` whose text is the
credential's JSON or its compact JWS (VC-JWT). SVG: ``<openbadges:credential>`` in the namespace
``https://purl.imsglobal.org/ob/v3p0`` directly after the ``<svg>`` start tag, the JSON in a CDATA
section or the compact JWS in its ``verify`` attribute.

Baking changes nothing else in the image: PNG chunks are copied byte for byte, SVG text is edited
in place rather than re-serialised. A credential given as text is baked exactly as given, so a
signed credential's bytes survive the round trip (:func:`extract_baked_text` returns them).
Untrusted SVG is parsed with defusedxml: entity declarations and external references are refused.
Errors are :class:`~service.vc.errors.BakingError` with codes ``not_an_image``,
``malformed_image``, ``unsafe_xml``, ``no_credential``, ``malformed_credential``, ``too_large``.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from service.vc.errors import BakingError

MAX_IMAGE_BYTES = 16 * 1024 * 1024
"""Largest image accepted for baking or extraction."""

MAX_CREDENTIAL_BYTES = 4 * 1024 * 1024
"""Largest credential text baked or extracted (also caps a compressed iTXt's expansion)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB3_SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"

BakedCredential = dict[str, Any] | str
"""A credential as baked: a JSON object (embedded proof) or a compact JWS string (VC-JWT)."""

_CREDENTIAL_TAG = f"{{{OB3_SVG_NAMESPACE}}}credential"
_OB3_NAMESPACE_BYTES = OB3_SVG_NAMESPACE.encode()
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_START_TAG = re.compile(rb"<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_ATTRIBUTE = re.compile(rb"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_END_TAG = re.compile(rb"</[^\s>]+\s*>")
_XML_DECLARED_ENCODING = re.compile(r"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


# --- the credential as text --------------------------------------------------------------------


def _credential_text(credential: BakedCredential) -> str:
    """The exact text to bake: JSON text as given, a dict as compact JSON, a JWS stripped."""
    if isinstance(credential, dict):
        try:
            text = json.dumps(credential, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as err:
            raise BakingError(f"the credential is not JSON: {err}", code="malformed_credential") from err
    elif isinstance(credential, str):
        text = credential if credential.lstrip().startswith("{") else credential.strip()
        _parse_credential_text(text)
    else:
        raise BakingError("a credential is a JSON object or a string", code="malformed_credential")
    if len(text.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        raise BakingError(f"the credential is larger than {MAX_CREDENTIAL_BYTES} bytes", code="too_large")
    return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_credential_text(text: str) -> BakedCredential:
    """JSON text (first non-space character ``{``) becomes a dict, a compact JWS stays a str."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as err:
            raise BakingError(f"the baked credential is not valid JSON: {err}", code="malformed_credential") from err
        if not isinstance(value, dict):
            raise BakingError("the baked JSON is not an object", code="malformed_credential")
        return value
    if _COMPACT_JWS.fullmatch(stripped):
        return stripped
    raise BakingError(
        "the baked credential is neither a JSON object nor a compact JWS",
        code="malformed_credential",
    )


# --- PNG ---------------------------------------------------------------------------------------


def _png_chunks(png: bytes) -> tuple[list[tuple[bytes, bytes, bytes]], bytes]:
    """Split a PNG into ``(type, data, raw chunk bytes)`` up to IEND, plus any trailing bytes.

    Checks the signature, every chunk's length and CRC, and that IHDR comes first and IEND exists.
    """
    if not isinstance(png, (bytes, bytearray)) or not png.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG image (bad signature)", code="not_an_image")
    if len(png) > MAX_IMAGE_BYTES:
        raise BakingError(f"the image is larger than {MAX_IMAGE_BYTES} bytes", code="too_large")
    chunks: list[tuple[bytes, bytes, bytes]] = []
    offset = len(PNG_SIGNATURE)
    while True:
        if offset + 12 > len(png):
            raise BakingError("the PNG ends before its IEND chunk", code="malformed_image")
        length, chunk_type = struct.unpack_from(">I4s", png, offset)
        end = offset + 12 + length
        if length > 0x7FFFFFFF or end > len(png) or not chunk_type.isalpha():
            raise BakingError(f"malformed PNG chunk at byte {offset}", code="malformed_image")
        data = png[offset + 8 : end - 4]
        (crc,) = struct.unpack_from(">I", png, end - 4)
        if zlib.crc32(chunk_type + data) != crc:
            chunk_name = chunk_type.decode("ascii")
            raise BakingError(f"CRC mismatch in PNG chunk {chunk_name}", code="malformed_image")
        if not chunks and chunk_type != b"IHDR":
            raise BakingError("the PNG does not start with IHDR", code="malformed_image")
        chunks.append((chunk_type, bytes(data), bytes(png[offset:end])))
        offset = end
        if chunk_type == b"IEND":
            return chunks, bytes(png[offset:])


def _itxt_keyword(data: bytes) -> bytes:
    return data.split(b"\x00", 1)[0]


def _itxt_text(data: bytes) -> str:
    """Decode an ``iTXt`` chunk's text (keyword, flags, language, translated keyword, text)."""
    try:
        _keyword, rest = data.split(b"\x00", 1)
        compressed, method = rest[0], rest[1]
        _language, _translated, text = rest[2:].split(b"\x00", 2)
    except (ValueError, IndexError) as err:
        raise BakingError("malformed iTXt chunk", code="malformed_image") from err
    if compressed:
        if method != 0:
            raise BakingError("unknown iTXt compression method", code="malformed_image")
        text = _inflate_capped(text, MAX_CREDENTIAL_BYTES)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BakingError("the iTXt text is not UTF-8", code="malformed_credential") from err


def _inflate_capped(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, limit + 1)
    except zlib.error as err:
        raise BakingError(f"bad compressed iTXt text: {err}", code="malformed_image") from err
    if len(text) > limit:
        raise BakingError(f"the credential expands beyond {limit} bytes", code="too_large")
    if not inflater.eof:
        raise BakingError("truncated compressed iTXt text", code="malformed_image")
    return text


def _is_itxt(kind: bytes, data: bytes, keyword: bytes = PNG_KEYWORD) -> bool:
    return kind == b"iTXt" and _itxt_keyword(data) == keyword


def bake_png(png: bytes, credential: BakedCredential) -> bytes:
    """Return ``png`` with the credential in an ``openbadgecredential`` iTXt chunk before IEND.

    An existing ``openbadgecredential`` chunk is replaced; every other byte is kept.
    """
    text = _credential_text(credential)
    chunks, trailing = _png_chunks(png)
    data = PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
    itxt = struct.pack(">I", len(data)) + b"iTXt" + data
    itxt += struct.pack(">I", zlib.crc32(b"iTXt" + data))
    kept = [raw for kind, chunk_data, raw in chunks[:-1] if not _is_itxt(kind, chunk_data)]
    return PNG_SIGNATURE + b"".join(kept) + itxt + chunks[-1][2] + trailing


def _png_credential_text(png: bytes) -> str:
    chunks, _ = _png_chunks(png)
    found = [data for kind, data, _ in chunks if _is_itxt(kind, data)]
    if not found:
        legacy = any(_is_itxt(kind, data, b"openbadges") for kind, data, _ in chunks)
        hint = " (it holds an Open Badges 2.0 'openbadges' assertion)" if legacy else ""
        raise BakingError(f"the PNG holds no Open Badges 3.0 credential{hint}", code="no_credential")
    if len(found) > 1:
        raise BakingError("the PNG holds more than one credential chunk", code="malformed_image")
    return _itxt_text(found[0])


def extract_from_png(png: bytes) -> BakedCredential:
    """Return the credential baked into a PNG: a dict (JSON) or a compact JWS string."""
    return _parse_credential_text(_png_credential_text(png))


# --- SVG ---------------------------------------------------------------------------------------


class _ElementPositions:
    """A parser target recording where the root and OB 3.0 credential elements start and end."""

    def __init__(self) -> None:
        self.parser: DefusedXMLParser | None = None
        self.root: tuple[str, int] | None = None
        self.credentials: list[tuple[int, int]] = []
        self._open: list[int] = []

    def _position(self) -> int:
        assert self.parser is not None
        return int(self.parser.parser.CurrentByteIndex)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.root is None:
            self.root = (tag, self._position())
        if tag == _CREDENTIAL_TAG:
            self._open.append(self._position())

    def end(self, tag: str) -> None:
        if tag == _CREDENTIAL_TAG:
            self.credentials.append((self._open.pop(), self._position()))

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        return None


def _parse_svg(document: str | bytes, target: Any = None) -> Any:
    """Parse untrusted SVG with defusedxml, mapping its failures to BakingError codes."""
    size = len(document if isinstance(document, bytes) else document.encode("utf-8"))
    if size > MAX_IMAGE_BYTES:
        raise BakingError(f"the image is larger than {MAX_IMAGE_BYTES} bytes", code="too_large")
    parser = DefusedXMLParser(target=target) if target is not None else DefusedXMLParser()
    if target is not None:
        target.parser = parser
    try:
        parser.feed(document)
        return parser.close()
    except DefusedXmlException as err:
        raise BakingError(
            f"the SVG uses forbidden XML features (DTD entities or external references): {err!r}",
            code="unsafe_xml",
        ) from err
    except (ParseError, ValueError) as err:
        raise BakingError(f"the SVG is not well-formed XML: {err}", code="malformed_image") from err


def _cdata(text: str) -> str:
    """Wrap text in CDATA so it parses back exactly (``]]>`` split, CR kept as a reference)."""
    if _XML_ILLEGAL.search(text):
        raise BakingError("the credential contains characters XML cannot carry", code="malformed_credential")
    sections = [part.replace("]]>", "]]]]><![CDATA[>") for part in text.split("\r")]
    return "&#13;".join(f"<![CDATA[{section}]]>" for section in sections)


def _svg_text(svg: str | bytes) -> str:
    if isinstance(svg, (bytes, bytearray)):
        try:
            svg = bytes(svg).decode("utf-8")
        except UnicodeDecodeError as err:
            raise BakingError("only UTF-8 SVG can be baked", code="malformed_image") from err
    if not isinstance(svg, str):
        raise BakingError("an SVG is text or bytes", code="not_an_image")
    svg = svg.removeprefix("\ufeff")
    declared = _XML_DECLARED_ENCODING.match(svg)
    if declared and declared.group(1).lower() not in ("utf-8", "utf8", "us-ascii"):
        raise BakingError("only UTF-8 SVG can be baked", code="malformed_image")
    return svg


def bake_svg(svg: str | bytes, credential: BakedCredential) -> str:
    """Return ``svg`` with an ``<openbadges:credential>`` element as the first child of ``<svg>``.

    JSON goes in a CDATA section, a compact JWS in the ``verify`` attribute (OB 3.0 section
    5.3.2). An existing OB 3.0 credential element is replaced; the rest of the text is untouched.
    """
    text = _credential_text(credential)
    source = _svg_text(svg)
    positions = _ElementPositions()
    _parse_svg(source, positions)
    if positions.root is None or positions.root[0] != f"{{{SVG_NAMESPACE}}}svg":
        raise BakingError("the document's root element is not <svg>", code="not_an_image")
    raw = source.encode("utf-8")
    root_tag = _START_TAG.match(raw, positions.root[1])
    if root_tag is None:  # pragma: no cover - expat accepted the tag, so the pattern matches
        raise BakingError("cannot locate the <svg> start tag", code="malformed_image")

    bound = {
        match.group(1): match.group(2) if match.group(2) is not None else match.group(3)
        for match in _ATTRIBUTE.finditer(root_tag.group(2))
    }.get(b"xmlns:openbadges")
    # If the prefix already means something else (an OB 2.0 badge, say), declare it locally.
    element = _credential_element(text, declare_prefix=bound not in (None, _OB3_NAMESPACE_BYTES))

    edits: list[tuple[int, int, bytes]] = []
    if bound is None:
        name_end = root_tag.start() + 1 + len(root_tag.group(1))
        edits.append((name_end, name_end, b' xmlns:openbadges="' + _OB3_NAMESPACE_BYTES + b'"'))
    if root_tag.group(3):  # <svg .../> has no children yet
        closing = b"></" + root_tag.group(1) + b">"
        edits.append((root_tag.end() - 2, root_tag.end(), b">" + element + closing))
    else:
        edits.append((root_tag.end(), root_tag.end(), element))
    edits.extend((start, end, b"") for start, end in _outermost(_element_spans(raw, positions)))
    return _apply_edits(raw, edits).decode("utf-8")


def _credential_element(text: str, *, declare_prefix: bool) -> bytes:
    """``<openbadges:credential>`` holding a JWS in ``verify`` or JSON text in CDATA."""
    start = "<openbadges:credential"
    if declare_prefix:
        start += f' xmlns:openbadges="{OB3_SVG_NAMESPACE}"'
    if _COMPACT_JWS.fullmatch(text):
        return f'{start} verify="{text}"></openbadges:credential>'.encode()
    return f"{start}>{_cdata(text)}</openbadges:credential>".encode()


def _apply_edits(raw: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace each non-overlapping ``raw[start:end]`` with its replacement."""
    out, cursor = bytearray(), 0
    for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        out += raw[cursor:start] + replacement
        cursor = end
    return bytes(out + raw[cursor:])


def _element_spans(raw: bytes, positions: _ElementPositions) -> list[tuple[int, int]]:
    """Byte spans of the credential elements (an empty-element tag ends with its start tag)."""
    spans = []
    for start, end_event in positions.credentials:
        start_tag = _START_TAG.match(raw, start)
        if start_tag is None:  # pragma: no cover - expat accepted the tag
            raise BakingError("cannot locate a credential element", code="malformed_image")
        if start_tag.group(3):
            spans.append((start, start_tag.end()))
        else:
            end_tag = _END_TAG.match(raw, end_event)
            if end_tag is None:  # pragma: no cover - expat accepted the tag
                raise BakingError("cannot locate a credential end tag", code="malformed_image")
            spans.append((start, end_tag.end()))
    return spans


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


def _svg_credential_text(svg: str | bytes) -> str:
    if isinstance(svg, bytearray):
        svg = bytes(svg)
    if not isinstance(svg, (str, bytes)):
        raise BakingError("an SVG is text or bytes", code="not_an_image")
    root = _parse_svg(svg)
    if root.tag != f"{{{SVG_NAMESPACE}}}svg":
        raise BakingError("the document's root element is not <svg>", code="not_an_image")
    found = list(root.iter(_CREDENTIAL_TAG))
    if not found:
        raise BakingError("the SVG holds no Open Badges 3.0 credential", code="no_credential")
    if len(found) > 1:
        raise BakingError("the SVG holds more than one credential element", code="malformed_image")
    element = found[0]
    body = element.text or ""
    verify: str | None = element.get("verify")
    if verify is not None:
        if body.strip() or len(element):
            raise BakingError(
                "the credential element has both a verify attribute and content",
                code="malformed_credential",
            )
        return verify
    if len(element):
        raise BakingError("the credential element has child elements", code="malformed_credential")
    return body


def extract_from_svg(svg: str | bytes) -> BakedCredential:
    """Return the credential baked into an SVG: a dict (JSON) or a compact JWS string."""
    return _parse_credential_text(_svg_credential_text(svg))


# --- either ------------------------------------------------------------------------------------


def _is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE)


def _looks_like_xml(data: bytes) -> bool:
    head = data[:1024].removeprefix(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<")


def extract_baked_text(data: bytes) -> str:
    """Return the baked credential exactly as stored (JSON text or JWS), from a PNG or SVG."""
    if not isinstance(data, (bytes, bytearray)):
        raise BakingError("an image is bytes", code="not_an_image")
    if _is_png(data):
        return _png_credential_text(bytes(data))
    if _looks_like_xml(data):
        return _svg_credential_text(bytes(data))
    raise BakingError("the data is neither a PNG nor an SVG image", code="not_an_image")


def extract_baked(data: bytes) -> BakedCredential:
    """Return the credential baked into a PNG or SVG (sniffed): a dict or a compact JWS string."""
    return _parse_credential_text(extract_baked_text(data))


def looks_like_baked_image(data: bytes) -> bool:
    """Cheap sniff: is this a PNG or SVG that seems to carry an OB 3.0 credential?

    It does not parse or validate anything; :func:`extract_baked` is the real check.
    """
    if not isinstance(data, (bytes, bytearray)):
        return False
    if _is_png(data):
        return b"iTXt" + PNG_KEYWORD + b"\x00" in data
    return _looks_like_xml(data) and _OB3_NAMESPACE_BYTES in data and b"credential" in data
