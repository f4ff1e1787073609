"""Turning what an earner hands in into bytes worth storing, or a clear refusal. No database here.

Each ``prepare_*`` function fetches, clones, sniffs and inspects *before* anything is stored, and
returns a :class:`PreparedItem` (the bytes plus what the item row records) or raises a
:class:`~service.core.errors.ServiceError` with a stable code. The service stores a prepared item only
after it also fits the bundle's limits, so a refusal leaves no blob and no row behind.

URLs and repositories are fetched by the job ``evidence:fetch_item``, not while a request waits:
the request refuses only what needs no network (:func:`check_url`, :func:`check_repository`)
and records a :func:`pending_url` / :func:`pending_repository` item; the job calls
:func:`prepare_url` / :func:`prepare_repository`.

What is accepted (for uploads and fetched URL bodies alike): PDF, PNG, JPEG, GIF, WebP, UTF-8
text (plain, Markdown, CSV, JSON, XML, HTML, SVG), and ZIP (Office documents included), tar and
gzip archives that pass :func:`~service.evidence.archives.inspect_archive`. Refused:
executables (ELF, PE, Mach-O, WebAssembly) and any other binary. Why: assessors and reviewers can
only judge what they can read; an unknown binary is opaque to both and the classic way to hand a
reviewer malware, or to use the service as free storage. The client's Content-Type is recorded
but never decides anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network

from service.core.config import Settings
from service.core.errors import PayloadTooLarge, ServiceError, UnsupportedMediaType
from service.core.models import utcnow
from service.evidence import sniff as sniffing
from service.evidence.archives import ArchiveLimits, ArchiveRefused, inspect_archive, is_archive_type
from service.evidence.repositories import RepositoryFetcher
from service.net.errors import FetchError, Unreachable
from service.net.fetch import SafeFetcher

RETRYABLE = frozenset({Unreachable.code, "timeout"})
"""Fetch failures worth another try (the network, not the URL)."""

ACCEPTED_BINARY = frozenset(
    {"application/pdf", *sniffing.IMAGE_TYPES, *sniffing.ARCHIVE_TYPES, *sniffing.OOXML_TYPES.values()}
)
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
_FILE_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
UPLOAD_PATH_PATTERN = r"/v1/evidence/bundles/[^/]+/files"
"""The upload route, for the body-size middleware (its limit: one file plus multipart overhead)."""
MULTIPART_OVERHEAD = 64 * 1024


def upload_body_limits(settings: Settings) -> tuple[tuple[str, int], ...]:
    """``(path pattern, body limit)`` for :class:`service.api.limits.BodySizeLimit`: the evidence
    upload route takes one file of up to ``evidence_max_file_bytes`` plus multipart framing."""
    return ((UPLOAD_PATH_PATTERN, settings.evidence_max_file_bytes + MULTIPART_OVERHEAD),)


@dataclass(frozen=True)
class EvidenceLimits:
    """How much one item, one bundle and one account may hold, and how far an archive may expand."""

    max_file_bytes: int = 10 * 1024 * 1024
    max_items: int = 20
    max_bundle_bytes: int = 50 * 1024 * 1024
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    account_max_bytes: int = 250 * 1024 * 1024
    account_max_open_bundles: int = 20
    account_max_items_per_day: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceLimits:
        return cls(
            max_file_bytes=settings.evidence_max_file_bytes,
            max_items=settings.evidence_max_items,
            max_bundle_bytes=settings.evidence_max_bundle_bytes,
            archive=ArchiveLimits(
                max_entries=settings.evidence_archive_max_entries,
                max_total_bytes=settings.evidence_archive_max_uncompressed_bytes,
                max_ratio=settings.evidence_archive_max_ratio,
            ),
            account_max_bytes=settings.evidence_account_max_bytes,
            account_max_open_bundles=settings.evidence_account_max_open_bundles,
            account_max_items_per_day=settings.evidence_account_max_items_per_day,
        )


@dataclass(frozen=True)
class EvidenceFetchers:
    """What reaches the network for evidence: URLs through ``urls``, git through ``repositories``."""

    urls: SafeFetcher
    repositories: RepositoryFetcher

    @classmethod
    def from_settings(
        cls, settings: Settings, allowed_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    ) -> EvidenceFetchers:
        """The production fetchers: https only, public addresses only (``allowed_networks`` is
        for code that deliberately trusts a network, e.g. tests; no setting reaches it)."""
        return cls(
            urls=SafeFetcher(
                timeout=settings.evidence_fetch_timeout_seconds,
                max_bytes=settings.evidence_max_file_bytes,
                allowed_networks=allowed_networks,
            ),
            repositories=RepositoryFetcher(
                timeout=settings.evidence_clone_timeout_seconds,
                max_bytes=settings.evidence_max_repository_bytes,
                max_checkout_bytes=settings.evidence_max_checkout_bytes,
                max_checkout_files=settings.evidence_max_checkout_files,
                allowed_networks=allowed_networks,
            ),
        )


@dataclass(frozen=True)
class PreparedItem:
    """An item that passed every check, ready to store: its bytes and its row's columns."""

    kind: str
    data: bytes
    media_type: str
    name: str | None = None
    declared_media_type: str | None = None
    file_name: str | None = None
    url: str | None = None
    final_url: str | None = None
    http_status: int | None = None
    fetched_at: datetime | None = None
    commit: str | None = None
    author_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    state: str = "ready"
    """``fetching`` for a URL or repository item recorded before its bytes (:func:`pending_url`)."""


