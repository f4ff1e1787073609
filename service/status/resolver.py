"""A :class:`~service.vc.status_list.StatusListResolver` over this deployment's own status lists.

``{public_url}/status/{id}`` is read from the database, never over HTTP: the published list
credential (:func:`service.status.publish.current_list_credential`), whose proof the pipeline
checks as any verifier would, and, through :meth:`LocalStatusListResolver.current_status`, the
entry's value as it is NOW. So a credential revoked a second ago already fails in this service's
verifier, while the published copy keeps to its re-signing interval and no verification ever
signs a list. Any other URL goes to the ``fallback`` resolver (HTTPS for
other issuers' lists) or, without one, is reported unavailable: a warning, never a silent pass.

It also knows WHEN a status of its own lists was set (:meth:`LocalStatusListResolver.status_changed_at`,
from the audit log, whose revoke and suspend events carry the change's time), so the verification
report dates a revocation or suspension; for other lists it cannot.

It also records what it read (:attr:`LocalStatusListResolver.served`, ``readings``,
``change_dates``, ``used_fallback``), so :mod:`service.verification.service` can keep a report
for as long as exactly those inputs are unchanged (issue 15): a list's signature is then checked
once per signed version, while an entry's value is still read on every verification.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.core.config import Settings
from service.core.errors import ServiceError
from service.core.keystore import Keystore, KeystoreError
from service.core.models import utcnow
from service.status.models import StatusEntry, StatusList
from service.status.publish import current_list_credential, is_overdue
from service.vc.errors import VCError
from service.vc.status_list import StatusListResolver, StatusListUnavailable

_LIST_ID = re.compile(r"[A-Za-z0-9-]{1,36}")
STATUS_ACTIONS = {"revocation": "credential.revoke", "suspension": "credential.suspend"}
"""The audit actions that record when an entry of each purpose was set (their events carry the time)."""


class LocalStatusListResolver:
    """Resolves this service's status list URLs from ``session``; others through ``fallback``.

    ``keystore`` is called (once) only when a list has to be signed on the spot (it never was, or
    the re-signer let it run out). Answers are cached for the resolver's lifetime: make one per
    verification.
    """

    def __init__(
        self,
        session: Session,
        settings: Settings,
        keystore: Callable[[], Keystore],
        *,
        fallback: StatusListResolver | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._prefix = f"{settings.public_url}/status/"
        self._keystore_factory = keystore
        self._keystore: Keystore | None = None
        self._fallback = fallback
        self._answers: dict[str, dict[str, Any]] = {}
        self.served: dict[str, str | None] = {}
        """Each list id resolved: the ETag of the stored copy served, None when it was signed on
        the spot (never signed, or overdue)."""
        self.readings: dict[tuple[str, int], int | None] = {}
        """What :meth:`current_status` answered, by (list URL, index)."""
        self.change_dates: dict[tuple[str, int, str], datetime | None] = {}
        """What :meth:`status_changed_at` answered, by (list URL, index, purpose)."""
        self.used_fallback = False
        """True once a URL that is not this service's went to the fallback (or was unavailable)."""

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        """The list credentials of this service resolved so far, by URL."""
        return dict(self._answers)

    @property
    def fallback(self) -> StatusListResolver | None:
        """Where other services' status list URLs go (None: they are reported unavailable)."""
        return self._fallback

    @property
    def prefix(self) -> str:
        """The address every one of this service's lists starts with."""
        return self._prefix

    def list_id(self, url: str) -> str | None:
        """The list id if ``url`` names one of this service's lists, else None."""
        rest = url.removeprefix(self._prefix) if isinstance(url, str) else ""
        return rest if rest != url and _LIST_ID.fullmatch(rest) else None

    def _keys(self) -> Keystore:
        if self._keystore is None:
            self._keystore = self._keystore_factory()
        return self._keystore

    def status_changed_at(self, list_url: str, index: int, purpose: str) -> datetime | None:
        """When the credential at ``index`` of this service's list ``list_url`` was last revoked
        or suspended (``purpose``), from the service's own records; None for other lists.

        The time of the latest audit event of that change (``credential.revoke`` or
        ``credential.suspend``; :mod:`service.credentials.lifecycle` dates it with the
        credential's ``status_changed_at``). A suspended credential later revoked still has its
        suspension bit, dated by its last suspension."""
        moment = self._status_changed_at(list_url, index, purpose)
        self.change_dates[(list_url, index, purpose)] = moment
        return moment

    def _status_changed_at(self, list_url: str, index: int, purpose: str) -> datetime | None:
        list_id = self.list_id(list_url)
        action = STATUS_ACTIONS.get(purpose)
        if list_id is None or action is None:
            return None
        entry = self._session.get(StatusEntry, (list_id, index))
        if entry is None:
            return None
        return self._session.exec(
            select(AuditEvent.at)
            .where(AuditEvent.action == action, AuditEvent.object_id == entry.credential_id)
            .order_by(col(AuditEvent.at).desc())
        ).first()

    def current_status(self, list_url: str, index: int) -> int | None:
        """The value of entry ``index`` of this service's list ``list_url`` now (1: set), from the
        database; None for other services' lists and unknown entries."""
        list_id = self.list_id(list_url)
        if list_id is None:
            return None
        entry = self._session.get(StatusEntry, (list_id, index))
        value = None if entry is None else entry.value
        self.readings[(list_url, index)] = value
        return value

    def published_etag(self, list_id: str) -> str | None:
        """The ETag of the list's stored copy if :meth:`resolve` would serve it as it is now; None
        when it would sign one on the spot (or there is no such list). Reads the database."""
        status_list = self._session.get(StatusList, list_id, populate_existing=True)
        if status_list is None or status_list.credential_text is None:
            return None
        if is_overdue(status_list, self._settings, utcnow()):
            return None
        return status_list.etag

    def resolve(self, url: str) -> dict[str, Any]:
        """The list credential at ``url``, or :class:`StatusListUnavailable`."""
        list_id = self.list_id(url)
        if list_id is None:
            self.used_fallback = True
            if self._fallback is None:
                raise StatusListUnavailable(
                    f"{url} is not a status list of this service, and other services' lists are not fetched"
                )
            return self._fallback.resolve(url)
        if url not in self._answers:
            status_list = self._session.get(StatusList, list_id)
            if status_list is None:
                self.used_fallback = True
                raise StatusListUnavailable(f"this service has no status list at {url}")
            now = utcnow()
            try:
                self._answers[url] = current_list_credential(
                    self._session, self._settings, status_list, self._keys, now=now
                )
            except (ServiceError, KeystoreError, VCError) as err:  # e.g. the issuer has no active key
                self.used_fallback = True
                raise StatusListUnavailable(f"the status list at {url} cannot be signed: {err}") from err
            stored = status_list.credential_text is not None and not is_overdue(status_list, self._settings, now)
            self.served[list_id] = status_list.etag if stored else None
        return self._answers[url]
