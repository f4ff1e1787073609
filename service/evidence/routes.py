"""Evidence routes: an earner's bundles and items under ``/v1/evidence``, and the public copy of
an issued credential's evidence at ``/evidence/items/{item_id}``.

No request waits on an outside service: a URL or repository item is recorded ``fetching`` and
answered at once (202); the job ``evidence:fetch_item`` fetches or clones it and marks it
``ready`` or ``failed`` (:mod:`service.evidence.jobs`). These routes are plain ``def`` so FastAPI
runs them in its thread pool (uploads are read there).
Stored bytes are served with the type and headers :func:`service.evidence.views.content_headers`
chooses, so a browser never runs them.

Writes need a verified email address and stay within the account's quotas (see
:mod:`service.evidence.service`), checked before anything is fetched, cloned or read; URL fetches
and repository clones are also rate-limited per account (``evidence_account_fetches_per_hour``,
counted when the item is added, failed ones included).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile, status

from service.achievements.schemas import Name
from service.api.auth import EvidenceReader, EvidenceWriter, Public
from service.api.deps import SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.paging import PageDep, set_paging_headers
from service.api.ratelimit import Policy
from service.api.throttle import count
from service.core.errors import NotFound
from service.core.paging import Page
from service.credentials.models import Credential
from service.evidence import intake, jobs, service, views
from service.evidence.blobstore import BlobStore, get_blob_store
from service.evidence.intake import EvidenceFetchers, EvidenceLimits, Room
from service.evidence.models import EvidenceBundleRecord, EvidenceItemRecord
from service.evidence.schemas import (
    BundleCreate,
    BundleRetarget,
    BundleSummary,
    BundleView,
    ItemIn,
    ItemView,
    RepositoryItemIn,
    TextItemIn,
    UrlItemIn,
)
from service.platforms.earners.service import acting_issuer

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])
public_router = APIRouter(tags=["evidence"])

Earner = EvidenceWriter
BundleId = Annotated[str, Path(min_length=1, max_length=36, description="The bundle's id")]
ItemId = Annotated[str, Path(min_length=1, max_length=36, description="The item's id")]
READ_CHUNK = 256 * 1024
FETCH_WINDOW_SECONDS = 3600


def evidence_blobs(settings: SettingsDep) -> BlobStore:
    """The blob store of the app's settings (a dependency, so tests can swap it)."""
    return get_blob_store(settings)


def evidence_fetchers(settings: SettingsDep) -> EvidenceFetchers:
    """The SSRF-safe URL fetcher and repository cloner (a dependency, so tests can swap them)."""
    return EvidenceFetchers.from_settings(settings)


Blobs = Annotated[BlobStore, Depends(evidence_blobs)]
Fetchers = Annotated[EvidenceFetchers, Depends(evidence_fetchers)]


def content_response(item: EvidenceItemRecord, data: bytes, *, public: bool) -> Response:
    """Stored bytes with the type, disposition and headers that keep a browser from running them."""
    media_type, headers = views.content_headers(item, public=public)
    return Response(data, media_type=media_type, headers=headers)


def platform_issuer(request: Request) -> str | None:
    """The issuer whose platform acts for the earner (``On-Behalf-Of``): the request is confined to
    that issuer's bundles and achievements, where the platform vouches for the earner's address."""
    return acting_issuer(getattr(request.state, "principal", None))


# --- routes -----------------------------------------------------------------------------------


def count_fetch(request: Request, settings: SettingsDep, account_id: str) -> None:
    """Count one URL fetch or repository clone of the account against its hourly allowance
    (429 with ``Retry-After`` when it is used up); the ``RateLimit`` fields go on the response."""
    policy = Policy("evidence-fetch", limit=settings.evidence_account_fetches_per_hour, window=FETCH_WINDOW_SECONDS)
    decision = count(request, policy, account_id)
    if decision is not None:
        request.state.rate_limit_headers = decision.headers()


@router.post(
    "/bundles",
    response_model=BundleView,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409, 422),
)
def create_bundle(
    body: BundleCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    account: Earner,
) -> BundleView:
    """Start a bundle of evidence for an achievement (earners with a verified email address,
    else 403 `email_unverified`). Add items to it, then submit it for assessment, which locks it.
    An account has at most `SKILLCRED_EVIDENCE_ACCOUNT_MAX_OPEN_BUNDLES` open bundles (409
    `evidence_quota_exceeded`).

    A platform acting for an earner it provisioned (`On-Behalf-Of`) starts bundles for its own
    issuer's achievements only (another's is 404), and may do so before the earner verified the
    address: the platform vouches for it within its issuer."""
    bundle = service.create_bundle(
        session,
        owner=account,
        achievement_id=body.achievement_id,
        title=body.title,
        limits=EvidenceLimits.from_settings(settings),
        platform_issuer=platform_issuer(request),
    )
    response.headers["Location"] = f"/v1/evidence/bundles/{bundle.id}"
    return views.bundle_view(bundle, [], show_contact=service.can_see_contact(account, bundle))


