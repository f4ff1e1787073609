"""Housekeeping of endorsement requests and challenges (run by :mod:`service.endorsements.jobs`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col

from service.endorsements.models import EndorsementChallenge, EndorsementRequest, RequestState

CHALLENGE_KEPT_FOR = timedelta(days=1)
"""A used or expired challenge is kept this long (for the record of a recent attempt)."""


def expire_requests(session: Session, now: datetime) -> int:
    """Every pending request past its expiry stops being pending and forgets the address it
    would have confirmed; returns how many."""
    result = session.connection().execute(
        update(EndorsementRequest)
        .where(col(EndorsementRequest.state) == RequestState.pending, col(EndorsementRequest.expires_at) <= now)
        .values(state=RequestState.expired, email=None, open_key=None)
    )
    return int(result.rowcount or 0)


def delete_spent_challenges(session: Session, now: datetime) -> int:
    """Delete the challenges that expired more than :data:`CHALLENGE_KEPT_FOR` ago (used or not):
    a challenge is single use and short-lived, so nothing can spend them any more."""
    result = session.connection().execute(
        delete(EndorsementChallenge).where(col(EndorsementChallenge.expires_at) <= now - CHALLENGE_KEPT_FOR)
    )
    return int(result.rowcount or 0)
