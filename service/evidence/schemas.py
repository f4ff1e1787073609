"""Evidence API shapes: bundle and item inputs (strict, bounded) and the views the API returns.

Items other than files arrive as JSON, one shape per ``kind`` (``url``, ``repository``, ``text``,
``testimonial``); files arrive as a multipart upload. A testimonial's contact is personal data:
views carry it only for the earner and the issuer's reviewers and admins (``contact`` is null
for anyone else).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from service.achievements.schemas import Name
from service.core.validation import (
    CLEAN_TEXT,
    DNS_NAME_PATTERN,
    IPV6_PATTERN,
    IRI_PATH_AND_TAIL,
    IRI_REFUSED_PATTERN,
    PORT_PATTERN,
    Email,
    any_of_set,
    http_iri,
    rule,
)

MAX_TEXT_CHARS = 1_000_000
MAX_STATEMENT_CHARS = 20_000
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{3,38}[0-9]")
_HTTPS_HOST = f"^[Hh][Tt][Tt][Pp][Ss]://(?:{DNS_NAME_PATTERN}|\\[{IPV6_PATTERN}\\])(?::{PORT_PATTERN})?"
#: What the SSRF-safe fetcher takes: https, a DNS name or an IP address (no user:password@), a
#: valid port, an IRI path, query and fragment. (An address it must not reach is then refused.)
FETCHABLE_URL_PATTERN = f"{_HTTPS_HOST}{IRI_PATH_AND_TAIL}$"
#: What the repository cloner takes: the same without query or fragment, and a path of plain URL
#: characters that is more than slashes.
REPOSITORY_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]://(?:[A-Za-z0-9][A-Za-z0-9-]{0,62}(?:\.[A-Za-z0-9-]{1,63})*\.?"
    f"|\\[{IPV6_PATTERN}\\])(?::{PORT_PATTERN})?"
    r"/+[A-Za-z0-9._~!$&'()*+,;=:@%-][A-Za-z0-9._~!$&'()*+,;=:@/%-]*$"
)
COMMIT_PATTERN = "^(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$"


def _phone(value: str) -> str:
    if not _PHONE.fullmatch(value):
        raise ValueError("a phone number: digits, spaces and ( ) . - with an optional leading +")
    return value


def _checked_when_fetched(value: str) -> str:
    """The URL fetcher and the repository cloner check these rules before they reach the network
    (422 ``url_bad_scheme``, ``url_bad_url``, ``repository_bad_url``...): a deployment's tests may
    let them reach plain http on loopback, which the schema's patterns, production's rules, do not."""
    return value


Phone = Annotated[str, Field(min_length=5, max_length=40), rule(_phone, pattern=f"^{_PHONE.pattern}$")]
FetchableUrl = Annotated[
    str,
    Field(min_length=1, max_length=2048),
    AfterValidator(http_iri),
    rule(_checked_when_fetched, pattern=FETCHABLE_URL_PATTERN, **{"not": {"pattern": IRI_REFUSED_PATTERN}}),
]
RepositoryUrl = Annotated[
    str, Field(min_length=1, max_length=2048), rule(_checked_when_fetched, pattern=REPOSITORY_URL_PATTERN)
]
Commit = Annotated[str, Field(min_length=40, max_length=64), rule(_checked_when_fetched, pattern=COMMIT_PATTERN)]
Statement = Annotated[str, Field(min_length=1, max_length=MAX_STATEMENT_CHARS), CLEAN_TEXT]
NarrativeText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), CLEAN_TEXT]
Identifier = Annotated[str, Field(min_length=1, max_length=36)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BundleCreate(_Input):
    """A new, empty bundle of evidence for an achievement (any issuer's)."""

    achievement_id: Identifier
    title: Name | None = None


class BundleRetarget(_Input):
    """The achievement an open bundle is for, changed (its items stay)."""

    achievement_id: Identifier


class UrlItemIn(_Input):
    """A web page or document: fetched once, by a job right after it is added, and its bytes
    kept as the item (https only; private, loopback and link-local addresses are refused after
    DNS resolution)."""

    kind: Literal["url"]
    url: FetchableUrl
    name: Name | None = None


class RepositoryItemIn(_Input):
    """A git repository (an `https://` URL) pinned to a full commit id: cloned once, by a job
    right after it is added, and its history up to that commit kept as a git bundle."""

    kind: Literal["repository"]
    url: RepositoryUrl
    commit: Commit
    name: Name | None = None


class TextItemIn(_Input):
    """A narrative written by the earner (plain text or Markdown), kept as UTF-8."""

    kind: Literal["text"]
    text: NarrativeText
    name: Name | None = None


class ClientTestimonialIn(_Input):
    """A client's statement about the work, with their name and a way to contact them (an email,
    a phone number or both). The contact is never published."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=any_of_set("contact_email", "contact_phone"))

    kind: Literal["testimonial"]
    statement: Statement
    author_name: Name
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    name: Name | None = None

    @model_validator(mode="after")
    def _some_contact(self) -> ClientTestimonialIn:
        if self.contact_email is None and self.contact_phone is None:
            raise ValueError("a testimonial needs contact_email, contact_phone or both")
        return self


ItemIn = Annotated[UrlItemIn | RepositoryItemIn | TextItemIn | ClientTestimonialIn, Field(discriminator="kind")]


class ContactView(BaseModel):
    """How to reach a testimonial's author (personal data)."""

    email: str | None
    phone: str | None


class ItemView(BaseModel):
    """One item. `sha256`, `size` and `media_type` (sniffed from the bytes) describe what is
    stored; `digest_multibase` is the same digest as credentials carry it. `state`: a `url` or
    `repository` item is `fetching` until a job has fetched it, then `ready` (its bytes stored)
    or `failed` (`error` says why; no bytes: remove or replace it). Until it is `ready`, the
    digest, media type and `content_url` are null and `size` is 0."""

    id: str
    kind: Literal["url", "repository", "file", "text", "testimonial"]
    state: Literal["fetching", "ready", "failed"]
    error: str | None
    name: str | None
    sha256: str | None
    digest_multibase: str | None
    size: int
    media_type: str | None
    declared_media_type: str | None
    file_name: str | None
    url: str | None
    final_url: str | None
    http_status: int | None
    fetched_at: datetime | None
    commit: str | None
    author_name: str | None
    contact: ContactView | None
    created_at: datetime
    content_url: str | None


class BundleSummary(BaseModel):
    """A bundle without its items."""

    id: str
    achievement_id: str
    issuer_id: str
    owner_id: str
    title: str | None
    state: Literal["open", "locked"]
    item_count: int
    total_bytes: int
    created_at: datetime
    updated_at: datetime
    locked_at: datetime | None
    credential_id: str | None


class BundleView(BundleSummary):
    """A bundle with its items in the order they were added."""

    items: list[ItemView]
