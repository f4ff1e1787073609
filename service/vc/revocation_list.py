"""Open Badges 3.0's own status method: the 1EdTech Revocation List Status Method 1.0.

A credential names its issuer's revocation list in ``credentialStatus``::

    {"id": "https://issuer.example/revocations/1", "type": "1EdTechRevocationList"}

The list is a plain JSON document (not a verifiable credential, no proof) that the verifier gets
with an HTTPS ``GET`` of that ``id``::

    {"id": "https://issuer.example/revocations/1",
     "issuer": "did:web:issuer.example",
     "revokedCredentials": [{"id": "urn:uuid:...", "revoked": true, "revocationReason": "..."}]}

The credential is revoked when its ``id`` is listed and ``revoked`` is true or omitted
(OB 3.0 section "Verification", step "Check the status"; the 1EdTech validator's
``RevocationListProbe`` reads the list the same way). A list may be partial and may list ids that
are not real, so absence means only "not revoked by this list". Its authenticity rests on HTTPS
from the URL the issuer signed into the credential; there is no signature to check. What this
module checks besides membership: the document's ``id`` (when present) is the URL it was fetched
for, and its ``issuer`` (when present) is the credential's issuer.

Pure: the caller fetches the list (through the same ``StatusListResolver`` as Bitstring lists).
Errors are :class:`~service.vc.errors.StatusListError` with the Bitstring Status List error names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.vc.errors import StatusListError

REVOCATION_LIST_TYPE = "1EdTechRevocationList"

MALFORMED_VALUE_ERROR = "MALFORMED_VALUE_ERROR"
STATUS_VERIFICATION_ERROR = "STATUS_VERIFICATION_ERROR"

_BOOLEAN_STRINGS = {"true": True, "false": False}  # seen in the wild ("revoked": "true")


@dataclass(frozen=True)
class RevocationReading:
    """What a 1EdTech revocation list says about one credential.

    ``revoked`` is true when the credential's id is listed with ``revoked`` true or omitted;
    ``reason`` is the entry's ``revocationReason`` when it gives one.
    """

    list_url: str
    revoked: bool
    reason: str | None


def _malformed(message: str) -> StatusListError:
    return StatusListError(message, code=MALFORMED_VALUE_ERROR)


def is_revocation_list_entry(entry: object) -> bool:
    """True when a ``credentialStatus`` entry is of type ``1EdTechRevocationList``."""
    if not isinstance(entry, Mapping):
        return False
    types = entry.get("type")
    return REVOCATION_LIST_TYPE in (types if isinstance(types, list) else [types])


def revocation_list_url(entry: Mapping[str, Any]) -> str:
    """The list URL of a ``1EdTechRevocationList`` entry (its ``id``), which must be http(s)."""
    url = entry.get("id")
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        raise _malformed(f"a 1EdTechRevocationList id must be the list's URL, got {url!r}")
    return url


def _issuer_id(value: object) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _is_revoked(item: Mapping[str, Any]) -> bool:
    flag = item.get("revoked", True)
    if isinstance(flag, str) and flag.strip().lower() in _BOOLEAN_STRINGS:
        return _BOOLEAN_STRINGS[flag.strip().lower()]
    if not isinstance(flag, bool):
        raise _malformed(f"revokedCredentials 'revoked' must be a boolean, got {flag!r}")
    return flag


def read_1edtech_revocation(
    entry: Mapping[str, Any],
    list_document: object,
    credential_id: str,
    *,
    credential_issuer: str | None = None,
) -> RevocationReading:
    """Read whether ``credential_id`` is revoked by the 1EdTech revocation list ``list_document``.

    ``entry`` is the credential's ``1EdTechRevocationList`` status entry; ``credential_issuer``,
    when given, must match the list's ``issuer`` if the list names one. Raises
    ``MALFORMED_VALUE_ERROR`` for a document that is not a revocation list (no
    ``revokedCredentials`` array, entries without a string ``id``, a non-boolean ``revoked``) and
    ``STATUS_VERIFICATION_ERROR`` when the list's ``id`` or ``issuer`` belong elsewhere.
    """
    if not is_revocation_list_entry(entry):
        raise _malformed(f"credentialStatus type must be {REVOCATION_LIST_TYPE}")
    list_url = revocation_list_url(entry)
    if not isinstance(credential_id, str) or not credential_id:
        raise _malformed("the credential has no id, so no revocation list can name it")
    if not isinstance(list_document, Mapping):
        raise _malformed("the revocation list must be a JSON object")
    if "id" in list_document and list_document["id"] != list_url:
        raise StatusListError(
            f"the revocation list's id {list_document['id']!r} is not its URL {list_url!r}",
            code=STATUS_VERIFICATION_ERROR,
        )
    list_issuer = _issuer_id(list_document.get("issuer"))
    if "issuer" in list_document and list_issuer is None:
        raise _malformed("the revocation list's issuer must be a URI or an object with an id")
    if credential_issuer is not None and list_issuer is not None and list_issuer != credential_issuer:
        raise StatusListError(
            f"the revocation list is published by {list_issuer}, not by the credential's issuer {credential_issuer}",
            code=STATUS_VERIFICATION_ERROR,
        )
    items = list_document.get("revokedCredentials")
    if not isinstance(items, list):
        raise _malformed("the revocation list has no revokedCredentials array")
    revoked, reason = False, None
    for item in items:
        if isinstance(item, str):  # a bare id, as OB 2.0 revocation lists allowed
            item = {"id": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise _malformed("each revokedCredentials entry must be an object with a string id")
        listed_reason = item.get("revocationReason")
        if listed_reason is not None and not isinstance(listed_reason, str):
            raise _malformed("revocationReason must be a string")
        if _is_revoked(item) and item["id"] == credential_id:  # every flag is validated
            revoked = True
            reason = reason or listed_reason
    return RevocationReading(list_url=list_url, revoked=revoked, reason=reason)
