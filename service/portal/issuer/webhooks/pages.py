"""What the webhook pages show, read through the services the API's webhook routes call
(:mod:`service.webhooks.service`) and shaped with the API's own views. No FastAPI here, and
nothing commits. The routes check the caller's issuer scope first; a webhook of another issuer is
:class:`NotFound` in the API's words, for admins too (the page is about one issuer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.accounts.models import Account
from service.core.errors import NotFound
from service.core.paging import PageParams
from service.events.service import EVENT_TYPES
from service.portal.issuer.pages import Paging, with_total
from service.webhooks import service, views
from service.webhooks.models import WebhookSubscription
from service.webhooks.schemas import DeliveryOut, SubscriptionOut

EVENT_WORDS = {
    "credential.issued": "A credential was issued",
    "credential.revoked": "A credential was revoked",
    "credential.suspended": "A credential was suspended",
    "credential.unsuspended": "A credential's suspension was lifted",
    "credential.expiring": "A credential's expiry is near",
    "assessment.completed": "An assessment reached its decision",
    "assessment.needs_review": "An assessment waits for a reviewer",
    "endorsement.received": "An endorsement of one of your credentials arrived",
    "bulk.completed": "A bulk issuance run finished",
}
"""The event types a webhook may ask for (:data:`service.events.service.EVENT_TYPES`), in words."""

ACTIONS = {
    "disable": {
        "verb": "Disable",
        "done": "disabled",
        "button": "Disable the webhook",
        "warning": "No events are sent to it until you enable it again; deliveries still waiting for "
        "their next attempt fail. Events that happen meanwhile are not sent later.",
    },
    "enable": {
        "verb": "Enable",
        "done": "enabled",
        "button": "Enable the webhook",
        "warning": "Events from now on are sent to it again. Earlier failed deliveries stay failed: "
        "send them again from its delivery log.",
    },
    "rotate": {
        "verb": "Rotate the secret of",
        "done": "rotated",
        "button": "Make a new secret",
        "warning": "A new signing secret is made and shown once. For 24 hours every delivery is signed "
        "with both the new and the current secret, so your receiver can switch without losing a delivery; "
        "then only the new one signs.",
    },
    "delete": {
        "verb": "Delete",
        "done": "deleted",
        "button": "Delete the webhook",
        "warning": "The webhook and its delivery log are deleted and deliveries still waiting are dropped. "
        "It cannot be undone: create a new webhook instead.",
    },
}
"""The confirmation step's words for each change of a webhook."""


def event_choices() -> dict[str, str]:
    """Every event type a webhook may receive, with its words, in the documentation's order."""
    return {event: EVENT_WORDS.get(event, event) for event in EVENT_TYPES}


def subscription_of(session: Session, account: Account, issuer_id: str, webhook_id: str) -> WebhookSubscription:
    """The webhook if ``account`` may manage it (the API's rule) and it is ``issuer_id``'s;
    :class:`NotFound` otherwise."""
    subscription = service.get_subscription(session, account, webhook_id)
    if subscription.issuer_id != issuer_id:
        raise NotFound(service.NO_SUCH_WEBHOOK)
    return subscription


@dataclass(frozen=True)
class WebhookRow:
    """A webhook as the list shows it: the API's view and its latest delivery (if any)."""

    hook: SubscriptionOut
    last: DeliveryOut | None


def webhook_list(session: Session, account: Account, issuer_id: str, now: datetime) -> list[WebhookRow]:
    """The issuer's webhooks, oldest first (as ``GET /v1/webhooks?issuer_id=`` lists them), each
    with its latest delivery (``GET /v1/webhooks/{id}/deliveries``, first item)."""
    everything = PageParams(limit=service.MAX_SUBSCRIPTIONS_PER_ISSUER, offset=0)
    found, _ = service.list_subscriptions(session, account, everything, issuer_id=issuer_id)
    rows = []
    for subscription in found:
        latest, _, log = service.list_deliveries(session, account, subscription.id, PageParams(limit=1, offset=0))
        last = views.delivery_view(latest[0], log[latest[0].id]) if latest else None
        rows.append(WebhookRow(views.subscription_view(subscription, now), last))
    return rows


def delivery_log(
    session: Session, account: Account, subscription: WebhookSubscription, page: Paging
) -> tuple[list[DeliveryOut], Paging]:
    """One page of the webhook's deliveries, newest first, each with its attempts."""
    found, total, log = service.list_deliveries(session, account, subscription.id, page.params)
    return [views.delivery_view(d, log[d.id]) for d in found], with_total(page, total)


def state_kind(state: str) -> str:
    """The tag colour of a delivery or webhook state."""
    return {"active": "ok", "delivered": "ok", "pending": "warn", "disabled": "bad", "failed": "bad"}.get(
        state, "neutral"
    )


def template_helpers() -> dict[str, Any]:
    """What every webhook template gets besides its data."""
    return {"state_kind": state_kind, "event_words": EVENT_WORDS}
