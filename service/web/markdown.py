"""Evidence narratives as HTML: Markdown (CommonMark, with tables and strikethrough) rendered by
markdown-it-py, code blocks highlighted by Pygments into CSS classes (``.hl``, the rules are in
``site.css``), and the result sanitised by nh3 (ammonia) against an allow-list, so nothing a
credential says can run, style or load anything on the page.

Raw HTML in the Markdown is shown as text (``html`` off), links get ``rel="nofollow noopener
noreferrer"`` and only ``http``, ``https`` and ``mailto`` targets, and an image shows only when the
page's Content-Security-Policy lets it load (this site's own paths, or a ``data:`` PNG, JPEG, GIF
or WebP); any other image becomes a link to it, so a narrative cannot make the reader's browser
call a third party. No FastAPI here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

MAX_MARKDOWN_CHARS = 20_000
"""Longer text is cut (a credential's narratives are at most 10,000 characters)."""

_DATA_IMAGES = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")
_FORMATTER = HtmlFormatter(nowrap=True)
_TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}


def same_origin_image(src: str) -> bool:
    """Whether an image at ``src`` may load under the page's CSP (``img-src 'self' data:``): a path
    on this site, or an inline raster image."""
    return (src.startswith("/") and not src.startswith("//")) or src.startswith(_DATA_IMAGES)


def _highlight(code: str, language: str, _attrs: Any) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes and wraps it itself
    body = highlight(code, lexer, _FORMATTER)
    return f'<pre class="hl"><code>{body}</code></pre>\n'


def _image(_renderer: Any, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
    token = tokens[index]
    src = str(token.attrGet("src") or "")
    alt = "".join(child.content for child in token.children or [])
    if same_origin_image(src):
        return f'<img src="{escape(src)}" alt="{escape(alt)}">'
    label = f"Image: {alt}" if alt else "Image"
    return f'<a href="{escape(src)}">{escape(label)}</a>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "highlight": _highlight}).enable(["table", "strikethrough"])
    parser.add_render_rule("image", _image)
    return parser


def _attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src":
        return value if same_origin_image(value) else None
    if tag == "a" and name == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


def render_markdown(text: str, *, heading_offset: int = 3) -> Markup:
    """``text`` (Markdown from a credential) as sanitised HTML, safe to place in a page. Its
    headings are moved down ``heading_offset`` levels (``#`` becomes ``<h4>`` under the page's
    ``<h3>``), so the page's outline stays in order."""
    parser = _parser()
    tokens = parser.parse(text[:MAX_MARKDOWN_CHARS])
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + heading_offset, 6)}"
    html = parser.renderer.render(tokens, parser.options, {})
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes={"span": set(_TOKEN_CLASSES), "pre": {"hl"}},
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_attribute,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)  # sanitised just above


def highlight_css() -> str:
    """The Pygments rules for ``.hl`` code blocks (how ``site.css``'s section was made)."""
    return str(_FORMATTER.get_style_defs(".hl"))