@router.get("/bundles", response_model=Page[BundleSummary], responses=error_responses(401, 403, 422))
def list_bundles(
    request: Request, response: Response, session: SessionDep, account: Earner, page: PageDep
) -> Page[BundleSummary]:
    """Your evidence bundles, newest first, paged (`X-Total-Count`, `Link`). A platform acting for
    an earner (`On-Behalf-Of`) sees those for its issuer's achievements only."""
    bundles, total = service.list_bundles(session, page, owner=account, platform_issuer=platform_issuer(request))
    totals = service.bundle_totals(session, [b.id for b in bundles])
    set_paging_headers(request, response, page, total)
    return Page[BundleSummary](
        items=[views.bundle_summary(b, *totals.get(b.id, (0, 0))) for b in bundles],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/bundles/{bundle_id}", response_model=BundleView, responses=error_responses(401, 404, 422))
def get_bundle(bundle_id: BundleId, request: Request, session: SessionDep, account: EvidenceReader) -> BundleView:
    """A bundle and its items: for its earner, the achievement's issuer's reviewers and admins, and
    admins. A testimonial's contact is shown to the earner and the issuer's staff only."""
    bundle = service.get_bundle(session, bundle_id, viewer=account, platform_issuer=platform_issuer(request))
    items = service.list_items(session, bundle.id)
    return views.bundle_view(bundle, items, show_contact=service.can_see_contact(account, bundle))


@router.patch("/bundles/{bundle_id}", response_model=BundleView, responses=error_responses(401, 403, 404, 409, 422))
def retarget_bundle(
    bundle_id: BundleId, body: BundleRetarget, request: Request, session: SessionDep, account: Earner
) -> BundleView:
    """Point your open bundle at another achievement, keeping its items: apply for what a skill
    discovery suggestion named (`POST /v1/evidence/bundles/{bundle_id}/suggestions`) with the same
    evidence. 409 `evidence_bundle_locked` once submitted. A platform acting for an earner
    (`On-Behalf-Of`) re-targets only its own issuer's bundles, to its own issuer's achievements."""
    bundle = service.retarget_bundle(
        session,
        owner=account,
        bundle_id=bundle_id,
        achievement_id=body.achievement_id,
        platform_issuer=platform_issuer(request),
    )
    items = service.list_items(session, bundle.id)
    return views.bundle_view(bundle, items, show_contact=service.can_see_contact(account, bundle))


@router.post(
    "/bundles/{bundle_id}/items",
    response_model=ItemView,
    status_code=status.HTTP_201_CREATED,
    responses={
        202: {"model": ItemView, "description": "A `url` or `repository` item, recorded `fetching`"},
        **error_responses(401, 403, 404, 409, 413, 415, 422, 429, 507),
    },
)
def add_item(
    bundle_id: BundleId,
    body: ItemIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    account: Earner,
    blobs: Blobs,
    fetchers: Fetchers,
) -> ItemView:
    """Add a `url`, `repository`, `text` or `testimonial` item to your open bundle (files: the
    `/files` upload). A text or testimonial is stored now (201). A `url` or `repository` item is
    recorded at once with `state` `fetching` and answered 202 (`Location`: the bundle); a job then
    fetches the URL or clones the repository, over https, never from a private, loopback or
    link-local address, within time and size caps, stores the bytes content-addressed (SHA-256)
    and sniffed, and sets `state` to `ready`, or to `failed` with `error` saying why (e.g.
    `url_unreachable: ...`, `repository_unknown_commit: ...`, or a byte limit the bundle reached
    meanwhile). Poll `GET /v1/evidence/bundles/{bundle_id}`; a bundle with a `fetching` or `failed`
    item cannot be submitted. What needs no network is refused now with a 4xx and a stable code,
    storing nothing: a malformed URL or commit, another scheme than https, an IP address that may
    not be reached (`url_...`, `repository_...`), and the limits. A verified email address is
    required (403 `email_unverified`) and the account's quotas apply (`evidence_quota_exceeded`:
    413 stored bytes, 429 items per day); fetches and clones are rate-limited per account (429).
    When the evidence store's disk has no room for the bytes: 507 `evidence_storage_full`, nothing
    stored; try again later."""
    limits = EvidenceLimits.from_settings(settings)
    acting = platform_issuer(request)
    bundle, _room = service.admit(session, bundle_id, owner=account, limits=limits, platform_issuer=acting)
    if isinstance(body, UrlItemIn | RepositoryItemIn):
        count_fetch(request, settings, account.id)
        if isinstance(body, UrlItemIn):
            intake.check_url(fetchers.urls, body.url)
            prepared = intake.pending_url(body.url, name=body.name)
        else:
            intake.check_repository(fetchers.repositories, body.url, body.commit)
            prepared = intake.pending_repository(body.url, body.commit, name=body.name)
        item = service.add_item(
            session, blobs, bundle.id, prepared, owner=account, limits=limits, platform_issuer=acting
        )
        jobs.defer_fetch(session, item.id)
        response.status_code = status.HTTP_202_ACCEPTED
        response.headers["Location"] = f"/v1/evidence/bundles/{bundle.id}"
        return views.item_view(item, show_contact=False)
    if isinstance(body, TextItemIn):
        prepared = intake.prepare_text(body.text, limits, name=body.name)
    else:
        prepared = intake.prepare_testimonial(
            body.statement,
            limits,
            author_name=body.author_name,
            contact_email=body.contact_email,
            contact_phone=body.contact_phone,
            name=body.name,
        )
    item = service.add_item(session, blobs, bundle.id, prepared, owner=account, limits=limits, platform_issuer=acting)
    response.headers["Location"] = views.content_url(item)
    return views.item_view(item, show_contact=service.can_see_contact(account, bundle))


def _read_upload(upload: UploadFile, room: Room) -> bytes:
    """The upload's bytes, read in chunks and refused as soon as they pass the room left (the
    file limit, or less when the bundle or the account is nearly full)."""
    if upload.size is not None and upload.size > room.max_bytes:
        raise room.refusal
    data = bytearray()
    while chunk := upload.file.read(READ_CHUNK):
        data += chunk
        if len(data) > room.max_bytes:
            raise room.refusal
    return bytes(data)


@router.post(
    "/bundles/{bundle_id}/files",
    response_model=ItemView,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409, 413, 415, 422, 429, 507),
)
def upload_file(
    bundle_id: BundleId,
    file: Annotated[UploadFile, File(description="The file")],
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    account: Earner,
    blobs: Blobs,
    name: Annotated[Name | None, Form(description="A title for the item")] = None,
) -> ItemView:
    """Upload a file to your open bundle (multipart, field `file`; optional `name`). Its type is
    sniffed from the bytes (the Content-Type sent is recorded, not trusted): PDF, images, UTF-8
    text, and ZIP, tar or gzip archives that pass inspection (no absolute or `..` paths, no
    links, no zip bombs, nesting at most one level) are accepted; executables and unknown
    binaries are refused (415). Size and count limits per file and per bundle apply (413, 409), and
    so do a verified email address (403 `email_unverified`) and the account's quotas
    (`evidence_quota_exceeded`: 413 stored bytes, 429 items per day). When the evidence store's
    disk has no room for the bytes: 507 `evidence_storage_full`, nothing stored; try again later."""
    limits = EvidenceLimits.from_settings(settings)
    acting = platform_issuer(request)
    bundle, room = service.admit(session, bundle_id, owner=account, limits=limits, platform_issuer=acting)
    data = _read_upload(file, room)
    prepared = intake.prepare_file(data, limits, file_name=file.filename, content_type=file.content_type, name=name)
    item = service.add_item(session, blobs, bundle.id, prepared, owner=account, limits=limits, platform_issuer=acting)
    response.headers["Location"] = views.content_url(item)
    return views.item_view(item, show_contact=service.can_see_contact(account, bundle))


