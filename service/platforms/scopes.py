"""OAuth 2.0 scopes: the Open Badges 3.0 API's four and SkillCred's own.

A route declares the scopes that let a client token through (any one of them suffices, next to
the roles it admits); a person's own token (password grant) carries no scope and is bounded by
the account's role alone. A client token reaches only routes that declare one of its scopes.
"""

from __future__ import annotations

OB = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"

CREDENTIAL_READONLY = OB + "credential.readonly"
CREDENTIAL_UPSERT = OB + "credential.upsert"
PROFILE_READONLY = OB + "profile.readonly"
PROFILE_UPDATE = OB + "profile.update"

EARNERS_PROVISION = "earners:provision"
EVIDENCE_WRITE = "evidence:write"
ASSESSMENTS_READ = "assessments:read"
ACHIEVEMENTS_READ = "achievements:read"
CREDENTIALS_ISSUE = "credentials:issue"
CREDENTIALS_REVOKE = "credentials:revoke"
WEBHOOKS_MANAGE = "webhooks:manage"
JOBS_READ = "jobs:read"

DESCRIPTIONS: dict[str, str] = {
    CREDENTIAL_READONLY: "Read Open Badges credentials (an earner's, or your issuer's)",
    CREDENTIAL_UPSERT: "Store Open Badges credentials in an earner's backpack",
    PROFILE_READONLY: "Read the profile (an earner's, or your issuer's)",
    PROFILE_UPDATE: "Update the profile (an earner's, or your issuer's)",
    EARNERS_PROVISION: "Create earner accounts for your platform's users and act for them",
    EVIDENCE_WRITE: "Submit portfolio evidence and ask for assessments",
    ASSESSMENTS_READ: "Read assessments and their results",
    ACHIEVEMENTS_READ: "Read your issuer's achievements and rubrics",
    CREDENTIALS_ISSUE: "Issue credentials, one at a time or in bulk",
    CREDENTIALS_REVOKE: "Revoke, suspend and reinstate credentials",
    WEBHOOKS_MANAGE: "Manage webhook subscriptions and their deliveries",
    JOBS_READ: "Read the state and results of background jobs",
}
"""Every scope a client may hold, with the sentence the consent page shows for it."""

ALL: frozenset[str] = frozenset(DESCRIPTIONS)

EARNER_SCOPES: frozenset[str] = frozenset(
    {CREDENTIAL_READONLY, CREDENTIAL_UPSERT, PROFILE_READONLY, PROFILE_UPDATE, EVIDENCE_WRITE, ASSESSMENTS_READ}
)
"""What an earner may grant a client through the authorization code grant (acting as the earner)."""


def parse(scope: str | None) -> frozenset[str]:
    """The set of scopes in an OAuth ``scope`` parameter (space-separated, RFC 6749 section 3.3)."""
    return frozenset((scope or "").split())


def render(scopes: frozenset[str] | set[str]) -> str:
    """A ``scope`` parameter value, sorted so equal sets render alike."""
    return " ".join(sorted(scopes))
