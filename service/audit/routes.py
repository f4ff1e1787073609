"""Reading the audit log (there is no route that changes it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.accounts.models import Role
from service.api.auth import IssuerManager
from service.api.deps import SessionDep
from service.api.errors import error_responses
from service.api.paging import PageDep, set_paging_headers
from service.audit import service, views
from service.audit.schemas import AuditEventOut
from service.core.paging import Page

router = APIRouter(prefix="/v1", tags=["audit"])
public_router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=Page[AuditEventOut], responses=error_responses(401, 403, 422))
def list_audit_events(
    request: Request,
    response: Response,
    session: SessionDep,
    account: IssuerManager,
    page: PageDep,
    issuer_id: Annotated[str | None, Query(max_length=36)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[AuditEventOut]:
    """The append-only audit log, newest first, paged: every issuance, key rotation, account and
    achievement change (and the lifecycle actions as they arrive). Admins read all of it (filter
    with `issuer_id`); an issuer admin reads their own issuer's events only."""
    events, total = service.list_events(
        session,
        page,
        sees_every_issuer=account.role == Role.admin,
        viewer_issuer_id=account.issuer_id,
        issuer_id=issuer_id,
        action=action,
        object_id=object_id,
    )
    set_paging_headers(request, response, page, total)
    return Page[AuditEventOut](
        items=[views.audit_event_view(e) for e in events], total=total, limit=page.limit, offset=page.offset
    )
