"""The link-preview image of a badge page (``og:image``): a 1200x630 PNG drawn with Pillow, honest
about what it shows: the achievement, the issuer, the earner's name only when the page shows it,
and a red "Revoked" (or "Suspended", "Expired") band when the credential is no longer valid. Drawn
with Pillow's bundled font, so nothing is read from the system or the network. No FastAPI here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
MARGIN = 64
BACKGROUND = (244, 245, 247)
TEXT = (28, 36, 48)
MUTED = (84, 94, 107)
ACCENT = (11, 87, 208)
STATE_COLOURS = {"Revoked": (127, 26, 18), "Suspended": (127, 26, 18), "Expired": (107, 64, 0)}


@dataclass(frozen=True)
class Preview:
    """What the image says. ``state``: None for a valid badge, else the word to show in the band."""

    achievement: str
    issuer: str
    earner: str | None
    issued: str | None
    state: str | None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int, lines: int
) -> list[str]:
    """``text`` in at most ``lines`` lines of at most ``width`` pixels, the last one cut with "…"."""
    words, out, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width:
            line = trial
            continue
        if line:
            out.append(line)
        line = word
        while draw.textlength(line, font=font) > width and len(line) > 1:
            line = line[:-1]
    if line:
        out.append(line)
    if len(out) > lines:
        last = out[lines - 1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        out = [*out[: lines - 1], last + "…"]
    return out


def _medal(draw: ImageDraw.ImageDraw, centre: tuple[int, int], radius: int, *, valid: bool) -> None:
    """A round seal: blue with a check mark while valid, grey with a cross when not."""
    x, y = centre
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=ACCENT if valid else (150, 150, 150))
    draw.ellipse((x - radius + 18, y - radius + 18, x + radius - 18, y + radius - 18), outline=(255, 255, 255), width=8)
    if valid:
        draw.line((x - 48, y + 4, x - 12, y + 40, x + 52, y - 36), fill=(255, 255, 255), width=16, joint="curve")
    else:
        draw.line((x - 40, y - 40, x + 40, y + 40), fill=(255, 255, 255), width=16)
        draw.line((x - 40, y + 40, x + 40, y - 40), fill=(255, 255, 255), width=16)


@lru_cache(maxsize=128)
def preview_png(preview: Preview) -> bytes:
    """The preview image as PNG bytes (kept per content: the same badge draws the same bytes)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    state_colour = STATE_COLOURS.get(preview.state or "")
    draw.rectangle((0, 0, WIDTH, 16), fill=state_colour or ACCENT)
    _medal(draw, (MARGIN + 130, 300), 130, valid=state_colour is None)
    left, width = MARGIN + 320, WIDTH - MARGIN * 2 - 320
    y = 90
    title = _font(60)
    for line in _wrap(draw, preview.achievement or "Open Badge", title, width, 3):
        draw.text((left, y), line, font=title, fill=TEXT)
        y += 72
    y += 20
    body = _font(36)
    for text, colour in (
        (f"Earned by {preview.earner}" if preview.earner else None, TEXT),
        (f"Issued by {preview.issuer}", MUTED),
        (f"on {preview.issued}" if preview.issued else None, MUTED),
    ):
        if text:
            for line in _wrap(draw, text, body, width, 2):
                draw.text((left, y), line, font=body, fill=colour)
                y += 46
    if state_colour and preview.state:
        draw.rectangle((0, HEIGHT - 120, WIDTH, HEIGHT), fill=state_colour)
        band = _font(56)
        draw.text(
            (MARGIN, HEIGHT - 92), f"{preview.state}: this badge is no longer valid", font=band, fill=(255, 255, 255)
        )
    else:
        draw.text((left, HEIGHT - 100), "Open Badges 3.0 · verify at the link", font=_font(30), fill=MUTED)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
