"""Jinja2 templates for server-rendered pages and images (autoescaped, no external assets, no
JavaScript). The templates themselves live in ``service/web/templates``; rendering lives here so
that any layer (a credential's SVG badge, the public pages) can render without importing the web
package."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


@cache
def environment() -> Environment:
    """The template environment. Autoescaping is on for every template (HTML and SVG alike)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """Render ``service/web/templates/<name>`` with ``context`` (values are escaped)."""
    return environment().get_template(name).render(**context)