def file_too_large(limits: EvidenceLimits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"An evidence item may hold at most {limits.max_file_bytes} bytes", code="evidence_file_too_large"
    )


@dataclass(frozen=True)
class Room:
    """How many bytes one more item may hold: the item limit, or less when the bundle or the
    account has less room left; ``refusal`` is the error for an item larger than ``max_bytes``
    (``evidence_file_too_large``, ``evidence_bundle_too_large`` or ``evidence_quota_exceeded``).
    A fetch or an upload is cut off at ``max_bytes``, so no more is read than could be stored."""

    max_bytes: int
    refusal: ServiceError

    @classmethod
    def of_item(cls, limits: EvidenceLimits) -> Room:
        """Room for an item when only the item limit applies."""
        return cls(limits.max_file_bytes, file_too_large(limits))


def checked_content(data: bytes, limits: EvidenceLimits, *, file_name: str | None = None) -> str:
    """The sniffed media type of ``data`` once it passes the content policy (module doc)."""
    if not data:
        raise ServiceError("The evidence is empty", code="evidence_empty", status_code=422)
    if len(data) > limits.max_file_bytes:
        raise file_too_large(limits)
    sniffed = sniffing.sniff(data, file_name)
    if sniffed.media_type == sniffing.EXECUTABLE:
        raise UnsupportedMediaType("Executable programs are not accepted as evidence", code="evidence_executable")
    if not sniffed.is_text and sniffed.media_type not in ACCEPTED_BINARY:
        raise UnsupportedMediaType(
            "This kind of file is not accepted as evidence: send PDF, PNG, JPEG, GIF, WebP, UTF-8 "
            "text (Markdown, HTML, JSON, CSV...), or a ZIP, tar or gzip archive",
            code="evidence_media_type_unsupported",
        )
    if is_archive_type(sniffed.media_type):
        try:
            inspect_archive(data, limits.archive)
        except ArchiveRefused as err:
            raise ServiceError(f"The archive was refused: {err}", code=err.code, status_code=422) from None
    return sniffed.media_type


def safe_file_name(name: str | None) -> str | None:
    """The last path segment of a client's file name, without control characters, at most 255."""
    if not name:
        return None
    base = _FILE_NAME_CONTROL.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return base[:255] or None


def declared_type(content_type: str | None) -> str | None:
    """The client's media type (``type/subtype``, lower case, parameters dropped), or None."""
    if not content_type:
        return None
    value = content_type.split(";", 1)[0].strip().lower()
    return value if _MEDIA_TYPE.fullmatch(value) else None


# --- the kinds ------------------------------------------------------------------------------


def prepare_text(text: str, limits: EvidenceLimits, *, name: str | None) -> PreparedItem:
    """A narrative: its UTF-8 bytes, stored as written (``text/plain``)."""
    data = text.encode("utf-8")
    if len(data) > limits.max_file_bytes:
        raise file_too_large(limits)
    return PreparedItem(kind="text", data=data, media_type="text/plain", name=name)


