"""Server-rendered pages and images: Jinja2 templates (autoescaped), no external assets, no JavaScript."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates"


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
    """Render ``templates/<name>`` with ``context`` (values are escaped)."""
    return environment().get_template(name).render(**context)
