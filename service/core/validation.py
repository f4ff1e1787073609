"""Input validators shared by the API schemas: URLs and ids that a signed credential can carry.

Every URL or id accepted here is a valid absolute IRI for RDF (checked with pyoxigraph, which the
canonicalizer uses), so whatever the API stores can later be signed: a value JSON-LD would refuse
(spaces, ``<>"{}|\\^``, a relative reference) is refused at the door with a 422 instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

import pyoxigraph
from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic_core import core_schema

_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+", re.IGNORECASE)
# C0 controls other than tab, newline and carriage return, and DEL: no business in badge text,
# and PostgreSQL cannot store NUL at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _valid_iri(value: str) -> bool:
    try:
        pyoxigraph.NamedNode(value)
    except ValueError:
        return False
    return not any(c.isspace() for c in value)


def http_url(value: str) -> str:
    """An absolute http(s) URL with a host that is also a valid IRI, kept as written."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _valid_iri(value):
        raise ValueError('must be an absolute http(s) URL (no spaces or <>"{}|\\^` characters)')
    return value


def absolute_id(value: str) -> str:
    """An id a credential can point at: an http(s) URL or a URN."""
    if _URN.fullmatch(value) and _valid_iri(value):
        return value
    try:
        return http_url(value)
    except ValueError:
        raise ValueError("must be an absolute http(s) URL or a URN (urn:...)") from None


def clean_text(value: str) -> str:
    """Text without control characters (tab and newlines allowed) or lone surrogates."""
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (lone surrogate)") from None
    return value


#: ``clean_text``'s refusal as an ECMA-262 pattern, so the OpenAPI document says what is refused.
NO_CONTROL_CHARACTERS = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"


@dataclass(frozen=True)
class _CleanText:
    """``AfterValidator(clean_text)`` that also documents the refusal in the JSON schema."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(clean_text, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema["pattern"] = NO_CONTROL_CHARACTERS
        return json_schema


CLEAN_TEXT = _CleanText()
"""Annotation for text fields: no control characters (``clean_text``), documented as a pattern."""

HttpUrlText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048), AfterValidator(http_url)
]
"""An http(s) URL as text (OB 3.0 ``url``, ``image`` ... are plain URIs)."""

Iri = Annotated[str, StringConstraints(max_length=2048), AfterValidator(absolute_id)]
"""An http(s) URL or URN id."""
