"""A stored credential in its other formats: baked PNG and SVG badge images.

The JSON-LD text is baked exactly as stored (OB 3.0 section 5.3), so extracting it from either
image gives back the same bytes the JSON-LD endpoint serves. The SVG badge is rendered from a
template showing the achievement's name and issuer (both read from the signed credential, so the
image shows what was signed); the PNG badge is a generic one drawn here with zlib and struct,
once per process.
"""

from __future__ import annotations

import json
import math
import re
import struct
import textwrap
import zlib
from functools import cache
from typing import Any

from service.core.templates import render
from service.vc.baking import bake_png, bake_svg

JSONLD_MEDIA_TYPE = "application/vc+ld+json"
JWT_MEDIA_TYPE = "application/vc+jwt"
PNG_MEDIA_TYPE = "image/png"
SVG_MEDIA_TYPE = "image/svg+xml"

PNG_SIZE = 160
_NAME_WIDTH, _NAME_LINES, _ISSUER_WIDTH = 22, 3, 40
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def baked_png(jsonld_text: str) -> bytes:
    """The default PNG badge with ``jsonld_text`` baked into its ``openbadgecredential`` chunk."""
    return bake_png(default_png(), jsonld_text)


def baked_svg(jsonld_text: str) -> bytes:
    """An SVG badge showing the achievement and issuer, with ``jsonld_text`` baked in."""
    return bake_svg(badge_svg(json.loads(jsonld_text)), jsonld_text).encode("utf-8")


# --- SVG ---------------------------------------------------------------------------------------


def _plain(value: Any) -> str:
    """A display string with characters XML cannot carry removed."""
    return _XML_ILLEGAL.sub("", value).strip() if isinstance(value, str) else ""


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


def _wrap(text: str, width: int, lines: int) -> list[str]:
    wrapped = textwrap.wrap(text, width=width, break_long_words=True) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = _shorten(wrapped[-1] + "\u2026", width)
    return wrapped


def badge_svg(credential: dict[str, Any]) -> str:
    """The (unbaked) SVG badge for a credential: its achievement's name and its issuer's name."""
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    name = _plain(achievement.get("name")) if isinstance(achievement, dict) else ""
    issuer = credential.get("issuer")
    issuer_name = _plain(issuer.get("name")) if isinstance(issuer, dict) else ""
    lines = _wrap(name or "Open Badge", _NAME_WIDTH, _NAME_LINES)
    issuer_line = _shorten(f"Issued by {issuer_name}" if issuer_name else "Open Badges 3.0", _ISSUER_WIDTH)
    title = f"{name} ({issuer_name})" if issuer_name else name
    return render(
        "badge.svg", name_lines=lines, issuer_line=issuer_line, title=title, height=236 + len(lines) * 20 + 14
    )


# --- PNG ---------------------------------------------------------------------------------------

_GOLD, _NAVY, _WHITE = (201, 162, 39), (31, 58, 95), (255, 255, 255)
# the check mark of the SVG badge, in units of the badge's outer radius around its centre
_CHECK = ((-0.42, 0.02), (-0.12, 0.32), (0.44, -0.26))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(width: int, height: int, rgba_rows: list[bytes]) -> bytes:
    """A minimal RGBA PNG (8 bits per channel, no filtering) from raw rows."""
    raw = b"".join(b"\x00" + row for row in rgba_rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


def _segment_distance(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((px - a[0]) * dx + (py - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - a[0] - t * dx, py - a[1] - t * dy)


def _mix(under: tuple[int, ...], over: tuple[int, ...], amount: float) -> tuple[int, ...]:
    return tuple(round(u + (o - u) * amount) for u, o in zip(under, over, strict=True))


def _coverage(distance_inside: float) -> float:
    """Anti-aliased coverage of a pixel whose centre is ``distance_inside`` pixels inside an edge."""
    return max(0.0, min(1.0, distance_inside + 0.5))


@cache
def default_png(size: int = PNG_SIZE) -> bytes:
    """The generic badge (a gold ring, a navy disc, a white check mark) as a PNG, drawn once."""
    centre, outer = size / 2, size * 0.48
    inner, stroke = outer * 0.88, outer * 0.08
    check = [(centre + x * outer, centre + y * outer) for x, y in _CHECK]
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            px, py = x + 0.5, y + 0.5
            radius = math.hypot(px - centre, py - centre)
            alpha = _coverage(outer - radius)
            if alpha == 0.0:
                row += b"\x00\x00\x00\x00"
                continue
            colour = _mix(_GOLD, _NAVY, _coverage(inner - radius))
            mark = min(_segment_distance(px, py, check[i], check[i + 1]) for i in range(len(check) - 1))
            colour = _mix(colour, _WHITE, _coverage(stroke - mark))
            row += bytes((*colour, round(255 * alpha)))
        rows.append(bytes(row))
    return encode_png(size, size, rows)
