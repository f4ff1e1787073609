"""Jinja2 templates for server-rendered pages and images (autoescaped, no external assets). The
templates live in ``service/web/templates`` and the files they link (stylesheet, small scripts) in
``service/web/static``; rendering lives here so that any layer (a credential's SVG badge, the
public pages) can render without importing the web package.

Templates link a static file with ``static_url("site.css")``: its URL carries a digest of the
file's bytes, so the file can be cached for a year and a changed file is fetched at once."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
STATIC = TEMPLATES.parent / "static"
STATIC_PREFIX = "/static/"


@cache
def static_files() -> dict[str, bytes]:
    """Every file of ``service/web/static`` by name (read once: the set is fixed at build time)."""
    return {path.name: path.read_bytes() for path in sorted(STATIC.iterdir()) if path.is_file()}


@cache
def static_digest(name: str) -> str:
    """A short digest of the static file ``name`` (KeyError when there is none)."""
    return hashlib.sha256(static_files()[name]).hexdigest()[:16]


def static_url(name: str) -> str:
    """The URL of the static file ``name``, versioned by its content (``/static/site.css?v=...``)."""
    return f"{STATIC_PREFIX}{name}?v={static_digest(name)}"


@cache
def environment() -> Environment:
    """The template environment. Autoescaping is on for every template (HTML and SVG alike)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    return env


def render(name: str, **context: Any) -> str:
    """Render ``service/web/templates/<name>`` with ``context`` (values are escaped)."""
    return environment().get_template(name).render(**context)
