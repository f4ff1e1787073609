"""What a visitor handed the verify page, turned into the bytes the verifier reads.

Three ways in: a file (a baked PNG or SVG badge, a JSON or JWT file), pasted text (a credential's
JSON or a compact JWT), or a pasted URL. A URL is fetched only through the SSRF-safe client
(:func:`service.verification.fetching.fetch_credential`), except a badge URL of this very service
(``{public_url}/credentials/{id}``), which is read from the database: the service never makes
HTTP requests to itself. A credential its earner made private is not found that way either, as
its page is not. No FastAPI here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.core.config import Settings
from service.core.db import autocommitting
from service.core.errors import NotFound, ServiceError
from service.credentials.service import get_credential
from service.net import SafeFetcher
from service.verification.fetching import CredentialUrlError, fetch_credential

MAX_TEXT_BYTES = 1024 * 1024
"""Pasted text: a credential with its endorsements fits many times over."""
FORM_OVERHEAD_BYTES = MAX_TEXT_BYTES + 64 * 1024
"""What the form adds to the file it carries: the pasted text, field names, multipart framing."""
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_OWN_BADGE = re.compile(r"/credentials/([A-Za-z0-9-]{1,64})(?:/badge\.(?:png|svg))?/?")


class SubmissionError(ServiceError):
    """The submission cannot be verified as given; ``detail`` says why in plain words."""

    status_code, code = 422, "invalid_submission"


@dataclass(frozen=True)
class Submission:
    """The form's fields: pasted ``text`` and an uploaded file's bytes (None: no file chosen)."""

    text: str = ""
    file: bytes | None = None
    file_name: str | None = None

    @property
    def url(self) -> str | None:
        """The pasted text when it is a URL (one token with a scheme), else None."""
        text = self.text.strip()
        return text if _URL.fullmatch(text) else None


def page_body_limit(settings: Settings) -> int:
    """The most bytes ``POST /verify`` reads: the largest upload plus the form around it. A file
    over ``max_upload_bytes`` within this is answered by the page, saying so; a body past it is
    refused before it is read."""
    return settings.max_upload_bytes + FORM_OVERHEAD_BYTES


def credential_bytes(engine: Engine, settings: Settings, fetcher: SafeFetcher, submission: Submission) -> bytes:
    """The bytes to verify; raises :class:`SubmissionError` or
    :class:`~service.verification.fetching.CredentialUrlError` saying what is wrong. Blocking
    (it may fetch a URL): call it from a worker thread."""
    has_text = bool(submission.text.strip())
    if submission.file is not None and has_text:
        raise SubmissionError("Give one credential at a time: either paste it or choose a file, not both.")
    if submission.file is not None:
        if not submission.file:
            raise SubmissionError("The file is empty.")
        return submission.file
    if not has_text:
        raise SubmissionError("Paste a badge URL, a credential or a token, or choose a file, then press Verify.")
    url = submission.url
    if url is None:
        return submission.text.strip().encode("utf-8")
    own = own_credential_id(settings, url)
    if own is not None:
        return _own_credential(engine, own)
    return fetch_credential(fetcher, url).content


def own_credential_id(settings: Settings, url: str) -> str | None:
    """The credential id of a badge URL on this service's own host, None for another host;
    :class:`CredentialUrlError` for any other URL on this host (it is not fetched)."""
    try:
        parts = urlsplit(url)
        host, own = parts.hostname, urlsplit(settings.public_url).hostname
    except ValueError:
        return None  # the fetcher refuses it in its own words
    if host is None or own is None or host.rstrip(".").lower() != own.rstrip(".").lower():
        return None
    found = _OWN_BADGE.fullmatch(parts.path)
    if found is None:
        raise CredentialUrlError(
            "This address is on this service but is not a badge's address (…/credentials/…). "
            "Paste the badge's own address, or the credential itself."
        )
    return found.group(1)


def _own_credential(engine: Engine, credential_id: str) -> bytes:
    with Session(autocommitting(engine)) as session:
        try:
            credential = get_credential(session, credential_id)
        except NotFound:
            credential = None
        if credential is None or not credential.public:
            raise CredentialUrlError("There is no public badge at this address on this service.")
        return credential.jsonld.encode("utf-8")
