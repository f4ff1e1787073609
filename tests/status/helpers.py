"""Helpers for the status tests: a credential's entries, the served lists, database reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.core.config import Settings
from service.status import publish
from service.status.allocation import Allocation, claim, plan, replan
from service.status.models import StatusEntry, StatusList
from service.vc.status_list import BitstringStatusList


@dataclass(frozen=True)
class Entry:
    """One ``credentialStatus`` entry as issued."""

    purpose: str
    url: str
    index: int

    @property
    def list_id(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


def entries(credential: dict[str, Any]) -> dict[str, Entry]:
    """The credential's status entries by purpose (``revocation``, ``suspension``)."""
    found = {}
    for item in credential["credentialStatus"]:
        assert item["id"] == f"{item['statusListCredential']}#{item['statusListIndex']}"
        found[item["statusPurpose"]] = Entry(
            item["statusPurpose"], item["statusListCredential"], int(item["statusListIndex"])
        )
    return found


def change(api, credential_id: str, action: str, reason: str = "A reason", headers: dict | None = None):
    """POST /v1/credentials/{id}/{action} (revoke, suspend, unsuspend)."""
    return api.client.post(
        f"/v1/credentials/{credential_id}/{action}", json={"reason": reason}, headers=headers or api.admin
    )


def served_list(client: TestClient, entry: Entry, **headers: str) -> Any:
    """GET the entry's list credential from its public URL."""
    return client.get(entry.path, headers=headers)


def bit(list_credential: dict[str, Any], index: int) -> int:
    """The status at ``index`` in a served list credential."""
    return BitstringStatusList.decode(list_credential["credentialSubject"]["encodedList"]).get(index)


def stored_list(app: Any, list_id: str) -> StatusList:
    with Session(app.state.engine) as session:
        status_list = session.get(StatusList, list_id)
        assert status_list is not None
        session.expunge(status_list)
        return status_list


def all_lists(app: Any) -> list[StatusList]:
    with Session(app.state.engine) as session:
        lists = list(session.exec(select(StatusList).order_by(col(StatusList.purpose), col(StatusList.sequence))))
        for status_list in lists:
            session.expunge(status_list)
        return lists


def all_entries(app: Any) -> list[StatusEntry]:
    with Session(app.state.engine) as session:
        rows = list(session.exec(select(StatusEntry)))
        for row in rows:
            session.expunge(row)
        return rows


def allocate_now(session: Session, settings: Settings, issuer_id: str, credential_id: str) -> Allocation:
    """Pick and claim a credential's two indexes at once, as issuing does around its signing."""
    allocation = plan(session, settings, issuer_id)
    unclaimed = claim(session, allocation, credential_id)
    while unclaimed:
        allocation = replan(session, settings, issuer_id, allocation, unclaimed)
        unclaimed = claim(session, allocation, credential_id, unclaimed)
    return allocation


def entries_per_list(app: Any) -> dict[str, int]:
    """How many indexes each list has handed out (its entries), by list id."""
    counts: dict[str, int] = {}
    for entry in all_entries(app):
        counts[entry.list_id] = counts.get(entry.list_id, 0) + 1
    return counts


def resigner_round(app: Any, now: Any = None) -> tuple[int, int]:
    """One round of the background re-signer, as its job runs it: (re-signed, failed)."""
    return publish.resign_due_lists(app.state.engine, app.state.keystore, app.state.settings, now=now)
