"""The issuer's webhooks: list them with their state and latest delivery, create one (its
signing secret shown this once), disable or enable, rotate the secret and delete after a
confirmation step, and read one webhook's delivery log with "send again" for a delivery.

The door is the API's (``/v1/webhooks``): admins, and an issuer's admins for their own issuer;
reviewers and earners get a 403 page, another issuer's webhook is a 404 page. Each page validates
its form with the API's schema (:class:`SubscriptionIn`) and calls the service function the API's
route calls, so a URL is checked exactly as the API checks it (https, a host, no credentials, no
private address; names again at every delivery). A refusal rolls the request's changes back and
shows the page again with the reason. Enabling and disabling by hand have no API route yet; they
call :func:`service.webhooks.service.set_enabled`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from service.api.deps import ClockDep, KeystoreDep, SessionDep, SettingsDep
from service.api.page_auth import (
    IdPath,
    IssuerAdminPage,
    NoticeQuery,
    PageCaller,
    PageNumberQuery,
    html_page,
    issuer_in_scope,
    redirect,
)
from service.core.clock import Clock
from service.core.errors import NotFound, ServiceError
from service.core.templates import render
from service.issuers.models import Issuer
from service.portal.issuer import pages as issuer_pages
from service.portal.issuer.webhooks import pages
from service.webhooks import service as webhooks
from service.webhooks import views
from service.webhooks.schemas import SecretRotated, SubscriptionCreated, SubscriptionIn

router = APIRouter(tags=["portal"], include_in_schema=False)

NOTICES = {
    "disabled": "The webhook was disabled: no events are sent to it.",
    "enabled": "The webhook was enabled: events from now on are sent to it.",
    "deleted": "The webhook was deleted with its delivery log.",
    "redelivered": "The delivery is being sent again; reload this page to see the attempt.",
}
"""The fixed messages a page shows after a form (the query names one; nothing is echoed)."""


def _base(issuer: Issuer) -> str:
    return f"/portal/issuer/{issuer.id}/webhooks"


def _page(
    request: Request, template: str, caller: PageCaller, issuer: Issuer, *, status: int = 200, **context: Any
) -> Response:
    html = render(
        template, account=caller.account, csrf_token=caller.csrf, issuer=issuer, **pages.template_helpers(), **context
    )
    return html_page(request, html, status_code=status)


def _list(
    request: Request,
    session: Session,
    clock: Clock,
    caller: PageCaller,
    issuer: Issuer,
    *,
    created: SubscriptionCreated | None = None,
    form: dict[str, Any] | None = None,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    return _page(
        request,
        "portal/issuer_webhooks.html",
        caller,
        issuer,
        status=status,
        hooks=pages.webhook_list(session, caller.account, issuer.id, clock.now()),
        created=created,
        form=form or {"url": "", "events": []},
        events=pages.event_choices(),
        limit=webhooks.MAX_SUBSCRIPTIONS_PER_ISSUER,
        notice=notice,
        error=error,
    )


@router.get("/portal/issuer/{issuer_id}/webhooks")
def webhook_list(
    issuer_id: IdPath,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    caller: IssuerAdminPage,
    done: NoticeQuery = None,
) -> Response:
    """The issuer's webhooks (URL, events, enabled or disabled and why, latest delivery) and the
    form to create one."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    return _list(request, session, clock, caller, issuer, notice=NOTICES.get(done or "", ""))