def prepare_testimonial(
    statement: str,
    limits: EvidenceLimits,
    *,
    author_name: str,
    contact_email: str | None,
    contact_phone: str | None,
    name: str | None,
) -> PreparedItem:
    """A client's statement (stored as UTF-8 bytes); author and contact go in the row only."""
    data = statement.encode("utf-8")
    if len(data) > limits.max_file_bytes:
        raise file_too_large(limits)
    return PreparedItem(
        kind="testimonial",
        data=data,
        media_type="text/plain",
        name=name,
        author_name=author_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
    )


def prepare_file(
    data: bytes, limits: EvidenceLimits, *, file_name: str | None, content_type: str | None, name: str | None
) -> PreparedItem:
    """An upload: sniffed, checked against the policy, archives inspected."""
    file_name = safe_file_name(file_name)
    media_type = checked_content(data, limits, file_name=file_name)
    return PreparedItem(
        kind="file",
        data=data,
        media_type=media_type,
        name=name,
        file_name=file_name,
        declared_media_type=declared_type(content_type),
    )


def prepare_url(
    fetcher: SafeFetcher, url: str, limits: EvidenceLimits, *, name: str | None, room: Room | None = None
) -> PreparedItem:
    """Fetch ``url`` now (SSRF-safe, capped at the item limit or the ``room`` left, whichever is
    smaller) and keep its body as the item."""
    room = room or Room.of_item(limits)
    cap = min(room.max_bytes, limits.max_file_bytes)
    try:
        result = fetcher.fetch(url, max_bytes=cap)
    except FetchError as err:
        if err.code == "too_large" and cap < limits.max_file_bytes:
            raise room.refusal from None  # it would fit an item, but not what is left of the bundle or account
        raise _url_refusal(err) from None
    media_type = checked_content(result.content, limits, file_name=result.url.rsplit("/", 1)[-1])
    return PreparedItem(
        kind="url",
        data=result.content,
        media_type=media_type,
        name=name,
        url=url,
        final_url=result.url,
        http_status=result.status,
        fetched_at=utcnow(),
        declared_media_type=declared_type(result.headers.get("content-type")),
    )


def prepare_repository(
    fetcher: RepositoryFetcher, url: str, commit: str, limits: EvidenceLimits, *, name: str | None
) -> PreparedItem:
    """Clone ``url`` now (SSRF-safe, capped) and keep its history up to ``commit`` as a git bundle."""
    try:
        cloned = fetcher.fetch(url, commit)
    except FetchError as err:
        raise _repository_refusal(err) from None
    return PreparedItem(
        kind="repository",
        data=cloned.bundle,
        media_type=sniffing.GIT_BUNDLE,
        name=name,
        url=url,
        commit=cloned.commit,
        fetched_at=utcnow(),
    )


# --- URL and repository items fetched by a job ---------------------------------------------------


def _url_refusal(err: FetchError) -> ServiceError:
    return ServiceError(f"The URL could not be fetched: {err}", code=f"url_{err.code}", status_code=422)


def _repository_refusal(err: FetchError) -> ServiceError:
    return ServiceError(f"The repository could not be cloned: {err}", code=f"repository_{err.code}", status_code=422)


def check_url(fetcher: SafeFetcher, url: str) -> None:
    """What can be said of ``url`` without the network (422 ``url_bad_url``, ``url_bad_scheme``,
    ``url_blocked_address`` for an IP address it may not reach): the fetch job does the rest."""
    try:
        fetcher.precheck(url)
    except FetchError as err:
        raise _url_refusal(err) from None


def check_repository(fetcher: RepositoryFetcher, url: str, commit: str) -> None:
    """What can be said of a repository URL and commit without the network (422
    ``repository_bad_url``, ``repository_bad_scheme``, ``repository_blocked_address``)."""
    try:
        fetcher.precheck(url, commit)
    except FetchError as err:
        raise _repository_refusal(err) from None


def pending_url(url: str, *, name: str | None) -> PreparedItem:
    """A URL item recorded before its bytes: state ``fetching``, no bytes yet."""
    return PreparedItem(kind="url", data=b"", media_type="", name=name, url=url, state="fetching")


def pending_repository(url: str, commit: str, *, name: str | None) -> PreparedItem:
    """A repository item recorded before its bytes: state ``fetching``, no bytes yet."""
    return PreparedItem(
        kind="repository", data=b"", media_type="", name=name, url=url, commit=commit.lower(), state="fetching"
    )


def is_retryable(error: ServiceError) -> bool:
    """Whether a fetch refusal came from the network (worth another try) rather than the URL."""
    return error.code.split("_", 1)[-1] in RETRYABLE
