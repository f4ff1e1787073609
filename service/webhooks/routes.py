"""Webhook subscriptions (issuer admins for their issuer, admins for any) and the documentation
of each event's payload (OpenAPI ``webhooks``: :data:`event_docs`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.api.auth import WebhookManager
from service.api.deps import ClockDep, KeystoreDep, SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.paging import PageDep, set_paging_headers
from service.core.paging import Page
from service.webhooks import service, views
from service.webhooks.schemas import (
    AssessmentEvent,
    BulkCompletedEvent,
    CredentialExpiringEvent,
    CredentialIssuedEvent,
    CredentialStatusEvent,
    DeliveryOut,
    EndorsementReceivedEvent,
    SecretRotated,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
)

router = APIRouter(prefix="/v1", tags=["webhooks"])


@router.post(
    "/webhooks",
    status_code=201,
    response_model=SubscriptionCreated,
    responses=error_responses(401, 403, 404, 409, 422),
)
def create_webhook(
    body: SubscriptionIn, session: SessionDep, settings: SettingsDep, keystore: KeystoreDep, account: WebhookManager
) -> SubscriptionCreated:
    """Subscribe a URL (https, to a public address) to an issuer's events; any other URL is 422
    `bad_webhook_url`, and an admin who names no issuer 422 `issuer_required`. The answer holds the signing secret
    (`whsec_...`): it is shown this once only. Every delivery is signed with it (Standard
    Webhooks headers `webhook-id`, `webhook-timestamp`, `webhook-signature`); see docs/webhooks.md."""
    subscription, secret = service.create_subscription(
        session, settings, keystore, account, url=body.url, events=list(body.events), issuer_id=body.issuer_id
    )
    return views.created_view(subscription, secret)


@router.get("/webhooks", response_model=Page[SubscriptionOut], responses=error_responses(401, 403, 422))
def list_webhooks(
    request: Request,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    account: WebhookManager,
    page: PageDep,
    issuer_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[SubscriptionOut]:
    """The webhooks an issuer admin manages (their issuer's), or all of them for admins (filter
    with `issuer_id`). Secrets are never shown."""
    rows, total = service.list_subscriptions(session, account, page, issuer_id=issuer_id)
    set_paging_headers(request, response, page, total)
    now = clock.now()
    return Page[SubscriptionOut](
        items=[views.subscription_view(s, now) for s in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=error_responses(401, 403, 404))
def delete_webhook(webhook_id: str, session: SessionDep, account: WebhookManager) -> Response:
    """Delete a webhook with its delivery log; pending deliveries are dropped."""
    service.delete_subscription(session, account, webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut], responses=error_responses(401, 403, 404, 422)
)
def list_deliveries(
    webhook_id: str, request: Request, response: Response, session: SessionDep, account: WebhookManager, page: PageDep
) -> Page[DeliveryOut]:
    """The webhook's deliveries, newest first: state, attempts (each with its status code or
    error and duration), the next attempt's time."""
    rows, total, log = service.list_deliveries(session, account, webhook_id, page)
    set_paging_headers(request, response, page, total)
    return Page[DeliveryOut](
        items=[views.delivery_view(d, log[d.id]) for d in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryOut,
    responses=error_responses(401, 403, 404),
)
def redeliver(webhook_id: str, delivery_id: str, session: SessionDep, account: WebhookManager) -> DeliveryOut:
    """Send a delivery again at once (a delivered, pending or failed one); the attempt is logged
    as manual. Answers 202: the attempt runs in the background."""
    delivery = service.redeliver(session, account, webhook_id, delivery_id)
    return views.delivery_view(delivery, [])


@router.post(
    "/webhooks/{webhook_id}/secret/rotate", response_model=SecretRotated, responses=error_responses(401, 403, 404)
)
def rotate_secret(
    webhook_id: str, session: SessionDep, keystore: KeystoreDep, clock: ClockDep, account: WebhookManager
) -> SecretRotated:
    """A new signing secret, shown this once. For 24 hours deliveries carry two signatures (the
    new secret's and the previous one's, space-separated in `webhook-signature`), so the
    receiver can switch without losing a delivery."""
    subscription, secret = service.rotate_secret(session, keystore, account, webhook_id, clock.now())
    return views.rotated_view(subscription, secret)


@router.post("/webhooks/{webhook_id}/disable", response_model=SubscriptionOut, responses=error_responses(401, 403, 404))
def disable_webhook(webhook_id: str, session: SessionDep, clock: ClockDep, account: WebhookManager) -> SubscriptionOut:
    """Stop deliveries to a webhook by hand (audited; its pending deliveries fail at their next
    attempt). Disabling a disabled webhook changes nothing."""
    subscription = service.set_enabled(session, account, webhook_id, enabled=False, now=clock.now())
    return views.subscription_view(subscription, clock.now())


@router.post("/webhooks/{webhook_id}/enable", response_model=SubscriptionOut, responses=error_responses(401, 403, 404))
def enable_webhook(webhook_id: str, session: SessionDep, clock: ClockDep, account: WebhookManager) -> SubscriptionOut:
    """Deliver to a disabled webhook again (by hand or after persistent failures), from the next
    event on; failed deliveries can be sent again with `redeliver`. Audited."""
    subscription = service.set_enabled(session, account, webhook_id, enabled=True, now=clock.now())
    return views.subscription_view(subscription, clock.now())


# --- the events, as receivers get them (OpenAPI `webhooks`; create_app includes this router) ------

event_docs = APIRouter(tags=["webhooks"])


@event_docs.post("credential.issued")
def credential_issued(body: CredentialIssuedEvent) -> None:
    """A credential was issued (by the API, a renewal, an assessment, a bulk run or a reissue)."""


@event_docs.post("credential.revoked")
def credential_revoked(body: CredentialStatusEvent) -> None:
    """A credential was revoked (for good)."""


@event_docs.post("credential.suspended")
def credential_suspended(body: CredentialStatusEvent) -> None:
    """A credential was suspended."""


@event_docs.post("credential.unsuspended")
def credential_unsuspended(body: CredentialStatusEvent) -> None:
    """A suspended credential is active again."""


@event_docs.post("credential.expiring")
def credential_expiring(body: CredentialExpiringEvent) -> None:
    """A credential's `validUntil` is near (`SKILLCRED_EXPIRY_REMINDER_DAYS`); sent once per credential."""


@event_docs.post("assessment.completed")
def assessment_completed(body: AssessmentEvent) -> None:
    """An assessment reached its decision."""


@event_docs.post("assessment.needs_review")
def assessment_needs_review(body: AssessmentEvent) -> None:
    """An assessment waits for a reviewer (the review queue)."""


@event_docs.post("endorsement.received")
def endorsement_received(body: EndorsementReceivedEvent) -> None:
    """An endorsement of one of the issuer's credentials arrived (pending the earner's decision)."""


@event_docs.post("bulk.completed")
def bulk_completed(body: BulkCompletedEvent) -> None:
    """A bulk issuance run finished."""