@router.post("/portal/issuer/{issuer_id}/webhooks")
def create_webhook(
    issuer_id: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeystoreDep,
    clock: ClockDep,
    caller: IssuerAdminPage,
) -> Response:
    """Create a webhook as ``POST /v1/webhooks`` does; the answer shows its signing secret this
    once (never in a URL; the page is not cached)."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    chosen = [v for v in caller.form.getlist("events") if isinstance(v, str)] if caller.form else []
    url = caller.field("url").strip()
    form = {"url": url, "events": chosen}
    try:
        body = SubscriptionIn.model_validate({"url": url, "events": chosen, "issuer_id": issuer.id})
    except ValidationError:
        message = "Give the receiver's https URL (8 to 2,048 characters) and choose at least one event."
        return _list(request, session, clock, caller, issuer, form=form, error=message, status=422)
    try:
        subscription, secret = webhooks.create_subscription(
            session,
            settings,
            keystore,
            caller.account,
            url=body.url,
            events=list(body.events),
            issuer_id=body.issuer_id,
        )
    except ServiceError as refused:
        session.rollback()
        return _list(
            request, session, clock, caller, issuer, form=form, error=refused.detail, status=refused.status_code
        )
    created = views.created_view(subscription, secret)
    return _list(request, session, clock, caller, issuer, created=created, status=201)


def _detail(
    request: Request,
    session: Session,
    clock: Clock,
    caller: PageCaller,
    issuer: Issuer,
    webhook_id: str,
    page: int,
    *,
    rotated: SecretRotated | None = None,
    notice: str = "",
) -> Response:
    subscription = pages.subscription_of(session, caller.account, issuer.id, webhook_id)
    deliveries, paging = pages.delivery_log(session, caller.account, subscription, issuer_pages.paging(page, {}))
    return _page(
        request,
        "portal/issuer_webhooks_log.html",
        caller,
        issuer,
        hook=views.subscription_view(subscription, clock.now()),
        deliveries=deliveries,
        paging=paging,
        rotated=rotated,
        notice=notice,
    )


@router.get("/portal/issuer/{issuer_id}/webhooks/{webhook_id}")
def webhook_log(
    issuer_id: IdPath,
    webhook_id: IdPath,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    caller: IssuerAdminPage,
    page: PageNumberQuery = 1,
    done: NoticeQuery = None,
) -> Response:
    """One webhook and its delivery log, newest first, paged: each delivery's event, state,
    attempts (response code or error, time) and a button to send it again."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    return _detail(request, session, clock, caller, issuer, webhook_id, page, notice=NOTICES.get(done or "", ""))


@router.post("/portal/issuer/{issuer_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
def redeliver(
    issuer_id: IdPath, webhook_id: IdPath, delivery_id: IdPath, session: SessionDep, caller: IssuerAdminPage
) -> Response:
    """Send a delivery again at once, as ``POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver``
    does (the attempt runs in the background and is logged as manual)."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    pages.subscription_of(session, caller.account, issuer.id, webhook_id)
    webhooks.redeliver(session, caller.account, webhook_id, delivery_id)
    return redirect(f"{_base(issuer)}/{webhook_id}?done=redelivered")


def _action(action: str) -> dict[str, str]:
    words = pages.ACTIONS.get(action)
    if words is None:
        raise NotFound("No such page")
    return words


@router.get("/portal/issuer/{issuer_id}/webhooks/{webhook_id}/{action}")
def confirm_webhook_change(
    issuer_id: IdPath,
    webhook_id: IdPath,
    action: IdPath,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    caller: IssuerAdminPage,
) -> Response:
    """The confirmation step of ``disable``, ``enable``, ``rotate`` (the secret) or ``delete``."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    words = _action(action)
    hook = views.subscription_view(pages.subscription_of(session, caller.account, issuer.id, webhook_id), clock.now())
    possible = not (action == "disable" and hook.state == "disabled") and not (
        action == "enable" and hook.state == "active"
    )
    return _page(
        request,
        "portal/issuer_webhooks_confirm.html",
        caller,
        issuer,
        hook=hook,
        action=action,
        words=words,
        possible=possible,
    )


@router.post("/portal/issuer/{issuer_id}/webhooks/{webhook_id}/{action}")
def change_webhook(
    issuer_id: IdPath,
    webhook_id: IdPath,
    action: IdPath,
    request: Request,
    session: SessionDep,
    keystore: KeystoreDep,
    clock: ClockDep,
    caller: IssuerAdminPage,
) -> Response:
    """Disable or enable the webhook, rotate its secret (``POST /v1/webhooks/{id}/secret/rotate``:
    the new secret shown this once) or delete it (``DELETE /v1/webhooks/{id}``)."""
    issuer = issuer_in_scope(session, caller, issuer_id)
    words = _action(action)
    pages.subscription_of(session, caller.account, issuer.id, webhook_id)  # 404 for another issuer's
    account, now = caller.account, clock.now()
    if action == "rotate":
        subscription, secret = webhooks.rotate_secret(session, keystore, account, webhook_id, now)
        rotated = views.rotated_view(subscription, secret)
        return _detail(request, session, clock, caller, issuer, webhook_id, 1, rotated=rotated)
    if action == "delete":
        webhooks.delete_subscription(session, account, webhook_id)
        return redirect(f"{_base(issuer)}?done={words['done']}")
    webhooks.set_enabled(session, account, webhook_id, enabled=action == "enable", now=now)
    return redirect(f"{_base(issuer)}/{webhook_id}?done={words['done']}")
