"""Endorsement rows as API responses: the one place an :class:`Endorsement`, an
:class:`EndorsementRequest` or an :class:`EndorsementChallenge` becomes an API shape."""

from __future__ import annotations

import json
from collections.abc import Iterable

from service.core.config import Settings
from service.credentials.service import credential_url
from service.endorsements.models import Endorsement, EndorsementChallenge, EndorsementRequest, EndorsementState
from service.endorsements.schemas import ChallengeOut, EndorsementOut, EndorsementRequestOut
from service.endorsements.service import endorsement_url


def endorsement_view(settings: Settings, endorsement: Endorsement) -> EndorsementOut:
    """The API view of an endorsement; the signed document (parsed from the stored text) only while
    it is accepted: it is released once the earner accepts it, never to the requester before."""
    return EndorsementOut(
        id=endorsement.id,
        credential_id=endorsement.credential_id,
        kind=str(endorsement.kind),
        state=str(endorsement.state),
        endorser_id=endorsement.endorser_id,
        endorser_name=endorsement.endorser_name,
        comment=endorsement.comment,
        issued_at=endorsement.issued_at,
        state_changed_at=endorsement.state_changed_at,
        url=endorsement_url(settings, endorsement.id),
        endorsement=json.loads(endorsement.jsonld) if endorsement.state == EndorsementState.accepted else None,
    )


def endorsement_views(settings: Settings, endorsements: Iterable[Endorsement]) -> list[EndorsementOut]:
    """Every endorsement given, in the order given."""
    return [endorsement_view(settings, endorsement) for endorsement in endorsements]


def request_view(settings: Settings, pending: EndorsementRequest, token: str) -> EndorsementRequestOut:
    """A request waiting for its email confirmation; the one-time ``token`` is shown only outside
    production (production only mails it)."""
    return EndorsementRequestOut(
        id=pending.id,
        credential_id=pending.credential_id,
        state=str(pending.state),
        expires_at=pending.expires_at,
        verification_token=None if settings.is_production else token,
    )


def challenge_view(settings: Settings, challenge: EndorsementChallenge) -> ChallengeOut:
    """What the endorser signs: the nonce, for the endorsed credential's id URL as audience."""
    return ChallengeOut(
        id=challenge.id,
        did=challenge.did,
        nonce=challenge.nonce,
        audience=credential_url(settings, challenge.credential_id),
        expires_at=challenge.expires_at,
    )