@router.delete(
    "/bundles/{bundle_id}/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409, 422),
)
def delete_item(
    bundle_id: BundleId, item_id: ItemId, request: Request, session: SessionDep, account: Earner
) -> Response:
    """Remove an item from your bundle while it is open (409 once it is locked)."""
    service.delete_item(session, bundle_id, item_id, owner=account, platform_issuer=platform_issuer(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/bundles/{bundle_id}/items/{item_id}/content",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The item's stored bytes"},
        **error_responses(401, 404, 422),
    },
)
def get_item_content(
    bundle_id: BundleId, item_id: ItemId, request: Request, session: SessionDep, account: EvidenceReader, blobs: Blobs
) -> Response:
    """An item's stored bytes (a repository's as a git bundle), for the bundle's earner, the
    issuer's reviewers and admins, and admins. Served as a download (images inline); HTML and
    SVG as `text/plain`."""
    item, data = service.item_content(
        session, blobs, bundle_id, item_id, viewer=account, platform_issuer=platform_issuer(request)
    )
    return content_response(item, data, public=False)


@public_router.get(
    "/evidence/items/{item_id}",
    response_class=Response,
    dependencies=[Public],
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The item's stored bytes"},
        **error_responses(404, 422),
    },
)
def get_public_item(item_id: ItemId, session: SessionDep, blobs: Blobs) -> Response:
    """The stored bytes of a piece of evidence that an issued credential cites (its `evidence`
    entry's `id`), so anyone can check them against the entry's `digestMultibase`. Not found
    until a credential is issued; a testimonial's contact is never served. Downloads are named
    with a real extension (the uploaded file's name, else `evidence-<id>` plus the type's), and a
    credential its earner made private keeps its evidence private too (404)."""
    item, data = service.public_item_content(session, blobs, item_id)
    if not citing_credential_is_public(session, item):
        raise NotFound("No such evidence item")
    return content_response(item, data, public=True)


def citing_credential_is_public(session: SessionDep, item: EvidenceItemRecord) -> bool:
    """Whether the credential that cites the item's bundle is public (the earner's choice)."""
    bundle = session.get(EvidenceBundleRecord, item.bundle_id)
    credential = session.get(Credential, bundle.credential_id) if bundle and bundle.credential_id else None
    return credential is None or credential.public
