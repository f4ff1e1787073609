"""Render HTML and Markdown to the text a person would see, keeping apart what a person would not.

:func:`render` returns the visible text and, separately, every hidden fragment with the reason it
is hidden: CSS ``display:none`` / ``visibility:hidden`` / ``font-size:0`` / ``opacity:0`` /
off-screen positioning / zero-size clipping, white text on a white (or unset) background, the
``hidden`` and ``aria-hidden`` attributes, ``<template>``, HTML comments and Markdown comment
idioms (``[//]: # (...)``). Attribute text that is not page content (``<meta content>``, ``title``,
``aria-label``, ``data-*``) is returned as ``metadata``. Scripts and styles are neither visible nor
"hidden text"; they are returned as ``code`` for the injection scan only. Uses only the standard library's tolerant
:class:`html.parser.HTMLParser`; nothing is fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
BLOCK_TAGS = frozenset(
    """address article aside blockquote br dd details div dl dt fieldset figcaption
figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table td th tr ul""".split()
)
CODE_TAGS = frozenset({"script", "style"})
_METADATA_ATTRIBUTES = frozenset(
    {"content", "title", "aria-label", "aria-description", "placeholder", "value", "summary"}
)
_WHITE = {"#fff", "#ffffff", "white", "rgb(255,255,255)", "rgba(255,255,255,1)", "#fffffe", "#fefefe"}
_MARKDOWN_COMMENT = re.compile(
    r"^[ \t]*\[(?://|comment|_)?[^\]\n]*\]:\s*(?:#|<>)\s*[(\"'](.*)[)\"'][ \t]*$", re.IGNORECASE | re.MULTILINE
)
_LOOKS_LIKE_HTML = re.compile(
    r"<\s*(?:!--|!doctype|html|body|div|span|p|section|article|a\s|h[1-6]|ul|li|"
    r"table|main|header|footer|nav|style|script|template|img|br)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class HiddenFragment:
    """Text a reader of the rendered page would not see, and why."""

    reason: str
    text: str


@dataclass
class Rendered:
    """What :func:`render` makes of a document."""

    visible: str
    hidden: list[HiddenFragment] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    metadata: list[HiddenFragment] = field(default_factory=list)
    """Attribute text a reader never sees as page content (``<meta content>``, ``title``,
    ``data-*``, ``aria-label``, ...): screened for instructions only (a page's description is not
    hidden text)."""


def _style_map(style: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for declaration in style.split(";"):
        name, sep, value = declaration.partition(":")
        if sep:
            result[name.strip().lower()] = re.sub(r"\s+", "", value.strip().lower().replace("!important", ""))
    return result


def _number(value: str) -> float | None:
    match = re.match(r"^(-?\d*\.?\d+)", value)
    return float(match.group(1)) if match else None


def _hiding_reason(tag: str, attrs: dict[str, str], background: str | None) -> str | None:
    """Why an element with these attributes is invisible, or None when it is not."""
    if "hidden" in attrs:
        return "hidden attribute"
    if attrs.get("aria-hidden", "").strip().lower() == "true":
        return "aria-hidden"
    if tag == "template":
        return "template"
    if attrs.get("type", "").lower() == "hidden" and tag == "input":
        return "hidden input"
    style = _style_map(attrs.get("style", ""))
    if style.get("display") == "none":
        return "display:none"
    if style.get("visibility") in ("hidden", "collapse"):
        return "visibility:hidden"
    for name in ("font-size", "opacity", "line-height" if style.get("overflow") == "hidden" else ""):
        if name and name in style and _number(style[name]) == 0:
            return f"{name}:0"
    if style.get("overflow") == "hidden" and any(
        _number(style.get(dim, "1")) == 0 for dim in ("height", "width", "max-height")
    ):
        return "zero size"
    if "clip" in style and re.search(r"rect\(0(px)?,0(px)?,0(px)?,0(px)?\)", style["clip"]):
        return "clip"
    if "clip-path" in style and ("inset(50%" in style["clip-path"] or "inset(100%" in style["clip-path"]):
        return "clip-path"
    if "transform" in style and re.search(r"scale\(0(\.0+)?\)", style["transform"]):
        return "transform:scale(0)"
    if style.get("position") in ("absolute", "fixed"):
        for side in ("left", "top", "right", "bottom"):
            offset = _number(style.get(side, ""))
            if offset is not None and offset <= -500:
                return "off-screen position"
    indent = _number(style.get("text-indent", ""))
    if indent is not None and indent <= -500:
        return "off-screen text-indent"
    color = style.get("color")
    if color in _WHITE and (background is None or background in _WHITE):
        return "white on white"
    if color and background and color == background:
        return "text colour equals background"
    return None


def _background(attrs: dict[str, str]) -> str | None:
    style = _style_map(attrs.get("style", ""))
    value = style.get("background-color") or style.get("background")
    return value.split()[0] if value else None


class _Renderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # stack entries: (tag, hiding reason or None, background, is code)
        self.stack: list[tuple[str, str | None, str | None, bool]] = []
        self.visible: list[str] = []
        self.hidden: list[HiddenFragment] = []
        self.code: list[str] = []
        self.metadata: list[HiddenFragment] = []

    def _state(self) -> tuple[str | None, str | None, bool]:
        reason = next((entry[1] for entry in reversed(self.stack) if entry[1]), None)
        background = next((entry[2] for entry in reversed(self.stack) if entry[2]), None)
        in_code = any(entry[3] for entry in self.stack)
        return reason, background, in_code

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        for name, value in values.items():
            if value.strip() and (name in _METADATA_ATTRIBUTES or name.startswith("data-")) and len(value.split()) >= 3:
                self.metadata.append(HiddenFragment(f"<{tag} {name}>", value))
        _, background, _ = self._state()
        own_background = _background(values)
        reason = _hiding_reason(tag, values, own_background or background)
        if tag in ("img", "area") and values.get("alt") and not reason:
            self.visible.append(" " + values["alt"] + " ")
        if tag in BLOCK_TAGS:
            self.visible.append("\n")
        if tag in VOID_TAGS:
            return
        self.stack.append((tag, reason, own_background, tag in CODE_TAGS))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self.visible.append("\n")
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == tag:
                del self.stack[position:]
                return

    def handle_data(self, data: str) -> None:
        reason, _, in_code = self._state()
        if in_code:
            self.code.append(data)
        elif reason:
            if data.strip():
                self.hidden.append(HiddenFragment(reason, data))
        else:
            self.visible.append(data)

    def handle_comment(self, data: str) -> None:
        if data.strip():
            self.hidden.append(HiddenFragment("HTML comment", data))


def _merge(fragments: list[HiddenFragment]) -> list[HiddenFragment]:
    """Join consecutive fragments hidden for the same reason (one hidden element, one fragment)."""
    merged: list[HiddenFragment] = []
    for fragment in fragments:
        if merged and merged[-1].reason == fragment.reason and fragment.reason != "HTML comment":
            merged[-1] = HiddenFragment(fragment.reason, merged[-1].text + " " + fragment.text)
        else:
            merged.append(fragment)
    return [HiddenFragment(f.reason, " ".join(f.text.split())) for f in merged]


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def render_html(source: str) -> Rendered:
    """The visible text of an HTML document, its hidden fragments and its script/style code."""
    parser = _Renderer()
    parser.feed(source)
    parser.close()
    return Rendered(_tidy("".join(parser.visible)), _merge(parser.hidden), parser.code, parser.metadata)


def render_markdown(source: str) -> Rendered:
    """Markdown as read on a rendered page: comment idioms hidden, inline HTML rendered, link and
    emphasis markup dropped (the words stay)."""
    hidden = [HiddenFragment("Markdown comment", m.group(1).strip()) for m in _MARKDOWN_COMMENT.finditer(source)]
    text = _MARKDOWN_COMMENT.sub("", source)
    metadata: list[HiddenFragment] = []
    if "<" in text:
        rendered = render_html(text)
        text, hidden, code, metadata = rendered.visible, hidden + rendered.hidden, rendered.code, rendered.metadata
    else:
        code = []
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)  # images -> alt text
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links -> their words
    text = re.sub(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__|`{1,3}|~~)", "", text)
    return Rendered(_tidy(text), hidden, code, metadata)


def looks_like_html(text: str) -> bool:
    """True when ``text`` has HTML markup worth rendering (not just a stray ``<``)."""
    return bool(_LOOKS_LIKE_HTML.search(text))


def render(text: str, media_type: str, name: str | None = None) -> Rendered:
    """Render ``text`` by its media type (or file name): HTML, Markdown, else plain text."""
    lowered_name = (name or "").lower()
    if "html" in media_type or lowered_name.endswith((".html", ".htm")):
        return render_html(text)
    if "markdown" in media_type or lowered_name.endswith((".md", ".markdown")):
        return render_markdown(text)
    if looks_like_html(text):
        return render_html(text)
    return Rendered(_tidy(text))
