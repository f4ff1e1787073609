"""Sharing a badge: LinkedIn's "Add to profile" link, an embeddable HTML snippet, a QR code (made
here with segno, an SVG) and the page's link-preview tags (Open Graph, Twitter card). Everything is
made locally; nothing on the page loads from elsewhere. No FastAPI here.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import lru_cache
from html import escape
from urllib.parse import urlencode

import segno

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def linkedin_url(
    *, name: str, organisation: str, issued: datetime | None, url: str, credential_id: str, expires: datetime | None
) -> str:
    """LinkedIn's add-a-certification link, filled in (``startTask=CERTIFICATION_NAME``)."""
    fields: dict[str, str] = {"startTask": "CERTIFICATION_NAME", "name": name, "organizationName": organisation}
    if issued is not None:
        fields |= {"issueYear": str(issued.year), "issueMonth": str(issued.month)}
    if expires is not None:
        fields |= {"expirationYear": str(expires.year), "expirationMonth": str(expires.month)}
    fields |= {"certUrl": url, "certId": credential_id}
    return f"{LINKEDIN_ADD}?{urlencode(fields)}"


def embed_snippet(*, url: str, image_url: str, name: str, issuer: str) -> str:
    """HTML another site can paste to show the badge, linking to its page (every value escaped)."""
    label = f"{name}, issued by {issuer}"
    return (
        f'<a href="{escape(url)}" title="{escape(label)}">'
        f'<img src="{escape(image_url)}" alt="{escape(label)} (verify on SkillCred)" width="120" height="120">'
        "</a>"
    )


@lru_cache(maxsize=256)
def qr_svg(url: str) -> bytes:
    """A QR code of ``url`` as an SVG image (dark modules on a white, quiet-zoned square, so it
    scans in dark mode too), with a title for assistive technology."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=4,
        border=4,
        dark="#000",
        light="#fff",
        title="QR code of the badge's address",
        xmldecl=True,
        svgns=True,
        nl=False,
    )
    return out.getvalue()


def preview_tags(
    *, title: str, description: str, url: str, image_url: str, image_alt: str
) -> list[tuple[str, str, str]]:
    """The link-preview meta tags as (attribute, key, content): Open Graph by ``property``, the
    Twitter card by ``name``."""
    return [
        ("property", "og:type", "website"),
        ("property", "og:site_name", "SkillCred"),
        ("property", "og:title", title),
        ("property", "og:description", description),
        ("property", "og:url", url),
        ("property", "og:image", image_url),
        ("property", "og:image:type", "image/png"),
        ("property", "og:image:width", "1200"),
        ("property", "og:image:height", "630"),
        ("property", "og:image:alt", image_alt),
        ("name", "twitter:card", "summary_large_image"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", description),
        ("name", "twitter:image", image_url),
        ("name", "twitter:image:alt", image_alt),
    ]
