"""Status API shapes: the body of revoke, suspend and unsuspend."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from service.core.validation import CLEAN_TEXT

MAX_REASON_LENGTH = 500

Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON_LENGTH),
    CLEAN_TEXT,
]


class StatusChangeIn(BaseModel):
    """Why the status changes. Kept on the credential and in the audit log; shown to the
    issuer's staff and the earner, never on the public badge page."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason
