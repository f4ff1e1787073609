"""What the issuer admin's pages show, read through the services the API's routes call and shaped
with the API's own views (``AchievementView``, ``SigningKeyOut``, ``AuditEventOut``...). No
FastAPI here, and nothing commits. The caller's issuer scope is checked by the routes
(:func:`service.api.auth.ensure_issuer_scope`) before anything here runs; objects of another
issuer are :class:`NotFound` in the API's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.accounts.service import normalise_email
from service.achievements import service as achievements
from service.achievements import views as achievement_views
from service.achievements.schemas import AchievementView
from service.audit import service as audit
from service.audit import views as audit_views
from service.audit.schemas import AuditEventOut
from service.core.errors import NotFound
from service.core.paging import PageParams, paginate
from service.credentials import service as credentials
from service.credentials.errors import InvalidCredentialRequest
from service.credentials.lifecycle import StatusAction
from service.credentials.models import Credential, CredentialState, RecipientIdentity
from service.issuers import service as issuers
from service.issuers import views as issuer_views
from service.issuers.models import Issuer
from service.issuers.schemas import SigningKeyOut
from service.skills.esco import get_skill
from service.skills.schemas import SkillOut
from service.skills.search import search_skills
from service.skills.views import skill_view

PAGE_SIZE = 25
SKILL_RESULTS = 10
ACTIONS = {
    StatusAction.revoke: {
        "verb": "Revoke",
        "done": "revoked",
        "warning": "Revocation is permanent: the credential fails verification everywhere from now on "
        "(here at once, elsewhere once the status list is re-signed), and it cannot be undone.",
    },
    StatusAction.suspend: {
        "verb": "Suspend",
        "done": "suspended",
        "warning": "While suspended the credential fails verification; you can lift the suspension later.",
    },
    StatusAction.unsuspend: {
        "verb": "Lift the suspension of",
        "done": "unsuspended",
        "warning": "The credential verifies again once the suspension is lifted.",
    },
}
"""The confirmation step's words for each lifecycle action."""
STATE_KIND = {"active": "ok", "suspended": "warn", "revoked": "bad"}


@dataclass(frozen=True)
class Paging:
    """Where a paged list is: page ``number`` (from 1) of ``total`` items, and the links either side."""

    number: int
    size: int
    total: int
    query: dict[str, str]

    @property
    def params(self) -> PageParams:
        return PageParams(limit=self.size, offset=(self.number - 1) * self.size)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    def link(self, number: int) -> str:
        """The query string of page ``number`` with the same filters."""
        return "?" + urlencode({**{k: v for k, v in self.query.items() if v}, "page": str(number)})


def paging(number: int, query: dict[str, str]) -> Paging:
    """Page ``number`` (1 for anything smaller) of a list filtered by ``query``; the total is set later."""
    return Paging(max(1, number), PAGE_SIZE, 0, query)


def with_total(page: Paging, total: int) -> Paging:
    return Paging(page.number, page.size, total, page.query)


# --- issuers -----------------------------------------------------------------------------------


def issuer_choices(session: Session, account: Account) -> list[Issuer]:
    """The issuers the account may manage: every issuer for an admin, their own otherwise."""
    found, _ = issuers.list_issuers(session, PageParams(limit=500, offset=0), viewer=account)
    return found


def overview(session: Session, account: Account, issuer: Issuer) -> dict[str, Any]:
    """The overview: the issuer, how many achievements and credentials it has, and its active keys."""
    _, achievement_count = achievements.list_achievements(session, issuer.id, PageParams(limit=1, offset=0))
    _, credential_count = credentials.list_credentials(
        session, PageParams(limit=1, offset=0), viewer=account, issuer_id=issuer.id
    )
    keys = [key for key in issuer_keys(session, issuer) if key.active]
    return {"achievement_count": achievement_count, "credential_count": credential_count, "active_keys": keys}


# --- achievements ------------------------------------------------------------------------------


def achievement_list(session: Session, issuer_id: str, page: Paging) -> tuple[list[AchievementView], Paging]:
    """The issuer's achievements at their current versions, newest first, one page."""
    found, total = achievements.list_achievements(session, issuer_id, page.params)
    return [achievement_views.achievement_view(f) for f in found], with_total(page, total)


def achievement_of(session: Session, issuer_id: str, achievement_id: str) -> achievements.AchievementAtVersion:
    """The achievement at its current version if it is ``issuer_id``'s; :class:`NotFound` otherwise."""
    found = achievements.get_achievement(session, achievement_id)
    if found.achievement.issuer_id != issuer_id:
        raise NotFound(achievements.NO_SUCH_ACHIEVEMENT)
    return found


def skills_found(query: str) -> list[SkillOut]:
    """The bundled ESCO skills matching ``query`` (the search ``GET /v1/skills`` runs), best first."""
    return [skill_view(skill) for skill in search_skills(query, SKILL_RESULTS)] if query else []


def skills_chosen(uris: list[str]) -> list[dict[str, str]]:
    """The chosen skills with their labels (an unknown URI is shown as such; saving refuses it)."""
    chosen = []
    for uri in uris:
        skill = get_skill(uri)
        chosen.append({"uri": uri, "label": skill.label if skill else "(not in the bundled ESCO data)"})
    return chosen


def achievement_names(session: Session, issuer_id: str) -> dict[str, str]:
    """Every achievement of the issuer by id, with its current name (for filters and lists)."""
    found, _ = achievements.list_achievements(session, issuer_id, PageParams(limit=500, offset=0))
    return {f.achievement.id: f.content.name for f in found}


# --- credentials -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialFilters:
    """The credential search's filters, as typed (empty: no filter)."""

    recipient: str = ""
    achievement_id: str = ""
    state: str = ""

    def query(self) -> dict[str, str]:
        return {"recipient": self.recipient, "achievement": self.achievement_id, "state": self.state}


def _by_state(
    session: Session, issuer_id: str, filters: CredentialFilters, params: PageParams
) -> tuple[list[tuple[Credential, RecipientIdentity]], int]:
    """The issuer's credentials in one state (the API's list has no state filter), with the same
    recipient and achievement filters and order as :func:`service.credentials.service.list_credentials`."""
    statement = (
        select(Credential, RecipientIdentity)
        .join(RecipientIdentity, col(RecipientIdentity.id) == col(Credential.recipient_id))
        .where(Credential.issuer_id == issuer_id, Credential.state == CredentialState(filters.state))
        .order_by(col(Credential.issued_at).desc(), col(Credential.id))
    )
    if filters.achievement_id:
        statement = statement.where(Credential.achievement_id == filters.achievement_id)
    if filters.recipient:
        statement = statement.where(
            RecipientIdentity.kind == "email", RecipientIdentity.email == normalise_email(filters.recipient)
        )
    rows, total = paginate(session, statement, params)
    return [(row[0], row[1]) for row in rows], total


def credential_row(credential: Credential, identity: RecipientIdentity, names: dict[str, str]) -> dict[str, Any]:
    """One credential as the list and the confirmation page show it."""
    state = str(credential.state)
    return {
        "id": credential.id,
        "achievement": names.get(credential.achievement_id, "An achievement"),
        "version": credential.achievement_version,
        "recipient": identity.email if identity.kind == "email" else identity.did,
        "issued_at": credential.issued_at,
        "valid_until": credential.valid_until,
        "state": state,
        "kind": STATE_KIND.get(state, "warn"),
        "reason": credential.status_reason,
        "changed_at": credential.status_changed_at,
        "actions": [
            action.value
            for action in StatusAction
            if (action == StatusAction.revoke and state != "revoked")
            or (action == StatusAction.suspend and state == "active")
            or (action == StatusAction.unsuspend and state == "suspended")
        ],
        "path": f"/credentials/{credential.id}",
    }


def credential_search(
    session: Session, account: Account, issuer_id: str, filters: CredentialFilters, page: Paging
) -> tuple[list[dict[str, Any]], Paging]:
    """One page of the issuer's credentials, newest first, filtered by recipient email, achievement
    and state (the API's list service; the state filter is :func:`_by_state`). A recipient that is
    not an email address is :class:`InvalidCredentialRequest`, as in the API."""
    if filters.recipient and "@" not in filters.recipient:
        raise InvalidCredentialRequest("Search by the recipient's email address.")
    if filters.state:
        rows, total = _by_state(session, issuer_id, filters, page.params)
    else:
        rows, total = credentials.list_credentials(
            session,
            page.params,
            viewer=account,
            issuer_id=issuer_id,
            achievement_id=filters.achievement_id or None,
            recipient=filters.recipient or None,
        )
    names = achievement_names(session, issuer_id)
    return [credential_row(c, r, names) for c, r in rows], with_total(page, total)


def credential_of(session: Session, account: Account, issuer_id: str, credential_id: str) -> dict[str, Any]:
    """One of the issuer's credentials as a row (:class:`NotFound` for another issuer's)."""
    credential = credentials.get_credential(session, credential_id, viewer=account)
    if credential.issuer_id != issuer_id:
        raise NotFound(credentials.NO_SUCH_CREDENTIAL)
    names = achievement_names(session, issuer_id)
    return credential_row(credential, credentials.recipient_of(session, credential), names)


# --- keys and the audit log ----------------------------------------------------------------------


def issuer_keys(session: Session, issuer: Issuer) -> list[SigningKeyOut]:
    """The issuer's keys, oldest first, as ``GET /v1/issuers/{id}/keys`` shows them."""
    return issuer_views.signing_key_views(issuer, issuers.issuer_keys(session, issuer.id))


def audit_events(
    session: Session, issuer_id: str, *, action: str, object_id: str, page: Paging
) -> tuple[list[AuditEventOut], Paging]:
    """One page of the issuer's audit events, newest first, filtered as ``GET /v1/audit`` allows."""
    events, total = audit.list_events(
        session,
        page.params,
        sees_every_issuer=False,
        viewer_issuer_id=issuer_id,
        action=action or None,
        object_id=object_id or None,
    )
    return [audit_views.audit_event_view(e) for e in events], with_total(page, total)
